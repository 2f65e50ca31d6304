//! A softmax regression over sentence embeddings: one weight row per class.
//!
//! Trained full-batch with Adam from zero weights for a fixed number of
//! steps (which is what keeps it from overfitting), with each class weighing the same whatever its number of texts
//! (off-topic examples outnumber any passage's): deterministic, and fast
//! enough to train at every build. The two products per step run on
//! `gemm`, which the encoder uses too; an ML framework for one linear layer
//! cost more to compile than the rest of the engine.

use super::bert::softmax;
use super::model::DIMENSIONS;

/// A fixed budget of steps is the only regulariser: on the chatty dev set an
/// L2 penalty (1e-4) flattened the probabilities and cost 8 right answers.
const STEPS: usize = 600;
const LEARNING_RATE: f32 = 0.05;
const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-8;

/// Trained weights: `classes × DIMENSIONS`, row-major, and a bias per class.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Classifier {
    pub(crate) weights: Vec<f32>,
    pub(crate) bias: Vec<f32>,
}

/// Adam's running moments for one parameter.
struct Moments {
    mean: Vec<f32>,
    square: Vec<f32>,
}

impl Moments {
    fn new(len: usize) -> Moments {
        Moments { mean: vec![0.0; len], square: vec![0.0; len] }
    }

    /// One Adam step of `params` along `grads`, the `step`th (from 1).
    fn step(&mut self, params: &mut [f32], grads: &[f32], step: i32) {
        let correction1 = 1.0 - BETA1.powi(step);
        let correction2 = 1.0 - BETA2.powi(step);
        for (((param, grad), mean), square) in params.iter_mut().zip(grads).zip(&mut self.mean).zip(&mut self.square) {
            *mean = BETA1 * *mean + (1.0 - BETA1) * grad;
            *square = BETA2 * *square + (1.0 - BETA2) * grad * grad;
            *param -= (*mean / correction1) / ((*square / correction2).sqrt() + EPSILON) * LEARNING_RATE;
        }
    }
}

impl Classifier {
    /// Fits `vectors` (unit length) to `labels` (class indices below `classes`).
    pub(super) fn train(vectors: &[std::sync::Arc<[f32]>], labels: &[usize], classes: usize) -> Classifier {
        let n = vectors.len();
        let x: Vec<f32> = vectors.iter().flat_map(|vector| vector.iter().copied()).collect();
        let mut counts = vec![0usize; classes];
        labels.iter().for_each(|&label| counts[label] += 1);
        let present = counts.iter().filter(|&&count| count > 0).count().max(1) as f32;
        let sample_weights: Vec<f32> = labels.iter().map(|&label| 1.0 / (counts[label] as f32 * present)).collect();
        let mut weights = vec![0f32; classes * DIMENSIONS];
        let mut bias = vec![0f32; classes];
        let (mut weight_moments, mut bias_moments) = (Moments::new(weights.len()), Moments::new(classes));
        let mut g = vec![0f32; n * classes];
        let mut weight_grads = vec![0f32; weights.len()];
        let mut bias_grads = vec![0f32; classes];
        for step in 1..=STEPS {
            // g = (softmax(x · wᵀ + b) − y) · sample weight, row by row.
            for row in g.chunks_exact_mut(classes) {
                row.copy_from_slice(&bias);
            }
            // SAFETY: x is n × D row-major; wᵀ is read as D × classes
            // (column stride D, row stride 1) from the classes × D rows; g is
            // n × classes row-major.
            unsafe {
                gemm::gemm(
                    n,
                    classes,
                    DIMENSIONS,
                    g.as_mut_ptr(),
                    1,
                    classes as isize,
                    true,
                    x.as_ptr(),
                    1,
                    DIMENSIONS as isize,
                    weights.as_ptr(),
                    DIMENSIONS as isize,
                    1,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            for ((row, &label), &weight) in g.chunks_exact_mut(classes).zip(labels).zip(&sample_weights) {
                softmax(row);
                row[label] -= 1.0;
                row.iter_mut().for_each(|value| *value *= weight);
            }
            // SAFETY: gᵀ is read as classes × n (column stride classes, row
            // stride 1); x is n × D row-major; the gradient classes × D row-major.
            unsafe {
                gemm::gemm(
                    classes,
                    DIMENSIONS,
                    n,
                    weight_grads.as_mut_ptr(),
                    1,
                    DIMENSIONS as isize,
                    false,
                    g.as_ptr(),
                    classes as isize,
                    1,
                    x.as_ptr(),
                    1,
                    DIMENSIONS as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            bias_grads.iter_mut().for_each(|value| *value = 0.0);
            for row in g.chunks_exact(classes) {
                bias_grads.iter_mut().zip(row).for_each(|(total, value)| *total += value);
            }
            weight_moments.step(&mut weights, &weight_grads, step as i32);
            bias_moments.step(&mut bias, &bias_grads, step as i32);
        }
        Classifier { weights, bias }
    }

    /// The probability of each class for `vector`.
    pub(super) fn probabilities(&self, vector: &[f32]) -> Vec<f32> {
        let mut logits: Vec<f32> = self
            .bias
            .iter()
            .zip(self.weights.chunks_exact(DIMENSIONS))
            .map(|(bias, row)| bias + row.iter().zip(vector).map(|(w, x)| w * x).sum::<f32>())
            .collect();
        softmax(&mut logits);
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
        let first = Classifier::train(&vectors, &labels, 3);
        let again = Classifier::train(&vectors, &labels, 3);
        assert_eq!(first.weights, again.weights, "deterministic");
        for (at, label) in labels.iter().enumerate() {
            let p = first.probabilities(&vectors[at]);
            assert!(p[*label] > 0.8, "{p:?}");
        }
    }
}
