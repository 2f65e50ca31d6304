//! A fleet on PostgreSQL (issue 12), against a real server started by
//! `support::postgres`: both backends keep the same log and stats, and
//! learned examples behave the same (`ops`'s scenarios, and a migration from
//! the previous schema); two `serve` processes with different shards share
//! stats, settings, `/reindex` and approved learned examples; the database restarting mid-run costs
//! counted rows, never answers.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::discord::{embed_text, valid};
use crate::ops;
use crate::support::bot::Bot;
use crate::support::fake_discord::*;
use crate::support::postgres::Postgres;
use transition_bot::config::{DatabaseUrl, StorageConfig};
use transition_bot::ops::events::{QuestionEvent, Surface, VoteEvent};
use transition_bot::ops::storage::{self, Storage, StorageError, StorageOptions};

/// A guild on the other shard of two (Discord routes by `(id >> 22) % shards`).
const OTHER_GUILD: u64 = GUILD_ID + (1 << 22);

fn shard_of(guild: u64, total: u64) -> u32 {
    ((guild >> 22) % total) as u32
}

fn question(text: &str, surface: Surface, answered: bool) -> QuestionEvent {
    QuestionEvent {
        surface,
        question: text.into(),
        guild_id: Some(GUILD_ID),
        channel_id: Some(CHANNEL_ID),
        answered,
        offered: false,
        top_unit: answered.then(|| "faq/how-long".to_string()),
        score: if answered { 0.8 } else { 0.1 },
        latency: Duration::from_micros(120),
    }
}

/// The same events through SQLite and through two writers sharing one
/// PostgreSQL (as two processes would, migrating at the same moment): the
/// stats agree to the last count and ordering.
#[tokio::test(flavor = "multi_thread")]
async fn both_backends_keep_the_same_log_and_stats() {
    let postgres = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = StorageConfig { path: dir.path().join("log.sqlite3"), ..StorageConfig::default() };
    let shared = StorageConfig { url: Some(DatabaseUrl(postgres.url())), ..StorageConfig::default() };
    let local = Storage::start(&sqlite).unwrap();
    let fleet = [Storage::start(&shared).unwrap(), Storage::start(&shared).unwrap()];
    let mut events = 0;
    for round in 0..30 {
        let (text, answered) = match round % 3 {
            0 => ("How long does it take?", true),
            1 => ("What is the weather in Lisbon", false),
            _ => ("SE vs AI engineer?", true),
        };
        let surface = if round % 2 == 0 { Surface::Slash } else { Surface::Mention };
        let event = question(&format!("{text}{}", "?".repeat(round % 2)), surface, answered);
        assert!(local.record_question(&event));
        assert!(fleet[round % 2].record_question(&event));
        events += 1;
        // Equal counts are ordered by the latest time asked: keep those apart.
        std::thread::sleep(Duration::from_millis(3));
    }
    // Member 7 changes their mind: only the latest vote counts.
    for (unit, helpful, user) in [("faq/a", false, 7), ("faq/a", true, 7), ("faq/a", false, 8), ("phase/1", true, 9)] {
        let vote = VoteEvent { unit: unit.into(), helpful, guild_id: Some(GUILD_ID), channel_id: None, user_id: user };
        assert!(local.record_vote(&vote));
        assert!(fleet[user as usize % 2].record_vote(&vote));
    }
    local.flush().await.unwrap();
    for writer in &fleet {
        writer.flush().await.unwrap();
    }
    let expected = local.stats(None).await.unwrap();
    assert_eq!(expected.questions, events);
    assert_eq!(expected.most_asked.len(), 3, "texts differing in closing punctuation group together");
    let unhelpful: Vec<(&str, u64, u64)> =
        expected.most_unhelpful.iter().map(|u| (u.unit.as_str(), u.helpful, u.unhelpful)).collect();
    assert_eq!(unhelpful, [("faq/a", 1, 1)], "member 7's latest vote is 👍, member 8's 👎");
    for writer in &fleet {
        assert_eq!(writer.stats(None).await.unwrap(), expected, "either process sees the whole fleet");
    }
    // `transition-bot stats` reads the same, from the URL alone.
    assert_eq!(storage::read_stats(&shared, None).await.unwrap(), expected);
    assert_eq!(fleet[0].written() + fleet[1].written(), events + 4);
}

