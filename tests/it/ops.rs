//! Operating the bot (issue 5), without Discord: the question log and its
//! failure modes, learned examples (the scenarios `fleet` also runs on
//! PostgreSQL), stats (library and the `stats` command), the `/metrics`
//! and `/healthz` endpoint, and graceful shutdown on SIGTERM.
//!
//! Questions are answered by the real core against the repository's
//! knowledge folder, so "answered" and "unanswered" are the bot's own verdicts.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support::database::Direct;
use crate::support::knowledge_dir;
use transition_bot::config::StorageConfig;
use transition_bot::engine::answer;
use transition_bot::engine::snapshot::Snapshot;
use transition_bot::ops::events::{ExampleEvent, ExampleSource, QuestionEvent, Surface, VoteEvent};
use transition_bot::ops::health::Health;
use transition_bot::ops::metrics::{self, Metrics};
use transition_bot::ops::storage::{self, LearnedExample, Storage, StorageError, StorageOptions};
use transition_bot::ops::telemetry::Telemetry;
use transition_bot::serving::host::Host;
use transition_bot::serving::shutdown::{self, InFlight, ShutdownSignal, Signal};

const OFF_TOPIC: &str = "What is the best pizza topping in Naples?";
const ON_TOPIC: &str = "How long until I'm job ready as an AI engineer?";

fn snapshot() -> Snapshot {
    match Snapshot::load(&knowledge_dir(), Default::default()) {
        Ok(snapshot) => snapshot,
        Err(diagnostics) => panic!("knowledge folder does not load: {diagnostics:?}"),
    }
}

/// Answers `question` with the real core and describes it as a front end would.
fn ask(snapshot: &Snapshot, surface: Surface, question: &str) -> QuestionEvent {
    let started = Instant::now();
    let answer = answer::ask(snapshot, question);
    let top = answer.hits.first();
    QuestionEvent {
        surface,
        question: question.to_string(),
        guild_id: Some(1_100_000_000_000_000_001),
        channel_id: Some(1_100_000_000_000_000_002),
        answered: answer.answered,
        offered: !answer.answered && !answer.choices.is_empty(),
        top_unit: top.map(|hit| snapshot.knowledge.units[hit.unit].id.clone()),
        score: top.map(|hit| hit.score).unwrap_or(0.0),
        latency: started.elapsed(),
    }
}

fn vote(unit: &str, helpful: bool, user_id: u64) -> VoteEvent {
    VoteEvent { unit: unit.to_string(), helpful, guild_id: Some(1), channel_id: Some(2), user_id }
}

fn config(path: &Path) -> StorageConfig {
    StorageConfig { path: path.to_path_buf(), log_question_text: true, retention_days: 90, ..StorageConfig::default() }
}

/// Options that retry quickly, so tests about recovery do not wait a second.
fn fast_retry() -> StorageOptions {
    StorageOptions {
        retry_min: Duration::from_millis(10),
        retry_max: Duration::from_millis(50),
        ..StorageOptions::default()
    }
}

fn count(path: &Path, sql: &str) -> i64 {
    let connection = rusqlite::Connection::open(path).unwrap();
    connection.query_row(sql, [], |row| row.get(0)).unwrap()
}

