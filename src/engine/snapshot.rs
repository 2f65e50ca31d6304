//! An immutable snapshot: parsed knowledge and its index, built together.
//!
//! Requests hold an `Arc<Snapshot>` from start to end, so a reply never mixes
//! two versions of the content; a rebuild makes a whole new snapshot.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::engine::knowledge::{self, Diagnostic, Knowledge};
use crate::engine::search::SearchIndex;
use crate::engine::settings::AnswerSettings;

/// Why no snapshot could be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The content has errors; every diagnostic found (warnings included).
    #[error("{} error(s): {}", count_errors(.0), error_lines(.0))]
    Invalid(Vec<Diagnostic>),
    /// tantivy could not build the index (out of memory, say): not the content's fault.
    #[error("cannot build the search index: {0}")]
    Index(String),
}

fn count_errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics.iter().filter(|d| d.is_error()).count()
}

fn error_lines(diagnostics: &[Diagnostic]) -> String {
    diagnostics.iter().filter(|d| d.is_error()).map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

pub struct Snapshot {
    pub knowledge: Knowledge,
    pub(crate) index: SearchIndex,
    pub settings: AnswerSettings,
    /// Hash over all units, to tell whether a rebuild changed anything.
    pub(crate) content_hash: String,
    /// Warnings found while loading (errors prevent a snapshot).
    pub(crate) warnings: Vec<Diagnostic>,
}

impl Snapshot {
    /// Loads `dir` and indexes it; fails with every error found.
    pub fn load(dir: &Path, settings: AnswerSettings) -> Result<Snapshot, SnapshotError> {
        let (knowledge, diagnostics) = knowledge::load(dir);
        Snapshot::from_knowledge(knowledge, diagnostics, settings)
    }

    /// Builds from files already in memory, as `(name, text)`.
    pub fn from_sources(sources: &[(String, String)], settings: AnswerSettings) -> Result<Snapshot, SnapshotError> {
        let (knowledge, diagnostics) = knowledge::parse_sources(sources);
        Snapshot::from_knowledge(knowledge, diagnostics, settings)
    }

    fn from_knowledge(
        knowledge: Knowledge,
        diagnostics: Vec<Diagnostic>,
        settings: AnswerSettings,
    ) -> Result<Snapshot, SnapshotError> {
        if diagnostics.iter().any(Diagnostic::is_error) {
            return Err(SnapshotError::Invalid(diagnostics));
        }
        let index = SearchIndex::build(&knowledge, settings.boosts, settings.word_vectors)
            .map_err(|err| SnapshotError::Index(err.to_string()))?;
        let content_hash = content_hash(&knowledge);
        Ok(Snapshot { knowledge, index, settings, content_hash, warnings: diagnostics })
    }
}

fn content_hash(knowledge: &Knowledge) -> String {
    let mut hasher = Sha256::new();
    for unit in &knowledge.units {
        for part in [
            unit.id.as_str(),
            unit.title.as_str(),
            unit.text.as_str(),
            &unit.keywords.join("\u{1f}"),
            &unit.aliases.join("\u{1f}"),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(&unit.phases);
    }
    for (word, expansions) in &knowledge.synonyms {
        hasher.update(word.as_bytes());
        hasher.update(expansions.join(",").as_bytes());
    }
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}
