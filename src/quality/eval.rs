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
//!
//! A *borderline* case (`borderline = true`: a passage answers it in part, or
//! answers a broader question, so a reasonable moderator could go either
//! way) is right when it is declined (a partly-covered reply is a decline)
//! or answered with a passage its `expect_any` names. `source` keeps a real
//! question's page. A report over answerable and off-topic cases gives the
//! AUC of the confidence between the two (borderline cases left out): how
//! well the decision's score tells what the knowledge answers.

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
    /// Partly answered: right when declined or answered with a passage `expect_any` names.
    #[serde(default)]
    pub(crate) borderline: bool,
    /// Where a real question was asked (its page), for the record.
    #[serde(default)]
    pub(crate) source: Option<String>,
}

impl Case {
    /// Firmly answerable: some passage answers it, and only such a passage is right.
    pub(crate) fn answerable(&self) -> bool {
        !self.expect_none && !self.borderline
    }
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
    /// A borderline case declined, or answered with a passage it names.
    BorderlineKept,
    /// A borderline case answered with a passage it does not name.
    BorderlineMissed,
}

impl Verdict {
    pub(crate) fn passed(self) -> bool {
        matches!(self, Verdict::Right | Verdict::OffTopicDeclined | Verdict::BorderlineKept)
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
    /// Borderline cases declined or answered with a passage they name.
    pub(crate) borderline_kept: usize,
    /// Borderline cases answered with another passage.
    pub(crate) borderline_missed: usize,
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
                Verdict::BorderlineKept => &mut confusion.borderline_kept,
                Verdict::BorderlineMissed => &mut confusion.borderline_missed,
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

    fn borderline(&self) -> usize {
        self.borderline_kept + self.borderline_missed
    }

    /// Every case's verdict that passed, of all cases.
    fn right_of_all(&self) -> String {
        let passed = self.right + self.off_topic_declined + self.borderline_kept;
        let total = self.answerable() + self.off_topic() + self.borderline();
        format!("{passed}/{total} ({:.1}%)", percent(passed, total))
    }

    /// A row of the confusion table `eval --table` prints: the counts
    /// (borderline ones as right of all borderline), then the share of
    /// answerable cases answered right, of all cases helped, and of all right.
    pub(crate) fn table_row(&self, name: &str) -> String {
        let total = self.answerable() + self.off_topic() + self.borderline();
        format!(
            "| `{name}` | {} | {} | {} | {} | {} | {} | {} | {:.1}% | {:.1}% | {} |",
            self.right,
            self.wrong_passage,
            self.declined,
            self.off_topic_answered,
            self.off_topic_offered,
            self.off_topic_declined - self.off_topic_offered,
            if self.borderline() == 0 {
                "–".to_string()
            } else {
                format!("{}/{}", self.borderline_kept, self.borderline())
            },
            percent(self.right, self.answerable()),
            percent(self.helped, total),
            self.right_of_all(),
        )
    }

    /// The header of the table `table_row` makes rows of.
    pub(crate) const TABLE_HEADER: &'static str = "| file | right | wrong passage | declined but answerable | off-topic answered | off-topic offered choices | off-topic declined | borderline right | right of answerable | helped | right of all |\n|---|---|---|---|---|---|---|---|---|---|---|";

    /// One line: the counts, and the rates that matter.
    pub(crate) fn summary(&self) -> String {
        let (answerable, off_topic) = (self.answerable(), self.off_topic());
        let borderline = match self.borderline() {
            0 => String::new(),
            n => format!(" · borderline right {} of {n} · right of all {}", self.borderline_kept, self.right_of_all()),
        };
        format!(
            "right {} · wrong passage {} · declined but answerable {} · off-topic answered {} · off-topic declined {} \
             ({} offered choices) · helped {} ({:.1}% of {answerable} answerable right, {:.1}% of {off_topic} \
             off-topic answered, {:.1}% of all helped){borderline}",
            self.right,
            self.wrong_passage,
            self.declined,
            self.off_topic_answered,
            self.off_topic_declined,
            self.off_topic_offered,
            self.helped,
            percent(self.right, answerable),
            percent(self.off_topic_answered, off_topic),
            percent(self.helped, answerable + off_topic + self.borderline()),
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
    /// The case's page, for real questions.
    pub(crate) source: Option<String>,
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
    /// The AUC of the confidence between answerable and off-topic cases;
    /// none without both.
    pub(crate) auc: Option<f64>,
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
            let problem = if case.borderline && case.expect_none {
                Some("is borderline, so it cannot also expect none")
            } else if case.borderline && (case.phase.is_some() || !case.also_any.is_empty()) {
                Some("is borderline: it names passages only, no phase or second answer")
            } else if !case.borderline && case.expect_any.is_empty() != case.expect_none {
                Some("needs either expect_any or expect_none = true")
            } else {
                None
            };
            if let Some(problem) = problem {
                let message = format!("case \"{}\" {problem}", case.question);
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
    let scored = |keep: fn(&Case) -> bool| -> Vec<f32> {
        set.cases.iter().zip(&outcomes).filter(|(case, _)| keep(case)).map(|(_, outcome)| outcome.confidence).collect()
    };
    let auc = auc(&scored(Case::answerable), &scored(|case| case.expect_none));
    Report { passed, failed: outcomes.len() - passed, confusion, auc, outcomes }
}

/// The probability that a random positive scores above a random negative
/// (ties count half): the area under the ROC curve. None without both.
pub(crate) fn auc(positives: &[f32], negatives: &[f32]) -> Option<f64> {
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    let wins: f64 = positives
        .iter()
        .flat_map(|p| {
            negatives.iter().map(move |n| match p.total_cmp(n) {
                std::cmp::Ordering::Greater => 1.0,
                std::cmp::Ordering::Equal => 0.5,
                std::cmp::Ordering::Less => 0.0,
            })
        })
        .sum();
    Some(wins / (positives.len() * negatives.len()) as f64)
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
        (false, None) if case.borderline => (Verdict::BorderlineKept, String::new()),
        // Only the main passage: a second answer cannot make a borderline case right.
        (false, Some(unit)) if case.borderline => {
            if case.expect_any.iter().any(|phrase| fold(&unit.text).contains(&fold(phrase))) {
                (Verdict::BorderlineKept, String::new())
            } else {
                let reason = format!("borderline, answered with {}, which it does not name", describe(unit));
                (Verdict::BorderlineMissed, reason)
            }
        }
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
    let right_choice = (case.answerable() && !answer.answered)
        .then(|| answer.choices.iter().map(|hit| &units[hit.unit]).find(|unit| is_right(unit)))
        .flatten()
        .map(|unit| unit.id.clone());
    let helped = match verdict {
        Verdict::Right => true,
        Verdict::Declined => right_choice.is_some(),
        Verdict::OffTopicDeclined => answer.choices.is_empty(),
        Verdict::BorderlineKept => true,
        Verdict::WrongPassage | Verdict::OffTopicAnswered | Verdict::BorderlineMissed => false,
    };
    Outcome {
        question: case.question.clone(),
        source: case.source.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::search::Hit;

    fn snapshot() -> Snapshot {
        let article = "# Guide\n\n## Timing\n\nA realistic transition takes about eighteen months.\n\n\
                       ## Degrees\n\nA degree is not required; curiosity and practice are.\n";
        Snapshot::from_sources(&[("guide.md".into(), article.into())], Default::default()).expect("knowledge builds")
    }

    fn case(toml: &str) -> Case {
        let set: QuestionSet = toml::from_str(&format!("[[case]]\nquestion = \"q\"\n{toml}")).expect("case parses");
        set.cases.into_iter().next().expect("one case")
    }

    fn answer_with(snapshot: &Snapshot, title: Option<&str>) -> Answer {
        let mut answer = answer::ask(snapshot, "q");
        answer.answered = title.is_some();
        answer.hits = title
            .map(|title| snapshot.knowledge.units.iter().position(|unit| unit.title == title).expect("unit"))
            .map(|unit| vec![Hit { unit, score: 1.0, coverage: 1.0 }])
            .unwrap_or_default();
        answer.more.clear();
        answer.choices.clear();
        answer
    }

    #[test]
    fn a_borderline_case_is_right_declined_or_answered_with_a_passage_it_names() {
        let snapshot = snapshot();
        let borderline =
            case("expect_any = [\"eighteen months\"]\nborderline = true\nsource = \"https://example.org/t/1\"");
        let verdict = |title| judge(&snapshot, &borderline, &answer_with(&snapshot, title)).verdict;
        assert_eq!(verdict(None), Verdict::BorderlineKept);
        assert_eq!(verdict(Some("Timing")), Verdict::BorderlineKept);
        assert_eq!(verdict(Some("Degrees")), Verdict::BorderlineMissed);
        // Named by nobody: only a decline is right.
        let unnamed = case("borderline = true");
        assert_eq!(
            judge(&snapshot, &unnamed, &answer_with(&snapshot, Some("Timing"))).verdict,
            Verdict::BorderlineMissed
        );
        assert_eq!(judge(&snapshot, &unnamed, &answer_with(&snapshot, None)).verdict, Verdict::BorderlineKept);
    }

    #[test]
    fn borderline_cases_count_apart_and_in_right_of_all() {
        let snapshot = snapshot();
        let cases = [
            case("expect_any = [\"eighteen months\"]"),
            case("expect_none = true"),
            case("expect_any = [\"eighteen months\"]\nborderline = true"),
        ];
        let outcomes: Vec<Outcome> = [Some("Timing"), Some("Degrees"), Some("Degrees")]
            .into_iter()
            .zip(&cases)
            .map(|(title, case)| judge(&snapshot, case, &answer_with(&snapshot, title)))
            .collect();
        let confusion = Confusion::of(outcomes.iter());
        assert_eq!((confusion.right, confusion.off_topic_answered, confusion.borderline_missed), (1, 1, 1));
        assert!(confusion.summary().ends_with("borderline right 0 of 1 · right of all 1/3 (33.3%)"));
        assert!(confusion.table_row("f").contains("| 0/1 |"), "{}", confusion.table_row("f"));
    }

    #[test]
    fn a_borderline_case_cannot_also_expect_none() {
        let dir = std::env::temp_dir().join(format!("eval-borderline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("q.toml");
        std::fs::write(&file, "[[case]]\nquestion = \"q\"\nexpect_none = true\nborderline = true\n").expect("written");
        let err = QuestionSet::load(&file).expect_err("refused").to_string();
        assert!(err.contains("cannot also expect none"), "{err}");
        std::fs::write(&file, "[[case]]\nquestion = \"q\"\nborderline = true\n").expect("written");
        assert!(QuestionSet::load(&file).is_ok(), "a borderline case may name no passage");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn auc_is_the_share_of_pairs_ordered_right() {
        assert_eq!(auc(&[0.9, 0.8], &[0.1, 0.2]), Some(1.0));
        assert_eq!(auc(&[0.1], &[0.9]), Some(0.0));
        assert_eq!(auc(&[0.5, 0.9], &[0.5]), Some(0.75), "ties count half");
        assert_eq!(auc(&[], &[0.5]), None);
    }
}
