//! What the bot reports about its work: every question and every vote.
//!
//! Question events are made by the one answering path
//! (`conversation::answering`, for every surface; the one-shot `ask` hands
//! its event to a `Telemetry` that only logs); votes and candidate examples by the front
//! ends that see the click or the pick. They are handed to a `Telemetry`,
//! which logs them with tracing, counts them in `Metrics` and queues them
//! for the question log in `Storage` (each optional). Nothing records
//! otherwise; admin work (`/stats`, `/examples`, `/settings`) reaches the
//! database through `Telemetry::storage`. None of this can block or fail a
//! reply.

use tracing::field::Empty;
use tracing::Span;

use crate::ops::events::{ExampleEvent, QuestionEvent, Surface, VoteEvent};
use crate::ops::metrics::Metrics;
use crate::ops::storage::{Storage, StorageError};

/// The sink for events; cheap to clone and share.
#[derive(Clone, Debug, Default)]
pub struct Telemetry {
    storage: Option<Storage>,
    metrics: Option<Metrics>,
}

/// A span to wrap the handling of one question; `Telemetry::question`
/// fills in its outcome, so every log line inside carries the surface and
/// the final line carries answered, top unit, score and latency.
pub(crate) fn question_span(surface: Surface) -> Span {
    tracing::info_span!(
        "question",
        surface = surface.as_str(),
        answered = Empty,
        top_unit = Empty,
        score = Empty,
        latency_us = Empty
    )
}

impl Telemetry {
    pub fn new(storage: Option<Storage>, metrics: Option<Metrics>) -> Telemetry {
        Telemetry { storage, metrics }
    }

    pub(crate) fn storage(&self) -> Option<&Storage> {
        self.storage.as_ref()
    }

    pub fn question(&self, event: QuestionEvent) {
        let latency_us = event.latency.as_micros() as u64;
        let top_unit = event.top_unit.as_deref().unwrap_or("");
        // Fills the enclosing `question_span`, if any; fields it lacks are ignored.
        Span::current()
            .record("answered", event.answered)
            .record("top_unit", top_unit)
            .record("score", event.score)
            .record("latency_us", latency_us);
        // The question text is not logged: `log_question_text` governs where it may be kept.
        tracing::info!(
            surface = event.surface.as_str(),
            answered = event.answered,
            top_unit,
            score = event.score,
            latency_us,
            "question"
        );
        if let Some(metrics) = &self.metrics {
            metrics.question(event.surface, event.answered, event.latency);
        }
        if let Some(storage) = &self.storage {
            storage.record_question(&event);
        }
    }

    pub fn vote(&self, event: VoteEvent) {
        tracing::info!(unit = %event.unit, helpful = event.helpful, "feedback vote");
        if let Some(metrics) = &self.metrics {
            metrics.vote(event.helpful);
        }
        if let Some(storage) = &self.storage {
            storage.record_vote(&event);
        }
    }

    /// A candidate example: a member's pick among choices, or a vote on an
    /// answer to their message. Not logged with its text (`log_question_text`
    /// governs where that may be kept); the store drops it when that is off.
    pub fn example(&self, event: ExampleEvent) {
        tracing::info!(unit = %event.unit, source = event.source.as_str(), "candidate example");
        if let Some(storage) = &self.storage {
            storage.record_example(&event);
        }
    }

    /// Writes everything recorded so far and stops the question log writer.
    pub async fn shutdown(&self) -> Result<(), StorageError> {
        match &self.storage {
            Some(storage) => storage.shutdown().await,
            None => Ok(()),
        }
    }
}
