//! Watching the knowledge folder: events (or polling) on the folder itself,
//! and its identity re-checked twice a second, so a folder that vanishes
//! keeps the old snapshot and one that reappears (recreated, renamed into
//! place, a symlink switched) is watched and rebuilt. Only events that can
//! change what is loaded count: reading the folder (opening files, listing
//! it, copying it elsewhere) or changing permissions rebuilds nothing.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, EventKind, MetadataKind, ModifyKind};
use notify::{PollWatcher, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer_opt, DebounceEventResult, Debouncer, NoCache};

use crate::config::ReindexConfig;

/// What the watch works for: the reindex settings, a flag it keeps up to date
/// ("watching"), and how to ask for a rebuild. Implemented by the reindexer,
/// so this module needs none of its internals.
pub(crate) trait Watcher: Send + Sync + 'static {
    fn config(&self) -> &ReindexConfig;
    fn set_watching(&self, watching: bool);
    fn request(&self);
}

/// How often the watcher checks that the folder it watches is still the one at the configured path.
const RECHECK_INTERVAL: Duration = Duration::from_millis(500);

/// The watcher in use; kept only to be dropped.
enum ActiveWatch {
    Native(#[allow(dead_code)] Debouncer<RecommendedWatcher, NoCache>),
    Poll(#[allow(dead_code)] Debouncer<PollWatcher, NoCache>),
}

/// Watches `dir` until `stop` says so or is dropped, re-establishing the watch
/// whenever the folder at `dir` is replaced, and requesting a rebuild then.
pub(crate) fn watch_loop<W: Watcher>(shared: &Arc<W>, dir: &Path, stop: &mpsc::Receiver<()>) {
    let root_event = Arc::new(AtomicBool::new(false));
    let mut active: Option<(FolderIdentity, ActiveWatch)> = None;
    // Problems are logged when they start, not every recheck.
    let mut missing_logged = false;
    let mut failure_logged = false;
    // Set once a watch is lost: whatever the folder holds when it is watched again has not been indexed.
    let mut rebuild_on_watch = false;
    loop {
        let identity = folder_identity(dir);
        let replaced = root_event.swap(false, Ordering::SeqCst);
        let stale = match (&active, &identity) {
            (Some((watched, _)), Some(now)) => watched != now || replaced,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if stale {
            rebuild_on_watch = true;
            active = None;
            shared.set_watching(false);
        }
        match (&active, identity) {
            (None, Some(identity)) => match start_watch(shared, dir, &root_event) {
                Ok(watch) => {
                    tracing::info!(dir = %dir.display(), poll = shared.config().poll, "watching the knowledge folder");
                    active = Some((identity, watch));
                    shared.set_watching(true);
                    missing_logged = false;
                    failure_logged = false;
                    if std::mem::take(&mut rebuild_on_watch) {
                        shared.request();
                    }
                }
                Err(err) if !failure_logged => {
                    tracing::error!(dir = %dir.display(), "cannot watch the knowledge folder: {err}; retrying");
                    failure_logged = true;
                }
                Err(_) => {}
            },
            (None, None) if !missing_logged => {
                tracing::error!(dir = %dir.display(), "the knowledge folder is missing; still serving the previous version and waiting for it to return");
                missing_logged = true;
                // The rebuild fails and reports the missing folder to `/reindex` and the logs.
                shared.request();
            }
            _ => {}
        }
        match stop.recv_timeout(RECHECK_INTERVAL) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    shared.set_watching(false);
}

fn start_watch<W: Watcher>(shared: &Arc<W>, dir: &Path, root_event: &Arc<AtomicBool>) -> notify::Result<ActiveWatch> {
    let config = shared.config();
    // notify's poller keeps modification times in whole seconds, so a second save within the
    // same second would go unseen (formatters rewrite right after a save); comparing contents
    // catches it. Knowledge folders are small Markdown, so hashing them each poll is cheap.
    let notify_config = notify::Config::default()
        .with_poll_interval(Duration::from_millis(config.poll_interval_ms.max(10)))
        .with_compare_contents(true);
    let debounce = Duration::from_millis(config.debounce_ms.max(1));
    let handler = {
        let shared = Arc::clone(shared);
        let root = dir.to_path_buf();
        let root_event = Arc::clone(root_event);
        move |result: DebounceEventResult| match result {
            Ok(events) => {
                let mut rebuild = false;
                for event in events.iter().filter(|event| changes_content(&event.kind)) {
                    for path in &event.paths {
                        let moved = matches!(event.kind, EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_)));
                        if path == &root && moved {
                            // The folder itself was removed or moved: the watch loop re-checks it now.
                            root_event.store(true, Ordering::SeqCst);
                        }
                        rebuild |= is_content_path(&root, path);
                    }
                }
                if rebuild {
                    shared.request();
                }
            }
            Err(errors) => {
                for err in errors {
                    tracing::warn!("file watcher error: {err}");
                }
            }
        }
    };
    let watch = if config.poll {
        let mut debouncer = new_debouncer_opt::<_, PollWatcher, _>(debounce, None, handler, NoCache, notify_config)?;
        debouncer.watch(dir, RecursiveMode::Recursive)?;
        ActiveWatch::Poll(debouncer)
    } else {
        let mut debouncer =
            new_debouncer_opt::<_, RecommendedWatcher, _>(debounce, None, handler, NoCache, notify_config)?;
        debouncer.watch(dir, RecursiveMode::Recursive)?;
        ActiveWatch::Native(debouncer)
    };
    Ok(watch)
}

/// Whether an event of `kind` can change what is loaded. Reading (opening,
/// listing, closing after reading) and metadata other than the modification
/// time cannot. A file closed after writing can, and so can a new modification
/// time: the poller reports a save as just that.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::WriteTime)) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

/// Hidden files (editor swap files, `.git`) are not loaded, so changes to them need no rebuild.
fn is_content_path(root: &Path, path: &Path) -> bool {
    match path.strip_prefix(root) {
        Ok(relative) => !relative.components().any(|part| part.as_os_str().to_string_lossy().starts_with('.')),
        Err(_) => true,
    }
}

/// Which folder is at a path, so a replaced folder is noticed even where no event says so.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FolderIdentity {
    #[cfg(unix)]
    device_and_inode: (u64, u64),
}

fn folder_identity(dir: &Path) -> Option<FolderIdentity> {
    let metadata = std::fs::metadata(dir).ok().filter(std::fs::Metadata::is_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(FolderIdentity { device_and_inode: (metadata.dev(), metadata.ino()) })
    }
    #[cfg(not(unix))]
    {
        let _ = metadata;
        Some(FolderIdentity {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_and_permissions_change_no_content() {
        use notify::event::{CreateKind, DataChange};
        assert!(!changes_content(&EventKind::Access(AccessKind::Open(AccessMode::Any))));
        assert!(!changes_content(&EventKind::Access(AccessKind::Close(AccessMode::Read))));
        assert!(!changes_content(&EventKind::Modify(ModifyKind::Metadata(MetadataKind::Permissions))));
        assert!(changes_content(&EventKind::Access(AccessKind::Close(AccessMode::Write))));
        assert!(changes_content(&EventKind::Modify(ModifyKind::Metadata(MetadataKind::WriteTime))));
        assert!(changes_content(&EventKind::Modify(ModifyKind::Data(DataChange::Any))));
        assert!(changes_content(&EventKind::Create(CreateKind::File)));
    }

    #[test]
    fn hidden_paths_are_not_content() {
        let root = Path::new("/k");
        assert!(is_content_path(root, Path::new("/k/article.md")));
        assert!(is_content_path(root, Path::new("/k")));
        assert!(!is_content_path(root, Path::new("/k/.article.md.swp")));
        assert!(!is_content_path(root, Path::new("/k/.git/index")));
    }
}
