//! Fitting the answer decision (`engine::decision`) on question sets.
//!
//! Two stages. First, over the knowledge as shipped: every case yields its
//! candidates (the whole message and its segments), each labelled 1 when its
//! best passage is a right answer and 0 otherwise (off-topic cases, wrong
//! passages); a logistic regression with a little L2 is fitted by gradient
//! descent on those, then the operating point: the lowest threshold at which
//! at most `max_off_topic` of the sets' off-topic cases get an answer, so
//! precision comes first; and the band below it where an unsure reply
//! offers choices, down to the lowest bound at which at most `max_offered`
//! of each set's off-topic cases get an answer or choices. A set with a
//! limit of its own (`max_off_topic_in`: real people's questions, whose
//! off-topic cases are harder) is judged by that limit alone, and left out
//! of the band's rule, since a partly-covered reply to it is honest.
//! Second, over variants of the knowledge (such as the same docs without
//! their hand-written vocabulary): the weight of
//! `uncurated`, which shifts the decision for plainer docs, is the largest
//! at which every variant still answers at most `max_off_topic` of its
//! off-topic cases. The shipped knowledge's decision barely moves; plain
//! docs stop being declined for scoring lower by nature. With `keep_weights`
//! the first stage keeps the weights of the decision in use and only chooses the threshold
//! again: a change that moves every score (new synonyms, say) need not
//! relearn what separates right from wrong. The result is the text of a
//! decision file, with its figures in the header.

use std::fmt::Write as _;

use crate::engine::answer::{ask_with, candidates};
use crate::engine::decision::{Decision, FEATURES, FEATURE_NAMES, UNCURATED};
use crate::engine::snapshot::Snapshot;
use crate::quality::eval::{fold, judge, Confusion, Outcome, QuestionSet};

/// L2 strength: enough to keep weights sane on a few hundred cases.
const L2: f64 = 1e-3;
const ITERATIONS: usize = 20_000;
const LEARNING_RATE: f64 = 0.5;

/// The `uncurated` weights tried, in steps of this, up to `MAX_SHIFT`.
const SHIFT_STEP: f32 = 0.1;
const MAX_SHIFT: f32 = 4.0;

/// How `fit` chooses the decision.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Largest share of the sets' off-topic cases that may get an answer.
    pub(crate) max_off_topic: f64,
    /// Largest share of them that may get an answer or choices: sets the
    /// lower bound of the band where an unsure reply offers choices.
    pub(crate) max_offered: f64,
    /// Keep the shipped weights; choose only the threshold and the `uncurated` shift.
    pub(crate) keep_weights: bool,
    /// Sets (by name) whose off-topic cases have a limit of their own,
    /// instead of a share of `max_off_topic`, and are left out of the band's
    /// rule: a set of real questions, whose off-topic cases are harder, may
    /// allow more than writers' sets.
    pub(crate) max_off_topic_in: Vec<(String, f64)>,
}

/// A fitted decision and how it did on the sets it was fitted on.
pub(crate) struct Fitted {
    pub(crate) decision: Decision,
    pub(crate) confusion: Confusion,
    pub(crate) samples: usize,
}

