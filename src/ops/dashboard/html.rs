//! The dashboard's pages as HTML, written with maud: every text from
//! members (questions, in gaps and the review queue) and from the
//! knowledge is escaped by the template itself. No JavaScript: the scope
//! selector is a GET form, charts are SVG (`svg`), and the page follows the
//! system's light or dark preference and a phone's width with plain CSS.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::data::{Board, Scope, PERIODS};
use super::svg::{self, Part};
use super::Page;

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6675; --bg: #fbfbfc; --card: #fff; --line: #d9dde3;
  --answered: #2f9e66; --offered: #d99a1e; --declined: #9aa3ae; --up: #2f9e66; --down: #d0453c; --accent: #3b6fd8; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e9ee; --muted: #9aa3ae; --bg: #14171c; --card: #1c2027; --line: #343a44;
    --answered: #46c186; --offered: #f0b53c; --declined: #6b7380; --up: #46c186; --down: #f06a61; --accent: #7aa2ff; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 60rem; margin: 0 auto; padding: 0.75rem 1rem; }
header h1 { font-size: 1.2rem; margin: 0.25rem 0 0.5rem; }
nav { display: flex; flex-wrap: wrap; gap: 0.25rem 0.9rem; }
nav a { color: var(--accent); text-decoration: none; white-space: nowrap; }
nav a[aria-current] { color: var(--fg); font-weight: 600; }
form.scope { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0.5rem 0; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.75rem 1rem; margin: 0 0 1rem; }
h2 { font-size: 1.05rem; margin: 0 0 0.5rem; }
.figures { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; margin: 0.25rem 0 0.75rem; }
.figures b { font-size: 1.3rem; display: block; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--line); }
svg .axis, svg .label { fill: var(--muted); font-size: 11px; }
svg .label { fill: var(--fg); font-size: 12px; }
svg .line { fill: none; stroke: var(--accent); stroke-width: 2.5; }
svg .point { fill: var(--accent); }
.answered { fill: var(--answered); } .offered { fill: var(--offered); } .declined { fill: var(--declined); }
.up { fill: var(--up); } .down { fill: var(--down); } .bar { fill: var(--accent); }
.key span::before { content: "■ "; } .key .answered::before { color: var(--answered); }
.key .offered::before { color: var(--offered); } .key .declined::before { color: var(--declined); }
.key .up::before { color: var(--up); } .key .down::before { color: var(--down); }
.key span { margin-right: 1rem; color: var(--muted); font-size: 0.9rem; }
details { margin-top: 0.5rem; }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
p.note { color: var(--muted); }
"#;

/// A whole page: header, navigation, scope selector, then `body`.
fn layout(page: Page, scope: Scope, servers: &[(String, i64)], body: Markup) -> Markup {
    let query = |scope: Scope| match scope.server {
        Some(server) => format!("?days={}&server={server}", scope.days),
        None => format!("?days={}", scope.days),
    };
    let page_body = html! {
        header {
            h1 { "transition-bot · " (page.title()) }
            nav {
                @for other in Page::ALL {
                    @if other == page {
                        a href=(format!("{}{}", other.path(), query(scope))) aria-current="page" { (other.title()) }
                    } @else {
                        a href=(format!("{}{}", other.path(), query(scope))) { (other.title()) }
                    }
                }
                a href=(format!("{}{}&format=json", page.path(), query(scope))) { "JSON" }
            }
            form.scope method="get" action=(page.path()) {
                label { "Period "
                    select name="days" {
                        @for days in PERIODS {
                            option value=(days) selected[days == scope.days] { "last " (days) " days" }
                        }
                    }
                }
                label { "Server "
                    select name="server" {
                        option value="" selected[scope.server.is_none()] { "all servers" }
                        // A server asked for by id but not among the listed keeps its place.
                        @if let Some(server) = scope.server.filter(|s| !servers.iter().any(|(id, _)| *id == s.to_string())) {
                            option value=(server) selected { (server) }
                        }
                        @for (id, count) in servers {
                            option value=(id) selected[scope.server.map(|s| s.to_string()).as_deref() == Some(id.as_str())] {
                                (id) " (" (count) ")"
                            }
                        }
                    }
                }
                button type="submit" { "Show" }
            }
        }
        main { (body) }
    };
    document(page.title(), page_body)
}

