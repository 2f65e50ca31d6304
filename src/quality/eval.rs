//! Question sets with expected phrases, run against a snapshot.
//!
//! The format is that of the public question set (`tests/public-questions.toml`):
//! `[[case]]` tables with a `question` and either `expect_any` (a passage the
//! reply answers with contains one of these, case-insensitive, whitespace
//! folded) or `expect_none = true` (the bot must decline), and optionally the
//! `phase` the answer should point to and `also_any` (phrases of the answer to
//! a second question in the same message).
//!
//! Every case lands in one cell of a confusion table: answerable cases are
//! right, answered with the wrong passage, or declined; off-topic cases are
//! answered (a false answer) or declined. A case is also *helped* or not: a
//! declined one is helped when the right passage is among the choices the
//! reply offers, and an off-topic one only when it gets neither an answer nor choices.

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
    /// For two questions in one message: phrases the other answer must contain.
    #[serde(default)]
    pub(crate) also_any: Vec<String>,
}

/// Where a case landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Verdict {
    Right,
    WrongPassage,
    Declined,
    OffTopicAnswered,
    OffTopicDeclined,
}

impl Verdict {
    pub(crate) fn passed(self) -> bool {
        matches!(self, Verdict::Right | Verdict::OffTopicDeclined)
    }
}

/// Counts per verdict, and how many cases the reply helped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Confusion {
    pub(crate) right: usize,
    pub(crate) wrong_passage: usize,
    pub(crate) declined: usize,
    pub(crate) off_topic_answered: usize,
    pub(crate) off_topic_declined: usize,
    /// Off-topic cases declined but offered choices (not helped).
    pub(crate) off_topic_offered: usize,
    /// Cases helped: answered right, or declined with the right passage among
    /// the choices; off-topic ones with neither an answer nor choices.
    pub(crate) helped: usize,
}

impl Confusion {
    pub(crate) fn of<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> Confusion {
        let mut confusion = Confusion::default();
        for outcome in outcomes {
            *match outcome.verdict {
                Verdict::Right => &mut confusion.right,
                Verdict::WrongPassage => &mut confusion.wrong_passage,
                Verdict::Declined => &mut confusion.declined,
                Verdict::OffTopicAnswered => &mut confusion.off_topic_answered,
                Verdict::OffTopicDeclined => &mut confusion.off_topic_declined,
            } += 1;
            confusion.off_topic_offered +=
                usize::from(outcome.verdict == Verdict::OffTopicDeclined && !outcome.choices.is_empty());
            confusion.helped += usize::from(outcome.helped);
        }
        confusion
    }

    fn answerable(&self) -> usize {
        self.right + self.wrong_passage + self.declined
    }

    fn off_topic(&self) -> usize {
        self.off_topic_answered + self.off_topic_declined
    }

    /// A row of the confusion table `eval --table` prints: the counts, then
    /// the share of answerable cases answered right and of all cases helped.
    pub(crate) fn table_row(&self, name: &str) -> String {
        let total = self.answerable() + self.off_topic();
        format!(
            "| `{name}` | {} | {} | {} | {} | {} | {} | {:.1}% | {:.1}% |",
            self.right,
            self.wrong_passage,
            self.declined,
            self.off_topic_answered,
            self.off_topic_offered,
            self.off_topic_declined - self.off_topic_offered,
            percent(self.right, self.answerable()),
            percent(self.helped, total),
        )
    }

    /// The header of the table `table_row` makes rows of.
    pub(crate) const TABLE_HEADER: &'static str = "| file | right | wrong passage | declined but answerable | off-topic answered | off-topic offered choices | off-topic declined | right of answerable | helped |\n|---|---|---|---|---|---|---|---|---|";

