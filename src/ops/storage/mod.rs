//! The question log and feedback votes, kept in SQLite.
//!
//! Recording must never slow down or break a reply. Front ends hand events to
//! `Storage::record_*`, which only pushes onto a bounded queue and returns at
//! once; when the queue is full the event is dropped and counted. One writer
//! task owns the database: it batches rows into transactions on a blocking
//! thread, and when the database cannot be opened or written (missing
//! folder, read-only, disk full) it keeps the rows in memory (bounded too),
//! logs at most once a minute and retries with backoff. `flush` and
//! `shutdown` wait until everything accepted so far is written, so a
//! graceful shutdown loses nothing.
//!
//! The schema is versioned with `PRAGMA user_version`; `MIGRATIONS[i]` takes
//! version `i` to `i + 1`, each in its own transaction, so opening a database
//! twice, or an old one, is safe.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection};
use tokio::sync::{mpsc, oneshot};

use crate::config::{ServerSettings, StorageConfig};
use crate::ops::events::{QuestionEvent, VoteEvent};
use crate::ops::stats::Stats;

mod report;
mod schema;
mod settings;

pub use report::read_stats;
pub(crate) use schema::{migrate, open, prune, MIGRATIONS};

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Rows written per transaction at most.
const MAX_BATCH: usize = 512;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("no question log at {path} yet: the bot has recorded nothing there (is [storage] path the bot's?)")]
    Missing { path: PathBuf },
    #[error("cannot create the folder for the question log {path}: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("cannot open the question log {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "the question log {path} has schema version {found}, newer than this build understands ({SCHEMA_VERSION})"
    )]
    TooNew { path: PathBuf, found: usize },
    #[error("cannot read the question log {path}: {source}")]
    Query { path: PathBuf, source: rusqlite::Error },
    #[error("{pending} recorded row(s) could not be written to the question log {path} yet")]
    Unwritten { path: PathBuf, pending: usize },
    #[error("the question log writer has stopped")]
    Stopped,
}

/// Tuning that tests and operators rarely change.
#[derive(Clone, Debug)]
pub struct StorageOptions {
    /// Events waiting for the writer; beyond this they are dropped and counted.
    pub queue_capacity: usize,
    /// Rows kept in memory while the database is unavailable.
    pub max_pending: usize,
    /// First wait before retrying an unavailable database; doubles up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// Least time between two "database unavailable" log lines.
    pub error_log_interval: Duration,
    /// Caps the database size (SQLite `max_page_count`, 4 KiB pages); writes past it fail as "full".
    pub max_pages: Option<u32>,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            queue_capacity: 10_000,
            max_pending: 10_000,
            retry_min: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            error_log_interval: Duration::from_secs(60),
            max_pages: None,
        }
    }
}

/// Handle to the question log; cheap to clone and share.
#[derive(Clone)]
pub struct Storage {
    shared: Arc<Shared>,
}

struct Shared {
    sender: mpsc::Sender<Message>,
    counters: Arc<Counters>,
    path: PathBuf,
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
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("path", &self.shared.path)
            .field("log_question_text", &self.shared.log_question_text)
            .field("counters", &self.shared.counters)
            .finish()
    }
}

#[derive(Debug)]
enum Record {
    Question { time: i64, event: QuestionEvent, key: Option<String> },
    Vote { time: i64, event: VoteEvent },
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
    /// Starts the writer for `config.path` with default options. Never fails:
    /// an unavailable database is logged and retried. Needs a Tokio runtime.
    pub fn start(config: &StorageConfig) -> Storage {
        Storage::start_with(config, StorageOptions::default())
    }

