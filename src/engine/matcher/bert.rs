//! all-MiniLM-L6-v2's encoder (BERT) written out on `gemm`, for speed.
//!
//! Every text of a call is packed into one matrix of tokens, with no
//! padding: the dense layers, most of the work, see each token alone, so a
//! message and its asking segments pay for their own tokens only, and only
//! attention runs text by text. Each call runs on one thread (the bot
//! answers at most one message per core, and a pass over a few dozen tokens
//! is too short to share); `embed` spreads long batches over the cores.
//! GELU is the exact erf form BERT's "gelu" means, through a rational
//! approximation accurate to f32 that the compiler can vectorise.

use half::f16;
use safetensors::tensor::{Dtype, SafeTensors};

/// The shape of the model, from its `config.json`.
#[derive(Clone, Debug, serde::Deserialize)]
pub(crate) struct Config {
    hidden_size: usize,
    num_attention_heads: usize,
    num_hidden_layers: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    layer_norm_eps: f32,
    #[serde(default = "default_act")]
    hidden_act: String,
}

fn default_eps() -> f32 {
    1e-12
}

fn default_act() -> String {
    "gelu".into()
}

/// A dense layer: `x · W + b`, with `W` stored inputs × outputs.
struct Linear {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

/// A layer norm's scale and shift.
struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    /// Query, key and value in one product (outputs: the three side by side).
    qkv: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
}

/// The encoder's weights.
pub(crate) struct Bert {
    config: Config,
    words: Vec<f32>,
    positions: Vec<f32>,
    /// Token type 0's embedding (every text is one segment).
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

/// Tensors by name, widened to f32.
struct Weights<'a> {
    tensors: SafeTensors<'a>,
    /// `bert.` when the file's names carry it.
    prefix: &'static str,
}

impl Weights<'_> {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let full = format!("{}{name}", self.prefix);
        let view = self.tensors.tensor(&full).map_err(|err| format!("{full}: {err}"))?;
        if view.shape() != shape {
            return Err(format!("{full} has shape {:?}, not {shape:?}", view.shape()));
        }
        let data = view.data();
        match view.dtype() {
            Dtype::F32 => Ok(data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
            Dtype::F16 => Ok(data.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect()),
            other => Err(format!("{full} is {other:?}, not f16 or f32")),
        }
    }

    fn linear(&self, name: &str, inputs: usize, outputs: usize) -> Result<Linear, String> {
        // Stored outputs × inputs (PyTorch's layout); kept inputs × outputs, so a product reads rows.
        let stored = self.get(&format!("{name}.weight"), &[outputs, inputs])?;
        let mut weight = vec![0.0; inputs * outputs];
        for output in 0..outputs {
            for input in 0..inputs {
                weight[input * outputs + output] = stored[output * inputs + input];
            }
        }
        Ok(Linear { weight, bias: self.get(&format!("{name}.bias"), &[outputs])?, inputs, outputs })
    }

    fn norm(&self, name: &str, width: usize) -> Result<Norm, String> {
        Ok(Norm {
            weight: self.get(&format!("{name}.weight"), &[width])?,
            bias: self.get(&format!("{name}.bias"), &[width])?,
        })
    }
}

impl Bert {
    /// The encoder from a safetensors file's bytes; the reason when it is not a BERT of `config`'s shape.
    pub(crate) fn load(config: Config, bytes: &[u8]) -> Result<Bert, String> {
        if config.hidden_act != "gelu" {
            return Err(format!("hidden_act {:?} is not supported (only gelu)", config.hidden_act));
        }
        if config.num_attention_heads == 0 || !config.hidden_size.is_multiple_of(config.num_attention_heads) {
            return Err("hidden_size is not a multiple of num_attention_heads".into());
        }
        let tensors = SafeTensors::deserialize(bytes).map_err(|err| err.to_string())?;
        let prefix = if tensors.names().iter().any(|name| name.starts_with("bert.")) { "bert." } else { "" };
        let weights = Weights { tensors, prefix };
        let hidden = config.hidden_size;
        let words = {
            let view = weights
                .tensors
                .tensor(&format!("{prefix}embeddings.word_embeddings.weight"))
                .map_err(|err| err.to_string())?;
            let vocabulary = view.shape().first().copied().unwrap_or(0);
            weights.get("embeddings.word_embeddings.weight", &[vocabulary, hidden])?
        };
        let positions =
            weights.get("embeddings.position_embeddings.weight", &[config.max_position_embeddings, hidden])?;
        let types = {
            let name = format!("{prefix}embeddings.token_type_embeddings.weight");
            let view = weights.tensors.tensor(&name).map_err(|err| err.to_string())?;
            weights
                .get("embeddings.token_type_embeddings.weight", &[view.shape().first().copied().unwrap_or(0), hidden])?
        };
        let token_type = types.get(..hidden).ok_or("no token type embeddings")?.to_vec();
        let embedding_norm = weights.norm("embeddings.LayerNorm", hidden)?;
        let layers = (0..config.num_hidden_layers)
            .map(|at| {
                let name = |part: &str| format!("encoder.layer.{at}.{part}");
                let [query, key, value] = ["query", "key", "value"]
                    .map(|part| weights.linear(&name(&format!("attention.self.{part}")), hidden, hidden));
                let (query, key, value) = (query?, key?, value?);
                let mut weight = Vec::with_capacity(hidden * hidden * 3);
                for input in 0..hidden {
                    for part in [&query, &key, &value] {
                        weight.extend_from_slice(&part.weight[input * hidden..(input + 1) * hidden]);
                    }
                }
                let bias = [&query, &key, &value].iter().flat_map(|part| part.bias.iter().copied()).collect();
                Ok(Layer {
                    qkv: Linear { weight, bias, inputs: hidden, outputs: hidden * 3 },
                    attention_out: weights.linear(&name("attention.output.dense"), hidden, hidden)?,
                    attention_norm: weights.norm(&name("attention.output.LayerNorm"), hidden)?,
                    intermediate: weights.linear(&name("intermediate.dense"), hidden, config.intermediate_size)?,
                    output: weights.linear(&name("output.dense"), config.intermediate_size, hidden)?,
                    output_norm: weights.norm(&name("output.LayerNorm"), hidden)?,
                })
            })
            .collect::<Result<Vec<Layer>, String>>()?;
        Ok(Bert { config, words, positions, token_type, embedding_norm, layers })
    }

