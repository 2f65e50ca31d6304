//! Prometheus metrics and the `/metrics` + `/healthz` HTTP endpoint.
//!
//! Each `Metrics` owns its own Prometheus recorder rather than installing a
//! process-wide one, so two bots (or two tests) in one process never mix
//! their numbers, and nothing here depends on global state. Recording goes
//! through the `metrics` crate's macros inside `with_local_recorder`; the
//! exposition text comes from `metrics-exporter-prometheus`. The exporter's
//! own HTTP listener is not used: axum serves both routes on
//! `[metrics] listen`, next to the health check.
//!
//! Gauges that mirror state owned elsewhere (shard status and heartbeat from
//! `Health`, knowledge units from the host, the storage backlog) are set at
//! scrape time, so nobody has to remember to update them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::ops::events::Surface;
use crate::ops::health::Health;
use crate::ops::storage::Storage;

pub(crate) const QUESTIONS: &str = "transition_bot_questions_total";
pub(crate) const ANSWER_LATENCY: &str = "transition_bot_answer_latency_seconds";
pub(crate) const REINDEX: &str = "transition_bot_reindex_total";
pub(crate) const REINDEX_FAILURES: &str = "transition_bot_reindex_failures_total";
pub(crate) const REINDEX_DURATION: &str = "transition_bot_reindex_duration_seconds";
pub(crate) const KNOWLEDGE_UNITS: &str = "transition_bot_knowledge_units";
pub(crate) const FEEDBACK_VOTES: &str = "transition_bot_feedback_votes_total";
pub(crate) const SHARD_CONNECTED: &str = "transition_bot_gateway_shard_connected";
pub(crate) const HEARTBEAT_LATENCY: &str = "transition_bot_gateway_heartbeat_latency_seconds";
pub(crate) const STORAGE_DROPPED: &str = "transition_bot_storage_dropped_total";
pub(crate) const STORAGE_WRITE_FAILURES: &str = "transition_bot_storage_write_failures_total";
pub(crate) const STORAGE_QUEUE: &str = "transition_bot_storage_queue_depth";
pub(crate) const STORAGE_BACKLOG: &str = "transition_bot_storage_backlog_rows";

/// Answer latency buckets: answers take well under a millisecond when warm,
/// so the fine end matters; 3 s is Discord's deadline to acknowledge an interaction.
pub(crate) const LATENCY_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 3.0];
/// Reindexing a knowledge folder takes milliseconds to seconds.
const REINDEX_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The bot's metrics; cheap to clone and share.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let with_buckets = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(ANSWER_LATENCY.into()), LATENCY_BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(Matcher::Full(REINDEX_DURATION.into()), REINDEX_BUCKETS)
            });
        // Only empty bucket lists fail, and these are non-empty constants; summaries would still be usable.
        let recorder = with_buckets.unwrap_or_else(|_| PrometheusBuilder::new()).build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics { recorder: Arc::new(recorder), handle };
        metrics.with(describe_all);
        metrics
    }

    fn with<T>(&self, record: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&*self.recorder, record)
    }

    /// One question answered (or not) on `surface`, and how long the answer took.
    pub(crate) fn question(&self, surface: Surface, answered: bool, latency: Duration) {
        self.with(|| {
            counter!(QUESTIONS, "surface" => surface.as_str(), "answered" => if answered { "true" } else { "false" })
                .increment(1);
            histogram!(ANSWER_LATENCY, "surface" => surface.as_str()).record(latency.as_secs_f64());
        });
    }

    pub(crate) fn vote(&self, helpful: bool) {
        self.with(|| counter!(FEEDBACK_VOTES, "helpful" => if helpful { "true" } else { "false" }).increment(1));
    }

    /// A rebuild of the knowledge index finished, published or refused.
    pub(crate) fn reindex(&self, succeeded: bool, elapsed: Duration) {
        self.with(|| {
            counter!(REINDEX).increment(1);
            if !succeeded {
                counter!(REINDEX_FAILURES).increment(1);
            }
            histogram!(REINDEX_DURATION).record(elapsed.as_secs_f64());
        });
    }

    /// The Prometheus text, with gauges refreshed from `health` and `storage`.
    pub(crate) fn render(&self, health: Option<&Health>, storage: Option<&Storage>) -> String {
        self.with(|| {
            if let Some(health) = health {
                if let Some(host) = health.host() {
                    gauge!(KNOWLEDGE_UNITS).set(host.snapshot().knowledge.units.len() as f64);
                }
                for (id, shard) in health.shards() {
                    gauge!(SHARD_CONNECTED, "shard" => id.to_string()).set(if shard.connected { 1.0 } else { 0.0 });
                    if let Some(latency) = shard.heartbeat_latency {
                        gauge!(HEARTBEAT_LATENCY, "shard" => id.to_string()).set(latency.as_secs_f64());
                    }
                }
            }
            if let Some(storage) = storage {
                counter!(STORAGE_DROPPED).absolute(storage.dropped());
                counter!(STORAGE_WRITE_FAILURES).absolute(storage.write_failures());
                gauge!(STORAGE_QUEUE).set(storage.queue_len() as f64);
                gauge!(STORAGE_BACKLOG).set(storage.backlog() as f64);
            }
        });
        // Upkeep publishes descriptions and drains histogram samples into buckets.
        self.handle.run_upkeep();
        self.handle.render()
    }
}

