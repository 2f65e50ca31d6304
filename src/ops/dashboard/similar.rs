//! Content gaps grouped by similar wording: the unanswered question texts
//! are embedded with the matcher's model (all-MiniLM-L6-v2, the one the bot
//! answers with) and each joins the first, more asked, group whose leading
//! text is close enough. "how much do AI engineers earn in Germany" and
//! "what's the salary of an AI engineer in Berlin?" are one gap to write, not two.
//!
//! Embeddings are remembered by text, so a page shown again embeds only
//! the questions that are new since. Without the model every text is its
//! own group, and the page says why.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::engine::matcher::model::{self, cosine, Embedding};

use super::data::Gap;

/// Least cosine between a text and a group's leading text to join it.
/// Measured with this model: paraphrases such as "how much do AI engineers
/// earn in Germany" / "what's the salary of an AI engineer in Berlin?" score
/// 0.83, "can you recommend a good vector database" / "which vector db
/// should i pick?" 0.75; two different questions on one topic ("how much do
/// AI engineers earn" / "how long does it take to become an AI engineer")
/// 0.65. Below 0.72 the second kind would merge; some looser paraphrases
/// (0.70 for two laptop questions) stay apart, which costs a row, not a gap.
const SAME_GAP: f32 = 0.72;
/// Texts remembered at most; beyond it the memory starts again.
const REMEMBERED: usize = 20_000;

pub(crate) struct Similar {
    model_dir: PathBuf,
    remembered: Mutex<HashMap<String, Arc<Embedding>>>,
}

impl Similar {
    pub(crate) fn new(model_dir: PathBuf) -> Similar {
        Similar { model_dir, remembered: Mutex::new(HashMap::new()) }
    }

    /// Groups `rows` (`(text, asked, offered)`, most asked first), most
    /// asked group first; the note says why grouping fell back to exact
    /// wording, when it did. CPU work: call it off the async threads.
    pub(crate) fn group(&self, rows: &[(String, i64, i64)]) -> (Vec<Gap>, Option<String>) {
        let (embeddings, note) = match self.embeddings(rows) {
            Ok(embeddings) => (embeddings, None),
            Err(reason) => {
                // The reason names files: it goes to the log, not to the page.
                tracing::warn!(%reason, "dashboard: cannot group gaps by meaning");
                (
                    Vec::new(),
                    Some(
                        "Grouped by exact wording only: the matcher's model could not be loaded (the log says why)."
                            .into(),
                    ),
                )
            }
        };
        let mut gaps: Vec<(usize, Gap)> = Vec::new();
        for (index, (text, asked, offered)) in rows.iter().enumerate() {
            let joins = embeddings.get(index).and_then(|embedding| {
                gaps.iter().position(|(leader, _)| cosine(&embeddings[*leader], embedding) >= SAME_GAP)
            });
            match joins {
                Some(at) => {
                    let gap = &mut gaps[at].1;
                    gap.asked += asked;
                    gap.offered += offered;
                    gap.variants.push(text.clone());
                }
                None => gaps
                    .push((index, Gap { text: text.clone(), asked: *asked, offered: *offered, variants: Vec::new() })),
            }
        }
        let mut gaps: Vec<Gap> = gaps.into_iter().map(|(_, gap)| gap).collect();
        // Stable: equal counts keep the order of their leaders.
        gaps.sort_by_key(|gap| std::cmp::Reverse(gap.asked));
        (gaps, note)
    }

    fn embeddings(&self, rows: &[(String, i64, i64)]) -> Result<Vec<Arc<Embedding>>, String> {
        let mut remembered = self.remembered.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let new: Vec<&str> =
            rows.iter().map(|row| row.0.as_str()).filter(|text| !remembered.contains_key(*text)).collect();
        if !new.is_empty() {
            let model = model::shared(&self.model_dir).map_err(|err| err.to_string())?;
            let embedded = model.embed(&new).map_err(|err| err.to_string())?;
            if remembered.len() + new.len() > REMEMBERED {
                remembered.clear();
            }
            for (text, embedding) in new.iter().zip(embedded) {
                remembered.insert(text.to_string(), Arc::new(embedding));
            }
        }
        Ok(rows.iter().map(|row| remembered[&row.0].clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paraphrases_share_a_gap_and_other_questions_do_not() {
        let similar = Similar::new(model::vendored_dir());
        let rows = [
            ("how much do AI engineers earn in Germany".to_string(), 5, 1),
            ("what's the best pizza in naples".to_string(), 4, 0),
            ("how long does it take to become an AI engineer".to_string(), 3, 0),
            ("what's the salary of an AI engineer in Berlin?".to_string(), 2, 2),
        ];
        let (gaps, note) = similar.group(&rows);
        assert_eq!(note, None);
        assert_eq!(gaps.len(), 3, "{gaps:?}");
        assert_eq!(gaps[0].variants, ["what's the salary of an AI engineer in Berlin?"], "{gaps:?}");
        assert_eq!((gaps[0].asked, gaps[0].offered), (7, 3));
        assert_eq!(gaps[1].text, "what's the best pizza in naples");
        assert_eq!(gaps[2].text, "how long does it take to become an AI engineer");
    }

    #[test]
    fn without_the_model_each_wording_is_its_own_gap() {
        let similar = Similar::new(PathBuf::from("/nonexistent/model"));
        let rows = [("a".to_string(), 1, 0), ("a?".to_string(), 2, 0)];
        let (gaps, note) = similar.group(&rows);
        assert_eq!(gaps.iter().map(|g| g.asked).collect::<Vec<_>>(), [2, 1]);
        assert!(note.unwrap().contains("exact wording"));
    }
}
