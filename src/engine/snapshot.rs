//! An immutable snapshot: parsed knowledge and its index, built together.
//!
//! Requests hold an `Arc<Snapshot>` from start to end, so a reply never mixes
//! two versions of the content; a rebuild makes a whole new snapshot.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::engine::knowledge::{self, Diagnostic, Knowledge};
use crate::engine::matcher::{model, Matcher};
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
    /// The matcher trained on the knowledge's examples; `None` without
    /// examples, with `semantic` off, or when the model could not be used.
    pub(crate) matcher: Option<Matcher>,
    /// Why the knowledge has examples but no matcher (the model is missing
    /// or broken): answers are lexical only. For logs and `check`.
    pub matcher_problem: Option<String>,
}

impl Snapshot {
    /// Loads `dir` and indexes it; fails with every error found.
    pub fn load(dir: &Path, settings: AnswerSettings) -> Result<Snapshot, SnapshotError> {
        Snapshot::load_learning(dir, settings, &[])
    }

    /// Loads `dir` with examples learned from members added to it
    /// (`Knowledge::learn`), and indexes it.
    pub fn load_learning(
        dir: &Path,
        settings: AnswerSettings,
        learned: &[(String, String)],
    ) -> Result<Snapshot, SnapshotError> {
        let (mut knowledge, diagnostics) = knowledge::load(dir);
        knowledge.learn(learned);
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
        let index = SearchIndex::build(&knowledge, settings.boosts, settings.policy().search, settings.word_vectors)
            .map_err(|err| SnapshotError::Index(err.to_string()))?;
        let content_hash = content_hash(&knowledge);
        let (matcher, matcher_problem) = match train_matcher(&knowledge, &settings) {
            Ok(matcher) => (matcher, None),
            Err(problem) => (None, Some(problem)),
        };
        Ok(Snapshot { knowledge, index, settings, content_hash, warnings: diagnostics, matcher, matcher_problem })
    }

    /// The decision answers are chosen by: the fused one with a matcher, the lexical one without.
    pub fn decision(&self) -> &crate::engine::decision::Decision {
        self.settings.decision_for(self.matcher.is_some())
    }

    /// The trained matcher, when there is one.
    pub fn matcher(&self) -> Option<&Matcher> {
        self.matcher.as_ref()
    }
}

/// The matcher for `knowledge`, or why there is none though it has examples.
fn train_matcher(knowledge: &Knowledge, settings: &AnswerSettings) -> Result<Option<Matcher>, String> {
    if !settings.semantic || !knowledge.has_examples() {
        return Ok(None);
    }
    let problem = |err: model::ModelError| format!("the semantic matcher is off, answers are lexical only: {err}");
    let model = model::shared(&settings.model_dir()).map_err(problem)?;
    Matcher::train(knowledge, model, settings.embedding_cache.as_deref()).map_err(problem)
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
            &unit.examples.join("\u{1f}"),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(&unit.phases);
    }
    for message in &knowledge.off_topic {
        hasher.update(message.as_bytes());
        hasher.update([0]);
    }
    for (word, expansions) in &knowledge.synonyms {
        hasher.update(word.as_bytes());
        hasher.update(expansions.join(",").as_bytes());
    }
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}
