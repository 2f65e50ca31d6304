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
