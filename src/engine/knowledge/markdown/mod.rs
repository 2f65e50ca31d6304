//! Markdown files to units: front matter, blocks, then one builder per file kind.
//!
//! Parsing goes in two steps. `blocks` flattens pulldown-cmark's events into
//! headings, paragraphs, lists, tables and directives (`<!-- key: value -->`
//! comments), each with its line. The file's `kind` then decides how blocks
//! become units. Both steps record problems and carry on.

use std::collections::BTreeMap;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::Deserialize;

use super::examples::ExampleGroup;
use super::{Comparison, ComparisonRow, Diagnostic, Knowledge, Location, Phase, Roadmap, Unit, UnitKind};

/// Passages shorter than this are merged with the next paragraph, so a unit
/// carries enough context to stand on its own as an answer.
const MIN_PASSAGE_CHARS: usize = 280;

/// Longest slug used in unit ids; ids end up in Discord `custom_id`s (100 chars).
const MAX_SLUG_CHARS: usize = 48;

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum FileKind {
    #[default]
    Sections,
    Faq,
    Comparison,
    Roadmap,
    Synonyms,
    Examples,
}

/// Optional TOML front matter between `+++` lines.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FrontMatter {
    kind: FileKind,
    title: Option<String>,
    source: Option<String>,
    keywords: Vec<String>,
    phases: Vec<u8>,
    months: Option<u32>,
    row_keywords: BTreeMap<String, String>,
}

#[derive(Debug)]
enum Block {
    Heading { level: usize, text: String },
    Paragraph(String),
    List(Vec<String>),
    Table { header: Vec<String>, rows: Vec<(Vec<String>, usize)> },
    Directive { key: String, value: String },
}

/// Directive keys understood in `<!-- key: value -->` comments; other comments are ignored.
const DIRECTIVES: [&str; 3] = ["keywords", "aliases", "phases"];

/// Everything one file needs while it is turned into units.
struct FileContext<'a> {
    name: &'a str,
    stem: String,
    front: FrontMatter,
    title: String,
    source: String,
}

pub(super) fn parse_file(name: &str, text: &str, knowledge: &mut Knowledge, diagnostics: &mut Vec<Diagnostic>) {
    let (front, body, body_line) = split_front_matter(name, text, diagnostics);
    let blocks = blocks(body, body_line);
    let first_h1 = blocks.iter().find_map(|(block, _)| match block {
        Block::Heading { level: 1, text } => Some(text.clone()),
        _ => None,
    });
    let stem = name.rsplit('/').next().unwrap_or(name).trim_end_matches(".md");
    let title = front.title.clone().or(first_h1).unwrap_or_else(|| stem.to_string());
    let source = front.source.clone().unwrap_or_else(|| title.clone());
    let context = FileContext { name, stem: slug(stem), front, title, source };
    for phase in &context.front.phases {
        if *phase == 0 {
            diagnostics.push(Diagnostic::error(name, 1, "phase numbers start at 1"));
        }
    }
    match context.front.kind {
        FileKind::Sections => build_sections(&context, &blocks, knowledge, diagnostics),
        FileKind::Faq => build_faq(&context, &blocks, knowledge, diagnostics),
        FileKind::Comparison => build_comparison(&context, &blocks, knowledge, diagnostics),
        FileKind::Roadmap => build_roadmap(&context, &blocks, knowledge, diagnostics),
        FileKind::Synonyms => build_synonyms(&context, &blocks, knowledge, diagnostics),
        FileKind::Examples => build_examples(&context, &blocks, knowledge, diagnostics),
    }
}

