//! The browse commands' replies: the roadmap (`/phases`, `/phase`), the
//! comparison table (`/compare`) and the FAQ (`/faq`), and the pieces an
//! answer shares with them (a passage's source line, a phase's name,
//! months and button).
//!
//! What a knowledge base lacks (no roadmap, no comparison, no FAQ) is a
//! `UserError` saying so, which front ends show the user as a notice.

use std::fmt::Write as _;

use crate::conversation::reply::{limits, truncate_text, Action, Button, ButtonStyle, Embed, Field, Reply, UserError};
use crate::engine::knowledge::{Knowledge, Phase, Unit};

/// "Source › Section › Subsection".
pub(super) fn source_line(unit: &Unit) -> String {
    let mut parts = vec![unit.source.clone()];
    parts.extend(unit.breadcrumb.iter().skip(1).cloned());
    parts.join(" › ")
}

/// "Phase 2: " and the phase's title.
pub(super) fn phase_name(phase: &Phase) -> String {
    format!("Phase {}: {}", phase.number, phase.title)
}

/// " (about months 3–5)" when the roadmap says; empty when it does not.
pub(super) fn months_note(phase: &Phase) -> String {
    match phase.months {
        Some((from, to)) if from < to => format!(" (about months {from}–{to})"),
        Some((from, _)) => format!(" (about month {from})"),
        None => String::new(),
    }
}

/// The button that shows a phase (`/phase N`).
pub(super) fn phase_button(phase: &Phase) -> Button {
    Button {
        action: Action::Phase(phase.number),
        label: format!("Phase {}", phase.number),
        style: ButtonStyle::Primary,
    }
}

fn no_roadmap() -> UserError {
    UserError("This knowledge base has no roadmap.".into())
}

/// The phase list: one line each and where it sits in the roadmap's months.
pub(crate) fn render_phases(knowledge: &Knowledge) -> Result<Reply, UserError> {
    let roadmap = knowledge.roadmap.as_ref().ok_or_else(no_roadmap)?;
    let overview = &knowledge.units[roadmap.overview];
    let mut description = String::new();
    if let Some(months) = roadmap.months {
        let _ = writeln!(
            description,
            "{} phases over about {months} months, each building on the one before.\n",
            roadmap.phases.len()
        );
    }
    for phase in &roadmap.phases {
        let _ = writeln!(description, "**{}**{}\n{}\n", phase_name(phase), months_note(phase), phase.summary);
    }
    description.push_str("Use `/phase N` for a phase's activities.");
    let embed = Embed {
        title: roadmap.title.clone(),
        description,
        fields: vec![Field::new("Source", source_line(overview))],
        footer: None,
    };
    let buttons = roadmap.phases.iter().map(phase_button).collect();
    Ok(Reply { embeds: vec![embed], buttons, ..Reply::default() })
}

/// One phase in full, with what comes before and after it.
pub(crate) fn render_phase(knowledge: &Knowledge, number: u8) -> Result<Reply, UserError> {
    let roadmap = knowledge.roadmap.as_ref().ok_or_else(no_roadmap)?;
    let count = roadmap.phases.len();
    let phase = knowledge.phase(number);
    let Some(phase) = phase else {
        return Err(UserError(format!(
            "There is no phase {number}: the roadmap has phases 1 to {count}. Try /phases."
        )));
    };
    let unit = &knowledge.units[phase.unit];
    let mut embed = Embed {
        title: format!("{}{}", phase_name(phase), months_note(phase)),
        description: unit.text.clone(),
        ..Embed::default()
    };
    let before = roadmap.phases.iter().rev().find(|p| p.number < phase.number);
    let after = roadmap.phases.iter().find(|p| p.number > phase.number);
    embed
        .fields
        .push(Field::new("Before", before.map_or_else(|| "This is where the roadmap starts.".to_string(), phase_name)));
    embed.fields.push(Field::new("After", after.map_or_else(|| "This is the last phase.".to_string(), phase_name)));
    embed.fields.push(Field::new("Source", source_line(unit)));
    embed.footer = Some(format!("Phase {} of {count} · /phases for the whole roadmap", phase.number));
    let buttons = before.into_iter().chain(after).map(phase_button).collect();
    Ok(Reply { embeds: vec![embed], buttons, ..Reply::default() })
}

/// The comparison table, or one row of it.
pub(crate) fn render_compare(knowledge: &Knowledge, dimension: Option<&str>) -> Result<Reply, UserError> {
    let comparison = knowledge
        .comparison
        .as_ref()
        .ok_or_else(|| UserError("This knowledge base has no comparison table.".into()))?;
    let rows: Vec<_> = match dimension {
        None => comparison.rows.iter().collect(),
        Some(wanted) => {
            let row = find_dimension(comparison.rows.iter().map(|row| row.dimension.as_str()), wanted)
                .map(|index| &comparison.rows[index]);
            match row {
                Some(row) => vec![row],
                None => {
                    let known: Vec<&str> = comparison.rows.iter().map(|row| row.dimension.as_str()).collect();
                    return Err(UserError(format!(
                        "No dimension matches \"{wanted}\". Try one of: {}.",
                        known.join(", ")
                    )));
                }
            }
        }
    };
    let mut embed = Embed { title: comparison.title.clone(), ..Embed::default() };
    for row in &rows {
        let value: Vec<String> =
            comparison.columns.iter().zip(&row.cells).map(|(column, cell)| format!("**{column}:** {cell}")).collect();
        embed.fields.push(Field::new(row.dimension.clone(), value.join("\n")));
    }
    embed.fields.truncate(limits::EMBED_FIELDS);
    let source = source_line(&knowledge.units[comparison.unit]);
    embed.footer = Some(format!("{source} · /compare DIMENSION for one row"));
    Ok(Reply::embed(embed))
}

/// Finds a dimension by name: exact, then prefix, then contained, ignoring case.
pub(crate) fn find_dimension<'a>(dimensions: impl Iterator<Item = &'a str> + Clone, wanted: &str) -> Option<usize> {
    let wanted = wanted.trim().to_lowercase();
    if wanted.is_empty() {
        return None;
    }
    let tests: [&dyn Fn(&str) -> bool; 3] = [&|d| d == wanted, &|d| d.starts_with(&wanted), &|d| d.contains(&wanted)];
    tests.iter().find_map(|test| dimensions.clone().position(|d| test(&d.to_lowercase())))
}

/// Every FAQ question with its answer.
pub(crate) fn render_faq(knowledge: &Knowledge) -> Result<Reply, UserError> {
    let first = knowledge.faq.first().ok_or_else(|| UserError("This knowledge base has no FAQ.".into()))?;
    let title = knowledge.units[*first].breadcrumb.first().cloned().unwrap_or_else(|| "FAQ".into());
    let mut embed = Embed { title, ..Embed::default() };
    for &index in knowledge.faq.iter().take(limits::EMBED_FIELDS) {
        let unit = &knowledge.units[index];
        embed.fields.push(Field::new(unit.title.clone(), truncate_text(&unit.text, limits::FIELD_VALUE)));
    }
    if knowledge.faq.len() > limits::EMBED_FIELDS {
        embed.footer = Some(format!(
            "Showing {} of {} questions; ask me about the others.",
            limits::EMBED_FIELDS,
            knowledge.faq.len()
        ));
    }
    Ok(Reply::embed(embed))
}
