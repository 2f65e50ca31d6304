//! Questions to answers: search, the confidence decision, roadmap pointers.

use crate::engine::knowledge::{Unit, UnitKind};
use crate::engine::search::{self, Hit};
use crate::engine::snapshot::Snapshot;

/// The outcome of a question, before it is rendered for any surface.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub(crate) question: String,
    /// False when nothing answers the question with confidence; `hits` are
    /// then suggestions only.
    pub answered: bool,
    /// Best first. When answered, `hits[0]` is the answer and the next
    /// `related` hits are related passages.
    pub hits: Vec<Hit>,
    /// Roadmap phases related to the answer.
    pub(crate) pointers: Vec<u8>,
}

/// Answers `question` from `snapshot`.
pub fn ask(snapshot: &Snapshot, question: &str) -> Answer {
    let settings = &snapshot.settings;
    let limit = 1 + settings.related.max(settings.suggestions);
    let mut hits = snapshot.index.search(question, limit);
    if let Some(phase) =
        named_phase_in(question, &snapshot.knowledge).and_then(|number| snapshot.knowledge.phase(number))
    {
        // "What happens in phase 3?" is answered by phase 3, whatever else shares its words.
        let position = hits.iter().position(|hit| hit.unit == phase.unit);
        let hit = position.map(|at| hits.remove(at)).unwrap_or(Hit { unit: phase.unit, score: 0.0, coverage: 1.0 });
        let score = hits.first().map_or(hit.score, |best| best.score.max(hit.score));
        hits.insert(0, Hit { score, coverage: hit.coverage.max(settings.min_confidence), ..hit });
    }
    let answered = hits.first().is_some_and(|best| best.coverage >= settings.min_confidence);
    let pointers = match (answered, hits.first()) {
        (true, Some(best)) => pointers(&snapshot.knowledge.units[best.unit]),
        _ => Vec::new(),
    };
    let hits = if answered { related(snapshot, hits) } else { suggestions(snapshot, hits) };
    Answer { question: question.to_string(), answered, hits, pointers }
}

/// The roadmap phase a question names: "phase 3", "stage 2", "the second phase".
pub(crate) fn named_phase(question: &str) -> Option<u8> {
    const PHASE_WORDS: [&str; 3] = ["phase", "stage", "step"];
    let words: Vec<String> = search::words(question).collect();
    words.windows(2).find_map(|pair| {
        let (first, second) = (pair[0].as_str(), pair[1].as_str());
        if PHASE_WORDS.contains(&first) {
            return second.parse::<u8>().ok().filter(|n| *n > 0);
        }
        let number = crate::engine::words::ordinal_number(first)?;
        PHASE_WORDS.contains(&second).then_some(number)
    })
}

/// Like `named_phase`, and "the last/final phase" is the last phase of `knowledge`.
fn named_phase_in(question: &str, knowledge: &crate::engine::knowledge::Knowledge) -> Option<u8> {
    if let Some(number) = named_phase(question) {
        return Some(number);
    }
    let words: Vec<String> = search::words(question).collect();
    let last = words.windows(2).any(|pair| {
        matches!(pair[0].as_str(), "last" | "final") && matches!(pair[1].as_str(), "phase" | "stage" | "step")
    });
    last.then(|| knowledge.phase_numbers().last().copied()).flatten()
}

/// The phases an answer points to: a phase itself, or what its content declares.
fn pointers(unit: &Unit) -> Vec<u8> {
    let mut phases = unit.phases.clone();
    if unit.kind == UnitKind::Overview {
        // The overview lists every phase; pointing at all of them adds nothing.
        phases.clear();
    }
    phases
}

/// Keeps the answer and the related hits that are themselves confident and
/// say something different (not another passage of the same heading).
fn related(snapshot: &Snapshot, hits: Vec<Hit>) -> Vec<Hit> {
    let settings = &snapshot.settings;
    let units = &snapshot.knowledge.units;
    let mut kept: Vec<Hit> = Vec::new();
    for hit in hits {
        let title = &units[hit.unit].title;
        let first = kept.is_empty();
        if first || (hit.coverage >= settings.min_confidence && !kept.iter().any(|k| &units[k.unit].title == title)) {
            kept.push(hit);
        }
        if kept.len() > settings.related {
            break;
        }
    }
    kept
}

/// Distinct titles, best first, as suggestions for an unanswered question.
fn suggestions(snapshot: &Snapshot, hits: Vec<Hit>) -> Vec<Hit> {
    let units = &snapshot.knowledge.units;
    let mut kept: Vec<Hit> = Vec::new();
    for hit in hits {
        if !kept.iter().any(|k| units[k.unit].title == units[hit.unit].title) {
            kept.push(hit);
        }
    }
    kept.truncate(snapshot.settings.suggestions);
    kept
}

#[cfg(test)]
mod tests {
    use super::named_phase;

    #[test]
    fn phases_are_named_by_number_or_ordinal() {
        let cases = [
            ("What happens in phase 3?", Some(3)),
            ("tell me about stage 2", Some(2)),
            ("the second phase?", Some(2)),
            ("what is the first step", Some(1)),
            ("phase 0", None),
            ("how many phases are there", None),
            ("first things first", None),
        ];
        for (question, expected) in cases {
            assert_eq!(named_phase(question), expected, "{question}");
        }
    }
}
