//! The one service setup: the snapshot, the host that keeps it live, the
//! reindexer, and telemetry to logs, metrics and the question log, built the
//! same way for `serve` (Discord) and `chat` (the terminal).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;

use crate::config::{Config, LogConfig};
use crate::conversation::admin::learn_approved;
use crate::conversation::Services;
use crate::engine::snapshot::Snapshot;
use crate::frontend::discord::{self, Servers};
use crate::frontend::terminal;
use crate::ops::dashboard::{self, Access, Dashboard};
use crate::ops::fleet::Fleet;
use crate::ops::health::Health;
use crate::ops::logging;
use crate::ops::metrics::{self, Metrics};
use crate::ops::storage::{read_approved_examples, Storage, StorageError};
use crate::ops::telemetry::Telemetry;
use crate::serving::host::Host;
use crate::serving::reindex::Reindexer;
use crate::serving::shutdown::ShutdownSignal;

/// Loads the configured knowledge folder, failing with every error found.
pub(crate) fn load_snapshot(config: &Config) -> anyhow::Result<Snapshot> {
    load_with(config, &[])
}

/// The knowledge as the running bot answers from it: the folder plus the
/// approved learned examples in the configured database (none before the
/// bot has recorded anything), so `ask` answers as `chat` and `serve` do.
pub(crate) fn load_live_snapshot(config: &Config) -> anyhow::Result<Snapshot> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let learned = match runtime.block_on(read_approved_examples(&config.storage)) {
        Ok(approved) => approved.into_iter().map(|example| (example.unit, example.text)).collect(),
        Err(StorageError::Missing { .. }) => Vec::new(),
        // A one-shot command logs nothing: the warning goes to stderr.
        Err(err) => {
            eprintln!("warning: cannot read the learned examples ({err}); answering without them");
            Vec::new()
        }
    };
    load_with(config, &learned)
}

/// The folder's knowledge with `learned` examples added, failing with every error found.
fn load_with(config: &Config, learned: &[(String, String)]) -> anyhow::Result<Snapshot> {
    let dir = &config.knowledge.dir;
    Snapshot::load_learning(dir, config.answer_settings(), learned)
        .map_err(|err| anyhow::anyhow!("knowledge folder {} has {err}", dir.display()))
}

/// Starts the services; inside a tokio runtime (the reindexer listens for SIGHUP on it).
pub(crate) fn start(config: &Config) -> anyhow::Result<Services> {
    start_with(config, Metrics::new(), Storage::start(&config.storage)?)
}

/// `start`, with the metrics and the question log already running (`serve`
/// answers `/healthz` while the first snapshot is built).
fn start_with(config: &Config, metrics: Metrics, storage: Storage) -> anyhow::Result<Services> {
    let snapshot = load_snapshot(config)?;
    tracing::info!(units = snapshot.knowledge.units.len(), dir = %config.knowledge.dir.display(), "knowledge loaded");
    match (&snapshot.matcher_problem, snapshot.matcher()) {
        (Some(problem), _) => tracing::warn!("{problem}"),
        (None, Some(matcher)) => tracing::info!(
            classes = matcher.report.classes,
            texts = matcher.report.texts,
            embedded = matcher.report.embedded,
            classifier_trained = matcher.report.trained,
            "semantic matcher trained"
        ),
        (None, None) => {}
    }
    let host = Arc::new(Host::new(snapshot, config.knowledge.dir.clone()));
    let telemetry = Telemetry::new(Some(storage.clone()), Some(metrics.clone()));
    let reindexer = Reindexer::start(host.clone(), &config.reindex)?;
    // Examples members taught (approved in review) join the content once read;
    // reading the database must not hold up the start.
    tokio::spawn(learn(storage, host.clone(), reindexer.clone()));
    let counted = metrics.clone();
    reindexer.on_outcome(move |outcome| match outcome {
        Ok(report) => counted.reindex(true, report.duration),
        Err(_) => counted.reindex(false, Duration::ZERO),
    });
    Ok(Services::new(host, reindexer, telemetry, Duration::from_secs(config.discord.follow_up_secs)))
}

/// Hands the approved learned examples to the host and, when they changed,
/// rebuilds with them.
async fn learn(storage: Storage, host: Arc<Host>, reindexer: Reindexer) {
    match learn_approved(&storage, &host).await {
        Ok((count, true)) => {
            tracing::info!(count, "learned examples changed: rebuilding with them");
            reindexer.trigger();
        }
        Ok((_, false)) => {}
        Err(err) => tracing::warn!(error = %err, "cannot read the learned examples; answering without them"),
    }
}

