//! all-MiniLM-L6-v2 in Rust: sentence-transformers' pipeline on gemm.
//!
//! Tokenize (the model's own `tokenizer.json`), run BERT (`bert`: packed,
//! no padding), mean-pool the last hidden states, L2-normalise. The weights
//! are read from a folder (`models/all-MiniLM-L6-v2/`, vendored as f16 and
//! widened to f32 on load: f32 arithmetic is what the CPU kernels are fast at).
//!
//! Loading is memoised per folder for the whole process (`shared`), so
//! every snapshot of a run shares one model and a failure is reported once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use tokenizers::{Tokenizer, TruncationParams};

use super::bert::{self, Bert};

/// Width of an embedding.
pub const DIMENSIONS: usize = 384;

/// sentence-transformers' `max_seq_length` for this model: longer text is cut.
const MAX_TOKENS: usize = 256;

/// Most tokens in one forward pass: bounds its buffers (a few MB), and makes
/// enough passes for a long embedding to share the cores and show progress.
const PASS_TOKENS: usize = 1024;

/// A sentence embedding, unit length.
pub type Embedding = Vec<f32>;

/// Why the model cannot be used: the bot then answers lexically.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} is not a usable all-MiniLM-L6-v2 file: {reason}")]
    Invalid { path: String, reason: String },
    #[error("the model failed on a message: {0}")]
    Inference(String),
}

/// The loaded model and its tokenizer.
pub struct MiniLm {
    bert: Bert,
    tokenizer: Tokenizer,
    /// The folder it was loaded from, for messages.
    pub(crate) dir: PathBuf,
    /// SHA-256 of its files: cached embeddings are keyed by it, so another
    /// model in the same folder never reads this one's.
    pub(crate) identity: [u8; 32],
}

impl MiniLm {
    /// Loads `config.json`, `tokenizer.json` and `model.safetensors` from `dir`.
    pub fn load(dir: &Path) -> Result<MiniLm, ModelError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path)
                .map_err(|err| ModelError::Read { path: path.display().to_string(), reason: err.to_string() })
        };
        let invalid =
            |name: &str, reason: String| ModelError::Invalid { path: dir.join(name).display().to_string(), reason };
        let config = bert::config(&read("config.json")?).map_err(|err| invalid("config.json", err))?;
        let mut tokenizer =
            Tokenizer::from_bytes(read("tokenizer.json")?).map_err(|err| invalid("tokenizer.json", err.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..TruncationParams::default() }))
            .map_err(|err| invalid("tokenizer.json", err.to_string()))?;
        tokenizer.with_padding(None);
        let weights = read("model.safetensors")?;
        let identity = {
            use sha2::{Digest, Sha256};
            let mut hasher = Sha256::new();
            hasher.update(read("config.json")?);
            hasher.update(read("tokenizer.json")?);
            hasher.update(&weights);
            hasher.finalize().into()
        };
        let bert = Bert::load(config, &weights).map_err(|err| invalid("model.safetensors", err))?;
        Ok(MiniLm { bert, tokenizer, dir: dir.to_path_buf(), identity })
    }

    /// The token ids the model reads for `text` ([CLS] … [SEP], at most 256).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let encoding = self.tokenizer.encode(text, true).map_err(|err| ModelError::Inference(err.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Embeds every text; the result is in the order given.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, ModelError> {
        self.embed_reporting(texts, &|_| {})
    }

    /// `embed`, telling `progress` how many texts are done after each pass.
    /// Many texts are spread over the cores, in passes of similar length
    /// (attention is per text, so long ones are best together).
    pub fn embed_reporting(
        &self,
        texts: &[&str],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<Embedding>, ModelError> {
        let ids = texts.iter().map(|text| self.token_ids(text)).collect::<Result<Vec<_>, _>>()?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&at| ids[at].len());
        let mut passes: Vec<&[usize]> = Vec::new();
        let (mut start, mut tokens) = (0, 0);
        for (end, &at) in order.iter().enumerate() {
            if tokens > 0 && tokens + ids[at].len() > PASS_TOKENS {
                passes.push(&order[start..end]);
                (start, tokens) = (end, 0);
            }
            tokens += ids[at].len();
        }
        if start < order.len() {
            passes.push(&order[start..]);
        }
        let run = |pass: &[usize]| -> Result<Vec<Embedding>, ModelError> {
            let rows: Vec<&[u32]> = pass.iter().map(|&at| ids[at].as_slice()).collect();
            self.bert.embed(&rows).map_err(ModelError::Inference)
        };
        let threads = std::thread::available_parallelism().map_or(1, usize::from).min(passes.len()).max(1);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || -> Result<Vec<(usize, Vec<Embedding>)>, ModelError> {
            let mut mine = Vec::new();
            loop {
                let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(pass) = passes.get(at) else { return Ok(mine) };
                mine.push((at, run(pass)?));
                progress(done.fetch_add(pass.len(), std::sync::atomic::Ordering::Relaxed) + pass.len());
            }
        };
        let finished: Vec<(usize, Vec<Embedding>)> = if threads == 1 {
            work()?
        } else {
            std::thread::scope(|scope| {
                let workers: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
                let mut all = Vec::new();
                for worker in workers {
                    let part =
                        worker.join().map_err(|_| ModelError::Inference("an embedding thread panicked".into()))?;
                    all.extend(part?);
                }
                Ok::<_, ModelError>(all)
            })?
        };
        let mut out = vec![Vec::new(); texts.len()];
        for (at, vectors) in finished {
            for (&text, vector) in passes[at].iter().zip(vectors) {
                out[text] = vector;
            }
        }
        Ok(out)
    }
}

