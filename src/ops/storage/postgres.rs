//! The PostgreSQL backend, for a fleet of processes sharing one database:
//! a small connection pool, the same migrations as SQLite (versioned in a
//! one-row table, run under an advisory lock so processes starting together
//! take turns), batched writes, pruning, and the stats, settings and
//! learned-example queries.
//!
//! Connections are made lazily: a database that is down when the bot starts
//! costs log lines and counts, never the start. A connection the server
//! dropped is replaced on the next use.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Client, NoTls, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::backend::{Answer, Backend, BatchWriter, EXAMPLE_COLUMNS, QUESTION_COLUMNS, VOTE_COLUMNS};
use super::board::{self, BoardQuery, BoardRows};
use super::examples::{self, Decision, LearnedExample, PendingExample};
use super::report::{self, Rows};
use super::settings::{self as stored, decode, encode};
use super::{ms_since_epoch, now_ms, snowflake, Counters, Record, StorageError, DAY, MAX_BATCH, SCHEMA_VERSION};
use crate::config::{DatabaseUrl, ServerSettings};
use crate::ops::events::{ExampleEvent, QuestionEvent, VoteEvent};
use crate::ops::stats::Stats;

/// The schema, as `sqlite::MIGRATIONS` (same tables, columns and meaning) in PostgreSQL's types.
pub(crate) const MIGRATIONS: &[&str] = &[
    "CREATE TABLE questions (
        id BIGSERIAL PRIMARY KEY,
        time BIGINT NOT NULL,
        surface TEXT NOT NULL,
        question TEXT,
        question_key TEXT,
        guild_id BIGINT,
        channel_id BIGINT,
        answered INTEGER NOT NULL,
        top_unit TEXT,
        score DOUBLE PRECISION NOT NULL,
        latency_us BIGINT NOT NULL
    );
    CREATE INDEX questions_time ON questions (time);
    CREATE TABLE votes (
        id BIGSERIAL PRIMARY KEY,
        time BIGINT NOT NULL,
        unit TEXT NOT NULL,
        helpful INTEGER NOT NULL,
        guild_id BIGINT,
        channel_id BIGINT,
        user_id BIGINT NOT NULL
    );
    CREATE INDEX votes_time ON votes (time);",
    "CREATE TABLE server_settings (
        guild_id BIGINT PRIMARY KEY,
        settings TEXT NOT NULL,
        updated BIGINT NOT NULL
    );",
    "CREATE TABLE learned_examples (
        id BIGSERIAL PRIMARY KEY,
        text TEXT NOT NULL,
        text_key TEXT NOT NULL,
        unit TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('pick', 'upvote', 'downvote')),
        guild_id BIGINT,
        channel_id BIGINT,
        user_id BIGINT NOT NULL,
        created_ms BIGINT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
        decided_by BIGINT,
        decided_ms BIGINT
    );
    CREATE INDEX learned_examples_group ON learned_examples (text_key, unit);
    CREATE INDEX learned_examples_status ON learned_examples (status, created_ms);",
    "ALTER TABLE questions ADD COLUMN offered INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX questions_guild_time ON questions (guild_id, time);",
    "CREATE INDEX learned_examples_text ON learned_examples (text, guild_id);",
];

/// The channel fleet messages travel on (`LISTEN`/`NOTIFY`).
pub(crate) const CHANNEL: &str = "transition_bot";

/// What processes tell each other on `CHANNEL`, as JSON (well within
/// PostgreSQL's 8,000-byte payload). Ids are strings: JSON numbers lose
/// Discord ids' low digits in other tools.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Notice {
    /// A server's settings changed: reload its row.
    Settings { guild: String },
    /// Rebuild the knowledge index and answer with `Reindexed`.
    Reindex { request: String, from: String },
    /// One process's outcome of `request`: a title and a few lines.
    Reindexed { request: String, process: String, ok: bool, title: String, detail: String },
    /// Learned examples were approved (by an admin or `auto_approve`): read
    /// the approved examples again and rebuild with them.
    Learned {},
}

