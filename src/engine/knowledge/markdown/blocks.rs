//! Markdown flattened into blocks, the first step of loading a file.
//!
//! Every kind of file is built from the same flat list: headings,
//! paragraphs, lists, tables and directives (`<!-- key: value -->`
//! comments), each with the line it starts on. pulldown-cmark's nested
//! events stay in this file, so a builder never has to know how Markdown
//! nests, and what no builder reads (emphasis, links, code blocks at the top
//! level) is dropped here.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::normalize_space;

/// One flattened piece of a Markdown file.
#[derive(Debug, PartialEq)]
pub(super) enum Block {
    Heading {
        level: usize,
        text: String,
    },
    Paragraph(String),
    /// The top-level items; a nested list is folded into its parent item's
    /// text, because a passage shows one level of bullets.
    List(Vec<String>),
    Table {
        header: Vec<String>,
        rows: Vec<TableRow>,
    },
    Directive {
        key: String,
        value: String,
    },
}

/// A table row's cells and the line it is on.
pub(super) type TableRow = (Vec<String>, usize);

/// Directive keys understood in `<!-- key: value -->` comments; other comments are ignored.
const DIRECTIVES: [&str; 3] = ["keywords", "aliases", "phases"];

/// Flattens Markdown into blocks with their 1-based line numbers, counting
/// the first line of `text` as `first_line` (the body follows the front matter).
pub(super) fn blocks(text: &str, first_line: usize) -> Vec<(Block, usize)> {
    // Newline offsets, so a block's line is a binary search: counting newlines
    // from the start for every event made parsing quadratic in file size.
    let newlines: Vec<usize> = text.bytes().enumerate().filter(|&(_, byte)| byte == b'\n').map(|(at, _)| at).collect();
    let line_of = |offset: usize| first_line + newlines.partition_point(|&at| at < offset);
    let mut out = Vec::new();
    let mut open = OpenBlock::default();
    for (event, range) in Parser::new_ext(text, Options::ENABLE_TABLES).into_offset_iter() {
        let line = line_of(range.start);
        match event {
            Event::Start(Tag::Heading { .. }) | Event::Start(Tag::Paragraph) if open.list_depth == 0 => {
                open.text.clear();
                open.start_line = line;
            }
            // A heading inside a list item is part of the item's text; it once
            // ended a heading block holding the paragraph before the list.
            Event::End(TagEnd::Heading(level)) if open.list_depth == 0 => {
                let text = normalize_space(&open.text);
                out.push((Block::Heading { level: level as usize, text }, open.start_line));
            }
            Event::End(TagEnd::Paragraph) if open.list_depth == 0 => {
                let text = normalize_space(&open.text);
                if !text.is_empty() {
                    out.push((Block::Paragraph(text), open.start_line));
                }
            }
            Event::End(TagEnd::Paragraph) => open.item.push(' '),
            Event::Start(Tag::List(_) | Tag::Item) | Event::End(TagEnd::List(_) | TagEnd::Item) => {
                out.extend(read_list_event(&mut open, &event, line));
            }
            Event::Start(Tag::Table(_) | Tag::TableHead | Tag::TableRow | Tag::TableCell)
            | Event::End(TagEnd::Table | TagEnd::TableHead | TagEnd::TableRow | TagEnd::TableCell) => {
                out.extend(read_table_event(&mut open, &event, line));
            }
            Event::Text(text) | Event::Code(text) => open.buffer().push_str(&text),
            Event::SoftBreak | Event::HardBreak => open.buffer().push(' '),
            Event::Html(html) | Event::InlineHtml(html) => {
                out.extend(directives(&html).into_iter().map(|(key, value)| (Block::Directive { key, value }, line)));
            }
            _ => {}
        }
    }
    out
}

/// The text of the blocks still open while events are read.
#[derive(Default)]
struct OpenBlock {
    /// The open heading or paragraph, outside lists and tables.
    text: String,
    /// The open top-level list item, with everything nested in it.
    item: String,
    items: Vec<String>,
    cell: String,
    row: Vec<String>,
    header: Vec<String>,
    rows: Vec<TableRow>,
    list_depth: usize,
    in_cell: bool,
    start_line: usize,
}