    /// One line: the counts, and the rates that matter.
    pub(crate) fn summary(&self) -> String {
        let (answerable, off_topic) = (self.answerable(), self.off_topic());
        format!(
            "right {} · wrong passage {} · declined but answerable {} · off-topic answered {} · off-topic declined {} \
             ({} offered choices) · helped {} ({:.1}% of {answerable} answerable right, {:.1}% of {off_topic} \
             off-topic answered, {:.1}% of all helped)",
            self.right,
            self.wrong_passage,
            self.declined,
            self.off_topic_answered,
            self.off_topic_declined,
            self.off_topic_offered,
            self.helped,
            percent(self.right, answerable),
            percent(self.off_topic_answered, off_topic),
            percent(self.helped, answerable + off_topic),
        )
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// What happened to one case.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Outcome {
    pub(crate) question: String,
    pub(crate) passed: bool,
    pub(crate) verdict: Verdict,
    /// Why it failed; empty when it passed.
    pub(crate) reason: String,
    /// The decision's confidence in the best passage.
    pub(crate) confidence: f32,
    /// The best passage's id, answered or not.
    pub(crate) top: Option<String>,
    /// Whether the best passage contains an expected phrase, answered or
    /// not: a declined case with a right top is the decision's miss, not the ranking's.
    pub(crate) top_right: bool,
    /// The passages offered as choices, by id (empty when answered or sure of none).
    pub(crate) choices: Vec<String>,
    /// The first right passage among them: what a member would pick.
    pub(crate) right_choice: Option<String>,
    /// Answered right or a right passage among the choices; for off-topic
    /// cases, neither an answer nor choices.
    pub(crate) helped: bool,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) passed: usize,
    pub(crate) failed: usize,
    pub(crate) confusion: Confusion,
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
    let confusion = Confusion::of(outcomes.iter());
    Report { passed, failed: outcomes.len() - passed, confusion, outcomes }
}

/// Judges one answer by the rule above.
pub(crate) fn judge(snapshot: &Snapshot, case: &Case, answer: &Answer) -> Outcome {
    let units = &snapshot.knowledge.units;
    let top = answer.hits.first().map(|hit| &units[hit.unit]);
    // The passages the reply answers with: the main one and any second answer's.
    let answered: Vec<&crate::engine::knowledge::Unit> = if answer.answered {
        top.into_iter().chain(answer.more.iter().map(|part| &units[part.hit.unit])).collect()
    } else {
        Vec::new()
    };
    let contains_any = |phrases: &[String]| {
        answered.iter().any(|unit| phrases.iter().any(|phrase| fold(&unit.text).contains(&fold(phrase))))
    };
    let pointers: Vec<u8> =
        answer.pointers.iter().chain(answer.more.iter().flat_map(|part| &part.pointers)).copied().collect();
    let describe = |unit: &crate::engine::knowledge::Unit| format!("`{}` ({})", unit.title, unit.id);
    let (verdict, reason) = match (case.expect_none, answered.first()) {
        (true, Some(unit)) => (Verdict::OffTopicAnswered, format!("expected no answer, got {}", describe(unit))),
        (true, None) => (Verdict::OffTopicDeclined, String::new()),
        (false, None) => {
            let closest = top.map_or_else(|| "nothing".to_string(), describe);
            (Verdict::Declined, format!("not answered (closest: {closest})"))
        }
        (false, Some(unit)) => {
            if !contains_any(&case.expect_any) {
                let reason = format!("answered with {}, which contains none of {:?}", describe(unit), case.expect_any);
                (Verdict::WrongPassage, reason)
            } else if case.phase.is_some_and(|phase| !pointers.contains(&phase)) {
                let expected = case.phase.unwrap_or_default();
                (Verdict::WrongPassage, format!("answer points to phases {pointers:?}, expected phase {expected}"))
            } else if !case.also_any.is_empty() && !contains_any(&case.also_any) {
                (Verdict::WrongPassage, format!("the second question is not answered: none of {:?}", case.also_any))
            } else {
                (Verdict::Right, String::new())
            }
        }
    };
    let is_right = |unit: &crate::engine::knowledge::Unit| {
        case.expect_any.iter().any(|phrase| fold(&unit.text).contains(&fold(phrase)))
    };
    let top_right = top.is_some_and(is_right);
    let right_choice = (!case.expect_none && !answer.answered)
        .then(|| answer.choices.iter().map(|hit| &units[hit.unit]).find(|unit| is_right(unit)))
        .flatten()
        .map(|unit| unit.id.clone());
    let helped = match verdict {
        Verdict::Right => true,
        Verdict::Declined => right_choice.is_some(),
        Verdict::OffTopicDeclined => answer.choices.is_empty(),
        Verdict::WrongPassage | Verdict::OffTopicAnswered => false,
    };
    Outcome {
        question: case.question.clone(),
        passed: verdict.passed(),
        verdict,
        reason,
        confidence: answer.confidence,
        top: top.map(|unit| unit.id.clone()),
        top_right,
        choices: answer.choices.iter().map(|hit| units[hit.unit].id.clone()).collect(),
        right_choice,
        helped,
    }
}

/// Lowercase with runs of whitespace folded to one space.
pub(crate) fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}