/// Lowercase ASCII-alphanumeric words joined by `-`, for ids. Non-ASCII
/// letters are kept so headings in any language still give distinct ids.
pub(crate) fn slug(text: &str) -> String {
    let mut out = String::new();
    for ch in text.chars().flat_map(char::to_lowercase) {
        if ch.is_alphanumeric() {
            if out.chars().count() >= MAX_SLUG_CHARS {
                break;
            }
            out.push(ch);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

fn split_front_matter<'t>(
    name: &str,
    text: &'t str,
    diagnostics: &mut Vec<Diagnostic>,
) -> (FrontMatter, &'t str, usize) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text.strip_prefix("+++\n").or_else(|| text.strip_prefix("+++\r\n")) else {
        return (FrontMatter::default(), text, 1);
    };
    let Some(end) = rest.find("\n+++") else {
        diagnostics.push(Diagnostic::error(name, 1, "front matter opened with `+++` is never closed"));
        return (FrontMatter::default(), text, 1);
    };
    let toml_text = &rest[..end + 1];
    let after = &rest[end + 4..];
    let after = after.strip_prefix("\r\n").or_else(|| after.strip_prefix('\n')).unwrap_or(after);
    let body_line = 2 + toml_text.lines().count() + 1;
    let front = match toml::from_str::<FrontMatter>(toml_text) {
        Ok(front) => front,
        Err(err) => {
            let line = err.span().map_or(0, |span| line_at(toml_text, span.start)) + 2;
            let message = format!("front matter: {}", err.message());
            diagnostics.push(Diagnostic::error(name, line, message));
            FrontMatter::default()
        }
    };
    (front, after, body_line)
}

/// 0-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count()
}

/// Flattens Markdown into blocks with their 1-based line numbers.
fn blocks(text: &str, first_line: usize) -> Vec<(Block, usize)> {
    #[derive(Default)]
    struct State {
        text: String,
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
    impl State {
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

    let mut out = Vec::new();
    let mut state = State::default();
    // Newline offsets, so a block's line is a binary search: counting newlines
    // from the start for every event made parsing quadratic in file size.
    let newlines: Vec<usize> = text.bytes().enumerate().filter(|&(_, byte)| byte == b'\n').map(|(at, _)| at).collect();
    let line_of = |offset: usize| first_line + newlines.partition_point(|&at| at < offset);
    for (event, range) in Parser::new_ext(text, Options::ENABLE_TABLES).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { .. }) | Event::Start(Tag::Paragraph) if state.list_depth == 0 => {
                state.text.clear();
                state.start_line = line_of(range.start);
            }
            Event::End(TagEnd::Heading(level)) => {
                let text = normalize_space(&state.text);
                out.push((Block::Heading { level: level as usize, text }, state.start_line));
            }
            Event::End(TagEnd::Paragraph) if state.list_depth == 0 => {
                let text = normalize_space(&state.text);
                if !text.is_empty() {
                    out.push((Block::Paragraph(text), state.start_line));
                }
            }
            Event::End(TagEnd::Paragraph) => state.item.push(' '),
            Event::Start(Tag::List(_)) => {
                if state.list_depth == 0 {
                    state.items.clear();
                    state.start_line = line_of(range.start);
                } else {
                    state.item.push_str(": ");
                }
                state.list_depth += 1;
            }
            Event::End(TagEnd::List(_)) => {
                state.list_depth -= 1;
                if state.list_depth == 0 {
                    out.push((Block::List(std::mem::take(&mut state.items)), state.start_line));
                }
            }
            Event::Start(Tag::Item) if state.list_depth == 1 => state.item.clear(),
            Event::End(TagEnd::Item) if state.list_depth == 1 => {
                let item = normalize_space(&state.item);
                if !item.is_empty() {
                    state.items.push(item);
                }
            }
            Event::End(TagEnd::Item) => state.item.push_str("; "),
            Event::Start(Tag::Table(_)) => {
                state.header.clear();
                state.rows.clear();
                state.start_line = line_of(range.start);
            }
            Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => state.row.clear(),
            Event::Start(Tag::TableCell) => {
                state.cell.clear();
                state.in_cell = true;
            }
            Event::End(TagEnd::TableCell) => {
                state.in_cell = false;
                let cell = normalize_space(&state.cell);
                state.row.push(cell);
            }
            Event::End(TagEnd::TableHead) => state.header = std::mem::take(&mut state.row),
            Event::End(TagEnd::TableRow) => {
                let row = std::mem::take(&mut state.row);
                state.rows.push((row, line_of(range.start)));
            }
            Event::End(TagEnd::Table) => {
                let header = std::mem::take(&mut state.header);
                let rows = std::mem::take(&mut state.rows);
                out.push((Block::Table { header, rows }, state.start_line));
            }
            Event::Text(text) | Event::Code(text) => state.buffer().push_str(&text),
            Event::SoftBreak | Event::HardBreak => state.buffer().push(' '),
            Event::Html(html) | Event::InlineHtml(html) => {
                for (key, value) in directives(&html) {
                    out.push((Block::Directive { key, value }, line_of(range.start)));
                }
            }
            _ => {}
        }
    }
    out
}

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