/// An HTML document titled `title` with the dashboard's style.
fn document(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · transition-bot" }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
}

pub(crate) fn page(page: Page, board: &Board) -> Markup {
    let body = match page {
        Page::Overview => overview(board),
        Page::Gaps => gaps(board),
        Page::Passages => passages(board),
        Page::Review => review(board),
        Page::Speed => speed(board),
    };
    layout(page, board.scope, &board.servers, body)
}

fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.0}%", part as f64 * 100.0 / whole as f64)
    }
}

fn overview(board: &Board) -> Markup {
    let t = &board.totals;
    let columns: Vec<(String, Vec<Part>)> = board
        .days
        .iter()
        .map(|day| {
            let parts = vec![
                ("answered", "answered", day.answered),
                ("offered", "choices offered", day.offered),
                ("declined", "declined", day.declined),
            ];
            (day.date[5..].to_string(), parts)
        })
        .collect();
    let rates: Vec<(String, Option<f64>)> =
        board.weeks.iter().map(|week| (week.last[5..].to_string(), week.answered_rate)).collect();
    let votes: Vec<(String, Vec<Part>)> = board
        .weeks
        .iter()
        .map(|week| (week.last[5..].to_string(), vec![("up", "👍", week.helpful), ("down", "👎", week.unhelpful)]))
        .collect();
    html! {
        section {
            h2 { "Questions per day" }
            div.figures {
                div { b id="asked" { (t.asked) } "asked" }
                div { b id="answered" { (t.answered) } "answered (" (percent(t.answered, t.asked)) ")" }
                div { b id="offered" { (t.offered) } "choices offered" }
                div { b id="declined" { (t.declined) } "declined" }
                div { b id="helpful" { (t.helpful) } "👍" }
                div { b id="unhelpful" { (t.unhelpful) } "👎" }
            }
            div.key { span.answered { "answered" } span.offered { "choices offered" } span.declined { "declined" } }
            (svg::columns("Questions per day: answered, choices offered, declined", &columns))
            details {
                summary { "Numbers" }
                div.table { table id="days" {
                    thead { tr { th { "day" } th.n { "asked" } th.n { "answered" } th.n { "offered" } th.n { "declined" } } }
                    tbody { @for day in &board.days { tr {
                        td { (day.date) } td.n { (day.asked) } td.n { (day.answered) } td.n { (day.offered) } td.n { (day.declined) }
                    } } }
                } }
            }
        }
        section {
            h2 { "Answered rate and feedback per week" }
            (svg::shares("Answered share per week", &rates))
            div.key { span.up { "👍 helpful" } span.down { "👎 not helpful" } }
            (svg::columns("Votes per week", &votes))
            div.table { table id="weeks" {
                thead { tr { th { "week" } th.n { "asked" } th.n { "answered" } th.n { "rate" } th.n { "👍" } th.n { "👎" } } }
                tbody { @for week in &board.weeks { tr {
                    td { (week.first) " – " (week.last) } td.n { (week.asked) } td.n { (week.answered) }
                    td.n { (percent(week.answered, week.asked)) } td.n { (week.helpful) } td.n { (week.unhelpful) }
                } } }
            } }
        }
    }
}

fn gaps(board: &Board) -> Markup {
    html! {
        section {
            h2 { "What members ask that the docs don't answer" }
            p.note { "Questions the bot declined, or offered choices for that nobody picked, grouped by similar wording (the matcher's embeddings). The most asked are the content to write next." }
            @match &board.gaps {
                None => p.note id="no-text" { "Question text logging is off ([storage] log_question_text = false), so only counts are kept." },
                Some(gaps) if gaps.is_empty() => p.note { "No unanswered questions in this period." },
                Some(gaps) => {
                    @if let Some(note) = &board.grouping_note { p.note { (note) } }
                    @let rows: Vec<(String, Vec<Part>)> = gaps.iter().take(15).map(|gap| {
                        (gap.text.clone(), vec![("declined", "declined", gap.asked - gap.offered), ("offered", "choices not picked", gap.offered)])
                    }).collect();
                    div.key { span.declined { "declined" } span.offered { "choices offered, none picked" } }
                    (svg::bars("Most asked unanswered questions", &rows))
                    div.table { table id="gaps" {
                        thead { tr { th.n { "asked" } th.n { "offered" } th { "question" } th { "also worded" } } }
                        tbody { @for gap in gaps { tr {
                            td.n { (gap.asked) } td.n { (gap.offered) } td { (gap.text) }
                            td { @for (i, variant) in gap.variants.iter().enumerate() { @if i > 0 { br; } (variant) } }
                        } } }
                    } }
                }
            }
        }
    }
}