fn describe_all() {
    describe_counter!(
        QUESTIONS,
        Unit::Count,
        "Questions received, by surface (slash, mention, channel, terminal) and whether they were answered."
    );
    describe_histogram!(
        ANSWER_LATENCY,
        Unit::Seconds,
        "Time from receiving a question to having its reply ready, by surface."
    );
    describe_counter!(REINDEX, Unit::Count, "Knowledge index rebuilds attempted.");
    describe_counter!(REINDEX_FAILURES, Unit::Count, "Knowledge index rebuilds refused (invalid knowledge or failed quality gate); the previous version keeps serving.");
    describe_histogram!(REINDEX_DURATION, Unit::Seconds, "Time to load, index and check the knowledge folder.");
    describe_gauge!(
        KNOWLEDGE_UNITS,
        Unit::Count,
        "Knowledge units (answerable sections) in the snapshot being served."
    );
    describe_counter!(
        FEEDBACK_VOTES,
        Unit::Count,
        "Feedback button clicks on answers, by helpful (true for 👍, false for 👎)."
    );
    describe_gauge!(SHARD_CONNECTED, "1 while the gateway shard is connected, else 0, by shard id.");
    describe_gauge!(HEARTBEAT_LATENCY, Unit::Seconds, "Last gateway heartbeat round trip, by shard id.");
    describe_counter!(
        STORAGE_DROPPED,
        Unit::Count,
        "Question log events dropped because the queue or the in-memory backlog was full."
    );
    describe_counter!(
        STORAGE_WRITE_FAILURES,
        Unit::Count,
        "Failed attempts to open or write the question log database."
    );
    describe_gauge!(STORAGE_QUEUE, Unit::Count, "Question log events waiting for the writer.");
    describe_gauge!(
        STORAGE_BACKLOG,
        Unit::Count,
        "Question log rows held in memory while the database is unavailable."
    );
}

/// The running `/metrics` + `/healthz` server.
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and waits for open requests to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.task.await;
    }
}

#[derive(Clone)]
struct ServerState {
    metrics: Metrics,
    health: Arc<Health>,
    storage: Option<Storage>,
}

/// Binds `listen` (such as `127.0.0.1:9184`) and serves `/metrics` and
/// The metrics address cannot be listened on.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {listen} for metrics: {source}")]
pub struct ListenError {
    listen: String,
    source: std::io::Error,
}

