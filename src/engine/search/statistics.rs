//! Word statistics over the units, computed beside the tantivy index:
//! document frequencies for weighting a question's words and each unit's
//! stems for coverage.

use std::collections::HashMap;

use tantivy::tokenizer::{RawTokenizer, Stemmer, TextAnalyzer};

use crate::engine::knowledge::Knowledge;
use crate::engine::search::analysis::{stem_word, unit_raw_words};

/// What coverage and typo correction know of the indexed words. Stems are
/// interned as ids: per-unit sets of strings took most of the memory of a
/// large knowledge base and much of its build time.
pub(crate) struct Statistics {
    /// Every indexed surface word with the id of its stem.
    pub(crate) vocabulary: HashMap<String, u32>,
    /// Stems by id.
    pub(crate) stems: Vec<String>,
    pub(crate) stem_ids: HashMap<String, u32>,
    /// Number of units containing each stem, by id.
    pub(crate) doc_freqs: Vec<u32>,
    /// The stem ids of each unit, all fields together, sorted and distinct.
    pub(crate) unit_stems: Vec<Box<[u32]>>,
}

impl Statistics {
    pub(crate) fn compute(knowledge: &Knowledge) -> Statistics {
        let mut stemmer = TextAnalyzer::builder(RawTokenizer::default()).filter(Stemmer::default()).build();
        let mut statistics = Statistics {
            vocabulary: HashMap::new(),
            stems: Vec::new(),
            stem_ids: HashMap::new(),
            doc_freqs: Vec::new(),
            unit_stems: Vec::with_capacity(knowledge.units.len()),
        };
        let mut lowercase;
        let mut ids = Vec::new();
        for unit in &knowledge.units {
            ids.clear();
            for word in unit_raw_words(unit) {
                // Most words are lowercase ASCII already; only the others are
                // copied (with `to_lowercase`, exactly as `words` does).
                let word = if word.is_ascii() && !word.bytes().any(|byte| byte.is_ascii_uppercase()) {
                    word
                } else {
                    lowercase = word.to_lowercase();
                    lowercase.as_str()
                };
                let id = match statistics.vocabulary.get(word) {
                    Some(&id) => id,
                    None => {
                        let stem = stem_word(&mut stemmer, word);
                        let id = statistics.intern(stem);
                        statistics.vocabulary.insert(word.to_string(), id);
                        id
                    }
                };
                ids.push(id);
            }
            ids.sort_unstable();
            ids.dedup();
            for &id in &ids {
                statistics.doc_freqs[id as usize] += 1;
            }
            statistics.unit_stems.push(ids.as_slice().into());
        }
        statistics
    }

    fn intern(&mut self, stem: String) -> u32 {
        if let Some(&id) = self.stem_ids.get(&stem) {
            return id;
        }
        let id = self.stems.len() as u32;
        self.stems.push(stem.clone());
        self.stem_ids.insert(stem, id);
        self.doc_freqs.push(0);
        id
    }

    /// The stem of an indexed surface word.
    pub(crate) fn stem_of(&self, word: &str) -> Option<&str> {
        self.vocabulary.get(word).map(|&id| self.stems[id as usize].as_str())
    }

    /// Number of units containing `stem`; `None` when no unit does.
    pub(crate) fn doc_freq(&self, stem: &str) -> Option<u32> {
        self.stem_ids.get(stem).map(|&id| self.doc_freqs[id as usize])
    }
}
