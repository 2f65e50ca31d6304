//! What members see: the platform-neutral `reply` and Discord's limits, the
//! one command table (`commands`), how answers look (`render`: answers and
//! the choices a partly-covered one offers) and the browse commands'
//! replies (`browse`), the one answering and delivery path (`answering`),
//! the admin replies (`admin`: reindex outcomes, stats, server settings,
//! reviews), each member's last question for follow-ups (`follow_ups`), and
//! which plain messages are answered, with each member's cooldown
//! (`listening`).
//!
//! Uses every layer below and no platform library (no serenity or poise:
//! the tidy test checks), but it is written for Discord: replies use its
//! Markdown, `<#channel>` mentions and button ids, the `/settings` replies
//! are about `DiscordConfig` and its intents, and the terminal shows the
//! same replies as text. Replies are fitted to Discord's limits once, at
//! delivery, by the front ends calling `Reply::clamp`.

pub mod admin;
pub(crate) mod answering;
pub(crate) mod browse;
pub mod commands;
pub(crate) mod follow_ups;
pub(crate) mod listening;
pub mod render;
pub mod reply;

use std::sync::Arc;
use std::time::Duration;

use crate::ops::fleet::Fleet;
use crate::ops::telemetry::Telemetry;
use crate::serving::host::Host;
use crate::serving::reindex::Reindexer;
use crate::serving::shutdown::InFlight;
use follow_ups::Recent;

/// What a running front end works with: the live snapshot, the reindexer
/// that keeps it current, where question and vote events go, and the
/// conversation state every surface shares. Built once by `cli`'s service
/// setup, the same way for `serve` and `chat`.
#[derive(Clone)]
pub(crate) struct Services {
    pub(crate) host: Arc<Host>,
    pub(crate) reindexer: Reindexer,
    pub(crate) telemetry: Telemetry,
    /// The other processes sharing this one's PostgreSQL database (`serve` only).
    pub(crate) fleet: Option<Fleet>,
    /// Each member's last answered question per channel, for follow-ups.
    pub(crate) recent: Arc<Recent>,
    /// Replies being worked on; closed at shutdown so nothing new starts.
    pub(crate) in_flight: InFlight,
    /// Answers computed at once: each runs the model on the CPU, so more than
    /// one per core only queues inside the blocking pool and costs memory.
    pub(crate) answering: Arc<tokio::sync::Semaphore>,
}

impl Services {
    /// Services around a started host, reindexer and telemetry; follow-ups
    /// are remembered for `follow_up`.
    pub(crate) fn new(host: Arc<Host>, reindexer: Reindexer, telemetry: Telemetry, follow_up: Duration) -> Services {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Services {
            host,
            reindexer,
            telemetry,
            fleet: None,
            recent: Arc::new(Recent::new(follow_up)),
            in_flight: InFlight::new(),
            answering: Arc::new(tokio::sync::Semaphore::new(cores)),
        }
    }
}

/// A one-section knowledge base, for the tests of commands and rendering.
#[cfg(test)]
pub(crate) fn field_guide() -> crate::engine::snapshot::Snapshot {
    let sources = [(
        "kb.md".to_string(),
        "# Field guide\n\n## Getting started\n\nStart with the basics and practise daily.\n".to_string(),
    )];
    crate::engine::snapshot::Snapshot::from_sources(&sources, Default::default()).expect("knowledge builds")
}
