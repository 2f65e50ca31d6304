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
    /// The header cells, and each row's cells with the row's line.
    Table {
        header: Vec<String>,
        rows: Vec<(Vec<String>, usize)>,
    },
    Directive {
        key: String,
        value: String,
    },
}

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
            Event::End(TagEnd::Heading(level)) => {
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
    rows: Vec<(Vec<String>, usize)>,
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