impl Notice {
    pub(crate) fn to_payload(&self) -> String {
        // A plain enum of strings always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Any fixed number: the advisory lock that makes migrations take turns.
const MIGRATION_LOCK: i64 = 0x7472_616e_7369_7431;

/// How long a caller waits for a pooled connection, or for a new one.
const POOL_WAIT: Duration = Duration::from_secs(5);

/// One shared database: a pool for queries and writes, and the settings for
/// a connection of one's own (the fleet's listener).
#[derive(Clone)]
pub(crate) struct Database {
    pool: Pool,
    config: std::sync::Arc<tokio_postgres::Config>,
    place: String,
    /// TLS for every connection, when the URL says `sslmode=require`.
    tls: Option<MakeRustlsConnect>,
    /// The schema was found current: once per process is enough.
    migrated: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Database {
    /// Prepares the pool; connects nothing yet. `ca_file` is read now, so a
    /// missing certificate file stops the start with its name.
    pub(crate) fn new(url: &DatabaseUrl, ca_file: Option<&Path>) -> Result<Database, StorageError> {
        let mut config = url.parse().map_err(|message| StorageError::Config { message })?;
        if config.get_password().is_none() {
            if let Ok(password) = std::env::var("PGPASSWORD") {
                config.password(password);
            }
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(POOL_WAIT);
        }
        config.application_name("transition-bot");
        let place = describe(&config);
        // libpq's "prefer" takes TLS without checking the certificate; rather
        // than that, TLS is used (and checked) exactly when required.
        let tls = match config.get_ssl_mode() {
            SslMode::Require => Some(tls_connector(ca_file)?),
            _ => None,
        };
        let manager_config = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = match &tls {
            Some(tls) => Manager::from_config(config.clone(), tls.clone(), manager_config),
            None => Manager::from_config(config.clone(), NoTls, manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(4)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|err| StorageError::Config { message: err.to_string() })?;
        Ok(Database { pool, config: config.into(), place, tls, migrated: Default::default() })
    }

    /// `postgres://host:port/database`, without user or password, for logs and errors.
    pub(crate) fn place(&self) -> &str {
        &self.place
    }

    /// A connection of its own outside the pool, named `application_name`,
    /// with every notification it receives sent to `notices` while it lasts.
    /// Returns the client and a task that ends, saying why, with the connection.
    pub(crate) async fn listener(
        &self,
        application_name: &str,
        notices: tokio::sync::mpsc::UnboundedSender<String>,
    ) -> Result<(Client, tokio::task::JoinHandle<String>), String> {
        let mut config = (*self.config).clone();
        config.application_name(application_name);
        config.keepalives_idle(Duration::from_secs(30));
        match &self.tls {
            Some(tls) => {
                let (client, connection) = config.connect(tls.clone()).await.map_err(|err| error_text(&err))?;
                Ok((client, tokio::spawn(deliver(connection, notices))))
            }
            None => {
                let (client, connection) = config.connect(NoTls).await.map_err(|err| error_text(&err))?;
                Ok((client, tokio::spawn(deliver(connection, notices))))
            }
        }
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Client, StorageError> {
        self.pool
            .get()
            .await
            .map_err(|err| StorageError::Postgres { place: self.place.clone(), message: err.to_string() })
    }

    pub(crate) fn error(&self) -> impl Fn(tokio_postgres::Error) -> StorageError + '_ {
        move |err| StorageError::Postgres { place: self.place.clone(), message: error_text(&err) }
    }

    /// A pooled connection with the schema current.
    async fn ready(&self) -> Result<deadpool_postgres::Client, StorageError> {
        let mut client = self.client().await?;
        if !self.migrated.load(Ordering::Relaxed) {
            migrate(self, &mut client).await?;
            self.migrated.store(true, Ordering::Relaxed);
        }
        Ok(client)
    }

    /// Sends `notice` to every process listening on `CHANNEL`.
    pub(crate) async fn notify(&self, notice: &Notice) -> Result<(), StorageError> {
        let client = self.client().await?;
        let payload = notice.to_payload();
        client.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload]).await.map_err(self.error())?;
        Ok(())
    }
}

/// Polls `connection` (it delivers notifications only while polled) until it ends.
async fn deliver<T>(
    mut connection: tokio_postgres::Connection<Socket, T>,
    notices: tokio::sync::mpsc::UnboundedSender<String>,
) -> String
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            Some(Ok(AsyncMessage::Notification(notification))) => {
                let _ = notices.send(notification.payload().to_string());
            }
            Some(Ok(_)) => {}
            Some(Err(err)) => return error_text(&err),
            None => return "the database closed the connection".to_string(),
        }
    }
}

