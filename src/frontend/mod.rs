//! Delivering conversations: `discord` (serenity + poise, the only place
//! that knows them) and `terminal` (the `chat` session).
//!
//! Uses every layer below. Front ends parse input into commands, run them
//! through `conversation`, clamp the reply and send it.

pub(crate) mod discord;
pub(crate) mod terminal;

use std::sync::Arc;

use crate::ops::fleet::Fleet;
use crate::ops::metrics::Metrics;
use crate::ops::telemetry::Telemetry;
use crate::serving::host::Host;
use crate::serving::reindex::Reindexer;

/// What a running front end works with: the live snapshot, the reindexer
/// that keeps it current, and where question and vote events go. Built once
/// by `cli`'s service setup, the same way for `serve` and `chat`.
#[derive(Clone)]
pub(crate) struct Services {
    pub(crate) host: Arc<Host>,
    pub(crate) reindexer: Reindexer,
    pub(crate) telemetry: Telemetry,
    pub(crate) metrics: Metrics,
    /// The other processes sharing this one's PostgreSQL database (`serve` only).
    pub(crate) fleet: Option<Fleet>,
}
