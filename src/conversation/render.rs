//! How an answer looks: a sure answer with its source and roadmap
//! pointers, a partly-covered one with the choices it offers (and the
//! `pick_key`s their buttons carry), or the honest "no answer".
//!
//! The one answering path (`answering`) renders every question's reply
//! here, so every surface shows an answer alike.

use crate::conversation::browse::{months_note, phase_button, phase_name, source_line};
use crate::conversation::reply::{truncate_text, Action, Button, ButtonStyle, Embed, Field, Reply};
use crate::engine::answer::{self, Answer};
use crate::engine::knowledge::{Knowledge, Unit, UnitKind};
use crate::engine::snapshot::Snapshot;

const NO_ANSWER_TITLE: &str = "I don't have an answer for that";

/// Renders a sure answer, a partly-covered one (the closest passage and
/// choices), or the honest "no answer" with what is not covered and suggestions.
pub fn render_answer(snapshot: &Snapshot, answer: &Answer) -> Reply {
    let knowledge = &snapshot.knowledge;
    if answer.partial() {
        return render_partial(knowledge, answer);
    }
    let Some(best) = answer.hits.first().filter(|_| answer.answered) else {
        return render_no_answer(knowledge, answer);
    };
    let unit = &knowledge.units[best.unit];
    let mut embed = Embed { title: answer_title(knowledge, unit), description: unit.text.clone(), ..Embed::default() };
    embed.fields.push(Field::new("Source", source_line(unit)));
    embed.fields.push(Field::new("On the roadmap", roadmap_line(knowledge, &answer.pointers)));
    let related: Vec<String> =
        answer.hits[1..].iter().map(|hit| format!("• {}", knowledge.units[hit.unit].title)).collect();
    if !related.is_empty() {
        embed.fields.push(Field::new("Related", related.join("\n")));
    }
    let mut embeds = vec![embed];
    // A second question of the same message gets its own passage, source and roadmap pointer.
    for part in &answer.more {
        let unit = &knowledge.units[part.hit.unit];
        let mut embed =
            Embed { title: answer_title(knowledge, unit), description: unit.text.clone(), ..Embed::default() };
        embed.fields.push(Field::new("Source", source_line(unit)));
        embed.fields.push(Field::new("On the roadmap", roadmap_line(knowledge, &part.pointers)));
        embeds.push(embed);
    }
    if let Some(last) = embeds.last_mut() {
        last.footer = Some("Was this helpful? Vote with the buttons below.".into());
    }
    let mut phases: Vec<u8> = answer.pointers.clone();
    for &phase in answer.more.iter().flat_map(|part| &part.pointers) {
        if !phases.contains(&phase) {
            phases.push(phase);
        }
    }
    let mut buttons: Vec<Button> = phases.iter().filter_map(|&n| knowledge.phase(n)).map(phase_button).collect();
    for helpful in [true, false] {
        let label = if helpful { "👍 Helpful" } else { "👎 Not helpful" };
        let style = if helpful { ButtonStyle::Success } else { ButtonStyle::Secondary };
        buttons.push(Button { action: Action::Vote { helpful, unit: unit.id.clone() }, label: label.into(), style });
    }
    Reply { embeds, buttons, ..Reply::default() }
}

/// The title of a partly-covered reply.
pub(crate) const PARTIAL_TITLE: &str = "Not exactly covered";

/// The heading of the choices a partly-covered reply offers.
pub(crate) const CHOICES_TITLE: &str = "Is it one of these?";

/// Where a choices reply keeps the question, for the pick to record (the
/// reply holds its own state, like every button: `Action`).
const ASKED_PREFIX: &str = "You asked: ";

/// How long a choice's one-line preview may be.
const PREVIEW: usize = 120;

/// Partly covered: the knowledge does not answer exactly that, so the reply
/// says so, then shows the closest passage in full (its source and roadmap
/// pointers), then "Is it one of these?": each choice numbered with its
/// title and a one-line preview, and a button per choice. The first embed's
/// footer keeps the question, for the pick.
fn render_partial(knowledge: &Knowledge, answer: &Answer) -> Reply {
    let Some(closest) = answer.choices.first().map(|hit| &knowledge.units[hit.unit]) else {
        return render_no_answer(knowledge, answer);
    };
    let mut lines = Vec::new();
    let mut buttons = Vec::new();
    for (number, hit) in answer.choices.iter().enumerate() {
        let unit = &knowledge.units[hit.unit];
        lines.push(format!("**{}. {}**\n{}", number + 1, unit.title, preview(unit)));
        let label = format!("{}. {}", number + 1, unit.title);
        buttons.push(Button { action: Action::Pick { unit: pick_key(&unit.id) }, label, style: ButtonStyle::Primary });
    }
    let mut embed = Embed {
        title: PARTIAL_TITLE.into(),
        description: format!(
            "My knowledge doesn't answer exactly that. The closest it comes is **{}**:\n\n{}",
            answer_title(knowledge, closest),
            closest.text
        ),
        footer: Some(format!("{ASKED_PREFIX}{}", answer.question)),
        ..Embed::default()
    };
    embed.fields.push(Field::new("Source", source_line(closest)));
    embed.fields.push(Field::new("On the roadmap", roadmap_line(knowledge, &answer::pointers(closest))));
    embed.fields.push(Field::new(CHOICES_TITLE, lines.join("\n\n")));
    Reply { embeds: vec![embed], buttons, ..Reply::default() }
}

