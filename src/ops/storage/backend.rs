//! The seam between the `Storage` handle and its two databases: `Backend`
//! for the queries, `BatchWriter` for the writer task's connection. Each is
//! implemented once by `sqlite` and once by `postgres`, and called in one
//! place each, so a new query is one method here and one in each backend,
//! never a `match` at every call site.
//!
//! Futures are boxed so that `Backend` can be a trait object (`Location`
//! holds an `Arc<dyn Backend>`): one allocation per query or batch, nothing
//! beside the database's own round trip.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::board::{BoardQuery, BoardRows};
use super::examples::{Decision, LearnedExample, PendingExample};
use super::{Counters, Postgres, Record, StorageError};
use crate::config::ServerSettings;
use crate::ops::stats::Stats;

/// A query's result, to be awaited.
pub(super) type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, StorageError>> + Send + 'a>>;

/// One database's queries. Reads and direct writes (settings, decisions)
/// go through here; the question log goes through `BatchWriter`.
pub(super) trait Backend: Send + Sync {
    /// The database's name for logs and errors (never with a password).
    fn place(&self) -> String;

    /// The shared database, when this is a fleet's.
    fn postgres(&self) -> Option<&Postgres> {
        None
    }

    /// A connection for the writer task, made on its first write.
    /// `max_pages` caps an SQLite file (PostgreSQL has no such cap);
    /// `auto_approve` is `[storage] auto_approve`.
    fn writer(&self, max_pages: Option<u32>, auto_approve: Option<u32>) -> Box<dyn BatchWriter>;

    /// Stats over the last `window` (everything when `None`). Never creates an SQLite file.
    fn stats(&self, window: Option<Duration>, text_logged: bool) -> Answer<'_, Stats>;

    /// The dashboard's rows, from a connection that neither migrates nor
    /// writes. Never creates an SQLite file.
    fn board(&self, query: BoardQuery) -> Answer<'_, BoardRows>;

    /// Approved examples; with `create`, an SQLite database that is not
    /// there yet is created (the bot's own), otherwise it is `Missing`.
    fn approved_examples(&self, create: bool) -> Answer<'_, Vec<LearnedExample>>;

    /// Candidate groups waiting for a decision (`examples::pending_query`).
    fn pending_examples(&self, guild: Option<u64>, limit: usize) -> Answer<'_, Vec<PendingExample>>;

    /// Writes an admin's decision on a group; returns the rows changed.
    fn decide(&self, decision: Decision) -> Answer<'_, usize>;

    /// Every server's settings.
    fn server_settings(&self) -> Answer<'_, HashMap<u64, ServerSettings>>;

    /// One server's settings; `None` when it has none stored.
    fn server_settings_of(&self, guild: u64) -> Answer<'_, Option<ServerSettings>>;

    /// Stores one server's settings, replacing what it had.
    fn save_server_settings(&self, guild: u64, settings: ServerSettings) -> Answer<'_, ()>;
}

/// The writer task's connection: opened on first use, dropped after a
/// failure (`disconnect`) and opened again on the next try.
pub(super) trait BatchWriter: Send {
    /// Whether the last write left a connection to reuse.
    fn connected(&self) -> bool;

    fn disconnect(&mut self);

    /// Connects if needed, deletes rows older than `prune_days` days when
    /// given, then writes `pending` in batches of `MAX_BATCH` (one
    /// transaction each), removing each batch once committed and counting
    /// it in `counters.written`.
    fn write<'a>(
        &'a mut self,
        pending: &'a mut VecDeque<Record>,
        prune_days: Option<u32>,
        counters: &'a Arc<Counters>,
    ) -> Answer<'a, ()>;
}

/// The columns a `Record` fills, in the order both backends bind them.
pub(super) const QUESTION_COLUMNS: &str =
    "questions (time, surface, question, question_key, guild_id, channel_id, answered, top_unit, score, latency_us, offered)";
pub(super) const VOTE_COLUMNS: &str = "votes (time, unit, helpful, guild_id, channel_id, user_id)";
pub(super) const EXAMPLE_COLUMNS: &str =
    "learned_examples (text, text_key, unit, source, guild_id, channel_id, user_id, created_ms)";