#[tokio::test]
async fn round_trip_questions_and_votes_then_stats_lists_the_off_topic_question_as_unanswered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/log.sqlite3");
    let storage = Storage::start(&config(&path)).unwrap();
    let telemetry = Telemetry::new(Some(storage.clone()), None);
    let snapshot = snapshot();
    let answered = ask(&snapshot, Surface::Slash, ON_TOPIC);
    assert!(answered.answered, "the core should answer {ON_TOPIC:?}");
    let unit = answered.top_unit.clone().unwrap();
    telemetry.question(answered.clone());
    telemetry.question(ask(&snapshot, Surface::Mention, "how long until I'm  job ready as an AI engineer"));
    let off_topic = ask(&snapshot, Surface::Channel, OFF_TOPIC);
    assert!(!off_topic.answered, "the core should not answer {OFF_TOPIC:?}");
    telemetry.question(off_topic);
    telemetry.vote(vote(&unit, false, 10));
    telemetry.vote(vote(&unit, false, 11));
    // One member changing their mind counts once, with their latest vote.
    telemetry.vote(vote(&unit, false, 12));
    telemetry.vote(vote(&unit, true, 12));
    storage.flush().await.unwrap();

    assert_eq!(count(&path, "SELECT COUNT(*) FROM questions"), 3);
    assert_eq!(count(&path, "SELECT COUNT(*) FROM votes"), 4);
    assert_eq!(count(&path, "SELECT guild_id FROM questions LIMIT 1"), 1_100_000_000_000_000_001);

    let stats = storage.stats(Some(Duration::from_secs(3600))).await.unwrap();
    assert_eq!((stats.questions, stats.answered), (3, 2));
    assert_eq!(stats.most_asked[0].text, "how long until i'm job ready as an ai engineer");
    assert_eq!(stats.most_asked[0].asked, 2, "normalized text groups both spellings");
    let unanswered: Vec<&str> = stats.top_unanswered.iter().map(|q| q.text.as_str()).collect();
    assert_eq!(unanswered, vec!["what is the best pizza topping in naples"]);
    assert_eq!(stats.most_unhelpful[0].unit, unit);
    assert_eq!((stats.most_unhelpful[0].unhelpful, stats.most_unhelpful[0].helpful), (2, 1));
    let surfaces: Vec<&str> = stats.by_surface.iter().map(|s| s.surface.as_str()).collect();
    assert_eq!(surfaces.len(), 3, "{surfaces:?}");
    let reply = transition_bot::conversation::admin::render_stats(&stats).clamp();
    assert!(reply.to_text().contains("best pizza topping"), "{}", reply.to_text());
    storage.shutdown().await.unwrap();
}

#[tokio::test]
async fn reopening_the_same_database_keeps_rows_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sqlite3");
    for user in 0..2 {
        let storage = Storage::start(&config(&path)).unwrap();
        assert!(storage.record_vote(&vote("faq/x", true, user)));
        storage.shutdown().await.unwrap();
    }
    assert_eq!(count(&path, "SELECT COUNT(*) FROM votes"), 2);
    assert_eq!(count(&path, "PRAGMA user_version"), storage::SCHEMA_VERSION as i64);
}

#[tokio::test]
async fn without_question_text_logging_no_text_is_stored_and_stats_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sqlite3");
    let storage = Storage::start(&StorageConfig { log_question_text: false, ..config(&path) }).unwrap();
    let snapshot = snapshot();
    Telemetry::new(Some(storage.clone()), None).question(ask(&snapshot, Surface::Slash, OFF_TOPIC));
    storage.shutdown().await.unwrap();
    assert_eq!(count(&path, "SELECT COUNT(*) FROM questions"), 1, "the question is still counted");
    assert_eq!(
        count(&path, "SELECT COUNT(*) FROM questions WHERE question IS NOT NULL OR question_key IS NOT NULL"),
        0
    );
    let raw = std::fs::read(&path).unwrap();
    assert!(!String::from_utf8_lossy(&raw).to_lowercase().contains("pizza"), "text must not be anywhere in the file");
    let stats = storage::read_stats(&StorageConfig { log_question_text: false, ..config(&path) }, None).await.unwrap();
    assert_eq!((stats.questions, stats.answered), (1, 0));
    assert!(stats.to_table().contains("log_question_text = false"));
}

