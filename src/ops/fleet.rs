//! A fleet: several `serve` processes (each with its own shards) sharing one
//! PostgreSQL database, behaving as one bot.
//!
//! Each process keeps one connection of its own that `LISTEN`s on the
//! database's channel, named `transition-bot/<name>` so `pg_stat_activity`
//! lists the fleet's members without any table of our own. On it arrive:
//! - `Reindex`: rebuild, then answer with the outcome (`Reindexed`);
//! - `Settings`: a server's settings changed: whoever keeps them reloads them.
//!
//! `/reindex` (or SIGHUP) on any process rebuilds that process, asks the
//! others through `NOTIFY`, and gathers their outcomes for a bounded time.
//! The listener reconnects with backoff when the database goes away; while
//! it is away, each process still rebuilds on its own requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, mpsc};

use crate::config::{FleetConfig, FLEET_NAME_MAX};
use crate::engine::text::truncate_text;
use crate::ops::storage::{error_text, Notice, Postgres, CHANNEL};
use crate::serving::host::RebuildError;
use crate::serving::reindex::{Outcome, Reindexer};

/// `application_name` of a listener is this prefix and the process's name.
const MEMBER_PREFIX: &str = "transition-bot/";
/// PostgreSQL keeps 63 bytes of an `application_name`.
const _: () = assert!(MEMBER_PREFIX.len() + FLEET_NAME_MAX <= 63);
/// Longest wait between two attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Lines of errors a process reports back (the rest: `transition-bot check`).
const DETAIL_LINES: usize = 5;
/// Characters of detail a process reports back: one Discord embed field,
/// well within PostgreSQL's 8,000-byte `NOTIFY` payload.
const DETAIL_CHARS: usize = 1_000;

/// A process's part in the fleet. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Fleet {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    database: Postgres,
    reindexer: Reindexer,
    wait: Duration,
    /// Open `/reindex` requests of this process, by request id.
    waiting: Mutex<HashMap<String, mpsc::UnboundedSender<ProcessOutcome>>>,
    settings: broadcast::Sender<u64>,
    /// Approvals of learned examples anywhere in the fleet.
    learned: broadcast::Sender<()>,
}

/// One process's outcome of a fleet-wide reindex, as it reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProcessOutcome {
    pub process: String,
    pub ok: bool,
    pub title: String,
    pub detail: String,
}

/// What `/reindex` gathered across the fleet.
#[derive(Debug)]
pub(crate) struct FleetReindex {
    /// This process's name and its full outcome.
    pub name: String,
    pub local: Outcome,
    /// The other processes that answered in time, by name.
    pub others: Vec<ProcessOutcome>,
    /// Members listening when the request went out that did not answer in time.
    pub silent: Vec<String>,
    /// Why the others could not be asked (the database is unavailable).
    pub unreachable: Option<String>,
}

impl Fleet {
    /// Joins the fleet: starts the listener and makes SIGHUP rebuild every
    /// process. Needs a tokio runtime.
    pub(crate) fn start(database: Postgres, reindexer: Reindexer, config: &FleetConfig) -> Fleet {
        let name = config.name.clone().unwrap_or_else(default_name);
        let (settings, _) = broadcast::channel(256);
        let (learned, _) = broadcast::channel(16);
        let inner = Arc::new(Inner {
            name,
            database,
            reindexer: reindexer.clone(),
            wait: Duration::from_secs(config.reindex_wait_secs.max(1)),
            waiting: Mutex::new(HashMap::new()),
            settings,
            learned,
        });
        tokio::spawn(listen(inner.clone()));
        let fleet = Fleet { inner };
        let on_hangup = fleet.clone();
        let installed = reindexer.on_sighup(move || {
            tracing::info!("SIGHUP received: rebuilding the knowledge index on every process");
            let fleet = on_hangup.clone();
            tokio::spawn(async move { fleet.reindex().await.log() });
        });
        if let Err(err) = installed {
            tracing::warn!(error = %err, "SIGHUP will not rebuild the fleet");
        }
        fleet
    }

