//! The question log, feedback votes, learned examples and server settings,
//! in SQLite (the embedded default) or PostgreSQL (a fleet of processes
//! sharing one database): one `Storage` handle, two backends (`sqlite`,
//! `postgres`) behind one trait (`backend::Backend`, and `BatchWriter` for
//! the writer task), the same schema and the same rules.
//!
//! Recording must never slow down or break a reply. Front ends hand events to
//! `Storage::record_*`, which only pushes onto a bounded queue and returns at
//! once; when the queue is full the event is dropped and counted. One writer
//! task owns the writes: it batches rows into transactions, and when the
//! database cannot be opened or written (missing folder, read-only, disk
//! full, server down) it keeps the rows in memory (bounded too: the oldest
//! are dropped and counted), logs at most once a minute and retries with
//! backoff. `flush` and `shutdown` wait until everything accepted so far is
//! written, so a graceful shutdown loses nothing.
//!
//! The schema is versioned (SQLite's `PRAGMA user_version`, a one-row table
//! in PostgreSQL); `MIGRATIONS[i]` takes version `i` to `i + 1`, all in one
//! transaction, so opening a database twice, or an old one, is safe.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};

use crate::config::{ServerSettings, StorageConfig};
use crate::ops::events::{ExampleEvent, QuestionEvent, VoteEvent};
use crate::ops::stats::Stats;
use backend::{Backend, BatchWriter};
use examples::Decision;

mod backend;
mod board;
mod examples;
mod postgres;
mod report;
mod settings;
mod sqlite;

pub use board::{BoardQuery, BoardRows};
pub use examples::{LearnedExample, PendingExample};
pub(crate) use postgres::{error_text, Database as Postgres, Notice, CHANNEL};
pub(crate) use sqlite::MIGRATIONS;

/// The schema version this build writes, in either backend.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();
const _: () = assert!(postgres::MIGRATIONS.len() == SCHEMA_VERSION, "both backends share one schema version");

/// Rows written per transaction at most.
const MAX_BATCH: usize = 512;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no question log at {path} yet: the bot has recorded nothing there (is [storage] path the bot's?)")]
    Missing { path: PathBuf },
    #[error("cannot create the folder for the question log {path}: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("cannot open the question log {place}: {source}")]
    Open { place: String, source: rusqlite::Error },
    #[error(
        "the question log {place} has schema version {found}, newer than this build understands ({SCHEMA_VERSION})"
    )]
    TooNew { place: String, found: usize },
    #[error(
        "the question log {place} has schema version {found}, older than this build's ({SCHEMA_VERSION}): \
         start this version of the bot once to upgrade it"
    )]
    TooOld { place: String, found: usize },
    #[error(
        "cannot read the question log {place} read-only: {source} (in WAL mode SQLite needs the files {place}-wal \
         and {place}-shm beside it, which it creates when they are missing: run this while the bot runs, or as a \
         user who may write that folder)"
    )]
    ReadOnly { place: String, source: rusqlite::Error },
    #[error("cannot read the question log {place}: {source}")]
    Query { place: String, source: rusqlite::Error },
    #[error("PostgreSQL at {place}: {message}")]
    Postgres { place: String, message: String },
    #[error("{message}")]
    Config { message: String },
    #[error("{pending} recorded row(s) could not be written to the question log {place} yet")]
    Unwritten { place: String, pending: usize },
    #[error("the question log writer has stopped")]
    Stopped,
}

/// Tuning that tests and operators rarely change.
#[derive(Clone, Debug)]
pub struct StorageOptions {
    /// Events waiting for the writer; beyond this they are dropped and counted.
    pub queue_capacity: usize,
    /// Rows kept in memory while the database is unavailable (`[storage] backlog`).
    pub max_pending: usize,
    /// First wait before retrying an unavailable database; doubles up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// Least time between two "database unavailable" log lines.
    pub error_log_interval: Duration,
    /// Caps an SQLite database's size (`max_page_count`, 4 KiB pages); writes past it fail as "full".
    pub max_pages: Option<u32>,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            queue_capacity: 10_000,
            max_pending: 10_000,
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(10),
            error_log_interval: Duration::from_secs(60),
            max_pages: None,
        }
    }
}

