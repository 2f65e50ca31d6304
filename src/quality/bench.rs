//! Measuring the bot, and knowledge bases big enough to measure it at scale.
//!
//! `run` is what `transition-bot bench` reports: how long a snapshot takes to
//! build, how long a question takes to answer (percentiles over many runs of
//! a question set, then once each with nothing remembered, with the semantic
//! matcher's share apart), and the process's peak resident memory. Operators use it
//! to size a deployment, so it times what a request does (`answer::ask`:
//! analysis, typo correction, BM25, coverage re-ranking), not a bare lookup.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::engine::answer;
use crate::engine::settings::AnswerSettings;
use crate::engine::snapshot::Snapshot;
use crate::quality::QualityError;

/// Builds are repeated (median taken) only while one is faster than this,
/// so small bases get a stable figure and large ones are built once.
const REPEAT_BUILDS_UNDER: Duration = Duration::from_secs(1);

/// What `transition-bot bench --json` prints, one object with exactly these keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct BenchReport {
    /// Searchable units in the knowledge base.
    pub(crate) units: usize,
    /// Loading, parsing and indexing the folder and training the matcher,
    /// its embeddings cached (median of up to 5 builds).
    pub(crate) build_ms: f64,
    /// A fresh clone's first build: no cache file, nothing in memory, and
    /// the seed in the model's folder where it covers the content.
    pub(crate) first_start_ms: f64,
    /// A build with no embedding cached and no seed: every training text
    /// embedded, as an operator's own docs are at their first start.
    pub(crate) build_cold_ms: f64,
    /// Median time to answer one question.
    pub(crate) query_p50_us: f64,
    /// 99th percentile time to answer one question.
    pub(crate) query_p99_us: f64,
    /// The matcher's share of answering one message: embedding its readings
    /// and scoring them (median, and 99th percentile); 0 without a matcher.
    pub(crate) semantic_p50_us: f64,
    pub(crate) semantic_p99_us: f64,
    /// The whole answering path of one message, no question embedding
    /// remembered (median, and 99th percentile).
    pub(crate) message_p50_us: f64,
    pub(crate) message_p99_us: f64,
    /// Peak resident memory of the process (VmHWM); `null` where /proc is missing.
    pub(crate) peak_rss_mb: Option<f64>,
}

/// Builds a snapshot of the configured knowledge folder and answers every
/// question `iterations` times.
pub(crate) fn run(
    dir: &Path,
    settings: AnswerSettings,
    questions: &[String],
    iterations: usize,
) -> Result<BenchReport, QualityError> {
    if questions.is_empty() {
        return Err(QualityError::Invalid("the question file has no questions".into()));
    }
    if iterations == 0 {
        return Err(QualityError::Invalid("--iterations must be at least 1".into()));
    }
    let uncached = AnswerSettings { embedding_cache: None, ..settings.clone() };
    let cold_build = |seed: bool| -> Result<f64, QualityError> {
        crate::engine::matcher::cache::forget_all();
        crate::engine::matcher::cache::use_seed(seed);
        let started = Instant::now();
        let built = load(dir, uncached.clone());
        crate::engine::matcher::cache::use_seed(true);
        built.map(|_| started.elapsed().as_secs_f64() * 1e3)
    };
    let first_start_ms = cold_build(true)?;
    let build_cold_ms = cold_build(false)?;
    let (snapshot, build_times) = build_timed(dir, settings)?;
    let build_ms = median(build_times).as_secs_f64() * 1e3;

    // One untimed pass, so first-touch costs (page faults, lazy statics) are not counted.
    for question in questions {
        std::hint::black_box(answer::ask(&snapshot, question));
    }
    let mut samples = Vec::with_capacity(questions.len() * iterations);
    for _ in 0..iterations {
        for question in questions {
            let started = Instant::now();
            std::hint::black_box(answer::ask(&snapshot, std::hint::black_box(question)));
            samples.push(started.elapsed());
        }
    }
    samples.sort_unstable();
    // A message as it first arrives: nothing remembered of it. The matcher's
    // share is timed apart, over the same readings the answer path makes.
    let (mut messages, mut semantic) = (Vec::new(), Vec::new());
    let forget = || {
        crate::engine::matcher::cache::forget_questions();
        if let Some(matcher) = snapshot.matcher() {
            matcher.forget_readings();
        }
    };
    for question in questions {
        forget();
        let started = Instant::now();
        let answer = std::hint::black_box(answer::ask(&snapshot, std::hint::black_box(question)));
        messages.push(started.elapsed());
        if let Some(matcher) = snapshot.matcher() {
            forget();
            let texts: Vec<&str> = answer.candidates.iter().map(|candidate| candidate.text.as_str()).collect();
            let started = Instant::now();
            let _ = std::hint::black_box(matcher.read(&texts));
            semantic.push(started.elapsed());
        }
    }
    messages.sort_unstable();
    semantic.sort_unstable();
    let us = |samples: &[Duration], percent: f64| percentile(samples, percent).as_secs_f64() * 1e6;
    Ok(BenchReport {
        units: snapshot.knowledge.units.len(),
        build_ms,
        first_start_ms,
        build_cold_ms,
        query_p50_us: us(&samples, 50.0),
        query_p99_us: us(&samples, 99.0),
        semantic_p50_us: us(&semantic, 50.0),
        semantic_p99_us: us(&semantic, 99.0),
        message_p50_us: us(&messages, 50.0),
        message_p99_us: us(&messages, 99.0),
        peak_rss_mb: peak_rss_mb(),
    })
}