/// Fits a decision on `sets` (named for the file header): the first of
/// `snapshots` is the knowledge as shipped, the others variants of it that
/// the decision must serve as well (see the module docs).
pub(crate) fn fit(snapshots: &[Snapshot], sets: &[(String, QuestionSet)], options: &Options) -> Fitted {
    let (main, variants) = snapshots.split_at(snapshots.len().min(1));
    // The decision in use (a configured file's, or the shipped one): its
    // weights are kept with `keep_weights`, and features do not depend on it.
    let probe: &Decision = match main.first() {
        Some(snapshot) => snapshot.decision(),
        None => Decision::shipped(),
    };
    let mut samples: Vec<([f64; FEATURES], f64)> = Vec::new();
    for snapshot in main {
        for (_, set) in sets {
            // A borderline case may be answered or not: it teaches neither way.
            for case in set.cases.iter().filter(|case| !case.borderline) {
                for candidate in candidates(snapshot, &case.question, probe) {
                    let right = !case.expect_none
                        && candidate.hits.first().is_some_and(|hit| {
                            let unit = &snapshot.knowledge.units[hit.unit];
                            let text = fold(&unit.text);
                            case.expect_any.iter().any(|phrase| text.contains(&fold(phrase)))
                        });
                    let mut values = candidate.features.values().map(f64::from);
                    // Constant over one knowledge base: left to the second stage.
                    values[UNCURATED] = 0.0;
                    samples.push((values, f64::from(u8::from(right))));
                }
            }
        }
    }
    let mut decision = if options.keep_weights {
        let mut kept = probe.clone();
        kept.weights.insert(FEATURE_NAMES[UNCURATED].to_string(), 0.0);
        kept
    } else {
        let (bias, weights) = logistic_regression(&samples);
        Decision {
            threshold: 0.5,
            choices: None,
            bias: bias as f32,
            weights: FEATURE_NAMES
                .iter()
                .zip(weights)
                .map(|(name, weight)| (name.to_string(), weight as f32))
                .collect(),
        }
    };
    let own_limits: Vec<(&(String, QuestionSet), usize)> = sets
        .iter()
        .filter_map(|set| {
            let share = options.max_off_topic_in.iter().find(|(name, _)| *name == set.0)?.1;
            Some((set, (share * off_topic_cases(std::slice::from_ref(set)) as f64).floor() as usize))
        })
        .collect();
    // The other sets share `max_off_topic`; a set with a limit of its own is judged by that alone.
    let shared: Vec<(String, QuestionSet)> =
        sets.iter().filter(|set| !own_limits.iter().any(|(own, _)| own.0 == set.0)).cloned().collect();
    let allowed = (options.max_off_topic * off_topic_cases(&shared) as f64).floor() as usize;
    let within = |snapshots: &[Snapshot], decision: &Decision| {
        snapshots.iter().all(|snapshot| {
            confusion(snapshot, &shared, decision).off_topic_answered <= allowed
                && own_limits.iter().all(|&(set, allowed)| {
                    confusion(snapshot, std::slice::from_ref(set), decision).off_topic_answered <= allowed
                })
        })
    };
    decision.threshold = 0.95;
    for step in (5..=95).rev() {
        let lower = Decision { threshold: step as f32 / 100.0, ..decision.clone() };
        if !within(main, &lower) {
            break;
        }
        decision = lower;
    }
    if !variants.is_empty() {
        let mut shift = 0.0;
        while shift + SHIFT_STEP <= MAX_SHIFT {
            let mut shifted = decision.clone();
            shifted.weights.insert(FEATURE_NAMES[UNCURATED].to_string(), shift + SHIFT_STEP);
            if !within(snapshots, &shifted) {
                break;
            }
            shift += SHIFT_STEP;
            decision = shifted;
        }
    }
    // The band of choices: its lower bound is the lowest at which at most
    // `max_offered` of each set's off-topic cases get an answer or choices.
    // Each set on its own: the chatty set's hard off-topic cases must not
    // hide behind the tidy sets' easy ones.
    // A set with a limit of its own (real questions) is left out: there a
    // partly-covered reply to an off-topic question is honest, not noise.
    // With no other set, all of them keep the band in check.
    let banded: &[(String, QuestionSet)] = if shared.is_empty() { sets } else { &shared };
    let offered_within = |decision: &Decision| {
        snapshots.iter().all(|snapshot| {
            banded.iter().all(|set| {
                let allowed = (options.max_offered * off_topic_cases(std::slice::from_ref(set)) as f64).floor();
                let confusion = confusion(snapshot, std::slice::from_ref(set), decision);
                (confusion.off_topic_answered + confusion.off_topic_offered) as f64 <= allowed.max(0.0)
            })
        })
    };
    decision.choices = None;
    let top = (decision.threshold * 100.0).round() as usize;
    for step in (1..=top).rev() {
        let lower = Decision { choices: Some(step as f32 / 100.0), ..decision.clone() };
        if !offered_within(&lower) {
            break;
        }
        decision = lower;
    }
    let all = Confusion::of(
        snapshots.iter().flat_map(|snapshot| outcomes(snapshot, sets, &decision)).collect::<Vec<_>>().iter(),
    );
    Fitted { decision, confusion: all, samples: samples.len() }
}

/// How many cases of `sets` are off-topic.
fn off_topic_cases(sets: &[(String, QuestionSet)]) -> usize {
    sets.iter().map(|(_, set)| set.cases.iter().filter(|case| case.expect_none).count()).sum()
}

/// How `decision` does on `sets` over `snapshot`.
fn confusion(snapshot: &Snapshot, sets: &[(String, QuestionSet)], decision: &Decision) -> Confusion {
    Confusion::of(outcomes(snapshot, sets, decision).iter())
}

/// What happens to every case of `sets` over `snapshot` with `decision`.
fn outcomes(snapshot: &Snapshot, sets: &[(String, QuestionSet)], decision: &Decision) -> Vec<Outcome> {
    sets.iter()
        .flat_map(|(_, set)| &set.cases)
        .map(|case| judge(snapshot, case, &ask_with(snapshot, &case.question, decision)))
        .collect()
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
pub(crate) fn decision_file(fitted: &Fitted, files: &[String], variants: &[String], options: &Options) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# The answer decision (src/engine/decision.rs): a logistic regression over");
    let _ = writeln!(out, "# the features below, written by:");
    let variants: String = variants.iter().map(|dir| format!(" --variant {dir}")).collect();
    let keep = if options.keep_weights { " --keep-weights" } else { "" };
    let own: String =
        options.max_off_topic_in.iter().map(|(file, share)| format!(" --max-off-topic-in {file}={share}")).collect();
    let _ = writeln!(
        out,
        "#   transition-bot fit --max-off-topic {} --max-offered {}{keep}{own}{variants} {}",
        options.max_off_topic,
        options.max_offered,
        files.join(" ")
    );
    let _ = writeln!(out, "# {} candidates; on those sets (and variants, added up) at this threshold:", fitted.samples);
    let _ = writeln!(out, "# {}", fitted.confusion.summary());
    let decision = &fitted.decision;
    let _ = writeln!(out, "threshold = {:.2}", decision.threshold);
    if let Some(choices) = decision.choices {
        let _ = writeln!(out, "choices = {choices:.2}");
    }
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
