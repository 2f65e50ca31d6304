//! Roadmap files: the text before the first phase heading is the overview,
//! and every heading below the title is a phase ("Phase N: Title").
//!
//! A phase keeps its summary (its first paragraph) apart, because the
//! roadmap's overview lists every phase by its summary; the phase's unit
//! joins summary, details and activities into one passage.

use super::blocks::Block;
use super::{append_paragraph, block_text, bullets, read_directive, Annotations, Draft, FileContext};
use crate::engine::knowledge::{Diagnostic, Knowledge, Phase, Roadmap, Unit, UnitKind};

/// The overview's unit comes first (index 0), then one unit per phase.
pub(super) fn build_roadmap(context: &FileContext, blocks: &[(Block, usize)]) -> (Knowledge, Vec<Diagnostic>) {
    let mut file = Knowledge::default();
    let (as_read, mut diagnostics) = read_phases(context, blocks);
    if as_read.phases.is_empty() {
        let message = "roadmap has no phases (expected headings like `## Phase 1: Title`)";
        diagnostics.push(Diagnostic::error(context.name, 1, message));
        return (file, diagnostics);
    }
    diagnostics.extend(check_phases(context, &as_read.phases));
    file.units.push(overview_unit(context, &as_read));
    let mut roadmap =
        Roadmap { title: context.title.clone(), months: context.front.months, overview: 0, phases: Vec::new() };
    let count = as_read.phases.len() as u32;
    for PhaseDraft { mut phase, mut annotations, line } in as_read.phases {
        // Months are shared out evenly; a misnumbered phase (already
        // reported) still gets a range inside the roadmap.
        if let Some(total) = context.front.months {
            let index = u32::from(phase.number).saturating_sub(1).min(count - 1);
            phase.months = Some((index * total / count + 1, (index + 1) * total / count));
        }
        annotations.phases.push(phase.number);
        annotations.keywords.extend(phase_keywords(phase.number));
        let draft = Draft {
            kind: UnitKind::Phase,
            title: format!("Phase {}: {}", phase.number, phase.title),
            breadcrumb: vec![context.title.clone(), format!("Phase {}", phase.number)],
            text: phase_text(&phase),
            annotations,
            line,
        };
        phase.unit = file.units.len();
        file.units.push(context.unit(draft, context.id(&[&format!("phase-{}", phase.number)])));
        roadmap.phases.push(phase);
    }
    file.roadmap = Some(roadmap);
    (file, diagnostics)
}

/// A phase as read, with its directives and heading line.
struct PhaseDraft {
    phase: Phase,
    annotations: Annotations,
    line: usize,
}

/// The roadmap as read, before it is checked.
struct RoadmapDraft {
    /// The text before the first phase, and its directives.
    text: String,
    annotations: Annotations,
    phases: Vec<PhaseDraft>,
}

fn read_phases(context: &FileContext, blocks: &[(Block, usize)]) -> (RoadmapDraft, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut roadmap = RoadmapDraft { text: String::new(), annotations: Annotations::default(), phases: Vec::new() };
    for (block, line) in blocks {
        match (block, roadmap.phases.last_mut()) {
            (Block::Heading { level: 1, .. }, _) => {}
            (Block::Heading { text, .. }, _) => {
                let (number, title) = phase_heading(text, roadmap.phases.len());
                let phase = Phase {
                    number,
                    title,
                    summary: String::new(),
                    details: Vec::new(),
                    activities_label: None,
                    activities: Vec::new(),
                    months: None,
                    unit: 0,
                };
                roadmap.phases.push(PhaseDraft { phase, annotations: Annotations::default(), line: *line });
            }
            (Block::Directive { key, value }, last) => {
                let (annotations, found) = read_directive(key, value, context.name, *line);
                diagnostics.extend(found);
                match last {
                    Some(draft) => draft.annotations.extend(annotations),
                    None => roadmap.annotations.extend(annotations),
                }
            }
            (other, None) => append_paragraph(&mut roadmap.text, &block_text(other)),
            // The paragraph just before a list introduces it ("Key activities include:").
            (Block::List(items), Some(PhaseDraft { phase, .. })) => {
                if phase.activities.is_empty() {
                    phase.activities_label = phase.details.pop();
                }
                phase.activities.extend(items.iter().cloned());
            }
            (other, Some(PhaseDraft { phase, .. })) if phase.summary.is_empty() => phase.summary = block_text(other),
            (other, Some(PhaseDraft { phase, .. })) => phase.details.push(block_text(other)),
        }
    }
    (roadmap, diagnostics)
}

/// Phases must be numbered 1, 2, 3… in order and each needs a summary.
fn check_phases(context: &FileContext, phases: &[PhaseDraft]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (index, PhaseDraft { phase, line, .. }) in phases.iter().enumerate() {
        if usize::from(phase.number) != index + 1 {
            let message = format!(
                "phase `{}` is numbered {} but is phase {} of the roadmap",
                phase.title,
                phase.number,
                index + 1
            );
            diagnostics.push(Diagnostic::error(context.name, *line, message));
        }
        if phase.summary.is_empty() {
            let message = format!("phase {} has no summary paragraph", phase.number);
            diagnostics.push(Diagnostic::error(context.name, *line, message));
        }
    }
    diagnostics
}

/// The overview unit: the intro and one line per phase, pointing to every phase.
fn overview_unit(context: &FileContext, roadmap: &RoadmapDraft) -> Unit {
    let mut text = roadmap.text.clone();
    for PhaseDraft { phase, .. } in &roadmap.phases {
        append_paragraph(&mut text, &format!("Phase {}: {} — {}", phase.number, phase.title, phase.summary));
    }
    let mut annotations = roadmap.annotations.clone();
    annotations.phases.extend(roadmap.phases.iter().map(|draft| draft.phase.number));
    let draft = Draft {
        kind: UnitKind::Overview,
        title: context.title.clone(),
        breadcrumb: vec![context.title.clone()],
        text,
        annotations,
        line: 1,
    };
    context.unit(draft, context.stem.clone())
}

/// Reads "Phase 2: Applied Projects"; headings without a number take their position.
fn phase_heading(text: &str, index: usize) -> (u8, String) {
    let position = u8::try_from(index + 1).unwrap_or(u8::MAX);
    let Some(rest) = text.strip_prefix("Phase ").or_else(|| text.strip_prefix("phase ")) else {
        return (position, text.to_string());
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let title = rest[digits.len()..].trim_start_matches([':', '.', '-', '—', ' ']).trim();
    match digits.parse::<u8>() {
        Ok(number) if !title.is_empty() => (number, title.to_string()),
        Ok(number) => (number, text.to_string()),
        Err(_) => (position, text.to_string()),
    }
}

/// Words members use for a phase by position, so "the second phase" finds phase 2.
fn phase_keywords(number: u8) -> Vec<String> {
    let mut keywords = vec![format!("phase {number}"), format!("stage {number}"), format!("step {number}")];
    if let Some((ordinal, cardinal)) = crate::engine::words::number_words(number) {
        keywords.push(ordinal.to_string());
        keywords.push(format!("phase {cardinal}"));
    }
    keywords
}

fn phase_text(phase: &Phase) -> String {
    let mut text = phase.summary.clone();
    for detail in &phase.details {
        append_paragraph(&mut text, detail);
    }
    if let Some(label) = &phase.activities_label {
        append_paragraph(&mut text, label);
    }
    if !phase.activities.is_empty() {
        append_paragraph(&mut text, &bullets(&phase.activities));
    }
    text
}
