//! Learned examples: the passage a member picked among the bot's choices,
//! or the answer they gave a 👍 (or 👎), kept as candidate examples
//! (message → passage) until an admin approves or rejects them; approved
//! ones feed the next knowledge rebuild. The SQL serves both backends.
//!
//! Candidates are reviewed in *groups*: the rows with the same normalized
//! text (`text_key`) and unit, from any server, since what they approve is
//! one example of the shared knowledge. A group is decided once any of its
//! positive rows is; rows arriving later stay `pending` but are not listed
//! again, and retention prunes them. Downvotes are negatives: stored with
//! their group, never listed, counted or approved.
//!
//! As in `report`, `$n` is a positional parameter in PostgreSQL and a named
//! one in SQLite, where the backend binds it by name (its index would follow
//! the order of first appearance, not `n`).

/// A group of candidates waiting for a decision, as `pending_examples` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingExample {
    /// A representative row of the group (its first): `decide_example` takes it.
    pub id: i64,
    /// That row's text, as the member wrote it.
    pub text: String,
    pub unit: String,
    /// Distinct members who contributed.
    pub members: u32,
    /// Rows (picks and 👍) in the group.
    pub picks: u32,
    /// The group's first and last row, in Unix milliseconds.
    pub first_ms: i64,
    pub last_ms: i64,
}

/// An approved example: a message the unit answers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LearnedExample {
    pub unit: String,
    pub text: String,
}

/// The text candidates are grouped by: trimmed, lower case, single spaces.
/// Unlike `normalize_question` it keeps closing punctuation, so "What is
/// RAG?" and "what is rag" are two groups.
pub(super) fn normalize_example(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Groups still undecided, most members first, `limit` at most; with
/// `by_guild`, only rows of the server `$1` (whose counts they then are).
pub(super) fn pending_query(by_guild: bool, limit: usize) -> String {
    let guild = if by_guild { "AND e.guild_id = $1" } else { "" };
    // Both backends take a LIMIT up to i64::MAX.
    let limit = limit.min(i64::MAX as usize);
    format!(
        "WITH grouped AS (
             SELECT MIN(e.id) AS id, COUNT(DISTINCT e.user_id) AS members, COUNT(*) AS picks,
                    MIN(e.created_ms) AS first_ms, MAX(e.created_ms) AS last_ms
             FROM learned_examples e
             WHERE e.status = 'pending' AND e.source <> 'downvote' {guild}
               AND NOT EXISTS (SELECT 1 FROM learned_examples d
                               WHERE d.text_key = e.text_key AND d.unit = e.unit AND d.status <> 'pending')
             GROUP BY e.text_key, e.unit
         )
         SELECT g.id, e.text, e.unit, g.members, g.picks, g.first_ms, g.last_ms
         FROM grouped g JOIN learned_examples e ON e.id = g.id
         ORDER BY g.members DESC, g.last_ms DESC, g.id
         LIMIT {limit}"
    )
}

/// Each approved group's first row, as `(unit, text)`.
pub(super) const APPROVED: &str = "SELECT unit, text FROM learned_examples WHERE id IN (
         SELECT MIN(id) FROM learned_examples WHERE status = 'approved' AND source <> 'downvote'
         GROUP BY text_key, unit)";

/// Sets the status `$1` (by `$2` at `$3`) on the positive rows of the group
/// row `$4` belongs to, wherever they came from.
pub(super) const DECIDE: &str = "UPDATE learned_examples SET status = $1, decided_by = $2, decided_ms = $3
     WHERE source <> 'downvote' AND status <> $1
       AND (text_key, unit) = (SELECT text_key, unit FROM learned_examples WHERE id = $4)";

/// Approves the group (`$1`, `$2`) at `$3` when it is undecided and `$4`
/// distinct members contributed to it; `decided_by` stays NULL: nobody did.
pub(super) const AUTO_APPROVE: &str = "UPDATE learned_examples SET status = 'approved', decided_ms = $3
     WHERE text_key = $1 AND unit = $2 AND status = 'pending' AND source <> 'downvote'
       AND NOT EXISTS (SELECT 1 FROM learned_examples d
                       WHERE d.text_key = $1 AND d.unit = $2 AND d.status <> 'pending')
       AND (SELECT COUNT(DISTINCT m.user_id) FROM learned_examples m
            WHERE m.text_key = $1 AND m.unit = $2 AND m.status = 'pending' AND m.source <> 'downvote') >= $4";

/// Undecided rows from before `$1`; decided ones are curated content and stay.
pub(super) const PRUNE: &str = "DELETE FROM learned_examples WHERE status = 'pending' AND created_ms < $1";

/// A `pending_query` row: id, text, unit, members, picks, first and last time.
pub(super) type PendingRow = (i64, String, String, i64, i64, i64, i64);

pub(super) fn pending_of((id, text, unit, members, picks, first_ms, last_ms): PendingRow) -> PendingExample {
    let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    PendingExample { id, text, unit, members: count(members), picks: count(picks), first_ms, last_ms }
}

/// An admin's verdict on a group, as `DECIDE` writes it.
pub(super) struct Decision {
    /// A row of the group.
    pub id: i64,
    pub status: &'static str,
    pub by: i64,
    pub at: i64,
}

/// The status `decide_example` writes.
pub(super) fn status(approve: bool) -> &'static str {
    if approve {
        "approved"
    } else {
        "rejected"
    }
}

/// What `approved_examples` returns: one per group, by unit then text
/// (byte order, the same in both backends whatever PostgreSQL's collation).
pub(super) fn sorted(mut examples: Vec<LearnedExample>) -> Vec<LearnedExample> {
    examples.sort();
    examples.dedup();
    examples
}

/// The distinct positive groups among `keys` (text key, unit) a batch added
/// to, for `AUTO_APPROVE`.
pub(super) fn touched<'a>(keys: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<(&'a str, &'a str)> {
    let mut groups: Vec<(&str, &str)> = keys.collect();
    groups.sort_unstable();
    groups.dedup();
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_spacing_and_case_but_keeps_punctuation() {
        assert_eq!(normalize_example("  How long  until\tI'm JOB ready? "), "how long until i'm job ready?");
        assert_eq!(normalize_example("Qué es un LLM"), "qué es un llm");
        assert_eq!(normalize_example(" \n "), "");
    }

    #[test]
    fn pending_query_filters_by_guild_only_when_asked() {
        assert!(pending_query(true, 5).contains("e.guild_id = $1"));
        assert!(!pending_query(false, 5).contains("$1"));
        assert!(pending_query(false, usize::MAX).contains(&format!("LIMIT {}", i64::MAX)));
    }
}
