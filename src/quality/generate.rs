//! Synthetic knowledge bases of any size, for benchmarks and scale tests.
//!
//! Words follow a Zipf-Mandelbrot law, as words in real prose do: a few very
//! common words, a long tail of rare ones. That matters for what is measured:
//! posting lists of common words are long, the tail makes the vocabulary (and
//! so typo correction) large. Everything is seeded, so the same size and seed
//! give byte-identical files on every machine.

use std::collections::HashSet;
use std::path::Path;

use crate::quality::QualityError;

/// Sections per generated file, so a large base is many files of realistic size.
const SECTIONS_PER_FILE: usize = 100;

/// Distinct words the generator draws from.
const VOCABULARY_SIZE: usize = 40_000;

/// The head of the generated vocabulary, most frequent first.
fn common_words() -> impl Iterator<Item = &'static str> {
    include_str!("generate_words.txt").lines().filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// A small, fast, seedable PRNG (xorshift64*). Benchmarks need repeatable
/// input, not statistical quality, and no dependency for it.
#[derive(Clone, Debug)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> XorShift {
        // Zero is xorshift's one fixed point; mix the seed so 0, 1, 2 differ widely.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `low..=high`.
    pub(crate) fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next_u64() % (high - low + 1) as u64) as usize
    }
}

/// Words ranked by frequency, drawn with Zipf-Mandelbrot probabilities
/// `1 / (rank + 2.7)`: the law fitted to English text.
pub(crate) struct ZipfWords {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

/// Syllables for the long tail of generated words.
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mer", "tin", "sa", "ve", "ro", "qua", "ni", "dor", "pel", "stra", "gen", "ix", "tor", "ble", "cat",
    "dri", "fen", "gul", "hap", "jor", "kil", "lum", "mon", "nar", "ost", "pra", "quen", "rus", "sil", "tem", "ul",
    "vor", "wen", "xan", "yel", "zo", "ar", "en",
];

impl ZipfWords {
    /// `size` distinct words: `generate_words.txt` first, then syllable words that
    /// grow longer with rank, as rarer words do in real languages.
    pub(crate) fn new(size: usize, rng: &mut XorShift) -> ZipfWords {
        let mut words: Vec<String> = common_words().take(size).map(str::to_string).collect();
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
    pub(crate) fn sample(&self, rng: &mut XorShift) -> &str {
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
    pub(crate) questions_toml: String,
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
pub(crate) fn write_knowledge(dir: &Path, sections: usize, seed: u64) -> Result<Generated, QualityError> {
    if sections == 0 {
        return Err(QualityError::Invalid("--sections must be at least 1".into()));
    }
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(QualityError::read(dir))?;
        if entries.next().is_some() {
            return Err(QualityError::Invalid(format!("{} is not empty; generate into a new folder", dir.display())));
        }
    }
    std::fs::create_dir_all(dir).map_err(QualityError::write(dir))?;
    let generated = generate_sources(sections, seed);
    for (name, text) in &generated.sources {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(QualityError::write(&path))?;
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
    use crate::engine::answer;
    use crate::engine::snapshot::Snapshot;

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
        let snapshot = Snapshot::from_sources(&generated.sources, crate::engine::settings::AnswerSettings::default())
            .unwrap_or_else(|errors| panic!("generated base has errors: {errors:?}"));
        assert!(snapshot.knowledge.units.len() >= 120, "{} units", snapshot.knowledge.units.len());
        let questions = crate::quality::bench::questions_in(&generated.questions_toml).expect("question TOML");
        assert_eq!(questions.len(), 12);
        let answered = questions.iter().filter(|question| answer::ask(&snapshot, question).answered).count();
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
}