    /// Ids of servers whose settings another process (or this one) changed.
    pub(crate) fn settings_changes(&self) -> broadcast::Receiver<u64> {
        self.inner.settings.subscribe()
    }

    /// A message for each approval of learned examples in the fleet (this
    /// process's too); a receiver that lags has missed only repeats.
    pub(crate) fn learned_changes(&self) -> broadcast::Receiver<()> {
        self.inner.learned.subscribe()
    }

    /// Rebuilds this process and asks every other member to; returns when
    /// all members answered or `reindex_wait_secs` passed.
    pub(crate) async fn reindex(&self) -> FleetReindex {
        let inner = &self.inner;
        let request = format!("{}@{}", inner.name, now_nanos());
        let (sender, mut answers) = mpsc::unbounded_channel();
        inner.waiting_lock().insert(request.clone(), sender);
        let asked = async {
            let members = self.members().await?;
            inner.database.notify(&Notice::Reindex { request: request.clone(), from: inner.name.clone() }).await?;
            Ok::<_, crate::ops::storage::StorageError>(members)
        };
        let (asked, local) = tokio::join!(asked, inner.reindexer.rebuild_now());
        let mut result =
            FleetReindex { name: inner.name.clone(), local, others: Vec::new(), silent: Vec::new(), unreachable: None };
        match asked {
            Err(err) => result.unreachable = Some(err.to_string()),
            Ok(mut expected) => {
                let deadline = tokio::time::Instant::now() + inner.wait;
                while !expected.is_empty() {
                    let Ok(Some(answer)) = tokio::time::timeout_at(deadline, answers.recv()).await else { break };
                    expected.retain(|name| *name != answer.process);
                    result.others.push(answer);
                }
                // Late joiners may answer too; whoever answered by now is listed.
                while let Ok(answer) = answers.try_recv() {
                    result.others.push(answer);
                }
                result.silent = expected;
            }
        }
        inner.waiting_lock().remove(&request);
        result.others.sort_by(|a, b| a.process.cmp(&b.process));
        result
    }

    /// The other processes listening now, by name.
    async fn members(&self) -> Result<Vec<String>, crate::ops::storage::StorageError> {
        let database = &self.inner.database;
        let client = database.client().await?;
        let rows = client
            .query(
                "SELECT DISTINCT substr(application_name, $1) FROM pg_stat_activity
                 WHERE datname = current_database() AND starts_with(application_name, $2)",
                &[&(MEMBER_PREFIX.len() as i32 + 1), &MEMBER_PREFIX],
            )
            .await
            .map_err(database.error())?;
        let mut names: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
        names.retain(|name| *name != self.inner.name);
        names.sort();
        Ok(names)
    }
}

