//! The knowledge base: Markdown files turned into typed, searchable units.
//!
//! `load` reads a folder and returns everything it could parse together with
//! every problem it found (`file:line: message`), rather than stopping at the
//! first one: an editor fixing content wants the whole list at once. Nothing
//! here panics on bad content.

pub(crate) mod examples;
mod markdown;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// What a unit is, which decides how it is shown and what it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum UnitKind {
    /// A paragraph-sized passage of an ordinary section.
    Section,
    /// A question and its answer.
    Faq,
    /// One row of the comparison table, or the whole table.
    Comparison,
    /// One phase of the roadmap.
    Phase,
    /// The roadmap as a whole.
    Overview,
}

impl UnitKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            UnitKind::Section => "section",
            UnitKind::Faq => "faq",
            UnitKind::Comparison => "comparison",
            UnitKind::Phase => "phase",
            UnitKind::Overview => "overview",
        }
    }
}

/// Where something comes from, for diagnostics and for "source" lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// Path relative to the knowledge folder, with `/` separators.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The smallest thing the bot can answer with.
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    /// Stable id, `file-stem/heading-slug` plus `-N` for later passages.
    pub id: String,
    pub(crate) kind: UnitKind,
    /// The heading, question, dimension or phase title.
    pub(crate) title: String,
    /// Heading path from the document title down to `title`.
    pub(crate) breadcrumb: Vec<String>,
    /// The passage itself, as plain text with `- ` list items.
    pub text: String,
    /// Extra search terms and synonyms. Indexed, never shown.
    pub(crate) keywords: Vec<String>,
    /// Other ways members ask what this unit answers. Indexed like titles.
    pub(crate) aliases: Vec<String>,
    /// Roadmap phases this unit relates to.
    pub(crate) phases: Vec<u8>,
    /// Example messages this unit answers, from examples files: the
    /// matcher's training data, never indexed for the lexical search.
    pub(crate) examples: Vec<String>,
    /// Name of the document it comes from, shown to members.
    pub(crate) source: String,
    pub(crate) location: Location,
}

/// One phase of the roadmap.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Phase {
    pub(crate) number: u8,
    pub(crate) title: String,
    /// First paragraph: the one-line summary.
    pub(crate) summary: String,
    /// Further paragraphs.
    pub(crate) details: Vec<String>,
    /// The paragraph introducing the list, such as "Key activities include:".
    pub(crate) activities_label: Option<String>,
    pub(crate) activities: Vec<String>,
    /// Inclusive month range, when the roadmap gives its length in months.
    pub(crate) months: Option<(u32, u32)>,
    /// Index of this phase's unit in `Knowledge::units`.
    pub(crate) unit: usize,
}

/// The roadmap: an overview and its numbered phases.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Roadmap {
    pub(crate) title: String,
    pub(crate) months: Option<u32>,
    /// Index of the overview unit in `Knowledge::units`.
    pub(crate) overview: usize,
    pub(crate) phases: Vec<Phase>,
}

/// One row of the comparison table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ComparisonRow {
    pub(crate) dimension: String,
    pub(crate) cells: Vec<String>,
    pub(crate) unit: usize,
}

/// The comparison table (for example software engineer vs AI engineer).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Comparison {
    pub(crate) title: String,
    /// Column names after the dimension column.
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<ComparisonRow>,
    /// Index of the whole-table unit in `Knowledge::units`.
    pub(crate) unit: usize,
}

/// Everything loaded from a knowledge folder.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Knowledge {
    pub units: Vec<Unit>,
    pub(crate) roadmap: Option<Roadmap>,
    pub(crate) comparison: Option<Comparison>,
    /// Indices of FAQ units, in file order.
    pub(crate) faq: Vec<usize>,
    /// Query expansions: a word members use mapped to words the content uses.
    pub(crate) synonyms: BTreeMap<String, Vec<String>>,
    /// Example messages nothing here answers (the `Off-topic` heading of examples files).
    pub(crate) off_topic: Vec<String>,
    /// Example groups read but not yet attached to their units (during `parse_sources` only).
    pub(crate) example_groups: Vec<examples::ExampleGroup>,
}

impl Knowledge {
    pub fn unit(&self, id: &str) -> Option<&Unit> {
        self.units.iter().find(|unit| unit.id == id)
    }

