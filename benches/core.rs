//! Criterion benchmarks of the core: what a start-up or reindex costs, and
//! what each request costs.
//!
//! - `article/*`: the shipped knowledge/ folder. Index build (parsing and
//!   indexing, from files already in memory), question latency over both
//!   question sets, answer rendering (`commands::run` with Ask and Phases),
//!   and question autocomplete.
//! - `scale_10k/*`: the same build and questions on a generated
//!   10,000-section base (`bench::generate_sources`), with fewer samples.
//!
//! Run with `cargo bench --bench core`; filter with e.g.
//! `cargo bench --bench core -- article/query`.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use transition_bot::conversation::commands::{self, Command};
use transition_bot::engine::answer;
use transition_bot::engine::search::SearchIndex;
use transition_bot::engine::settings::AnswerSettings;
use transition_bot::engine::snapshot::Snapshot;
use transition_bot::quality::bench::load_questions;
use transition_bot::quality::generate::generate_sources;

/// The article's files, read once so the build benchmark measures no disk I/O.
fn article_sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("knowledge/ is readable")
        .map(|entry| entry.expect("knowledge/ entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(&name)).expect("knowledge file is UTF-8");
            (name, text)
        })
        .collect()
}

/// Both question sets of the repository.
fn questions() -> Vec<String> {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    ["questions.toml", "public-questions.toml"]
        .iter()
        .flat_map(|name| load_questions(&tests.join(name)).expect("question set loads"))
        .collect()
}

fn build_snapshot(sources: &[(String, String)]) -> Snapshot {
    match Snapshot::from_sources(sources, AnswerSettings::default()) {
        Ok(snapshot) => snapshot,
        Err(errors) => panic!("knowledge has errors: {errors:?}"),
    }
}

fn article(c: &mut Criterion) {
    let sources = article_sources();
    let questions = questions();
    let snapshot = build_snapshot(&sources);
    let mut group = c.benchmark_group("article");

    group.bench_function("build_snapshot", |b| b.iter(|| build_snapshot(black_box(&sources))));
    group.bench_function("build_index", |b| {
        b.iter(|| {
            SearchIndex::build(
                black_box(&snapshot.knowledge),
                snapshot.settings.boosts,
                snapshot.settings.policy().search,
                true,
            )
            .expect("index builds")
        })
    });

    // Per question: the throughput line turns the set's time into time per question.
    group.throughput(Throughput::Elements(questions.len() as u64));
    group.bench_function("query_all_questions", |b| {
        b.iter(|| {
            for question in &questions {
                black_box(answer::ask(&snapshot, black_box(question)));
            }
        })
    });
    let asks: Vec<Command> = questions.iter().map(|question| Command::Ask(question.clone())).collect();
    group.bench_function("render_ask_all_questions", |b| {
        b.iter(|| {
            for command in &asks {
                black_box(commands::run(&snapshot, black_box(command)).expect("ask renders"));
            }
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("render_phases", |b| {
        b.iter(|| commands::run(&snapshot, black_box(&Command::Phases)).expect("phases render"))
    });
    for typed in ["", "skill", "how long"] {
        group.bench_function(format!("complete_question/{typed:?}"), |b| {
            b.iter(|| commands::complete_question(&snapshot.knowledge, black_box(typed)))
        });
    }
    group.finish();
}

fn scale_10k(c: &mut Criterion) {
    let generated = generate_sources(10_000, 1);
    let questions = questions();
    let snapshot = build_snapshot(&generated.sources);
    let mut group = c.benchmark_group("scale_10k");
    // A build takes seconds: ten samples, each one build.
    group.sample_size(10).measurement_time(Duration::from_secs(30)).warm_up_time(Duration::from_secs(1));
    group.bench_function("build_snapshot", |b| b.iter(|| build_snapshot(black_box(&generated.sources))));
    group.throughput(Throughput::Elements(questions.len() as u64));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("query_all_questions", |b| {
        b.iter(|| {
            for question in &questions {
                black_box(answer::ask(&snapshot, black_box(question)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, article, scale_10k);
criterion_main!(benches);
