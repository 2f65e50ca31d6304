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

#[cfg(test)]
mod tests {
    use super::super::snapshot::check_build;
    use super::*;

    #[test]
    fn every_question_is_a_unit_with_its_whole_answer() {
        let text = "# FAQ\n\nText before the first question answers nothing.\n\n## Is it hard?\n<!-- aliases: Is it difficult? | How hard is it? -->\n\nNo.\n\nIt takes:\n\n- time\n- practice\n\n## How long does it take? ##\n\nA year.\n";
        check_build(
            build_faq,
            text,
            r#"
            0: faq a/is-it-hard @5 "Is it hard?" in FAQ
              text: "No.\n\nIt takes:\n\n- time\n- practice"
              aliases: ["Is it difficult?", "How hard is it?"]
            1: faq a/how-long-does-it-take @15 "How long does it take?" in FAQ
              text: "A year."
            faq: [0, 1]
            "#,
        );
    }

    #[test]
    fn a_question_without_an_answer_is_reported_at_its_heading() {
        let text = "# FAQ\n<!-- phases: x -->\n\n## Why?\n\n## How?\n<!-- phases: 1, 0 -->\n\nLike this.\n";
        check_build(
            build_faq,
            text,
            r#"
            0: faq a/how @6 "How?" in FAQ
              text: "Like this."
              phases: [1]
            faq: [0]
            a.md:7: error: `0` is not a phase number
            a.md:4: error: FAQ question `Why?` has no answer
            "#,
        );
    }
}
