//! The answer decision: whether the best passage found for a message (or one
//! of its segments) answers it. Several signals go into one logistic
//! regression whose weights are data (`decision.toml`, beside this file),
//! fitted on a question corpus by `transition-bot fit`, with the operating
//! point chosen for precision: an off-topic message should almost never get
//! an answer.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// What the decision looks at, for one candidate query and its hits.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Features {
    /// Share of the query's informative weight the top unit contains.
    pub coverage: f32,
    /// `ln(1 + score / max_idf)` of the top hit (BM25 scaled by coverage),
    /// relative to the knowledge base's largest idf so that small and large
    /// bases score alike.
    pub score: f32,
    /// How far the top hit is ahead of the second: `(s1 - s2) / s1`.
    pub margin: f32,
    /// `ln(1 + matched weight / max_idf)`: how much the top unit explains.
    pub matched: f32,
    /// Share of the query's weight in words the knowledge base never uses.
    pub unknown: f32,
    /// `ln(1 + informative words)`.
    pub words: f32,
    /// 1 when the candidate reads as a question.
    pub asks: f32,
    /// 1 when the candidate is one segment of a longer message.
    pub segment: f32,
    /// Share of the weight of the words the knowledge base uses that the top unit contains.
    pub known_coverage: f32,
    /// `ln(1 + unknown words that are not common English)`: "salary", "pytorch", "cors".
    pub rare_unknown: f32,
    /// Share of the knowledge base's units without hand-written keywords or
    /// aliases. Curation makes more of a member's words known and raises
    /// every score, so the same evidence says more in plain docs; its weight
    /// shifts the decision for them (fitted on a variant without curation).
    pub uncurated: f32,
    /// The matcher's probability of the answer's passage (0 without a matcher).
    pub semantic: f32,
    /// The matcher's largest probability of any passage.
    pub semantic_top: f32,
    /// The matcher's probability that nothing here answers.
    pub off_topic: f32,
    /// 1 when the lexical search's best passage is the matcher's too.
    pub agrees: f32,
    /// Cosine of the message to the nearest training text of the answer's passage.
    pub nearest: f32,
    /// Cosine of the message to the nearest off-topic example.
    pub nearest_off_topic: f32,
    /// `ln(1 + words)` of the reading's telling words (not common English)
    /// that neither the answer's passage nor its training texts use: what
    /// the message is about that the passage does not speak to ("salary",
    /// "leetcode", "langchain" beside a passage on skills).
    pub unexplained: f32,
    /// Cosine of the message to the closest sentence of the answer's
    /// passage itself (not its examples): whether the passage speaks to it.
    pub sentence: f32,
    /// Share of off-topic examples among the training texts nearest the message.
    pub knn_off_topic: f32,
    /// For one segment of a longer message, the matcher's probability that
    /// the whole message is off-topic: a question that reads as on-topic
    /// alone ("am I missing the boat?") may close a message about something
    /// else (a salary in one city). 0 for the whole message, and wherever
    /// the matcher does not speak for the segment or the whole message.
    pub context_off_topic: f32,
}

/// The names, in the order of `Features::values`.
pub const FEATURE_NAMES: [&str; FEATURES] = [
    "coverage",
    "score",
    "margin",
    "matched",
    "unknown",
    "words",
    "asks",
    "segment",
    "known_coverage",
    "rare_unknown",
    "uncurated",
    "semantic",
    "semantic_top",
    "off_topic",
    "agrees",
    "nearest",
    "nearest_off_topic",
    "unexplained",
    "sentence",
    "knn_off_topic",
    "context_off_topic",
];

/// How many features there are.
pub const FEATURES: usize = 21;

/// The position of `uncurated` in `FEATURE_NAMES`: a property of the
/// knowledge base, not of the message, fitted apart from the others.
pub const UNCURATED: usize = 10;

