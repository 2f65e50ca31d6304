//! FAQ files: every heading below the title is a question, and the text
//! under it the answer, kept whole as one unit however long it is.

use super::blocks::Block;
use super::{append_paragraph, block_text, read_directive, Annotations, Draft, FileContext};
use crate::engine::knowledge::{Diagnostic, Knowledge, UnitKind};

/// One unit per question; text before the first question is not an answer and is left out.
pub(super) fn build_faq(context: &FileContext, blocks: &[(Block, usize)]) -> (Knowledge, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut questions: Vec<Draft> = Vec::new();
    for (block, line) in blocks {
        match (block, questions.last_mut()) {
            (Block::Heading { level: 1, .. }, _) => {}
            (Block::Heading { text, .. }, _) => questions.push(Draft {
                kind: UnitKind::Faq,
                title: text.clone(),
                breadcrumb: vec![context.title.clone()],
                text: String::new(),
                annotations: Annotations::default(),
                line: *line,
            }),
            (Block::Directive { key, value }, Some(question)) => {
                let (annotations, found) = read_directive(key, value, context.name, *line);
                diagnostics.extend(found);
                question.annotations.extend(annotations);
            }
            (other, Some(question)) => append_paragraph(&mut question.text, &block_text(other)),
            (_, None) => {}
        }
    }
    let mut file = Knowledge::default();
    for question in questions {
        if question.text.is_empty() {
            let message = format!("FAQ question `{}` has no answer", question.title);
            diagnostics.push(Diagnostic::error(context.name, question.line, message));
            continue;
        }
        let id = context.id(&[&question.title]);
        file.faq.push(file.units.len());
        file.units.push(context.unit(question, id));
    }
    (file, diagnostics)
}
