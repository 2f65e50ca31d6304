//! Files that are lists rather than prose: synonyms and example messages.
//! Neither gives units; their items go where search and the matcher read them.

use super::blocks::Block;
use super::{split_list, FileContext};
use crate::engine::knowledge::examples::ExampleGroup;
use crate::engine::knowledge::{Diagnostic, Knowledge, Location};

/// Synonym files: list items `word = expansion, expansion`. A word given
/// twice keeps the expansions of both, in order.
pub(super) fn build_synonyms(context: &FileContext, blocks: &[(Block, usize)]) -> (Knowledge, Vec<Diagnostic>) {
    let mut file = Knowledge::default();
    let mut diagnostics = Vec::new();
    for (block, line) in blocks {
        let Block::List(items) = block else { continue };
        for item in items {
            match item.split_once('=') {
                Some((word, expansions)) if !word.trim().is_empty() && !expansions.trim().is_empty() => {
                    let entry = file.synonyms.entry(word.trim().to_lowercase()).or_default();
                    entry.extend(split_list(expansions, ','));
                }
                // Reported at the list's line: blocks keep no line per item.
                _ => diagnostics.push(Diagnostic::error(
                    context.name,
                    *line,
                    format!("synonym `{item}` should read `word = expansion, expansion`"),
                )),
            }
        }
    }
    (file, diagnostics)
}

/// Example files: every `##` heading names a passage (or `Off-topic`), and
/// its list items are messages it answers. Which passage a heading names is
/// resolved once every file is read (`examples::resolve`), since it may be
/// in a file read later.
pub(super) fn build_examples(context: &FileContext, blocks: &[(Block, usize)]) -> (Knowledge, Vec<Diagnostic>) {
    let mut file = Knowledge::default();
    let mut diagnostics = Vec::new();
    let mut current: Option<ExampleGroup> = None;
    for (block, line) in blocks {
        match block {
            Block::Heading { level: 1, .. } | Block::Paragraph(_) | Block::Directive { .. } => {}
            Block::Heading { text, .. } => {
                file.example_groups.extend(current.take());
                let location = Location { file: context.name.to_string(), line: *line };
                current = Some(ExampleGroup { target: text.clone(), messages: Vec::new(), location });
            }
            Block::List(items) => match current.as_mut() {
                Some(group) => group.messages.extend(items.iter().map(|item| item.trim().to_string())),
                None => diagnostics.push(Diagnostic::error(
                    context.name,
                    *line,
                    "examples must follow a `##` heading that names a passage (its id, heading path or title) or `Off-topic`",
                )),
            },
            Block::Table { .. } => diagnostics.push(Diagnostic::warning(
                context.name,
                *line,
                "a table in an examples file is ignored: examples are list items",
            )),
        }
    }
    file.example_groups.extend(current);
    (file, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::check_build;
    use super::*;

    #[test]
    fn synonyms_add_up_and_bad_items_are_reported_at_their_list() {
        let text = "# Synonyms\n\nWords members use.\n\n- JS = javascript, ecmascript\n- ml = machine learning\n\nMore:\n\n- js = node\n- nothing here\n- = empty word\n";
        check_build(
            build_synonyms,
            text,
            r#"
            synonym "js" = ["javascript", "ecmascript", "node"]
            synonym "ml" = ["machine learning"]
            a.md:10: error: synonym `nothing here` should read `word = expansion, expansion`
            a.md:10: error: synonym `= empty word` should read `word = expansion, expansion`
            "#,
        );
    }

    #[test]
    fn examples_are_grouped_under_the_heading_that_names_their_passage() {
        let text = "# Examples\n\n- before any heading\n\n## faq/is-it-hard\n\nA paragraph is ignored.\n<!-- keywords: ignored too -->\n\n- Is it hard?\n-   Is it   difficult?  \n\n## Off-topic\n\n| a | b |\n|---|---|\n| c | d |\n\n- what's the weather\n\n## Empty\n";
        check_build(
            build_examples,
            text,
            r#"
            examples "faq/is-it-hard" @5: ["Is it hard?", "Is it difficult?"]
            examples "Off-topic" @13: ["what's the weather"]
            examples "Empty" @21: []
            a.md:3: error: examples must follow a `##` heading that names a passage (its id, heading path or title) or `Off-topic`
            a.md:15: warning: a table in an examples file is ignored: examples are list items
            "#,
        );
    }
}