impl Inner {
    fn waiting_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<ProcessOutcome>>> {
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn handle(self: &Arc<Self>, payload: &str) {
        let notice: Notice = match serde_json::from_str(payload) {
            Ok(notice) => notice,
            // Another build's message: not ours to act on.
            Err(err) => return tracing::debug!(error = %err, "fleet: ignored a message"),
        };
        match notice {
            Notice::Settings { guild } => {
                if let Ok(guild) = guild.parse() {
                    let _ = self.settings.send(guild);
                }
            }
            // The process that asked rebuilds itself directly.
            Notice::Reindex { from, .. } if from == self.name => {}
            Notice::Reindex { request, from } => {
                tracing::info!(asked_by = %from, "fleet: rebuilding the knowledge index");
                let inner = self.clone();
                tokio::spawn(async move {
                    let outcome = inner.reindexer.rebuild_now().await;
                    let (ok, title, detail) = summarize(&outcome);
                    let detail = truncate_text(&detail, DETAIL_CHARS);
                    let answer = Notice::Reindexed { request, process: inner.name.clone(), ok, title, detail };
                    if let Err(err) = inner.database.notify(&answer).await {
                        tracing::warn!(error = %err, "fleet: could not report a rebuild's outcome");
                    }
                });
            }
            Notice::Reindexed { request, process, ok, title, detail } => {
                if let Some(waiter) = self.waiting_lock().get(&request) {
                    let _ = waiter.send(ProcessOutcome { process, ok, title, detail });
                }
            }
            Notice::Learned {} => {
                let _ = self.learned.send(());
            }
        }
    }
}

/// Keeps a listening connection, reconnecting with backoff.
async fn listen(inner: Arc<Inner>) {
    let mut backoff = Duration::from_secs(1);
    let mut last_warning: Option<Instant> = None;
    loop {
        let started = Instant::now();
        let ended = listen_once(&inner).await;
        if started.elapsed() > MAX_BACKOFF {
            backoff = Duration::from_secs(1);
        }
        // One line a minute at most while the database stays away.
        if last_warning.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
            tracing::warn!(error = %ended, retry_in_ms = backoff.as_millis() as u64, "fleet: not listening; this process still rebuilds on its own requests");
            last_warning = Some(Instant::now());
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Listens until the connection ends; returns why it did.
async fn listen_once(inner: &Arc<Inner>) -> String {
    let (sender, mut notices) = mpsc::unbounded_channel();
    let name = format!("{MEMBER_PREFIX}{}", inner.name);
    let (client, connection) = match inner.database.listener(&name, sender).await {
        Ok(pair) => pair,
        Err(err) => return err,
    };
    if let Err(err) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
        connection.abort();
        return error_text(&err);
    }
    tracing::info!(name = %inner.name, database = %inner.database.place(), "fleet: listening");
    while let Some(payload) = notices.recv().await {
        inner.handle(&payload);
    }
    drop(client);
    connection.await.unwrap_or_else(|err| err.to_string())
}

impl FleetReindex {
    /// Logs every process's outcome (after a SIGHUP nobody sees a reply).
    pub(crate) fn log(&self) {
        for other in &self.others {
            tracing::info!(process = %other.process, ok = other.ok, "{}: {}", other.title, other.detail);
        }
        if !self.silent.is_empty() {
            tracing::warn!(processes = ?self.silent, "fleet: no rebuild outcome in time");
        }
        if let Some(reason) = &self.unreachable {
            tracing::warn!(error = %reason, "fleet: only this process rebuilt");
        }
    }
}

/// A rebuild's outcome in a few lines: whether it is serving the new
/// content, a title, and the summary or the first errors.
pub(crate) fn summarize(outcome: &Outcome) -> (bool, String, String) {
    match outcome {
        Ok(report) => {
            let title = if report.unchanged { "Nothing changed" } else { "Reindexed" };
            (true, title.into(), report.summary())
        }
        Err(RebuildError::Invalid(diagnostics)) => {
            let errors: Vec<String> = diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| format!("`{}`: {}", d.location, d.message))
                .collect();
            let mut detail = errors.iter().take(DETAIL_LINES).cloned().collect::<Vec<_>>().join("\n");
            if errors.len() > DETAIL_LINES {
                detail.push_str(&format!("\n…and {} more", errors.len() - DETAIL_LINES));
            }
            (false, format!("Refused: {} error(s), still serving the previous version", errors.len()), detail)
        }
        Err(RebuildError::Index(message)) => {
            (false, "Failed, still serving the previous version".into(), message.clone())
        }
        Err(RebuildError::Refused(message)) => {
            (false, "Refused, still serving the previous version".into(), message.clone())
        }
    }
}

/// `host:pid`: unique across a fleet without configuration.
fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let pid = std::process::id().to_string();
    // Keep the pid, which makes the name unique, when the host name is long.
    let room = FLEET_NAME_MAX - pid.len() - 1;
    let host: String = host.chars().take_while(char::is_ascii).take(room).collect();
    format!("{host}:{pid}")
}

fn now_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}
