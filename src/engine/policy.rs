//! The answer policy: every tuned number of the answering rules and of the
//! search that the fitted decision does not learn, as data (`policy.toml`,
//! beside this file) rather than `const`s, so that a reviewer diffs a
//! retune and an operator can try one without a build (`answer.policy`).
//! Read and checked at load like the decision: every key must be present
//! and each number within what it means, and a bad file is an error naming
//! the key.

use std::sync::OnceLock;

use serde::Deserialize;

/// The tuned numbers of `engine::answer`, with the search's in `search`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerPolicy {
    /// Least coverage for a passage to be listed as related under an answer.
    pub related_coverage: f32,
    /// How many of the whole message's hits may back a question segment's passage.
    pub corroborating_hits: usize,
    /// Least coverage of a second question by a passage the whole message backs.
    pub corroborated_coverage: f32,
    /// How much less sure the decision may be of a second question than of the first.
    pub second_question_slack: f32,
    /// Least coverage of a second question by its own passage.
    pub second_question_coverage: f32,
    /// Lexical hits considered for fusion with the matcher's ranking.
    pub fusion_pool: usize,
    /// The matcher's best passages that join the lexical ones in fusion.
    pub matched: usize,
    /// How much the lexical score (relative to the best hit's) adds to the
    /// matcher's probability when the two rankings are fused (tuned on the
    /// chatty dev set: 0.25, 0.5 and 1.0 gave 97, 104 and 101 right with 30
    /// examples per passage, and 1.0 kept every tidy question).
    pub lexical_share: f32,
    /// How much the cosine to a passage's nearest training text adds: the
    /// nearest example speaks for a member's exact phrasing, which the
    /// regression averages away (dev: +1, tidy paraphrases +1).
    pub nearest_share: f32,
    /// Share of a reading's known weight in words new to the matcher beyond
    /// which the search alone judges it.
    pub novel_share: f32,
    /// How many words a decline names as not covered.
    pub not_covered: usize,
    pub search: SearchPolicy,
}

/// The tuned numbers of `engine::search`: the `[search]` table.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchPolicy {
    /// Share of an unknown word's weight kept when the word is common English.
    pub common_unknown_share: f32,
    /// Least weight of a known word in `coverage`, whatever its idf.
    pub topic_weight_floor: f32,
    /// Least cosine similarity for an indexed word to stand in for an unknown one.
    pub min_similarity: f32,
    /// Most indexed words one unknown word stands for.
    pub neighbours: usize,
    /// Weight of a pair of neighbouring question words found together, relative to one word.
    pub phrase_boost: f32,
    /// Most words allowed between such a pair in a passage.
    pub phrase_slop: u32,
    /// How many candidates BM25 hands to the coverage re-ranking.
    pub candidates: usize,
}

/// Why a policy file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Not TOML, a key missing or unknown, or a value of the wrong type
    /// (toml's message names the key).
    #[error("{0}")]
    Format(#[from] toml::de::Error),
    #[error("`{key}` is {value}, but should be {expected}")]
    OutOfRange { key: &'static str, value: f64, expected: &'static str },
}

/// What a number may be, by what it means.
#[derive(Clone, Copy)]
enum Meaning {
    /// A share, a coverage, a probability or a cosine that a rule compares
    /// with: 0 to 1.
    Share,
    /// A weight added to a score: not negative.
    Weight,
    /// How many of something: at least 1.
    Count,
    /// A distance in words: 0 (side by side) or more.
    Distance,
}

impl Meaning {
    fn admits(self, value: f64) -> bool {
        value.is_finite()
            && match self {
                Meaning::Share => (0.0..=1.0).contains(&value),
                Meaning::Weight | Meaning::Distance => value >= 0.0,
                Meaning::Count => value >= 1.0,
            }
    }

    fn expected(self) -> &'static str {
        match self {
            Meaning::Share => "between 0 and 1",
            Meaning::Weight => "a number of 0 or more",
            Meaning::Count => "at least 1",
            Meaning::Distance => "0 or more",
        }
    }
}

impl AnswerPolicy {
    /// Parses and checks a policy file.
    pub fn parse(text: &str) -> Result<AnswerPolicy, PolicyError> {
        let policy: AnswerPolicy = toml::from_str(text)?;
        policy.check()?;
        Ok(policy)
    }