/// Loads the knowledge up to five times while builds are quick; returns the last snapshot.
fn build_timed(dir: &Path, settings: AnswerSettings) -> Result<(Snapshot, Vec<Duration>), QualityError> {
    let mut times = Vec::new();
    loop {
        let started = Instant::now();
        let snapshot = load(dir, settings.clone())?;
        let elapsed = started.elapsed();
        times.push(elapsed);
        if elapsed >= REPEAT_BUILDS_UNDER || times.len() == 5 {
            return Ok((snapshot, times));
        }
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// Nearest-rank percentile of sorted samples.
pub fn percentile(sorted: &[Duration], percent: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (percent / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Peak resident set size of this process in MB (VmHWM of /proc/self/status).
pub(crate) fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kilobytes / 1024.0)
}

/// Only the questions of a question set: benchmarks need no expectations,
/// so generated sets and the eval sets are read alike.
#[derive(Deserialize)]
struct QuestionsOnly {
    #[serde(default)]
    case: Vec<QuestionOnly>,
}

#[derive(Deserialize)]
struct QuestionOnly {
    question: String,
}

/// Reads the `question` of every `[[case]]` in a question file.
pub fn load_questions(path: &Path) -> Result<Vec<String>, QualityError> {
    let text = std::fs::read_to_string(path).map_err(QualityError::read_questions(path))?;
    questions_in(&text).map_err(|err| QualityError::Format { path: path.into(), message: err.to_string() })
}

/// The `question` of every `[[case]]` in a question set's text.
pub(crate) fn questions_in(text: &str) -> Result<Vec<String>, toml::de::Error> {
    let set: QuestionsOnly = toml::from_str(text)?;
    Ok(set.case.into_iter().map(|case| case.question).collect())
}

/// Loads a knowledge folder for measuring, failing with every error found.
pub(crate) fn load(dir: &Path, settings: AnswerSettings) -> Result<Snapshot, QualityError> {
    Snapshot::load(dir, settings).map_err(|error| QualityError::Knowledge { dir: dir.into(), error })
}

/// One line per unit as JSON (`id`, `title`, `keywords`, `text`), so other
/// engines (see `benches/bm25s_compare.py`) index exactly the same passages.
pub(crate) fn dump_units(snapshot: &Snapshot, out: &mut impl std::io::Write) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct UnitJson<'a> {
        id: &'a str,
        title: &'a str,
        keywords: &'a [String],
        text: &'a str,
    }
    for unit in &snapshot.knowledge.units {
        let line = UnitJson { id: &unit.id, title: &unit.title, keywords: &unit.keywords, text: &unit.text };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_uses_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&samples, 99.0), Duration::from_micros(99));
        assert_eq!(percentile(&samples[..1], 99.0), Duration::from_micros(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
