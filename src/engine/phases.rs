//! Which roadmap phase a message names, however it names it: by number
//! ("phase 3", "stage 2"), by ordinal ("the second phase", "2nd phase"), by
//! position ("the opening stretch", "the end of the plan", "the final
//! phase") or by month ("around month 14"), from the roadmap's own phases
//! and month ranges, so any roadmap works. A word of one phase's title
//! before a word for a part ("the applied phase", "the orchestration
//! stage") points to that phase less surely (`titled_phase`): "stage" and
//! "integration" are CI words too.

use crate::engine::knowledge::Knowledge;
use crate::engine::search::words;
use crate::engine::words::{is_stop_word, ordinal_number, plan_position};

/// Words for a phase itself, after a number or an ordinal.
const PHASE_WORDS: [&str; 3] = ["phase", "stage", "step"];

/// Words for a part of a plan, after a position word ("opening stretch").
const PART_WORDS: [&str; 8] = ["phase", "stage", "stretch", "part", "months", "leg", "portion", "section"];

/// Words for the plan as a whole, in "the end of the plan".
const PLAN_WORDS: [&str; 7] = ["plan", "roadmap", "arc", "program", "months", "journey", "path"];

/// The number of an ordinal: "third", "3rd".
fn ordinal(word: &str) -> Option<u8> {
    ordinal_number(word).or_else(|| {
        let digits = word
            .strip_suffix("st")
            .or(word.strip_suffix("nd"))
            .or(word.strip_suffix("rd"))
            .or(word.strip_suffix("th"))?;
        digits.parse::<u8>().ok().filter(|n| *n > 0)
    })
}

/// The phase `words` name by number or ordinal: "phase 3", "the second phase".
fn numbered_phase(words: &[String]) -> Option<u8> {
    words.windows(2).find_map(|pair| {
        let (first, second) = (pair[0].as_str(), pair[1].as_str());
        if PHASE_WORDS.contains(&first) {
            return second.parse::<u8>().ok().filter(|n| *n > 0);
        }
        ordinal(first).filter(|_| PHASE_WORDS.contains(&second))
    })
}

/// The phase `question` names in the roadmap of `knowledge`, if it names one.
pub(crate) fn named_phase(question: &str, knowledge: &Knowledge) -> Option<u8> {
    let numbers = knowledge.phase_numbers();
    let (first, last) = (*numbers.first()?, *numbers.last()?);
    let words: Vec<String> = words(question).collect();
    if let Some(number) = numbered_phase(&words).filter(|n| numbers.contains(n)) {
        return Some(number);
    }
    let word = |at: usize| words.get(at).map_or("", String::as_str);
    for at in 0..words.len() {
        if let Some(at_start) = plan_position(word(at)) {
            // "the opening stretch", or "the end of the (18-month) plan".
            let part = PART_WORDS.contains(&word(at + 1));
            let of_plan = word(at + 1) == "of"
                && (at + 2..at + 6).take_while(|&next| next < words.len()).any(|next| PLAN_WORDS.contains(&word(next)));
            if part || of_plan {
                return Some(if at_start { first } else { last });
            }
        }
        if word(at) == "month" {
            // "month 14", "months 13-15": the phase whose months include the first number.
            let month = word(at + 1).parse::<u32>().ok().or_else(|| ordinal(word(at + 1)).map(u32::from));
            if let Some(month) = month {
                let mut phases = knowledge.roadmap.iter().flat_map(|roadmap| &roadmap.phases);
                if let Some(phase) =
                    phases.find(|phase| phase.months.is_some_and(|(from, to)| (from..=to).contains(&month)))
                {
                    return Some(phase.number);
                }
            }
        }
    }
    None
}

/// How many words before a word for a part may name the phase: "the small projects phase".
const TITLE_WORDS_BEFORE: usize = 3;

/// Letters two words must share at their start to count as one ("project", "projects").
const SHARED_PREFIX: usize = 5;