#[tokio::test]
async fn retention_prunes_old_rows_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sqlite3");
    let storage = Storage::start(&config(&path)).unwrap();
    assert!(storage.record_vote(&vote("faq/recent", true, 1)));
    storage.shutdown().await.unwrap();
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let thirty_days_ago = now_ms - 30 * 86_400_000;
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute("INSERT INTO votes (time, unit, helpful, user_id) VALUES (?1, 'faq/old', 0, 2)", [thirty_days_ago])
        .unwrap();
    connection
        .execute(
            "INSERT INTO questions (time, surface, answered, score, latency_us) VALUES (?1, 'slash', 0, 0.0, 5)",
            [thirty_days_ago],
        )
        .unwrap();
    drop(connection);

    let storage = Storage::start(&StorageConfig { retention_days: 7, ..config(&path) }).unwrap();
    storage.flush().await.unwrap();
    assert_eq!(count(&path, "SELECT COUNT(*) FROM questions"), 0);
    let connection = rusqlite::Connection::open(&path).unwrap();
    let units: Vec<String> = connection
        .prepare("SELECT unit FROM votes")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(units, vec!["faq/recent"]);
    storage.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unopenable_database_never_blocks_recording_and_recovers_when_fixed() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the database's folder should be: no user, not even root, can create it.
    let blocker = dir.path().join("data");
    std::fs::write(&blocker, "not a folder").unwrap();
    let path = blocker.join("log.sqlite3");
    let options = StorageOptions { queue_capacity: 100, max_pending: 50, ..fast_retry() };
    let storage = Storage::start_with(&config(&path), options).unwrap();
    let telemetry = Telemetry::new(Some(storage.clone()), Some(Metrics::new()));
    let snapshot = snapshot();
    let event = ask(&snapshot, Surface::Slash, ON_TOPIC);

    let started = Instant::now();
    for _ in 0..20_000 {
        telemetry.question(event.clone());
    }
    // 20,000 events through a queue of 100 with no database: only dropping keeps this fast.
    assert!(started.elapsed() < Duration::from_secs(2), "recording took {:?}", started.elapsed());
    assert!(storage.dropped() > 0);

    match storage.flush().await {
        Err(StorageError::Unwritten { pending, .. }) => {
            assert!(pending > 0 && pending <= 50, "pending {pending}")
        }
        other => panic!("flush should report unwritten rows, got {other:?}"),
    }
    assert!(storage.write_failures() > 0);

    // The operator fixes the path; the kept rows are written on the next try.
    std::fs::remove_file(&blocker).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match storage.flush().await {
            Ok(()) => break,
            Err(err) if Instant::now() < deadline => {
                let _ = err;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(err) => panic!("storage did not recover: {err}"),
        }
    }
    assert!(count(&path, "SELECT COUNT(*) FROM questions") > 0);
    storage.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_full_database_mid_run_keeps_recording_instant_and_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sqlite3");
    // A database capped at a few pages more than its schema takes runs out of room like a full disk
    // (SQLITE_FULL); every index a migration adds takes one more.
    let options = StorageOptions { max_pages: Some(14), max_pending: 200, ..fast_retry() };
    let storage = Storage::start_with(&config(&path), options).unwrap();
    let long_question = format!("{ON_TOPIC} {}", "and also about embeddings ".repeat(120));
    let snapshot = snapshot();
    let mut event = ask(&snapshot, Surface::Slash, ON_TOPIC);
    event.question = long_question;
    assert!(storage.record_question(&event));
    storage.flush().await.unwrap();
    let written_before = storage.written();
    assert_eq!(written_before, 1);

    let started = Instant::now();
    for _ in 0..400 {
        storage.record_question(&event);
    }
    assert!(started.elapsed() < Duration::from_secs(2), "recording took {:?}", started.elapsed());
    let flushed = storage.flush().await;
    assert!(matches!(flushed, Err(StorageError::Unwritten { .. })), "{flushed:?}");
    assert!(storage.write_failures() > 0);
    // Later events are still accepted (and answers would still go out).
    assert!(storage.record_vote(&vote("faq/x", true, 1)));
    let _ = storage.shutdown().await;
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_endpoint_counts_questions_and_healthz_follows_snapshot_and_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::start(&config(&dir.path().join("log.sqlite3"))).unwrap();
    let metrics = Metrics::new();
    let health = Health::new();
    let server =
        metrics::serve("127.0.0.1:0", metrics.clone(), health.clone(), Some(storage.clone()), None).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().unwrap();

    assert_eq!(get(&client, &format!("{base}/healthz")).await, (503, "no knowledge snapshot loaded\n".to_string()));
    let snapshot = snapshot();
    let units = snapshot.knowledge.units.len();
    let telemetry = Telemetry::new(Some(storage.clone()), Some(metrics));
    telemetry.question(ask(&snapshot, Surface::Slash, ON_TOPIC));
    telemetry.question(ask(&snapshot, Surface::Slash, OFF_TOPIC));
    telemetry.vote(vote("faq/x", true, 1));
    health.set_host(Arc::new(Host::new(snapshot, knowledge_dir())));
    assert_eq!(get(&client, &format!("{base}/healthz")).await, (503, "gateway not connected yet\n".to_string()));
    health.expect_shards(0..2);
    health.set_gateway_connected(0, true);
    health.set_heartbeat_latency(0, Duration::from_millis(41));
    let (status, reason) = get(&client, &format!("{base}/healthz")).await;
    assert_eq!((status, reason.as_str()), (503, "gateway shard(s) 1 not connected\n"));
    health.set_gateway_connected(1, true);
    assert_eq!(get(&client, &format!("{base}/healthz")).await, (200, "ok\n".to_string()));

    let response = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    for line in [
        "transition_bot_questions_total{surface=\"slash\",answered=\"true\"} 1".to_string(),
        "transition_bot_questions_total{surface=\"slash\",answered=\"false\"} 1".to_string(),
        "transition_bot_answer_latency_seconds_count{surface=\"slash\"} 2".to_string(),
        "transition_bot_feedback_votes_total{helpful=\"true\"} 1".to_string(),
        format!("transition_bot_knowledge_units {units}"),
        "transition_bot_gateway_shard_connected{shard=\"1\"} 1".to_string(),
        "transition_bot_gateway_heartbeat_latency_seconds{shard=\"0\"} 0.041".to_string(),
        "transition_bot_storage_dropped_total 0".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
    }
    assert!(text.contains("transition_bot_answer_latency_seconds_bucket{surface=\"slash\",le=\"0.0001\"}"), "{text}");
    assert!(text.contains("# TYPE transition_bot_answer_latency_seconds histogram"), "{text}");

    health.set_gateway_connected(0, false);
    assert_eq!(get(&client, &format!("{base}/healthz")).await.0, 503);
    let (status, _) = get(&client, &format!("{base}/nothing")).await;
    assert_eq!(status, 404);
    server.shutdown().await;
    assert!(client.get(format!("{base}/healthz")).send().await.is_err(), "server should be gone");
    storage.shutdown().await.unwrap();
}

