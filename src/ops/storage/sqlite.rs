//! The SQLite backend, the embedded default: opening the file, versioned
//! migrations (`PRAGMA user_version`), writing batches, pruning, and the
//! stats, settings and learned-example queries. Every query blocks: the
//! `Backend` and `BatchWriter` implementations at the end run them on a
//! blocking thread, each query through one helper (`Sqlite::blocking`).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rusqlite::{named_params, params, Connection, OpenFlags, TransactionBehavior};

use super::backend::{Answer, Backend, BatchWriter, EXAMPLE_COLUMNS, QUESTION_COLUMNS, VOTE_COLUMNS};
use super::board::{self, BoardQuery, BoardRows};
use super::examples::{self, Decision, LearnedExample, PendingExample};
use super::report::{self, Rows};
use super::settings::{self as stored, decode, encode};
use super::{ms_since_epoch, now_ms, snowflake, Counters, Record, StorageError, DAY, MAX_BATCH, SCHEMA_VERSION};
use crate::config::ServerSettings;
use crate::ops::stats::Stats;

/// Schema migrations; the database's `user_version` is how many have run.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the question log and votes. `time` is Unix milliseconds. `question_key`
    // is the normalized text that stats group by; both are NULL when question
    // text logging is off.
    "CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        surface TEXT NOT NULL,
        question TEXT,
        question_key TEXT,
        guild_id INTEGER,
        channel_id INTEGER,
        answered INTEGER NOT NULL,
        top_unit TEXT,
        score REAL NOT NULL,
        latency_us INTEGER NOT NULL
    );
    CREATE INDEX questions_time ON questions (time);
    CREATE TABLE votes (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        unit TEXT NOT NULL,
        helpful INTEGER NOT NULL,
        guild_id INTEGER,
        channel_id INTEGER,
        user_id INTEGER NOT NULL
    );
    CREATE INDEX votes_time ON votes (time);",
    // 2: per-server settings changed with `/settings`: what differs from
    // `config.toml`'s defaults, as JSON (`config::ServerSettings`).
    "CREATE TABLE server_settings (
        guild_id INTEGER PRIMARY KEY,
        settings TEXT NOT NULL,
        updated INTEGER NOT NULL
    );",
    // 3: learned examples: a member's message and the passage they picked or
    // voted on, a candidate until an admin approves or rejects its group
    // (`examples`). `text_key` is the normalized text groups are made by.
    // AUTOINCREMENT because ids reach admins (review lists, buttons) and
    // must never come to name a later row after the last one is pruned.
    "CREATE TABLE learned_examples (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        text TEXT NOT NULL,
        text_key TEXT NOT NULL,
        unit TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('pick', 'upvote', 'downvote')),
        guild_id INTEGER,
        channel_id INTEGER,
        user_id INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
        decided_by INTEGER,
        decided_ms INTEGER
    );
    CREATE INDEX learned_examples_group ON learned_examples (text_key, unit);
    CREATE INDEX learned_examples_status ON learned_examples (status, created_ms);",
    // 4: whether an unanswered question was offered choices (the dashboard
    // splits answered, offered and declined), and reads by server and period.
    "ALTER TABLE questions ADD COLUMN offered INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX questions_guild_time ON questions (guild_id, time);",
    // 5: the dashboard looks up, for each unanswered question, a pick of its text.
    "CREATE INDEX learned_examples_text ON learned_examples (text, guild_id);",
];

/// How long opening waits for another connection switching to WAL, and how often it tries.
const WAL_SWITCH_WAIT: Duration = Duration::from_secs(2);
const WAL_RETRY: Duration = Duration::from_millis(10);

/// Opens the database, creating it (and its folder) when `create`.
pub(crate) fn open(path: &Path, create: bool) -> Result<Connection, StorageError> {
    let open_error = |source| StorageError::Open { place: place(path), source };
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|source| StorageError::Folder { path: path.to_path_buf(), source })?;
        }
    }
    let connection = Connection::open_with_flags(path, flags).map_err(open_error)?;
    connection.busy_timeout(Duration::from_secs(2)).map_err(open_error)?;
    // WAL lets `stats` read while the bot writes. Switching a new database to
    // WAL needs it alone, and a connection opening it at that moment is told
    // "busy" at once, without the busy timeout: it tries again briefly.
    let mut waited = Duration::ZERO;
    loop {
        match connection.pragma_update_and_check(None, "journal_mode", "wal", |row| row.get::<_, String>(0)) {
            Ok(_) => break,
            Err(rusqlite::Error::SqliteFailure(err, _))
                if err.code == rusqlite::ErrorCode::DatabaseBusy && waited < WAL_SWITCH_WAIT =>
            {
                std::thread::sleep(WAL_RETRY);
                waited += WAL_RETRY;
            }
            Err(err) => return Err(open_error(err)),
        }
    }
    connection.pragma_update(None, "synchronous", "NORMAL").map_err(open_error)?;
    Ok(connection)
}

