//! The semantic matcher: example messages become training data.
//!
//! Every unit that has examples is a class, trained on them and on its
//! aliases and title; the knowledge base's off-topic
//! examples are one more class, "nothing here answers". Texts are embedded
//! with all-MiniLM-L6-v2 (`model`, frozen) and a softmax regression is
//! trained over the classes when the knowledge is built: full-batch, from
//! zero weights, a fixed number of steps, so the same content gives the same
//! weights. A message reading then gets a probability per unit and for
//! off-topic, its nearest example's cosine per class, the share of
//! off-topic examples among its nearest training texts, and its cosine to
//! the closest sentence of every passage (the prose is embedded, never
//! trained on), which the answer decision weighs beside the lexical
//! search (`engine::answer`).
//!
//! A knowledge base without any example has no matcher: the model adds
//! nothing measurable over titles and passages alone, so such a base is
//! answered lexically, exactly as before.

mod bert;
pub mod cache;
pub mod model;
pub(crate) mod softmax;

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::engine::knowledge::Knowledge;
use crate::engine::search::analysis::{stem_analyzer, stem_word, words};
use model::{cosine, MiniLm, ModelError};

/// What a build did, for logs and `check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrainingReport {
    /// Training texts (examples, titles, aliases, passages, off-topic).
    pub texts: usize,
    /// Passage sentences embedded beside them (compared with, never trained on).
    pub sentences: usize,
    /// Texts and sentences embedded now rather than found in a cache.
    pub embedded: usize,
    /// Classes: units, plus one when there are off-topic examples.
    pub classes: usize,
    /// Whether the classifier was trained now rather than found in a cache.
    pub trained: bool,
}

/// The trained matcher of one snapshot.
pub struct Matcher {
    model: Arc<MiniLm>,
    classifier: softmax::Classifier,
    /// The unit of each class; `None` is off-topic.
    classes: Vec<Option<usize>>,
    /// The class of each unit, when it has one.
    class_of_unit: Vec<Option<usize>>,
    /// Every training text's class, and its embedding (rows of `DIMENSIONS`
    /// in one block, scanned for nearest-example cosines).
    sample_classes: Vec<usize>,
    sample_vectors: Vec<f32>,
    /// The stems of every training text's words: what the matcher has
    /// learnt to read. A message resting on other words (new content not
    /// yet in any example) is beyond it, and the search alone judges it.
    stems: HashSet<String>,
    /// Per unit, the stems of its passage, title, aliases and examples:
    /// the words a member may use of what that passage speaks to.
    unit_stems: Vec<HashSet<String>>,
    /// Every passage's sentences: the unit of each, and their embeddings
    /// (rows of `DIMENSIONS`). Not training texts: a message's cosine to
    /// the closest sentence says whether the passage itself speaks to it.
    sentence_units: Vec<usize>,
    sentence_vectors: Vec<f32>,
    /// Recent readings by text: scanning every training text's embedding
    /// (megabytes, a few hundred µs) is most of answering a question again,
    /// and a follow-up reads its question's segments again.
    recent: Mutex<lru::LruCache<cache::Key, Reading>>,
    pub(crate) report: TrainingReport,
}

/// Readings remembered per matcher (about 1 kB each for the article).
const RECENT_READINGS: usize = 1024;

/// What the matcher makes of one reading of a message.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    /// Probability per unit (0 for units without a class), summing with `off_topic` to 1.
    pub(crate) by_unit: Vec<f32>,
    /// Probability that nothing here answers.
    pub off_topic: f32,
    /// Largest cosine to a training text of each unit (0 without one).
    pub(crate) nearest_by_unit: Vec<f32>,
    /// Largest cosine to an off-topic example (0 without any).
    pub nearest_off_topic: f32,
    /// Largest cosine to a sentence of each unit's passage.
    pub(crate) sentence_by_unit: Vec<f32>,
    /// Share of off-topic examples among the `NEIGHBOURS` training texts
    /// closest to the message: a local vote, where the regression averages.
    pub knn_off_topic: f32,
}

/// How many nearest training texts vote in `Reading::knn_off_topic`.
const NEIGHBOURS: usize = 10;

/// The sentences of a passage worth comparing a message with: split at
/// sentence ends and lines, at least three words each.
fn sentences(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_inclusive(['.', '?', '!', '\n'])
        .map(str::trim)
        .filter(|sentence| sentence.split_whitespace().count() >= 3)
        .map(str::to_string)
}

