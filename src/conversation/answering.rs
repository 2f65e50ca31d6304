//! The one answering path: every surface (`ask`, `chat`, `/ask`, mentions,
//! channel questions, forum posts, the message menu) turns a question into
//! its reply and its question event here, so they answer alike and record
//! alike. `deliver` is the whole sequence a live surface runs (begin, answer
//! off the async threads, the reply policy, send, record), so Discord's
//! handlers and `chat` differ only in how a reply is sent.
//!
//! The event's `score` is the answer decision's confidence (0 to 1): the
//! probability the fitted decision gives the top passage, the number it
//! compares with its threshold, so the question log shows how close
//! unanswered questions came.

use std::future::Future;
use std::time::Instant;

use tracing::Instrument;

use crate::conversation::render::render_answer;
use crate::conversation::reply::{Action, Button, ButtonStyle, Reply};
use crate::conversation::Services;
use crate::engine::answer::{self, Answer};
use crate::engine::snapshot::Snapshot;
use crate::ops::events::{ExampleEvent, ExampleSource, QuestionEvent, Surface};
use crate::ops::telemetry;

/// A question answered, before delivery.
#[derive(Clone, Debug)]
pub(crate) struct Answered {
    pub(crate) answer: Answer,
    /// Not yet fitted to a platform: front ends clamp at delivery.
    pub(crate) reply: Reply,
    /// The top unit's id (answer or closest suggestion).
    top_unit: Option<String>,
    /// The ids of the passages offered as choices, in order.
    pub(crate) choice_ids: Vec<String>,
    started: Instant,
}

/// Where a question was asked, as far as the surface knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) guild_id: Option<u64>,
    pub(crate) channel_id: Option<u64>,
}

/// How a question reached the bot, and so how its reply is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// A mention or a direct message: the member asked the bot.
    Mention,
    /// A plain message in an answer channel: nobody addressed the bot.
    Channel { suggest_when_unsure: bool },
    /// A new post in a help forum, answered in its thread; its `owner` may mark it solved.
    Forum { owner: u64, suggest_when_unsure: bool },
    /// `/ask`; a `private` reply is shown to the asker only.
    Slash { private: bool },
    /// The Apps menu on `message`: shown to the helper who asked, with a
    /// button that posts it as a reply to that message.
    MessageMenu { message: u64 },
    /// The terminal's `chat`.
    Terminal,
}

impl Via {
    pub(crate) fn surface(self) -> Surface {
        match self {
            Via::Mention => Surface::Mention,
            Via::Channel { .. } => Surface::Channel,
            Via::Forum { .. } => Surface::Forum,
            Via::Slash { .. } => Surface::Slash,
            Via::MessageMenu { .. } => Surface::MessageMenu,
            Via::Terminal => Surface::Terminal,
        }
    }

    /// Whether a reply that is not a sure answer (choices, a decline) is
    /// sent. Where nobody asked the bot, "I'm not sure" is noise unless the
    /// server asked for it.
    fn sends_unsure(self) -> bool {
        match self {
            Via::Channel { suggest_when_unsure } | Via::Forum { suggest_when_unsure, .. } => suggest_when_unsure,
            Via::Mention | Via::Slash { .. } | Via::MessageMenu { .. } | Via::Terminal => true,
        }
    }

    /// The reply as this surface delivers it: who sees it, and the buttons
    /// only this surface has (first, so no limit on buttons drops them).
    fn shape(self, reply: &mut Reply, answered: bool) {
        match self {
            Via::Forum { owner, .. } if answered => {
                let solved =
                    Button {
                        action: Action::Solved { owner }, label: "✅ Solved".into(), style: ButtonStyle::Success
                    };
                reply.buttons.insert(0, solved);
            }
            Via::Slash { private } => reply.ephemeral = private,
            Via::MessageMenu { message } => {
                reply.ephemeral = true;
                if answered {
                    let post = Button {
                        action: Action::Post { message },
                        label: "Post in channel".into(),
                        style: ButtonStyle::Success,
                    };
                    reply.buttons.insert(0, post);
                }
            }
            Via::Mention | Via::Channel { .. } | Via::Forum { .. } | Via::Terminal => {}
        }
    }
}

/// A question to answer and deliver: its text (markup already stripped),
/// how and where it came, and who asked.
#[derive(Clone, Debug)]
pub(crate) struct Asked {
    pub(crate) text: String,
    pub(crate) via: Via,
    pub(crate) place: Place,
    pub(crate) member: u64,
}