/// The model in `dir`, loaded once per process; the same error every time
/// when it cannot be loaded.
pub fn shared(dir: &Path) -> Result<Arc<MiniLm>, ModelError> {
    type Loaded = HashMap<PathBuf, Result<Arc<MiniLm>, ModelError>>;
    static LOADED: OnceLock<Mutex<Loaded>> = OnceLock::new();
    let loaded = LOADED.get_or_init(Default::default);
    // A poisoned lock only means another thread panicked mid-load; the map is still sound.
    let mut loaded = loaded.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    loaded.entry(dir.to_path_buf()).or_insert_with(|| MiniLm::load(dir).map(Arc::new)).clone()
}

/// The folder of the vendored model, in this source tree.
pub fn vendored_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join("all-MiniLM-L6-v2")
}

/// Cosine of two unit vectors. Eight running sums, so the compiler can use
/// vector instructions (one sum would fix the order of every addition).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Reference {
        sentences: Vec<Sentence>,
    }

    #[derive(serde::Deserialize)]
    struct Sentence {
        text: String,
        token_ids: Vec<u32>,
        embedding: Vec<f32>,
    }

    /// Against vectors an independent implementation (numpy, the original
    /// f32 weights: `scripts/minilm_reference.py`) computed once.
    #[test]
    fn embeddings_match_the_reference_implementation() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/minilm/reference.json");
        let reference: Reference = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
        assert!(reference.sentences.len() >= 12);
        let model = shared(&vendored_dir()).expect("the vendored model loads");
        let texts: Vec<&str> = reference.sentences.iter().map(|s| s.text.as_str()).collect();
        let vectors = model.embed(&texts).unwrap();
        for (sentence, vector) in reference.sentences.iter().zip(&vectors) {
            assert_eq!(model.token_ids(&sentence.text).unwrap(), sentence.token_ids, "{}", sentence.text);
            let similarity = cosine(vector, &sentence.embedding);
            assert!(similarity >= 0.999, "{similarity} for {:?}", sentence.text);
            let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "unit length: {norm}");
        }
        // Batched or alone, a text embeds the same (padding is masked out).
        let alone = model.embed(&texts[..1]).unwrap();
        assert!(cosine(&alone[0], &vectors[0]) > 0.99999);
    }

    #[test]
    fn a_missing_or_broken_model_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = MiniLm::load(dir.path()).err().unwrap();
        assert!(missing.to_string().contains("config.json"), "{missing}");
        for name in ["config.json", "tokenizer.json"] {
            std::fs::copy(vendored_dir().join(name), dir.path().join(name)).unwrap();
        }
        std::fs::write(dir.path().join("model.safetensors"), b"\x08\0\0\0\0\0\0\0{}garbage").unwrap();
        let broken = MiniLm::load(dir.path()).err().unwrap();
        assert!(
            matches!(broken, ModelError::Invalid { .. }) && broken.to_string().contains("model.safetensors"),
            "{broken}"
        );
    }
}