/// Brings the schema up to `SCHEMA_VERSION`; a no-op when it already is.
/// Several connections may open the database at once (the writer, server
/// settings, `stats`): the version is read inside a write transaction, so
/// one migrates and the others, waiting for its lock, find the schema current.
pub(crate) fn migrate(connection: &mut Connection, path: &Path) -> Result<(), StorageError> {
    let failed = |source| StorageError::Open { place: place(path), source };
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed)?;
    let version: i64 = transaction.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(failed)?;
    let version = usize::try_from(version).unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(StorageError::TooNew { place: place(path), found: version });
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        transaction.execute_batch(sql).map_err(failed)?;
        transaction.pragma_update(None, "user_version", (index + 1) as i64).map_err(failed)?;
    }
    transaction.commit().map_err(failed)
}

/// Deletes rows older than `retention_days` before `now`, but decided
/// learned examples; 0 keeps everything.
pub(crate) fn prune(connection: &Connection, retention_days: u32, now: SystemTime) -> rusqlite::Result<usize> {
    if retention_days == 0 {
        return Ok(0);
    }
    let cutoff = ms_since_epoch(now) - i64::from(retention_days) * DAY.as_millis() as i64;
    let questions = connection.execute("DELETE FROM questions WHERE time < ?1", [cutoff])?;
    let votes = connection.execute("DELETE FROM votes WHERE time < ?1", [cutoff])?;
    let examples = connection.execute(examples::PRUNE, named_params! { "$1": cutoff })?;
    Ok(questions + votes + examples)
}

/// How errors name the database.
fn place(path: &Path) -> String {
    path.display().to_string()
}

fn query_error(path: &Path) -> impl Fn(rusqlite::Error) -> StorageError + '_ {
    move |source| StorageError::Query { place: place(path), source }
}

/// The writer's connection, opened on first use and dropped after a failure.
pub(super) struct Writer {
    path: PathBuf,
    max_pages: Option<u32>,
    /// `[storage] auto_approve`.
    auto_approve: Option<u32>,
    connection: Option<Connection>,
}

impl Writer {
    fn new(path: PathBuf, max_pages: Option<u32>, auto_approve: Option<u32>) -> Writer {
        Writer { path, max_pages, auto_approve, connection: None }
    }

    /// The same settings without a connection: what stands in while this
    /// one is on a blocking thread, and stays if that thread fails.
    fn unconnected(&self) -> Writer {
        Writer::new(self.path.clone(), self.max_pages, self.auto_approve)
    }