/// Where the data lives: the configured backend, shared by the writer,
/// the handles and the readers beside them (the dashboard).
#[derive(Clone)]
pub(crate) struct Location {
    backend: Arc<dyn Backend>,
}

impl Location {
    /// The configured backend: PostgreSQL when `url` is set. Connects nothing yet.
    pub(crate) fn of(config: &StorageConfig) -> Result<Location, StorageError> {
        let backend: Arc<dyn Backend> = match &config.url {
            Some(url) => Arc::new(Postgres::new(url, config.ca_file.as_deref())?),
            None => Arc::new(sqlite::Sqlite::new(config.path.clone())),
        };
        Ok(Location { backend })
    }

    /// The database's name for logs and errors (never with a password).
    pub(crate) fn place(&self) -> String {
        self.backend.place()
    }

    /// The dashboard's rows. Never creates an SQLite file.
    pub(crate) async fn board(&self, query: BoardQuery) -> Result<BoardRows, StorageError> {
        self.backend.board(query).await
    }
}

/// Stats over the last `window` from the configured database, without a
/// running bot (`transition-bot stats`). Never creates an SQLite file.
pub async fn read_stats(config: &StorageConfig, window: Option<Duration>) -> Result<Stats, StorageError> {
    Location::of(config)?.backend.stats(window, config.log_question_text).await
}

/// Every approved example from the configured database, without a running
/// bot (`transition-bot examples export`): as `Storage::approved_examples`.
/// Never creates an SQLite file.
pub async fn read_approved_examples(config: &StorageConfig) -> Result<Vec<LearnedExample>, StorageError> {
    Location::of(config)?.backend.approved_examples(false).await
}

/// Writes a question log's history into the configured database (an
/// SQLite file is created if missing), each row at its own time, through
/// the writers' own inserts: the seeded logs of the dashboard's benchmark
/// and tests. Question text is kept only with `log_question_text`, as when
/// recorded. Returns the rows written.
pub async fn import_history(
    config: &StorageConfig,
    questions: &[(SystemTime, QuestionEvent)],
    votes: &[(SystemTime, VoteEvent)],
) -> Result<usize, StorageError> {
    let mut pending: VecDeque<Record> = questions
        .iter()
        .map(|(time, event)| Record::Question {
            time: ms_since_epoch(*time),
            key: config.log_question_text.then(|| normalize_question(&event.question)),
            event: event.clone(),
        })
        .chain(votes.iter().map(|(time, event)| Record::Vote { time: ms_since_epoch(*time), event: event.clone() }))
        .collect();
    let rows = pending.len();
    let mut writer = Location::of(config)?.backend.writer(None, None);
    writer.write(&mut pending, None, &Arc::default()).await?;
    Ok(rows)
}

/// Handle to the question log; cheap to clone and share.
#[derive(Clone)]
pub struct Storage {
    shared: Arc<Shared>,
}

struct Shared {
    sender: mpsc::Sender<Message>,
    counters: Arc<Counters>,
    location: Location,
    log_question_text: bool,
    capacity: usize,
}

/// What the writer and the handles both see.
#[derive(Debug, Default)]
struct Counters {
    /// Events lost: queue full, writer stopped, or in-memory backlog full.
    dropped: AtomicU64,
    written: AtomicU64,
    write_failures: AtomicU64,
    /// Rows the writer holds in memory, waiting for the database.
    backlog: AtomicU64,
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("place", &self.shared.location.place())
            .field("log_question_text", &self.shared.log_question_text)
            .field("counters", &self.shared.counters)
            .finish()
    }
}

