//! Ordinary sections, the default kind of file: prose cut into passages.
//!
//! A passage is a paragraph with the list it introduces, long enough to
//! answer a question on its own; it is titled by its heading and carries
//! the heading path above it as its breadcrumb.

use super::blocks::Block;
use super::{append_paragraph, block_text, read_directive, Annotations, Draft, FileContext};
use crate::engine::knowledge::{Diagnostic, Knowledge, Unit, UnitKind};

/// Passages shorter than this are merged with the next paragraph, so a unit
/// carries enough context to stand on its own as an answer.
const MIN_PASSAGE_CHARS: usize = 280;

/// Every paragraph (with the list it introduces) is a passage.
pub(super) fn build_sections(context: &FileContext, blocks: &[(Block, usize)]) -> (Knowledge, Vec<Diagnostic>) {
    let mut file = Knowledge::default();
    let mut diagnostics = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut drafts: Vec<Draft> = Vec::new();
    // Directives right under a heading, before its first passage.
    let mut section = Annotations::default();
    for (block, line) in blocks {
        match block {
            Block::Heading { level, text } => {
                let drafts = std::mem::take(&mut drafts);
                file.units.extend(section_units(context, drafts, std::mem::take(&mut section)));
                path.retain(|(outer, _)| outer < level);
                if !(*level == 1 && *text == context.title) {
                    path.push((*level, text.clone()));
                }
            }
            // Under a heading a directive describes the whole section; after a
            // passage it describes that passage only.
            Block::Directive { key, value } => {
                let (annotations, found) = read_directive(key, value, context.name, *line);
                diagnostics.extend(found);
                match drafts.last_mut() {
                    Some(draft) => draft.annotations.extend(annotations),
                    None => section.extend(annotations),
                }
            }
            Block::Paragraph(_) | Block::List(_) | Block::Table { .. } => {
                let text = block_text(block);
                // A list belongs to the paragraph that introduces it, and short
                // paragraphs lean on the next one for context.
                let continues = matches!(block, Block::List(_))
                    || drafts.last().is_some_and(|last| last.text.chars().count() < MIN_PASSAGE_CHARS);
                match drafts.last_mut() {
                    Some(last) if continues => append_paragraph(&mut last.text, &text),
                    _ => drafts.push(passage_draft(context, &path, text, *line)),
                }
            }
        }
    }
    file.units.extend(section_units(context, drafts, section));
    (file, diagnostics)
}

/// A new passage under the headings in `path`.
fn passage_draft(context: &FileContext, path: &[(usize, String)], text: String, line: usize) -> Draft {
    let title = path.last().map_or_else(|| context.title.clone(), |(_, title)| title.clone());
    let mut breadcrumb = vec![context.title.clone()];
    breadcrumb.extend(path.iter().map(|(_, title)| title.clone()));
    Draft { kind: UnitKind::Section, title, breadcrumb, text, annotations: Annotations::default(), line }
}