    pub fn start_with(config: &StorageConfig, options: StorageOptions) -> Storage {
        let (sender, receiver) = mpsc::channel(options.queue_capacity.max(1));
        let counters = Arc::new(Counters::default());
        let database = Database::new(config, options.clone(), counters.clone());
        tokio::spawn(run_writer(database, receiver));
        let shared = Shared {
            sender,
            counters,
            path: config.path.clone(),
            log_question_text: config.log_question_text,
            capacity: options.queue_capacity.max(1),
        };
        Storage { shared: Arc::new(shared) }
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
            pending => Err(StorageError::Unwritten { path: self.shared.path.clone(), pending }),
        }
    }

    /// Stats over the last `window` (everything when `None`), from a separate
    /// read connection on a blocking thread.
    pub async fn stats(&self, window: Option<Duration>) -> Result<Stats, StorageError> {
        let path = self.shared.path.clone();
        let text_logged = self.shared.log_question_text;
        tokio::task::spawn_blocking(move || read_stats(&path, window, text_logged))
            .await
            .map_err(|_| StorageError::Stopped)?
    }

    /// Every server's stored settings, read once at start. Unlike the
    /// question log, settings are read and written directly (an admin waits
    /// for "saved"), on a blocking thread with a connection of their own.
    pub(crate) async fn server_settings(&self) -> Result<HashMap<u64, ServerSettings>, StorageError> {
        let path = self.shared.path.clone();
        tokio::task::spawn_blocking(move || settings::read_all(&path)).await.map_err(|_| StorageError::Stopped)?
    }

    /// Stores one server's settings, replacing what it had.
    pub(crate) async fn save_server_settings(&self, guild: u64, settings: ServerSettings) -> Result<(), StorageError> {
        let path = self.shared.path.clone();
        tokio::task::spawn_blocking(move || settings::write(&path, guild, &settings))
            .await
            .map_err(|_| StorageError::Stopped)?
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
}

/// The writer's state; moved onto a blocking thread for each batch and back.
struct Database {
    path: PathBuf,
    retention_days: u32,
    options: StorageOptions,
    counters: Arc<Counters>,
    connection: Option<Connection>,
    /// Rows accepted but not yet committed, oldest first.
    pending: VecDeque<Record>,
    retry_at: Instant,
    backoff: Duration,
    next_prune: Instant,
    last_error_log: Option<Instant>,
    suppressed_errors: u64,
}