/// A row for the writer. `key` is the normalized text rows are grouped by:
/// a question's for stats (`None` without text logging), an example's for
/// its group (`examples::normalize_example`).
#[derive(Debug)]
enum Record {
    Question { time: i64, event: QuestionEvent, key: Option<String> },
    Vote { time: i64, event: VoteEvent },
    Example { time: i64, event: ExampleEvent, key: String },
}

#[derive(Debug)]
enum Message {
    Record(Record),
    /// Write everything before this, then answer with how many rows are still unwritten.
    Flush(oneshot::Sender<usize>),
    /// Like `Flush`, then stop.
    Shutdown(oneshot::Sender<usize>),
}

impl Storage {
    /// Starts the writer for the configured backend. Fails only on a URL
    /// that cannot be used; an unavailable database is logged and retried.
    /// Needs a Tokio runtime.
    pub fn start(config: &StorageConfig) -> Result<Storage, StorageError> {
        Storage::start_with(config, StorageOptions { max_pending: config.backlog, ..StorageOptions::default() })
    }

    pub fn start_with(config: &StorageConfig, options: StorageOptions) -> Result<Storage, StorageError> {
        let location = Location::of(config)?;
        let (sender, receiver) = mpsc::channel(options.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let writer = Writer::new(&location, config, options.clone(), counters.clone());
        tokio::spawn(run_writer(writer, receiver));
        let shared = Shared {
            sender,
            counters,
            location,
            log_question_text: config.log_question_text,
            capacity: options.queue_capacity.max(1),
        };
        Ok(Storage { shared: Arc::new(shared) })
    }

    /// Queues a question; returns false when it was dropped. Never blocks.
    pub fn record_question(&self, event: &QuestionEvent) -> bool {
        let mut event = event.clone();
        let key = if self.shared.log_question_text {
            Some(normalize_question(&event.question))
        } else {
            // The text never reaches the queue, so it cannot end up on disk.
            event.question = String::new();
            None
        };
        self.enqueue(Record::Question { time: now_ms(), event, key })
    }

    /// Queues a feedback vote; returns false when it was dropped. Never blocks.
    pub fn record_vote(&self, event: &VoteEvent) -> bool {
        self.enqueue(Record::Vote { time: now_ms(), event: event.clone() })
    }

    /// Queues a candidate example (a passage a member picked, 👍'd or 👎'd
    /// for their message), as `record_vote` does; returns false when it was
    /// dropped or not stored. It is message text, so with
    /// `log_question_text = false` nothing is stored; a blank text neither.
    pub fn record_example(&self, event: &ExampleEvent) -> bool {
        if !self.shared.log_question_text {
            return false;
        }
        let key = examples::normalize_example(&event.text);
        if key.is_empty() {
            return false;
        }
        self.enqueue(Record::Example { time: now_ms(), event: event.clone(), key })
    }

    fn enqueue(&self, record: Record) -> bool {
        match self.shared.sender.try_send(Message::Record(record)) {
            Ok(()) => true,
            Err(_) => {
                self.shared.counters.dropped.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Waits until every event queued before this call is written, or the
    /// writer has tried and the database is unavailable (then `Unwritten`).
    pub async fn flush(&self) -> Result<(), StorageError> {
        let (reply, answer) = oneshot::channel();
        self.shared.sender.send(Message::Flush(reply)).await.map_err(|_| StorageError::Stopped)?;
        self.outcome(answer.await.map_err(|_| StorageError::Stopped)?)
    }

    /// Writes everything queued, stops the writer and waits for it. Events
    /// recorded afterwards are dropped. Calling it twice is harmless.
    pub async fn shutdown(&self) -> Result<(), StorageError> {
        let (reply, answer) = oneshot::channel();
        if self.shared.sender.send(Message::Shutdown(reply)).await.is_err() {
            return Ok(()); // Already stopped.
        }
        self.outcome(answer.await.map_err(|_| StorageError::Stopped)?)
    }

    fn outcome(&self, pending: usize) -> Result<(), StorageError> {
        match pending {
            0 => Ok(()),
            pending => Err(StorageError::Unwritten { place: self.shared.location.place(), pending }),
        }
    }

    /// Stats over the last `window` (everything when `None`), read apart
    /// from the writer: a separate SQLite connection on a blocking thread,
    /// or a pooled PostgreSQL one (then the whole fleet's).
    pub async fn stats(&self, window: Option<Duration>) -> Result<Stats, StorageError> {
        self.backend().stats(window, self.shared.log_question_text).await
    }

    /// Candidate groups waiting for a decision, the most members first (then
    /// the most recent), at most `limit`; with `guild_id`, only that
    /// server's rows are counted and listed. Read directly, like settings:
    /// events recorded but not yet written (see `flush`) are not in it.
    pub async fn pending_examples(
        &self,
        guild_id: Option<u64>,
        limit: usize,
    ) -> Result<Vec<PendingExample>, StorageError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.backend().pending_examples(guild_id, limit).await
    }

    /// Approves (or rejects) the group row `id` belongs to: every pick and
    /// 👍 with the same normalized text and unit, from any server, since an
    /// approved example trains the one shared knowledge. Returns the rows
    /// changed: 0 for an unknown (or pruned) id or a group already so decided.
    pub async fn decide_example(&self, id: i64, approve: bool, by_user: u64) -> Result<usize, StorageError> {
        let decision = Decision { id, status: examples::status(approve), by: snowflake(by_user), at: now_ms() };
        self.backend().decide(decision).await
    }

    /// Every approved example of all servers, one per group (its first
    /// text), ordered by unit then text.
    pub async fn approved_examples(&self) -> Result<Vec<LearnedExample>, StorageError> {
        self.backend().approved_examples(true).await
    }

    /// Every server's stored settings, read once at start. Unlike the
    /// question log, settings are read and written directly (an admin waits
    /// for "saved").
    pub(crate) async fn server_settings(&self) -> Result<HashMap<u64, ServerSettings>, StorageError> {
        self.backend().server_settings().await
    }

    /// One server's stored settings (`None`: the defaults), after another
    /// process of the fleet changed them.
    pub(crate) async fn server_settings_of(&self, guild: u64) -> Result<Option<ServerSettings>, StorageError> {
        self.backend().server_settings_of(guild).await
    }

    /// Stores one server's settings, replacing what it had. With
    /// PostgreSQL, every process of the fleet is told to reload them.
    pub(crate) async fn save_server_settings(&self, guild: u64, settings: ServerSettings) -> Result<(), StorageError> {
        self.backend().save_server_settings(guild, settings).await
    }

    fn backend(&self) -> &dyn Backend {
        &*self.shared.location.backend
    }

    /// Where this handle's database is, for readers beside the writer (the dashboard).
    pub(crate) fn location(&self) -> &Location {
        &self.shared.location
    }

    /// The shared database, when this is a fleet's.
    pub(crate) fn postgres(&self) -> Option<&Postgres> {
        self.backend().postgres()
    }

    /// Events lost so far (queue full, backlog full while the database was down, or after shutdown).
    pub fn dropped(&self) -> u64 {
        self.shared.counters.dropped.load(Ordering::Relaxed)
    }

    /// Rows written so far.
    pub fn written(&self) -> u64 {
        self.shared.counters.written.load(Ordering::Relaxed)
    }

    /// Failed attempts to open or write the database.
    pub fn write_failures(&self) -> u64 {
        self.shared.counters.write_failures.load(Ordering::Relaxed)
    }

    /// Events waiting in the queue.
    pub(crate) fn queue_len(&self) -> usize {
        self.shared.capacity - self.shared.sender.capacity()
    }

    /// Rows held in memory while the database is unavailable.
    pub(crate) fn backlog(&self) -> u64 {
        self.shared.counters.backlog.load(Ordering::Relaxed)
    }
}

/// The writer task's state: the backend, the rows not yet written, and the backoff.
struct Writer {
    backend: Box<dyn BatchWriter>,
    place: String,
    retention_days: u32,
    options: StorageOptions,
    counters: Arc<Counters>,
    /// Rows accepted but not yet committed, oldest first.
    pending: VecDeque<Record>,
    retry_at: Instant,
    backoff: Duration,
    next_prune: Instant,
    last_error_log: Option<Instant>,
    suppressed_errors: u64,
}

async fn run_writer(mut writer: Writer, mut receiver: mpsc::Receiver<Message>) {
    writer.write(true).await;
    loop {
        let wake_at =
            if writer.pending.is_empty() { writer.next_prune } else { writer.retry_at.min(writer.next_prune) };
        let first = tokio::select! {
            message = receiver.recv() => message,
            _ = tokio::time::sleep_until(wake_at.into()) => {
                writer.write(false).await;
                continue;
            }
        };
        // Every sender is gone: write what is left and stop.
        let Some(first) = first else {
            writer.write(true).await;
            return;
        };
        let mut waiters = Vec::new();
        let mut stopping = false;
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(message) = next.take() {
            taken += 1;
            match message {
                Message::Record(record) => writer.push(record),
                Message::Flush(reply) => waiters.push(reply),
                Message::Shutdown(reply) => {
                    waiters.push(reply);
                    if !stopping {
                        // Refuse new events but still take the ones already queued.
                        receiver.close();
                        stopping = true;
                    }
                }
            }
            if taken < MAX_BATCH || stopping {
                next = receiver.try_recv().ok();
            }
        }
        // Flushes try now rather than waiting out a backoff.
        writer.write(!waiters.is_empty()).await;
        for waiter in waiters {
            let _ = waiter.send(writer.pending.len());
        }
        if stopping {
            if !writer.pending.is_empty() {
                tracing::error!(place = %writer.place, lost = writer.pending.len(), "question log: stopping with rows the database would not take");
            }
            return;
        }
    }
}

impl Writer {
    fn new(location: &Location, config: &StorageConfig, options: StorageOptions, counters: Arc<Counters>) -> Writer {
        let now = Instant::now();
        let backend = location.backend.writer(options.max_pages, config.auto_approve);
        Writer {
            backend,
            place: location.place(),
            retention_days: config.retention_days,
            backoff: options.retry_min,
            options,
            counters,
            pending: VecDeque::new(),
            retry_at: now,
            next_prune: now,
            last_error_log: None,
            suppressed_errors: 0,
        }
    }

    fn push(&mut self, record: Record) {
        if self.pending.len() >= self.options.max_pending.max(1) {
            // Keep the newest rows: they are the ones an operator looks at first.
            self.pending.pop_front();
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.pending.push_back(record);
        self.counters.backlog.store(self.pending.len() as u64, Ordering::Relaxed);
    }

    /// Connects if needed, prunes when due and writes pending rows. Unless
    /// `force`, does nothing while backing off after a failure.
    async fn write(&mut self, force: bool) {
        let now = Instant::now();
        if !self.backend.connected() && !force && now < self.retry_at {
            return;
        }
        let recovering = self.last_error_log.is_some();
        let prune = (now >= self.next_prune).then_some(self.retention_days);
        let result = self.backend.write(&mut self.pending, prune, &self.counters).await;
        self.counters.backlog.store(self.pending.len() as u64, Ordering::Relaxed);
        match result {
            Ok(()) => {
                if prune.is_some() {
                    self.next_prune = now + DAY;
                }
                if recovering {
                    tracing::info!(place = %self.place, "question log: database available again");
                    self.last_error_log = None;
                    self.suppressed_errors = 0;
                }
                self.backoff = self.options.retry_min;
            }
            Err(err) => {
                self.backend.disconnect();
                self.counters.write_failures.fetch_add(1, Ordering::Relaxed);
                self.retry_at = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(self.options.retry_max);
                self.report(&err);
            }
        }
    }

    /// Logs a failure, at most once per `error_log_interval`.
    fn report(&mut self, err: &StorageError) {
        let now = Instant::now();
        let due = self.last_error_log.is_none_or(|last| now.duration_since(last) >= self.options.error_log_interval);
        if due {
            tracing::warn!(
                error = %err,
                pending = self.pending.len(),
                suppressed = self.suppressed_errors,
                retry_in_ms = self.backoff.as_millis() as u64,
                "question log unavailable; answers continue and writes will be retried"
            );
            self.last_error_log = Some(now);
            self.suppressed_errors = 0;
        } else {
            self.suppressed_errors += 1;
        }
    }
}

/// Readers that never migrate (the dashboard) read only this build's schema.
fn check_version(found: usize, place: &str) -> Result<(), StorageError> {
    match found.cmp(&SCHEMA_VERSION) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(StorageError::TooNew { place: place.to_string(), found }),
        std::cmp::Ordering::Less => Err(StorageError::TooOld { place: place.to_string(), found }),
    }
}

/// Discord ids are below 2^63; anything else is stored as-is bit for bit.
fn snowflake(id: u64) -> i64 {
    id as i64
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn ms_since_epoch(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The text stats group questions by: lower case, single spaces, no closing punctuation.
pub(crate) fn normalize_question(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ").to_lowercase();
    joined.trim_end_matches(['?', '!', '.', '…', ' ']).to_string()
}

#[cfg(test)]
mod tests {
    use super::sqlite::{migrate, open, prune};
    use super::*;
    use rusqlite::params;

    #[test]
    fn normalizes_case_spacing_and_closing_punctuation() {
        assert_eq!(normalize_question("  What is   RAG?? "), "what is rag");
        assert_eq!(normalize_question("Is C++ useful…"), "is c++ useful");
        assert_eq!(normalize_question("¿Qué es un LLM?"), "¿qué es un llm");
        assert_eq!(normalize_question("???"), "");
    }

    /// The writer, `/settings` and `stats` open the database at the same time;
    /// each must find (or leave) the schema current.
    #[test]
    fn connections_migrating_at_once_all_succeed() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("log.sqlite3");
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || {
                        let mut c = open(&path, true).map_err(|e| format!("open {e:?}"))?;
                        migrate(&mut c, &path).map_err(|e| format!("migrate {e:?}"))
                    })
                })
                .collect();
            for opener in openers {
                opener.join().unwrap().unwrap();
            }
        }
    }

