//! Markdown files to units: front matter, blocks, then one builder per file kind.
//!
//! A file is read in three steps. `front_matter` takes the optional TOML
//! header; `blocks` flattens the Markdown into headings, paragraphs, lists,
//! tables and directives (`<!-- key: value -->` comments), each with its
//! line; the file's `kind` then picks the builder (`sections`, `faq`,
//! `comparison`, `roadmap`, `lists`) that turns blocks into units. Every
//! step returns what it read together with the problems it found, and
//! carries on past them, so an editor sees all of a file's problems at once.
//!
//! A builder returns the file's own `Knowledge`, whose unit indices count
//! from the file's first unit; `Knowledge::append_file` shifts them when the
//! file joins the others. Builders therefore never see other files, except
//! through the one check made here: there is only one roadmap and one
//! comparison table.

mod blocks;
mod comparison;
mod faq;
mod front_matter;
mod lists;
mod roadmap;
mod sections;
#[cfg(test)]
mod snapshot;

use self::blocks::{blocks, Block, TableRow};
use self::front_matter::{split_front_matter, FileKind, FrontMatter};
use super::{Diagnostic, Knowledge, Location, Unit, UnitKind};

/// Longest slug used in unit ids; ids end up in Discord `custom_id`s (100 chars).
const MAX_SLUG_CHARS: usize = 48;

/// Everything one file needs while it is turned into units.
struct FileContext<'a> {
    name: &'a str,
    stem: String,
    front: FrontMatter,
    title: String,
    source: String,
}

/// Parses one file into its own knowledge (unit indices counted from its
/// first unit) and the problems found. `earlier` is what the files before
/// it gave, consulted only because a second roadmap or comparison table is
/// an error.
pub(super) fn parse_file(name: &str, text: &str, earlier: &Knowledge) -> (Knowledge, Vec<Diagnostic>) {
    let (context, blocks, mut diagnostics) = read_file(name, text);
    if let Some(second) = second_of_its_kind(&context, &blocks, earlier) {
        diagnostics.push(second);
        return (Knowledge::default(), diagnostics);
    }
    let (file, found) = match context.front.kind {
        FileKind::Sections => sections::build_sections(&context, &blocks),
        FileKind::Faq => faq::build_faq(&context, &blocks),
        FileKind::Comparison => comparison::build_comparison(&context, &blocks),
        FileKind::Roadmap => roadmap::build_roadmap(&context, &blocks),
        FileKind::Synonyms => lists::build_synonyms(&context, &blocks),
        FileKind::Examples => lists::build_examples(&context, &blocks),
    };
    diagnostics.extend(found);
    (file, diagnostics)
}

/// What every kind of file shares: front matter, blocks, title and source.
fn read_file<'a>(name: &'a str, text: &str) -> (FileContext<'a>, Vec<(Block, usize)>, Vec<Diagnostic>) {
    let (front, body, body_line, mut diagnostics) = split_front_matter(name, text);
    let blocks = blocks(body, body_line);
    let first_h1 = blocks.iter().find_map(|(block, _)| match block {
        Block::Heading { level: 1, text } => Some(text.clone()),
        _ => None,
    });
    let stem = name.rsplit('/').next().unwrap_or(name).trim_end_matches(".md");
    let title = front.title.clone().or(first_h1).unwrap_or_else(|| stem.to_string());
    let source = front.source.clone().unwrap_or_else(|| title.clone());
    for phase in &front.phases {
        if *phase == 0 {
            diagnostics.push(Diagnostic::error(name, 1, "phase numbers start at 1"));
        }
    }
    let context = FileContext { name, stem: slug(stem), front, title, source };
    (context, blocks, diagnostics)
}

/// The bot shows one roadmap and one comparison table, so a second one is
/// reported where it starts and not read at all.
fn second_of_its_kind(context: &FileContext, blocks: &[(Block, usize)], earlier: &Knowledge) -> Option<Diagnostic> {
    match context.front.kind {
        FileKind::Roadmap if earlier.roadmap.is_some() => {
            Some(Diagnostic::error(context.name, 1, "only one roadmap is supported"))
        }
        // A comparison file without a table is reported by its builder, as
        // such, whether or not it is the second one.
        FileKind::Comparison if earlier.comparison.is_some() => {
            let (_, _, line) = comparison::first_table(blocks)?;
            Some(Diagnostic::error(context.name, line, "only one comparison table is supported"))
        }
        _ => None,
    }
}