fn passages(board: &Board) -> Markup {
    let rows: Vec<(String, Vec<Part>)> = board
        .disliked
        .iter()
        .take(15)
        .map(|p| (format!("{} ({})", p.title, p.unit), vec![("down", "👎", p.unhelpful), ("up", "👍", p.helpful)]))
        .collect();
    html! {
        section {
            h2 { "Passages with the most 👎" }
            @if board.disliked.is_empty() {
                p.note { "No passage got a 👎 in this period." }
            } @else {
                div.key { span.down { "👎" } span.up { "👍" } }
                (svg::bars("Passages with the most 👎", &rows))
                div.table { table id="disliked" {
                    thead { tr { th.n { "👎" } th.n { "👍" } th { "passage" } th { "id" } } }
                    tbody { @for p in &board.disliked { tr {
                        td.n { (p.unhelpful) } td.n { (p.helpful) } td { (p.title) } td { code { (p.unit) } }
                    } } }
                } }
            }
        }
        section {
            h2 { "Passages never used" }
            p.note { (board.unused.len()) " passage(s) no question was answered with in this period." }
            div.table { table id="unused" {
                thead { tr { th { "passage" } th { "id" } } }
                tbody { @for p in &board.unused { tr { td { (p.title) } td { code { (p.unit) } } } } }
            } }
        }
    }
}

fn review(board: &Board) -> Markup {
    let rows: Vec<(String, Vec<Part>)> = board
        .review
        .iter()
        .take(15)
        .map(|group| {
            let text = group.text.clone().unwrap_or_else(|| format!("#{}", group.id));
            (format!("{text} → {}", group.unit), vec![("bar", "members", i64::from(group.members))])
        })
        .collect();
    html! {
        section {
            h2 { "Waiting for review" }
            p.note { "Messages members resolved by picking a passage (or a 👍), waiting for an admin's decision. Approve or reject them in Discord with /examples." }
            @if board.review.is_empty() {
                p.note { "Nothing is waiting." }
            } @else {
                (svg::bars("Members per waiting example", &rows))
                div.table { table id="review" {
                    thead { tr { th.n { "members" } th.n { "picks" } th { "message" } th { "passage" } th { "latest" } } }
                    tbody { @for group in &board.review { tr {
                        td.n { (group.members) } td.n { (group.picks) }
                        td { @match &group.text { Some(text) => (text), None => span.note { "(text not shown)" } } }
                        td { code { (group.unit) } } td { (group.last) }
                    } } }
                } }
            }
        }
    }
}

fn speed(board: &Board) -> Markup {
    let columns: Vec<(String, Vec<Part>)> =
        board.latency.iter().map(|b| (b.label.clone(), vec![("bar", "questions", b.questions)])).collect();
    html! {
        section {
            h2 { "Answering time" }
            p.note { "From a question's arrival to its reply (the answering path), per question in the log: the measure of transition_bot_answer_latency_seconds, in its buckets." }
            (svg::columns("Questions by answering time", &columns))
            div.table { table id="latency" {
                thead { tr { th { "time" } th.n { "questions" } } }
                tbody { @for b in &board.latency { tr { td { (b.label) } td.n { (b.questions) } } } }
            } }
        }
    }
}

/// The login form; `failed` after a wrong token. Shows nothing of the data.
pub(crate) fn login(failed: bool) -> Markup {
    let form = html! {
        main {
            section {
                h2 { "transition-bot dashboard" }
                @if failed { p.note { "That token is not the dashboard's." } }
                form method="post" action="/dashboard/login" {
                    label { "Token " input type="password" name="token" autocomplete="current-password"; }
                    " "
                    button type="submit" { "Log in" }
                }
            }
        }
    };
    document("Log in", form)
}