impl Reading {
    /// Units by probability, best first, with their probabilities.
    pub fn ranked(&self, limit: usize) -> Vec<(usize, f32)> {
        let mut ranked: Vec<(usize, f32)> =
            self.by_unit.iter().copied().enumerate().filter(|&(_, p)| p > 0.0).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(limit);
        ranked
    }
}

impl Matcher {
    /// Trains on `knowledge`'s examples; `None` when it has none.
    pub fn train(
        knowledge: &Knowledge,
        model: Arc<MiniLm>,
        cache_file: Option<&Path>,
    ) -> Result<Option<Matcher>, ModelError> {
        if !knowledge.has_examples() {
            return Ok(None);
        }
        let mut classes: Vec<Option<usize>> = Vec::new();
        let mut class_of_unit = vec![None; knowledge.units.len()];
        let mut texts: Vec<String> = Vec::new();
        let mut labels: Vec<usize> = Vec::new();
        // Only units with examples are classes: the rest are found by the
        // search alone, and a base that grows plain pages (or a reindex that
        // changes them) trains nothing new.
        for (at, unit) in knowledge.units.iter().enumerate().filter(|(_, unit)| !unit.examples.is_empty()) {
            let class = classes.len();
            classes.push(Some(at));
            class_of_unit[at] = Some(class);
            // Not the passage's prose: an edit to it then retrains nothing
            // (a reindex is served at once), and on the dev set it added
            // nothing the examples did not (104 right with it, 103 without).
            let own = std::iter::once(unit.title.clone());
            for text in own.chain(unit.aliases.iter().cloned()).chain(unit.examples.iter().cloned()) {
                texts.push(text);
                labels.push(class);
            }
        }
        if !knowledge.off_topic.is_empty() {
            let class = classes.len();
            classes.push(None);
            for text in &knowledge.off_topic {
                texts.push(text.clone());
                labels.push(class);
            }
        }
        let keys: Vec<cache::Key> = texts.iter().map(|text| cache::key(&model, text)).collect();
        // Embedded with the training texts, in one cache file, but never
        // trained on: a prose edit embeds its new sentences and trains nothing.
        let (sentence_units, sentence_texts): (Vec<usize>, Vec<String>) = knowledge
            .units
            .iter()
            .enumerate()
            .flat_map(|(at, unit)| sentences(&unit.text).map(move |sentence| (at, sentence)))
            .unzip();
        let all_texts: Vec<String> = texts.iter().chain(&sentence_texts).cloned().collect();
        let all_keys: Vec<cache::Key> =
            keys.iter().copied().chain(sentence_texts.iter().map(|text| cache::key(&model, text))).collect();
        let (mut vectors, embedded) = cache::embed_training(&model, &all_texts, &all_keys, cache_file)?;
        let sentence_vectors: Vec<f32> =
            vectors.split_off(texts.len()).iter().flat_map(|vector| vector.iter().copied()).collect();
        let (classifier, trained) = cache::classifier(&keys, &labels, classes.len(), cache_file, &model.dir, || {
            softmax::Classifier::train(&vectors, &labels, classes.len())
        })?;
        let report = TrainingReport {
            texts: texts.len(),
            sentences: sentence_texts.len(),
            embedded,
            classes: classes.len(),
            trained,
        };
        let sample_vectors = vectors.iter().flat_map(|vector| vector.iter().copied()).collect();
        let mut stemmer = stem_analyzer();
        let stems = texts.iter().flat_map(|text| words(text)).map(|word| stem_word(&mut stemmer, &word)).collect();
        let unit_stems = knowledge
            .units
            .iter()
            .map(|unit| {
                let texts = [&unit.text, &unit.title].into_iter().chain(&unit.aliases).chain(&unit.examples);
                texts.flat_map(|text| words(text)).map(|word| stem_word(&mut stemmer, &word)).collect()
            })
            .collect();
        Ok(Some(Matcher {
            model,
            classifier,
            classes,
            class_of_unit,
            sample_classes: labels,
            sample_vectors,
            stems,
            unit_stems,
            sentence_units,
            sentence_vectors,
            recent: Mutex::new(lru::LruCache::new(NonZeroUsize::new(RECENT_READINGS).unwrap_or(NonZeroUsize::MIN))),
            report,
        }))
    }

