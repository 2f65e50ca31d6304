//! What the bot reports about its work: every question and every vote.
//!
//! Front ends describe what happened in these events and hand them to a
//! `Telemetry`; it logs them with tracing. Persistence and metrics hang off
//! this one place, so front ends never talk to storage directly.

use std::time::Duration;

/// Where a question came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    /// The `/ask` slash command.
    Slash,
    /// A message mentioning the bot.
    Mention,
    /// A plain question in a configured channel.
    Channel,
    /// The terminal (`ask`, `chat`).
    Terminal,
}

impl Surface {
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Slash => "slash",
            Surface::Mention => "mention",
            Surface::Channel => "channel",
            Surface::Terminal => "terminal",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct QuestionEvent {
    pub surface: Surface,
    pub question: String,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
    pub answered: bool,
    /// Id of the unit answered with (or the closest suggestion).
    pub top_unit: Option<String>,
    pub score: f32,
    pub latency: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteEvent {
    pub unit: String,
    pub helpful: bool,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
    pub user_id: u64,
}

/// The sink for events; cheap to clone and share.
#[derive(Clone, Debug, Default)]
pub struct Telemetry {}

impl Telemetry {
    pub fn question(&self, event: QuestionEvent) {
        tracing::info!(
            surface = event.surface.as_str(),
            answered = event.answered,
            top_unit = event.top_unit.as_deref().unwrap_or(""),
            score = event.score,
            latency_us = event.latency.as_micros() as u64,
            "question"
        );
    }

    pub fn vote(&self, event: VoteEvent) {
        tracing::info!(unit = %event.unit, helpful = event.helpful, "feedback vote");
    }
}