    /// Whether any example message was given (for a passage, or off-topic):
    /// what the semantic matcher trains on.
    pub(crate) fn has_examples(&self) -> bool {
        !self.off_topic.is_empty() || self.units.iter().any(|unit| !unit.examples.is_empty())
    }

    /// Adds examples learned from members (`(passage id, message)`, approved
    /// in review) to their passages, exactly as an examples file would; ones
    /// naming a passage this content no longer has are skipped. Returns how
    /// many were added.
    pub fn learn(&mut self, learned: &[(String, String)]) -> usize {
        let mut added = 0;
        for (id, text) in learned {
            let Some(unit) = self.units.iter_mut().find(|unit| &unit.id == id) else { continue };
            let text = examples::one_line(text);
            if !text.is_empty() && !unit.examples.contains(&text) {
                unit.examples.push(text);
                added += 1;
            }
        }
        added
    }

    pub(crate) fn phase(&self, number: u8) -> Option<&Phase> {
        self.roadmap.as_ref()?.phases.iter().find(|p| p.number == number)
    }

    /// What this knowledge base is about: the title of its first document,
    /// for help texts and command descriptions (any folder works, so no topic is hard-coded).
    pub(crate) fn title(&self) -> &str {
        self.units.first().and_then(|unit| unit.breadcrumb.first()).map_or("this knowledge base", String::as_str)
    }

    /// Phase numbers in roadmap order; empty without a roadmap.
    pub(crate) fn phase_numbers(&self) -> Vec<u8> {
        self.roadmap.iter().flat_map(|roadmap| roadmap.phases.iter().map(|phase| phase.number)).collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    Warning,
    Error,
}

/// A problem found in the knowledge folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub(crate) severity: Severity,
    pub location: Location,
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn error(file: &str, line: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, file, line, message)
    }

    pub(crate) fn warning(file: &str, line: usize, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, file, line, message)
    }

    fn new(severity: Severity, file: &str, line: usize, message: impl Into<String>) -> Diagnostic {
        let location = Location { file: file.to_string(), line };
        Diagnostic { severity, location, message: message.into() }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}: {severity}: {}", self.location, self.message)
    }
}

/// Loads every Markdown file under `dir` (recursively, in path order).
///
/// Returns what could be loaded and all diagnostics; the knowledge is usable
/// only when no diagnostic is an error.
pub fn load(dir: &Path) -> (Knowledge, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    if let Err(err) = collect_files(dir, &mut files) {
        let shown = dir.display().to_string();
        diagnostics.push(Diagnostic::error(&shown, 0, format!("cannot read knowledge folder: {err}")));
        return (Knowledge::default(), diagnostics);
    }
    let mut sources = Vec::new();
    for path in files {
        let name = relative_name(dir, &path);
        if path.extension().and_then(|ext| ext.to_str()) != Some("md") {
            diagnostics.push(Diagnostic::warning(&name, 0, "not a Markdown (.md) file, ignored"));
            continue;
        }
        match std::fs::read(&path) {
            Err(err) => diagnostics.push(Diagnostic::error(&name, 0, format!("cannot read file: {err}"))),
            Ok(bytes) => match String::from_utf8(bytes) {
                // NUL is valid UTF-8 but never appears in text: this is a binary file with a .md name.
                Ok(text) if text.contains('\0') => {
                    let line = bytes_line(text.as_bytes(), text.find('\0').unwrap_or(0));
                    diagnostics.push(Diagnostic::error(
                        &name,
                        line,
                        "file looks binary (it contains NUL bytes), not Markdown text",
                    ));
                }
                Ok(text) => sources.push((name, text)),
                Err(err) => {
                    let line = bytes_line(err.as_bytes(), err.utf8_error().valid_up_to());
                    diagnostics.push(Diagnostic::error(&name, line, "file is not UTF-8 text"));
                }
            },
        }
    }
    let (knowledge, mut found) = parse_sources(&sources);
    diagnostics.append(&mut found);
    if sources.is_empty() && !diagnostics.iter().any(Diagnostic::is_error) {
        let shown = dir.display().to_string();
        diagnostics.push(Diagnostic::error(&shown, 0, "no Markdown files in the knowledge folder"));
    }
    (knowledge, diagnostics)
}

