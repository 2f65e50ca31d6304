//! What members asked and how the answers landed, for operators.
//!
//! `storage::read_stats` fills a `Stats`; this module renders it as terminal
//! tables (`transition-bot stats`) and parses the `--since` window
//! (`conversation::admin` renders it for the `/stats` command). The lists are the point: the
//! top unanswered questions are the content gaps to write next, and the
//! units with the most 👎 are the answers to fix.

use std::fmt::Write as _;
use std::time::Duration;

use crate::engine::text::{count, truncate_text};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// How far back the numbers go; `None` is all time.
    pub(crate) window: Option<Duration>,
    pub questions: u64,
    pub answered: u64,
    /// Questions whose text was logged.
    pub(crate) with_text: u64,
    /// Whether `[storage] log_question_text` is on now.
    pub(crate) text_logged: bool,
    pub by_surface: Vec<SurfaceCount>,
    /// Most asked, by normalized text.
    pub most_asked: Vec<QuestionCount>,
    /// Most asked among those the bot could not answer.
    pub top_unanswered: Vec<QuestionCount>,
    /// Totals over each member's latest vote per unit.
    pub(crate) votes_helpful: u64,
    pub(crate) votes_unhelpful: u64,
    pub most_unhelpful: Vec<UnitVotes>,
    pub(crate) most_helpful: Vec<UnitVotes>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SurfaceCount {
    pub surface: String,
    pub(crate) asked: u64,
    pub(crate) answered: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuestionCount {
    pub text: String,
    pub asked: u64,
    pub(crate) answered: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitVotes {
    pub unit: String,
    pub helpful: u64,
    pub unhelpful: u64,
}

/// Longest question text shown in a table row.
pub(crate) const QUESTION_WIDTH: usize = 60;

impl Stats {
    /// Share of questions answered, 0 to 1; 0 when nothing was asked.
    pub(crate) fn answered_rate(&self) -> f64 {
        if self.questions == 0 {
            0.0
        } else {
            self.answered as f64 / self.questions as f64
        }
    }

    pub(crate) fn window_label(&self) -> String {
        match self.window {
            Some(window) => format!("last {}", format_window(window)),
            None => "all time".to_string(),
        }
    }

    pub(crate) fn summary_line(&self) -> String {
        format!(
            "{} question(s), {} answered ({:.0}%); feedback: {} 👍, {} 👎",
            self.questions,
            self.answered,
            self.answered_rate() * 100.0,
            self.votes_helpful,
            self.votes_unhelpful
        )
    }

    /// Why no questions are listed, when that is the case.
    pub(crate) fn text_note(&self) -> Option<&'static str> {
        if !self.text_logged {
            Some("Question text logging is off ([storage] log_question_text = false), so only counts are kept.")
        } else if self.questions > 0 && self.with_text == 0 {
            Some("No question text was logged in this period.")
        } else {
            None
        }
    }

    /// Readable tables for the terminal.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Questions, {}", self.window_label());
        let _ = writeln!(out, "{}", self.summary_line());
        if self.questions == 0 && self.votes_helpful + self.votes_unhelpful == 0 {
            let _ = writeln!(out, "\nNothing recorded in this period.");
            return out.trim_end().to_string();
        }
        if !self.by_surface.is_empty() {
            let rows: Vec<Vec<String>> = self
                .by_surface
                .iter()
                .map(|s| {
                    vec![s.surface.clone(), s.asked.to_string(), s.answered.to_string(), percent(s.answered, s.asked)]
                })
                .collect();
            section(&mut out, "By surface", &["surface", "asked", "answered", "rate"], &rows);
        }
        match self.text_note() {
            Some(note) => {
                let _ = writeln!(out, "\n{note}");
            }
            None => {
                let rows: Vec<Vec<String>> = self
                    .most_asked
                    .iter()
                    .map(|q| vec![q.asked.to_string(), q.answered.to_string(), truncate_text(&q.text, QUESTION_WIDTH)])
                    .collect();
                section(&mut out, "Most asked", &["asked", "answered", "question"], &rows);
                let rows: Vec<Vec<String>> = self
                    .top_unanswered
                    .iter()
                    .map(|q| vec![q.asked.to_string(), truncate_text(&q.text, QUESTION_WIDTH)])
                    .collect();
                section(&mut out, "Top unanswered (content to write next)", &["asked", "question"], &rows);
            }
        }
        let votes = |list: &[UnitVotes]| -> Vec<Vec<String>> {
            list.iter().map(|u| vec![u.unhelpful.to_string(), u.helpful.to_string(), u.unit.clone()]).collect()
        };
        section(&mut out, "Most 👎 (answers to fix)", &["down", "up", "unit"], &votes(&self.most_unhelpful));
        section(&mut out, "Most 👍", &["down", "up", "unit"], &votes(&self.most_helpful));
        out.trim_end().to_string()
    }
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_string()
    } else {
        format!("{:.0}%", part as f64 * 100.0 / whole as f64)
    }
}

