//! Load through the fake Discord: hundreds of `/ask` interactions with many
//! in flight, none lost, every callback well inside Discord's 3 s deadline.
//! The same load on a bot whose command does no work gives the baseline, so
//! the figures printed here show what answering costs on top of the transport.

use crate::support::{bot, fake_discord};
use transition_bot::quality::bench::percentile;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bot::Bot;
use fake_discord::*;
use poise::serenity_prelude as serenity;
use serde_json::json;

const INTERACTIONS: usize = 400;
const IN_FLIGHT: usize = 20;
const QUESTIONS: [&str; 6] = [
    "How long does it take?",
    "SE vs AI engineer?",
    "What does phase 4 cover?",
    "Do I need a PhD?",
    "how many hrs a week should i invest",
    "Recommend a good pizza recipe",
];

/// Sends the load and returns every callback's latency, sorted.
async fn drive(fake: Arc<FakeDiscord>) -> Vec<Duration> {
    let permits = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = Vec::new();
    for n in 0..INTERACTIONS {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let fake = fake.clone();
        tasks.push(tokio::spawn(async move {
            let question = QUESTIONS[n % QUESTIONS.len()];
            let interaction = slash_command("ask", json!([{"name": "question", "type": 3, "value": question}]));
            let sent = Instant::now();
            fake.send_interaction(&interaction);
            let callback = fake.callback_for(&interaction.id, secs(20)).await;
            drop(permit);
            assert_eq!(validate(&callback), Ok(()));
            callback.at.duration_since(sent)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.push(task.await.expect("no interaction lost"));
    }
    latencies.sort();
    latencies
}

/// Resident memory of a process in MB, from /proc (0 where unavailable).
fn resident_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kb.unwrap_or(0.0) / 1024.0
}

fn report(name: &str, latencies: &[Duration]) -> (Duration, Duration) {
    let (p50, p99) = (percentile(latencies, 50.0), percentile(latencies, 99.0));
    eprintln!(
        "{name}: {} interactions, {IN_FLIGHT} in flight: p50 {p50:?}, p99 {p99:?}, max {:?}",
        latencies.len(),
        latencies.last().unwrap()
    );
    (p50, p99)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_hundred_interactions_none_lost() {
    let fake = Arc::new(FakeDiscord::start(FakeConfig::default()).await);
    let bot = Bot::start(&fake, &[("RUST_LOG", "warn")]);
    fake.wait_ready(1, secs(20)).await;
    fake.wait_request(|r| r.method == "PUT", secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = resident_mb(bot.id());
    let latencies = drive(fake.clone()).await;
    eprintln!("transition-bot resident memory: idle {idle:.1} MB, after the load {:.1} MB", resident_mb(bot.id()));
    assert!(idle > 0.0, "VmRSS is readable");
    drop(bot);
    assert_eq!(latencies.len(), INTERACTIONS);
    let (_, p99) = report("transition-bot", &latencies);
    assert!(p99 < Duration::from_secs(3), "p99 {p99:?} misses Discord's 3 s deadline");

    let baseline_fake = Arc::new(FakeDiscord::start(FakeConfig::default()).await);
    let baseline = tokio::spawn(run_idle_bot(baseline_fake.base_url(), baseline_fake.config().token.clone()));
    baseline_fake.wait_ready(1, secs(20)).await;
    let latencies = drive(baseline_fake).await;
    baseline.abort();
    report("baseline (command does no work)", &latencies);
}

/// A poise bot with an `ask` command that answers "ok" at once.
async fn run_idle_bot(base_url: String, token: String) {
    /// Answers "ok" without doing any work.
    #[poise::command(slash_command)]
    async fn ask(
        ctx: poise::Context<'_, (), anyhow::Error>,
        #[description = "ignored"] question: String,
    ) -> anyhow::Result<()> {
        let _ = question;
        let reply =
            poise::CreateReply::default().content("ok").allowed_mentions(serenity::CreateAllowedMentions::new());
        ctx.send(reply).await?;
        Ok(())
    }
    let options = poise::FrameworkOptions {
        commands: vec![ask()],
        allowed_mentions: Some(serenity::CreateAllowedMentions::new()),
        ..Default::default()
    };
    let framework = poise::Framework::builder().options(options).setup(|_, _, _| Box::pin(async { Ok(()) })).build();
    let http = serenity::HttpBuilder::new(&token).proxy(base_url).ratelimiter_disabled(true).build();
    let mut client = serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::GUILDS)
        .framework(framework)
        .await
        .unwrap();
    client.start().await.unwrap();
}
