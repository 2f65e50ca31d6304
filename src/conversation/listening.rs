//! Which plain messages (not commands) the bot answers, and how: a mention
//! always; in one of the server's answer channels, every message or only
//! those that read as a question (`discord.trigger`); anywhere, a member's
//! follow-up to the bot's recent answer. Every answer but a mention's waits
//! out a cooldown per member, so a busy channel is not flooded. The Discord
//! front end hands in what it read from the event; nothing here knows
//! serenity, so the rules are tested as plain functions.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::{DiscordConfig, Trigger};
use crate::conversation::answering::Via;
use crate::engine::answer::follow_up;
use crate::engine::search::strip_discord_markup;
use crate::engine::words::is_question_opener;

/// A plain message, as the front end read it.
pub(crate) struct Heard<'a> {
    pub(crate) text: &'a str,
    pub(crate) channel_id: u64,
    /// The message mentions the bot.
    pub(crate) mentioned: bool,
    /// The member's last answered question in this channel (`Recent::previous`).
    pub(crate) previous: Option<&'a str>,
}

/// How the message is answered under a server's `rules`, or `None` when it is not.
pub(crate) fn via(rules: &DiscordConfig, heard: &Heard) -> Option<Via> {
    if heard.mentioned {
        return Some(Via::Mention);
    }
    let channel = Via::Channel { suggest_when_unsure: rules.suggest_when_unsure };
    let in_channel = rules.trigger != Trigger::Mention && rules.channels.contains(&heard.channel_id);
    if in_channel && (rules.trigger == Trigger::All || reads_as_question(heard.text)) {
        return Some(channel);
    }
    // Chatter in the channels, and anything outside them: only the member's
    // follow-up to the bot's recent answer (its text arrives with the
    // content intent).
    follow_up(heard.previous, heard.text).is_some().then_some(channel)
}

/// A message reads as a question when it asks one: a question mark, or a
/// question word first.
fn reads_as_question(text: &str) -> bool {
    let text = strip_discord_markup(text);
    let first =
        text.split_whitespace().next().unwrap_or("").trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    text.trim_end().ends_with('?') || is_question_opener(&first)
}

/// Members whose last channel answer is remembered; the least recent are
/// forgotten first, which at worst lets one of them ask again early.
const MEMBERS: NonZeroUsize = match NonZeroUsize::new(4096) {
    Some(n) => n,
    None => unreachable!(),
};

/// When each recent member last had a channel message answered. In memory
/// and bounded: a restart forgets it.
pub(crate) struct Cooldowns {
    last: Mutex<lru::LruCache<u64, Instant>>,
}

impl Cooldowns {
    pub(crate) fn new() -> Cooldowns {
        Cooldowns { last: Mutex::new(lru::LruCache::new(MEMBERS)) }
    }

    /// True (and the member's clock restarted) when `cooldown` has passed
    /// since `member`'s last channel answer.
    pub(crate) fn may_answer(&self, member: u64, cooldown: Duration) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        if last.get(&member).is_some_and(|at| now.duration_since(*at) < cooldown) {
            return false;
        }
        last.put(member, now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard<'a>(text: &'a str, channel_id: u64, previous: Option<&'a str>) -> Heard<'a> {
        Heard { text, channel_id, mentioned: false, previous }
    }

    #[test]
    fn questions_are_told_from_chatter() {
        for text in ["how long does it take", "Is it worth it?", "<@1> what is phase 2", "ok so... any tips?"] {
            assert!(reads_as_question(text), "{text}");
        }
        for text in ["good morning everyone", "lol", "", "I built a thing today."] {
            assert!(!reads_as_question(text), "{text}");
        }
    }

    #[test]
    fn each_trigger_answers_what_it_says() {
        let channel = Some(Via::Channel { suggest_when_unsure: false });
        let rules = |trigger| DiscordConfig { channels: vec![7], trigger, ..DiscordConfig::default() };
        let question = heard("how long does it take?", 7, None);
        let chatter = heard("good morning everyone", 7, None);
        assert_eq!(via(&rules(Trigger::Question), &question), channel);
        assert_eq!(via(&rules(Trigger::Question), &chatter), None);
        assert_eq!(via(&rules(Trigger::All), &chatter), channel);
        assert_eq!(via(&rules(Trigger::Mention), &question), None);
        assert_eq!(via(&rules(Trigger::Question), &heard("how long does it take?", 8, None)), None, "another channel");
        let mention = Heard { mentioned: true, ..heard("good morning everyone", 8, None) };
        assert_eq!(via(&rules(Trigger::Mention), &mention), Some(Via::Mention));
    }

    #[test]
    fn a_follow_up_is_answered_anywhere_only_after_an_answer() {
        let rules = DiscordConfig { suggest_when_unsure: true, ..DiscordConfig::default() };
        let asked = Some("what happens in phase 2?");
        assert_eq!(via(&rules, &heard("and phase 3?", 8, asked)), Some(Via::Channel { suggest_when_unsure: true }));
        assert_eq!(via(&rules, &heard("and phase 3?", 8, None)), None);
        assert_eq!(via(&rules, &heard("thanks, nice weather today", 8, asked)), None);
    }

    #[test]
    fn a_member_waits_out_the_cooldown_and_the_memory_is_bounded() {
        let cooldowns = Cooldowns::new();
        let minute = Duration::from_secs(60);
        assert!(cooldowns.may_answer(1, minute));
        assert!(!cooldowns.may_answer(1, minute), "within the cooldown");
        assert!(cooldowns.may_answer(2, minute), "another member");
        assert!(cooldowns.may_answer(1, Duration::ZERO), "no cooldown");
        for member in 100..100 + MEMBERS.get() as u64 {
            cooldowns.may_answer(member, minute);
        }
        let last = cooldowns.last.lock().unwrap();
        assert_eq!(last.len(), MEMBERS.get());
        assert!(!last.contains(&1), "the least recent member is forgotten");
    }
}