impl OpenBlock {
    /// Where text goes: the innermost open container wins.
    fn buffer(&mut self) -> &mut String {
        if self.in_cell {
            &mut self.cell
        } else if self.list_depth > 0 {
            &mut self.item
        } else {
            &mut self.text
        }
    }
}

/// Reads a list or item event; gives the list once its outermost level ends.
fn read_list_event(open: &mut OpenBlock, event: &Event, line: usize) -> Option<(Block, usize)> {
    match event {
        Event::Start(Tag::List(_)) => {
            if open.list_depth == 0 {
                open.items.clear();
                open.start_line = line;
            } else {
                open.item.push_str(": ");
            }
            open.list_depth += 1;
        }
        Event::End(TagEnd::List(_)) => {
            open.list_depth -= 1;
            if open.list_depth == 0 {
                return Some((Block::List(std::mem::take(&mut open.items)), open.start_line));
            }
        }
        Event::Start(Tag::Item) if open.list_depth == 1 => open.item.clear(),
        Event::End(TagEnd::Item) if open.list_depth == 1 => {
            let item = normalize_space(&open.item);
            if !item.is_empty() {
                open.items.push(item);
            }
        }
        Event::End(TagEnd::Item) => open.item.push_str("; "),
        _ => {}
    }
    None
}

/// Reads a table, row or cell event; gives the table once it ends.
fn read_table_event(open: &mut OpenBlock, event: &Event, line: usize) -> Option<(Block, usize)> {
    match event {
        Event::Start(Tag::Table(_)) => {
            open.header.clear();
            open.rows.clear();
            open.start_line = line;
        }
        Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => open.row.clear(),
        Event::Start(Tag::TableCell) => {
            open.cell.clear();
            open.in_cell = true;
        }
        Event::End(TagEnd::TableCell) => {
            open.in_cell = false;
            let cell = normalize_space(&open.cell);
            open.row.push(cell);
        }
        Event::End(TagEnd::TableHead) => open.header = std::mem::take(&mut open.row),
        Event::End(TagEnd::TableRow) => {
            let row = std::mem::take(&mut open.row);
            open.rows.push((row, line));
        }
        Event::End(TagEnd::Table) => {
            let header = std::mem::take(&mut open.header);
            let rows = std::mem::take(&mut open.rows);
            return Some((Block::Table { header, rows }, open.start_line));
        }
        _ => {}
    }
    None
}

