//! Comparison files: one table, such as software engineer vs AI engineer.
//!
//! Each row is a unit, so "how do salaries compare" finds the salary row,
//! and so is the whole table, for "what is the difference" questions.

use super::blocks::Block;
use super::{row_text, split_list, table_text, Annotations, Draft, FileContext};
use crate::engine::knowledge::{Comparison, ComparisonRow, Diagnostic, Knowledge, UnitKind};

/// The table's unit comes first (index 0), then one unit per row.
pub(super) fn build_comparison(context: &FileContext, blocks: &[(Block, usize)]) -> (Knowledge, Vec<Diagnostic>) {
    let mut file = Knowledge::default();
    let Some((header, rows, line)) = first_table(blocks) else {
        return (file, vec![Diagnostic::error(context.name, 1, "comparison file has no table")]);
    };
    if header.len() < 2 || rows.is_empty() {
        let message = "comparison table needs a dimension column, at least one more column and one row";
        return (file, vec![Diagnostic::error(context.name, line, message)]);
    }
    let mut diagnostics = Vec::new();
    let breadcrumb = vec![context.title.clone()];
    let table = Draft {
        kind: UnitKind::Comparison,
        title: context.title.clone(),
        breadcrumb: breadcrumb.clone(),
        text: table_text(header, rows),
        annotations: Annotations::default(),
        line,
    };
    file.units.push(context.unit(table, context.stem.clone()));
    let mut comparison =
        Comparison { title: context.title.clone(), columns: header[1..].to_vec(), rows: Vec::new(), unit: 0 };
    for (cells, row_line) in rows {
        let Some(dimension) = cells.first().filter(|cell| !cell.is_empty()) else {
            diagnostics.push(Diagnostic::error(context.name, *row_line, "comparison row has no dimension"));
            continue;
        };
        let keywords = context.front.row_keywords.get(dimension).map(|k| split_list(k, ',')).unwrap_or_default();
        let mut row_breadcrumb = breadcrumb.clone();
        row_breadcrumb.push(dimension.clone());
        let draft = Draft {
            kind: UnitKind::Comparison,
            title: dimension.clone(),
            breadcrumb: row_breadcrumb,
            text: row_text(header, cells),
            annotations: Annotations { keywords, ..Annotations::default() },
            line: *row_line,
        };
        let unit = file.units.len();
        file.units.push(context.unit(draft, context.id(&[dimension])));
        comparison.rows.push(ComparisonRow { dimension: dimension.clone(), cells: cells[1..].to_vec(), unit });
    }
    // A dimension misspelt in the front matter would otherwise leave its keywords silently unused.
    for dimension in context.front.row_keywords.keys() {
        if !comparison.rows.iter().any(|row| &row.dimension == dimension) {
            let message = format!("row_keywords names `{dimension}`, which is not a row of the table");
            diagnostics.push(Diagnostic::error(context.name, 1, message));
        }
    }
    file.comparison = Some(comparison);
    (file, diagnostics)
}

/// The first table of the file, with its line: a comparison file's only table that counts.
pub(super) fn first_table(blocks: &[(Block, usize)]) -> Option<(&[String], &[(Vec<String>, usize)], usize)> {
    blocks.iter().find_map(|(block, line)| match block {
        Block::Table { header, rows } => Some((header.as_slice(), rows.as_slice(), *line)),
        _ => None,
    })
}