/// The units of one section's passages, numbered `-2`, `-3`… after the first.
fn section_units(context: &FileContext, mut drafts: Vec<Draft>, section: Annotations) -> Vec<Unit> {
    // A section's closing sentence ("Recognizing these pitfalls early
    // saves months.") has no next paragraph to lean on: alone it answers
    // nothing, so it closes the passage before it.
    if drafts.len() >= 2 && drafts.last().is_some_and(|last| last.text.chars().count() < MIN_PASSAGE_CHARS / 2) {
        if let Some(last) = drafts.pop() {
            if let Some(previous) = drafts.last_mut() {
                append_paragraph(&mut previous.text, &last.text);
                previous.annotations.extend(last.annotations);
            }
        }
    }
    drafts
        .into_iter()
        .enumerate()
        .map(|(n, mut draft)| {
            let mut id = context.id(&[&draft.title]);
            if n > 0 {
                id = format!("{id}-{}", n + 1);
            }
            let mut annotations = section.clone();
            annotations.extend(std::mem::take(&mut draft.annotations));
            draft.annotations = annotations;
            context.unit(draft, id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::{assert_same, build_rendered};
    use super::*;

    /// Words that make any paragraph long enough to stand alone; shown as `…`.
    fn filler() -> String {
        "lorem ipsum ".repeat(MIN_PASSAGE_CHARS / 10).trim_end().to_string()
    }

    fn long(word: &str) -> String {
        format!("{word} {}", filler())
    }

    fn check(markdown: &str, expected: &str) {
        assert_same(&build_rendered(build_sections, markdown).replace(&filler(), "…"), expected);
    }

    #[test]
    fn short_paragraphs_lean_on_the_next_one_and_long_ones_stand_alone() {
        let text = format!(
            "# Guide\n\n## Setup\n\nShort intro.\n\n{}\n\n{}\n\n{}\n",
            long("First"),
            long("Second"),
            long("Third")
        );
        check(
            &text,
            r#"
            0: section a/setup @5 "Setup" in Guide > Setup
              text: "Short intro.\n\nFirst …"
            1: section a/setup-2 @9 "Setup" in Guide > Setup
              text: "Second …"
            2: section a/setup-3 @11 "Setup" in Guide > Setup
              text: "Third …"
            "#,
        );
    }

    #[test]
    fn a_short_closing_paragraph_closes_the_passage_before_it() {
        let text = format!("# Guide\n\n## Pitfalls\n\n{}\n\n{}\n\nThat saves months.\n", long("One"), long("Two"));
        check(
            &text,
            r#"
            0: section a/pitfalls @5 "Pitfalls" in Guide > Pitfalls
              text: "One …"
            1: section a/pitfalls-2 @7 "Pitfalls" in Guide > Pitfalls
              text: "Two …\n\nThat saves months."
            "#,
        );
    }

    #[test]
    fn a_list_belongs_to_the_paragraph_that_introduces_it() {
        let text = format!(
            "# Guide\n\n{}\n\n- one\n- two\n\n| Skill | Level |\n|---|---|\n| Python | high |\n",
            long("Steps:")
        );
        check(
            &text,
            r#"
            0: section a/guide @3 "Guide" in Guide
              text: "Steps: …\n\n- one\n- two\n\nPython — Level: high"
            "#,
        );
    }

    #[test]
    fn the_heading_path_becomes_the_breadcrumb() {
        let text = "# Guide\n\nBefore any section.\n\n## Setup\n\nSet up.\n\n### Détails\n\nÜmlauts and 日本語.\n\n## Next ##\n\nNext.\n\n# Appendix\n\nLast.\n";
        check(
            text,
            r#"
            0: section a/guide @3 "Guide" in Guide
              text: "Before any section."
            1: section a/setup @7 "Setup" in Guide > Setup
              text: "Set up."
            2: section a/détails @11 "Détails" in Guide > Setup > Détails
              text: "Ümlauts and 日本語."
            3: section a/next @15 "Next" in Guide > Next
              text: "Next."
            4: section a/appendix @19 "Appendix" in Guide > Appendix
              text: "Last."
            "#,
        );
    }

    #[test]
    fn directives_describe_the_section_under_a_heading_and_the_passage_after_one() {
        let text = format!(
            "+++\nkeywords = [\"career\"]\nphases = [2]\n+++\n# Guide\n\n## Setup\n<!-- keywords: install -->\n<!-- phases: 3, x -->\n\n{}\n<!-- aliases: How do I start? -->\n\n{}\n\n## Other\n\nOther.\n",
            long("First"),
            long("Second")
        );
        check(
            &text,
            r#"
            0: section a/setup @11 "Setup" in Guide > Setup
              text: "First …"
              keywords: ["career", "install"]
              aliases: ["How do I start?"]
              phases: [2, 3]
            1: section a/setup-2 @14 "Setup" in Guide > Setup
              text: "Second …"
              keywords: ["career", "install"]
              phases: [2, 3]
            2: section a/other @18 "Other" in Guide > Other
              text: "Other."
              keywords: ["career"]
              phases: [2]
            a.md:9: error: `x` is not a phase number
            "#,
        );
    }
}
