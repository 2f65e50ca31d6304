//! Measuring the bot, and knowledge bases big enough to measure it at scale.
//!
//! `run` is what `transition-bot bench` reports: how long a snapshot takes to
//! build, how long a question takes to answer (percentiles over many runs of
//! a question set), and the process's peak resident memory. Operators use it
//! to size a deployment, so it times what a request does (`answer::ask`:
//! analysis, typo correction, BM25, coverage re-ranking), not a bare lookup.
//!
//! `generate_sources` writes a synthetic knowledge base of any size. Its words
//! follow a Zipf-Mandelbrot law, as words in real prose do: a few very common
//! words, a long tail of rare ones. That matters for what is measured: posting
//! lists of common words are long, the tail makes the vocabulary (and so typo
//! correction) large. Everything is seeded, so the same size and seed give
//! byte-identical files on every machine.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::answer;
use crate::config::Config;
use crate::snapshot::Snapshot;

/// Sections per generated file, so a large base is many files of realistic size.
const SECTIONS_PER_FILE: usize = 100;

/// Distinct words the generator draws from.
const VOCABULARY_SIZE: usize = 40_000;

/// Builds are repeated (median taken) only while one is faster than this,
/// so small bases get a stable figure and large ones are built once.
const REPEAT_BUILDS_UNDER: Duration = Duration::from_secs(1);

/// What `transition-bot bench --json` prints, one object with exactly these keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// Searchable units in the knowledge base.
    pub units: usize,
    /// Loading, parsing and indexing the folder (median of up to 5 builds).
    pub build_ms: f64,
    /// Median time to answer one question.
    pub query_p50_us: f64,
    /// 99th percentile time to answer one question.
    pub query_p99_us: f64,
    /// Peak resident memory of the process (VmHWM); `null` where /proc is missing.
    pub peak_rss_mb: Option<f64>,
}

/// Builds a snapshot of the configured knowledge folder and answers every
/// question `iterations` times.
pub fn run(config: &Config, questions: &[String], iterations: usize) -> anyhow::Result<BenchReport> {
    anyhow::ensure!(!questions.is_empty(), "the question file has no questions");
    anyhow::ensure!(iterations > 0, "--iterations must be at least 1");
    let (snapshot, build_times) = build_timed(config)?;
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
    Ok(BenchReport {
        units: snapshot.knowledge.units.len(),
        build_ms,
        query_p50_us: percentile(&samples, 50.0).as_secs_f64() * 1e6,
        query_p99_us: percentile(&samples, 99.0).as_secs_f64() * 1e6,
        peak_rss_mb: peak_rss_mb(),
    })
}

/// Loads the knowledge up to five times while builds are quick; returns the last snapshot.
fn build_timed(config: &Config) -> anyhow::Result<(Snapshot, Vec<Duration>)> {
    let mut times = Vec::new();
    loop {
        let started = Instant::now();
        let snapshot = crate::cli::load_snapshot(config)?;
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
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kilobytes / 1024.0)
}

