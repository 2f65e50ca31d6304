//! Fitting the answer decision (`engine::decision`) on question sets.
//!
//! Every case yields its candidates (the whole message and its segments),
//! each labelled 1 when its best passage is a right answer and 0 otherwise
//! (off-topic cases, wrong passages). A logistic regression with a little L2
//! is fitted by gradient descent on those, then the operating point: the
//! lowest threshold at which at most `max_off_topic` of the sets' off-topic
//! cases get an answer, so precision comes first. The result is the text of
//! a decision file, with its figures in the header.

use std::fmt::Write as _;

use crate::engine::answer::{ask_with, candidates};
use crate::engine::decision::{Decision, FEATURES, FEATURE_NAMES};
use crate::engine::snapshot::Snapshot;
use crate::quality::eval::{fold, judge, Confusion, QuestionSet};

/// L2 strength: enough to keep weights sane on a few hundred cases.
const L2: f64 = 1e-3;
const ITERATIONS: usize = 20_000;
const LEARNING_RATE: f64 = 0.5;

/// A fitted decision and how it did on the sets it was fitted on.
pub(crate) struct Fitted {
    pub(crate) decision: Decision,
    pub(crate) confusion: Confusion,
    pub(crate) samples: usize,
}

/// Fits a decision on `sets` (named for the file header) over every one of
/// `snapshots` (the knowledge as shipped, and variants such as the same
/// knowledge without its hand-written vocabulary, so the decision serves both).
pub(crate) fn fit(snapshots: &[Snapshot], sets: &[(String, QuestionSet)], max_off_topic: f64) -> Fitted {
    let probe = Decision::shipped();
    let mut samples: Vec<([f64; FEATURES], f64)> = Vec::new();
    for snapshot in snapshots {
        for (_, set) in sets {
            for case in &set.cases {
                for candidate in candidates(snapshot, &case.question, probe) {
                    let right = !case.expect_none
                        && candidate.hits.first().is_some_and(|hit| {
                            let unit = &snapshot.knowledge.units[hit.unit];
                            let text = fold(&unit.text);
                            case.expect_any.iter().any(|phrase| text.contains(&fold(phrase)))
                        });
                    samples.push((candidate.features.values().map(f64::from), f64::from(u8::from(right))));
                }
            }
        }
    }
    let (bias, weights) = logistic_regression(&samples);
    let mut decision = Decision {
        threshold: 0.5,
        bias: bias as f32,
        weights: FEATURE_NAMES.iter().zip(weights).map(|(name, weight)| (name.to_string(), weight as f32)).collect(),
    };
    let off_topic: usize = snapshots.len()
        * sets.iter().map(|(_, set)| set.cases.iter().filter(|case| case.expect_none).count()).sum::<usize>();
    let allowed = (max_off_topic * off_topic as f64).floor() as usize;
    let mut best: Option<(f32, Confusion)> = None;
    for step in (5..=95).rev() {
        decision.threshold = step as f32 / 100.0;
        let mut verdicts = Vec::new();
        for snapshot in snapshots {
            for (_, set) in sets {
                for case in &set.cases {
                    verdicts.push(judge(snapshot, case, &ask_with(snapshot, &case.question, &decision)).verdict);
                }
            }
        }
        let confusion = Confusion::of(verdicts.into_iter());
        if confusion.off_topic_answered > allowed {
            break;
        }
        best = Some((decision.threshold, confusion));
    }
    let (threshold, confusion) = best.unwrap_or((0.95, Confusion::default()));
    decision.threshold = threshold;
    Fitted { decision, confusion, samples: samples.len() }
}

/// Bias and weights minimizing the mean log loss plus `L2`.
fn logistic_regression(samples: &[([f64; FEATURES], f64)]) -> (f64, [f64; FEATURES]) {
    let (mut bias, mut weights) = (0.0, [0.0; FEATURES]);
    if samples.is_empty() {
        return (bias, weights);
    }
    let n = samples.len() as f64;
    for _ in 0..ITERATIONS {
        let (mut grad_bias, mut grad) = (0.0, [0.0; FEATURES]);
        for (x, y) in samples {
            let z = bias + x.iter().zip(&weights).map(|(xi, wi)| xi * wi).sum::<f64>();
            let error = 1.0 / (1.0 + (-z).exp()) - y;
            grad_bias += error;
            for (g, xi) in grad.iter_mut().zip(x) {
                *g += error * xi;
            }
        }
        bias -= LEARNING_RATE * grad_bias / n;
        for (w, g) in weights.iter_mut().zip(grad) {
            *w -= LEARNING_RATE * (g / n + L2 * *w);
        }
    }
    (bias, weights)
}

/// The decision file for `fitted`, recording how and on what it was fitted.
pub(crate) fn decision_file(fitted: &Fitted, files: &[String], variants: &[String], max_off_topic: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# The answer decision (src/engine/decision.rs): a logistic regression over");
    let _ = writeln!(out, "# the features below, written by:");
    let variants: String = variants.iter().map(|dir| format!(" --variant {dir}")).collect();
    let _ = writeln!(out, "#   transition-bot fit --max-off-topic {max_off_topic}{variants} {}", files.join(" "));
    let _ = writeln!(out, "# {} candidates; on those sets (and variants) at this threshold:", fitted.samples);
    let _ = writeln!(out, "# {}", fitted.confusion.summary());
    let decision = &fitted.decision;
    let _ = writeln!(out, "threshold = {:.2}", decision.threshold);
    let _ = writeln!(out, "bias = {:.4}\n\n[weights]", decision.bias);
    for name in FEATURE_NAMES {
        let _ = writeln!(out, "{name} = {:.4}", decision.weights.get(name).copied().unwrap_or(0.0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_regression_separates_a_separable_set() {
        let mut samples = Vec::new();
        for i in 0..50 {
            let x = i as f64 / 50.0;
            let mut features = [0.0; FEATURES];
            features[0] = x;
            samples.push((features, f64::from(u8::from(x > 0.5))));
        }
        let (bias, weights) = logistic_regression(&samples);
        let p = |x: f64| 1.0 / (1.0 + (-(bias + weights[0] * x)).exp());
        assert!(p(0.9) > 0.8 && p(0.1) < 0.2, "{} {}", p(0.9), p(0.1));
    }
}