async fn run_writer(mut database: Database, mut receiver: mpsc::Receiver<Message>) {
    database = match blocking(database, |db| db.write(true)).await {
        Some(database) => database,
        None => return,
    };
    loop {
        let wake_at =
            if database.pending.is_empty() { database.next_prune } else { database.retry_at.min(database.next_prune) };
        let first = tokio::select! {
            message = receiver.recv() => message,
            _ = tokio::time::sleep_until(wake_at.into()) => {
                database = match blocking(database, |db| db.write(false)).await {
                    Some(database) => database,
                    None => return,
                };
                continue;
            }
        };
        // Every sender is gone: write what is left and stop.
        let Some(first) = first else {
            let _ = blocking(database, |db| db.write(true)).await;
            return;
        };
        let mut waiters = Vec::new();
        let mut stopping = false;
        let mut next = Some(first);
        let mut taken = 0;
        while let Some(message) = next.take() {
            taken += 1;
            match message {
                Message::Record(record) => database.push(record),
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
        let force = !waiters.is_empty();
        database = match blocking(database, move |db| db.write(force)).await {
            Some(database) => database,
            None => return,
        };
        for waiter in waiters {
            let _ = waiter.send(database.pending.len());
        }
        if stopping {
            if !database.pending.is_empty() {
                tracing::error!(path = %database.path.display(), lost = database.pending.len(), "question log: stopping with rows the database would not take");
            }
            return;
        }
    }
}

/// Runs `work` on a blocking thread with the database and hands it back.
async fn blocking(mut database: Database, work: impl FnOnce(&mut Database) + Send + 'static) -> Option<Database> {
    match tokio::task::spawn_blocking(move || {
        work(&mut database);
        database
    })
    .await
    {
        Ok(database) => Some(database),
        Err(err) => {
            // Only a bug gets here; recording stops but replies go on.
            tracing::error!(error = %err, "question log writer failed; recording stopped");
            None
        }
    }
}

impl Database {
    fn new(config: &StorageConfig, options: StorageOptions, counters: Arc<Counters>) -> Database {
        let now = Instant::now();
        Database {
            path: config.path.clone(),
            retention_days: config.retention_days,
            backoff: options.retry_min,
            options,
            counters,
            connection: None,
            pending: VecDeque::new(),
            retry_at: now,
            next_prune: now,
            last_error_log: None,
            suppressed_errors: 0,
        }
    }

    fn push(&mut self, record: Record) {
        if self.pending.len() >= self.options.max_pending {
            // Keep the newest rows: they are the ones an operator looks at first.
            self.pending.pop_front();
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.pending.push_back(record);
    }

    /// Opens the database if needed, prunes when due and writes pending rows.
    /// Unless `force`, does nothing while backing off after a failure.
    fn write(&mut self, force: bool) {
        let now = Instant::now();
        if self.connection.is_none() && !force && now < self.retry_at {
            return;
        }
        if let Err(err) = self.try_write(now) {
            self.connection = None;
            self.counters.write_failures.fetch_add(1, Ordering::Relaxed);
            self.retry_at = Instant::now() + self.backoff;
            self.backoff = (self.backoff * 2).min(self.options.retry_max);
            self.report(&err);
        }
    }

    fn try_write(&mut self, now: Instant) -> Result<(), StorageError> {
        let recovering = self.last_error_log.is_some();
        if self.connection.is_none() {
            let mut connection = open(&self.path, true)?;
            if let Some(pages) = self.options.max_pages {
                connection.pragma_update(None, "max_page_count", pages).map_err(|source| self.open_error(source))?;
            }
            migrate(&mut connection, &self.path)?;
            self.connection = Some(connection);
        }
        if now >= self.next_prune {
            self.prune()?;
            self.next_prune = now + DAY;
        }
        let mut written = 0;
        while !self.pending.is_empty() {
            let count = self.pending.len().min(MAX_BATCH);
            self.insert_front(count)?;
            self.pending.drain(..count);
            written += count;
            self.counters.written.fetch_add(count as u64, Ordering::Relaxed);
        }
        if recovering {
            tracing::info!(path = %self.path.display(), written, "question log: database available again");
            self.last_error_log = None;
            self.suppressed_errors = 0;
        }
        self.backoff = self.options.retry_min;
        Ok(())
    }

    /// Inserts the first `count` pending rows in one transaction.
    fn insert_front(&mut self, count: usize) -> Result<(), StorageError> {
        let path = self.path.clone();
        let failed = |source| StorageError::Query { path: path.clone(), source };
        let Some(connection) = self.connection.as_mut() else {
            return Ok(());
        };
        let transaction = connection.transaction().map_err(failed)?;
        {
            let mut insert_question = transaction
                .prepare_cached(
                    "INSERT INTO questions (time, surface, question, question_key, guild_id, channel_id, answered, top_unit, score, latency_us)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(failed)?;
            let mut insert_vote = transaction
                .prepare_cached("INSERT INTO votes (time, unit, helpful, guild_id, channel_id, user_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(failed)?;
            for record in self.pending.iter().take(count) {
                match record {
                    Record::Question { time, event, key } => {
                        let text = key.as_ref().map(|_| event.question.as_str());
                        insert_question
                            .execute(params![
                                time,
                                event.surface.as_str(),
                                text,
                                key,
                                event.guild_id.map(snowflake),
                                event.channel_id.map(snowflake),
                                event.answered,
                                event.top_unit,
                                f64::from(event.score),
                                i64::try_from(event.latency.as_micros()).unwrap_or(i64::MAX),
                            ])
                            .map_err(failed)?;
                    }
                    Record::Vote { time, event } => {
                        insert_vote
                            .execute(params![
                                time,
                                event.unit,
                                event.helpful,
                                event.guild_id.map(snowflake),
                                event.channel_id.map(snowflake),
                                snowflake(event.user_id),
                            ])
                            .map_err(failed)?;
                    }
                }
            }
        }
        transaction.commit().map_err(failed)
    }

    fn prune(&mut self) -> Result<(), StorageError> {
        let Some(connection) = &self.connection else {
            return Ok(());
        };
        let deleted = prune(connection, self.retention_days, SystemTime::now())
            .map_err(|source| StorageError::Query { path: self.path.clone(), source })?;
        if deleted > 0 {
            tracing::info!(deleted, retention_days = self.retention_days, "question log: pruned old rows");
        }
        Ok(())
    }

    fn open_error(&self, source: rusqlite::Error) -> StorageError {
        StorageError::Open { path: self.path.clone(), source }
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
    use super::*;

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
        }
        assert_eq!(prune(&connection, 0, now).unwrap(), 0, "0 keeps everything");
        assert_eq!(prune(&connection, 7, now).unwrap(), 2);
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
        let err = read_stats(&path, None, true).unwrap_err();
        assert!(err.to_string().contains("nothing-here.sqlite3"), "{err}");
        assert!(!path.exists(), "stats must not create a database");
    }
}