impl Knowledge {
    /// Adds one file's knowledge, whose unit indices count from the file's
    /// first unit, after everything read so far.
    pub(super) fn append_file(&mut self, file: Knowledge) {
        let offset = self.units.len();
        self.faq.extend(file.faq.iter().map(|index| index + offset));
        if let Some(mut comparison) = file.comparison {
            comparison.unit += offset;
            for row in &mut comparison.rows {
                row.unit += offset;
            }
            self.comparison = Some(comparison);
        }
        if let Some(mut roadmap) = file.roadmap {
            roadmap.overview += offset;
            for phase in &mut roadmap.phases {
                phase.unit += offset;
            }
            self.roadmap = Some(roadmap);
        }
        for (word, expansions) in file.synonyms {
            self.synonyms.entry(word).or_default().extend(expansions);
        }
        self.off_topic.extend(file.off_topic);
        self.example_groups.extend(file.example_groups);
        self.units.extend(file.units);
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

fn normalize_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn split_list(value: &str, separator: char) -> Vec<String> {
    value.split(separator).map(str::trim).filter(|part| !part.is_empty()).map(String::from).collect()
}

/// Search terms and phases for a unit, from directives, front matter or the builder.
#[derive(Clone, Debug, Default)]
struct Annotations {
    keywords: Vec<String>,
    aliases: Vec<String>,
    phases: Vec<u8>,
}

impl Annotations {
    fn extend(&mut self, other: Annotations) {
        self.keywords.extend(other.keywords);
        self.aliases.extend(other.aliases);
        self.phases.extend(other.phases);
    }
}

/// Reads one directive; a `phases:` value that is not a phase number is
/// reported and left out, the rest of the directive still counts.
fn read_directive(key: &str, value: &str, file: &str, line: usize) -> (Annotations, Vec<Diagnostic>) {
    let mut annotations = Annotations::default();
    let mut diagnostics = Vec::new();
    match key {
        "keywords" => annotations.keywords = split_list(value, ','),
        "aliases" => annotations.aliases = split_list(value, '|'),
        "phases" => {
            for part in split_list(value, ',') {
                match part.parse::<u8>() {
                    Ok(number) if number > 0 => annotations.phases.push(number),
                    _ => diagnostics.push(Diagnostic::error(file, line, format!("`{part}` is not a phase number"))),
                }
            }
        }
        _ => {}
    }
    (annotations, diagnostics)
}

/// A unit before its id and the file's own annotations are added.
struct Draft {
    kind: UnitKind,
    title: String,
    breadcrumb: Vec<String>,
    text: String,
    /// Everything but the front matter's: those are added by `FileContext::unit`.
    annotations: Annotations,
    line: usize,
}

impl FileContext<'_> {
    /// The unit a draft becomes: the front matter's keywords come first and
    /// its phases apply to every unit of the file.
    fn unit(&self, draft: Draft, id: String) -> Unit {
        let mut keywords = self.front.keywords.clone();
        keywords.extend(draft.annotations.keywords);
        let mut phases = self.front.phases.clone();
        phases.extend(draft.annotations.phases);
        phases.sort_unstable();
        phases.dedup();
        Unit {
            id,
            kind: draft.kind,
            title: draft.title,
            breadcrumb: draft.breadcrumb,
            text: draft.text,
            keywords,
            aliases: draft.annotations.aliases,
            phases,
            examples: Vec::new(),
            source: self.source.clone(),
            location: Location { file: self.name.to_string(), line: draft.line },
        }
    }

    /// The file's stem and the slugs of `parts`, joined by `/`.
    fn id(&self, parts: &[&str]) -> String {
        let mut id = self.stem.clone();
        for part in parts.iter().map(|part| slug(part)).filter(|part| !part.is_empty()) {
            id.push('/');
            id.push_str(&part);
        }
        id
    }
}

/// How a block reads inside a passage.
fn block_text(block: &Block) -> String {
    match block {
        Block::Paragraph(text) => text.clone(),
        Block::List(items) => bullets(items),
        Block::Table { header, rows } => table_text(header, rows),
        Block::Heading { text, .. } => text.clone(),
        Block::Directive { .. } => String::new(),
    }
}

fn append_paragraph(text: &mut String, paragraph: &str) {
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(paragraph);
}

fn bullets(items: &[String]) -> String {
    items.iter().map(|item| format!("- {item}")).collect::<Vec<_>>().join("\n")
}

fn table_text(header: &[String], rows: &[TableRow]) -> String {
    rows.iter().map(|(cells, _)| row_text(header, cells)).collect::<Vec<_>>().join("\n")
}

/// "Dimension — Column A: cell; Column B: cell", readable on one line.
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

#[cfg(test)]
mod tests {
    use super::snapshot::{assert_same, check_parse, render_knowledge};
    use super::*;

    fn parsed(text: &str) -> Knowledge {
        parse_file("earlier.md", text, &Knowledge::default()).0
    }

    #[test]
    fn the_title_comes_from_front_matter_then_the_first_h1_then_the_file_name() {
        let none = Knowledge::default();
        check_parse(
            &none,
            "+++\ntitle = \"Given\"\nsource = \"The Guide, 2024\"\n+++\n# Heading\n\nText.\n",
            r#"
            0: section a/heading @7 "Heading" in Given > Heading
              text: "Text."
              source: "The Guide, 2024"
            "#,
        );
        check_parse(
            &none,
            "## Part\n\nText.\n\n# Late H1\n\nMore.\n",
            r#"
            0: section a/part @3 "Part" in Late H1 > Part
              text: "Text."
            1: section a/late-h1 @7 "Late H1" in Late H1
              text: "More."
            "#,
        );
        let (file, _) = parse_file("notes/My Notes.md", "Text.\n", &none);
        assert_eq!((file.units[0].id.as_str(), file.units[0].title.as_str()), ("my-notes/my-notes", "My Notes"));
    }

