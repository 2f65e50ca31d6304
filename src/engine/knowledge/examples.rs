//! Example messages: how members ask what a passage answers, and what they
//! ask that nothing answers. They are the semantic matcher's training data
//! (`engine::matcher`), kept in their own files so the prose stays readable.
//!
//! A heading names its passage by id (`faq/how-long-does-it-take`), by
//! heading path (`FAQ > How long does it take?`) or by title when that is
//! unique; `Off-topic` collects messages the bot must decline. A heading
//! that names no passage is a warning, not an error: an edit to the prose
//! must not stop a reindex over a stale example.

use super::{Diagnostic, Knowledge, Location};

/// Headings that collect messages nothing answers (compared lowercased).
const OFF_TOPIC_HEADINGS: [&str; 4] = ["off-topic", "off topic", "out of scope", "out-of-scope"];

/// One heading of an examples file and its messages, before resolution.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExampleGroup {
    pub(crate) target: String,
    pub(crate) messages: Vec<String>,
    pub(crate) location: Location,
}

/// An examples file holding `learned` (`(passage id, message)`): what
/// `transition-bot examples export` writes, for operators who keep their
/// content in git. Messages are kept to one line each, grouped by passage.
pub fn render_file(learned: &[(String, String)]) -> String {
    let mut out = String::from("+++\nkind = \"examples\"\n+++\n# Examples learned from members\n\n");
    out.push_str("Messages members asked, with the passage they picked or found helpful, approved in review.\n");
    let mut groups: std::collections::BTreeMap<&str, Vec<String>> = std::collections::BTreeMap::new();
    for (id, text) in learned {
        let line = one_line(text);
        if !line.is_empty() {
            groups.entry(id).or_default().push(line);
        }
    }
    for (id, messages) in groups {
        out.push_str(&format!("\n## {id}\n"));
        for message in messages {
            out.push_str(&format!("- {message}\n"));
        }
    }
    out
}

/// A learned message as an examples file holds it: one line, spaces folded.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Attaches every group's messages to the passage it names, or to the
/// off-topic list; reports groups that name no passage or several.
pub(super) fn resolve(knowledge: &mut Knowledge, diagnostics: &mut Vec<Diagnostic>) {
    for group in std::mem::take(&mut knowledge.example_groups) {
        let messages = group.messages.into_iter().filter(|message| !message.is_empty());
        if OFF_TOPIC_HEADINGS.contains(&group.target.trim().to_lowercase().as_str()) {
            knowledge.off_topic.extend(messages);
            continue;
        }
        let found = named_units(knowledge, &group.target);
        let Location { file, line } = &group.location;
        match found.as_slice() {
            [at] => knowledge.units[*at].examples.extend(messages),
            [] => diagnostics.push(Diagnostic::warning(
                file,
                *line,
                format!("examples for `{}` name no passage (give a unit id, a heading path such as `Title > Heading`, or `Off-topic`); they are not used", group.target),
            )),
            several => {
                let ids: Vec<&str> = several.iter().take(4).map(|&at| knowledge.units[at].id.as_str()).collect();
                diagnostics.push(Diagnostic::warning(
                    file,
                    *line,
                    format!(
                        "examples for `{}` name {} passages; name one by its id ({}); they are not used",
                        group.target,
                        several.len(),
                        ids.join(", ")
                    ),
                ));
            }
        }
    }
}

/// The units a heading names: the one with that id, else those whose
/// heading path or title reads the same (ignoring case and spacing).
fn named_units(knowledge: &Knowledge, target: &str) -> Vec<usize> {
    let target = target.trim();
    if let Some(at) = knowledge.units.iter().position(|unit| unit.id == target) {
        return vec![at];
    }
    let wanted = normalized(target);
    let by = |text: &dyn Fn(&super::Unit) -> String| -> Vec<usize> {
        (0..knowledge.units.len()).filter(|&at| normalized(&text(&knowledge.units[at])) == wanted).collect()
    };
    let by_path = by(&|unit| unit.breadcrumb.join(" > "));
    if !by_path.is_empty() {
        return by_path;
    }
    let below_title = by(&|unit| unit.breadcrumb.iter().skip(1).cloned().collect::<Vec<_>>().join(" > "));
    if !below_title.is_empty() {
        return below_title;
    }
    by(&|unit| unit.title.clone())
}

fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::render_file;
    use crate::engine::knowledge::parse_sources;

    fn load(files: &[(&str, &str)]) -> (crate::engine::knowledge::Knowledge, Vec<String>) {
        let sources: Vec<(String, String)> = files.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        let (knowledge, diagnostics) = parse_sources(&sources);
        (knowledge, diagnostics.iter().map(ToString::to_string).collect())
    }

    const GUIDE: &str = "# Guide\n\n## Setup\n\nInstall it first.\n\n## Usage\n\nRun it.\n";

    #[test]
    fn headings_name_passages_by_id_path_or_title() {
        let examples = "+++\nkind = \"examples\"\n+++\n# Examples\n\n## guide/setup\n- how do i install\n- install steps?\n\n## Guide > Usage\n- how to run\n\n## usage\n- running it\n\n## Off-topic\n- best pizza in town\n";
        let (knowledge, diagnostics) = load(&[("guide.md", GUIDE), ("z/examples.md", examples)]);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let setup = knowledge.unit("guide/setup").unwrap();
        assert_eq!(setup.examples, ["how do i install", "install steps?"]);
        assert_eq!(knowledge.unit("guide/usage").unwrap().examples, ["how to run", "running it"]);
        assert_eq!(knowledge.off_topic, ["best pizza in town"]);
    }

    #[test]
    fn examples_that_name_no_passage_are_reported_with_their_line() {
        let examples = "+++\nkind = \"examples\"\n+++\n## Deployment\n- how do i deploy\n\n- stray\n";
        let (knowledge, diagnostics) = load(&[("guide.md", GUIDE), ("examples.md", examples)]);
        assert!(
            diagnostics
                .iter()
                .any(|d| d.starts_with("examples.md:4: warning: examples for `Deployment` name no passage")),
            "{diagnostics:?}"
        );
        assert!(knowledge.units.iter().all(|unit| unit.examples.is_empty()));
        let orphan = "+++\nkind = \"examples\"\n+++\n- before any heading\n";
        let (_, diagnostics) = load(&[("guide.md", GUIDE), ("examples.md", orphan)]);
        assert!(
            diagnostics.iter().any(|d| d.starts_with("examples.md:4: error: examples must follow")),
            "{diagnostics:?}"
        );
    }

    #[test]
    fn an_exported_file_teaches_what_learning_does() {
        let (plain, _) = load(&[("guide.md", GUIDE)]);
        let id = plain.units[0].id.clone();
        let learned = vec![(id.clone(), "how do i\n  start?".to_string()), ("gone/unit".into(), "stale".into())];
        let mut taught = plain.clone();
        assert_eq!(taught.learn(&learned), 1, "a passage the content no longer has is skipped");
        let exported = render_file(&learned);
        let (loaded, diagnostics) = load(&[("guide.md", GUIDE), ("learned.md", &exported)]);
        assert_eq!(loaded.units[0].examples, ["how do i start?"], "{exported}");
        assert_eq!(taught.units[0].examples, loaded.units[0].examples, "learning reads as the export does");
        assert!(diagnostics.iter().any(|d| d.contains("gone/unit")), "the stale one is named: {diagnostics:?}");
    }
}