#[tokio::test]
async fn metrics_server_reports_an_unusable_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let err = metrics::serve(&address, Metrics::new(), Health::new(), None, None).await.unwrap_err();
    assert!(format!("{err:#}").contains(&address), "{err:#}");
}

#[tokio::test]
async fn a_vote_clicked_before_sigterm_is_in_the_database_after_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sqlite3");
    let signal = ShutdownSignal::install().unwrap();
    let telemetry = Telemetry::new(Some(Storage::start(&config(&path)).unwrap()), Some(Metrics::new()));
    let in_flight = InFlight::new();

    // A button click being handled when the signal arrives.
    let guard = in_flight.begin().unwrap();
    let clicking = telemetry.clone();
    let reply = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        clicking.vote(vote("faq/what-is-rag", false, 42));
        drop(guard);
    });
    let status = Command::new("kill").args(["-TERM", &std::process::id().to_string()]).status().unwrap();
    assert!(status.success());
    let received = tokio::time::timeout(Duration::from_secs(5), signal.wait()).await.expect("SIGTERM seen");
    assert_eq!(received, Signal::Terminate);
    let report = shutdown::graceful(&in_flight, Duration::from_secs(5), async {}, telemetry.shutdown()).await;
    reply.await.unwrap();
    assert_eq!(report.unfinished_replies, 0);
    report.flushed.unwrap();
    assert_eq!(
        count(&path, "SELECT COUNT(*) FROM votes WHERE unit = 'faq/what-is-rag' AND helpful = 0 AND user_id = 42"),
        1
    );
    assert!(in_flight.begin().is_none(), "no new events after shutdown");
}

fn bot(dir: &Path) -> Command {
    let mut command = crate::support::bot_command();
    command.current_dir(dir).env_remove("RUST_LOG");
    for (name, _) in std::env::vars() {
        if name.starts_with("TRANSITION_BOT_") {
            command.env_remove(name);
        }
    }
    command
}

