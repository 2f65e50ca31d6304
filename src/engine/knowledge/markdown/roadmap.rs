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

#[cfg(test)]
mod tests {
    use super::super::snapshot::check_build;
    use super::*;

    #[test]
    fn phases_share_out_the_months_and_keep_their_parts() {
        let text = "+++\nmonths = 12\n+++\n# Plan\n<!-- keywords: plan -->\n\nIntro.\n\n## Phase 1: Foundations\n<!-- aliases: the basics -->\n\nLearn the basics.\n\nMore detail.\n\nKey activities include:\n\n- read\n- practise\n\n## Phase 2 - Projects\n\nBuild things.\n\n## Phase 3\n\nShip it.\n";
        check_build(
            build_roadmap,
            text,
            r#"
            0: overview a @1 "Plan" in Plan
              text: "Intro.\n\nPhase 1: Foundations — Learn the basics.\n\nPhase 2: Projects — Build things.\n\nPhase 3: Phase 3 — Ship it."
              keywords: ["plan"]
              phases: [1, 2, 3]
            1: phase a/phase-1 @9 "Phase 1: Foundations" in Plan > Phase 1
              text: "Learn the basics.\n\nMore detail.\n\nKey activities include:\n\n- read\n- practise"
              keywords: ["phase 1", "stage 1", "step 1", "first", "phase one"]
              aliases: ["the basics"]
              phases: [1]
            2: phase a/phase-2 @21 "Phase 2: Projects" in Plan > Phase 2
              text: "Build things."
              keywords: ["phase 2", "stage 2", "step 2", "second", "phase two"]
              phases: [2]
            3: phase a/phase-3 @25 "Phase 3: Phase 3" in Plan > Phase 3
              text: "Ship it."
              keywords: ["phase 3", "stage 3", "step 3", "third", "phase three"]
              phases: [3]
            roadmap "Plan" overview 0 months Some(12)
              phase 1 "Foundations" unit 1 months Some((1, 4))
                summary: "Learn the basics."
                details: ["More detail."]
                activities: Some("Key activities include:") ["read", "practise"]
              phase 2 "Projects" unit 2 months Some((5, 8))
                summary: "Build things."
              phase 3 "Phase 3" unit 3 months Some((9, 12))
                summary: "Ship it."
            "#,
        );
    }

    #[test]
    fn roadmap_problems_are_reported_with_their_lines() {
        check_build(
            build_roadmap,
            "# Plan\n\nNo phases at all.\n",
            "a.md:1: error: roadmap has no phases (expected headings like `## Phase 1: Title`)",
        );
        check_build(
            build_roadmap,
            "# Plan\n\n## Phase 2: Late\n\nText.\n\n## Phase 1: Early\n<!-- phases: x -->\n\n- a list but no summary\n",
            r#"
            0: overview a @1 "Plan" in Plan
              text: "Phase 2: Late — Text.\n\nPhase 1: Early — "
              phases: [1, 2]
            1: phase a/phase-2 @3 "Phase 2: Late" in Plan > Phase 2
              text: "Text."
              keywords: ["phase 2", "stage 2", "step 2", "second", "phase two"]
              phases: [2]
            2: phase a/phase-1 @7 "Phase 1: Early" in Plan > Phase 1
              text: "- a list but no summary"
              keywords: ["phase 1", "stage 1", "step 1", "first", "phase one"]
              phases: [1]
            roadmap "Plan" overview 0 months None
              phase 2 "Late" unit 1 months None
                summary: "Text."
              phase 1 "Early" unit 2 months None
                summary: ""
                activities: None ["a list but no summary"]
            a.md:8: error: `x` is not a phase number
            a.md:3: error: phase `Late` is numbered 2 but is phase 1 of the roadmap
            a.md:7: error: phase `Early` is numbered 1 but is phase 2 of the roadmap
            a.md:7: error: phase 1 has no summary paragraph
            "#,
        );
    }

    #[test]
    fn phase_headings_give_their_number_and_title() {
        let cases: [(&str, usize, (u8, &str)); 7] = [
            ("Phase 2: Applied Projects", 0, (2, "Applied Projects")),
            ("phase 3. Deploy", 0, (3, "Deploy")),
            ("Phase 4 — Jobs", 0, (4, "Jobs")),
            ("Phase 5", 0, (5, "Phase 5")),
            ("Foundations", 2, (3, "Foundations")),
            ("Phase one: Start", 0, (1, "Phase one: Start")),
            ("Phase 300: Too far", 0, (1, "Phase 300: Too far")),
        ];
        for (heading, index, (number, title)) in cases {
            assert_eq!(phase_heading(heading, index), (number, title.to_string()), "{heading}");
        }
    }
}