fn normalize_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn split_list(value: &str, separator: char) -> Vec<String> {
    value.split(separator).map(str::trim).filter(|part| !part.is_empty()).map(String::from).collect()
}

/// Reads a `phases:` directive, reporting numbers that are not phases.
fn parse_phases(value: &str, file: &str, line: usize, diagnostics: &mut Vec<Diagnostic>) -> Vec<u8> {
    let mut phases = Vec::new();
    for part in split_list(value, ',') {
        match part.parse::<u8>() {
            Ok(number) if number > 0 => phases.push(number),
            _ => diagnostics.push(Diagnostic::error(file, line, format!("`{part}` is not a phase number"))),
        }
    }
    phases
}

/// Search terms and phases gathered from directives under one heading.
#[derive(Default)]
struct Annotations {
    keywords: Vec<String>,
    aliases: Vec<String>,
    phases: Vec<u8>,
}

impl Annotations {
    fn apply(&mut self, key: &str, value: &str, file: &str, line: usize, diagnostics: &mut Vec<Diagnostic>) {
        match key {
            "keywords" => self.keywords.extend(split_list(value, ',')),
            "aliases" => self.aliases.extend(split_list(value, '|')),
            "phases" => self.phases.extend(parse_phases(value, file, line, diagnostics)),
            _ => {}
        }
    }
}

/// A unit under construction, before its section's directives are all read.
struct Draft {
    kind: UnitKind,
    title: String,
    breadcrumb: Vec<String>,
    text: String,
    keywords: Vec<String>,
    aliases: Vec<String>,
    phases: Vec<u8>,
    line: usize,
}

impl FileContext<'_> {
    fn push(&self, draft: Draft, id: String, annotations: &Annotations, knowledge: &mut Knowledge) -> usize {
        let mut keywords = self.front.keywords.clone();
        keywords.extend(annotations.keywords.iter().cloned());
        keywords.extend(draft.keywords);
        let mut aliases = annotations.aliases.clone();
        aliases.extend(draft.aliases);
        let mut phases = self.front.phases.clone();
        phases.extend(&annotations.phases);
        phases.extend(&draft.phases);
        phases.sort_unstable();
        phases.dedup();
        knowledge.units.push(Unit {
            id,
            kind: draft.kind,
            title: draft.title,
            breadcrumb: draft.breadcrumb,
            text: draft.text,
            keywords,
            aliases,
            phases,
            examples: Vec::new(),
            source: self.source.clone(),
            location: Location { file: self.name.to_string(), line: draft.line },
        });
        knowledge.units.len() - 1
    }

    fn id(&self, parts: &[&str]) -> String {
        let mut id = self.stem.clone();
        for part in parts.iter().map(|part| slug(part)).filter(|part| !part.is_empty()) {
            id.push('/');
            id.push_str(&part);
        }
        id
    }
}

