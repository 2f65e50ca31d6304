//! Text measured and cut the way Discord counts it: in characters (Unicode
//! code points), never splitting one, at natural boundaries where possible.

/// Length as Discord counts it.
pub fn count(text: &str) -> usize {
    text.chars().count()
}

/// Cuts `text` to at most `max` characters, at a paragraph, line, sentence
/// or word boundary when one is reasonably close, ending with "…".
pub fn truncate_text(text: &str, max: usize) -> String {
    if count(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let keep = truncate_chars(text, max - 1);
    // Prefer the largest natural boundary that keeps at least half the room.
    let floor = keep.len() / 2;
    let cut =
        ["\n\n", "\n", ". ", " "].iter().find_map(|boundary| keep.rfind(boundary).filter(|&at| at >= floor && at > 0));
    let kept = match cut {
        Some(at) => keep[..at].trim_end(),
        None => keep.as_str(),
    };
    format!("{kept}…")
}

/// The first `max` characters of `text`, never splitting a character.
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}
