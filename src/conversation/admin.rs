//! Replies for admins: the outcome of a reindex and the question-log stats.

use crate::conversation::reply::{limits, truncate_text, Embed, Field, Reply};
use crate::engine::knowledge::Diagnostic;
use crate::ops::stats::{parse_window, QuestionCount, Stats, UnitVotes, QUESTION_WIDTH};
use crate::ops::storage::Storage;
use crate::serving::host::RebuildError;
use crate::serving::reindex::Outcome;

/// The ephemeral `/reindex` reply: what changed and how long it took, that
/// nothing changed, or every error with its `file:line`. Warnings (such as
/// an ignored non-Markdown file) are always named.
pub fn render_outcome(outcome: &Outcome) -> Reply {
    let embed = match outcome {
        Ok(report) => {
            let mut fields = Vec::new();
            for (name, ids) in [("Added", &report.added), ("Removed", &report.removed), ("Changed", &report.changed)] {
                if !ids.is_empty() {
                    let lines: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
                    fields.push(Field::new(format!("{name} ({})", ids.len()), listing(&lines, limits::FIELD_VALUE)));
                }
            }
            if !report.warnings.is_empty() {
                let lines: Vec<String> = report.warnings.iter().map(diagnostic_line).collect();
                fields.push(Field::new(
                    format!("Warnings ({})", report.warnings.len()),
                    listing(&lines, limits::FIELD_VALUE),
                ));
            }
            let title = if report.unchanged { "Nothing changed" } else { "Reindexed" };
            Embed { title: title.into(), description: report.summary(), fields, footer: None }
        }
        Err(RebuildError::Invalid(diagnostics)) => {
            let errors: Vec<String> = diagnostics.iter().filter(|d| d.is_error()).map(diagnostic_line).collect();
            let warnings: Vec<String> = diagnostics.iter().filter(|d| !d.is_error()).map(diagnostic_line).collect();
            let mut description = String::from("Still serving the previous version. Fix these and save again:\n");
            description.push_str(&listing(&errors, limits::EMBED_DESCRIPTION - description.chars().count()));
            let fields = if warnings.is_empty() {
                Vec::new()
            } else {
                vec![Field::new(format!("Warnings ({})", warnings.len()), listing(&warnings, limits::FIELD_VALUE))]
            };
            Embed { title: format!("Reindex refused: {} error(s)", errors.len()), description, fields, footer: None }
        }
        Err(RebuildError::Index(message)) => {
            Embed { title: "Reindex failed".into(), description: message.clone(), fields: Vec::new(), footer: None }
        }
        Err(RebuildError::Refused(message)) => {
            let mut lines = message.lines();
            let mut description = format!("{}\nStill serving the previous version.", lines.next().unwrap_or_default());
            let rest: Vec<String> = lines.map(|line| format!("- {line}")).collect();
            if !rest.is_empty() {
                description.push('\n');
                let room = limits::EMBED_DESCRIPTION.saturating_sub(description.chars().count());
                description.push_str(&listing(&rest, room));
            }
            Embed { title: "Reindex refused".into(), description, fields: Vec::new(), footer: None }
        }
    };
    Reply { ephemeral: true, ..Reply::embed(embed) }
}

/// `file:line: message` for replies, location in code style so Markdown leaves file names alone.
fn diagnostic_line(diagnostic: &Diagnostic) -> String {
    format!("- `{}`: {}", diagnostic.location, diagnostic.message)
}