/// Parses already-read files given as `(name, text)`; the core of `load`,
/// separate so tests and benchmarks need no file system.
pub(crate) fn parse_sources(sources: &[(String, String)]) -> (Knowledge, Vec<Diagnostic>) {
    let mut knowledge = Knowledge::default();
    let mut diagnostics = Vec::new();
    for (name, text) in sources {
        let (file, found) = markdown::parse_file(name, text, &knowledge);
        knowledge.append_file(file);
        diagnostics.extend(found);
    }
    let mut seen = HashSet::new();
    for unit in &knowledge.units {
        if !seen.insert(unit.id.as_str()) {
            let message = format!("duplicate unit id `{}` (two headings with the same title?)", unit.id);
            diagnostics.push(Diagnostic::error(&unit.location.file, unit.location.line, message));
        }
    }
    check_phase_references(&knowledge, &mut diagnostics);
    examples::resolve(&mut knowledge, &mut diagnostics);
    if !sources.is_empty() && knowledge.units.is_empty() {
        diagnostics.push(Diagnostic::error(&sources[0].0, 1, "the knowledge folder has no content to answer with"));
    }
    (knowledge, diagnostics)
}

/// Every phase a unit points to must exist, so an edit that drops phases
/// from the roadmap (or the roadmap itself) cannot leave answers pointing
/// members to phases the bot can no longer show.
fn check_phase_references(knowledge: &Knowledge, diagnostics: &mut Vec<Diagnostic>) {
    let known = knowledge.phase_numbers();
    // One error per file and phase: front matter phases apply to every unit of a file.
    let mut reported = HashSet::new();
    for unit in &knowledge.units {
        for &number in &unit.phases {
            // Phase 0 is already reported where it is written.
            if number == 0 || known.contains(&number) || !reported.insert((unit.location.file.as_str(), number)) {
                continue;
            }
            let message = match &knowledge.roadmap {
                None => format!("`{}` refers to phase {number}, but there is no roadmap", unit.id),
                Some(roadmap) => format!(
                    "`{}` refers to phase {number}, which the roadmap no longer has (it has {} phases)",
                    unit.id,
                    roadmap.phases.len()
                ),
            };
            diagnostics.push(Diagnostic::error(&unit.location.file, unit.location.line, message));
        }
    }
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let path = entry.path();
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

fn relative_name(dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    relative.to_string_lossy().replace('\\', "/")
}

fn bytes_line(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())].iter().filter(|&&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(files: &[(&str, &str)]) -> (Knowledge, Vec<String>) {
        let sources: Vec<(String, String)> = files.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        let (knowledge, diagnostics) = parse_sources(&sources);
        (knowledge, diagnostics.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn sections_become_passages_with_heading_paths() {
        let text = "# Guide\n\n## Setup\n<!-- keywords: install, setup -->\n\nFirst paragraph is long enough to stand alone as a passage, so it is not merged with the next one; it goes on and on to pass the minimum length that a passage needs before the loader stops merging it with whatever comes next in the section, which takes a few more words than one would think.\n\nSteps:\n\n- one\n- two\n\n### Détails\n\nÜmlauts and 日本語 work.\n";
        let (knowledge, diagnostics) = parse(&[("guide.md", text)]);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let ids: Vec<&str> = knowledge.units.iter().map(|u| u.id.as_str()).collect();
        // The short list closing the section closes the passage before it.
        assert_eq!(ids, ["guide/setup", "guide/détails"]);
        assert!(knowledge.units[0]
            .text
            .ends_with("which takes a few more words than one would think.\n\nSteps:\n\n- one\n- two"));
        assert_eq!(knowledge.units[0].keywords, ["install", "setup"]);
        assert_eq!(knowledge.units[1].breadcrumb, ["Guide", "Setup", "Détails"]);
        assert_eq!(knowledge.units[1].location.line, 15);
    }

    #[test]
    fn faq_roadmap_comparison_and_synonyms_are_typed() {
        let faq = "+++\nkind = \"faq\"\n+++\n# FAQ\n## Is it hard?\n<!-- aliases: Is it difficult? | How hard is it? -->\nNo.\n";
        let roadmap = "+++\nkind = \"roadmap\"\nmonths = 12\n+++\n# Plan\nIntro.\n## Phase 1: Start\nBegin here.\n\nDo:\n\n- read\n## Phase 2: Finish\nEnd here.\n";
        let table = "+++\nkind = \"comparison\"\n+++\n# A vs B\n| Dimension | A | B |\n|---|---|---|\n| Speed | fast | slow |\n";
        let synonyms = "+++\nkind = \"synonyms\"\n+++\n- js = javascript\n";
        let (knowledge, diagnostics) =
            parse(&[("faq.md", faq), ("plan.md", roadmap), ("cmp.md", table), ("syn.md", synonyms)]);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let faq_unit = &knowledge.units[knowledge.faq[0]];
        assert_eq!((faq_unit.title.as_str(), faq_unit.text.as_str()), ("Is it hard?", "No."));
        assert_eq!(faq_unit.aliases, ["Is it difficult?", "How hard is it?"]);
        let roadmap = knowledge.roadmap.as_ref().unwrap();
        assert_eq!(roadmap.phases[0].activities, ["read"]);
        assert_eq!(roadmap.phases[0].activities_label.as_deref(), Some("Do:"));
        assert_eq!(roadmap.phases.iter().map(|p| p.months).collect::<Vec<_>>(), [Some((1, 6)), Some((7, 12))]);
        assert_eq!(knowledge.units[roadmap.phases[1].unit].phases, [2]);
        let comparison = knowledge.comparison.as_ref().unwrap();
        assert_eq!(comparison.columns, ["A", "B"]);
        assert_eq!(knowledge.units[comparison.rows[0].unit].text, "Speed — A: fast; B: slow");
        assert_eq!(knowledge.synonyms["js"], ["javascript"]);
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let cases: &[(&str, &str, &str)] = &[
            ("+++\nkind = \"nope\"\n+++\n# T\ntext\n", "a.md:2: error: front matter", "unknown kind"),
            (
                "+++\nkind = \"faq\"\n+++\n# F\n## Why?\n## How?\nBecause.\n",
                "a.md:5: error: FAQ question `Why?` has no answer",
                "empty answer",
            ),
            (
                "+++\nkind = \"roadmap\"\n+++\n# R\n## Phase 2: Late\nText.\n",
                "a.md:5: error: phase `Late` is numbered 2",
                "phase order",
            ),
            ("+++\nkind = \"roadmap\"\n+++\n# R\nNo phases.\n", "a.md:1: error: roadmap has no phases", "no phases"),
            ("# T\n## Same\nOne.\n## Same\nTwo.\n", "a.md:5: error: duplicate unit id `a/same`", "duplicate ids"),
            ("+++\nkind = \"synonyms\"\n+++\n- nothing here\n", "a.md:4: error: synonym `nothing here`", "bad synonym"),
            ("+++\ntitle = 1\n", "a.md:1: error: front matter opened with `+++` is never closed", "unclosed"),
            ("# T\n<!-- phases: x -->\nText.\n", "a.md:2: error: `x` is not a phase number", "bad phase"),
        ];
        for (text, expected, what) in cases {
            let (_, diagnostics) = parse(&[("a.md", text)]);
            assert!(diagnostics.iter().any(|d| d.starts_with(expected)), "{what}: {diagnostics:?}");
        }
    }

    #[test]
    fn folder_problems_are_collected_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.md"), "# Good\nFine text.\n").unwrap();
        std::fs::write(dir.path().join("bad.md"), b"# Bad\n\xff\xfe\n").unwrap();
        std::fs::write(dir.path().join("image.png"), b"\x89PNG").unwrap();
        let (knowledge, diagnostics) = load(dir.path());
        let shown: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        assert_eq!(knowledge.units.len(), 1);
        assert!(shown.contains(&"bad.md:2: error: file is not UTF-8 text".to_string()), "{shown:?}");
        assert!(shown.iter().any(|d| d.starts_with("image.png:0: warning")), "{shown:?}");
        let (_, missing) = load(&dir.path().join("missing"));
        assert!(missing[0].is_error() && missing[0].message.contains("cannot read knowledge folder"));
        let empty = tempfile::tempdir().unwrap();
        assert!(load(empty.path()).1.iter().any(|d| d.message.contains("no Markdown files")));
    }

    #[test]
    fn the_shipped_knowledge_loads_cleanly() {
        let (knowledge, diagnostics) = load(Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge").as_path());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(knowledge.phase_numbers(), [1, 2, 3, 4]);
        assert_eq!(knowledge.faq.len(), 4);
        assert_eq!(knowledge.comparison.as_ref().map(|c| c.rows.len()), Some(9));
    }
}