/// Rustls with the certificates of `ca_file`, or Mozilla's roots.
fn tls_connector(ca_file: Option<&Path>) -> Result<MakeRustlsConnect, StorageError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let failed = |message: String| StorageError::Config { message };
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certificates = CertificateDer::pem_file_iter(path)
                .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
                .map_err(|err| failed(format!("storage.ca_file {}: {err}", path.display())))?;
            let (added, _) = roots.add_parsable_certificates(certificates);
            if added == 0 {
                return Err(failed(format!("storage.ca_file {} holds no certificate", path.display())));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| failed(format!("TLS: {err}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The server's message as well as the client's, which alone says only "db error".
pub(crate) fn error_text(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{err}: {}", db.message()),
        None => err.to_string(),
    }
}

fn describe(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("postgres://{host}:{port}/{}", config.get_dbname().unwrap_or(""))
}

/// Brings the schema up to `SCHEMA_VERSION`; a no-op when it already is.
async fn migrate(database: &Database, client: &mut deadpool_postgres::Client) -> Result<(), StorageError> {
    let failed = database.error();
    let transaction = client.transaction().await.map_err(&failed)?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.map_err(&failed)?;
    transaction
        .batch_execute("CREATE TABLE IF NOT EXISTS transition_bot_schema (version INTEGER NOT NULL)")
        .await
        .map_err(&failed)?;
    let row = transaction.query_opt("SELECT version FROM transition_bot_schema", &[]).await.map_err(&failed)?;
    let version = match row {
        Some(row) => usize::try_from(row.get::<_, i32>(0)).unwrap_or(0),
        None => {
            transaction.execute("INSERT INTO transition_bot_schema VALUES (0)", &[]).await.map_err(&failed)?;
            0
        }
    };
    if version > SCHEMA_VERSION {
        return Err(StorageError::TooNew { place: database.place.clone(), found: version });
    }
    for sql in MIGRATIONS.iter().skip(version) {
        transaction.batch_execute(sql).await.map_err(&failed)?;
    }
    if version < SCHEMA_VERSION {
        let version = SCHEMA_VERSION as i32;
        transaction.execute("UPDATE transition_bot_schema SET version = $1", &[&version]).await.map_err(&failed)?;
    }
    transaction.commit().await.map_err(&failed)
}

/// The writer's side of the pool.
struct Writer {
    database: Database,
    /// `[storage] auto_approve`.
    auto_approve: Option<u32>,
    /// Last outcome: false after a failure until a write succeeds (for backoff).
    healthy: bool,
}

impl BatchWriter for Writer {
    fn connected(&self) -> bool {
        self.healthy
    }

    fn disconnect(&mut self) {
        self.healthy = false;
    }

    fn write<'a>(
        &'a mut self,
        pending: &'a mut VecDeque<Record>,
        prune_days: Option<u32>,
        counters: &'a Arc<Counters>,
    ) -> Answer<'a, ()> {
        Box::pin(async move {
            let mut client = self.database.ready().await?;
            let failed = self.database.error();
            if let Some(days) = prune_days.filter(|days| *days > 0) {
                prune(&client, days).await.map_err(&failed)?;
            }
            while !pending.is_empty() {
                let count = pending.len().min(MAX_BATCH);
                insert(&mut client, pending.iter().take(count), self.auto_approve).await.map_err(&failed)?;
                pending.drain(..count);
                counters.written.fetch_add(count as u64, Ordering::Relaxed);
            }
            self.healthy = true;
            Ok(())
        })
    }
}