    /// Mean-pooled, unit-length embeddings of token sequences (each at
    /// most `max_position_embeddings` long, every id in the vocabulary).
    pub(crate) fn embed(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>, String> {
        let hidden = self.config.hidden_size;
        let vocabulary = self.words.len() / hidden;
        for text in texts {
            if text.len() > self.config.max_position_embeddings {
                return Err(format!(
                    "{} tokens, more than the model's {}",
                    text.len(),
                    self.config.max_position_embeddings
                ));
            }
            if let Some(id) = text.iter().find(|&&id| id as usize >= vocabulary) {
                return Err(format!("token id {id} is outside the vocabulary"));
            }
        }
        let tokens: usize = texts.iter().map(|text| text.len()).sum();
        let mut x = Vec::with_capacity(tokens * hidden);
        for text in texts {
            for (position, &id) in text.iter().enumerate() {
                let word = &self.words[id as usize * hidden..][..hidden];
                let place = &self.positions[position * hidden..][..hidden];
                x.extend((0..hidden).map(|at| word[at] + place[at] + self.token_type[at]));
            }
        }
        layer_norm(&mut x, &self.embedding_norm, self.config.layer_norm_eps);
        let mut scratch = Scratch::default();
        for layer in &self.layers {
            self.layer(layer, &mut x, texts, &mut scratch);
        }
        let mut out = Vec::with_capacity(texts.len());
        let mut start = 0;
        for text in texts {
            let mut pooled = vec![0.0f32; hidden];
            for row in x[start * hidden..(start + text.len()) * hidden].chunks_exact(hidden) {
                pooled.iter_mut().zip(row).for_each(|(sum, value)| *sum += value);
            }
            let count = text.len().max(1) as f32;
            pooled.iter_mut().for_each(|value| *value /= count);
            let norm = pooled.iter().map(|value| value * value).sum::<f32>().sqrt().max(1e-12);
            pooled.iter_mut().for_each(|value| *value /= norm);
            out.push(pooled);
            start += text.len();
        }
        Ok(out)
    }

    fn layer(&self, layer: &Layer, x: &mut [f32], texts: &[&[u32]], scratch: &mut Scratch) {
        let hidden = self.config.hidden_size;
        let heads = self.config.num_attention_heads;
        let width = hidden / heads;
        let rows = x.len() / hidden;
        layer.qkv.apply(x, rows, &mut scratch.qkv);
        scratch.context.clear();
        scratch.context.resize(rows * hidden, 0.0);
        let scale = 1.0 / (width as f32).sqrt();
        let mut start = 0;
        for text in texts {
            let n = text.len();
            scratch.scores.clear();
            scratch.scores.resize(n * n, 0.0);
            for head in 0..heads {
                let qkv = &scratch.qkv[start * hidden * 3..];
                let (query, key, value) = (head * width, hidden + head * width, 2 * hidden + head * width);
                // scores = q · kᵀ (n × n), read in place from the packed rows.
                // SAFETY: every stride and extent below stays inside `qkv` (n rows of 3 × hidden) and `scores` (n × n).
                unsafe {
                    gemm::gemm(
                        n,
                        n,
                        width,
                        scratch.scores.as_mut_ptr(),
                        1,
                        n as isize,
                        false,
                        qkv.as_ptr().add(query),
                        1,
                        (hidden * 3) as isize,
                        qkv.as_ptr().add(key),
                        (hidden * 3) as isize,
                        1,
                        0.0,
                        scale,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
                for row in scratch.scores.chunks_exact_mut(n) {
                    softmax(row);
                }
                // context rows of this head = scores · v.
                let context = &mut scratch.context[start * hidden + head * width..];
                // SAFETY: as above; the destination is n rows of `hidden`, this head's `width` columns.
                unsafe {
                    gemm::gemm(
                        n,
                        width,
                        n,
                        context.as_mut_ptr(),
                        1,
                        hidden as isize,
                        false,
                        scratch.scores.as_ptr(),
                        1,
                        n as isize,
                        qkv.as_ptr().add(value),
                        1,
                        (hidden * 3) as isize,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    );
                }
            }
            start += n;
        }
        layer.attention_out.apply(&scratch.context, rows, &mut scratch.projected);
        x.iter_mut().zip(&scratch.projected).for_each(|(value, added)| *value += added);
        layer_norm(x, &layer.attention_norm, self.config.layer_norm_eps);
        layer.intermediate.apply(x, rows, &mut scratch.intermediate);
        gelu(&mut scratch.intermediate);
        layer.output.apply(&scratch.intermediate, rows, &mut scratch.projected);
        x.iter_mut().zip(&scratch.projected).for_each(|(value, added)| *value += added);
        layer_norm(x, &layer.output_norm, self.config.layer_norm_eps);
    }
}

/// Buffers one pass reuses from layer to layer.
#[derive(Default)]
struct Scratch {
    qkv: Vec<f32>,
    context: Vec<f32>,
    scores: Vec<f32>,
    projected: Vec<f32>,
    intermediate: Vec<f32>,
}

impl Linear {
    /// `out = x · W + b` for `rows` rows of `x`.
    fn apply(&self, x: &[f32], rows: usize, out: &mut Vec<f32>) {
        debug_assert_eq!(x.len(), rows * self.inputs);
        out.clear();
        for _ in 0..rows {
            out.extend_from_slice(&self.bias);
        }
        // SAFETY: `x` is rows × inputs, `weight` inputs × outputs and `out` rows × outputs, all row-major.
        unsafe {
            gemm::gemm(
                rows,
                self.outputs,
                self.inputs,
                out.as_mut_ptr(),
                1,
                self.outputs as isize,
                true,
                x.as_ptr(),
                1,
                self.inputs as isize,
                self.weight.as_ptr(),
                1,
                self.outputs as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

fn layer_norm(x: &mut [f32], norm: &Norm, eps: f32) {
    let width = norm.weight.len();
    for row in x.chunks_exact_mut(width) {
        let mean = row.iter().sum::<f32>() / width as f32;
        let variance = row.iter().map(|value| (value - mean) * (value - mean)).sum::<f32>() / width as f32;
        let scale = 1.0 / (variance + eps).sqrt();
        for ((value, weight), bias) in row.iter_mut().zip(&norm.weight).zip(&norm.bias) {
            *value = (*value - mean) * scale * weight + bias;
        }
    }
}

/// Logits to probabilities, in place (attention rows, and the classifier's).
pub(super) fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for value in row.iter_mut() {
        *value = (*value - max).exp();
        sum += *value;
    }
    row.iter_mut().for_each(|value| *value /= sum);
}

/// GELU, `x · Φ(x)`, with the exact erf.
fn gelu(values: &mut [f32]) {
    for value in values.iter_mut() {
        *value = 0.5 * *value * (1.0 + erf(*value * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// erf for f32: a rational function of x on [-4, 4] (beyond it erf is ±1 in
/// f32), as Eigen and XLA compute it; branch-free, so loops over it vectorise.
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10f32;
    for alpha in [2.770_681_4e-8, -2.101_024_e-6, -5.692_506_4e-5, -7.349_906_3e-4, -2.954_600_1e-3, -1.609_603_3e-2] {
        p = p * x2 + alpha;
    }
    let mut q = -1.456_607_2e-5f32;
    for beta in [-2.133_740_6e-4, -1.682_827e-3, -7.373_329_2e-3, -1.426_473_9e-2] {
        q = q * x2 + beta;
    }
    x * p / q
}

/// Reads `config.json`'s fields the encoder needs.
pub(crate) fn config(bytes: &[u8]) -> Result<Config, String> {
    serde_json::from_slice(bytes).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_the_error_function_to_f32_precision() {
        // erf at a few points (from the series; A&S table 7.1).
        for (x, expected) in [
            (0.0f32, 0.0f64),
            (0.1, 0.112_462_916),
            (0.5, 0.520_499_878),
            (1.0, 0.842_700_793),
            (2.0, 0.995_322_265),
            (3.5, 0.999_999_257),
        ] {
            assert!((f64::from(erf(x)) - expected).abs() < 2e-7, "erf({x}) = {}", erf(x));
            assert!((f64::from(erf(-x)) + expected).abs() < 2e-7, "odd at {x}");
        }
        assert_eq!(erf(9.0), erf(4.0));
    }

    #[test]
    fn softmax_rows_sum_to_one_and_keep_order() {
        let mut row = [1.0, 3.0, 2.0];
        softmax(&mut row);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(row[1] > row[2] && row[2] > row[0]);
    }
}