    /// Opens the database if needed, prunes rows older than `prune` days
    /// when given, then writes `pending` in batches, removing each batch
    /// once committed.
    fn write_blocking(
        &mut self,
        pending: &mut VecDeque<Record>,
        prune_days: Option<u32>,
        written: &AtomicU64,
    ) -> Result<(), StorageError> {
        if self.connection.is_none() {
            let mut connection = open(&self.path, true)?;
            if let Some(pages) = self.max_pages {
                connection
                    .pragma_update(None, "max_page_count", pages)
                    .map_err(|source| StorageError::Open { place: place(&self.path), source })?;
            }
            migrate(&mut connection, &self.path)?;
            self.connection = Some(connection);
        }
        let Some(connection) = self.connection.as_mut() else { return Ok(()) };
        if let Some(days) = prune_days {
            let deleted = prune(connection, days, SystemTime::now()).map_err(query_error(&self.path))?;
            if deleted > 0 {
                tracing::info!(deleted, retention_days = days, "question log: pruned old rows");
            }
        }
        while !pending.is_empty() {
            let count = pending.len().min(MAX_BATCH);
            insert(connection, pending.iter().take(count), self.auto_approve).map_err(query_error(&self.path))?;
            pending.drain(..count);
            written.fetch_add(count as u64, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Inserts `records` in one transaction, then approves the groups they
/// made reach `auto_approve` members.
fn insert<'a>(
    connection: &mut Connection,
    records: impl Iterator<Item = &'a Record>,
    auto_approve: Option<u32>,
) -> rusqlite::Result<()> {
    let transaction = connection.transaction()?;
    {
        let mut insert_question = transaction.prepare_cached(&format!(
            "INSERT INTO {QUESTION_COLUMNS} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ))?;
        let mut insert_vote =
            transaction.prepare_cached(&format!("INSERT INTO {VOTE_COLUMNS} VALUES (?1, ?2, ?3, ?4, ?5, ?6)"))?;
        let mut insert_example = transaction
            .prepare_cached(&format!("INSERT INTO {EXAMPLE_COLUMNS} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"))?;
        let mut groups = Vec::new();
        for record in records {
            match record {
                Record::Question { time, event, key } => {
                    let text = key.as_ref().map(|_| event.question.as_str());
                    insert_question.execute(params![
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
                        event.offered,
                    ])?;
                }
                Record::Vote { time, event } => {
                    insert_vote.execute(params![
                        time,
                        event.unit,
                        event.helpful,
                        event.guild_id.map(snowflake),
                        event.channel_id.map(snowflake),
                        snowflake(event.user_id),
                    ])?;
                }
                Record::Example { time, event, key } => {
                    insert_example.execute(params![
                        event.text,
                        key,
                        event.unit,
                        event.source.as_str(),
                        event.guild_id.map(snowflake),
                        event.channel_id.map(snowflake),
                        snowflake(event.user_id),
                        time,
                    ])?;
                    if event.source.is_positive() {
                        groups.push((key.as_str(), event.unit.as_str()));
                    }
                }
            }
        }
        if let Some(members) = auto_approve {
            let mut approve = transaction.prepare_cached(examples::AUTO_APPROVE)?;
            let now = now_ms();
            for (key, unit) in examples::touched(groups.into_iter()) {
                approve.execute(named_params! { "$1": key, "$2": unit, "$3": now, "$4": members })?;
            }
        }
    }
    transaction.commit()
}

/// Reads stats over the last `window` (all time when `None`) from the database at `path`.
/// Never creates a database: a missing file is an error that says so.
pub fn read_stats(path: &Path, window: Option<Duration>, text_logged: bool) -> Result<Stats, StorageError> {
    if !path.exists() {
        return Err(StorageError::Missing { path: path.to_path_buf() });
    }
    let mut connection = open(path, false)?;
    migrate(&mut connection, path)?;
    let since = report::since(window);
    let rows = query_rows(&connection, since).map_err(query_error(path))?;
    Ok(report::assemble(rows, window, text_logged))
}

fn query_rows(connection: &Connection, since: i64) -> rusqlite::Result<Rows> {
    let totals = connection.query_row(report::TOTALS, [since], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
    let list = |sql: &str| -> rusqlite::Result<Vec<report::Triple>> {
        let mut statement = connection.prepare(sql)?;
        let rows = statement.query_map([since], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        rows.collect()
    };
    let [a, b, c, d] = report::list_queries();
    Ok(Rows { totals, lists: [list(&a)?, list(&b)?, list(&c)?, list(&d)?] })
}

/// Every server's settings.
fn read_settings(path: &Path) -> Result<HashMap<u64, ServerSettings>, StorageError> {
    let mut connection = open(path, true)?;
    migrate(&mut connection, path)?;
    let query = query_error(path);
    let mut statement = connection.prepare(stored::SELECT_ALL).map_err(&query)?;
    let rows = statement.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))).map_err(&query)?;
    let mut all = HashMap::new();
    for row in rows {
        let (guild, json) = row.map_err(&query)?;
        if let Some(settings) = decode(guild, &json) {
            all.insert(guild as u64, settings);
        }
    }
    Ok(all)
}

/// Stores one server's settings, replacing its row.
fn write_settings(path: &Path, guild: u64, settings: &ServerSettings) -> Result<(), StorageError> {
    let mut connection = open(path, true)?;
    migrate(&mut connection, path)?;
    connection
        .execute(stored::UPSERT, params![snowflake(guild), encode(settings), now_ms()])
        .map_err(query_error(path))?;
    Ok(())
}

/// The database at `path`, opened (created when `create`) with the schema current.
fn ready(path: &Path, create: bool) -> Result<Connection, StorageError> {
    if !create && !path.exists() {
        return Err(StorageError::Missing { path: path.to_path_buf() });
    }
    let mut connection = open(path, create)?;
    migrate(&mut connection, path)?;
    Ok(connection)
}

/// Candidate groups waiting for a decision (`examples::pending_query`).
fn read_pending(path: &Path, guild: Option<u64>, limit: usize) -> Result<Vec<PendingExample>, StorageError> {
    let connection = ready(path, true)?;
    pending_rows(&connection, guild, limit).map_err(query_error(path))
}

fn pending_rows(connection: &Connection, guild: Option<u64>, limit: usize) -> rusqlite::Result<Vec<PendingExample>> {
    let mut statement = connection.prepare(&examples::pending_query(guild.is_some(), limit))?;
    let row_of = |row: &rusqlite::Row| {
        Ok(examples::pending_of((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get(5)?,
            row.get(6)?,
        )))
    };
    let rows = match guild {
        Some(guild) => statement.query_map(named_params! { "$1": snowflake(guild) }, row_of),
        None => statement.query_map([], row_of),
    }?;
    rows.collect()
}

/// Writes an admin's decision on a group; returns the rows changed.
fn decide(path: &Path, decision: &Decision) -> Result<usize, StorageError> {
    let connection = ready(path, true)?;
    let Decision { id, status, by, at } = decision;
    connection
        .execute(examples::DECIDE, named_params! { "$1": status, "$2": by, "$3": at, "$4": id })
        .map_err(query_error(path))
}

/// Every approved example; with `create` false a missing file is `Missing`, not created.
fn read_approved(path: &Path, create: bool) -> Result<Vec<LearnedExample>, StorageError> {
    let connection = ready(path, create)?;
    let query = query_error(path);
    let mut statement = connection.prepare(examples::APPROVED).map_err(&query)?;
    let rows =
        statement.query_map([], |row| Ok(LearnedExample { unit: row.get(0)?, text: row.get(1)? })).map_err(&query)?;
    Ok(examples::sorted(rows.collect::<rusqlite::Result<_>>().map_err(&query)?))
}

/// The dashboard's rows (`board`), read in one transaction from a
/// connection that can only read: the dashboard never creates, migrates or
/// writes the database. A missing file is `Missing`; another schema version
/// is `TooNew` or `TooOld`.
fn read_board(path: &Path, query: &BoardQuery) -> Result<BoardRows, StorageError> {
    if !path.exists() {
        return Err(StorageError::Missing { path: path.to_path_buf() });
    }
    let read_only = |source| StorageError::ReadOnly { place: place(path), source };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let mut connection = Connection::open_with_flags(path, flags).map_err(read_only)?;
    connection.busy_timeout(Duration::from_secs(2)).map_err(read_only)?;
    // One snapshot for the version and every list, so they agree with each other.
    let transaction = connection.transaction().map_err(read_only)?;
    let version: i64 = transaction.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(read_only)?;
    super::check_version(usize::try_from(version).unwrap_or(0), &place(path))?;
    board_rows(&transaction, query).map_err(query_error(path))
}

fn board_rows(connection: &Connection, query: &BoardQuery) -> rusqlite::Result<BoardRows> {
    let scope = named_params! { "$1": query.since_ms, "$2": query.guild.map(snowflake) };
    let sum =
        |row: &rusqlite::Row, i: usize| -> rusqlite::Result<i64> { Ok(row.get::<_, Option<i64>>(i)?.unwrap_or(0)) };
    let days =
        all(connection, &board::days_query(), scope, |row| Ok((row.get(0)?, row.get(1)?, sum(row, 2)?, sum(row, 3)?)))?;
    let vote_days =
        all(connection, &board::vote_days_query(), scope, |row| Ok((row.get(0)?, sum(row, 1)?, sum(row, 2)?)))?;
    let gaps = all(connection, &board::gaps_query(), scope, |row| Ok((row.get(0)?, row.get(1)?, sum(row, 2)?)))?;
    let unit_votes =
        all(connection, &board::unit_votes_query(), scope, |row| Ok((row.get(0)?, sum(row, 1)?, sum(row, 2)?)))?;
    let used_units = all(connection, &board::used_units_query(), scope, |row| row.get(0))?;
    let buckets = query.latency_bounds_us.len() + 1;
    let latency = connection.query_row(&board::latency_query(&query.latency_bounds_us), scope, |row| {
        (0..buckets).map(|i| row.get::<_, i64>(i)).collect::<rusqlite::Result<Vec<i64>>>()
    })?;
    let servers = all(connection, &board::servers_query(), [], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let pending = pending_rows(connection, query.guild, board::PENDING)?;
    Ok(BoardRows { days, vote_days, gaps, unit_votes, used_units, latency, servers, pending })
}

/// Every row of `sql`, each made by `row`.
fn all<T>(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    row: impl FnMut(&rusqlite::Row) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    connection.prepare(sql)?.query_map(params, row)?.collect()
}

/// The SQLite backend: the database's path. Each query opens its own
/// connection, so readers never wait for the writer's.
pub(super) struct Sqlite {
    path: PathBuf,
}

impl Sqlite {
    pub(super) fn new(path: PathBuf) -> Sqlite {
        Sqlite { path }
    }

    /// Runs `query` on a blocking thread: SQLite's calls block, and the
    /// async threads must stay free for answers.
    fn blocking<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Path) -> Result<T, StorageError> + Send + 'static,
    ) -> Answer<'static, T> {
        let path = self.path.clone();
        Box::pin(
            async move { tokio::task::spawn_blocking(move || query(&path)).await.map_err(|_| StorageError::Stopped)? },
        )
    }
}

impl Backend for Sqlite {
    fn place(&self) -> String {
        place(&self.path)
    }

    fn writer(&self, max_pages: Option<u32>, auto_approve: Option<u32>) -> Box<dyn BatchWriter> {
        Box::new(Writer::new(self.path.clone(), max_pages, auto_approve))
    }

    fn stats(&self, window: Option<Duration>, text_logged: bool) -> Answer<'_, Stats> {
        self.blocking(move |path| read_stats(path, window, text_logged))
    }

    fn board(&self, query: BoardQuery) -> Answer<'_, BoardRows> {
        self.blocking(move |path| read_board(path, &query))
    }

