//! The question log's schema: opening the SQLite file, versioned
//! migrations (`PRAGMA user_version`), and pruning old rows.

use std::path::Path;
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::{ms_since_epoch, StorageError, DAY, SCHEMA_VERSION};

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
];

/// How long opening waits for another connection switching to WAL, and how often it tries.
const WAL_SWITCH_WAIT: Duration = Duration::from_secs(2);
const WAL_RETRY: Duration = Duration::from_millis(10);

/// Opens the database, creating it (and its folder) when `create`.
pub(crate) fn open(path: &Path, create: bool) -> Result<Connection, StorageError> {
    let open_error = |source| StorageError::Open { path: path.to_path_buf(), source };
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
    let failed = |source| StorageError::Open { path: path.to_path_buf(), source };
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed)?;
    let version: i64 = transaction.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(failed)?;
    let version = usize::try_from(version).unwrap_or(0);
    if version > SCHEMA_VERSION {
        return Err(StorageError::TooNew { path: path.to_path_buf(), found: version });
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

/// Deletes rows older than `retention_days` before `now`; 0 keeps everything.
pub(crate) fn prune(connection: &Connection, retention_days: u32, now: SystemTime) -> rusqlite::Result<usize> {
    if retention_days == 0 {
        return Ok(0);
    }
    let cutoff = ms_since_epoch(now) - i64::from(retention_days) * DAY.as_millis() as i64;
    let questions = connection.execute("DELETE FROM questions WHERE time < ?1", [cutoff])?;
    let votes = connection.execute("DELETE FROM votes WHERE time < ?1", [cutoff])?;
    Ok(questions + votes)
}
