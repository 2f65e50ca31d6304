//! Question sets with expected phrases, run against a snapshot.
//!
//! The format is that of the public question set (`tests/public-questions.toml`): `[[case]]` tables with a
//! `question` and either `expect_any` (the answer's main passage contains one
//! of these, case-insensitive, whitespace folded) or `expect_none = true`
//! (the bot must decline), and optionally the `phase` it should point to.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::engine::answer::{self, Answer};
use crate::engine::snapshot::Snapshot;
use crate::quality::QualityError;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuestionSet {
    #[serde(rename = "case", default)]
    pub(crate) cases: Vec<Case>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Case {
    pub(crate) question: String,
    #[serde(default)]
    pub(crate) expect_any: Vec<String>,
    #[serde(default)]
    pub(crate) expect_none: bool,
    pub(crate) phase: Option<u8>,
}

/// What happened to one case.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Outcome {
    pub(crate) question: String,
    pub(crate) passed: bool,
    /// Why it failed; empty when it passed.
    pub(crate) reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) passed: usize,
    pub(crate) failed: usize,
    pub(crate) outcomes: Vec<Outcome>,
}

impl Report {
    pub(crate) fn pass_rate(&self) -> f64 {
        let total = self.passed + self.failed;
        if total == 0 {
            1.0
        } else {
            self.passed as f64 / total as f64
        }
    }

    pub(crate) fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|outcome| !outcome.passed)
    }
}

impl QuestionSet {
    pub(crate) fn load(path: &Path) -> Result<QuestionSet, QualityError> {
        let text = std::fs::read_to_string(path).map_err(QualityError::read_questions(path))?;
        let set: QuestionSet = toml::from_str(&text)
            .map_err(|err| QualityError::Format { path: path.into(), message: err.to_string().trim_end().into() })?;
        for case in &set.cases {
            if case.expect_any.is_empty() != case.expect_none {
                let message = format!("case \"{}\" needs either expect_any or expect_none = true", case.question);
                return Err(QualityError::Format { path: path.into(), message });
            }
        }
        Ok(set)
    }
}

/// Runs every case against `snapshot`.
pub(crate) fn run(snapshot: &Snapshot, set: &QuestionSet) -> Report {
    let outcomes: Vec<Outcome> =
        set.cases.iter().map(|case| judge(snapshot, case, &answer::ask(snapshot, &case.question))).collect();
    let passed = outcomes.iter().filter(|outcome| outcome.passed).count();
    Report { passed, failed: outcomes.len() - passed, outcomes }
}

/// Judges one answer by the rule above.
pub(crate) fn judge(snapshot: &Snapshot, case: &Case, answer: &Answer) -> Outcome {
    let top = answer.hits.first().map(|hit| &snapshot.knowledge.units[hit.unit]);
    let reason = if case.expect_none {
        match (answer.answered, top) {
            (true, Some(unit)) => format!("expected no answer, got `{}` ({})", unit.title, unit.id),
            _ => String::new(),
        }
    } else {
        match (answer.answered, top) {
            (true, Some(unit)) => {
                let text = fold(&unit.text);
                if !case.expect_any.iter().any(|phrase| text.contains(&fold(phrase))) {
                    format!(
                        "answered with `{}` ({}), which contains none of {:?}",
                        unit.title, unit.id, case.expect_any
                    )
                } else if case.phase.is_some_and(|phase| !answer.pointers.contains(&phase)) {
                    format!(
                        "answer points to phases {:?}, expected phase {}",
                        answer.pointers,
                        case.phase.unwrap_or_default()
                    )
                } else {
                    String::new()
                }
            }
            _ => {
                let closest =
                    top.map_or_else(|| "nothing".to_string(), |unit| format!("`{}` ({})", unit.title, unit.id));
                format!("not answered (closest: {closest})")
            }
        }
    };
    Outcome { question: case.question.clone(), passed: reason.is_empty(), reason }
}

/// Lowercase with runs of whitespace folded to one space.
pub(crate) fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}
