//! What the dashboard shows, as plain serializable data: the storage rows
//! of one period and server (`storage::BoardRows`) assembled into days,
//! weeks, gaps, passages, the review queue and the latency histogram. Every
//! chart is drawn from this, and `?format=json` is this.

use serde::Serialize;

use crate::ops::storage::{BoardRows, PendingExample};

/// A day in Unix milliseconds; periods are whole UTC days.
pub(crate) const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The first UTC day (counted from 1970-01-01) of a period of `days` ending today.
pub(crate) fn first_day(now_ms: i64, days: u32) -> i64 {
    now_ms.div_euclid(DAY_MS) - i64::from(days) + 1
}

/// The periods offered, in days.
pub(crate) const PERIODS: [u32; 3] = [7, 30, 90];

/// Which slice of the log a page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub days: u32,
    /// A server's id, or all of them.
    #[serde(serialize_with = "id_text")]
    pub server: Option<u64>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope { days: 30, server: None }
    }
}

/// A passage of the knowledge: its id and title.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Passage {
    pub unit: String,
    pub title: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Board {
    pub scope: Scope,
    pub totals: Totals,
    pub days: Vec<Day>,
    pub weeks: Vec<Week>,
    /// `None` when question text is not logged (`log_question_text = false`).
    pub gaps: Option<Vec<Gap>>,
    /// Why the gaps are grouped by exact wording only, when they are.
    pub grouping_note: Option<String>,
    /// Passages with a 👎, most first.
    pub disliked: Vec<PassageVotes>,
    /// Passages no question was answered with in the period.
    pub unused: Vec<Passage>,
    pub review: Vec<ReviewGroup>,
    pub latency: Vec<Bucket>,
    /// `(server id, questions)`, for the selector.
    pub servers: Vec<(String, i64)>,
    pub text_logged: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub asked: i64,
    pub answered: i64,
    pub offered: i64,
    pub declined: i64,
    pub helpful: i64,
    pub unhelpful: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub asked: i64,
    pub answered: i64,
    pub offered: i64,
    pub declined: i64,
}

/// Seven days ending on `last`, the latest block ending today.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Week {
    pub first: String,
    pub last: String,
    pub asked: i64,
    pub answered: i64,
    /// Answered share, 0–1; `None` without questions.
    pub answered_rate: Option<f64>,
    pub helpful: i64,
    pub unhelpful: i64,
}

