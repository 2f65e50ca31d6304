//! Comparison files: one table, such as software engineer vs AI engineer.
//!
//! Each row is a unit, so "how do salaries compare" finds the salary row,
//! and so is the whole table, for "what is the difference" questions.

use super::blocks::{Block, TableRow};
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
pub(super) fn first_table(blocks: &[(Block, usize)]) -> Option<(&[String], &[TableRow], usize)> {
    blocks.iter().find_map(|(block, line)| match block {
        Block::Table { header, rows } => Some((header.as_slice(), rows.as_slice(), *line)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::check_build;
    use super::*;

    #[test]
    fn every_row_is_a_unit_and_so_is_the_whole_table() {
        let text = "+++\nkind = \"comparison\"\nsource = \"Roles compared\"\n[row_keywords]\nSalary = \"pay, money\"\n+++\n# SWE vs AI\n\nIntro.\n\n| Dimension | SWE | AI \\| ML |\n|---|---|---|\n| Salary | high | higher |\n| Tools | IDE | notebooks |\n";
        check_build(
            build_comparison,
            text,
            r#"
            0: comparison a @11 "SWE vs AI" in SWE vs AI
              text: "Salary — SWE: high; AI | ML: higher\nTools — SWE: IDE; AI | ML: notebooks"
              source: "Roles compared"
            1: comparison a/salary @13 "Salary" in SWE vs AI > Salary
              text: "Salary — SWE: high; AI | ML: higher"
              keywords: ["pay", "money"]
              source: "Roles compared"
            2: comparison a/tools @14 "Tools" in SWE vs AI > Tools
              text: "Tools — SWE: IDE; AI | ML: notebooks"
              source: "Roles compared"
            comparison "SWE vs AI" unit 0 columns ["SWE", "AI | ML"]
              row "Salary" unit 1 cells ["high", "higher"]
              row "Tools" unit 2 cells ["IDE", "notebooks"]
            "#,
        );
    }

    #[test]
    fn comparison_problems_are_reported_with_their_lines() {
        let needs_columns =
            "a.md:3: error: comparison table needs a dimension column, at least one more column and one row";
        check_build(build_comparison, "# T\n\nNo table here.\n", "a.md:1: error: comparison file has no table");
        check_build(build_comparison, "# T\n\n| Only |\n|---|\n| one |\n", needs_columns);
        check_build(build_comparison, "# T\n\n| A | B |\n|---|---|\n", needs_columns);
        // A row without a dimension is no unit, though the whole table still shows it.
        check_build(
            build_comparison,
            "+++\n[row_keywords]\nSpeed = \"fast\"\n+++\n# T\n\n| A | B |\n|---|---|\n| | x |\n| Cost | y |\n",
            r#"
            0: comparison a @7 "T" in T
              text: " — B: x\nCost — B: y"
            1: comparison a/cost @10 "Cost" in T > Cost
              text: "Cost — B: y"
            comparison "T" unit 0 columns ["B"]
              row "Cost" unit 1 cells ["y"]
            a.md:9: error: comparison row has no dimension
            a.md:1: error: row_keywords names `Speed`, which is not a row of the table
            "#,
        );
    }
}