    /// Reads every text (a message and its segments) in one pass of the
    /// model; a text read recently is not embedded or scanned again.
    pub fn read(&self, texts: &[&str]) -> Result<Vec<Reading>, ModelError> {
        let keys: Vec<cache::Key> = texts.iter().map(|text| cache::key(&self.model, text)).collect();
        let mut readings: Vec<Option<Reading>> = {
            let mut recent = self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            keys.iter().map(|key| recent.get(key).cloned()).collect()
        };
        let missing: Vec<usize> = (0..texts.len()).filter(|&at| readings[at].is_none()).collect();
        if !missing.is_empty() {
            let wanted: Vec<&str> = missing.iter().map(|&at| texts[at]).collect();
            let vectors = cache::embed_questions(&self.model, &wanted)?;
            let mut recent = self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            for (&at, vector) in missing.iter().zip(&vectors) {
                let reading = self.reading(vector);
                recent.put(keys[at], reading.clone());
                readings[at] = Some(reading);
            }
        }
        Ok(readings.into_iter().flatten().collect())
    }

    /// Forgets the recent readings, so the next message is read anew (benchmarks).
    pub(crate) fn forget_readings(&self) {
        self.recent.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
    }

    fn reading(&self, vector: &[f32]) -> Reading {
        let probabilities = self.classifier.probabilities(vector);
        let units = self.class_of_unit.len();
        let mut by_unit = vec![0.0; units];
        let mut nearest = vec![0.0f32; self.classes.len()];
        // The closest training texts' classes, closest first.
        let mut neighbours: Vec<(f32, usize)> = Vec::with_capacity(NEIGHBOURS + 1);
        for (class, sample) in self.sample_classes.iter().zip(self.sample_vectors.chunks_exact(model::DIMENSIONS)) {
            let similarity = cosine(vector, sample);
            nearest[*class] = nearest[*class].max(similarity);
            if neighbours.len() < NEIGHBOURS || similarity > neighbours[neighbours.len() - 1].0 {
                let at = neighbours.partition_point(|&(other, _)| other >= similarity);
                neighbours.insert(at, (similarity, *class));
                neighbours.truncate(NEIGHBOURS);
            }
        }
        let off_topic_class = self.classes.iter().position(Option::is_none);
        let votes = neighbours.iter().filter(|&&(_, class)| Some(class) == off_topic_class).count();
        let knn_off_topic = if neighbours.is_empty() { 0.0 } else { votes as f32 / neighbours.len() as f32 };
        let mut sentence_by_unit = vec![0.0f32; units];
        for (&unit, sentence) in self.sentence_units.iter().zip(self.sentence_vectors.chunks_exact(model::DIMENSIONS)) {
            sentence_by_unit[unit] = sentence_by_unit[unit].max(cosine(vector, sentence));
        }
        let mut nearest_by_unit = vec![0.0; units];
        let mut off_topic = 0.0;
        let mut nearest_off_topic = 0.0;
        for (class, unit) in self.classes.iter().enumerate() {
            match unit {
                Some(unit) => {
                    by_unit[*unit] = probabilities[class];
                    nearest_by_unit[*unit] = nearest[class];
                }
                None => {
                    off_topic = probabilities[class];
                    nearest_off_topic = nearest[class];
                }
            }
        }
        Reading { by_unit, off_topic, nearest_by_unit, nearest_off_topic, sentence_by_unit, knn_off_topic }
    }

    /// Whether `unit` is one of the matcher's classes (it has examples).
    pub fn knows_unit(&self, unit: usize) -> bool {
        self.class_of_unit.get(unit).is_some_and(Option::is_some)
    }

    /// Whether some training text has a word with this stem.
    pub(crate) fn knows_stem(&self, stem: &str) -> bool {
        self.stems.contains(stem)
    }

    /// Whether `unit`'s passage or training texts have a word with this stem.
    pub(crate) fn unit_knows_stem(&self, unit: usize, stem: &str) -> bool {
        self.unit_stems.get(unit).is_some_and(|stems| stems.contains(stem))
    }

    /// The model's folder, for messages.
    pub fn model_dir(&self) -> &Path {
        &self.model.dir
    }
}