/// Ordinary sections: every paragraph (with the list it introduces) is a passage.
fn build_sections(
    context: &FileContext,
    blocks: &[(Block, usize)],
    knowledge: &mut Knowledge,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut drafts: Vec<Draft> = Vec::new();
    let mut annotations = Annotations::default();

    let flush = |drafts: &mut Vec<Draft>, annotations: &mut Annotations, knowledge: &mut Knowledge| {
        // A section's closing sentence ("Recognizing these pitfalls early
        // saves months.") has no next paragraph to lean on: alone it answers
        // nothing, so it closes the passage before it.
        if drafts.len() >= 2 && drafts.last().is_some_and(|last| last.text.chars().count() < MIN_PASSAGE_CHARS / 2) {
            if let Some(last) = drafts.pop() {
                if let Some(previous) = drafts.last_mut() {
                    append_paragraph(&mut previous.text, &last.text);
                    previous.keywords.extend(last.keywords);
                    previous.aliases.extend(last.aliases);
                    previous.phases.extend(last.phases);
                }
            }
        }
        for (n, draft) in drafts.drain(..).enumerate() {
            let heading = draft.title.clone();
            let mut id = context.id(&[&heading]);
            if n > 0 {
                id = format!("{id}-{}", n + 1);
            }
            context.push(draft, id, annotations, knowledge);
        }
        *annotations = Annotations::default();
    };

    for (block, line) in blocks {
        match block {
            Block::Heading { level, text } => {
                flush(&mut drafts, &mut annotations, knowledge);
                path.retain(|(l, _)| l < level);
                if !(*level == 1 && *text == context.title) {
                    path.push((*level, text.clone()));
                }
            }
            // Under a heading a directive describes the whole section; after a
            // passage it describes that passage only.
            Block::Directive { key, value } => match drafts.last_mut() {
                Some(draft) => {
                    let mut own = Annotations::default();
                    own.apply(key, value, context.name, *line, diagnostics);
                    draft.keywords.extend(own.keywords);
                    draft.aliases.extend(own.aliases);
                    draft.phases.extend(own.phases);
                }
                None => annotations.apply(key, value, context.name, *line, diagnostics),
            },
            Block::Paragraph(_) | Block::List(_) | Block::Table { .. } => {
                let text = block_text(block);
                // A list belongs to the paragraph that introduces it, and short
                // paragraphs lean on the next one for context.
                let continues = matches!(block, Block::List(_))
                    || drafts.last().is_some_and(|last| last.text.chars().count() < MIN_PASSAGE_CHARS);
                match drafts.last_mut() {
                    Some(last) if continues => append_paragraph(&mut last.text, &text),
                    _ => {
                        let title = path.last().map_or_else(|| context.title.clone(), |(_, title)| title.clone());
                        let mut breadcrumb = vec![context.title.clone()];
                        breadcrumb.extend(path.iter().map(|(_, title)| title.clone()));
                        drafts.push(Draft {
                            kind: UnitKind::Section,
                            title,
                            breadcrumb,
                            text,
                            keywords: Vec::new(),
                            aliases: Vec::new(),
                            phases: Vec::new(),
                            line: *line,
                        });
                    }
                }
            }
        }
    }
    flush(&mut drafts, &mut annotations, knowledge);
}

fn block_text(block: &Block) -> String {
    match block {
        Block::Paragraph(text) => text.clone(),
        Block::List(items) => bullets(items),
        Block::Table { header, rows } => table_text(header, rows),
        Block::Heading { text, .. } => text.clone(),
        Block::Directive { .. } => String::new(),
    }
}

fn bullets(items: &[String]) -> String {
    items.iter().map(|item| format!("- {item}")).collect::<Vec<_>>().join("\n")
}

fn table_text(header: &[String], rows: &[(Vec<String>, usize)]) -> String {
    rows.iter().map(|(cells, _)| row_text(header, cells)).collect::<Vec<_>>().join("\n")
}

/// "Dimension: Column A: cell; Column B: cell", readable on one line.
fn row_text(header: &[String], cells: &[String]) -> String {
    let mut parts = Vec::new();
    for (index, cell) in cells.iter().enumerate().skip(1) {
        match header.get(index) {
            Some(column) if !column.is_empty() => parts.push(format!("{column}: {cell}")),
            _ => parts.push(cell.clone()),
        }
    }
    let dimension = cells.first().map(String::as_str).unwrap_or_default();
    format!("{dimension} — {}", parts.join("; "))
}

