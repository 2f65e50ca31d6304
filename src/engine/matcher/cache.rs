//! Embeddings remembered by content, so a rebuild of unchanged content
//! computes nothing and a question asked again is not embedded again.
//!
//! Keys are SHA-256 of the model's identity and the text. Training texts
//! (examples, titles, passages) live in a process-wide map and, when the
//! knowledge is built with a cache file (next to the database), in that
//! file: rewritten after each build with exactly the entries that build
//! used, so it never grows past the content. Questions go to a bounded LRU.
//!
//! The model's folder may hold a seed (`SEED`, and its classifier beside
//! it): the same two files, made from the shipped knowledge, so a fresh
//! clone's first start embeds and trains nothing. A build reads it only for
//! what the cache file lacks, and never writes it (`check` with
//! `TRANSITION_BOT_ANSWER__EMBEDDING_CACHE` pointed at it makes it anew).

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::model::{Embedding, MiniLm, ModelError, DIMENSIONS};
use super::softmax::Classifier;

/// A cache key: SHA-256 of the model identity and a text.
pub(crate) type Key = [u8; 32];

/// Embeddings shared between the caches and their users.
pub(crate) type Shared = Arc<[f32]>;

/// First bytes of a cache file, naming its format.
const MAGIC: &[u8; 8] = b"TBEMB01\n";

/// Questions remembered; enough for `fit` to embed each reading of its sets once.
const QUESTIONS: usize = 8192;

/// Trained classifiers remembered in memory (about 55 kB each for the article).
const CLASSIFIERS: usize = 8;

/// Training texts remembered in memory across builds of one process.
const TRAINING: usize = 200_000;

/// The seed cache's name in the model's folder.
pub const SEED: &str = "knowledge.cache";

/// How a build reports its embedding's progress: `(done, total)` after each
/// batch, from `(0, total)` to `(total, total)`; only when it embeds something.
pub type Progress = dyn Fn(usize, usize) + Send + Sync;

/// Off while `bench` times embedding everything, as an operator's own docs would.
static SEED_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Whether builds may read the seed (benchmarks turn it off to time a cold embedding).
pub(crate) fn use_seed(on: bool) {
    SEED_ON.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// The process's progress observer, when a front end set one.
static PROGRESS: OnceLock<Box<Progress>> = OnceLock::new();

/// Sets who hears how far the training texts' embedding has come (the
/// first start of a knowledge base embeds thousands); the first call wins.
pub fn observe_progress(observer: Box<Progress>) {
    let _ = PROGRESS.set(observer);
}

pub(crate) fn key(model: &MiniLm, text: &str) -> Key {
    let mut hasher = Sha256::new();
    hasher.update(model.identity);
    hasher.update(text.as_bytes());
    hasher.finalize().into()
}

fn training() -> &'static Mutex<HashMap<Key, Arc<[f32]>>> {
    static MAP: OnceLock<Mutex<HashMap<Key, Arc<[f32]>>>> = OnceLock::new();
    MAP.get_or_init(Default::default)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Poisoned only by a panic elsewhere; a cache is sound either way.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Embeds `texts` (whose cache keys are `keys`) for training, from the caches where possible, and
/// rewrites `file` (when given) with exactly these texts' embeddings.
/// A cache file that cannot be read or written only costs time.
pub(crate) fn embed_training(
    model: &MiniLm,
    texts: &[String],
    keys: &[Key],
    file: Option<&Path>,
) -> Result<(Vec<Shared>, usize), ModelError> {
    let missing = |map: &HashMap<Key, Arc<[f32]>>| -> Vec<usize> {
        (0..texts.len()).filter(|&at| !map.contains_key(&keys[at])).collect()
    };
    let remember = |entries: Vec<(Key, Arc<[f32]>)>| {
        let mut map = lock(training());
        if map.len() > TRAINING {
            map.clear();
        }
        for (key, vector) in entries {
            map.entry(key).or_insert(vector);
        }
    };
    // A rebuild of content this process already embedded reads nothing:
    // parsing the file again only to drop every entry churns megabytes.
    if let Some(file) = file.filter(|_| !missing(&lock(training())).is_empty()) {
        remember(read_file(file));
    }
    if SEED_ON.load(std::sync::atomic::Ordering::Relaxed) && !missing(&lock(training())).is_empty() {
        remember(read_file(&model.dir.join(SEED)));
    }
    let missing = missing(&lock(training()));
    let wanted: Vec<&str> = missing.iter().map(|&at| texts[at].as_str()).collect();
    let report = |done: usize| {
        if let Some(observer) = PROGRESS.get() {
            observer(done, wanted.len());
        }
    };
    if !wanted.is_empty() {
        report(0);
    }
    let computed = model.embed_reporting(&wanted, &report)?;
    let mut map = lock(training());
    for (&at, vector) in missing.iter().zip(computed) {
        map.insert(keys[at], vector.into());
    }
    let vectors: Vec<Arc<[f32]>> = keys.iter().map(|key| map[key].clone()).collect();
    drop(map);
    if let Some(file) = file {
        if let Err(err) = write_file(file, keys, &vectors) {
            tracing::warn!(file = %file.display(), "cannot write the embedding cache: {err}");
        }
    }
    Ok((vectors, missing.len()))
}

fn recent() -> &'static Mutex<lru::LruCache<Key, Arc<[f32]>>> {
    static RECENT: OnceLock<Mutex<lru::LruCache<Key, Arc<[f32]>>>> = OnceLock::new();
    RECENT.get_or_init(|| Mutex::new(lru::LruCache::new(NonZeroUsize::new(QUESTIONS).unwrap_or(NonZeroUsize::MIN))))
}

