//! Reading the question log back as `Stats`: counts, the most asked and
//! unanswered questions, the units with the most votes.

use std::path::Path;
use std::time::{Duration, SystemTime};

use rusqlite::Connection;

use super::schema::{migrate, open};
use super::{ms_since_epoch, StorageError};
use crate::ops::stats::{QuestionCount, Stats, SurfaceCount, UnitVotes};

/// How many entries each list in `Stats` holds.
const TOP: usize = 10;

/// Reads stats over the last `window` (all time when `None`) from the database at `path`.
/// Never creates a database: a missing file is an error that says so.
pub fn read_stats(path: &Path, window: Option<Duration>, text_logged: bool) -> Result<Stats, StorageError> {
    if !path.exists() {
        return Err(StorageError::Missing { path: path.to_path_buf() });
    }
    let mut connection = open(path, false)?;
    migrate(&mut connection, path)?;
    let since = window.map(|w| ms_since_epoch(SystemTime::now()) - w.as_millis() as i64).unwrap_or(i64::MIN);
    query_stats(&connection, since, window, text_logged)
        .map_err(|source| StorageError::Query { path: path.to_path_buf(), source })
}

fn query_stats(
    connection: &Connection,
    since: i64,
    window: Option<Duration>,
    text_logged: bool,
) -> rusqlite::Result<Stats> {
    let (questions, answered, with_text): (i64, i64, i64) = connection.query_row(
        "SELECT COUNT(*), COALESCE(SUM(answered), 0), COUNT(question_key) FROM questions WHERE time >= ?1",
        [since],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    let mut statement =
        connection.prepare("SELECT surface, COUNT(*), SUM(answered) FROM questions WHERE time >= ?1 GROUP BY surface ORDER BY COUNT(*) DESC, surface")?;
    let by_surface = statement
        .query_map([since], |row| {
            Ok(SurfaceCount {
                surface: row.get(0)?,
                asked: row.get::<_, i64>(1)? as u64,
                answered: row.get::<_, i64>(2)? as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let grouped = |only_unanswered: bool| -> rusqlite::Result<Vec<QuestionCount>> {
        let filter = if only_unanswered { "AND answered = 0" } else { "" };
        let sql = format!(
            "SELECT question_key, COUNT(*), SUM(answered) FROM questions
             WHERE time >= ?1 AND question_key IS NOT NULL {filter}
             GROUP BY question_key ORDER BY COUNT(*) DESC, MAX(time) DESC LIMIT {TOP}"
        );
        let mut statement = connection.prepare(&sql)?;
        let rows = statement.query_map([since], |row| {
            Ok(QuestionCount {
                text: row.get(0)?,
                asked: row.get::<_, i64>(1)? as u64,
                answered: row.get::<_, i64>(2)? as u64,
            })
        })?;
        rows.collect()
    };
    let most_asked = grouped(false)?;
    let top_unanswered = grouped(true)?;
    // Each member's latest vote per unit counts once, so repeated clicks do not stack.
    let mut statement = connection.prepare(
        "SELECT unit, SUM(helpful), SUM(1 - helpful) FROM (
             SELECT unit, helpful, ROW_NUMBER() OVER (PARTITION BY unit, user_id ORDER BY id DESC) AS latest
             FROM votes WHERE time >= ?1
         ) WHERE latest = 1 GROUP BY unit",
    )?;
    let units = statement
        .query_map([since], |row| {
            Ok(UnitVotes {
                unit: row.get(0)?,
                helpful: row.get::<_, i64>(1)? as u64,
                unhelpful: row.get::<_, i64>(2)? as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
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
    Ok(Stats {
        window,
        questions: questions as u64,
        answered: answered as u64,
        with_text: with_text as u64,
        text_logged,
        by_surface,
        most_asked,
        top_unanswered,
        votes_helpful,
        votes_unhelpful,
        most_unhelpful,
        most_helpful,
    })
}