/// Deletes rows older than `days` days, but decided learned examples.
async fn prune(client: &deadpool_postgres::Client, days: u32) -> Result<(), tokio_postgres::Error> {
    let cutoff = ms_since_epoch(SystemTime::now()) - i64::from(days) * DAY.as_millis() as i64;
    let questions = client.execute("DELETE FROM questions WHERE time < $1", &[&cutoff]).await?;
    let votes = client.execute("DELETE FROM votes WHERE time < $1", &[&cutoff]).await?;
    let examples = client.execute(examples::PRUNE, &[&cutoff]).await?;
    let deleted = questions + votes + examples;
    if deleted > 0 {
        tracing::info!(deleted, retention_days = days, "question log: pruned old rows");
    }
    Ok(())
}

/// Inserts `records` with one statement per table, whole arrays at a time
/// (`UNNEST`), so a batch costs a round trip per table rather than one per
/// row; then approves the groups they made reach `auto_approve` members.
/// One transaction: a batch that fails is retried whole, so a part written
/// before the failure must not stay (it would be written twice).
async fn insert<'a>(
    client: &mut deadpool_postgres::Client,
    records: impl Iterator<Item = &'a Record>,
    auto_approve: Option<u32>,
) -> Result<(), tokio_postgres::Error> {
    let mut questions = QuestionColumns::default();
    let mut votes = VoteColumns::default();
    let mut examples = ExampleColumns::default();
    for record in records {
        match record {
            Record::Question { time, event, key } => questions.push(*time, event, key.as_deref()),
            Record::Vote { time, event } => votes.push(*time, event),
            Record::Example { time, event, key } => examples.push(*time, event, key),
        }
    }
    let transaction = client.transaction().await?;
    questions.insert(&transaction).await?;
    votes.insert(&transaction).await?;
    examples.insert(&transaction).await?;
    if let Some(members) = auto_approve {
        approve(&transaction, examples::touched(examples.groups.into_iter()), members).await?;
    }
    transaction.commit().await
}

/// Approves each of `groups` that `members` distinct members reached, and
/// tells the fleet when one was.
async fn approve(
    transaction: &deadpool_postgres::Transaction<'_>,
    groups: Vec<(&str, &str)>,
    members: u32,
) -> Result<(), tokio_postgres::Error> {
    if groups.is_empty() {
        return Ok(());
    }
    let members = i64::from(members);
    let statement = transaction.prepare_cached(examples::AUTO_APPROVE).await?;
    let now = now_ms();
    let mut approved = 0;
    for (key, unit) in groups {
        approved += transaction.execute(&statement, &[&key, &unit, &now, &members]).await?;
    }
    if approved > 0 {
        transaction.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &Notice::Learned {}.to_payload()]).await?;
    }
    Ok(())
}

/// A batch's questions, one array per column of `QUESTION_COLUMNS`.
#[derive(Default)]
struct QuestionColumns<'a> {
    time: Vec<i64>,
    surface: Vec<&'a str>,
    question: Vec<Option<&'a str>>,
    key: Vec<Option<&'a str>>,
    guild: Vec<Option<i64>>,
    channel: Vec<Option<i64>>,
    answered: Vec<i32>,
    top_unit: Vec<Option<&'a str>>,
    score: Vec<f64>,
    latency: Vec<i64>,
    offered: Vec<i32>,
}

impl<'a> QuestionColumns<'a> {
    /// The text is kept only with its key: both are `None` without text logging.
    fn push(&mut self, time: i64, event: &'a QuestionEvent, key: Option<&'a str>) {
        self.time.push(time);
        self.surface.push(event.surface.as_str());
        self.question.push(key.map(|_| event.question.as_str()));
        self.key.push(key);
        self.guild.push(event.guild_id.map(snowflake));
        self.channel.push(event.channel_id.map(snowflake));
        self.answered.push(i32::from(event.answered));
        self.top_unit.push(event.top_unit.as_deref());
        self.score.push(f64::from(event.score));
        self.latency.push(i64::try_from(event.latency.as_micros()).unwrap_or(i64::MAX));
        self.offered.push(i32::from(event.offered));
    }

