//! What each member last asked, per channel, so a follow-up ("and phase
//! 3?", "how long does that take?") can be read with it. Bounded three
//! ways: a time window, a cap on remembered conversations, and a cap on the
//! remembered text. It lives in memory only: a restart forgets it, which
//! costs a member at most retyping one question.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Conversations remembered at once; the least recent are forgotten first.
const CONVERSATIONS: NonZeroUsize = match NonZeroUsize::new(4096) {
    Some(n) => n,
    None => unreachable!(),
};

/// Most characters of a question kept as context.
const CONTEXT_CHARS: usize = 300;

/// Where and by whom a question was asked: a channel (or thread) and a member.
pub(crate) type Asker = (u64, u64);

/// The last answered question of each recent (channel, member).
pub(crate) struct Recent {
    window: Duration,
    last: Mutex<lru::LruCache<Asker, (String, Instant)>>,
}

impl Recent {
    /// Remembers questions for `window`; a zero window remembers nothing.
    pub(crate) fn new(window: Duration) -> Recent {
        Recent { window, last: Mutex::new(lru::LruCache::new(CONVERSATIONS)) }
    }

    /// The member's last answered question in this channel, if within the window.
    pub(crate) fn previous(&self, asker: Asker) -> Option<String> {
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match last.get(&asker) {
            Some((question, at)) if at.elapsed() <= self.window => Some(question.clone()),
            Some(_) => {
                last.pop(&asker);
                None
            }
            None => None,
        }
    }

    /// Remembers `question` (its last `CONTEXT_CHARS` characters) as answered.
    pub(crate) fn remember(&self, asker: Asker, question: &str) {
        if self.window.is_zero() {
            return;
        }
        let skip = question.chars().count().saturating_sub(CONTEXT_CHARS);
        let kept: String = question.chars().skip(skip).collect();
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        last.put(asker, (kept, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_per_member_and_channel_and_expires() {
        let recent = Recent::new(Duration::from_millis(50));
        recent.remember((1, 10), "what happens in phase 2?");
        assert_eq!(recent.previous((1, 10)).as_deref(), Some("what happens in phase 2?"));
        assert_eq!(recent.previous((1, 11)), None, "another member");
        assert_eq!(recent.previous((2, 10)), None, "another channel");
        recent.remember((1, 10), &"x".repeat(1000));
        assert_eq!(recent.previous((1, 10)).map(|q| q.chars().count()), Some(CONTEXT_CHARS));
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(recent.previous((1, 10)), None, "expired");
        let off = Recent::new(Duration::ZERO);
        off.remember((1, 10), "anything");
        assert_eq!(off.previous((1, 10)), None);
    }
}