/// Answers `asked` and hands the reply to `send`, unless this surface stays
/// silent on it; then records the question. The answer is computed on
/// tokio's blocking pool, at most one per core at a time, so search and
/// model work never stall the tasks serving the gateway. A follow-up is read
/// with the member's last answered question in that channel, and an
/// answered question becomes their context.
///
/// `None` when shutdown has begun: nothing new is answered then.
pub(crate) async fn deliver<E, F, Fut>(services: &Services, asked: Asked, send: F) -> Result<Option<Answered>, E>
where
    E: From<tokio::task::JoinError>,
    F: FnOnce(Reply) -> Fut,
    Fut: Future<Output = Result<(), E>>,
{
    let Some(_replying) = services.in_flight.begin() else { return Ok(None) };
    let surface = asked.via.surface();
    async {
        // Follow-ups are per member and channel; the terminal is one member in one channel.
        let asker = (asked.place.channel_id.unwrap_or(0), asked.member);
        let snapshot = services.host.snapshot();
        let previous = services.recent.previous(asker);
        // Never closed, so a permit always comes.
        let permit = services.answering.clone().acquire_owned().await.ok();
        let question = asked.text.clone();
        let mut answered = tokio::task::spawn_blocking(move || {
            let answered = answer_after(&snapshot, previous.as_deref(), &question);
            drop(permit);
            answered
        })
        .await?;
        if answered.answer.read_with_previous.is_some() {
            tracing::debug!(channel = asker.0, "a follow-up, read with the member's previous question");
        }
        if let Some(context) = answered.context() {
            services.recent.remember(asker, context);
        }
        let sure = answered.answer.answered;
        let sent = sure || asked.via.sends_unsure();
        if sent {
            asked.via.shape(&mut answered.reply, sure);
            send(answered.reply.clone()).await?;
        }
        // Choices count as offered only when the member saw them.
        services.telemetry.question(answered.event(surface, asked.place, sent));
        Ok(Some(answered))
    }
    .instrument(telemetry::question_span(surface))
    .await
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
    let choice_ids = answer.choices.iter().map(|hit| snapshot.knowledge.units[hit.unit].id.clone()).collect();
    let reply = render_answer(snapshot, &answer);
    Answered { answer, reply, top_unit, choice_ids, started }
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

    /// The event to record once the reply is sent (`sent`) or deliberately
    /// withheld; its latency runs from the question to now.
    pub(crate) fn event(&self, surface: Surface, place: Place, sent: bool) -> QuestionEvent {
        QuestionEvent {
            surface,
            question: self.answer.question.clone(),
            guild_id: place.guild_id,
            channel_id: place.channel_id,
            answered: self.answer.answered,
            offered: sent && !self.answer.answered && !self.answer.choices.is_empty(),
            top_unit: self.top_unit.clone(),
            score: self.answer.confidence,
            latency: self.started.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shaped(via: Via, sure: bool) -> Reply {
        let mut reply = Reply { ephemeral: false, ..Reply::default() };
        via.shape(&mut reply, sure);
        reply
    }

    #[test]
    fn choices_count_as_offered_only_when_the_member_saw_them() {
        let hit = crate::engine::search::Hit { unit: 0, score: 1.0, coverage: 0.5 };
        let answer = Answer {
            question: "q".into(),
            answered: false,
            confidence: 0.6,
            hits: vec![hit],
            choices: vec![hit],
            not_covered: Vec::new(),
            pointers: Vec::new(),
            more: Vec::new(),
            candidates: Vec::new(),
            rule: crate::engine::answer::Rule::Choices,
            read_with_previous: None,
        };
        let answered = Answered {
            answer,
            reply: Reply::default(),
            top_unit: None,
            choice_ids: vec!["u".into()],
            started: Instant::now(),
        };
        assert!(answered.event(Surface::Slash, Place::default(), true).offered);
        // A channel that stays silent when unsure showed nothing.
        assert!(!answered.event(Surface::Channel, Place::default(), false).offered);
    }

    #[test]
    fn each_surface_has_its_reply_policy() {
        // Where nobody addressed the bot, only sure answers, unless the server asked.
        for via in [Via::Channel { suggest_when_unsure: false }, Via::Forum { owner: 7, suggest_when_unsure: false }] {
            assert!(!via.sends_unsure(), "{via:?}");
        }
        for via in [
            Via::Channel { suggest_when_unsure: true },
            Via::Forum { owner: 7, suggest_when_unsure: true },
            Via::Mention,
            Via::Slash { private: false },
            Via::MessageMenu { message: 1 },
            Via::Terminal,
        ] {
            assert!(via.sends_unsure(), "{via:?}");
        }
        let forum = Via::Forum { owner: 7, suggest_when_unsure: true };
        assert_eq!(shaped(forum, true).buttons[0].action, Action::Solved { owner: 7 });
        assert!(shaped(forum, false).buttons.is_empty(), "nothing to mark solved");
        let menu = shaped(Via::MessageMenu { message: 42 }, true);
        assert!(menu.ephemeral);
        assert_eq!(menu.buttons[0].action, Action::Post { message: 42 });
        let unsure_menu = shaped(Via::MessageMenu { message: 42 }, false);
        assert!(unsure_menu.ephemeral && unsure_menu.buttons.is_empty(), "no posting choices for others");
        assert!(shaped(Via::Slash { private: true }, true).ephemeral);
        assert!(!shaped(Via::Slash { private: false }, true).ephemeral);
        assert!(shaped(Via::Mention, true).buttons.is_empty());
    }
}