/// The directives in a piece of HTML, which may hold several comments.
fn directives(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        let after = &rest[start + 4..];
        let Some(end) = after.find("-->") else { break };
        if let Some((key, value)) = after[..end].split_once(':') {
            let key = key.trim().to_lowercase();
            if DIRECTIVES.contains(&key.as_str()) {
                found.push((key, normalize_space(value)));
            }
        }
        rest = &after[end + 3..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::super::snapshot::{check_blocks, render_blocks};
    use super::*;

    #[test]
    fn headings_and_paragraphs_keep_their_first_line() {
        check_blocks(
            "# Title\n\nFirst paragraph\ngoes on.\n\n## Section\n\nSecond *paragraph* with `code` and [a link](https://example.com).\n",
            r#"
            1: heading 1 "Title"
            3: paragraph "First paragraph goes on."
            6: heading 2 "Section"
            8: paragraph "Second paragraph with code and a link."
            "#,
        );
    }

    #[test]
    fn lines_count_from_the_line_the_body_starts_on() {
        assert_eq!(render_blocks(&blocks("# Title\n\nText.\n", 5)), "5: heading 1 \"Title\"\n7: paragraph \"Text.\"\n");
    }

    #[test]
    fn setext_headings_are_headings() {
        check_blocks(
            "Title\n=====\n\nText.\n\nPart\n----\nMore.\n",
            r#"
            1: heading 1 "Title"
            4: paragraph "Text."
            6: heading 2 "Part"
            8: paragraph "More."
            "#,
        );
    }

    #[test]
    fn closing_hashes_of_atx_headings_are_not_part_of_the_title() {
        check_blocks(
            "## Title ##\n### Sharp C# ###\n#### Ends with \\#\n#5 is not a heading\n",
            r##"
            1: heading 2 "Title"
            2: heading 3 "Sharp C#"
            3: heading 4 "Ends with #"
            4: paragraph "#5 is not a heading"
            "##,
        );
    }

    #[test]
    fn hash_lines_in_code_blocks_are_not_headings() {
        check_blocks(
            "# Title\n\n```sh\n# install it\npip install x\n```\n\n~~~\n## not a heading\n~~~\n\n    # indented code\n\nAfter.\n",
            r#"
            1: heading 1 "Title"
            14: paragraph "After."
            "#,
        );
    }

    #[test]
    fn code_in_a_list_item_stays_in_the_item() {
        check_blocks(
            "- Run:\n\n  ```\n  # the comment\n  make\n  ```\n- Done\n",
            r#"1: list ["Run: # the comment make", "Done"]"#,
        );
    }

    #[test]
    fn nested_lists_fold_into_their_parent_item() {
        // Every nested item ends in `; `, so the deeper levels leave `; ;`.
        check_blocks(
            "- Learn Python\n  - syntax\n  - libraries\n    1. numpy\n- Build projects\n-\n",
            r#"1: list ["Learn Python: syntax; libraries: numpy; ;", "Build projects"]"#,
        );
    }

    #[test]
    fn loose_list_items_join_their_paragraphs() {
        check_blocks(
            "Steps:\n\n1. First step.\n\n   Its detail.\n\n2. Second step.\n",
            r#"
            1: paragraph "Steps:"
            3: list ["First step. Its detail.", "Second step."]
            "#,
        );
    }

    #[test]
    fn headings_inside_list_items_stay_in_the_item() {
        check_blocks(
            "Intro paragraph.\n\n- # Heading in an item\n- plain\n",
            r#"
            1: paragraph "Intro paragraph."
            3: list ["Heading in an item", "plain"]
            "#,
        );
    }

    #[test]
    fn tables_keep_rows_with_their_lines_and_escaped_pipes() {
        check_blocks(
            "Intro.\n\n| Dimension | A \\| B | C |\n|---|---|---|\n| Speed | fast \\| very | *slow* |\n| `a\\|b` | x | |\n",
            r#"
            1: paragraph "Intro."
            3: table ["Dimension", "A | B", "C"]
              5: ["Speed", "fast | very", "slow"]
              6: ["a|b", "x", ""]
            "#,
        );
    }

    #[test]
    fn html_blocks_are_dropped_and_directives_kept() {
        // A comment over several lines reaches `directives` a line at a
        // time, so it is never read as a directive.
        check_blocks(
            "<div align=\"center\">\n<img src=\"x.png\">\n</div>\n\n<!-- keywords: python,  ml -->\n<!-- aliases: How long? | Duration -->\n<!-- note: not a directive -->\n<!-- Keywords: upper case key --> <!-- phases: 1, 2 -->\n\nText <!-- keywords: inline --> here.\n\n<!--\nkeywords: over several lines\n-->\n",
            r#"
            5: directive keywords "python, ml"
            6: directive aliases "How long? | Duration"
            8: directive keywords "upper case key"
            8: directive phases "1, 2"
            10: directive keywords "inline"
            10: paragraph "Text here."
            "#,
        );
    }

    #[test]
    fn crlf_line_endings_leave_no_carriage_returns() {
        check_blocks(
            "# Title\r\n\r\nFirst line\r\nsecond line\r\n\r\n- a\r\n- b\r\n\r\n| A | B |\r\n|---|---|\r\n| x | y |\r\n\r\nSub\r\n---\r\n<!-- keywords: k -->\r\n",
            r#"
            1: heading 1 "Title"
            3: paragraph "First line second line"
            6: list ["a", "b"]
            9: table ["A", "B"]
              11: ["x", "y"]
            13: heading 2 "Sub"
            15: directive keywords "k"
            "#,
        );
    }

    #[test]
    fn block_quotes_read_as_paragraphs_and_lists() {
        check_blocks(
            "> Quoted\n> text.\n\n> - quoted item\n",
            r#"
            1: paragraph "Quoted text."
            4: list ["quoted item"]
            "#,
        );
    }
}
