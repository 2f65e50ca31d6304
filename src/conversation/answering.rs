//! The one answering path: every surface (`ask`, `chat`, `/ask`, mentions,
//! channel questions, the message menu) turns a question into its reply and
//! its question event here, so they answer alike and record alike.
//!
//! The event's `score` is the answer decision's confidence (0 to 1): the
//! probability the fitted decision gives the top passage, the number it
//! compares with its threshold, so the question log shows how close
//! unanswered questions came.

use std::time::Instant;

use crate::conversation::commands::render_answer;
use crate::conversation::reply::Reply;
use crate::engine::answer::{self, Answer};
use crate::engine::snapshot::Snapshot;
use crate::ops::events::{ExampleEvent, ExampleSource, QuestionEvent, Surface};

/// A question answered, before delivery.
#[derive(Clone, Debug)]
pub(crate) struct Answered {
    pub(crate) answer: Answer,
    /// Not yet fitted to a platform: front ends clamp at delivery.
    pub(crate) reply: Reply,
    /// The top unit's id (answer or closest suggestion).
    top_unit: Option<String>,
    started: Instant,
}

/// Where a question was asked, as far as the surface knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) guild_id: Option<u64>,
    pub(crate) channel_id: Option<u64>,
}

/// Answers `question` from one snapshot.
pub(crate) fn answer(snapshot: &Snapshot, question: &str) -> Answered {
    answer_after(snapshot, None, question)
}

/// Answers `question`, asked after `previous` (the member's last answered
/// question here, if recent): a follow-up is read with it.
pub(crate) fn answer_after(snapshot: &Snapshot, previous: Option<&str>, question: &str) -> Answered {
    let started = Instant::now();
    let answer = answer::ask_after(snapshot, previous, question);
    let top_unit = answer.hits.first().map(|hit| snapshot.knowledge.units[hit.unit].id.clone());
    let reply = render_answer(snapshot, &answer);
    Answered { answer, reply, top_unit, started }
}

/// A member picked `unit` among the choices offered for `question`: the
/// reply showing that passage, as a sure answer would, and the candidate
/// example to record. Every surface with choices (buttons, `chat`'s numbers) picks here.
pub(crate) fn picked(
    snapshot: &Snapshot,
    question: &str,
    unit: usize,
    place: Place,
    user_id: u64,
) -> (Reply, ExampleEvent) {
    let reply = render_answer(snapshot, &answer::chosen(snapshot, question, unit));
    let event = ExampleEvent {
        text: question.to_string(),
        unit: snapshot.knowledge.units[unit].id.clone(),
        source: ExampleSource::Pick,
        guild_id: place.guild_id,
        channel_id: place.channel_id,
        user_id,
    };
    (reply, event)
}

impl Answered {
    /// What a later follow-up should be read with: this question, with the
    /// previous one when it was read with it. `None` when nothing answered it.
    pub(crate) fn context(&self) -> Option<&str> {
        let answer = &self.answer;
        answer.answered.then(|| answer.read_with_previous.as_deref().unwrap_or(&answer.question))
    }

    /// The event to record once the reply is sent (or deliberately withheld);
    /// its latency runs from the question to now.
    pub(crate) fn event(&self, surface: Surface, place: Place) -> QuestionEvent {
        QuestionEvent {
            surface,
            question: self.answer.question.clone(),
            guild_id: place.guild_id,
            channel_id: place.channel_id,
            answered: self.answer.answered,
            top_unit: self.top_unit.clone(),
            score: self.answer.confidence,
            latency: self.started.elapsed(),
        }
    }
}
