//! The soak: `serve` against the fake Discord under mixed traffic (slash
//! commands, autocomplete, buttons, mentions, channel questions), with a
//! content edit and `/reindex` every 20 s and a gateway fault every 30 s
//! (both scaled down to four of each in runs under two minutes). It prints
//! events sent, answered, lost, answered twice, answer latency p50/p99 and
//! the bot's resident memory, and asserts nothing was lost or doubled and
//! memory grew less than 10%.
//!
//! `cargo test` runs it for 20 s. Longer, in release mode:
//! `SOAK_SECS=3600 cargo test --release --test it soak -- --nocapture`.
//! With `SOAK_STORAGE=postgres` the bot logs to a throwaway PostgreSQL
//! instead of SQLite, and is a (one-process) fleet: `/reindex` goes
//! through `LISTEN`/`NOTIFY`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::bot::Bot;
use crate::support::fake_discord::*;
use crate::support::postgres::Postgres;

/// A channel the bot answers every confident question in (besides mentions anywhere).
const QUESTION_CHANNEL: u64 = 1_100_000_000_000_000_021;

/// One gateway fault and whether Discord keeps the session (events sent
/// meanwhile are replayed) or ends it (they are lost on Discord too, so the
/// soak sends nothing until the bot has a new session).
struct Fault {
    name: &'static str,
    inject: fn(&FakeDiscord),
    keeps_session: bool,
}

const FAULTS: [Fault; 7] = [
    Fault { name: "op 7 reconnect", inject: FakeDiscord::request_reconnect, keeps_session: true },
    Fault { name: "op 9 not resumable", inject: |fake| fake.invalidate_sessions(false), keeps_session: false },
    Fault { name: "close 4000", inject: |fake| fake.close_gateway(4000), keeps_session: true },
    Fault { name: "zombie connection", inject: FakeDiscord::zombify, keeps_session: false },
    Fault { name: "op 9 resumable", inject: |fake| fake.invalidate_sessions(true), keeps_session: true },
    Fault { name: "close 4009", inject: |fake| fake.close_gateway(4009), keeps_session: false },
    Fault { name: "dropped connection", inject: FakeDiscord::drop_gateway, keeps_session: true },
];

/// The kinds of traffic, in turn.
const KINDS: usize = 6;

/// One event the soak sent: the key its answer carries, and when it left.
struct Sent {
    key: String,
    at: Instant,
}

/// Sends event number `n` of the mixed traffic; returns its key.
fn send(fake: &FakeDiscord, n: usize) -> String {
    let interaction = |interaction: FakeInteraction| {
        fake.send_interaction(&interaction);
        interaction.id
    };
    let message = |content: String, channel: u64, mentions: &[u64]| {
        let mut message = message_create(&content, mentions, false);
        message["channel_id"] = json!(channel.to_string());
        fake.send_message(&message);
        message["id"].as_str().unwrap().to_string()
    };
    match n % KINDS {
        0 => interaction(slash_command(
            "ask",
            json!([{"name": "question", "type": 3, "value": "how many hours per week?"}]),
        )),
        1 => {
            interaction(autocomplete("ask", json!([{"name": "question", "type": 3, "value": "long", "focused": true}])))
        }
        2 => {
            let mut shown = message_create("", &[], true);
            shown["components"] = json!([{"type": 1, "components": [{"type": 2, "style": 1, "label": "Phase 2", "custom_id": "tb:phase:2"}]}]);
            interaction(button_click("tb:phase:2", shown))
        }
        3 => message(format!("<@{BOT_USER_ID}> how long does it take?"), CHANNEL_ID, &[BOT_USER_ID]),
        4 => message("SE vs AI engineer?".to_string(), QUESTION_CHANNEL, &[]),
        _ => interaction(slash_command("phases", json!([]))),
    }
}

/// The events each successful send answers: an interaction's callback, or a
/// channel message replying to a message.
fn answers(fake: &FakeDiscord) -> HashMap<String, (usize, Instant)> {
    let mut answers: HashMap<String, (usize, Instant)> = HashMap::new();
    for request in fake.requests() {
        if request.method != "POST" || !(200..300).contains(&request.status) {
            continue;
        }
        let key = match request.segments().as_slice() {
            ["interactions", id, _, "callback"] => id.to_string(),
            ["channels", _, "messages"] => {
                let body = request.body.as_ref();
                match body.and_then(|body| body["message_reference"]["message_id"].as_str()) {
                    Some(id) => id.to_string(),
                    None => continue,
                }
            }
            _ => continue,
        };
        let entry = answers.entry(key).or_insert((0, request.at));
        entry.0 += 1;
    }
    answers
}