/// Forgets every question embedding, so the next message is embedded (benchmarks).
pub(crate) fn forget_questions() {
    lock(recent()).clear();
}

/// Forgets every embedding held in memory, so the next build embeds from scratch (benchmarks).
pub(crate) fn forget_all() {
    forget_questions();
    lock(training()).clear();
}

/// Embeds the readings of one message, remembering recent ones.
pub(crate) fn embed_questions(model: &MiniLm, texts: &[&str]) -> Result<Vec<Arc<[f32]>>, ModelError> {
    let recent = recent();
    let keys: Vec<Key> = texts.iter().map(|text| key(model, text)).collect();
    let mut found: Vec<Option<Arc<[f32]>>> = {
        let mut recent = lock(recent);
        keys.iter().map(|key| recent.get(key).cloned()).collect()
    };
    let missing: Vec<usize> = (0..texts.len()).filter(|&at| found[at].is_none()).collect();
    if !missing.is_empty() {
        let wanted: Vec<&str> = missing.iter().map(|&at| texts[at]).collect();
        let computed = model.embed(&wanted)?;
        let mut recent = lock(recent);
        for (&at, vector) in missing.iter().zip(computed) {
            let vector: Arc<[f32]> = vector.into();
            recent.put(keys[at], vector.clone());
            found[at] = Some(vector);
        }
    }
    Ok(found.into_iter().flatten().collect())
}

/// First bytes of a classifier cache file.
const CLASSIFIER_MAGIC: &[u8; 8] = b"TBCLS01\n";

/// The classifier trained on exactly these texts and labels: remembered
/// from recent builds (in memory, and the last one beside the embedding cache file as
/// `<file>.classifier`), or the seed's, else trained now (then `true`). Training is deterministic, so a
/// remembered one is the one training would give; it is most of a warm build.
pub(crate) fn classifier(
    texts: &[Key],
    labels: &[usize],
    classes: usize,
    file: Option<&Path>,
    model_dir: &Path,
    train: impl FnOnce() -> Classifier,
) -> Result<(Classifier, bool), ModelError> {
    // A few, so content that goes back and forth (an edit undone, a branch
    // checked out and back) is not trained again.
    static LAST: OnceLock<Mutex<lru::LruCache<Key, Classifier>>> = OnceLock::new();
    let last = LAST
        .get_or_init(|| Mutex::new(lru::LruCache::new(NonZeroUsize::new(CLASSIFIERS).unwrap_or(NonZeroUsize::MIN))));
    let mut hasher = Sha256::new();
    // v2: trained on gemm (v1 was candle's, the same steps in other rounding).
    hasher.update(b"softmax-v2");
    hasher.update((classes as u64).to_le_bytes());
    for (key, label) in texts.iter().zip(labels) {
        hasher.update(key);
        hasher.update((*label as u64).to_le_bytes());
    }
    let key: Key = hasher.finalize().into();
    if let Some(classifier) = lock(last).get(&key) {
        return Ok((classifier.clone(), false));
    }
    let side = file.map(|file| file.with_extension("classifier"));
    let seed = model_dir.join(SEED).with_extension("classifier");
    let found = side.as_deref().and_then(|side| read_classifier(side, &key, classes)).or_else(|| {
        SEED_ON.load(std::sync::atomic::Ordering::Relaxed).then(|| read_classifier(&seed, &key, classes))?
    });
    let trained = found.is_none();
    let classifier = match found {
        Some(classifier) => classifier,
        None => {
            let classifier = train();
            if let Some(side) = &side {
                if let Err(err) = write_classifier(side, &key, &classifier) {
                    tracing::warn!(file = %side.display(), "cannot write the classifier cache: {err}");
                }
            }
            classifier
        }
    };
    lock(last).put(key, classifier.clone());
    Ok((classifier, trained))
}

