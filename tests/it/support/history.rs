//! A synthetic question log for the dashboard's tests and benchmark
//! (`benches/dashboard.rs` includes this file): questions spread over a
//! period on two servers, answered more often as weeks pass, some offered
//! choices, some declined, with 👍/👎 votes and answering times. Seeded, so
//! a test knows exactly what it wrote; the counts a test checks are
//! computed from the generated rows, never typed in.

use std::time::{Duration, SystemTime};

use transition_bot::ops::events::{QuestionEvent, Surface, VoteEvent};

/// The two servers questions come from.
pub const SERVERS: [u64; 2] = [111_111_111_111_111_111, 222_222_222_222_222_222];

/// Passages of the shipped article answered with (so titles resolve).
const UNITS: [&str; 8] = [
    "faq/how-long-does-it-take-to-become-an-ai-engineer",
    "roadmap/phase-1",
    "roadmap/phase-2",
    "comparison",
    "article/time-and-cost-reality-check",
    "faq/do-i-need-a-degree-a-phd-or-advanced-math-to-bec",
    "article/common-mistakes-during-the-transition",
    "roadmap",
];

/// What members ask that the article does not answer, in several wordings.
const GAPS: [&str; 8] = [
    "which laptop should I buy for running models locally",
    "what laptop do I need to run LLMs locally?",
    "how much do AI engineers earn in Germany",
    "what's the salary of an AI engineer in Berlin?",
    "is there a discord for kaggle competitions",
    "can you recommend a good vector database",
    "which vector db should i pick?",
    "how do I get a visa to work in Canada",
];

const ANSWERED: [&str; 6] = [
    "how long does it take to become an AI engineer?",
    "what do I learn in phase 1?",
    "software engineer vs AI engineer?",
    "do I need a PhD?",
    "what mistakes should I avoid?",
    "show me the roadmap",
];

#[derive(Clone, Debug, Default)]
pub struct History {
    pub questions: Vec<(SystemTime, QuestionEvent)>,
    pub votes: Vec<(SystemTime, VoteEvent)>,
}

/// A small deterministic generator (xorshift64*), so no crate is needed.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `count` questions over the `days` days before `now` (none in its last
/// minute, none at the period's very start), and a vote on about one
/// answer in five.
pub fn history(count: usize, days: u32, now: SystemTime, seed: u64) -> History {
    let mut dice = Dice(seed | 1);
    let span = Duration::from_secs(u64::from(days) * 86_400 - 3_600).as_millis() as u64;
    let mut history = History::default();
    for n in 0..count {
        let back = Duration::from_millis(60_000 + dice.below(span));
        let time = now - back;
        // Older questions were answered less often: the bot got better.
        let age = back.as_secs_f64() / (f64::from(days) * 86_400.0);
        let roll = dice.unit();
        let answered = roll < 0.82 - 0.25 * age;
        let offered = !answered && roll < 0.90 - 0.2 * age;
        let guild = SERVERS[(dice.below(10) < 7) as usize];
        let question = if answered {
            ANSWERED[dice.below(ANSWERED.len() as u64) as usize].to_string()
        } else {
            GAPS[dice.below(GAPS.len() as u64) as usize].to_string()
        };
        let unit = UNITS[dice.below(UNITS.len() as u64) as usize];
        // Log-uniform between 0.2 ms and 60 ms.
        let latency = Duration::from_micros((200.0 * 300f64.powf(dice.unit())) as u64);
        history.questions.push((
            time,
            QuestionEvent {
                surface: if n % 3 == 0 { Surface::Slash } else { Surface::Mention },
                question,
                guild_id: Some(guild),
                channel_id: Some(guild + 1),
                answered,
                offered,
                top_unit: Some(unit.to_string()),
                score: if answered { 0.8 } else { 0.3 },
                latency,
            },
        ));
        if answered && dice.below(5) == 0 {
            let vote = VoteEvent {
                unit: unit.to_string(),
                // The comparison is the passage members dislike.
                helpful: if unit == "comparison" { dice.below(4) == 0 } else { dice.below(5) != 0 },
                guild_id: Some(guild),
                channel_id: Some(guild + 1),
                user_id: 1_000 + n as u64,
            };
            history.votes.push((time + Duration::from_secs(30).min(back / 2), vote));
        }
    }
    history
}