/// Writes a titled table with columns padded to their widest cell (in
/// characters; cells avoid emoji, which terminals draw two columns wide).
fn section(out: &mut String, title: &str, header: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "\n{title}");
    if rows.is_empty() {
        let _ = writeln!(out, "  (none)");
        return;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| count(h)).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(count(cell));
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let last = cells.len().saturating_sub(1);
        let padded: Vec<String> =
            cells
                .iter()
                .enumerate()
                .map(|(i, cell)| {
                    if i == last {
                        cell.to_string()
                    } else {
                        format!("{cell}{}", " ".repeat(widths[i] - count(cell)))
                    }
                })
                .collect();
        format!("  {}", padded.join("  "))
    };
    let _ = writeln!(out, "{}", line(header.to_vec()));
    for row in rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
}

/// A `--since` value: how far back, or `None` for all time. (A newtype, since
/// clap would read a bare `Option` as "the flag may be missing".)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window(pub(crate) Option<Duration>);

impl std::str::FromStr for Window {
    type Err = String;

    fn from_str(text: &str) -> Result<Window, String> {
        parse_window(text).map(Window)
    }
}

/// Parses a window such as `30m`, `12h`, `7d` or `2w` (also `45s`); `all` means no limit.
pub(crate) fn parse_window(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: use a number and s, m, h, d or w (such as 7d), or `all`"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 60 * 60,
        "d" => 24 * 60 * 60,
        "w" => 7 * 24 * 60 * 60,
        _ => return Err(format!("`{text}` has no unit: use s, m, h, d or w (such as 7d), or `all`")),
    };
    if number == 0 {
        return Err("the window must be longer than 0".to_string());
    }
    number.checked_mul(seconds).map(|s| Some(Duration::from_secs(s))).ok_or_else(|| format!("`{text}` is too long"))
}

/// The largest whole unit up to days: `7d`, `14d`, `12h`, `90m`.
pub(crate) fn format_window(window: Duration) -> String {
    let seconds = window.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds >= size && seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_windows() {
        assert_eq!(parse_window("30m"), Ok(Some(Duration::from_secs(1800))));
        assert_eq!(parse_window("12h"), Ok(Some(Duration::from_secs(12 * 3600))));
        assert_eq!(parse_window("7d"), Ok(Some(Duration::from_secs(7 * 86_400))));
        assert_eq!(parse_window("2w"), Ok(Some(Duration::from_secs(14 * 86_400))));
        assert_eq!(parse_window("all"), Ok(None));
        for bad in ["", "7", "d", "7x", "-1d", "0d", "99999999999999999999d", "1.5d"] {
            assert!(parse_window(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn formats_windows_as_they_are_written() {
        for text in ["30m", "12h", "7d", "45s", "90m"] {
            assert_eq!(format_window(parse_window(text).unwrap().unwrap()), text);
        }
        assert_eq!(format_window(parse_window("2w").unwrap().unwrap()), "14d");
    }

    fn sample() -> Stats {
        Stats {
            window: Some(Duration::from_secs(7 * 86_400)),
            questions: 4,
            answered: 3,
            with_text: 4,
            text_logged: true,
            by_surface: vec![SurfaceCount { surface: "slash".into(), asked: 4, answered: 3 }],
            most_asked: vec![QuestionCount { text: "what is rag".into(), asked: 3, answered: 3 }],
            top_unanswered: vec![QuestionCount { text: "best pizza in naples".into(), asked: 1, answered: 0 }],
            votes_helpful: 2,
            votes_unhelpful: 1,
            most_unhelpful: vec![UnitVotes { unit: "faq/what-is-rag".into(), helpful: 0, unhelpful: 1 }],
            most_helpful: vec![UnitVotes { unit: "roadmap/phase-1".into(), helpful: 2, unhelpful: 0 }],
        }
    }

    #[test]
    fn table_lists_questions_votes_and_rate() {
        let table = sample().to_table();
        assert!(table.contains("last 7d"), "{table}");
        assert!(table.contains("4 question(s), 3 answered (75%)"), "{table}");
        let unanswered = table.split("Top unanswered").nth(1).unwrap();
        assert!(unanswered.contains("best pizza in naples"), "{table}");
        let down = table.split("Most 👎").nth(1).unwrap();
        assert!(down.contains("faq/what-is-rag"), "{table}");
    }

    #[test]
    fn without_text_logging_says_so_instead_of_listing() {
        let stats = Stats { text_logged: false, with_text: 0, most_asked: vec![], top_unanswered: vec![], ..sample() };
        let table = stats.to_table();
        assert!(table.contains("log_question_text = false"), "{table}");
        assert!(!table.contains("Top unanswered"), "{table}");
    }
}