fn read_classifier(file: &Path, key: &Key, classes: usize) -> Option<Classifier> {
    let bytes = std::fs::read(file).ok()?;
    let body = bytes.strip_prefix(CLASSIFIER_MAGIC.as_slice())?;
    let (stored, values) = body.split_at_checked(32)?;
    if stored != key || values.len() != classes * (DIMENSIONS + 1) * 4 {
        return None;
    }
    let floats: Vec<f32> = values.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    let (weights, bias) = floats.split_at(classes * DIMENSIONS);
    Some(Classifier { weights: weights.to_vec(), bias: bias.to_vec() })
}

fn write_classifier(file: &Path, key: &Key, classifier: &Classifier) -> std::io::Result<()> {
    let mut bytes = CLASSIFIER_MAGIC.to_vec();
    bytes.extend_from_slice(key);
    for value in classifier.weights.iter().chain(&classifier.bias) {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    write_atomically(file, &bytes)
}

/// Every entry of a cache file; nothing when it is missing or not one.
fn read_file(file: &Path) -> Vec<(Key, Arc<[f32]>)> {
    let Ok(bytes) = std::fs::read(file) else { return Vec::new() };
    let Some(body) = bytes.strip_prefix(MAGIC.as_slice()) else { return Vec::new() };
    let record = 32 + DIMENSIONS * 4;
    body.chunks_exact(record)
        .map(|chunk| {
            let mut key = [0u8; 32];
            key.copy_from_slice(&chunk[..32]);
            let vector: Embedding =
                chunk[32..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            (key, vector.into())
        })
        .collect()
}

/// Writes the cache file whole, through a temporary file and a rename, so
/// a reader never sees half of one.
fn write_file(file: &Path, keys: &[Key], vectors: &[Arc<[f32]>]) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(MAGIC.len() + keys.len() * (32 + DIMENSIONS * 4));
    bytes.extend_from_slice(MAGIC);
    let mut seen = std::collections::HashSet::new();
    for (key, vector) in keys.iter().zip(vectors) {
        if seen.insert(key) {
            bytes.extend_from_slice(key);
            vector.iter().for_each(|value| bytes.extend_from_slice(&value.to_le_bytes()));
        }
    }
    write_atomically(file, &bytes)
}

/// Writes `file` whole, through a temporary file and a rename.
fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = file.parent().filter(|parent| !parent.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    // Unique per writer: processes sharing a cache (a fleet on one host, tests) never write one file at once.
    static WRITES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = file.with_extension(format!("tmp.{}.{n}", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_file_round_trips_and_garbage_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cache").join("embeddings.bin");
        let vector: Arc<[f32]> = (0..DIMENSIONS).map(|at| at as f32 / 7.0).collect::<Vec<_>>().into();
        write_file(&file, &[[1; 32], [1; 32], [2; 32]], &[vector.clone(), vector.clone(), vector.clone()]).unwrap();
        let read = read_file(&file);
        assert_eq!(read.len(), 2, "duplicates are written once");
        assert_eq!((read[0].0, &*read[0].1), ([1; 32], &*vector));
        std::fs::write(&file, b"not a cache").unwrap();
        assert!(read_file(&file).is_empty());
        assert!(read_file(&dir.path().join("missing")).is_empty());
    }
}