#[tokio::test]
async fn stats_command_prints_tables_from_the_log_in_the_working_folder() {
    let dir = tempfile::tempdir().unwrap();
    let output = bot(dir.path()).arg("stats").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no question log at data/transition-bot.sqlite3"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "stats must not create the database");

    // The default `[storage] path`, relative to the folder the bot runs in.
    let storage = Storage::start(&config(&dir.path().join("data/transition-bot.sqlite3"))).unwrap();
    let telemetry = Telemetry::new(Some(storage.clone()), None);
    let snapshot = snapshot();
    for question in [ON_TOPIC, ON_TOPIC, OFF_TOPIC] {
        telemetry.question(ask(&snapshot, Surface::Slash, question));
    }
    telemetry.vote(vote("faq/what-is-rag", false, 1));
    storage.shutdown().await.unwrap();

    let output = bot(dir.path()).args(["stats", "--since", "12h"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("Questions, last 12h"), "{stdout}");
    assert!(stdout.contains("3 question(s), 2 answered (67%)"), "{stdout}");
    let unanswered = stdout.split("Top unanswered").nth(1).expect("unanswered table");
    assert!(unanswered.contains("what is the best pizza topping in naples"), "{stdout}");
    let down = stdout.split("Most 👎").nth(1).expect("votes table");
    assert!(down.contains("faq/what-is-rag"), "{stdout}");

    let output =
        bot(dir.path()).arg("stats").env("TRANSITION_BOT_STORAGE__LOG_QUESTION_TEXT", "false").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("log_question_text = false") && !stdout.contains("pizza"), "{stdout}");

    let output = bot(dir.path()).args(["stats", "--since", "7x"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`7x` has no unit"));
}

// Learned examples. Each scenario takes the storage config, so `fleet` runs
// the same ones against PostgreSQL.

const JOB_UNIT: &str = "article/how-long-until-job-ready";
const RAG_UNIT: &str = "faq/what-is-rag";
const JOB_TEXT: &str = "How long until I'm job ready?";

fn example(text: &str, unit: &str, source: ExampleSource, guild: u64, user_id: u64) -> ExampleEvent {
    ExampleEvent {
        text: text.to_string(),
        unit: unit.to_string(),
        source,
        guild_id: Some(guild),
        channel_id: Some(guild + 100),
        user_id,
    }
}

fn learned(unit: &str, text: &str) -> LearnedExample {
    LearnedExample { unit: unit.to_string(), text: text.to_string() }
}

/// Records `events` a few milliseconds apart (groups with equal members are
/// ordered by their latest row), then waits until they are written.
async fn record_examples(storage: &Storage, events: &[ExampleEvent]) {
    for event in events {
        assert!(storage.record_example(event), "{event:?} should be queued");
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    storage.flush().await.unwrap();
}

/// Picks and 👍 from several members group by normalized text and unit;
/// 👎 are stored but never listed or approved; an admin's decision takes a
/// group out of the pending list for good, approved ones are exported.
pub(crate) async fn learned_examples_group_until_decided(config: &StorageConfig) {
    use ExampleSource::{Downvote, Pick, Upvote};
    let storage = Storage::start(config).unwrap();
    let direct = Direct::of(config).await;
    record_examples(
        &storage,
        &[
            example(JOB_TEXT, JOB_UNIT, Pick, 1, 11),
            example("  how long until I'm   JOB ready? ", JOB_UNIT, Pick, 1, 12),
            example(JOB_TEXT, JOB_UNIT, Upvote, 1, 12),
            example(JOB_TEXT, JOB_UNIT, Pick, 2, 13),
            // A negative for the same text and unit: in the group, never counted.
            example(JOB_TEXT, JOB_UNIT, Downvote, 1, 14),
            // The same text for another unit is another group.
            example(JOB_TEXT, RAG_UNIT, Pick, 1, 15),
            example("Is Rust worth learning?", "faq/rust", Downvote, 1, 16),
            example("Is Rust worth learning?", "faq/rust", Downvote, 1, 17),
            example("What is RAG", RAG_UNIT, Upvote, 1, 18),
        ],
    )
    .await;

    let pending = storage.pending_examples(None, 10).await.unwrap();
    let summary: Vec<(&str, &str, u32, u32)> =
        pending.iter().map(|p| (p.text.as_str(), p.unit.as_str(), p.members, p.picks)).collect();
    assert_eq!(
        summary,
        [(JOB_TEXT, JOB_UNIT, 3, 4), ("What is RAG", RAG_UNIT, 1, 1), (JOB_TEXT, RAG_UNIT, 1, 1)],
        "most members first, then the latest; downvotes nowhere"
    );
    let job = pending[0].clone();
    assert!(job.first_ms < job.last_ms, "{job:?}");
    assert_eq!(direct.count("SELECT COUNT(*) FROM learned_examples WHERE source = 'downvote'").await, 3);

    let in_guild_1 = storage.pending_examples(Some(1), 10).await.unwrap();
    assert_eq!((in_guild_1[0].unit.as_str(), in_guild_1[0].members, in_guild_1[0].picks), (JOB_UNIT, 2, 3));
    let in_guild_2 = storage.pending_examples(Some(2), 10).await.unwrap();
    assert_eq!(in_guild_2.len(), 1);
    assert_eq!((in_guild_2[0].members, in_guild_2[0].picks), (1, 1));
    assert_ne!(in_guild_2[0].id, job.id, "a server's list shows one of its own rows");
    assert_eq!(storage.pending_examples(None, 1).await.unwrap(), pending[..1]);
    assert!(storage.pending_examples(Some(3), 10).await.unwrap().is_empty());

    // Approving through one server's row approves the whole group, all servers.
    assert_eq!(storage.decide_example(in_guild_2[0].id, true, 99).await.unwrap(), 4);
    assert_eq!(storage.decide_example(job.id, true, 99).await.unwrap(), 0, "already approved");
    assert_eq!(
        direct.count("SELECT COUNT(*) FROM learned_examples WHERE status = 'approved' AND decided_by = 99").await,
        4
    );
    assert_eq!(
        direct.count("SELECT COUNT(*) FROM learned_examples WHERE source = 'downvote' AND status <> 'pending'").await,
        0
    );
    assert_eq!(storage.approved_examples().await.unwrap(), [learned(JOB_UNIT, JOB_TEXT)]);
    let pending = storage.pending_examples(None, 10).await.unwrap();
    assert_eq!(pending.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(), ["What is RAG", JOB_TEXT]);

    assert_eq!(storage.decide_example(pending[0].id, false, 98).await.unwrap(), 1);
    let left = storage.pending_examples(None, 10).await.unwrap();
    assert_eq!(left.iter().map(|p| (p.text.as_str(), p.unit.as_str())).collect::<Vec<_>>(), [(JOB_TEXT, RAG_UNIT)]);
    assert_eq!(storage.approved_examples().await.unwrap(), [learned(JOB_UNIT, JOB_TEXT)], "rejected is not approved");

    // A decided group does not come back, however many pick it later.
    record_examples(&storage, &[example("how long until i'm job ready?", JOB_UNIT, Pick, 1, 19)]).await;
    assert_eq!(storage.pending_examples(None, 10).await.unwrap(), left);

    assert_eq!(storage.decide_example(left[0].id, true, 99).await.unwrap(), 1);
    let approved = storage.approved_examples().await.unwrap();
    assert_eq!(approved, [learned(JOB_UNIT, JOB_TEXT), learned(RAG_UNIT, JOB_TEXT)], "one per group, by unit");
    assert!(storage.pending_examples(None, 10).await.unwrap().is_empty());
    assert_eq!(storage.decide_example(i64::MAX, true, 99).await.unwrap(), 0, "an unknown id changes nothing");
    storage.shutdown().await.unwrap();
    assert_eq!(storage::read_approved_examples(config).await.unwrap(), approved, "read without a running bot");
}

/// Example texts are members' messages: without question text logging none is kept.
pub(crate) async fn learned_examples_need_question_text_logging(config: &StorageConfig) {
    let config = StorageConfig { log_question_text: false, ..config.clone() };
    let storage = Storage::start(&config).unwrap();
    let pick = example("What is the best pizza topping in Naples?", RAG_UNIT, ExampleSource::Pick, 1, 11);
    assert!(!storage.record_example(&pick));
    assert!(storage.record_vote(&vote(RAG_UNIT, true, 11)), "votes are still recorded");
    storage.flush().await.unwrap();
    assert_eq!(Direct::of(&config).await.count("SELECT COUNT(*) FROM learned_examples").await, 0);
    assert!(storage.pending_examples(None, 10).await.unwrap().is_empty());
    assert_eq!(storage.written(), 1, "only the vote");
    storage.shutdown().await.unwrap();
}

/// With `auto_approve = 3` a group is approved by the writer once three
/// distinct members (from any server) picked or 👍'd it; 👎 do not count,
/// and a group an admin rejected stays rejected.
pub(crate) async fn auto_approve_takes_three_distinct_members(config: &StorageConfig) {
    use ExampleSource::{Downvote, Pick, Upvote};
    let config = StorageConfig { auto_approve: Some(3), ..config.clone() };
    let storage = Storage::start(&config).unwrap();
    let direct = Direct::of(&config).await;
    let twice_by_one_and_once_by_another = [
        example(JOB_TEXT, JOB_UNIT, Pick, 1, 11),
        example(JOB_TEXT, JOB_UNIT, Pick, 1, 11),
        example(JOB_TEXT, JOB_UNIT, Upvote, 2, 12),
    ];
    record_examples(&storage, &twice_by_one_and_once_by_another).await;
    let negatives: Vec<ExampleEvent> = (13..16).map(|user| example(JOB_TEXT, JOB_UNIT, Downvote, 1, user)).collect();
    record_examples(&storage, &negatives).await;
    let pending = storage.pending_examples(None, 10).await.unwrap();
    assert_eq!(pending.iter().map(|p| (p.members, p.picks)).collect::<Vec<_>>(), [(2, 3)]);
    assert!(storage.approved_examples().await.unwrap().is_empty(), "two members and three 👎 are not enough");

    record_examples(&storage, &[example(JOB_TEXT, JOB_UNIT, Pick, 3, 16)]).await;
    assert!(storage.pending_examples(None, 10).await.unwrap().is_empty());
    assert_eq!(storage.approved_examples().await.unwrap(), [learned(JOB_UNIT, JOB_TEXT)]);
    assert_eq!(
        direct.count("SELECT COUNT(*) FROM learned_examples WHERE status = 'approved' AND decided_by IS NULL").await,
        4,
        "approved by nobody: the writer"
    );

    // Three members in one batch count too.
    let batch: Vec<ExampleEvent> = (21..24).map(|user| example("What is RAG", RAG_UNIT, Pick, 1, user)).collect();
    for event in &batch {
        assert!(storage.record_example(event));
    }
    storage.flush().await.unwrap();
    assert_eq!(
        storage.approved_examples().await.unwrap(),
        [learned(JOB_UNIT, JOB_TEXT), learned(RAG_UNIT, "What is RAG")]
    );

    record_examples(&storage, &[example("Is Rust needed?", "faq/rust", Pick, 1, 31)]).await;
    let rust = storage.pending_examples(None, 10).await.unwrap();
    assert_eq!(storage.decide_example(rust[0].id, false, 99).await.unwrap(), 1);
    let more: Vec<ExampleEvent> = (32..36).map(|user| example("Is Rust needed?", "faq/rust", Pick, 1, user)).collect();
    record_examples(&storage, &more).await;
    assert_eq!(storage.approved_examples().await.unwrap().len(), 2, "a rejected group is not auto-approved");
    assert!(storage.pending_examples(None, 10).await.unwrap().is_empty());
    storage.shutdown().await.unwrap();
}

/// Retention prunes undecided candidates with the question log; approved
/// and rejected ones are curated and stay, however old.
pub(crate) async fn retention_prunes_only_pending_examples(config: &StorageConfig) {
    let config = StorageConfig { retention_days: 7, ..config.clone() };
    let storage = Storage::start(&config).unwrap();
    storage.flush().await.unwrap(); // Created and migrated.
    storage.shutdown().await.unwrap();
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let old = now_ms - 30 * 86_400_000;
    let direct = Direct::of(&config).await;
    direct
        .execute(&format!(
            "INSERT INTO learned_examples (text, text_key, unit, source, user_id, created_ms, status) VALUES
             ('Old pending', 'old pending', 'faq/a', 'pick', 1, {old}, 'pending'),
             ('Old downvote', 'old downvote', 'faq/a', 'downvote', 1, {old}, 'pending'),
             ('Old approved', 'old approved', 'faq/a', 'pick', 1, {old}, 'approved'),
             ('Old rejected', 'old rejected', 'faq/a', 'upvote', 1, {old}, 'rejected'),
             ('New pending', 'new pending', 'faq/a', 'pick', 1, {now_ms}, 'pending')"
        ))
        .await;

    let storage = Storage::start(&config).unwrap();
    storage.flush().await.unwrap(); // The writer prunes when it starts.
    let mut left = Vec::new();
    for text in ["Old pending", "Old downvote", "Old approved", "Old rejected", "New pending"] {
        let sql = format!("SELECT COUNT(*) FROM learned_examples WHERE text = '{text}'");
        left.push((text, direct.count(&sql).await));
    }
    assert_eq!(
        left,
        [("Old pending", 0), ("Old downvote", 0), ("Old approved", 1), ("Old rejected", 1), ("New pending", 1)]
    );
    assert_eq!(storage.approved_examples().await.unwrap(), [learned("faq/a", "Old approved")]);
    let pending = storage.pending_examples(None, 10).await.unwrap();
    assert_eq!(pending.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(), ["New pending"]);
    storage.shutdown().await.unwrap();
}

/// A database made by an earlier release (`previous_schema`: its tables
/// and version 2, with a question, a vote and a server's settings): opening
/// it keeps every row and adds learned examples and the `offered` column.
pub(crate) async fn the_previous_schema_migrates_keeping_rows(config: &StorageConfig, previous_schema: &str) {
    let direct = Direct::of(config).await;
    direct.execute(previous_schema).await;
    // Recent rows, so the retention the writer applies at start keeps them.
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    direct
        .execute(&format!(
            "INSERT INTO questions (time, surface, question, question_key, answered, score, latency_us)
                 VALUES ({now_ms}, 'slash', 'What is RAG?', 'what is rag', 1, 0.5, 10);
             INSERT INTO votes (time, unit, helpful, user_id) VALUES ({now_ms}, 'faq/what-is-rag', 1, 7);
             INSERT INTO server_settings (guild_id, settings, updated) VALUES (5, '{{\"cooldown_secs\":30}}', {now_ms});"
        ))
        .await;
    // Version 2 (before learned examples): opening it runs every later migration.
    assert_eq!(direct.schema_version().await, 2, "made at an earlier version");

    let storage = Storage::start(config).unwrap();
    record_examples(&storage, &[example(JOB_TEXT, JOB_UNIT, ExampleSource::Pick, 1, 11)]).await;
    assert_eq!(direct.schema_version().await, storage::SCHEMA_VERSION as i64);
    let kept = [
        direct.count("SELECT COUNT(*) FROM questions WHERE question_key = 'what is rag'").await,
        direct.count("SELECT COUNT(*) FROM votes WHERE user_id = 7").await,
        direct.count("SELECT COUNT(*) FROM server_settings WHERE guild_id = 5").await,
    ];
    assert_eq!(kept, [1, 1, 1]);
    let stats = storage.stats(None).await.unwrap();
    assert_eq!(stats.questions, 1, "the old rows still read as stats");
    assert_eq!(stats.most_asked[0].text, "what is rag");
    assert_eq!(direct.count("SELECT COUNT(*) FROM questions WHERE offered = 0").await, 1, "old rows were not offered");
    let pending = storage.pending_examples(None, 10).await.unwrap();
    assert_eq!(pending.iter().map(|p| (p.text.as_str(), p.members)).collect::<Vec<_>>(), [(JOB_TEXT, 1)]);
    assert_eq!(storage.decide_example(pending[0].id, true, 99).await.unwrap(), 1);
    assert_eq!(storage.approved_examples().await.unwrap(), [learned(JOB_UNIT, JOB_TEXT)]);
    storage.shutdown().await.unwrap();
}

/// Schema version 2 as SQLite databases were made before learned examples.
pub(crate) const SQLITE_SCHEMA_2: &str = "CREATE TABLE questions (
        id INTEGER PRIMARY KEY, time INTEGER NOT NULL, surface TEXT NOT NULL, question TEXT, question_key TEXT,
        guild_id INTEGER, channel_id INTEGER, answered INTEGER NOT NULL, top_unit TEXT, score REAL NOT NULL,
        latency_us INTEGER NOT NULL
    );
    CREATE INDEX questions_time ON questions (time);
    CREATE TABLE votes (
        id INTEGER PRIMARY KEY, time INTEGER NOT NULL, unit TEXT NOT NULL, helpful INTEGER NOT NULL,
        guild_id INTEGER, channel_id INTEGER, user_id INTEGER NOT NULL
    );
    CREATE INDEX votes_time ON votes (time);
    CREATE TABLE server_settings (guild_id INTEGER PRIMARY KEY, settings TEXT NOT NULL, updated INTEGER NOT NULL);
    PRAGMA user_version = 2;";

#[tokio::test]
async fn learned_examples_group_by_text_and_unit_until_an_admin_decides() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&dir.path().join("data/log.sqlite3"));
    match storage::read_approved_examples(&config).await {
        Err(StorageError::Missing { .. }) => {}
        other => panic!("exporting from no database should say it is missing, got {other:?}"),
    }
    assert!(!dir.path().join("data").exists(), "exporting must not create the database");
    learned_examples_group_until_decided(&config).await;
}

#[tokio::test]
async fn without_question_text_logging_no_example_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.sqlite3");
    learned_examples_need_question_text_logging(&config(&path)).await;
    let raw = std::fs::read(&path).unwrap();
    assert!(!String::from_utf8_lossy(&raw).to_lowercase().contains("pizza"), "text must not be anywhere in the file");
}

#[tokio::test]
async fn auto_approve_approves_a_group_once_enough_members_gave_it() {
    let dir = tempfile::tempdir().unwrap();
    auto_approve_takes_three_distinct_members(&config(&dir.path().join("log.sqlite3"))).await;
}

#[tokio::test]
async fn retention_prunes_old_pending_examples_but_keeps_decided_ones() {
    let dir = tempfile::tempdir().unwrap();
    retention_prunes_only_pending_examples(&config(&dir.path().join("log.sqlite3"))).await;
}

#[tokio::test]
async fn an_sqlite_database_at_the_previous_schema_keeps_its_rows_and_gains_learned_examples() {
    let dir = tempfile::tempdir().unwrap();
    the_previous_schema_migrates_keeping_rows(&config(&dir.path().join("log.sqlite3")), SQLITE_SCHEMA_2).await;
}
