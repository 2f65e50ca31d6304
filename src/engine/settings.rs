//! How answers are chosen: the `[answer]` section of the config, owned by
//! the engine so that the config layer depends on it and not the reverse.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::decision::Decision;

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
}

impl AnswerSettings {
    /// The decision answers are chosen by: the configured file's, or the shipped one.
    pub fn decision(&self) -> &Decision {
        self.fitted.as_deref().unwrap_or_else(|| Decision::shipped())
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