/// FAQ files: every heading below the title is a question, the text under it the answer.
fn build_faq(
    context: &FileContext,
    blocks: &[(Block, usize)],
    knowledge: &mut Knowledge,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut entries: Vec<(Draft, Annotations)> = Vec::new();
    for (block, line) in blocks {
        match (block, entries.last_mut()) {
            (Block::Heading { level: 1, .. }, _) => {}
            (Block::Heading { text, .. }, _) => {
                let breadcrumb = vec![context.title.clone()];
                let draft = Draft {
                    kind: UnitKind::Faq,
                    title: text.clone(),
                    breadcrumb,
                    text: String::new(),
                    keywords: Vec::new(),
                    aliases: Vec::new(),
                    phases: Vec::new(),
                    line: *line,
                };
                entries.push((draft, Annotations::default()));
            }
            (Block::Directive { key, value }, Some((_, annotations))) => {
                annotations.apply(key, value, context.name, *line, diagnostics)
            }
            (other, Some((draft, _))) => append_paragraph(&mut draft.text, &block_text(other)),
            (_, None) => {}
        }
    }
    for (draft, annotations) in entries {
        if draft.text.is_empty() {
            let message = format!("FAQ question `{}` has no answer", draft.title);
            diagnostics.push(Diagnostic::error(context.name, draft.line, message));
            continue;
        }
        let id = context.id(&[&draft.title]);
        let index = context.push(draft, id, &annotations, knowledge);
        knowledge.faq.push(index);
    }
}

fn append_paragraph(text: &mut String, paragraph: &str) {
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(paragraph);
}

/// Comparison files: one table; each row is a unit and so is the whole table.
fn build_comparison(
    context: &FileContext,
    blocks: &[(Block, usize)],
    knowledge: &mut Knowledge,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some((header, rows, line)) = blocks.iter().find_map(|(block, line)| match block {
        Block::Table { header, rows } => Some((header, rows, *line)),
        _ => None,
    }) else {
        diagnostics.push(Diagnostic::error(context.name, 1, "comparison file has no table"));
        return;
    };
    if knowledge.comparison.is_some() {
        diagnostics.push(Diagnostic::error(context.name, line, "only one comparison table is supported"));
        return;
    }
    if header.len() < 2 || rows.is_empty() {
        diagnostics.push(Diagnostic::error(
            context.name,
            line,
            "comparison table needs a dimension column, at least one more column and one row",
        ));
        return;
    }
    let none = Annotations::default();
    let breadcrumb = vec![context.title.clone()];
    let table = Draft {
        kind: UnitKind::Comparison,
        title: context.title.clone(),
        breadcrumb: breadcrumb.clone(),
        text: table_text(header, rows),
        keywords: Vec::new(),
        aliases: Vec::new(),
        phases: Vec::new(),
        line,
    };
    let table_unit = context.push(table, context.stem.clone(), &none, knowledge);
    let mut comparison =
        Comparison { title: context.title.clone(), columns: header[1..].to_vec(), rows: Vec::new(), unit: table_unit };
    for (cells, row_line) in rows {
        let Some(dimension) = cells.first().filter(|cell| !cell.is_empty()) else {
            diagnostics.push(Diagnostic::error(context.name, *row_line, "comparison row has no dimension"));
            continue;
        };
        let keywords = context.front.row_keywords.get(dimension).map(|k| split_list(k, ',')).unwrap_or_default();
        let mut crumbs = breadcrumb.clone();
        crumbs.push(dimension.clone());
        let draft = Draft {
            kind: UnitKind::Comparison,
            title: dimension.clone(),
            breadcrumb: crumbs,
            text: row_text(header, cells),
            keywords,
            aliases: Vec::new(),
            phases: Vec::new(),
            line: *row_line,
        };
        let unit = context.push(draft, context.id(&[dimension]), &none, knowledge);
        comparison.rows.push(ComparisonRow { dimension: dimension.clone(), cells: cells[1..].to_vec(), unit });
    }
    for dimension in context.front.row_keywords.keys() {
        if !comparison.rows.iter().any(|row| &row.dimension == dimension) {
            diagnostics.push(Diagnostic::error(
                context.name,
                1,
                format!("row_keywords names `{dimension}`, which is not a row of the table"),
            ));
        }
    }
    knowledge.comparison = Some(comparison);
}