    async fn insert(&self, transaction: &deadpool_postgres::Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        if self.time.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO {QUESTION_COLUMNS}
             SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], $6::BIGINT[],
                                  $7::INTEGER[], $8::TEXT[], $9::DOUBLE PRECISION[], $10::BIGINT[], $11::INTEGER[])"
        );
        let statement = transaction.prepare_cached(&sql).await?;
        let columns: [&(dyn ToSql + Sync); 11] = [
            &self.time,
            &self.surface,
            &self.question,
            &self.key,
            &self.guild,
            &self.channel,
            &self.answered,
            &self.top_unit,
            &self.score,
            &self.latency,
            &self.offered,
        ];
        transaction.execute(&statement, &columns).await.map(drop)
    }
}

/// A batch's votes, one array per column of `VOTE_COLUMNS`.
#[derive(Default)]
struct VoteColumns<'a> {
    time: Vec<i64>,
    unit: Vec<&'a str>,
    helpful: Vec<i32>,
    guild: Vec<Option<i64>>,
    channel: Vec<Option<i64>>,
    user: Vec<i64>,
}

impl<'a> VoteColumns<'a> {
    fn push(&mut self, time: i64, event: &'a VoteEvent) {
        self.time.push(time);
        self.unit.push(event.unit.as_str());
        self.helpful.push(i32::from(event.helpful));
        self.guild.push(event.guild_id.map(snowflake));
        self.channel.push(event.channel_id.map(snowflake));
        self.user.push(snowflake(event.user_id));
    }

    async fn insert(&self, transaction: &deadpool_postgres::Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        if self.time.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO {VOTE_COLUMNS}
             SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::INTEGER[], $4::BIGINT[], $5::BIGINT[], $6::BIGINT[])"
        );
        let statement = transaction.prepare_cached(&sql).await?;
        let columns: [&(dyn ToSql + Sync); 6] =
            [&self.time, &self.unit, &self.helpful, &self.guild, &self.channel, &self.user];
        transaction.execute(&statement, &columns).await.map(drop)
    }
}

/// A batch's learned examples, one array per column of `EXAMPLE_COLUMNS`.
#[derive(Default)]
struct ExampleColumns<'a> {
    text: Vec<&'a str>,
    key: Vec<&'a str>,
    unit: Vec<&'a str>,
    source: Vec<&'a str>,
    guild: Vec<Option<i64>>,
    channel: Vec<Option<i64>>,
    user: Vec<i64>,
    time: Vec<i64>,
    /// The positive groups (text key, unit), for `examples::AUTO_APPROVE`.
    groups: Vec<(&'a str, &'a str)>,
}

impl<'a> ExampleColumns<'a> {
    fn push(&mut self, time: i64, event: &'a ExampleEvent, key: &'a str) {
        self.text.push(event.text.as_str());
        self.key.push(key);
        self.unit.push(event.unit.as_str());
        self.source.push(event.source.as_str());
        self.guild.push(event.guild_id.map(snowflake));
        self.channel.push(event.channel_id.map(snowflake));
        self.user.push(snowflake(event.user_id));
        self.time.push(time);
        if event.source.is_positive() {
            self.groups.push((key, event.unit.as_str()));
        }
    }

    async fn insert(&self, transaction: &deadpool_postgres::Transaction<'_>) -> Result<(), tokio_postgres::Error> {
        if self.time.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO {EXAMPLE_COLUMNS}
             SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], $6::BIGINT[],
                                  $7::BIGINT[], $8::BIGINT[])"
        );
        let statement = transaction.prepare_cached(&sql).await?;
        let columns: [&(dyn ToSql + Sync); 8] =
            [&self.text, &self.key, &self.unit, &self.source, &self.guild, &self.channel, &self.user, &self.time];
        transaction.execute(&statement, &columns).await.map(drop)
    }
}

/// Stats over the last `window`, for the whole fleet.
async fn read_stats(database: &Database, window: Option<Duration>, text_logged: bool) -> Result<Stats, StorageError> {
    let client = database.ready().await?;
    let failed = database.error();
    let since = report::since(window);
    let row = client.query_one(report::TOTALS, &[&since]).await.map_err(&failed)?;
    let totals = (row.get(0), row.get(1), row.get(2));
    let mut lists: [Vec<report::Triple>; 4] = Default::default();
    for (sql, list) in report::list_queries().iter().zip(lists.iter_mut()) {
        let rows = client.query(sql.as_str(), &[&since]).await.map_err(&failed)?;
        *list = rows.iter().map(|row| (row.get(0), row.get(1), row.get(2))).collect();
    }
    Ok(report::assemble(Rows { totals, lists }, window, text_logged))
}

