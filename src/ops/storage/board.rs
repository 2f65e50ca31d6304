//! Reading the question log back for the operator's dashboard: questions
//! and votes per day, the unanswered questions nobody picked a choice for,
//! votes per passage, the passages answered with, a latency histogram and
//! the servers seen, over one period and optionally one server.
//!
//! As in `report`, the SQL is written once for both backends and binds by
//! name: `$1` is the first time inside the period (Unix ms), `$2` the
//! server or NULL for all of them. `CAST($2 AS BIGINT)` tells PostgreSQL
//! the type of a parameter that may be NULL; SQLite accepts the same text.

use std::fmt::Write as _;

use super::PendingExample;

/// Longest list of unanswered question texts read (most asked first).
pub(super) const GAP_TEXTS: usize = 60;
/// Review groups read at most.
pub(super) const PENDING: usize = 50;
/// Servers listed in the selector at most.
const SERVERS: usize = 100;
/// A day in Unix milliseconds; days are UTC days.
const DAY_MS: i64 = super::DAY.as_millis() as i64;

/// What to read: since when, which server, and the latency histogram's
/// bucket bounds (inclusive upper bounds, µs, increasing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardQuery {
    pub since_ms: i64,
    pub guild: Option<u64>,
    pub latency_bounds_us: Vec<i64>,
}

/// What the queries returned, as plain rows; `ops::dashboard` assembles them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BoardRows {
    /// `(day, asked, answered, offered)` per UTC day with questions, in order.
    pub days: Vec<(i64, i64, i64, i64)>,
    /// `(day, 👍, 👎)` per UTC day, each member's latest vote per passage.
    pub vote_days: Vec<(i64, i64, i64)>,
    /// `(text, asked, offered)` per unanswered question (by normalized text)
    /// that no member resolved by picking a choice; empty without question text.
    pub gaps: Vec<(String, i64, i64)>,
    /// `(unit, 👍, 👎)`, each member's latest vote per passage.
    pub unit_votes: Vec<(String, i64, i64)>,
    /// Units some question was answered with.
    pub used_units: Vec<String>,
    /// Questions per latency bucket: one per bound, then one above the last.
    pub latency: Vec<i64>,
    /// `(server, questions)`, the servers with questions in the log, most first.
    pub servers: Vec<(i64, i64)>,
    /// Review groups waiting for an admin.
    pub pending: Vec<PendingExample>,
}

const SCOPE: &str = "time >= $1 AND (CAST($2 AS BIGINT) IS NULL OR guild_id = CAST($2 AS BIGINT))";

/// `(day, asked, answered, offered)` rows.
pub(super) fn days_query() -> String {
    format!(
        "SELECT time / {DAY_MS}, COUNT(*), SUM(answered), SUM(offered) FROM questions
         WHERE {SCOPE} GROUP BY time / {DAY_MS} ORDER BY time / {DAY_MS}"
    )
}

/// `(day, 👍, 👎)` rows.
pub(super) fn vote_days_query() -> String {
    format!(
        "SELECT time / {DAY_MS}, SUM(helpful), SUM(1 - helpful) FROM (
             SELECT time, helpful, ROW_NUMBER() OVER (PARTITION BY unit, user_id ORDER BY id DESC) AS latest
             FROM votes WHERE {SCOPE}
         ) AS ranked WHERE latest = 1 GROUP BY time / {DAY_MS} ORDER BY time / {DAY_MS}"
    )
}

/// `(text, asked, offered)` rows. A question a member of its server then
/// resolved by picking a passage among the choices for it is no gap: the
/// docs had the answer.
pub(super) fn gaps_query() -> String {
    format!(
        "SELECT MIN(q.question), COUNT(*), SUM(q.offered) FROM questions AS q
         WHERE {SCOPE} AND q.question_key IS NOT NULL AND q.answered = 0
           AND NOT EXISTS (
               SELECT 1 FROM learned_examples AS e
               WHERE e.source = 'pick' AND e.text = q.question
                 AND e.guild_id IS NOT DISTINCT FROM q.guild_id AND e.created_ms >= q.time)
         GROUP BY q.question_key ORDER BY COUNT(*) DESC, MAX(q.time) DESC, MIN(q.question) LIMIT {GAP_TEXTS}"
    )
}

/// `(unit, 👍, 👎)` rows.
pub(super) fn unit_votes_query() -> String {
    format!(
        "SELECT unit, SUM(helpful), SUM(1 - helpful) FROM (
             SELECT unit, helpful, ROW_NUMBER() OVER (PARTITION BY unit, user_id ORDER BY id DESC) AS latest
             FROM votes WHERE {SCOPE}
         ) AS ranked WHERE latest = 1 GROUP BY unit ORDER BY unit"
    )
}

/// One-column rows: the units answered with.
pub(super) fn used_units_query() -> String {
    format!("SELECT DISTINCT top_unit FROM questions WHERE {SCOPE} AND answered = 1 AND top_unit IS NOT NULL")
}

/// One row of counts, one column per bucket of `bounds` and one above them.
pub(super) fn latency_query(bounds: &[i64]) -> String {
    let mut columns = Vec::new();
    let mut lower: Option<i64> = None;
    for &bound in bounds {
        let mut test = String::new();
        if let Some(lower) = lower {
            let _ = write!(test, "latency_us > {lower} AND ");
        }
        let _ = write!(test, "latency_us <= {bound}");
        columns.push(format!("COALESCE(SUM(CASE WHEN {test} THEN 1 ELSE 0 END), 0)"));
        lower = Some(bound);
    }
    let above = match lower {
        Some(lower) => format!("latency_us > {lower}"),
        None => "TRUE".into(),
    };
    columns.push(format!("COALESCE(SUM(CASE WHEN {above} THEN 1 ELSE 0 END), 0)"));
    format!("SELECT {} FROM questions WHERE {SCOPE}", columns.join(", "))
}

/// `(server, questions)` rows over the whole log (what retention kept),
/// so the selector does not change with the period.
pub(super) fn servers_query() -> String {
    format!(
        "SELECT guild_id, COUNT(*) FROM questions WHERE guild_id IS NOT NULL
         GROUP BY guild_id ORDER BY COUNT(*) DESC, guild_id LIMIT {SERVERS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_cover_every_value_once() {
        let sql = latency_query(&[100, 1000]);
        assert!(sql.contains("latency_us <= 100 THEN"), "{sql}");
        assert!(sql.contains("latency_us > 100 AND latency_us <= 1000 THEN"), "{sql}");
        assert!(sql.contains("latency_us > 1000 THEN"), "{sql}");
        assert!(latency_query(&[]).contains("CASE WHEN TRUE"));
    }
}
