//! Message understanding: a help-channel message split into the parts a
//! member may be asking about. A backstory sentence ("been doing mobile apps
//! for five years…") and the question ("do i need a degree?") become separate
//! segments, and so do two questions joined in one sentence ("how long does
//! it take and do i need a degree?"), so each can be matched on its own and
//! what surrounds a question never counts against its answer.

use crate::engine::search::{strip_discord_markup, words};
use crate::engine::words::{is_question_opener, opens_follow_up, points_back};

/// One part of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) text: String,
    /// Reads as a question: a question mark, or a question word near its start.
    pub(crate) asks: bool,
}

/// Words that, after "and"/"also"/"but", start a second question.
fn starts_question(rest: &str) -> bool {
    words(rest).next().is_some_and(|word| is_question_opener(&word) || matches!(word.as_str(), "i" | "also"))
}

/// The segments of `message`, in order; empty only for a message with no words.
pub(crate) fn segments(message: &str) -> Vec<Segment> {
    let text = strip_discord_markup(message);
    let mut sentences: Vec<(String, bool)> = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        let ends = matches!(ch, '.' | '?' | '!' | ';' | '\n')
            && chars.peek().is_none_or(|next| next.is_whitespace() || matches!(next, '?' | '!' | '.'));
        current.push(ch);
        if ends {
            // "??" and "?!" end one sentence, not several.
            while chars.peek().is_some_and(|next| matches!(next, '?' | '!' | '.')) {
                current.push(chars.next().unwrap_or('?'));
            }
            sentences.push((std::mem::take(&mut current), ch == '?'));
        }
    }
    sentences.push((current, false));
    let mut segments = Vec::new();
    for (sentence, asked) in sentences {
        for clause in split_clauses(&sentence) {
            if words(&clause).next().is_none() {
                continue;
            }
            let first_words: Vec<String> = words(&clause).take(3).collect();
            let asks = asked || clause.trim_end().ends_with('?') || first_words.iter().any(|w| is_question_opener(w));
            segments.push(Segment { text: clause.trim().to_string(), asks });
        }
    }
    segments
}

/// Most words a follow-up has: longer messages say what they ask about.
const FOLLOW_UP_WORDS: usize = 6;

/// How a short message leans on the member's previous question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Leaning {
    /// It goes on from it: "and phase 3?", "what about for managers?".
    Continues,
    /// It points back to it: "how long does that take?".
    PointsBack,
}

/// Whether `message` only makes sense after an earlier question, and how.
pub(crate) fn leans_on_earlier(message: &str) -> Option<Leaning> {
    let words: Vec<String> = words(&strip_discord_markup(message)).collect();
    if words.is_empty() || words.len() > FOLLOW_UP_WORDS {
        return None;
    }
    if opens_follow_up(&words[0], words.get(1).map(String::as_str)) {
        Some(Leaning::Continues)
    } else if words.iter().any(|word| points_back(word)) {
        Some(Leaning::PointsBack)
    } else {
        None
    }
}

/// Splits a sentence where a second question starts: "… and do i need …",
/// ", also what …", "… but how …".
fn split_clauses(sentence: &str) -> Vec<String> {
    let lower = sentence.to_lowercase();
    let mut cuts = Vec::new();
    for joiner in [" and ", ", and ", " & ", ", also ", " also ", " but ", ", plus ", " plus "] {
        let mut from = 0;
        while let Some(at) = lower[from..].find(joiner).map(|at| at + from) {
            let rest = &lower[at + joiner.len()..];
            // Only where a question starts after the joiner, and never leaving a tiny fragment.
            if starts_question(rest) && words(&lower[..at]).count() >= 3 && words(rest).count() >= 3 {
                cuts.push((at, at + joiner.len()));
            }
            from = at + joiner.len();
        }
    }
    cuts.sort_unstable();
    cuts.dedup_by(|later, earlier| later.0 < earlier.1);
    let mut clauses = Vec::new();
    let mut start = 0;
    for (cut, resume) in cuts {
        if cut >= start && sentence.is_char_boundary(cut) && sentence.is_char_boundary(resume) {
            clauses.push(sentence[start..cut].to_string());
            start = resume;
        }
    }
    clauses.push(sentence[start..].to_string());
    clauses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(message: &str) -> Vec<(String, bool)> {
        segments(message).into_iter().map(|segment| (segment.text, segment.asks)).collect()
    }

    #[test]
    fn backstory_and_question_are_apart() {
        assert_eq!(
            texts("been doing ios apps for 5 yrs, kinda bored. do i need a degree for ai stuff??"),
            [
                ("been doing ios apps for 5 yrs, kinda bored.".into(), false),
                ("do i need a degree for ai stuff??".into(), true)
            ]
        );
    }

    #[test]
    fn two_questions_in_one_sentence_are_apart() {
        assert_eq!(
            texts("how long does this take and do i need a degree?"),
            [("how long does this take".into(), true), ("do i need a degree?".into(), true)]
        );
        // A plain "and" inside one question stays.
        assert_eq!(texts("what about data and evaluation work?").len(), 1);
    }

    #[test]
    fn follow_ups_are_short_and_lean_on_what_came_before() {
        assert_eq!(leans_on_earlier("and phase 3?"), Some(Leaning::Continues));
        assert_eq!(leans_on_earlier("<@1> what about for managers?"), Some(Leaning::Continues));
        assert_eq!(leans_on_earlier("how long does that take?"), Some(Leaning::PointsBack));
        for standalone in
            ["how long does it take?", "what is phase 2", "", "and so on and so forth and what about that then"]
        {
            assert_eq!(leans_on_earlier(standalone), None, "{standalone}");
        }
    }

    #[test]
    fn odd_input_never_panics() {
        for message in ["", "???", "é and é and é", "a. b? c! d;", "<@1> and how", &"and ".repeat(500)] {
            let _ = segments(message);
        }
        assert!(segments("").is_empty());
    }
}