/// Every server's settings.
async fn read_settings(database: &Database) -> Result<HashMap<u64, ServerSettings>, StorageError> {
    let client = database.ready().await?;
    let rows = client.query(stored::SELECT_ALL, &[]).await.map_err(database.error())?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let guild: i64 = row.get(0);
            decode(guild, row.get(1)).map(|settings| (guild as u64, settings))
        })
        .collect())
}

/// One server's settings; `None` when it has none stored (or they do not parse).
async fn read_settings_of(database: &Database, guild: u64) -> Result<Option<ServerSettings>, StorageError> {
    let client = database.ready().await?;
    let row = client.query_opt(stored::SELECT_ONE, &[&snowflake(guild)]).await.map_err(database.error())?;
    Ok(row.and_then(|row| decode(snowflake(guild), row.get(0))))
}

/// Stores one server's settings and tells the fleet, in one transaction:
/// every process (this one too) reloads that server's row.
async fn write_settings(database: &Database, guild: u64, settings: &ServerSettings) -> Result<(), StorageError> {
    let mut client = database.ready().await?;
    let failed = database.error();
    let transaction = client.transaction().await.map_err(&failed)?;
    transaction.execute(stored::UPSERT, &[&snowflake(guild), &encode(settings), &now_ms()]).await.map_err(&failed)?;
    let payload = Notice::Settings { guild: guild.to_string() }.to_payload();
    transaction.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload]).await.map_err(&failed)?;
    transaction.commit().await.map_err(&failed)
}

/// Candidate groups waiting for a decision, the whole fleet's (`examples::pending_query`).
async fn read_pending(
    database: &Database,
    guild: Option<u64>,
    limit: usize,
) -> Result<Vec<PendingExample>, StorageError> {
    let client = database.ready().await?;
    pending_rows(&client, guild, limit).await.map_err(database.error())
}

async fn pending_rows(
    client: &impl deadpool_postgres::GenericClient,
    guild: Option<u64>,
    limit: usize,
) -> Result<Vec<PendingExample>, tokio_postgres::Error> {
    let sql = examples::pending_query(guild.is_some(), limit);
    let guild = guild.map(snowflake);
    let rows = match &guild {
        Some(guild) => client.query(sql.as_str(), &[guild]).await,
        None => client.query(sql.as_str(), &[]).await,
    }?;
    Ok(rows
        .iter()
        .map(|row| {
            examples::pending_of((row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5), row.get(6)))
        })
        .collect())
}

/// Records an admin's decision on a group, returning the rows changed; an approval tells the fleet in the same
/// transaction, so every process (this one too) learns it.
async fn decide(database: &Database, decision: &Decision) -> Result<usize, StorageError> {
    let mut client = database.ready().await?;
    let failed = database.error();
    let transaction = client.transaction().await.map_err(&failed)?;
    let Decision { id, status, by, at } = decision;
    let changed = transaction.execute(examples::DECIDE, &[status, by, at, id]).await.map_err(&failed)?;
    if changed > 0 && *status == examples::status(true) {
        let payload = Notice::Learned {}.to_payload();
        transaction.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload]).await.map_err(&failed)?;
    }
    transaction.commit().await.map_err(&failed)?;
    Ok(changed as usize)
}

/// Every approved example of the fleet.
async fn read_approved(database: &Database) -> Result<Vec<LearnedExample>, StorageError> {
    let client = database.ready().await?;
    let rows = client.query(examples::APPROVED, &[]).await.map_err(database.error())?;
    Ok(examples::sorted(rows.iter().map(|row| LearnedExample { unit: row.get(0), text: row.get(1) }).collect()))
}