    fn approved_examples(&self, create: bool) -> Answer<'_, Vec<LearnedExample>> {
        self.blocking(move |path| read_approved(path, create))
    }

    fn pending_examples(&self, guild: Option<u64>, limit: usize) -> Answer<'_, Vec<PendingExample>> {
        self.blocking(move |path| read_pending(path, guild, limit))
    }

    fn decide(&self, decision: Decision) -> Answer<'_, usize> {
        self.blocking(move |path| decide(path, &decision))
    }

    fn server_settings(&self) -> Answer<'_, HashMap<u64, ServerSettings>> {
        self.blocking(read_settings)
    }

    fn server_settings_of(&self, guild: u64) -> Answer<'_, Option<ServerSettings>> {
        self.blocking(move |path| Ok(read_settings(path)?.remove(&guild)))
    }

    fn save_server_settings(&self, guild: u64, settings: ServerSettings) -> Answer<'_, ()> {
        self.blocking(move |path| write_settings(path, guild, &settings))
    }
}

impl BatchWriter for Writer {
    fn connected(&self) -> bool {
        self.connection.is_some()
    }

    fn disconnect(&mut self) {
        self.connection = None;
    }

    /// `write_blocking` on a blocking thread: the connection and the rows
    /// move there and back, an unconnected copy standing in meanwhile.
    fn write<'a>(
        &'a mut self,
        pending: &'a mut VecDeque<Record>,
        prune_days: Option<u32>,
        counters: &'a Arc<Counters>,
    ) -> Answer<'a, ()> {
        Box::pin(async move {
            let spare = self.unconnected();
            let mut writer = std::mem::replace(self, spare);
            let mut rows = std::mem::take(pending);
            let counters = counters.clone();
            let work = move || {
                let result = writer.write_blocking(&mut rows, prune_days, &counters.written);
                (writer, rows, result)
            };
            match tokio::task::spawn_blocking(work).await {
                Ok((writer, rows, result)) => {
                    *self = writer;
                    *pending = rows;
                    result
                }
                Err(err) => {
                    // Only a bug gets here; the rows it held are lost, and counted.
                    tracing::error!(error = %err, "question log writer failed; starting a new connection");
                    Err(StorageError::Stopped)
                }
            }
        })
    }
}
