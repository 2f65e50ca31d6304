//! Test support: what the loader read, written out as plain text.
//!
//! A test gives Markdown and the text it expects, as rust-analyzer's
//! `check(input, expect![[...]])` does: one string compared whole, so a test
//! asserts every unit, field and diagnostic (with its line) at once, and a
//! change to the loader shows in review as a diff of that text.

use std::fmt::Write;

use super::blocks::{blocks, Block};
use super::{parse_file, read_file, FileContext};
use crate::engine::knowledge::{Diagnostic, Knowledge, Roadmap, Unit};

/// The signature every kind's builder shares.
pub(super) type Builder = fn(&FileContext, &[(Block, usize)]) -> (Knowledge, Vec<Diagnostic>);

/// Checks the blocks `markdown` flattens into, its first line counted as line 1.
pub(super) fn check_blocks(markdown: &str, expected: &str) {
    assert_same(&render_blocks(&blocks(markdown, 1)), expected);
}

/// Checks what `build` makes of `markdown` read as the file `a.md`, front
/// matter and all, whatever kind the front matter names.
pub(super) fn check_build(build: Builder, markdown: &str, expected: &str) {
    assert_same(&build_rendered(build, markdown), expected);
}

/// What `build` makes of `markdown` as `a.md`, rendered, for tests that
/// shorten it before comparing.
pub(super) fn build_rendered(build: Builder, markdown: &str) -> String {
    let (context, blocks, mut diagnostics) = read_file("a.md", markdown);
    let (file, found) = build(&context, &blocks);
    diagnostics.extend(found);
    render_knowledge(&file, &diagnostics)
}

/// Checks what `parse_file` makes of `markdown` as `a.md`, after `earlier`.
pub(super) fn check_parse(earlier: &Knowledge, markdown: &str, expected: &str) {
    let (file, diagnostics) = parse_file("a.md", markdown, earlier);
    assert_same(&render_knowledge(&file, &diagnostics), expected);
}

pub(super) fn render_blocks(blocks: &[(Block, usize)]) -> String {
    let mut out = String::new();
    for (block, line) in blocks {
        let _ = match block {
            Block::Heading { level, text } => writeln!(out, "{line}: heading {level} {text:?}"),
            Block::Paragraph(text) => writeln!(out, "{line}: paragraph {text:?}"),
            Block::List(items) => writeln!(out, "{line}: list {items:?}"),
            Block::Directive { key, value } => writeln!(out, "{line}: directive {key} {value:?}"),
            Block::Table { header, rows } => {
                let _ = writeln!(out, "{line}: table {header:?}");
                for (cells, row_line) in rows {
                    let _ = writeln!(out, "  {row_line}: {cells:?}");
                }
                Ok(())
            }
        };
    }
    out
}

/// Units by index, then the parts that point to them, then diagnostics.
pub(super) fn render_knowledge(knowledge: &Knowledge, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (index, unit) in knowledge.units.iter().enumerate() {
        out.push_str(&render_unit(index, unit));
    }
    if !knowledge.faq.is_empty() {
        let _ = writeln!(out, "faq: {:?}", knowledge.faq);
    }
    if let Some(comparison) = &knowledge.comparison {
        let _ = writeln!(
            out,
            "comparison {:?} unit {} columns {:?}",
            comparison.title, comparison.unit, comparison.columns
        );
        for row in &comparison.rows {
            let _ = writeln!(out, "  row {:?} unit {} cells {:?}", row.dimension, row.unit, row.cells);
        }
    }
    if let Some(roadmap) = &knowledge.roadmap {
        out.push_str(&render_roadmap(roadmap));
    }
    for (word, expansions) in &knowledge.synonyms {
        let _ = writeln!(out, "synonym {word:?} = {expansions:?}");
    }
    for group in &knowledge.example_groups {
        let _ = writeln!(out, "examples {:?} @{}: {:?}", group.target, group.location.line, group.messages);
    }
    for diagnostic in diagnostics {
        let _ = writeln!(out, "{diagnostic}");
    }
    out
}

/// Empty fields are left out, and `source` shows only where it is not the
/// document's title, so a snapshot holds what a test is about.
fn render_unit(index: usize, unit: &Unit) -> String {
    let mut out = String::new();
    let breadcrumb = unit.breadcrumb.join(" > ");
    let (kind, id, line, title) = (unit.kind.as_str(), &unit.id, unit.location.line, &unit.title);
    let _ = writeln!(out, "{index}: {kind} {id} @{line} {title:?} in {breadcrumb}");
    let _ = writeln!(out, "  text: {:?}", unit.text);
    let fields = [("keywords", &unit.keywords), ("aliases", &unit.aliases), ("examples", &unit.examples)];
    for (name, values) in fields.into_iter().filter(|(_, values)| !values.is_empty()) {
        let _ = writeln!(out, "  {name}: {values:?}");
    }
    if !unit.phases.is_empty() {
        let _ = writeln!(out, "  phases: {:?}", unit.phases);
    }
    if unit.breadcrumb.first() != Some(&unit.source) {
        let _ = writeln!(out, "  source: {:?}", unit.source);
    }
    out
}

fn render_roadmap(roadmap: &Roadmap) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "roadmap {:?} overview {} months {:?}", roadmap.title, roadmap.overview, roadmap.months);
    for phase in &roadmap.phases {
        let (number, title, unit, months) = (phase.number, &phase.title, phase.unit, phase.months);
        let _ = writeln!(out, "  phase {number} {title:?} unit {unit} months {months:?}");
        let _ = writeln!(out, "    summary: {:?}", phase.summary);
        if !phase.details.is_empty() {
            let _ = writeln!(out, "    details: {:?}", phase.details);
        }
        if phase.activities_label.is_some() || !phase.activities.is_empty() {
            let _ = writeln!(out, "    activities: {:?} {:?}", phase.activities_label, phase.activities);
        }
    }
    out
}

/// Compares ignoring the expected text's indentation and surrounding blank
/// lines, so expectations sit indented in the test that states them.
pub(super) fn assert_same(actual: &str, expected: &str) {
    let expected = dedent(expected);
    let actual = actual.trim_end();
    assert!(actual == expected, "\n--- expected\n{expected}\n--- actual\n{actual}\n---");
}

fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.lines().skip_while(|line| line.trim().is_empty()).collect();
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = lines.iter().map(|line| line.get(indent..).unwrap_or("").trim_end()).collect();
    lines.join("\n").trim_end().to_string()
}
