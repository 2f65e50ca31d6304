//! all-MiniLM-L6-v2 in Rust: sentence-transformers' pipeline on candle.
//!
//! Tokenize (the model's own `tokenizer.json`), run BERT
//! (candle-transformers), mean-pool the last hidden states over the
//! attention mask, L2-normalise. The weights are read from a folder
//! (`models/all-MiniLM-L6-v2/`, vendored as f16 and widened to f32 on load:
//! f32 arithmetic is what the CPU kernels are fast at).
//!
//! Loading is memoised per folder for the whole process (`shared`), so
//! every snapshot of a run shares one model and a failure is reported once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

/// Width of an embedding.
pub const DIMENSIONS: usize = 384;

/// sentence-transformers' `max_seq_length` for this model: longer text is cut.
const MAX_TOKENS: usize = 256;

/// Texts embedded in one forward pass: padding is to the longest of a batch,
/// so batches are formed from texts of similar length.
const BATCH: usize = 32;

/// Most texts × tokens² in one batch: 32 texts of 64 tokens, or 2 of 256.
const ATTENTION_BUDGET: usize = 32 * 64 * 64;

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
    bert: BertModel,
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
        let config: Config =
            serde_json::from_slice(&read("config.json")?).map_err(|err| invalid("config.json", err.to_string()))?;
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
        let vars = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .map_err(|err| invalid("model.safetensors", err.to_string()))?;
        let bert = BertModel::load(vars, &config).map_err(|err| invalid("model.safetensors", err.to_string()))?;
        Ok(MiniLm { bert, tokenizer, dir: dir.to_path_buf(), identity })
    }

    /// The token ids the model reads for `text` ([CLS] … [SEP], at most 256).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, ModelError> {
        let encoding = self.tokenizer.encode(text, true).map_err(|err| ModelError::Inference(err.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Embeds every text; the result is in the order given.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Embedding>, ModelError> {
        let ids = texts.iter().map(|text| self.token_ids(text)).collect::<Result<Vec<_>, _>>()?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&at| ids[at].len());
        let mut out = vec![Vec::new(); texts.len()];
        // Attention holds batch × tokens² scores per head: long texts go in small batches.
        let mut batches: Vec<&[usize]> = Vec::new();
        let mut start = 0;
        for end in 1..=order.len() {
            let full = end == order.len()
                || end - start == BATCH
                || (end - start + 1) * ids[order[end]].len().pow(2) > ATTENTION_BUDGET;
            if full {
                batches.push(&order[start..end]);
                start = end;
            }
        }
        for batch in batches {
            let rows: Vec<&[u32]> = batch.iter().map(|&at| ids[at].as_slice()).collect();
            let vectors = self.forward(&rows).map_err(|err| ModelError::Inference(err.to_string()))?;
            for (&at, vector) in batch.iter().zip(vectors) {
                out[at] = vector;
            }
        }
        Ok(out)
    }

    /// One padded batch through BERT, mean-pooled and normalised.
    fn forward(&self, rows: &[&[u32]]) -> candle_core::Result<Vec<Embedding>> {
        let width = rows.iter().map(|row| row.len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(rows.len() * width);
        let mut mask = Vec::with_capacity(rows.len() * width);
        for row in rows {
            ids.extend(row.iter().copied().chain(std::iter::repeat(0)).take(width));
            mask.extend((0..width).map(|at| u32::from(at < row.len())));
        }
        let shape = (rows.len(), width);
        let ids = Tensor::from_vec(ids, shape, &Device::Cpu)?;
        let mask = Tensor::from_vec(mask, shape, &Device::Cpu)?;
        let hidden = self.bert.forward(&ids, &ids.zeros_like()?, Some(&mask))?;
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let pooled = summed.broadcast_div(&mask.sum(1)?)?;
        let norms = pooled.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f32::MAX)?;
        pooled.broadcast_div(&norms)?.to_vec2::<f32>()
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