/// The bot's resident memory in KiB.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let line = status.lines().find(|line| line.starts_with("VmRSS:")).unwrap_or("VmRSS: 0 kB");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).unwrap_or(0)
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    sorted.get(((sorted.len() as f64 - 1.0) * share).round() as usize).copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_loses_and_doubles_nothing_under_traffic_faults_and_reindexes() {
    let seconds: u64 = std::env::var("SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let total = Duration::from_secs(seconds.max(10));
    let short = total < Duration::from_secs(120);
    let fault_every = if short { total / 4 } else { Duration::from_secs(30) };
    let reindex_every = if short { total / 4 } else { Duration::from_secs(20) };

    let fake = FakeDiscord::start(FakeConfig::default()).await;
    let channels = format!("[{QUESTION_CHANNEL}]");
    let postgres = (std::env::var("SOAK_STORAGE").as_deref() == Ok("postgres")).then(Postgres::start);
    let url = postgres.as_ref().map(Postgres::url).unwrap_or_default();
    let mut env = vec![
        ("TRANSITION_BOT_DISCORD__CHANNELS", channels.as_str()),
        ("TRANSITION_BOT_DISCORD__COOLDOWN_SECS", "0"),
        ("RUST_LOG", "warn"),
    ];
    if postgres.is_some() {
        env.push(("TRANSITION_BOT_STORAGE__URL", &url));
    }
    let bot = Bot::start(&fake, &env);
    fake.wait_ready(1, secs(20)).await;
    fake.wait_request(|r| r.method == "PUT", secs(10)).await;

    let mut sent: Vec<Sent> = Vec::new();
    let mut faults_injected: Vec<&str> = Vec::new();
    let mut reindexes = 0;
    // Warm up (first answers, two rebuilds: the allocator's working set)
    // before memory is first read.
    let warm_up = Instant::now();
    for round in ["a", "b"] {
        let text = format!("# Soak\n\n## Soak warm-up {round}\n\nWritten by the soak test.\n");
        std::fs::write(bot.path("knowledge/soak.md"), text).unwrap();
        while warm_up.elapsed() < Duration::from_millis(if round == "a" { 1500 } else { 3000 }) {
            sent.push(Sent { key: send(&fake, sent.len()), at: Instant::now() });
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let memory_at_start = resident_kib(bot.id());

    let started = Instant::now();
    let (mut next_fault, mut next_reindex) = (fault_every / 2, reindex_every);
    // Set by a fault that ends the session: no traffic until the bot logs in again.
    let mut paused_until_logins: Option<usize> = None;
    while started.elapsed() < total {
        let now = started.elapsed();
        if now >= next_fault {
            let fault = &FAULTS[faults_injected.len() % FAULTS.len()];
            if !fault.keeps_session {
                paused_until_logins = Some(fake.login_count() + 1);
            }
            (fault.inject)(&fake);
            faults_injected.push(fault.name);
            next_fault += fault_every;
        }
        if now >= next_reindex {
            reindexes += 1;
            println!("reindex {reindexes} at {now:?}: resident memory {} KiB", resident_kib(bot.id()));
            let text = format!("# Soak\n\n## Soak round {reindexes}\n\nWritten by the soak test, round {reindexes}.\n");
            std::fs::write(bot.path("knowledge/soak.md"), text).unwrap();
            let mut reindex = slash_command("reindex", json!([]));
            reindex.payload["member"]["permissions"] = json!("32"); // MANAGE_GUILD
            if paused_until_logins.is_none() {
                fake.send_interaction(&reindex);
                sent.push(Sent { key: reindex.id, at: Instant::now() });
            }
            next_reindex += reindex_every;
        }
        if paused_until_logins.is_some_and(|logins| fake.login_count() >= logins) {
            paused_until_logins = None;
        }
        if paused_until_logins.is_none() {
            sent.push(Sent { key: send(&fake, sent.len()), at: Instant::now() });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Everything sent gets its answer, or is lost.
    let deadline = Instant::now() + secs(20);
    let mut answered = answers(&fake);
    while sent.iter().any(|event| !answered.contains_key(&event.key)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        answered = answers(&fake);
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    answered = answers(&fake);
    let memory_at_end = resident_kib(bot.id());

    let lost: Vec<&str> = sent.iter().filter(|e| !answered.contains_key(&e.key)).map(|e| e.key.as_str()).collect();
    let doubled = sent.iter().filter(|event| answered.get(&event.key).is_some_and(|(count, _)| *count > 1)).count();
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|event| answered.get(&event.key).map(|(_, at)| at.saturating_duration_since(event.at)))
        .collect();
    latencies.sort_unstable();
    let growth = memory_at_end as f64 / memory_at_start.max(1) as f64 - 1.0;
    println!(
        "soak {seconds} s ({}): {} events sent, {} answered, {} lost, {doubled} answered twice; \
         answer latency p50 {:?}, p99 {:?}; {} faults ({}), {reindexes} reindexes; \
         resident memory {} KiB at start, {} KiB at end ({:+.1}%)",
        if postgres.is_some() { "PostgreSQL" } else { "SQLite" },
        sent.len(),
        sent.len() - lost.len(),
        lost.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        faults_injected.len(),
        faults_injected.join(", "),
        memory_at_start,
        memory_at_end,
        growth * 100.0,
    );
    let log = bot.log();
    assert!(lost.is_empty(), "lost {lost:?}\n{log}");
    assert_eq!(doubled, 0, "{log}");
    assert!(faults_injected.len() >= 3 && reindexes >= 3, "the soak must exercise faults and reindexes");
    assert!(memory_at_start > 0 && growth < 0.10, "memory grew {:.1}%", growth * 100.0);
    assert!(!log.contains("panicked"), "{log}");
}
