//! Reading the question log back as `Stats`: counts, the most asked and
//! unanswered questions, the units with the most votes.
//!
//! The SQL is written once for both backends: `$1` is a positional
//! parameter in PostgreSQL and a (first) parameter in SQLite, and every
//! list comes back as the same `(text, count, count)` rows.

use std::time::{Duration, SystemTime};

use super::ms_since_epoch;
use crate::ops::stats::{QuestionCount, Stats, SurfaceCount, UnitVotes};

/// How many entries each list in `Stats` holds.
const TOP: usize = 10;

/// Questions, answered, with text: since `$1`.
pub(super) const TOTALS: &str =
    "SELECT COUNT(*), COALESCE(SUM(answered), 0), COUNT(question_key) FROM questions WHERE time >= $1";

/// The lists, each as `(text, count, count)` rows since `$1`.
pub(super) fn list_queries() -> [String; 4] {
    let grouped = |filter: &str| {
        format!(
            "SELECT question_key, COUNT(*), SUM(answered) FROM questions
             WHERE time >= $1 AND question_key IS NOT NULL {filter}
             GROUP BY question_key ORDER BY COUNT(*) DESC, MAX(time) DESC LIMIT {TOP}"
        )
    };
    [
        "SELECT surface, COUNT(*), SUM(answered) FROM questions WHERE time >= $1
         GROUP BY surface ORDER BY COUNT(*) DESC, surface"
            .into(),
        grouped(""),
        grouped("AND answered = 0"),
        // Each member's latest vote per unit counts once, so repeated clicks do not stack.
        "SELECT unit, SUM(helpful), SUM(1 - helpful) FROM (
             SELECT unit, helpful, ROW_NUMBER() OVER (PARTITION BY unit, user_id ORDER BY id DESC) AS latest
             FROM votes WHERE time >= $1
         ) AS ranked WHERE latest = 1 GROUP BY unit"
            .into(),
    ]
}

/// A list query's row.
pub(super) type Triple = (String, i64, i64);

/// What the queries returned, in `list_queries` order.
pub(super) struct Rows {
    pub totals: (i64, i64, i64),
    pub lists: [Vec<Triple>; 4],
}

/// The first time (Unix ms) inside `window`; everything when `None`.
pub(super) fn since(window: Option<Duration>) -> i64 {
    window.map(|w| ms_since_epoch(SystemTime::now()) - w.as_millis() as i64).unwrap_or(i64::MIN)
}

pub(super) fn assemble(rows: Rows, window: Option<Duration>, text_logged: bool) -> Stats {
    let Rows { totals: (questions, answered, with_text), lists: [surfaces, asked, unanswered, votes] } = rows;
    let count = |n: i64| n.max(0) as u64;
    let questions_of = |rows: Vec<Triple>| -> Vec<QuestionCount> {
        rows.into_iter()
            .map(|(text, asked, answered)| QuestionCount { text, asked: count(asked), answered: count(answered) })
            .collect()
    };
    let by_surface = surfaces
        .into_iter()
        .map(|(surface, asked, answered)| SurfaceCount { surface, asked: count(asked), answered: count(answered) })
        .collect();
    let units: Vec<UnitVotes> = votes
        .into_iter()
        .map(|(unit, helpful, unhelpful)| UnitVotes { unit, helpful: count(helpful), unhelpful: count(unhelpful) })
        .collect();
    let votes_helpful = units.iter().map(|u| u.helpful).sum();
    let votes_unhelpful = units.iter().map(|u| u.unhelpful).sum();
    let mut most_unhelpful: Vec<UnitVotes> = units.iter().filter(|u| u.unhelpful > 0).cloned().collect();
    most_unhelpful
        .sort_by(|a, b| b.unhelpful.cmp(&a.unhelpful).then(a.helpful.cmp(&b.helpful)).then(a.unit.cmp(&b.unit)));
    most_unhelpful.truncate(TOP);
    let mut most_helpful: Vec<UnitVotes> = units.into_iter().filter(|u| u.helpful > 0).collect();
    most_helpful
        .sort_by(|a, b| b.helpful.cmp(&a.helpful).then(a.unhelpful.cmp(&b.unhelpful)).then(a.unit.cmp(&b.unit)));
    most_helpful.truncate(TOP);
    Stats {
        window,
        questions: count(questions),
        answered: count(answered),
        with_text: count(with_text),
        text_logged,
        by_surface,
        most_asked: questions_of(asked),
        top_unanswered: questions_of(unanswered),
        votes_helpful,
        votes_unhelpful,
        most_unhelpful,
        most_helpful,
    }
}
