//! Word lists, kept as data files beside this module and loaded once:
//! stop words, common English, ordinals and question openers; and the one
//! limit on word length that indexing, analysis and typo correction share.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Longest word, in bytes, that is indexed or looked up; longer "words" are
/// noise (hashes, base64), and the limit bounds the typo corrector's buffers.
pub(crate) const MAX_WORD_LEN: usize = 40;

/// The non-comment, non-empty lines of a word list.
fn entries(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#'))
}

fn set(cell: &'static OnceLock<HashSet<&'static str>>, text: &'static str) -> &'static HashSet<&'static str> {
    cell.get_or_init(|| entries(text).collect())
}

/// Words that carry no meaning for retrieval, including question frames and chat filler.
pub(crate) fn is_stop_word(word: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    set(&SET, include_str!("words/stop_words.txt")).contains(word)
}

/// Whether `word` is among the 3,000 most frequent English words.
pub(crate) fn is_common_english(word: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    set(&SET, include_str!("words/common_words.txt")).contains(word)
}

/// Whether a message starting with `word` reads as a question.
pub(crate) fn is_question_opener(word: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    set(&SET, include_str!("words/openers.txt")).contains(word)
}

/// Whether a position word places a part of a plan at its start
/// (`Some(true)`: "opening") or its end (`Some(false)`: "final").
pub(crate) fn plan_position(word: &str) -> Option<bool> {
    static LINES: OnceLock<[HashSet<&'static str>; 2]> = OnceLock::new();
    let [start, end] = LINES.get_or_init(|| {
        let mut lines = entries(include_str!("words/positions.txt")).map(|line| line.split_whitespace().collect());
        [lines.next().unwrap_or_default(), lines.next().unwrap_or_default()]
    });
    if start.contains(word) {
        Some(true)
    } else if end.contains(word) {
        Some(false)
    } else {
        None
    }
}

/// The follow-up word lists: openers (two-word ones joined by `_`) and
/// words that point back.
fn follow_up_lists() -> &'static [HashSet<&'static str>; 2] {
    static LINES: OnceLock<[HashSet<&'static str>; 2]> = OnceLock::new();
    LINES.get_or_init(|| {
        let mut lines = entries(include_str!("words/follow_ups.txt")).map(|line| line.split_whitespace().collect());
        [lines.next().unwrap_or_default(), lines.next().unwrap_or_default()]
    })
}

/// Whether a message opening with `first` (then `second`) continues an
/// earlier question: "and …", "what about …".
pub(crate) fn opens_follow_up(first: &str, second: Option<&str>) -> bool {
    let [openers, _] = follow_up_lists();
    openers.contains(first) || second.is_some_and(|second| openers.contains(format!("{first}_{second}").as_str()))
}

/// Whether `word` points back to an earlier question: "that", "those".
pub(crate) fn points_back(word: &str) -> bool {
    follow_up_lists()[1].contains(word)
}

/// Chat shorthand and abbreviations with their written forms ("yrs" is
/// "years", "k8s" is "kubernetes"): how members write, whatever the docs
/// are about. A knowledge base's own synonyms replace an entry word by word.
pub(crate) fn shorthand() -> impl Iterator<Item = (&'static str, impl Iterator<Item = &'static str>)> {
    entries(include_str!("words/shorthand.txt"))
        .filter_map(|line| line.split_once('='))
        .map(|(word, expansions)| (word.trim(), expansions.split(',').map(str::trim)))
}

/// The (ordinal, cardinal) words by position, parsed once.
fn numbers() -> &'static [(&'static str, &'static str)] {
    static LIST: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    LIST.get_or_init(|| entries(include_str!("words/ordinals.txt")).filter_map(|line| line.split_once(' ')).collect())
}

/// The ordinal and cardinal words for `number` (("third", "three") for 3), if listed.
pub(crate) fn number_words(number: u8) -> Option<(&'static str, &'static str)> {
    numbers().get(usize::from(number).checked_sub(1)?).copied()
}

/// The number an ordinal word names ("third" is 3).
pub(crate) fn ordinal_number(word: &str) -> Option<u8> {
    let position = numbers().iter().position(|(ordinal, _)| *ordinal == word)?;
    u8::try_from(position + 1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_load_and_answer() {
        assert!(is_stop_word("the") && is_stop_word("does") && !is_stop_word("salary"));
        assert!(is_common_english("people") && !is_common_english("kubernetes"));
        assert!(is_question_opener("how") && !is_question_opener("lol"));
        assert_eq!((number_words(3), number_words(0), number_words(200)), (Some(("third", "three")), None, None));
        assert_eq!((ordinal_number("tenth"), ordinal_number("phase")), (Some(10), None));
        assert!(opens_follow_up("and", None) && opens_follow_up("what", Some("about")));
        assert!(!opens_follow_up("what", Some("is")) && points_back("that") && !points_back("phase"));
        let ppl: Vec<Vec<&str>> =
            shorthand().filter(|(word, _)| *word == "ppl").map(|(_, expansions)| expansions.collect()).collect();
        assert_eq!(ppl, [["people"]]);
    }

    #[test]
    fn no_list_repeats_a_word() {
        for list in [
            include_str!("words/stop_words.txt"),
            include_str!("words/common_words.txt"),
            include_str!("words/ordinals.txt"),
            include_str!("words/openers.txt"),
            include_str!("words/follow_ups.txt"),
            include_str!("words/shorthand.txt"),
        ] {
            let mut seen = HashSet::new();
            for word in entries(list).map(|line| line.split_once('=').map_or(line, |(word, _)| word.trim())) {
                assert!(seen.insert(word), "{word} is listed twice");
            }
        }
    }
}