/// Whole lines within `room` characters, then "…and N more" rather than a line cut in half.
fn listing(lines: &[String], room: usize) -> String {
    let mut out = String::new();
    for (shown, line) in lines.iter().enumerate() {
        let more = format!("…and {} more (`transition-bot check` lists all)", lines.len() - shown);
        let needed = out.chars().count() + line.chars().count() + 1;
        let is_last = shown + 1 == lines.len();
        if needed > room || (!is_last && needed + more.chars().count() + 1 > room) {
            out.push_str(&more);
            return out;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// The stats command's reply, for any surface: the stats over `since`
/// ("7d" when unset), or a notice saying why there are none.
pub(crate) async fn stats_reply(storage: Option<&Storage>, since: Option<&str>) -> Reply {
    let window = match parse_window(since.unwrap_or("7d")) {
        Ok(window) => window,
        Err(message) => return Reply::notice(message),
    };
    let Some(storage) = storage else {
        return Reply::notice("The question log is off.");
    };
    match storage.stats(window).await {
        Ok(stats) => render_stats(&stats),
        Err(err) => Reply::notice(format!("The question log cannot be read right now: {err}")),
    }
}

/// The admin `/stats` reply.
pub fn render_stats(stats: &Stats) -> Reply {
    let mut fields = Vec::new();
    if !stats.by_surface.is_empty() {
        let lines: Vec<String> = stats
            .by_surface
            .iter()
            .map(|s| format!("{}: {} asked, {} answered", s.surface, s.asked, s.answered))
            .collect();
        fields.push(Field::new("By surface", lines.join("\n")));
    }
    match stats.text_note() {
        Some(note) => fields.push(Field::new("Questions", note)),
        None => {
            let list = |questions: &[QuestionCount]| -> String {
                if questions.is_empty() {
                    return "None.".to_string();
                }
                let lines: Vec<String> = questions
                    .iter()
                    .map(|q| format!("{}× {}", q.asked, truncate_text(&q.text, QUESTION_WIDTH)))
                    .collect();
                lines.join("\n")
            };
            fields.push(Field::new("Most asked", list(&stats.most_asked)));
            fields.push(Field::new("Top unanswered", list(&stats.top_unanswered)));
        }
    }
    let units = |list: &[UnitVotes]| -> String {
        if list.is_empty() {
            return "None.".to_string();
        }
        let lines: Vec<String> =
            list.iter().map(|u| format!("`{}`: {} 👎, {} 👍", u.unit, u.unhelpful, u.helpful)).collect();
        lines.join("\n")
    };
    fields.push(Field::new("Most 👎", units(&stats.most_unhelpful)));
    fields.push(Field::new("Most 👍", units(&stats.most_helpful)));
    let embed = Embed {
        title: format!("Bot stats, {}", stats.window_label()),
        description: stats.summary_line(),
        fields,
        footer: None,
    };
    Reply { ephemeral: true, ..Reply::embed(embed) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::reply::count;

    #[test]
    fn listing_keeps_whole_lines_and_counts_the_rest() {
        let lines: Vec<String> = (0..100).map(|n| format!("- `article.md:{n}`: café problem {n}")).collect();
        let text = listing(&lines, 300);
        assert!(text.chars().count() <= 300, "{text}");
        assert!(text.starts_with("- `article.md:0`"));
        let shown = text.lines().filter(|line| line.starts_with("- ")).count();
        assert!(text.ends_with(&format!("…and {} more (`transition-bot check` lists all)", 100 - shown)), "{text}");
        assert_eq!(listing(&lines[..2], 300), format!("{}\n{}", lines[0], lines[1]));
    }

    #[test]
    fn stats_reply_is_an_ephemeral_embed_that_fits_once_clamped() {
        let long = "why ".repeat(2000);
        let many: Vec<QuestionCount> =
            (0..10).map(|i| QuestionCount { text: format!("{i} {long}"), asked: 1, answered: 0 }).collect();
        let stats = Stats {
            text_logged: true,
            with_text: 10,
            most_asked: many.clone(),
            top_unanswered: many,
            ..Stats::default()
        };
        let reply = render_stats(&stats).clamp();
        assert!(reply.ephemeral);
        assert_eq!(reply.embeds.len(), 1);
        assert!(reply.embeds[0].fields.iter().any(|f| f.name == "Top unanswered"));
        let total: usize = reply.embeds[0].fields.iter().map(|f| count(&f.name) + count(&f.value)).sum();
        assert!(total + count(&reply.embeds[0].description) <= limits::EMBEDS_TOTAL);
    }

    #[test]
    fn stats_reply_says_when_question_text_is_not_logged() {
        let stats = Stats { text_logged: false, ..Stats::default() };
        assert!(render_stats(&stats).to_text().contains("log_question_text = false"));
    }

    #[test]
    fn refused_reindex_lists_every_error_with_its_place() {
        let diagnostics = vec![
            Diagnostic::error("faq.md", 3, "a question without an answer"),
            Diagnostic::warning("notes.txt", 0, "not Markdown; ignored"),
        ];
        let text = render_outcome(&Err(RebuildError::Invalid(diagnostics))).to_text();
        assert!(text.contains("Reindex refused: 1 error(s)") && text.contains("faq.md:3"), "{text}");
        assert!(text.contains("Warnings (1)"), "{text}");
    }
}
