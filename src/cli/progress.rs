//! How far a long build has come. The first start of a knowledge base the
//! model has not seen embeds thousands of training texts (tens of seconds on
//! two cores): a person at a terminal sees a bar on stderr; anywhere else the
//! log gets one line with the count, so a service's journal says why its
//! start took that long.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::matcher::cache;

/// The log target of the one line; `chat`, which logs only warnings, lets it through.
pub(crate) const TARGET: &str = "transition_bot::progress";

/// Reports every build's embedding from now on, for the whole process.
pub(crate) fn install() {
    let terminal = std::io::stderr().is_terminal();
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    cache::observe_progress(Box::new(move |done, total| {
        let mut bar = bar.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if done == 0 {
            if terminal {
                *bar = Some(new_bar(total));
            } else {
                tracing::info!(target: TARGET, texts = total, "embedding the knowledge's training texts once (cached afterwards)");
            }
        }
        if let Some(shown) = bar.as_ref() {
            shown.set_position(done as u64);
            if done == total {
                shown.finish_and_clear();
                *bar = None;
            }
        }
    }));
}

fn new_bar(total: usize) -> ProgressBar {
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} texts, {eta} left")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
        .with_style(style)
        .with_message("embedding the knowledge once")
}
