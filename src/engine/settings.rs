//! How answers are chosen: the `[answer]` section of the config, owned by
//! the engine so that the config layer depends on it and not the reverse.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::decision::Decision;
use crate::engine::policy::AnswerPolicy;

/// How answers are chosen; the `[answer]` section of the config.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnswerSettings {
    /// Least decision confidence (0 to 1) to answer rather than say the bot
    /// does not know; unset, the fitted operating point of `decision.toml`.
    pub(crate) min_confidence: Option<f32>,
    /// Related passages listed under an answer.
    pub(crate) related: usize,
    /// Closest topics offered when there is no answer.
    pub(crate) suggestions: usize,
    pub boosts: FieldBoosts,
    /// Match words the knowledge base never uses to its words nearest in
    /// meaning (static word vectors). Off by default: on the project's
    /// corpus it did not measurably help and it doubles the p99 latency.
    pub word_vectors: bool,
    /// A decision file written by `fit` (for an operator's own docs and
    /// questions); unset, the one shipped with the bot. The config layer
    /// reads it into `fitted`.
    pub(crate) decision: Option<PathBuf>,
    /// The parsed `decision` file, once the config layer has read it.
    #[serde(skip)]
    pub(crate) fitted: Option<Arc<Decision>>,
    /// A policy file (the answering rules' tuned numbers, as
    /// `src/engine/policy.toml`) to try a retune without a build; unset,
    /// the shipped one. The config layer reads it into `tuned`.
    pub(crate) policy: Option<PathBuf>,
    /// The parsed `policy` file, once the config layer has read it.
    #[serde(skip)]
    pub(crate) tuned: Option<Arc<AnswerPolicy>>,
    /// Match messages to the knowledge base's example messages with
    /// all-MiniLM-L6-v2 (`engine::matcher`), beside the lexical search.
    pub semantic: bool,
    /// The model's folder; unset, the one vendored with the bot
    /// (`models/all-MiniLM-L6-v2` of its source tree).
    pub model: Option<PathBuf>,
    /// Where training embeddings are cached between builds; unset, the
    /// config layer puts it next to the database (`embeddings.cache`), and
    /// settings made in code keep them in memory only.
    pub(crate) embedding_cache: Option<PathBuf>,
}

impl AnswerSettings {
    /// The decision answers are chosen by: the configured file's, or the shipped one.
    pub fn decision(&self) -> &Decision {
        self.fitted.as_deref().unwrap_or_else(|| Decision::shipped())
    }

    /// The decision for a snapshot with or without a trained matcher: the
    /// configured file's, else the shipped one fitted for that case.
    pub fn decision_for(&self, semantic: bool) -> &Decision {
        match (&self.fitted, semantic) {
            (Some(fitted), _) => fitted,
            (None, true) => Decision::shipped(),
            (None, false) => Decision::shipped_lexical(),
        }
    }

    /// The decision for readings the search alone judges (see
    /// `answer::beyond`): the configured file's, else the shipped lexical one.
    pub fn lexical_decision(&self) -> &Decision {
        self.decision_for(false)
    }

    /// The tuned numbers answers are chosen with: the configured file's, or the shipped ones.
    pub fn policy(&self) -> &AnswerPolicy {
        self.tuned.as_deref().unwrap_or_else(|| AnswerPolicy::shipped())
    }

    /// These settings with training embeddings cached in `path`.
    pub fn with_embedding_cache(mut self, path: PathBuf) -> AnswerSettings {
        self.embedding_cache = Some(path);
        self
    }

    /// The model folder in use.
    pub fn model_dir(&self) -> PathBuf {
        self.model.clone().unwrap_or_else(crate::engine::matcher::model::vendored_dir)
    }
}

impl Default for AnswerSettings {
    fn default() -> Self {
        AnswerSettings {
            min_confidence: None,
            related: 2,
            suggestions: 3,
            boosts: FieldBoosts::default(),
            word_vectors: false,
            decision: None,
            fitted: None,
            policy: None,
            tuned: None,
            semantic: true,
            model: None,
            embedding_cache: None,
        }
    }
}

/// Relative weight of a match in each field: a word of a title or FAQ
/// question says more about what a unit answers than one in its body.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldBoosts {
    pub(crate) title: f32,
    pub(crate) keywords: f32,
    pub(crate) body: f32,
    /// Questions the text itself asks ("Am I falling behind?"): they name a
    /// topic the passage raises, not one it answers.
    pub(crate) asked: f32,
}

impl Default for FieldBoosts {
    fn default() -> Self {
        FieldBoosts { title: 2.5, keywords: 1.5, body: 1.0, asked: 0.3 }
    }
}
