//! Question-log throughput and stats time over 200,000 rows, for both
//! backends: `cargo bench --bench storage`. PostgreSQL is a throwaway
//! cluster started like the tests' (`tests/it/support/postgres.rs`), with
//! the durability settings the tests use (fsync off); SQLite is a file in
//! a temp folder with the bot's own settings (WAL, synchronous = NORMAL).
//!
//! Writes go through `Storage` as the bot's do: recorded (never blocking),
//! then batched by the writer; the time is from the first record to the
//! flush that confirms the last row. Stats is the median of 5 reads.

#[path = "../tests/it/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use std::time::{Duration, Instant};

use transition_bot::config::{DatabaseUrl, StorageConfig};
use transition_bot::ops::events::{QuestionEvent, Surface, VoteEvent};
use transition_bot::ops::storage::{Storage, StorageOptions};

const ROWS: usize = 200_000;
/// Distinct question texts, so grouping has real work.
const TEXTS: usize = 2_000;

fn main() {
    let rows = std::env::var("BENCH_ROWS").ok().and_then(|n| n.parse().ok()).unwrap_or(ROWS);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = StorageConfig { path: dir.path().join("bench.sqlite3"), ..StorageConfig::default() };
    let cluster = postgres::Postgres::start();
    let shared = StorageConfig { url: Some(DatabaseUrl(cluster.url())), ..StorageConfig::default() };
    println!("{rows} rows (90% questions, 10% votes), {TEXTS} distinct questions");
    println!("{:<12} {:>14} {:>12} {:>16} {:>16}", "backend", "write (s)", "rows/s", "stats all (ms)", "stats 7d (ms)");
    for (name, config) in [("sqlite", sqlite), ("postgresql", shared)] {
        let (write, all, week) = runtime.block_on(measure(&config, rows));
        println!(
            "{name:<12} {:>14.2} {:>12.0} {:>16.1} {:>16.1}",
            write.as_secs_f64(),
            rows as f64 / write.as_secs_f64(),
            all.as_secs_f64() * 1000.0,
            week.as_secs_f64() * 1000.0
        );
    }
}

async fn measure(config: &StorageConfig, rows: usize) -> (Duration, Duration, Duration) {
    // Room for every row, so the writer's pace is what is measured.
    let options = StorageOptions { queue_capacity: rows + 1, max_pending: rows + 1, ..StorageOptions::default() };
    let storage = Storage::start_with(config, options).unwrap();
    storage.flush().await.unwrap(); // Connected and migrated before the clock starts.
    let started = Instant::now();
    for n in 0..rows {
        let recorded = if n % 10 == 9 {
            storage.record_vote(&VoteEvent {
                unit: format!("faq/unit-{}", n % 40),
                helpful: n % 3 != 0,
                guild_id: Some(1),
                channel_id: Some(2),
                user_id: (n % 5_000) as u64,
            })
        } else {
            storage.record_question(&QuestionEvent {
                surface: if n % 2 == 0 { Surface::Slash } else { Surface::Mention },
                question: format!("how long does phase {} take for someone like me, case {}", n % 4, n % TEXTS),
                guild_id: Some(1),
                channel_id: Some(2),
                answered: n % 7 != 0,
                offered: false,
                top_unit: Some(format!("phase/{}", n % 4)),
                score: 0.5,
                latency: Duration::from_micros(100),
            })
        };
        assert!(recorded);
    }
    storage.flush().await.unwrap();
    let write = started.elapsed();
    assert_eq!(storage.written(), rows as u64);
    let time_stats = |window| {
        let storage = storage.clone();
        async move {
            let mut times = Vec::new();
            for _ in 0..5 {
                let started = Instant::now();
                let stats = storage.stats(window).await.unwrap();
                times.push(started.elapsed());
                assert_eq!(stats.questions as usize, rows - rows / 10);
            }
            times.sort();
            times[2]
        }
    };
    let all = time_stats(None).await;
    let week = time_stats(Some(Duration::from_secs(7 * 86_400))).await;
    storage.shutdown().await.unwrap();
    (write, all, week)
}