    #[test]
    fn migrating_twice_keeps_data_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sqlite3");
        let mut connection = open(&path, true).unwrap();
        migrate(&mut connection, &path).unwrap();
        connection.execute("INSERT INTO votes (time, unit, helpful, user_id) VALUES (1, 'u', 1, 7)", []).unwrap();
        migrate(&mut connection, &path).unwrap();
        drop(connection);
        let mut again = open(&path, false).unwrap();
        migrate(&mut again, &path).unwrap();
        let version: i64 = again.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert_eq!(version as usize, SCHEMA_VERSION);
        let votes: i64 = again.query_row("SELECT COUNT(*) FROM votes", [], |row| row.get(0)).unwrap();
        assert_eq!(votes, 1);
    }

    /// What the previous release made, opened by this one: new tables, every old row kept.
    #[test]
    fn migrating_from_the_previous_version_keeps_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sqlite3");
        let mut connection = open(&path, true).unwrap();
        for sql in &MIGRATIONS[..SCHEMA_VERSION - 1] {
            connection.execute_batch(sql).unwrap();
        }
        connection.pragma_update(None, "user_version", (SCHEMA_VERSION - 1) as i64).unwrap();
        connection.execute("INSERT INTO votes (time, unit, helpful, user_id) VALUES (1, 'u', 1, 7)", []).unwrap();
        connection.execute("INSERT INTO server_settings VALUES (5, '{}', 1)", []).unwrap();
        migrate(&mut connection, &path).unwrap();
        let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert_eq!(version as usize, SCHEMA_VERSION);
        let count = |sql: &str| -> i64 { connection.query_row(sql, [], |row| row.get(0)).unwrap() };
        assert_eq!(count("SELECT COUNT(*) FROM votes WHERE user_id = 7"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM server_settings"), 1);
        assert_eq!(count("SELECT COUNT(*) FROM learned_examples"), 0);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sqlite3");
        let mut connection = open(&path, true).unwrap();
        connection.pragma_update(None, "user_version", 99).unwrap();
        let err = migrate(&mut connection, &path).unwrap_err();
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }

    #[test]
    fn prune_deletes_only_rows_older_than_the_retention() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sqlite3");
        let mut connection = open(&path, true).unwrap();
        migrate(&mut connection, &path).unwrap();
        let now = SystemTime::now();
        let day_ms = DAY.as_millis() as i64;
        let ten_days_ago = ms_since_epoch(now) - 10 * day_ms;
        let yesterday = ms_since_epoch(now) - day_ms;
        for time in [ten_days_ago, yesterday] {
            connection
                .execute(
                    "INSERT INTO questions (time, surface, answered, score, latency_us) VALUES (?1, 'slash', 1, 0.5, 10)",
                    [time],
                )
                .unwrap();
            connection
                .execute("INSERT INTO votes (time, unit, helpful, user_id) VALUES (?1, 'u', 0, 1)", [time])
                .unwrap();
            for status in ["pending", "approved"] {
                connection
                    .execute(
                        "INSERT INTO learned_examples (text, text_key, unit, source, user_id, created_ms, status)
                         VALUES ('t', 't', 'u', 'pick', 1, ?1, ?2)",
                        params![time, status],
                    )
                    .unwrap();
            }
        }
        assert_eq!(prune(&connection, 0, now).unwrap(), 0, "0 keeps everything");
        assert_eq!(prune(&connection, 7, now).unwrap(), 3, "the old question, vote and pending example");
        let examples: Vec<(i64, String)> = connection
            .prepare("SELECT created_ms, status FROM learned_examples ORDER BY created_ms, status")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let approved = String::from("approved");
        assert_eq!(
            examples,
            [(ten_days_ago, approved.clone()), (yesterday, approved), (yesterday, "pending".into())],
            "decided examples are kept however old"
        );
        let left: Vec<i64> = connection
            .prepare("SELECT time FROM questions")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(left, vec![yesterday]);
        let votes: i64 = connection.query_row("SELECT COUNT(*) FROM votes", [], |row| row.get(0)).unwrap();
        assert_eq!(votes, 1);
    }

    #[test]
    fn stats_of_a_missing_database_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nothing-here.sqlite3");
        let err = sqlite::read_stats(&path, None, true).unwrap_err();
        assert!(err.to_string().contains("nothing-here.sqlite3"), "{err}");
        assert!(!path.exists(), "stats must not create a database");
    }

    #[tokio::test]
    async fn settings_are_kept_per_server_and_replaced_whole() {
        use crate::config::Trigger;
        let dir = tempfile::tempdir().unwrap();
        let config = StorageConfig { path: dir.path().join("bot.sqlite3"), ..StorageConfig::default() };
        let storage = Storage::start(&config).unwrap();
        let first = ServerSettings { channels: Some(vec![7, 8]), trigger: Some(Trigger::All), ..Default::default() };
        storage.save_server_settings(1, first.clone()).await.unwrap();
        storage
            .save_server_settings(2, ServerSettings { cooldown_secs: Some(30), ..Default::default() })
            .await
            .unwrap();
        let replaced = ServerSettings { suggest_when_unsure: Some(true), ..first };
        storage.save_server_settings(1, replaced.clone()).await.unwrap();
        let all = storage.server_settings().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[&1], replaced);
        assert_eq!(all[&2].cooldown_secs, Some(30));
        assert_eq!(storage.server_settings_of(2).await.unwrap().and_then(|s| s.channels), None);
        assert_eq!(storage.server_settings_of(3).await.unwrap(), None);
    }
}