impl Features {
    pub fn values(&self) -> [f32; FEATURES] {
        [
            self.coverage,
            self.score,
            self.margin,
            self.matched,
            self.unknown,
            self.words,
            self.asks,
            self.segment,
            self.known_coverage,
            self.rare_unknown,
            self.uncurated,
            self.semantic,
            self.semantic_top,
            self.off_topic,
            self.agrees,
            self.nearest,
            self.nearest_off_topic,
            self.unexplained,
            self.sentence,
            self.knn_off_topic,
            self.context_off_topic,
        ]
    }
}

/// A fitted decision: weights per feature, a bias and the operating point.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Least probability to answer.
    pub threshold: f32,
    /// Least probability to offer the best passages as choices when not
    /// answering ("Is it one of these?"); without it, never.
    #[serde(default)]
    pub choices: Option<f32>,
    pub bias: f32,
    pub weights: BTreeMap<String, f32>,
}

/// Why a decision file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("{0}")]
    Format(#[from] toml::de::Error),
    #[error("unknown feature `{0}` (known: {known})", known = FEATURE_NAMES.join(", "))]
    UnknownFeature(String),
}

impl Decision {
    /// Parses a decision file.
    pub fn parse(text: &str) -> Result<Decision, DecisionError> {
        let decision: Decision = toml::from_str(text)?;
        if let Some(name) = decision.weights.keys().find(|name| !FEATURE_NAMES.contains(&name.as_str())) {
            return Err(DecisionError::UnknownFeature(name.clone()));
        }
        Ok(decision)
    }

    /// The decision shipped with the bot for knowledge with a trained
    /// matcher (`src/engine/decision.toml`).
    pub fn shipped() -> &'static Decision {
        static SHIPPED: OnceLock<Decision> = OnceLock::new();
        SHIPPED.get_or_init(|| {
            // A test parses the same file, so this cannot fail in a released build.
            Decision::parse(include_str!("decision.toml")).unwrap_or_else(|err| panic!("decision.toml: {err}"))
        })
    }

    /// The decision shipped for knowledge answered lexically only (no
    /// examples, or no model): `src/engine/decision-lexical.toml`.
    pub fn shipped_lexical() -> &'static Decision {
        static SHIPPED: OnceLock<Decision> = OnceLock::new();
        SHIPPED.get_or_init(|| {
            // A test parses the same file, so this cannot fail in a released build.
            Decision::parse(include_str!("decision-lexical.toml"))
                .unwrap_or_else(|err| panic!("decision-lexical.toml: {err}"))
        })
    }

    /// The probability that the top passage answers.
    pub fn probability(&self, features: &Features) -> f32 {
        let mut z = self.bias;
        for (name, value) in FEATURE_NAMES.iter().zip(features.values()) {
            z += self.weights.get(*name).copied().unwrap_or(0.0) * value;
        }
        1.0 / (1.0 + (-z).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_decision_parses_and_names_only_known_features() {
        for text in [include_str!("decision.toml"), include_str!("decision-lexical.toml")] {
            let decision = Decision::parse(text).expect("the shipped decisions parse");
            assert!((0.0..1.0).contains(&decision.threshold));
            assert!(decision.choices.is_none_or(|choices| choices <= decision.threshold));
        }
        assert!(Decision::parse("threshold = 0.5\nbias = 0\n[weights]\nvibes = 1").is_err());
    }

    #[test]
    fn plain_docs_need_less_evidence_than_curated_ones() {
        let decision = Decision::shipped_lexical();
        let evidence = Features { coverage: 0.6, score: 0.8, ..Features::default() };
        let plain = Features { uncurated: 1.0, ..evidence };
        assert!(decision.probability(&plain) > decision.probability(&evidence));
    }

    #[test]
    fn more_coverage_means_more_confidence() {
        let decision = Decision::shipped();
        let low = Features { coverage: 0.1, ..Features::default() };
        let high = Features { coverage: 0.9, ..Features::default() };
        assert!(decision.probability(&high) > decision.probability(&low));
    }
}
