//! `serve` as operators run it, against the fake Discord: health, metrics and the dashboard,
//! a SIGTERM that loses no vote, `stats` afterwards, autosharding over two
//! shards, and live edits of the knowledge folder (issues 4 and 5 end to end).

use crate::support::{bot, fake_discord};

use std::time::{Duration, Instant};

use bot::Bot;
use fake_discord::*;
use serde_json::{json, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn get(url: &str) -> (u16, String) {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    match client.get(url).send().await {
        Ok(response) => (response.status().as_u16(), response.text().await.unwrap_or_default()),
        Err(_) => (0, String::new()),
    }
}

async fn ask(fake: &FakeDiscord, question: &str) -> Value {
    let interaction = slash_command("ask", json!([{"name": "question", "type": 3, "value": question}]));
    fake.send_interaction(&interaction);
    let callback = fake.callback_for(&interaction.id, secs(10)).await;
    assert_eq!(validate(&callback), Ok(()));
    callback.body.unwrap()
}

fn description(body: &Value) -> String {
    body["data"]["embeds"][0]["description"].as_str().unwrap_or_default().to_string()
        + body["data"]["embeds"][0]["title"].as_str().unwrap_or_default()
}

/// A first build that embeds (a model folder without the seed, an empty
/// cache) takes seconds: `/healthz` answers meanwhile, not ready, and turns
/// healthy once the snapshot is published; the log says what took the time.
#[tokio::test(flavor = "multi_thread")]
async fn healthz_is_not_ready_until_the_first_snapshot_is_published() {
    let scratch = tempfile::tempdir().unwrap();
    let (model, knowledge) = (scratch.path().join("model"), scratch.path().join("knowledge"));
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(&model).unwrap();
    for name in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::copy(shipped.join("models/all-MiniLM-L6-v2").join(name), model.join(name)).unwrap();
    }
    // The article with one examples file: a few hundred texts to embed.
    crate::support::copy_dir(&shipped.join("knowledge"), &knowledge);
    for entry in std::fs::read_dir(knowledge.join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if !path.ends_with("part-1.md") {
            std::fs::remove_file(path).unwrap();
        }
    }
    let fake = FakeDiscord::start(FakeConfig::default()).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let cache = scratch.path().join("embeddings.cache");
    let bot = Bot::start(
        &fake,
        &[
            ("TRANSITION_BOT_METRICS__LISTEN", &listen),
            ("TRANSITION_BOT_ANSWER__MODEL", model.to_str().unwrap()),
            ("TRANSITION_BOT_ANSWER__EMBEDDING_CACHE", cache.to_str().unwrap()),
            ("TRANSITION_BOT_KNOWLEDGE__DIR", knowledge.to_str().unwrap()),
        ],
    );
    let healthz = format!("http://{listen}/healthz");
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        let answer = get(&healthz).await;
        if answer.0 != 0 {
            break answer;
        }
        assert!(Instant::now() < deadline, "the listener never answered: {}", bot.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(first, (503, "no knowledge snapshot loaded\n".to_string()), "{}", bot.log());
    let deadline = Instant::now() + Duration::from_secs(300);
    while get(&healthz).await.0 != 200 {
        assert!(Instant::now() < deadline, "never healthy: {}", bot.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = bot.log();
    assert_eq!(log.matches("embedding the knowledge's training texts once").count(), 1, "{log}");
    assert!(log.contains("classifier_trained=true"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_metrics_sigterm_and_stats() {
    let fake = FakeDiscord::start(FakeConfig::default()).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let mut bot = Bot::start(&fake, &[("TRANSITION_BOT_METRICS__LISTEN", &listen)]);
    fake.wait_ready(1, secs(20)).await;
    fake.wait_request(|r| r.method == "PUT", secs(10)).await;

    // Healthy once the shard is connected (the status is polled every second).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(&format!("http://{listen}/healthz")).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "healthz stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    assert!(description(&ask(&fake, "How long does it take?").await).contains("12 to 18 months"));
    let off_topic = "What is the weather like in Lisbon today?";
    assert!(description(&ask(&fake, off_topic).await).contains("I don't have an answer"));
    let mut message = message_create("", &[], true);
    message["components"] = json!([]);
    let vote = button_click("tb:vote:down:faq/how-long-does-it-take-to-become-an-ai-engineer", message);
    fake.send_interaction(&vote);
    fake.callback_for(&vote.id, secs(10)).await;

    let (status, metrics) = get(&format!("http://{listen}/metrics")).await;
    assert_eq!(status, 200);
    let answered =
        metrics.lines().any(|l| l.starts_with("transition_bot_questions_total") && l.contains("answered=\"true\""));
    let unanswered =
        metrics.lines().any(|l| l.starts_with("transition_bot_questions_total") && l.contains("answered=\"false\""));
    assert!(answered && unanswered, "{metrics}");
    assert!(metrics.contains("_bucket{"), "a latency histogram: {metrics}");

    // The dashboard shares the metrics listener and reads the same log (written in the background).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(&format!("http://{listen}/dashboard?days=7&format=json")).await;
        assert_eq!(status, 200, "{body}");
        let board: Value = serde_json::from_str(&body).unwrap();
        if board["totals"]["asked"] == 2 {
            assert_eq!(board["totals"]["answered"], 1, "{board}");
            break;
        }
        assert!(Instant::now() < deadline, "the dashboard never counted both questions: {board}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, page) = get(&format!("http://{listen}/dashboard/passages")).await;
    assert_eq!(status, 200);
    assert!(page.contains("<svg") && page.contains("How long does it take to become an AI engineer?"), "{page}");

    // SIGTERM right after the vote: it must be in the database afterwards.
    let status = bot.terminate();
    assert!(status.success(), "graceful shutdown exits 0:\n{}", bot.log());
    let stats = crate::support::bot_command().args(["stats", "--since", "1d"]).current_dir(bot.dir()).output().unwrap();
    let table = String::from_utf8_lossy(&stats.stdout);
    assert!(stats.status.success(), "{}", String::from_utf8_lossy(&stats.stderr));
    let unanswered_section = table.split_once("nanswered").map(|(_, rest)| rest).unwrap_or("");
    assert!(unanswered_section.to_lowercase().contains("weather like in lisbon"), "{table}");
    assert!(table.contains("faq/how-long-does-it-take-to-become-an-ai-engineer"), "the 👎 vote is recorded: {table}");
    assert!(!bot.log().contains(&fake.config().token));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_recommended_shards_both_identify_and_answer() {
    let fake = FakeDiscord::start(FakeConfig { recommended_shards: 2, ..FakeConfig::default() }).await;
    let _bot = Bot::start(&fake, &[("TRANSITION_BOT_DISCORD__SHARDS", "auto")]);
    // serenity starts one shard every 5 s.
    let logins = fake.wait_ready(2, secs(40)).await;
    let mut shards: Vec<[u32; 2]> = logins.iter().map(|login| login.shard).collect();
    shards.sort_unstable();
    assert_eq!(shards, [[0, 2], [1, 2]]);
    fake.wait_request(|r| r.method == "PUT", secs(10)).await;
    for shard in [0, 1] {
        let interaction = slash_command("ask", json!([{"name": "question", "type": 3, "value": "SE vs AI engineer?"}]));
        assert_eq!(fake.send_dispatch(Some(shard), "INTERACTION_CREATE", interaction.payload.clone()), 1);
        let callback = fake.callback_for(&interaction.id, secs(10)).await;
        assert_eq!(validate(&callback), Ok(()));
        let fields = callback.body.unwrap()["data"]["embeds"][0].to_string();
        assert!(fields.contains("Primary Focus"), "shard {shard}: {fields}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn edits_are_served_live_and_garbage_is_named_by_reindex() {
    let fake = FakeDiscord::start(FakeConfig::default()).await;
    let bot = Bot::start(&fake, &[("TRANSITION_BOT_REINDEX__DEBOUNCE_MS", "100")]);
    fake.wait_ready(1, secs(20)).await;
    fake.wait_request(|r| r.method == "PUT", secs(10)).await;

    let faq = bot.path("knowledge/faq.md");
    let edited =
        std::fs::read_to_string(&faq).unwrap().replace("within 12 to 18 months", "within 9 to 14 months (edited)");
    std::fs::write(&faq, edited).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if description(&ask(&fake, "How long does it take?").await).contains("9 to 14 months (edited)") {
            break;
        }
        assert!(Instant::now() < deadline, "the edit was not served within 10 s:\n{}", bot.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    std::fs::write(bot.path("knowledge/upload.bin"), [0u8, 159, 146, 150, 255, 0, 1]).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(description(&ask(&fake, "How long does it take?").await).contains("9 to 14 months (edited)"));

    let mut reindex = slash_command("reindex", json!([]));
    reindex.payload["member"]["permissions"] = json!("32");
    fake.send_interaction(&reindex);
    let reply = fake
        .wait_request(
            |r| {
                r.path.contains(&reindex.token) && r.body.as_ref().is_some_and(|b| b.to_string().contains("upload.bin"))
            },
            secs(20),
        )
        .await;
    assert_eq!(validate(&reply), Ok(()));
}
