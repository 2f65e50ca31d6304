//! The one service setup: the snapshot, the host that keeps it live, the
//! reindexer, and telemetry to logs, metrics and the question log, built the
//! same way for `serve` (Discord) and `chat` (the terminal).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::config::{Config, LogConfig};
use crate::conversation::admin::learn_approved;
use crate::conversation::follow_ups::Recent;
use crate::engine::snapshot::Snapshot;
use crate::frontend::{discord, terminal, Services};
use crate::ops::fleet::Fleet;
use crate::ops::logging;
use crate::ops::metrics::Metrics;
use crate::ops::storage::Storage;
use crate::ops::telemetry::Telemetry;
use crate::serving::host::Host;
use crate::serving::reindex::Reindexer;

/// Loads the configured knowledge folder, failing with every error found.
pub(crate) fn load_snapshot(config: &Config) -> anyhow::Result<Snapshot> {
    let dir = &config.knowledge.dir;
    Snapshot::load(dir, config.answer_settings())
        .map_err(|err| anyhow::anyhow!("knowledge folder {} has {err}", dir.display()))
}

/// Starts the services; inside a tokio runtime (the reindexer listens for SIGHUP on it).
pub(crate) fn start(config: &Config) -> anyhow::Result<Services> {
    let snapshot = load_snapshot(config)?;
    tracing::info!(units = snapshot.knowledge.units.len(), dir = %config.knowledge.dir.display(), "knowledge loaded");
    match (&snapshot.matcher_problem, snapshot.matcher()) {
        (Some(problem), _) => tracing::warn!("{problem}"),
        (None, Some(matcher)) => tracing::info!(
            classes = matcher.report.classes,
            texts = matcher.report.texts,
            embedded = matcher.report.embedded,
            "semantic matcher trained"
        ),
        (None, None) => {}
    }
    let host = Arc::new(Host::new(snapshot, config.knowledge.dir.clone()));
    let metrics = Metrics::new();
    let storage = Storage::start(&config.storage)?;
    let telemetry = Telemetry::new(Some(storage.clone()), Some(metrics.clone()));
    let reindexer = Reindexer::start(host.clone(), &config.reindex)?;
    // Examples members taught (approved in review) join the content once read;
    // reading the database must not hold up the start.
    let (learning_host, learning_reindexer) = (host.clone(), reindexer.clone());
    tokio::spawn(async move {
        match learn_approved(&storage, &learning_host).await {
            Ok(0) => {}
            Ok(count) => {
                tracing::info!(count, "learned examples: rebuilding with them");
                learning_reindexer.trigger();
            }
            Err(err) => tracing::warn!(error = %err, "cannot read the learned examples; answering without them"),
        }
    });
    let counted = metrics.clone();
    reindexer.on_outcome(move |outcome| match outcome {
        Ok(report) => counted.reindex(true, report.duration),
        Err(_) => counted.reindex(false, Duration::ZERO),
    });
    Ok(Services { host, reindexer, telemetry, metrics, fleet: None })
}

/// `transition-bot serve`: Discord until a signal stops it.
pub(crate) fn serve(config: Config) -> anyhow::Result<ExitCode> {
    discord::token()?;
    logging::init(&config.log)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let mut services = start(&config)?;
        // With a shared database this process joins the fleet.
        let database = services.telemetry.storage().and_then(|storage| storage.postgres()).cloned();
        services.fleet = database.map(|database| Fleet::start(database, services.reindexer.clone(), &config.fleet));
        discord::serve(config, services).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `transition-bot chat`: the terminal session, with the services `serve` has.
pub(crate) fn chat(config: &Config) -> anyhow::Result<ExitCode> {
    // The terminal is the conversation: only problems (a refused rebuild) are
    // logged unless RUST_LOG asks for more.
    logging::init(&LogConfig { level: "warn".into(), ..config.log.clone() })?;
    // Stdin is read on this thread; the runtime carries the SIGHUP listener, rebuilds and the log writer.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let services = runtime.block_on(async { start(config) })?;
    let interactive = std::io::stdin().is_terminal();
    let recent = Recent::new(Duration::from_secs(config.discord.follow_up_secs));
    let (input, output) = (std::io::stdin().lock(), std::io::stdout().lock());
    let session = terminal::chat(&services, &runtime, &recent, input, output, interactive);
    // Whatever ended the session, what was asked is written before exiting.
    if let Err(err) = runtime.block_on(services.telemetry.shutdown()) {
        tracing::warn!(error = %err, "the question log was not fully written");
    }
    session?;
    Ok(ExitCode::SUCCESS)
}
