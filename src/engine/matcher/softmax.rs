//! A softmax regression over sentence embeddings: one weight row per class.
//!
//! Trained full-batch with Adam from zero weights for a fixed number of
//! steps (which is what keeps it from overfitting), with each class weighing the same whatever its number of texts
//! (off-topic examples outnumber any passage's): deterministic, and fast
//! enough to train at every build (candle's matrix products).

use candle_core::{DType, Device, Tensor};

use super::model::DIMENSIONS;

/// A fixed budget of steps is the only regulariser: on the chatty dev set an
/// L2 penalty (1e-4) flattened the probabilities and cost 8 right answers.
const STEPS: usize = 600;
const LEARNING_RATE: f64 = 0.05;
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

/// Trained weights: `classes × DIMENSIONS`, row-major, and a bias per class.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Classifier {
    pub(crate) weights: Vec<f32>,
    pub(crate) bias: Vec<f32>,
}

impl Classifier {
    /// Fits `vectors` (unit length) to `labels` (class indices below `classes`).
    pub(super) fn train(
        vectors: &[std::sync::Arc<[f32]>],
        labels: &[usize],
        classes: usize,
    ) -> candle_core::Result<Classifier> {
        let device = Device::Cpu;
        let n = vectors.len();
        let flat: Vec<f32> = vectors.iter().flat_map(|vector| vector.iter().copied()).collect();
        let x = Tensor::from_vec(flat, (n, DIMENSIONS), &device)?;
        let mut counts = vec![0usize; classes];
        labels.iter().for_each(|&label| counts[label] += 1);
        let present = counts.iter().filter(|&&count| count > 0).count().max(1) as f32;
        let mut targets = vec![0f32; n * classes];
        let mut weights = vec![0f32; n];
        for (at, &label) in labels.iter().enumerate() {
            targets[at * classes + label] = 1.0;
            weights[at] = 1.0 / (counts[label] as f32 * present);
        }
        let y = Tensor::from_vec(targets, (n, classes), &device)?;
        let sample_weights = Tensor::from_vec(weights, (n, 1), &device)?;
        let mut w = Tensor::zeros((classes, DIMENSIONS), DType::F32, &device)?;
        let mut b = Tensor::zeros((1, classes), DType::F32, &device)?;
        let (mut mw, mut vw) = (w.zeros_like()?, w.zeros_like()?);
        let (mut mb, mut vb) = (b.zeros_like()?, b.zeros_like()?);
        for step in 1..=STEPS {
            let logits = x.matmul(&w.t()?)?.broadcast_add(&b)?;
            let p = candle_nn::ops::softmax_last_dim(&logits)?;
            let g = (p - &y)?.broadcast_mul(&sample_weights)?;
            let gw = g.t()?.matmul(&x)?;
            let gb = g.sum_keepdim(0)?;
            let correction1 = 1.0 - BETA1.powi(step as i32);
            let correction2 = 1.0 - BETA2.powi(step as i32);
            let adam = |param: &Tensor, grad: &Tensor, m: &mut Tensor, v: &mut Tensor| -> candle_core::Result<Tensor> {
                *m = ((&*m * BETA1)? + (grad * (1.0 - BETA1))?)?;
                *v = ((&*v * BETA2)? + (grad.sqr()? * (1.0 - BETA2))?)?;
                let m_hat = (&*m / correction1)?;
                let v_hat = (&*v / correction2)?;
                param - ((m_hat / (v_hat.sqrt()? + EPSILON)?)? * LEARNING_RATE)?
            };
            w = adam(&w, &gw, &mut mw, &mut vw)?;
            b = adam(&b, &gb, &mut mb, &mut vb)?;
        }
        Ok(Classifier { weights: w.flatten_all()?.to_vec1()?, bias: b.squeeze(0)?.to_vec1()? })
    }

    /// The probability of each class for `vector`.
    pub(super) fn probabilities(&self, vector: &[f32]) -> Vec<f32> {
        let mut logits: Vec<f32> = self
            .bias
            .iter()
            .zip(self.weights.chunks_exact(DIMENSIONS))
            .map(|(bias, row)| bias + row.iter().zip(vector).map(|(w, x)| w * x).sum::<f32>())
            .collect();
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut total = 0.0;
        for logit in &mut logits {
            *logit = (*logit - max).exp();
            total += *logit;
        }
        logits.iter_mut().for_each(|p| *p /= total);
        logits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn unit(at: usize) -> Arc<[f32]> {
        let mut vector = vec![0.0; DIMENSIONS];
        vector[at] = 1.0;
        vector.into()
    }

    #[test]
    fn it_learns_separable_classes_the_same_way_every_time() {
        let vectors = vec![unit(0), unit(1), unit(2), unit(0), unit(1)];
        let labels = [0, 1, 2, 0, 1];
        let first = Classifier::train(&vectors, &labels, 3).unwrap();
        let again = Classifier::train(&vectors, &labels, 3).unwrap();
        assert_eq!(first.weights, again.weights, "deterministic");
        for (at, label) in labels.iter().enumerate() {
            let p = first.probabilities(&vectors[at]);
            assert!(p[*label] > 0.8, "{p:?}");
        }
    }
}