/// The question a choices reply was for, from its footer.
pub(crate) fn asked_in(reply_footer: &str) -> Option<&str> {
    reply_footer.strip_prefix(ASKED_PREFIX).map(str::trim).filter(|question| !question.is_empty())
}

/// The first sentence of a passage, cut to a line.
fn preview(unit: &Unit) -> String {
    let text = unit.text.trim();
    let first = text.split_inclusive(['.', '?', '!', '\n']).next().unwrap_or(text).trim();
    truncate_text(first, PREVIEW)
}

/// A short, stable key for a unit id in a button's `custom_id` (ids may be
/// long; the key survives rebuilds that keep the id).
pub(crate) fn pick_key(id: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(id.as_bytes()).iter().take(8).map(|byte| format!("{byte:02x}")).collect()
}

/// The unit whose id has this `pick_key`.
pub(crate) fn unit_of_pick(knowledge: &Knowledge, key: &str) -> Option<usize> {
    knowledge.units.iter().position(|unit| pick_key(&unit.id) == key)
}

fn render_no_answer(knowledge: &Knowledge, answer: &Answer) -> Reply {
    let mut embed = Embed {
        title: NO_ANSWER_TITLE.into(),
        description: "Nothing in my knowledge base answers this with confidence, and I'd rather say so than guess."
            .into(),
        ..Embed::default()
    };
    if !answer.not_covered.is_empty() {
        let words: Vec<String> = answer.not_covered.iter().map(|word| format!("“{word}”")).collect();
        embed.fields.push(Field::new("Not covered", format!("My knowledge never mentions {}.", or_list(&words))));
    }
    let closest: Vec<String> = answer.hits.iter().map(|hit| format!("• {}", knowledge.units[hit.unit].title)).collect();
    if !closest.is_empty() {
        embed.fields.push(Field::new("Closest topics I know", closest.join("\n")));
    }
    embed.fields.push(Field::new("Try", browse_lines(knowledge)));
    Reply::embed(embed)
}

/// "a", "a or b", "a, b or c".
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Where members can browse, listing only what this knowledge base has.
fn browse_lines(knowledge: &Knowledge) -> String {
    let mut lines = Vec::new();
    if let Some(roadmap) = &knowledge.roadmap {
        lines.push(format!("`/phases`: {}", roadmap.title));
    }
    if !knowledge.faq.is_empty() {
        lines.push("`/faq`: frequently asked questions".to_string());
    }
    if let Some(comparison) = &knowledge.comparison {
        lines.push(format!("`/compare`: {}", comparison.title));
    }
    lines.push("`/help`: everything I can do".to_string());
    lines.join("\n")
}

fn answer_title(knowledge: &Knowledge, unit: &Unit) -> String {
    match (unit.kind, &knowledge.comparison) {
        (UnitKind::Comparison, Some(comparison)) if unit.id != knowledge.units[comparison.unit].id => {
            format!("{}: {}", unit.title, comparison.columns.join(" vs "))
        }
        _ => unit.title.clone(),
    }
}

fn roadmap_line(knowledge: &Knowledge, pointers: &[u8]) -> String {
    let Some(roadmap) = &knowledge.roadmap else {
        return "This knowledge base has no roadmap.".into();
    };
    if pointers.is_empty() {
        return format!("{}: `/phases`", roadmap.title);
    }
    let mut lines = Vec::new();
    for phase in pointers.iter().filter_map(|&n| knowledge.phase(n)) {
        lines.push(format!("{}{} · `/phase {}`", phase_name(phase), months_note(phase), phase.number));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::conversation::field_guide as snapshot;

    #[test]
    fn an_answer_names_its_source_and_a_no_answer_says_so() {
        // One section is too little for the fitted decision's statistics: judge at a fixed low confidence.
        let mut snapshot = snapshot();
        snapshot.settings.min_confidence = Some(0.2);
        let answered =
            render_answer(&snapshot, &answer::ask(&snapshot, "how do I get started with the basics?")).to_text();
        assert!(answered.contains("Getting started") && answered.contains("Source:"), "{answered}");
        let declined = render_answer(&snapshot, &answer::ask(&snapshot, "best pizza in naples")).to_text();
        assert!(declined.contains(NO_ANSWER_TITLE), "{declined}");
    }
}
