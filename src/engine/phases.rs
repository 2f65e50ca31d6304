//! Which roadmap phase a message names, however it names it: by number
//! ("phase 3", "stage 2"), by ordinal ("the second phase", "2nd phase"), by
//! position ("the opening stretch", "the end of the plan", "the final
//! phase") or by month ("around month 14"), from the roadmap's own phases
//! and month ranges, so any roadmap works. A word of one phase's title
//! before a word for a part ("the applied phase", "the orchestration
//! stage") points to that phase less surely (`titled_phase`): "stage" and
//! "integration" are CI words too. "After" just before any of these
//! ("what comes after phase 2", "after the small projects phase") names
//! the phase after it.

use crate::engine::knowledge::Knowledge;
use crate::engine::search::words;
use crate::engine::words::{is_stop_word, ordinal_number, plan_position};

/// Words for a phase itself, after a number or an ordinal.
const PHASE_WORDS: [&str; 3] = ["phase", "stage", "step"];

/// Words for a part of a plan, after a position word ("opening stretch").
const PART_WORDS: [&str; 8] = ["phase", "stage", "stretch", "part", "months", "leg", "portion", "section"];

/// Words for the plan as a whole, in "the end of the plan".
const PLAN_WORDS: [&str; 7] = ["plan", "roadmap", "arc", "program", "months", "journey", "path"];

/// Words that, just before a reference to a phase, name the phase after it.
const AFTER_WORDS: [&str; 3] = ["after", "past", "beyond"];

/// How far back an "after" may stand before a number, ordinal or position ("after the second phase").
const AFTER_REACH: usize = 2;

/// The phase `number`, or the one after it when an "after" stands at most
/// `reach` words before `words[at]`, with at most `content` words other than
/// stop words in between ("after the small projects phase"). None when it
/// asks for the phase after the last.
fn maybe_after(words: &[String], at: usize, reach: usize, content: usize, number: u8, numbers: &[u8]) -> Option<u8> {
    let after = (at.saturating_sub(reach)..at).any(|from| {
        AFTER_WORDS.contains(&words[from].as_str())
            && words[from + 1..at].iter().filter(|word| !is_stop_word(word)).count() <= content
    });
    if after {
        numbers.iter().copied().filter(|&next| next > number).min()
    } else {
        Some(number)
    }
}

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

/// The phase `words` name by number or ordinal ("phase 3", "the second
/// phase"), and where that reference starts.
fn numbered_phase(words: &[String]) -> Option<(u8, usize)> {
    words.windows(2).enumerate().find_map(|(at, pair)| {
        let (first, second) = (pair[0].as_str(), pair[1].as_str());
        let number = if PHASE_WORDS.contains(&first) {
            second.parse::<u8>().ok().filter(|n| *n > 0)
        } else {
            ordinal(first).filter(|_| PHASE_WORDS.contains(&second))
        };
        number.map(|number| (number, at))
    })
}

/// The phase `question` names in the roadmap of `knowledge`, if it names one.
pub(crate) fn named_phase(question: &str, knowledge: &Knowledge) -> Option<u8> {
    let numbers = knowledge.phase_numbers();
    let (first, last) = (*numbers.first()?, *numbers.last()?);
    let words: Vec<String> = words(question).collect();
    if let Some((number, at)) = numbered_phase(&words).filter(|(n, _)| numbers.contains(n)) {
        return maybe_after(&words, at, AFTER_REACH, 0, number, &numbers);
    }
    let word = |at: usize| words.get(at).map_or("", String::as_str);
    for at in 0..words.len() {
        if let Some(at_start) = plan_position(word(at)) {
            // "the opening stretch", or "the end of the (18-month) plan".
            let part = PART_WORDS.contains(&word(at + 1));
            let of_plan = word(at + 1) == "of"
                && (at + 2..at + 6).take_while(|&next| next < words.len()).any(|next| PLAN_WORDS.contains(&word(next)));
            if part || of_plan {
                return maybe_after(&words, at, AFTER_REACH, 0, if at_start { first } else { last }, &numbers);
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
                // "after the small projects phase": the title word and one more may stand between.
                let numbers = knowledge.phase_numbers();
                return maybe_after(&asked, at, TITLE_WORDS_BEFORE + 1, 2, phases[only].number, &numbers);
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
        check(&cases, |question| numbered_phase(&words(question).collect::<Vec<_>>()).map(|(number, _)| number));
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
            ("what comes after phase 2?", Some(3)),
            ("and after the first stage", Some(2)),
            ("past the opening stretch, what then", Some(2)),
            ("what comes after phase 3?", None),
            ("i study after work, phase 2 stuff mostly", Some(2)),
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
            ("whats the next step up after the small applied phase?", Some(3)),
            ("after work on the applied phase", Some(2)),
        ];
        check(&cases, |question| titled_phase(question, &knowledge));
    }
}