/// A command as `guild`'s members send it, with Manage Server.
fn command(name: &str, guild: u64, options: Value) -> FakeInteraction {
    let mut command = slash_command(name, options);
    command.payload["guild_id"] = json!(guild.to_string());
    command.payload["member"]["permissions"] = json!("32"); // MANAGE_GUILD
    command
}

/// Sends `command` to shard `shard` and returns the text of its reply
/// (deferred ones included), validated against Discord's schema.
async fn reply_on(fake: &FakeDiscord, shard: u32, command: &FakeInteraction, timeout: Duration) -> String {
    assert_eq!(fake.send_dispatch(Some(shard), "INTERACTION_CREATE", command.payload.clone()), 1);
    let answered =
        |r: &Recorded| r.path.contains(&command.token) && r.body.as_ref().is_some_and(|b| !embed_text(b).is_empty());
    embed_text(valid(&fake.wait_request(answered, timeout).await))
}

/// `transition-bot stats` with the fleet's database, from any folder.
fn stats_table(url: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = crate::support::bot_command()
        .args(["stats", "--since", "1d"])
        .current_dir(dir.path())
        .env("TRANSITION_BOT_STORAGE__URL", url)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits until `stats` counts `questions` questions in all.
async fn wait_for_questions(url: &str, questions: u64, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let table = stats_table(url);
        if table.contains(&format!("\n{questions} question(s)")) {
            return table;
        }
        assert!(Instant::now() < deadline, "expected {questions} questions asked:\n{table}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// `serve` as one of two processes sharing `url`, running shard `shard` of 2.
fn member(fake: &FakeDiscord, url: &str, name: &str, shard: u32) -> Bot {
    let range = format!("[{shard}, {shard}]");
    Bot::start(
        fake,
        &[
            ("TRANSITION_BOT_STORAGE__URL", url),
            ("TRANSITION_BOT_DISCORD__SHARDS", "2"),
            ("TRANSITION_BOT_DISCORD__SHARD_RANGE", &range),
            ("TRANSITION_BOT_FLEET__NAME", name),
            ("TRANSITION_BOT_FLEET__REINDEX_WAIT_SECS", "15"),
            // Only `/reindex` rebuilds, so its reply shows what each process did.
            ("TRANSITION_BOT_REINDEX__WATCH", "false"),
        ],
    )
}

/// Two `serve` processes, shards 0 and 1 of 2, one database: each answers
/// its own shard's guild, and either one reports, configures and reindexes
/// for both.
#[tokio::test(flavor = "multi_thread")]
async fn two_processes_share_stats_settings_and_reindex() {
    assert_ne!(shard_of(GUILD_ID, 2), shard_of(OTHER_GUILD, 2));
    let postgres = Postgres::start();
    let url = postgres.url();
    let fake = FakeDiscord::start(FakeConfig::default()).await;
    let (a_shard, b_shard) = (shard_of(GUILD_ID, 2), shard_of(OTHER_GUILD, 2));
    let a = member(&fake, &url, "alpha", a_shard);
    let b = member(&fake, &url, "beta", b_shard);
    fake.wait_ready(2, secs(30)).await;
    let listening = |bot: &Bot| bot.log().contains("fleet: listening");
    let deadline = Instant::now() + secs(20);
    while !(listening(&a) && listening(&b)) {
        assert!(Instant::now() < deadline, "both processes listen:\n{}\n{}", a.log(), b.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A question in each process's guild; each is answered by its own shard.
    let ask =
        |guild| command("ask", guild, json!([{"name": "question", "type": 3, "value": "How long does it take?"}]));
    assert!(reply_on(&fake, a_shard, &ask(GUILD_ID), secs(10)).await.contains("18"));
    assert!(reply_on(&fake, b_shard, &ask(OTHER_GUILD), secs(10)).await.contains("18"));
    let table = wait_for_questions(&url, 2, secs(10)).await;
    assert!(table.contains("how long does it take"), "{table}");
    // `/stats` on either process counts both processes' questions.
    for (shard, guild) in [(a_shard, GUILD_ID), (b_shard, OTHER_GUILD)] {
        let stats = reply_on(&fake, shard, &command("stats", guild, json!([])), secs(10)).await;
        assert!(stats.contains("slash: 2 asked, 2 answered"), "shard {shard}: {stats}");
    }

    // Settings written through alpha are what beta reads, without a restart
    // (beta gets that guild's events once the fleet is resharded, say).
    let set = command("settings", GUILD_ID, json!([{"name": "cooldown", "type": 4, "value": 42}]));
    let saved = reply_on(&fake, a_shard, &set, secs(10)).await;
    assert!(saved.contains("42 s between"), "{saved}");
    let deadline = Instant::now() + secs(10);
    loop {
        let seen = reply_on(&fake, b_shard, &command("settings", GUILD_ID, json!([])), secs(10)).await;
        if seen.contains("Cooldown (this server)") && seen.contains("42 s between") {
            break;
        }
        assert!(Instant::now() < deadline, "beta never saw alpha's settings: {seen}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // `/reindex` on alpha rebuilds beta too, whose content changed: the
    // reply shows both outcomes.
    let faq = b.path("knowledge").join("fleet-note.md");
    std::fs::write(&faq, "# Fleet note\n\nA short note that only beta's folder has, about fleets.\n").unwrap();
    let reindexed = reply_on(&fake, a_shard, &command("reindex", GUILD_ID, json!([])), secs(30)).await;
    assert!(reindexed.contains("2 of 2 processes"), "{reindexed}");
    assert!(reindexed.contains("**alpha** (this process): Nothing changed"), "{reindexed}");
    assert!(reindexed.contains("beta\n✅ Reindexed") && reindexed.contains("1 added"), "{reindexed}");
    assert!(b.log().contains("asked_by=alpha"), "beta logs who asked:\n{}", b.log());

    // SIGHUP on beta rebuilds alpha, whose content changed now; beta logs alpha's outcome.
    std::fs::write(a.path("knowledge").join("fleet-note.md"), "# Fleet note\n\nAlpha's own note, about fleets.\n")
        .unwrap();
    assert!(Command::new("kill").args(["-HUP", &b.id().to_string()]).status().unwrap().success());
    let deadline = Instant::now() + secs(20);
    while !(a.log().contains("asked_by=beta") && b.log().contains("process=alpha ok=true")) {
        assert!(Instant::now() < deadline, "SIGHUP on beta rebuilds alpha:\n{}\n{}", a.log(), b.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(b.log().contains("1 added"), "{}", b.log());

    // An example approved through alpha reaches beta's content at once, not
    // at its restart (issue 24): the approval notifies the fleet in its
    // transaction, and beta reads the approved examples and rebuilds.
    let database = crate::support::database::Direct::of(&StorageConfig {
        url: Some(DatabaseUrl(url.clone())),
        ..StorageConfig::default()
    })
    .await;
    let text = "is the 18 month plan realistic next to a full time job";
    database
        .execute(&format!(
            "INSERT INTO learned_examples (text, text_key, unit, source, guild_id, user_id, created_ms)
             VALUES ('{text}', '{text}', 'faq/how-long-does-it-take-to-become-an-ai-engineer', 'pick', {GUILD_ID}, 7, 0)"
        ))
        .await;
    let id = database.count("SELECT MAX(id) FROM learned_examples").await;
    let mut approve = button_click(&format!("tb:review:yes:{id}"), message_create("", &[], true));
    approve.payload["guild_id"] = json!(GUILD_ID.to_string());
    approve.payload["member"]["permissions"] = json!("32"); // MANAGE_GUILD
    assert_eq!(fake.send_dispatch(Some(a_shard), "INTERACTION_CREATE", approve.payload.clone()), 1);
    let approved = embed_text(valid(&fake.callback_for(&approve.id, secs(10)).await));
    assert!(approved.contains("Approved: 1 learned example"), "{approved}");
    let deadline = Instant::now() + secs(20);
    while !b.log().contains("learned examples changed: rebuilding with them count=1") {
        assert!(Instant::now() < deadline, "beta learns alpha's approval:\n{}", b.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for bot in [&a, &b] {
        assert!(!bot.log().contains(&fake.config().token));
    }
}

/// `/metrics` of the process listening on `listen`.
async fn metrics(listen: &str) -> String {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    match client.get(format!("http://{listen}/metrics")).send().await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().find(|line| line.starts_with(name) && !line.starts_with('#'))?.rsplit(' ').next()?.parse().ok()
}

/// PostgreSQL stops mid-run and comes back: every question is answered
/// meanwhile, the rows beyond the in-memory backlog are dropped and
/// counted in `/metrics`, and the log resumes with the rest.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_restart_costs_counted_rows_never_answers() {
    let postgres = Postgres::start();
    let url = postgres.url();
    let fake = FakeDiscord::start(FakeConfig::default()).await;
    let listen =
        format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    let bot = Bot::start(
        &fake,
        &[
            ("TRANSITION_BOT_STORAGE__URL", &url),
            ("TRANSITION_BOT_STORAGE__BACKLOG", "20"),
            ("TRANSITION_BOT_METRICS__LISTEN", &listen),
        ],
    );
    fake.wait_ready(1, secs(20)).await;
    let shard = shard_of(GUILD_ID, 1);
    let ask = |n: usize| {
        command(
            "ask",
            GUILD_ID,
            json!([{"name": "question", "type": 3, "value": format!("How long does it take? #{n}")}]),
        )
    };
    for n in 0..3 {
        assert!(reply_on(&fake, shard, &ask(n), secs(10)).await.contains("18"));
    }
    wait_for_questions(&url, 3, secs(10)).await;

    postgres.stop();
    for n in 3..33 {
        let started = Instant::now();
        assert!(reply_on(&fake, shard, &ask(n), secs(10)).await.contains("18"), "answered while the database is down");
        assert!(started.elapsed() < secs(3), "a reply never waits on the database");
    }
    let deadline = Instant::now() + secs(10);
    let text = loop {
        let text = metrics(&listen).await;
        if metric(&text, "transition_bot_storage_dropped_total") == Some(10.0) {
            break text;
        }
        assert!(Instant::now() < deadline, "30 rows into a backlog of 20 drop 10:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(metric(&text, "transition_bot_storage_write_failures_total").unwrap_or(0.0) >= 1.0, "{text}");
    assert_eq!(metric(&text, "transition_bot_storage_backlog_rows"), Some(20.0), "{text}");

    postgres.start_server();
    let deadline = Instant::now() + secs(30);
    while metric(&metrics(&listen).await, "transition_bot_storage_backlog_rows") != Some(0.0) {
        assert!(Instant::now() < deadline, "the backlog is written once the database is back:\n{}", bot.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for n in 33..35 {
        assert!(reply_on(&fake, shard, &ask(n), secs(10)).await.contains("18"));
    }
    // 3 before, the newest 20 of the 30 during, 2 after.
    wait_for_questions(&url, 25, secs(10)).await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let logged: Vec<usize> = client
        .query("SELECT question FROM questions ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<_, String>(0).rsplit('#').next().unwrap().parse().unwrap())
        .collect();
    let kept: Vec<usize> = (0..3).chain(13..35).collect();
    assert_eq!(logged, kept, "the backlog kept the newest rows, in order");
    let text = metrics(&listen).await;
    assert_eq!(metric(&text, "transition_bot_storage_backlog_rows"), Some(0.0), "{text}");
    assert_eq!(metric(&text, "transition_bot_storage_dropped_total"), Some(10.0), "{text}");
    assert!(bot.log().contains("database available again"), "{}", bot.log());
}

/// `sslmode=require`: every connection is TLS, and the server's certificate
/// is checked (against `ca_file`; Mozilla's roots do not know the test CA).
#[tokio::test(flavor = "multi_thread")]
async fn a_required_tls_connection_is_encrypted_and_checked() {
    let postgres = Postgres::start_with_tls();
    let url = format!("{}?sslmode=require", postgres.url());
    let trusted =
        StorageConfig { url: Some(DatabaseUrl(url)), ca_file: Some(postgres.ca_file()), ..StorageConfig::default() };
    let storage = Storage::start(&trusted).unwrap();
    assert!(storage.record_question(&question("How long does it take?", Surface::Slash, true)));
    storage.flush().await.unwrap();
    assert_eq!(storage.stats(None).await.unwrap().questions, 1);
    let (client, connection) = tokio_postgres::connect(&postgres.url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let encrypted: Vec<bool> = client
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'transition-bot'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(!encrypted.is_empty() && encrypted.iter().all(|&ssl| ssl), "the bot's connections: {encrypted:?}");

    let options = StorageOptions { retry_min: Duration::from_millis(10), ..StorageOptions::default() };
    let untrusted = Storage::start_with(&StorageConfig { ca_file: None, ..trusted.clone() }, options).unwrap();
    assert!(untrusted.record_question(&question("How long does it take?", Surface::Slash, true)));
    assert!(matches!(untrusted.flush().await, Err(StorageError::Unwritten { pending: 1, .. })));
    assert!(untrusted.write_failures() >= 1);

    let missing = StorageConfig { ca_file: Some("/nonexistent/ca.pem".into()), ..trusted };
    let err = Storage::start(&missing).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/ca.pem"), "{err}");
}

/// The learned-example scenarios `ops` runs on SQLite, here on PostgreSQL,
/// each in its own database of one cluster; and the dashboard's board, the same from both.
#[tokio::test(flavor = "multi_thread")]
async fn learned_examples_on_postgres_behave_as_on_sqlite() {
    let postgres = Postgres::start();
    let on = |name: &str| StorageConfig {
        url: Some(DatabaseUrl(postgres.create_database(name))),
        ..StorageConfig::default()
    };
    ops::learned_examples_group_until_decided(&on("grouping")).await;
    ops::learned_examples_need_question_text_logging(&on("no_text")).await;
    ops::auto_approve_takes_three_distinct_members(&on("auto_approve")).await;
    ops::retention_prunes_only_pending_examples(&on("retention")).await;
    crate::dashboard::both_backends_show_the_same_board(&on("dashboard")).await;
}

/// Schema version 2 as PostgreSQL databases were made before learned examples.
const POSTGRES_SCHEMA_2: &str = "CREATE TABLE questions (
        id BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL, surface TEXT NOT NULL, question TEXT, question_key TEXT,
        guild_id BIGINT, channel_id BIGINT, answered INTEGER NOT NULL, top_unit TEXT,
        score DOUBLE PRECISION NOT NULL, latency_us BIGINT NOT NULL
    );
    CREATE INDEX questions_time ON questions (time);
    CREATE TABLE votes (
        id BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL, unit TEXT NOT NULL, helpful INTEGER NOT NULL,
        guild_id BIGINT, channel_id BIGINT, user_id BIGINT NOT NULL
    );
    CREATE INDEX votes_time ON votes (time);
    CREATE TABLE server_settings (guild_id BIGINT PRIMARY KEY, settings TEXT NOT NULL, updated BIGINT NOT NULL);
    CREATE TABLE transition_bot_schema (version INTEGER NOT NULL);
    INSERT INTO transition_bot_schema VALUES (2);";

#[tokio::test(flavor = "multi_thread")]
async fn a_postgres_database_at_the_previous_schema_keeps_its_rows_and_gains_learned_examples() {
    let postgres = Postgres::start();
    let config = StorageConfig { url: Some(DatabaseUrl(postgres.url())), ..StorageConfig::default() };
    ops::the_previous_schema_migrates_keeping_rows(&config, POSTGRES_SCHEMA_2).await;
}