    #[test]
    fn a_second_roadmap_or_comparison_table_is_reported_and_not_read() {
        let mut earlier = parsed("+++\nkind = \"roadmap\"\n+++\n# Plan\n## Phase 1: Start\nBegin.\n");
        earlier.append_file(parsed(
            "+++\nkind = \"comparison\"\n+++\n# A vs B\n| D | A | B |\n|---|---|---|\n| Speed | fast | slow |\n",
        ));
        check_parse(
            &earlier,
            "+++\nkind = \"roadmap\"\n+++\n# Again\n## Phase 1: Start\nBegin.\n",
            "a.md:1: error: only one roadmap is supported",
        );
        check_parse(&earlier, "+++\nkind = \"comparison\"\n+++\n# Again\n\nIntro.\n\n| D | A | B |\n|---|---|---|\n| Speed | fast | slow |\n", "a.md:8: error: only one comparison table is supported");
        check_parse(
            &earlier,
            "+++\nkind = \"comparison\"\n+++\n# Again\n\nNo table.\n",
            "a.md:1: error: comparison file has no table",
        );
    }

    #[test]
    fn appending_a_file_shifts_the_indices_that_point_to_its_units() {
        let mut knowledge = parsed("# Guide\n\nText.\n");
        knowledge.append_file(parsed("+++\nkind = \"faq\"\n+++\n# FAQ\n## Why?\nBecause.\n"));
        knowledge.append_file(parsed(
            "+++\nkind = \"comparison\"\n+++\n# A vs B\n| D | A | B |\n|---|---|---|\n| Speed | fast | slow |\n",
        ));
        knowledge.append_file(parsed("+++\nkind = \"roadmap\"\n+++\n# Plan\n## Phase 1: Start\nBegin.\n"));
        knowledge.append_file(parsed("+++\nkind = \"synonyms\"\n+++\n- js = javascript\n"));
        knowledge.append_file(parsed("+++\nkind = \"synonyms\"\n+++\n- JS = node\n"));
        assert_same(
            &render_knowledge(&knowledge, &[]),
            r#"
            0: section earlier/guide @3 "Guide" in Guide
              text: "Text."
            1: faq earlier/why @5 "Why?" in FAQ
              text: "Because."
            2: comparison earlier @5 "A vs B" in A vs B
              text: "Speed — A: fast; B: slow"
            3: comparison earlier/speed @7 "Speed" in A vs B > Speed
              text: "Speed — A: fast; B: slow"
            4: overview earlier @1 "Plan" in Plan
              text: "Phase 1: Start — Begin."
              phases: [1]
            5: phase earlier/phase-1 @5 "Phase 1: Start" in Plan > Phase 1
              text: "Begin."
              keywords: ["phase 1", "stage 1", "step 1", "first", "phase one"]
              phases: [1]
            faq: [1]
            comparison "A vs B" unit 2 columns ["A", "B"]
              row "Speed" unit 3 cells ["fast", "slow"]
            roadmap "Plan" overview 4 months None
              phase 1 "Start" unit 5 months None
                summary: "Begin."
            synonym "js" = ["javascript", "node"]
            "#,
        );
    }

    #[test]
    fn directives_read_keywords_aliases_and_phases() {
        let cases = [
            ("keywords", " a, b ,, c ", r#"Annotations { keywords: ["a", "b", "c"], aliases: [], phases: [] } []"#),
            (
                "aliases",
                "How long? | How many months?|",
                r#"Annotations { keywords: [], aliases: ["How long?", "How many months?"], phases: [] } []"#,
            ),
            (
                "phases",
                "1, x, 0, 3",
                r#"Annotations { keywords: [], aliases: [], phases: [1, 3] } ["a.md:7: error: `x` is not a phase number", "a.md:7: error: `0` is not a phase number"]"#,
            ),
            ("note", "anything", "Annotations { keywords: [], aliases: [], phases: [] } []"),
        ];
        for (key, value, expected) in cases {
            let (annotations, diagnostics) = read_directive(key, value, "a.md", 7);
            let shown: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            assert_same(&format!("{annotations:?} {shown:?}"), expected);
        }
    }

    #[test]
    fn slugs_keep_letters_of_any_language_and_stop_at_48() {
        let cases = [
            ("How long does it take?", "how-long-does-it-take"),
            ("  C++ & C#: --- a comparison  ", "c-c-a-comparison"),
            ("Détails, Übung & 日本語", "détails-übung-日本語"),
            ("phase-1", "phase-1"),
            ("???", ""),
            (&"word ".repeat(20), "word-word-word-word-word-word-word-word-word-wor"),
        ];
        for (text, expected) in cases {
            assert_eq!(slug(text), expected, "{text:?}");
        }
    }
}