/// Unanswered questions worded alike: the most asked text leads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub text: String,
    /// Times asked, over every wording in the group.
    pub asked: i64,
    /// Of those, times the bot offered choices nobody picked.
    pub offered: i64,
    /// The other wordings, most asked first.
    pub variants: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PassageVotes {
    pub unit: String,
    pub title: String,
    pub helpful: i64,
    pub unhelpful: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReviewGroup {
    pub id: i64,
    /// `None` when question text is not shown.
    pub text: Option<String>,
    pub unit: String,
    pub members: u32,
    pub picks: u32,
    /// Date of its latest candidate, UTC.
    pub last: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Bucket {
    /// Upper bound in milliseconds; `None` for the last, open bucket.
    pub up_to_ms: Option<f64>,
    pub label: String,
    pub questions: i64,
}

/// Assembles a board from the rows of `scope`, read at `now_ms`: every day
/// of the period appears, with zeros when nothing was asked. `gaps` are the
/// gap rows already grouped (`similar`), `passages` the knowledge's.
pub(crate) fn assemble(
    rows: BoardRows,
    scope: Scope,
    now_ms: i64,
    text_logged: bool,
    passages: &[Passage],
    gaps: Vec<Gap>,
    latency_bounds_us: &[i64],
) -> Board {
    let today = now_ms.div_euclid(DAY_MS);
    let first_day = first_day(now_ms, scope.days);
    let asked_on = |day: i64| rows.days.iter().find(|row| row.0 == day).copied().unwrap_or((day, 0, 0, 0));
    let days: Vec<Day> = (first_day..=today)
        .map(|day| {
            let (_, asked, answered, offered) = asked_on(day);
            Day { date: date(day), asked, answered, offered, declined: (asked - answered - offered).max(0) }
        })
        .collect();
    let votes_on = |from: i64, to: i64| -> (i64, i64) {
        rows.vote_days
            .iter()
            .filter(|row| (from..=to).contains(&row.0))
            .fold((0, 0), |(up, down), row| (up + row.1, down + row.2))
    };
    let mut weeks = Vec::new();
    let mut last = today;
    while last >= first_day {
        let first = (last - 6).max(first_day);
        let in_week = days.iter().skip((first - first_day) as usize).take((last - first + 1) as usize);
        let (asked, answered) = in_week.fold((0, 0), |(a, b), day| (a + day.asked, b + day.answered));
        let (helpful, unhelpful) = votes_on(first, last);
        weeks.push(Week {
            first: date(first),
            last: date(last),
            asked,
            answered,
            answered_rate: (asked > 0).then(|| answered as f64 / asked as f64),
            helpful,
            unhelpful,
        });
        last = first - 1;
    }
    weeks.reverse();
    let totals = {
        let sum = |f: fn(&Day) -> i64| days.iter().map(f).sum::<i64>();
        let (helpful, unhelpful) = votes_on(first_day, today);
        Totals {
            asked: sum(|d| d.asked),
            answered: sum(|d| d.answered),
            offered: sum(|d| d.offered),
            declined: sum(|d| d.declined),
            helpful,
            unhelpful,
        }
    };
    let title_of = |unit: &str| {
        passages
            .iter()
            .find(|p| p.unit == unit)
            .map(|p| p.title.clone())
            .unwrap_or_else(|| "(no longer in the knowledge)".into())
    };
    let mut disliked: Vec<PassageVotes> = rows
        .unit_votes
        .iter()
        .filter(|(_, _, down)| *down > 0)
        .map(|(unit, up, down)| PassageVotes {
            unit: unit.clone(),
            title: title_of(unit),
            helpful: *up,
            unhelpful: *down,
        })
        .collect();
    disliked.sort_by(|a, b| b.unhelpful.cmp(&a.unhelpful).then(a.helpful.cmp(&b.helpful)).then(a.unit.cmp(&b.unit)));
    disliked.truncate(20);
    let unused = passages.iter().filter(|p| !rows.used_units.contains(&p.unit)).cloned().collect();
    let review = rows.pending.iter().map(|group| review_group(group, text_logged)).collect();
    let latency = latency_bounds_us
        .iter()
        .map(|&bound| Some(bound))
        .chain([None])
        .zip(rows.latency.iter().copied().chain(std::iter::repeat(0)))
        .map(|(bound, questions)| Bucket {
            up_to_ms: bound.map(|us| us as f64 / 1000.0),
            label: match bound {
                Some(us) => format!("≤ {}", milliseconds(us)),
                None => format!("> {}", latency_bounds_us.last().map(|&us| milliseconds(us)).unwrap_or_default()),
            },
            questions,
        })
        .collect();
    Board {
        scope,
        totals,
        days,
        weeks,
        gaps: text_logged.then_some(gaps),
        grouping_note: None,
        disliked,
        unused,
        review,
        latency,
        servers: rows.servers.iter().map(|(id, count)| ((*id as u64).to_string(), *count)).collect(),
        text_logged,
    }
}

fn review_group(group: &PendingExample, text_logged: bool) -> ReviewGroup {
    ReviewGroup {
        id: group.id,
        text: text_logged.then(|| group.text.clone()),
        unit: group.unit.clone(),
        members: group.members,
        picks: group.picks,
        last: date(group.last_ms.div_euclid(DAY_MS)),
    }
}

/// `1 ms`, `0.25 ms`, `3 s`.
fn milliseconds(us: i64) -> String {
    if us >= 1_000_000 {
        format!("{} s", us as f64 / 1e6)
    } else {
        format!("{} ms", us as f64 / 1e3)
    }
}

/// The UTC date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`), so the dashboard needs no calendar crate.
pub(crate) fn date(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Server ids as text in JSON: they exceed the integers JavaScript reads exactly.
fn id_text<S: serde::Serializer>(id: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => serializer.serialize_str(&id.to_string()),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(19_782), "2024-02-29");
        assert_eq!(date(20_789), "2026-12-02");
        assert_eq!(date(-1), "1969-12-31");
    }

    #[test]
    fn every_day_of_the_period_is_there_and_weeks_end_today() {
        let today = 20_000;
        let rows = BoardRows {
            days: vec![(today, 10, 6, 2), (today - 8, 4, 4, 0)],
            vote_days: vec![(today, 3, 1), (today - 8, 0, 2)],
            latency: vec![5, 1],
            ..BoardRows::default()
        };
        let scope = Scope { days: 30, server: None };
        let board = assemble(rows, scope, today * DAY_MS + 5, true, &[], Vec::new(), &[1000]);
        assert_eq!(board.days.len(), 30);
        assert_eq!(board.days.last().unwrap().declined, 2);
        assert_eq!(board.totals, Totals { asked: 14, answered: 10, offered: 2, declined: 2, helpful: 3, unhelpful: 3 });
        assert_eq!(board.weeks.len(), 5, "four full weeks and two days");
        let this_week = board.weeks.last().unwrap();
        assert_eq!((this_week.asked, this_week.answered, this_week.helpful), (10, 6, 3));
        assert_eq!(board.weeks[board.weeks.len() - 2].unhelpful, 2);
        assert_eq!(board.weeks.iter().map(|w| w.asked).sum::<i64>(), 14);
        assert_eq!(board.latency.iter().map(|b| b.questions).collect::<Vec<_>>(), [5, 1]);
        assert_eq!(board.latency[0].label, "≤ 1 ms");
    }

    #[test]
    fn without_question_text_no_texts_are_kept() {
        let pending = PendingExample {
            id: 1,
            text: "secret question".into(),
            unit: "u".into(),
            members: 1,
            picks: 1,
            first_ms: 0,
            last_ms: 0,
        };
        let rows = BoardRows { pending: vec![pending], ..BoardRows::default() };
        let gap = Gap { text: "secret question".into(), ..Gap::default() };
        let board = assemble(rows, Scope::default(), 0, false, &[], vec![gap], &[]);
        assert_eq!(board.gaps, None);
        assert_eq!(board.review[0].text, None);
        assert!(!serde_json::to_string(&board).unwrap().contains("secret"));
    }
}