/// `transition-bot bench`: runs `run` and prints its report.
pub fn command(
    config: &Config,
    questions: Option<&Path>,
    iterations: usize,
    json: bool,
    dump: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let questions_path = match questions {
        Some(path) => path.to_path_buf(),
        None => {
            let default = PathBuf::from("tests/questions.toml");
            anyhow::ensure!(default.is_file(), "no tests/questions.toml here; pass --questions FILE");
            default
        }
    };
    let questions = load_questions(&questions_path)?;
    if let Some(path) = dump {
        let snapshot = crate::cli::load_snapshot(config)?;
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        dump_units(&snapshot, &mut out).with_context(|| format!("cannot write {}", path.display()))?;
        out.flush().with_context(|| format!("cannot write {}", path.display()))?;
    }
    let report = run(config, &questions, iterations)?;
    if json {
        crate::outln!("{}", serde_json::to_string(&report)?);
    } else {
        crate::outln!("knowledge      {} ({} units)", config.knowledge.dir.display(), report.units);
        crate::outln!("questions      {} x {} runs", questions.len(), iterations);
        crate::outln!("build          {:.1} ms", report.build_ms);
        crate::outln!("query p50      {:.1} µs", report.query_p50_us);
        crate::outln!("query p99      {:.1} µs", report.query_p99_us);
        match report.peak_rss_mb {
            Some(mb) => crate::outln!("peak memory    {mb:.1} MB"),
            None => crate::outln!("peak memory    unknown (no /proc/self/status)"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `transition-bot generate`: writes a synthetic knowledge base.
pub fn generate_command(dir: &Path, sections: usize, seed: u64, questions: Option<&Path>) -> anyhow::Result<ExitCode> {
    let generated = write_knowledge(dir, sections, seed)?;
    if let Some(path) = questions {
        std::fs::write(path, &generated.questions_toml).with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!("wrote {sections} sections in {} files to {}", generated.sources.len(), dir.display());
    Ok(ExitCode::SUCCESS)
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
pub fn load_questions(path: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read question file {}", path.display()))?;
    let set: QuestionsOnly =
        toml::from_str(&text).map_err(|err| anyhow::anyhow!("{}: {}", path.display(), err.to_string().trim_end()))?;
    Ok(set.case.into_iter().map(|case| case.question).collect())
}

/// One line per unit as JSON (`id`, `title`, `keywords`, `text`), so other
/// engines (see `benches/bm25s_compare.py`) index exactly the same passages.
pub fn dump_units(snapshot: &Snapshot, out: &mut impl std::io::Write) -> anyhow::Result<()> {
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

/// A small, fast, seedable PRNG (xorshift64*). Benchmarks need repeatable
/// input, not statistical quality, and no dependency for it.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        // Zero is xorshift's one fixed point; mix the seed so 0, 1, 2 differ widely.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `low..=high`.
    pub fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next_u64() % (high - low + 1) as u64) as usize
    }
}

/// Words ranked by frequency, drawn with Zipf-Mandelbrot probabilities
/// `1 / (rank + 2.7)`: the law fitted to English text.
pub struct ZipfWords {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

/// The most frequent ranks: English function words, then the article's own
/// domain words, so real questions meet familiar terms in a generated base.
const COMMON_WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "on",
    "be",
    "by",
    "this",
    "are",
    "or",
    "from",
    "at",
    "an",
    "not",
    "they",
    "more",
    "can",
    "their",
    "which",
    "has",
    "but",
    "have",
    "you",
    "will",
    "one",
    "all",
    "when",
    "so",
    "what",
    "how",
    "there",
    "each",
    "into",
    "than",
    "most",
    "other",
    "about",
    "these",
    "systems",
    "data",
    "model",
    "models",
    "engineers",
    "software",
    "production",
    "work",
    "team",
    "teams",
    "learn",
    "build",
    "skills",
    "evaluation",
    "api",
    "latency",
    "pipeline",
    "features",
    "users",
    "testing",
    "deployment",
    "prompt",
    "retrieval",
    "embeddings",
    "monitoring",
    "costs",
    "failure",
    "reliability",
    "infrastructure",
    "backend",
    "services",
    "projects",
    "experience",
    "practice",
    "career",
    "roadmap",
    "phase",
    "months",
    "weeks",
    "python",
    "engineering",
    "applied",
    "research",
    "tools",
    "observability",
    "versioning",
    "inputs",
    "outputs",
];

/// Syllables for the long tail of generated words.
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mer", "tin", "sa", "ve", "ro", "qua", "ni", "dor", "pel", "stra", "gen", "ix", "tor", "ble", "cat",
    "dri", "fen", "gul", "hap", "jor", "kil", "lum", "mon", "nar", "ost", "pra", "quen", "rus", "sil", "tem", "ul",
    "vor", "wen", "xan", "yel", "zo", "ar", "en",
];

impl ZipfWords {
    /// `size` distinct words: `COMMON_WORDS` first, then syllable words that
    /// grow longer with rank, as rarer words do in real languages.
    pub fn new(size: usize, rng: &mut XorShift) -> ZipfWords {
        let mut words: Vec<String> = COMMON_WORDS.iter().take(size).map(|word| word.to_string()).collect();
        let mut seen: HashSet<String> = words.iter().cloned().collect();
        while words.len() < size {
            let rank = words.len();
            // Two or three syllables (5 to 8 letters) for the tail, as English's rarer words run.
            let syllables = usize::from(rank >= 1_000) + rng.range(1, 2);
            let word: String = (0..syllables).map(|_| SYLLABLES[rng.range(0, SYLLABLES.len() - 1)]).collect();
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        let mut total = 0.0;
        let cumulative = (0..words.len())
            .map(|rank| {
                total += 1.0 / (rank as f64 + 2.7);
                total
            })
            .collect();
        ZipfWords { words, cumulative }
    }

    /// One word, drawn by frequency.
    pub fn sample(&self, rng: &mut XorShift) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let target = rng.next_f64() * total;
        let rank = self.cumulative.partition_point(|&c| c <= target).min(self.words.len() - 1);
        &self.words[rank]
    }
}

/// A generated knowledge base: `(file name, Markdown)` pairs with `sections`
/// `##` sections in all (of two to four paragraphs each), plus a question set
/// asking about some of them.
pub struct Generated {
    pub sources: Vec<(String, String)>,
    /// A question set in the `[[case]]` format with `question` only.
    pub questions_toml: String,
}

/// Generates `sections` sections deterministically from `seed`.
pub fn generate_sources(sections: usize, seed: u64) -> Generated {
    use std::fmt::Write as _;

    let mut rng = XorShift::new(seed);
    let vocabulary = ZipfWords::new(VOCABULARY_SIZE, &mut rng);
    let mut sources = Vec::new();
    let mut questions_toml = String::from("# Generated questions: words of generated section titles and bodies.\n");
    let files = sections.div_ceil(SECTIONS_PER_FILE);
    for file in 0..files {
        let mut text = format!("# Generated topic {file}\n\n");
        let first = file * SECTIONS_PER_FILE;
        for section in first..sections.min(first + SECTIONS_PER_FILE) {
            let title_words: Vec<&str> = (0..rng.range(2, 5)).map(|_| vocabulary.sample(&mut rng)).collect();
            let title = capitalize(&title_words.join(" "));
            // The number keeps headings, and so unit ids, unique.
            let _ = writeln!(text, "## {title} {section}\n");
            if rng.range(0, 3) == 0 {
                let keywords: Vec<&str> = (0..rng.range(2, 6)).map(|_| vocabulary.sample(&mut rng)).collect();
                let _ = writeln!(text, "<!-- keywords: {} -->\n", keywords.join(", "));
            }
            let mut body_words = Vec::new();
            for _ in 0..rng.range(2, 4) {
                let mut paragraph = String::new();
                for _ in 0..rng.range(3, 7) {
                    let words: Vec<&str> = (0..rng.range(6, 18)).map(|_| vocabulary.sample(&mut rng)).collect();
                    body_words.extend(words.iter().copied());
                    let _ = write!(paragraph, "{}. ", capitalize(&words.join(" ")));
                }
                let _ = writeln!(text, "{}\n", paragraph.trim_end());
            }
            if section % 10 == 0 {
                // Content words only: "the" makes a poor question.
                body_words.retain(|word| word.len() > 3);
                body_words.push("production");
                let picked: Vec<&str> = (0..2).map(|_| body_words[rng.range(0, body_words.len() - 1)]).collect();
                let topic = title_words.iter().find(|word| word.len() > 3).unwrap_or(&"systems");
                let question = format!("how do {topic} and {} relate to {}?", picked[0], picked[1]);
                let _ = writeln!(questions_toml, "\n[[case]]\nquestion = {:?}", question);
            }
        }
        sources.push((format!("topic-{file:04}.md"), text));
    }
    Generated { sources, questions_toml }
}

/// Writes a generated knowledge base into `dir` (created; must be empty or
/// missing, so stray files never mix into a measured base).
pub fn write_knowledge(dir: &Path, sections: usize, seed: u64) -> anyhow::Result<Generated> {
    anyhow::ensure!(sections > 0, "--sections must be at least 1");
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        anyhow::ensure!(entries.next().is_none(), "{} is not empty; generate into a new folder", dir.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let generated = generate_sources(sections, seed);
    for (name, text) in &generated.sources {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(generated)
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_sized() {
        let first = generate_sources(250, 7);
        let again = generate_sources(250, 7);
        let other = generate_sources(250, 8);
        assert_eq!(first.sources, again.sources);
        assert_ne!(first.sources, other.sources);
        assert_eq!(first.sources.len(), 3);
        let headings: usize = first.sources.iter().map(|(_, text)| text.matches("\n## ").count()).sum();
        assert_eq!(headings, 250);
    }

    #[test]
    fn generated_base_loads_without_errors_and_answers_its_questions() {
        let generated = generate_sources(120, 3);
        let snapshot = Snapshot::from_sources(&generated.sources, crate::answer::AnswerSettings::default())
            .unwrap_or_else(|errors| panic!("generated base has errors: {errors:?}"));
        assert!(snapshot.knowledge.units.len() >= 120, "{} units", snapshot.knowledge.units.len());
        let set: QuestionsOnly = toml::from_str(&generated.questions_toml).expect("question TOML");
        assert_eq!(set.case.len(), 12);
        let answered = set.case.iter().filter(|case| answer::ask(&snapshot, &case.question).answered).count();
        assert!(answered > 0, "no generated question was answered");
    }

    #[test]
    fn word_frequencies_fall_with_rank() {
        let mut rng = XorShift::new(1);
        let words = ZipfWords::new(5_000, &mut rng);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..100_000 {
            *counts.entry(words.sample(&mut rng).to_string()).or_insert(0u32) += 1;
        }
        let count = |word: &str| counts.get(word).copied().unwrap_or(0);
        // Zipf: frequency falls with rank, steeply between the head and the tail.
        assert!(count("the") > count("to"), "the={} to={}", count("the"), count("to"));
        assert!(count("the") > 20 * count(&words.words[1000]).max(1));
        assert!(counts.len() > 2_000, "only {} distinct words drawn", counts.len());
    }

    #[test]
    fn percentile_uses_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&samples, 50.0), Duration::from_micros(50));
        assert_eq!(percentile(&samples, 99.0), Duration::from_micros(99));
        assert_eq!(percentile(&samples[..1], 99.0), Duration::from_micros(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