/// The dashboard's rows (`board`), the whole fleet's, in one read-only
/// repeatable-read transaction; it never migrates: another schema version
/// is `TooNew` or `TooOld`.
async fn read_board(database: &Database, query: &BoardQuery) -> Result<BoardRows, StorageError> {
    let mut client = database.client().await?;
    let failed = database.error();
    let transaction = client
        .build_transaction()
        .read_only(true)
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .start()
        .await
        .map_err(&failed)?;
    // No schema table yet: nothing was ever migrated here.
    let version = match transaction.query_opt("SELECT version FROM transition_bot_schema", &[]).await {
        Ok(row) => row.map(|row| row.get::<_, i32>(0)).unwrap_or(0),
        Err(err) if err.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => 0,
        Err(err) => return Err(failed(err)),
    };
    super::check_version(usize::try_from(version).unwrap_or(0), database.place())?;
    let guild = query.guild.map(snowflake);
    let scope: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&query.since_ms, &guild];
    let sum = |row: &tokio_postgres::Row, i: usize| row.get::<_, Option<i64>>(i).unwrap_or(0);
    let rows = |sql: String| {
        let transaction = &transaction;
        let failed = &failed;
        async move { transaction.query(sql.as_str(), &scope).await.map_err(failed) }
    };
    let days = rows(board::days_query()).await?;
    let days = days.iter().map(|row| (row.get(0), row.get(1), sum(row, 2), sum(row, 3))).collect();
    let votes = rows(board::vote_days_query()).await?;
    let vote_days = votes.iter().map(|row| (row.get(0), sum(row, 1), sum(row, 2))).collect();
    let gaps = rows(board::gaps_query()).await?;
    let gaps = gaps.iter().map(|row| (row.get(0), row.get(1), sum(row, 2))).collect();
    let units = rows(board::unit_votes_query()).await?;
    let unit_votes = units.iter().map(|row| (row.get(0), sum(row, 1), sum(row, 2))).collect();
    let used = rows(board::used_units_query()).await?;
    let used_units = used.iter().map(|row| row.get(0)).collect();
    let latency = rows(board::latency_query(&query.latency_bounds_us)).await?;
    let latency = (0..=query.latency_bounds_us.len()).map(|i| latency.first().map_or(0, |row| sum(row, i))).collect();
    let servers = transaction.query(board::servers_query().as_str(), &[]).await.map_err(&failed)?;
    let servers = servers.iter().map(|row| (row.get(0), row.get(1))).collect();
    let pending = pending_rows(&transaction, query.guild, board::PENDING).await.map_err(&failed)?;
    transaction.commit().await.map_err(&failed)?;
    Ok(BoardRows { days, vote_days, gaps, unit_votes, used_units, latency, servers, pending })
}

impl Backend for Database {
    fn place(&self) -> String {
        self.place.clone()
    }

    fn postgres(&self) -> Option<&Database> {
        Some(self)
    }

    fn writer(&self, _max_pages: Option<u32>, auto_approve: Option<u32>) -> Box<dyn BatchWriter> {
        Box::new(Writer { database: self.clone(), auto_approve, healthy: false })
    }

    fn stats(&self, window: Option<Duration>, text_logged: bool) -> Answer<'_, Stats> {
        Box::pin(read_stats(self, window, text_logged))
    }

    fn board(&self, query: BoardQuery) -> Answer<'_, BoardRows> {
        Box::pin(async move { read_board(self, &query).await })
    }

    fn approved_examples(&self, _create: bool) -> Answer<'_, Vec<LearnedExample>> {
        Box::pin(read_approved(self))
    }

    fn pending_examples(&self, guild: Option<u64>, limit: usize) -> Answer<'_, Vec<PendingExample>> {
        Box::pin(read_pending(self, guild, limit))
    }

    fn decide(&self, decision: Decision) -> Answer<'_, usize> {
        Box::pin(async move { decide(self, &decision).await })
    }

    fn server_settings(&self) -> Answer<'_, HashMap<u64, ServerSettings>> {
        Box::pin(read_settings(self))
    }

    fn server_settings_of(&self, guild: u64) -> Answer<'_, Option<ServerSettings>> {
        Box::pin(read_settings_of(self, guild))
    }

    fn save_server_settings(&self, guild: u64, settings: ServerSettings) -> Answer<'_, ()> {
        Box::pin(async move { write_settings(self, guild, &settings).await })
    }
}