    /// The policy shipped with the bot (`src/engine/policy.toml`).
    pub fn shipped() -> &'static AnswerPolicy {
        static SHIPPED: OnceLock<AnswerPolicy> = OnceLock::new();
        SHIPPED.get_or_init(|| {
            // A test parses the same file, so this cannot fail in a released build.
            AnswerPolicy::parse(include_str!("policy.toml")).unwrap_or_else(|err| panic!("policy.toml: {err}"))
        })
    }

    /// Every number with its key and what it may be; the first out of range is the error.
    fn check(&self) -> Result<(), PolicyError> {
        let search = &self.search;
        let numbers: [(&'static str, f64, Meaning); 18] = [
            ("related_coverage", f64::from(self.related_coverage), Meaning::Share),
            ("corroborating_hits", self.corroborating_hits as f64, Meaning::Count),
            ("corroborated_coverage", f64::from(self.corroborated_coverage), Meaning::Share),
            ("second_question_slack", f64::from(self.second_question_slack), Meaning::Share),
            ("second_question_coverage", f64::from(self.second_question_coverage), Meaning::Share),
            ("fusion_pool", self.fusion_pool as f64, Meaning::Count),
            ("matched", self.matched as f64, Meaning::Count),
            ("lexical_share", f64::from(self.lexical_share), Meaning::Weight),
            ("nearest_share", f64::from(self.nearest_share), Meaning::Weight),
            ("novel_share", f64::from(self.novel_share), Meaning::Share),
            ("not_covered", self.not_covered as f64, Meaning::Count),
            ("search.common_unknown_share", f64::from(search.common_unknown_share), Meaning::Share),
            ("search.topic_weight_floor", f64::from(search.topic_weight_floor), Meaning::Weight),
            ("search.min_similarity", f64::from(search.min_similarity), Meaning::Share),
            ("search.neighbours", search.neighbours as f64, Meaning::Count),
            ("search.phrase_boost", f64::from(search.phrase_boost), Meaning::Weight),
            ("search.phrase_slop", f64::from(search.phrase_slop), Meaning::Distance),
            ("search.candidates", search.candidates as f64, Meaning::Count),
        ];
        match numbers.into_iter().find(|&(_, value, meaning)| !meaning.admits(value)) {
            Some((key, value, meaning)) => Err(PolicyError::OutOfRange { key, value, expected: meaning.expected() }),
            None => Ok(()),
        }
    }
}

impl Default for SearchPolicy {
    /// The shipped policy's search numbers, for indexes built outside a snapshot.
    fn default() -> Self {
        AnswerPolicy::shipped().search
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("policy.toml");

    /// The shipped file with `key = …` (a whole line) replaced by `line`.
    fn with_line(key: &str, line: &str) -> String {
        let prefix = format!("{key} = ");
        let replaced: Vec<&str> =
            SHIPPED.lines().map(|shipped| if shipped.starts_with(&prefix) { line } else { shipped }).collect();
        assert_ne!(replaced.join("\n"), SHIPPED.trim_end(), "no line sets `{key}`");
        replaced.join("\n")
    }

    fn error_of(text: &str) -> String {
        AnswerPolicy::parse(text).expect_err("the policy is refused").to_string()
    }

    #[test]
    fn the_shipped_policy_parses_and_passes_its_checks() {
        let policy = AnswerPolicy::parse(SHIPPED).expect("the shipped policy parses");
        assert_eq!(&policy, AnswerPolicy::shipped());
        assert_eq!(SearchPolicy::default(), policy.search);
    }

    #[test]
    fn every_key_must_be_present() {
        let error = error_of(&with_line("fusion_pool", ""));
        assert!(error.contains("fusion_pool"), "{error}");
        let error = error_of(&with_line("phrase_slop", ""));
        assert!(error.contains("phrase_slop"), "{error}");
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        let error = error_of(&format!("vibes = 0.5\n{SHIPPED}"));
        assert!(error.contains("vibes"), "{error}");
        let error = error_of(&SHIPPED.replace("[search]", "[search]\nphrase_slope = 2"));
        assert!(error.contains("phrase_slope"), "{error}");
    }

    #[test]
    fn shares_and_coverages_lie_between_0_and_1() {
        for (key, bad) in [
            ("related_coverage", "1.2"),
            ("second_question_coverage", "-0.1"),
            ("second_question_slack", "2"),
            ("novel_share", "nan"),
            ("common_unknown_share", "1.5"),
            ("min_similarity", "-0.5"),
        ] {
            let error = error_of(&with_line(key, &format!("{key} = {bad}")));
            assert!(error.contains(key) && error.contains("between 0 and 1"), "{key} = {bad}: {error}");
        }
        // The bounds themselves are allowed.
        assert!(AnswerPolicy::parse(&with_line("novel_share", "novel_share = 1.0")).is_ok());
        assert!(AnswerPolicy::parse(&with_line("related_coverage", "related_coverage = 0.0")).is_ok());
    }

    #[test]
    fn counts_are_at_least_1_and_weights_not_negative() {
        for key in ["corroborating_hits", "fusion_pool", "matched", "not_covered", "neighbours", "candidates"] {
            let error = error_of(&with_line(key, &format!("{key} = 0")));
            assert!(error.contains(key) && error.contains("at least 1"), "{key}: {error}");
        }
        for key in ["lexical_share", "nearest_share", "topic_weight_floor", "phrase_boost"] {
            let error = error_of(&with_line(key, &format!("{key} = -1.0")));
            assert!(error.contains(key) && error.contains("0 or more"), "{key}: {error}");
        }
        // Side by side only is a phrase slop too.
        assert!(AnswerPolicy::parse(&with_line("phrase_slop", "phrase_slop = 0")).is_ok());
        // A count is a whole number: toml's own error names the key.
        let error = error_of(&with_line("matched", "matched = 2.5"));
        assert!(error.contains("matched"), "{error}");
    }
}