/// Roadmap files: the text before the first phase heading is the overview,
/// and every heading below the title is a phase ("Phase N: Title").
fn build_roadmap(
    context: &FileContext,
    blocks: &[(Block, usize)],
    knowledge: &mut Knowledge,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if knowledge.roadmap.is_some() {
        diagnostics.push(Diagnostic::error(context.name, 1, "only one roadmap is supported"));
        return;
    }
    let (intro, intro_annotations, phases) = read_phases(context, blocks, diagnostics);
    if phases.is_empty() {
        diagnostics.push(Diagnostic::error(
            context.name,
            1,
            "roadmap has no phases (expected headings like `## Phase 1: Title`)",
        ));
        return;
    }
    check_phases(context, &phases, diagnostics);
    let overview = push_overview(context, intro, intro_annotations, &phases, knowledge);
    let mut roadmap =
        Roadmap { title: context.title.clone(), months: context.front.months, overview, phases: Vec::new() };
    let count = phases.len() as u32;
    for (mut phase, mut annotations, line) in phases {
        if let Some(total) = context.front.months {
            let index = u32::from(phase.number).saturating_sub(1).min(count - 1);
            phase.months = Some((index * total / count + 1, (index + 1) * total / count));
        }
        let crumbs = vec![context.title.clone(), format!("Phase {}", phase.number)];
        annotations.phases.push(phase.number);
        let draft = Draft {
            kind: UnitKind::Phase,
            title: format!("Phase {}: {}", phase.number, phase.title),
            breadcrumb: crumbs,
            text: phase_text(&phase),
            keywords: phase_keywords(phase.number),
            aliases: Vec::new(),
            phases: Vec::new(),
            line,
        };
        phase.unit = context.push(draft, context.id(&[&format!("phase-{}", phase.number)]), &annotations, knowledge);
        roadmap.phases.push(phase);
    }
    knowledge.roadmap = Some(roadmap);
}

/// A phase as read, with its directives and heading line.
type PhaseDraft = (Phase, Annotations, usize);

/// The intro (text before the first phase) with its directives, and the phases.
fn read_phases(
    context: &FileContext,
    blocks: &[(Block, usize)],
    diagnostics: &mut Vec<Diagnostic>,
) -> (String, Annotations, Vec<PhaseDraft>) {
    let mut intro = String::new();
    let mut intro_annotations = Annotations::default();
    let mut phases: Vec<PhaseDraft> = Vec::new();
    for (block, line) in blocks {
        match (block, phases.last_mut()) {
            (Block::Heading { level: 1, .. }, _) => {}
            (Block::Heading { text, .. }, _) => {
                let (number, title) = phase_heading(text, phases.len());
                let phase = Phase {
                    number,
                    title,
                    summary: String::new(),
                    details: Vec::new(),
                    activities_label: None,
                    activities: Vec::new(),
                    months: None,
                    unit: 0,
                };
                phases.push((phase, Annotations::default(), *line));
            }
            (Block::Directive { key, value }, None) => {
                intro_annotations.apply(key, value, context.name, *line, diagnostics)
            }
            (Block::Directive { key, value }, Some((_, annotations, _))) => {
                annotations.apply(key, value, context.name, *line, diagnostics)
            }
            (other, None) => append_paragraph(&mut intro, &block_text(other)),
            (Block::List(items), Some((phase, _, _))) => {
                if phase.activities.is_empty() {
                    phase.activities_label = phase.details.pop();
                }
                phase.activities.extend(items.iter().cloned());
            }
            (other, Some((phase, _, _))) if phase.summary.is_empty() => phase.summary = block_text(other),
            (other, Some((phase, _, _))) => phase.details.push(block_text(other)),
        }
    }
    (intro, intro_annotations, phases)
}

/// Phases must be numbered 1, 2, 3… in order and each needs a summary.
fn check_phases(context: &FileContext, phases: &[PhaseDraft], diagnostics: &mut Vec<Diagnostic>) {
    for (index, (phase, _, line)) in phases.iter().enumerate() {
        if usize::from(phase.number) != index + 1 {
            let message = format!(
                "phase `{}` is numbered {} but is phase {} of the roadmap",
                phase.title,
                phase.number,
                index + 1
            );
            diagnostics.push(Diagnostic::error(context.name, *line, message));
        }
        if phase.summary.is_empty() {
            diagnostics.push(Diagnostic::error(
                context.name,
                *line,
                format!("phase {} has no summary paragraph", phase.number),
            ));
        }
    }
}