/// `/healthz` (and the routes of `more`, such as the dashboard's) in a
/// background task. Fails at once if the address is unusable.
pub async fn serve(
    listen: &str,
    metrics: Metrics,
    health: Arc<Health>,
    storage: Option<Storage>,
    more: Option<Router>,
) -> Result<MetricsServer, ListenError> {
    let failed = |source| ListenError { listen: listen.to_string(), source };
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(failed)?;
    let local_addr = listener.local_addr().map_err(failed)?;
    let mut app = router(ServerState { metrics, health, storage });
    if let Some(more) = more {
        app = app.merge(more);
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(err) = server.await {
            tracing::error!(error = %err, "metrics server stopped");
        }
    });
    tracing::info!(%local_addr, "serving /metrics and /healthz");
    Ok(MetricsServer { local_addr, stop: Some(stop), task })
}

fn router(state: ServerState) -> Router {
    Router::new().route("/metrics", get(metrics_text)).route("/healthz", get(healthz)).with_state(state)
}

async fn metrics_text(State(state): State<ServerState>) -> impl IntoResponse {
    let text = state.metrics.render(Some(&state.health), state.storage.as_ref());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text)
}

async fn healthz(State(state): State<ServerState>) -> impl IntoResponse {
    match state.health.check() {
        Ok(()) => (StatusCode::OK, "ok\n".to_string()),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of the first sample line that starts with `prefix`.
    fn sample(text: &str, prefix: &str) -> Option<f64> {
        text.lines()
            .find(|line| line.starts_with(prefix))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }

    #[test]
    fn counts_questions_by_surface_and_outcome_with_a_latency_histogram() {
        let metrics = Metrics::new();
        metrics.question(Surface::Slash, true, Duration::from_micros(300));
        metrics.question(Surface::Slash, true, Duration::from_millis(2));
        metrics.question(Surface::Mention, false, Duration::from_micros(50));
        let text = metrics.render(None, None);
        assert_eq!(sample(&text, &format!("{QUESTIONS}{{surface=\"slash\",answered=\"true\"}}")), Some(2.0), "{text}");
        assert_eq!(
            sample(&text, &format!("{QUESTIONS}{{surface=\"mention\",answered=\"false\"}}")),
            Some(1.0),
            "{text}"
        );
        // A real histogram, not a summary: cumulative buckets.
        assert_eq!(
            sample(&text, &format!("{ANSWER_LATENCY}_bucket{{surface=\"slash\",le=\"0.0005\"}}")),
            Some(1.0),
            "{text}"
        );
        assert_eq!(
            sample(&text, &format!("{ANSWER_LATENCY}_bucket{{surface=\"slash\",le=\"0.0025\"}}")),
            Some(2.0),
            "{text}"
        );
        assert_eq!(sample(&text, &format!("{ANSWER_LATENCY}_count{{surface=\"slash\"}}")), Some(2.0), "{text}");
        assert!(text.contains(&format!("# HELP {QUESTIONS} Questions received")), "{text}");
    }

    #[test]
    fn two_instances_do_not_share_numbers() {
        let first = Metrics::new();
        let second = Metrics::new();
        first.vote(false);
        assert!(first.render(None, None).contains(FEEDBACK_VOTES));
        assert!(!second.render(None, None).contains(&format!("{FEEDBACK_VOTES}{{")));
    }

    #[test]
    fn reindex_and_shard_gauges() {
        let metrics = Metrics::new();
        metrics.reindex(true, Duration::from_millis(20));
        metrics.reindex(false, Duration::from_millis(5));
        let health = Health::default();
        health.set_gateway_connected(0, true);
        health.set_gateway_connected(1, false);
        health.set_heartbeat_latency(0, Duration::from_millis(40));
        let text = metrics.render(Some(&health), None);
        assert_eq!(sample(&text, &format!("{REINDEX} ")), Some(2.0), "{text}");
        assert_eq!(sample(&text, &format!("{REINDEX_FAILURES} ")), Some(1.0), "{text}");
        assert_eq!(sample(&text, &format!("{SHARD_CONNECTED}{{shard=\"0\"}}")), Some(1.0), "{text}");
        assert_eq!(sample(&text, &format!("{SHARD_CONNECTED}{{shard=\"1\"}}")), Some(0.0), "{text}");
        assert_eq!(sample(&text, &format!("{HEARTBEAT_LATENCY}{{shard=\"0\"}}")), Some(0.04), "{text}");
    }
}
