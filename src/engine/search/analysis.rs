//! Turning text into the words the index knows: tantivy's tokenizing,
//! lowercasing and English stemming reproduced for questions, Discord markup
//! removed, and the questions a passage asks itself set apart.

use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer};

use crate::engine::knowledge::Unit;
use crate::engine::words::MAX_WORD_LEN;

/// The analyzer used for indexing; `words` + `stem_word` reproduce it for questions.
pub(crate) fn stem_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_LEN))
        .filter(LowerCaser)
        .filter(Stemmer::default())
        .build()
}

pub(crate) fn stem_word(stemmer: &mut TextAnalyzer, word: &str) -> String {
    let mut stream = stemmer.token_stream(word);
    let mut stem = word.to_string();
    stream.process(&mut |token| stem = token.text.clone());
    stem
}

/// Lowercased words as tantivy's `SimpleTokenizer` + `LowerCaser` split them.
pub(crate) fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && word.len() < MAX_WORD_LEN)
        .map(str::to_lowercase)
}

/// `words` before lowercasing, borrowed from the text.
pub(crate) fn raw_words(text: &str) -> impl Iterator<Item = &str> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty() && word.len() < MAX_WORD_LEN)
}

pub(crate) fn unit_raw_words(unit: &Unit) -> impl Iterator<Item = &str> + '_ {
    raw_words(&unit.title)
        .chain(unit.keywords.iter().chain(&unit.aliases).flat_map(|keyword| raw_words(keyword)))
        .chain(raw_words(&unit.text))
}

/// Removes what Discord puts in messages but is not the question: user, role
/// and channel mentions (`<@123>`, `<@&1>`, `<#1>`), custom emoji
/// (`<:name:1>`), timestamps (`<t:1:R>`) and links.
pub(crate) fn strip_discord_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        match tail.find('>') {
            Some(end) if end <= 100 && is_discord_token(&tail[1..end]) => {
                out.push(' ');
                rest = &tail[end + 1..];
            }
            _ => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace()
        .filter(|word| !word.starts_with("http://") && !word.starts_with("https://"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_discord_token(inner: &str) -> bool {
    let id = inner.trim_start_matches(['@', '#', '!', '&']);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if inner.len() != id.len() {
        return all_digits(id);
    }
    // `:name:id`, `a:name:id` (emoji) and `t:123:R` (timestamps).
    inner.starts_with(':') || inner.starts_with("a:") || inner.starts_with("t:")
}

/// Splits text into its statements and the questions it asks itself.
pub(crate) fn split_asked(text: &str) -> (String, String) {
    let (mut statements, mut questions) = (String::new(), String::new());
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, ch)) = chars.next() {
        let ends = matches!(ch, '.' | '?' | '!') && chars.peek().is_none_or(|(_, next)| next.is_whitespace());
        if ends || chars.peek().is_none() {
            let end = at + ch.len_utf8();
            let sentence = &text[start..end];
            let target = if ch == '?' { &mut questions } else { &mut statements };
            target.push_str(sentence);
            target.push(' ');
            start = end;
        }
    }
    (statements, questions)
}

#[cfg(test)]
mod split_tests {
    use super::split_asked;

    #[test]
    fn questions_the_text_asks_are_set_apart() {
        let (statements, questions) = split_asked("Should I move? Am I late?\n\nYes. It is fine! v1.2 works");
        assert_eq!(questions.split_whitespace().collect::<Vec<_>>(), ["Should", "I", "move?", "Am", "I", "late?"]);
        assert_eq!(statements.split_whitespace().collect::<Vec<_>>().join(" "), "Yes. It is fine! v1.2 works");
    }
}
