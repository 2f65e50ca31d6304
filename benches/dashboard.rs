//! The dashboard's pages over a question log of 10,000 questions in 90
//! days on two servers (`tests/it/support/history.rs`, the tests' own
//! generator), in SQLite and in PostgreSQL (a throwaway cluster started
//! like the tests', `tests/it/support/postgres.rs`): each page read and
//! rendered as `/dashboard` serves it, against `stats` (the text report's
//! read of the same log) in the same run, since these machines are noisy.
//!
//! - `dashboard/<page>`: the whole page, HTML, all servers, 90 days.
//! - `dashboard/overview_one_server_7d`: the narrowest scope.
//! - `dashboard/gaps_new_texts`: the gaps page with no embedding
//!   remembered (a new process's first view): every unanswered text embedded.
//! - `dashboard/stats_reference`: `storage::read_stats` over 90 days.
//! - `dashboard_postgres/*`: the overview and the gaps page, and `stats`,
//!   on PostgreSQL.
//!
//! Run with `cargo bench --bench dashboard`.

#[path = "../tests/it/support/history.rs"]
mod history;
#[path = "../tests/it/support/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use transition_bot::config::{DatabaseUrl, StorageConfig};
use transition_bot::engine::matcher::model;
use transition_bot::ops::dashboard::{Dashboard, Page, Scope};
use transition_bot::ops::storage;

const QUESTIONS: usize = 10_000;
const DAYS: u32 = 90;

fn knowledge() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

fn pages(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = StorageConfig { path: dir.path().join("log.sqlite3"), ..StorageConfig::default() };
    let seeded = history::history(QUESTIONS, DAYS, SystemTime::now(), 7);
    runtime.block_on(storage::import_history(&config, &seeded.questions, &seeded.votes)).unwrap();
    let dashboard = Dashboard::open(&config, knowledge(), model::vendored_dir()).unwrap();
    let all = Scope { days: DAYS, server: None };
    let html = runtime.block_on(dashboard.render(Page::Overview, all, false)).unwrap();
    eprintln!("overview page: {} bytes of HTML", html.len());

    let mut group = c.benchmark_group("dashboard");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    group.bench_function("stats_reference", |b| {
        b.iter(|| runtime.block_on(storage::read_stats(&config, Some(Duration::from_secs(86_400 * 90)))).unwrap())
    });
    for page in Page::ALL {
        let name = if page == Page::Overview { "overview" } else { page.path().rsplit('/').next().unwrap() };
        group.bench_function(name, |b| b.iter(|| runtime.block_on(dashboard.render(page, all, false)).unwrap()));
    }
    let narrow = Scope { days: 7, server: Some(history::SERVERS[0]) };
    group.bench_function("overview_one_server_7d", |b| {
        b.iter(|| runtime.block_on(dashboard.render(Page::Overview, narrow, false)).unwrap())
    });
    group.bench_function("gaps_new_texts", |b| {
        b.iter(|| {
            let fresh = Dashboard::open(&config, knowledge(), model::vendored_dir()).unwrap();
            runtime.block_on(fresh.render(Page::Gaps, all, false)).unwrap()
        })
    });
    group.finish();

    let cluster = postgres::Postgres::start();
    let shared = StorageConfig { url: Some(DatabaseUrl(cluster.url())), ..StorageConfig::default() };
    runtime.block_on(storage::import_history(&shared, &seeded.questions, &seeded.votes)).unwrap();
    let on_postgres = Dashboard::open(&shared, knowledge(), model::vendored_dir()).unwrap();
    let mut group = c.benchmark_group("dashboard_postgres");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    group.bench_function("stats_reference", |b| {
        b.iter(|| runtime.block_on(storage::read_stats(&shared, Some(Duration::from_secs(86_400 * 90)))).unwrap())
    });
    for page in [Page::Overview, Page::Gaps] {
        let name = if page == Page::Overview { "overview" } else { "gaps" };
        group.bench_function(name, |b| b.iter(|| runtime.block_on(on_postgres.render(page, all, false)).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, pages);
criterion_main!(benches);