/// In a fleet, an approval on any process (by an admin or `auto_approve`)
/// reaches every process's next rebuild at once, not at its restart.
async fn learn_from_the_fleet(fleet: Fleet, storage: Storage, host: Arc<Host>, reindexer: Reindexer) {
    let mut approvals = fleet.learned_changes();
    loop {
        match approvals.recv().await {
            // Missed ones are repeats: one read brings all of them.
            Ok(()) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
        learn(storage.clone(), host.clone(), reindexer.clone()).await;
    }
}

/// `transition-bot serve`: Discord until a signal stops it, with the
/// metrics listener and, in a fleet, the tasks that reload a server's
/// settings and the learned examples another process changed.
pub(crate) fn serve(config: Config) -> anyhow::Result<ExitCode> {
    discord::token()?;
    logging::init(&config.log)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        // First, so a signal during start-up is not lost.
        let signal = ShutdownSignal::install().context("cannot listen for shutdown signals")?;
        // The listener before the first build (tens of seconds for content the
        // model has not seen): `/healthz` says not ready until a snapshot is published.
        let (health, metrics, storage) = (Health::new(), Metrics::new(), Storage::start(&config.storage)?);
        let server = match &config.metrics.listen {
            Some(listen) => {
                let board = live_dashboard(&config, &health, &storage, listen);
                Some(metrics::serve(listen, metrics.clone(), health.clone(), Some(storage.clone()), board).await?)
            }
            None => None,
        };
        let mut services = start_with(&config, metrics, storage.clone())?;
        health.set_host(services.host.clone());
        let storage = Some(storage);
        // With a shared database this process joins the fleet.
        let database = storage.as_ref().and_then(|storage| storage.postgres()).cloned();
        services.fleet = database.map(|database| Fleet::start(database, services.reindexer.clone(), &config.fleet));
        let servers = match &storage {
            Some(storage) => storage.server_settings().await.unwrap_or_else(|err| {
                tracing::warn!(error = %err, "cannot read the servers' settings; using config.toml's for every server");
                HashMap::new()
            }),
            None => HashMap::new(),
        };
        let servers = Arc::new(RwLock::new(servers));
        let fleet_tasks = match (&services.fleet, &storage) {
            (Some(fleet), Some(storage)) => vec![
                tokio::spawn(reload_settings(fleet.clone(), storage.clone(), servers.clone())),
                tokio::spawn(learn_from_the_fleet(
                    fleet.clone(),
                    storage.clone(),
                    services.host.clone(),
                    services.reindexer.clone(),
                )),
            ],
            _ => Vec::new(),
        };
        let result = discord::serve(config, services, health, servers, signal).await;
        for task in fleet_tasks {
            task.abort();
        }
        if let Some(server) = server {
            server.shutdown().await;
        }
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The dashboard's routes for `serve`'s metrics listener on `listen`:
/// none without a question log, and none, with a warning saying why, when
/// its token is missing or it would be exposed beyond loopback without one
/// (the listener is the metrics', so the bot runs on either way).
fn live_dashboard(config: &Config, health: &Arc<Health>, storage: &Storage, listen: &str) -> Option<axum::Router> {
    let access = Access::from_env(config.dashboard.token_env.as_deref()).and_then(|access| {
        access.allows(listen)?;
        Ok(access)
    });
    let access = match access {
        Ok(access) => access,
        Err(err) => {
            tracing::warn!("not serving /dashboard on the metrics listener: {err}");
            return None;
        }
    };
    let board = Dashboard::new(
        storage.location().clone(),
        config.storage.log_question_text,
        dashboard::passages_of_health(health.clone()),
        config.answer.model_dir(),
    );
    Some(dashboard::router(Arc::new(board), access))
}

/// `transition-bot dashboard`: the dashboard alone, over the configured
/// database, until Ctrl-C or SIGTERM.
pub(crate) fn dashboard(config: &Config, listen: Option<String>) -> anyhow::Result<ExitCode> {
    logging::init(&config.log)?;
    let access = Access::from_env(config.dashboard.token_env.as_deref())?;
    let listen = listen.unwrap_or_else(|| config.dashboard.listen.clone());
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let signal = ShutdownSignal::install().context("cannot listen for shutdown signals")?;
        let board = Dashboard::open(&config.storage, config.knowledge.dir.clone(), config.answer.model_dir())?;
        // One read first, so a wrong path, an unreachable database or an old schema ends the command now.
        board.board(dashboard::Page::Speed, dashboard::Scope::default()).await?;
        let server = dashboard::serve(&listen, board, access).await?;
        // On stderr, so a script (or a test) listening on port 0 learns the address.
        eprintln!("dashboard: http://{}/dashboard", server.local_addr);
        tracing::info!(local_addr = %server.local_addr, "serving the dashboard");
        signal.wait().await;
        server.task.abort();
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Keeps `servers` current when any process of the fleet (this one too)
/// changes a server's settings: that server's row is read again.
async fn reload_settings(fleet: Fleet, storage: Storage, servers: Servers) {
    let mut changes = fleet.settings_changes();
    loop {
        let guild = match changes.recv().await {
            Ok(guild) => guild,
            // Missed some: they are reloaded with the next change, or at the next start.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "fleet: settings changes came faster than they were read");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        match storage.server_settings_of(guild).await {
            Ok(settings) => {
                let mut servers = servers.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                match settings {
                    Some(settings) => servers.insert(guild, settings),
                    None => servers.remove(&guild),
                };
                tracing::info!(guild, "server settings reloaded");
            }
            Err(err) => tracing::warn!(guild, error = %err, "cannot reload a server's settings"),
        }
    }
}

/// `transition-bot chat`: the terminal session, with the services `serve` has.
pub(crate) fn chat(config: &Config) -> anyhow::Result<ExitCode> {
    // The terminal is the conversation: only problems (a refused rebuild) are
    // logged unless RUST_LOG asks for more.
    // And the one line that says why a first start takes a while, when no bar shows it.
    let level = format!("warn,{}=info", super::progress::TARGET);
    logging::init(&LogConfig { level, ..config.log.clone() })?;
    // Stdin is read on this thread; the runtime carries the SIGHUP listener, rebuilds and the log writer.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let services = runtime.block_on(async { start(config) })?;
    let interactive = std::io::stdin().is_terminal();
    let (input, output) = (std::io::stdin().lock(), std::io::stdout().lock());
    let session = terminal::chat(&services, &runtime, input, output, interactive);
    // Whatever ended the session, what was asked is written before exiting.
    if let Err(err) = runtime.block_on(services.telemetry.shutdown()) {
        tracing::warn!(error = %err, "the question log was not fully written");
    }
    session?;
    Ok(ExitCode::SUCCESS)
}