/// The overview unit: the intro and one line per phase, pointing to every phase.
fn push_overview(
    context: &FileContext,
    intro: String,
    intro_annotations: Annotations,
    phases: &[PhaseDraft],
    knowledge: &mut Knowledge,
) -> usize {
    let mut overview = intro;
    for (phase, _, _) in phases {
        append_paragraph(&mut overview, &format!("Phase {}: {} — {}", phase.number, phase.title, phase.summary));
    }
    let draft = Draft {
        kind: UnitKind::Overview,
        title: context.title.clone(),
        breadcrumb: vec![context.title.clone()],
        text: overview,
        keywords: Vec::new(),
        aliases: Vec::new(),
        phases: Vec::new(),
        line: 1,
    };
    let mut all_phases = intro_annotations.phases;
    all_phases.extend(phases.iter().map(|(phase, _, _)| phase.number));
    let annotations =
        Annotations { keywords: intro_annotations.keywords, aliases: intro_annotations.aliases, phases: all_phases };
    context.push(draft, context.stem.clone(), &annotations, knowledge)
}

/// Reads "Phase 2: Applied Projects"; headings without a number take their position.
fn phase_heading(text: &str, index: usize) -> (u8, String) {
    let position = u8::try_from(index + 1).unwrap_or(u8::MAX);
    let Some(rest) = text.strip_prefix("Phase ").or_else(|| text.strip_prefix("phase ")) else {
        return (position, text.to_string());
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let title = rest[digits.len()..].trim_start_matches([':', '.', '-', '—', ' ']).trim();
    match digits.parse::<u8>() {
        Ok(number) if !title.is_empty() => (number, title.to_string()),
        Ok(number) => (number, text.to_string()),
        Err(_) => (position, text.to_string()),
    }
}

/// Words members use for a phase by position, so "the second phase" finds phase 2.
fn phase_keywords(number: u8) -> Vec<String> {
    let mut keywords = vec![format!("phase {number}"), format!("stage {number}"), format!("step {number}")];
    if let Some((ordinal, cardinal)) = crate::engine::words::number_words(number) {
        keywords.push(ordinal.to_string());
        keywords.push(format!("phase {cardinal}"));
    }
    keywords
}

fn phase_text(phase: &Phase) -> String {
    let mut text = phase.summary.clone();
    for detail in &phase.details {
        append_paragraph(&mut text, detail);
    }
    if let Some(label) = &phase.activities_label {
        append_paragraph(&mut text, label);
    }
    if !phase.activities.is_empty() {
        append_paragraph(&mut text, &bullets(&phase.activities));
    }
    text
}

/// Example files: every `##` heading names a passage (or `Off-topic`), and
/// its list items are messages it answers. Which passage a heading names is
/// resolved once every file is read (`examples::resolve`).
fn build_examples(
    context: &FileContext,
    blocks: &[(Block, usize)],
    knowledge: &mut Knowledge,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut current: Option<ExampleGroup> = None;
    for (block, line) in blocks {
        match block {
            Block::Heading { level: 1, .. } | Block::Paragraph(_) | Block::Directive { .. } => {}
            Block::Heading { text, .. } => {
                knowledge.example_groups.extend(current.take());
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
    knowledge.example_groups.extend(current);
}

/// Synonym files: list items `word = expansion, expansion`.
fn build_synonyms(
    context: &FileContext,
    blocks: &[(Block, usize)],
    knowledge: &mut Knowledge,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (block, line) in blocks {
        let Block::List(items) = block else { continue };
        for item in items {
            match item.split_once('=') {
                Some((word, expansions)) if !word.trim().is_empty() && !expansions.trim().is_empty() => {
                    let entry = knowledge.synonyms.entry(word.trim().to_lowercase()).or_default();
                    entry.extend(split_list(expansions, ','));
                }
                _ => diagnostics.push(Diagnostic::error(
                    context.name,
                    *line,
                    format!("synonym `{item}` should read `word = expansion, expansion`"),
                )),
            }
        }
    }
}