/// The phase `question` names by a word of its title, before a word for a
/// part: "the applied phase" is "Applied Projects". Only a title word that
/// no other phase's title shares counts.
pub(crate) fn titled_phase(question: &str, knowledge: &Knowledge) -> Option<u8> {
    let asked: Vec<String> = words(question).collect();
    let is_part = |word: &String| PART_WORDS.contains(&word.as_str()) && word != "months";
    // Most messages name no part of a plan: the titles are read only for those that do.
    if !asked.iter().any(is_part) {
        return None;
    }
    let phases: Vec<_> = knowledge.roadmap.iter().flat_map(|roadmap| &roadmap.phases).collect();
    let key = |word: &str| word.chars().take(SHARED_PREFIX).collect::<String>();
    let title_keys: Vec<Vec<String>> = phases
        .iter()
        .map(|phase| words(&phase.title).filter(|w| w.len() >= 4 && !is_stop_word(w)).map(|w| key(&w)).collect())
        .collect();
    for (at, word) in asked.iter().enumerate() {
        if !is_part(word) {
            continue;
        }
        for before in asked[at.saturating_sub(TITLE_WORDS_BEFORE)..at].iter().rev() {
            if before.len() < 4 || is_stop_word(before) {
                continue;
            }
            let wanted = key(before);
            let mut naming = title_keys.iter().enumerate().filter(|(_, keys)| keys.contains(&wanted));
            if let (Some((only, _)), None) = (naming.next(), naming.next()) {
                return Some(phases[only].number);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::knowledge::parse_sources;

    fn knowledge() -> Knowledge {
        let roadmap = "+++\nkind = \"roadmap\"\nmonths = 12\n+++\n# Plan\nIntro.\n## Phase 1: Start\nBegin here.\n## Phase 2: Middle\nGo on.\n## Phase 3: Finish\nEnd here.\n";
        parse_sources(&[("roadmap.md".to_string(), roadmap.to_string())]).0
    }

    /// Asserts that `find` gives each question its expected phase.
    fn check(cases: &[(&str, Option<u8>)], find: impl Fn(&str) -> Option<u8>) {
        for &(question, expected) in cases {
            assert_eq!(find(question), expected, "{question}");
        }
    }

    #[test]
    fn phases_are_named_by_number_or_ordinal() {
        let cases = [
            ("What happens in phase 3?", Some(3)),
            ("tell me about stage 2", Some(2)),
            ("the second phase?", Some(2)),
            ("what about the 2nd phase", Some(2)),
            ("what is the first step", Some(1)),
            ("phase 0", None),
            ("how many phases are there", None),
            ("first things first", None),
        ];
        check(&cases, |question| numbered_phase(&words(question).collect::<Vec<_>>()));
    }

    #[test]
    fn phases_are_named_by_position_and_month() {
        let knowledge = knowledge();
        let cases = [
            ("the opening stretch of the plan, what do i read?", Some(1)),
            ("what happens near the end of the 12-month plan", Some(3)),
            ("the final phase", Some(3)),
            ("around month 5 what should i focus on", Some(2)),
            ("month 11-12?", Some(3)),
            ("phase 7", None),
            ("month 40", None),
            ("i am at the end of my rope", None),
            ("how long does it take, 12 months?", None),
        ];
        check(&cases, |question| named_phase(question, &knowledge));
    }

    #[test]
    fn phases_are_pointed_to_by_their_title_words() {
        let roadmap = "+++\nkind = \"roadmap\"\n+++\n# Plan\nIntro.\n## Phase 1: Foundations and Context\nRead.\n\
                       ## Phase 2: Applied Projects\nBuild.\n## Phase 3: Production Projects\nShip.\n";
        let knowledge = parse_sources(&[("roadmap.md".to_string(), roadmap.to_string())]).0;
        let cases = [
            ("what projects fit the applied phase?", Some(2)),
            ("the foundation stage, what do i read", Some(1)),
            ("is this for the production part", Some(3)),
            // "projects" is in two titles: it names neither.
            ("the projects phase", None),
            ("applied math is hard", None),
            ("the applied months", None),
        ];
        check(&cases, |question| titled_phase(question, &knowledge));
    }
}
