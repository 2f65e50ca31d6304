//! Every reading of a message and what the decision makes of it: the whole
//! message and each segment that asks something, searched, read by the
//! matcher in one pass, the two rankings fused, and the features the
//! decision weighs (`Features::of`, `add_semantic`), scored into a
//! probability. `decide` (in the parent module) chooses among them.

use crate::engine::decision::{Decision, Features};
use crate::engine::matcher::{Matcher, Reading};
use crate::engine::message::{segments, Segment};
use crate::engine::policy::AnswerPolicy;
use crate::engine::search::{Hit, QueryTerm, SearchIndex};
use crate::engine::snapshot::Snapshot;
use crate::engine::words::is_common_english;

/// One way of reading a message: the whole of it or one segment, what the
/// search found for it, and what the decision makes of that.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub text: String,
    pub hits: Vec<Hit>,
    pub features: Features,
    pub probability: f32,
    /// The reading names a roadmap phase, which answers it.
    pub names_phase: bool,
    /// The matcher's best passages for this reading, with their
    /// probabilities (empty without a matcher).
    pub matched: Vec<(usize, f32)>,
    /// There is a matcher, but the reading is beyond what it learnt
    /// (`beyond`): the search alone judged it.
    pub matcher_abstained: bool,
}

/// The two rankings as one: each passage scores the matcher's probability,
/// plus the policy's `lexical_share` of its lexical score relative to the
/// best lexical hit, plus its `nearest_share` of its nearest training
/// text's cosine. A passage only the matcher found keeps no lexical evidence
/// (score and coverage 0), so the decision sees that.
fn fuse(
    lexical: Vec<Hit>,
    reading: &Reading,
    matched: &[(usize, f32)],
    limit: usize,
    policy: &AnswerPolicy,
) -> Vec<Hit> {
    let best = lexical.first().map_or(0.0, |hit| hit.score).max(f32::EPSILON);
    let mut pool = lexical;
    for &(unit, _) in matched {
        if !pool.iter().any(|hit| hit.unit == unit) {
            pool.push(Hit { unit, score: 0.0, coverage: 0.0 });
        }
    }
    let fused = |hit: &Hit| {
        reading.by_unit[hit.unit]
            + policy.lexical_share * (hit.score.max(0.0) / best)
            + policy.nearest_share * reading.nearest_by_unit[hit.unit]
    };
    // Stable: ties keep the lexical order.
    pool.sort_by(|a, b| fused(b).total_cmp(&fused(a)));
    pool.truncate(limit);
    pool
}

/// Every reading of `question` the decision weighs: the whole message first,
/// then each segment when there are several.
pub fn candidates(snapshot: &Snapshot, question: &str, decision: &Decision) -> Vec<Candidate> {
    let readings = readings(question);
    let semantic = read(snapshot, &[&readings]).pop().flatten();
    judge(snapshot, readings, semantic, decision)
}

/// The readings of `question`: the whole message, then each segment that
/// asks something when there are several.
pub(super) fn readings(question: &str) -> Vec<Segment> {
    let parts = segments(question);
    let asks_at_all = parts.iter().any(|segment| segment.asks);
    let mut readings = vec![Segment { text: question.to_string(), asks: asks_at_all }];
    if parts.len() > 1 {
        // Only the parts that ask something can be what the member wants answered;
        // a backstory sentence matching a passage by chance must not answer.
        readings.extend(parts.into_iter().filter(|segment| segment.asks));
    }
    readings
}

/// What the matcher makes of each group of readings, all read in one pass
/// of the model (a follow-up reads its own and the combined text's at
/// once); `None` per group without a matcher or when it failed.
pub(super) fn read(snapshot: &Snapshot, groups: &[&[Segment]]) -> Vec<Option<Vec<Reading>>> {
    let Some(matcher) = snapshot.matcher.as_ref() else { return vec![None; groups.len()] };
    let spelled: Vec<String> =
        groups.iter().flat_map(|group| group.iter()).map(|reading| snapshot.index.spelled(&reading.text)).collect();
    let texts: Vec<&str> = spelled.iter().map(String::as_str).collect();
    let Ok(read) = matcher
        .read(&texts)
        .map_err(|err| tracing::warn!("the matcher failed on a message, answering lexically: {err}"))
    else {
        return vec![None; groups.len()];
    };
    let mut read = read.into_iter();
    groups.iter().map(|group| Some(read.by_ref().take(group.len()).collect())).collect()
}

/// The candidates for `readings`, given what the matcher made of them.
pub(super) fn judge(
    snapshot: &Snapshot,
    readings: Vec<Segment>,
    semantic: Option<Vec<Reading>>,
    decision: &Decision,
) -> Vec<Candidate> {
    let settings = &snapshot.settings;
    let policy = settings.policy();
    let limit = 1 + settings.related.max(settings.suggestions);
    let segmented = readings.len() > 1;
    // What the matcher makes of the whole message (reading 0, judged first),
    // when it speaks for it: the context of each segment after it.
    let mut context_off_topic = 0.0;
    let mut candidates = Vec::with_capacity(readings.len());
    for (position, reading) in readings.into_iter().enumerate() {
        let terms = snapshot.index.analyze(&reading.text);
        let semantic = semantic.as_ref().map(|readings| &readings[position]);
        let pool = if semantic.is_some() { limit.max(policy.fusion_pool) } else { limit };
        let lexical = snapshot.index.search_terms(&terms, pool);
        let lexical_top = lexical.first().map(|hit| hit.unit);
        let abstains = snapshot.matcher.as_ref().is_some_and(|matcher| beyond(matcher, &terms, lexical_top, policy));
        let semantic = semantic.filter(|_| snapshot.matcher.is_some() && !abstains);
        if position == 0 {
            context_off_topic = semantic.map_or(0.0, |whole| whole.off_topic);
        }
        let (hits, matched) = match semantic {
            Some(semantic) => {
                let matched = semantic.ranked(policy.matched);
                (fuse(lexical, semantic, &matched, limit, policy), matched)
            }
            None => (lexical.into_iter().take(limit).collect(), Vec::new()),
        };
        let mut features = Features::of(&terms, &hits, &snapshot.index, reading.asks, segmented && position > 0);
        let probability = match semantic {
            Some(semantic) => {
                features.add_semantic(semantic, &hits, lexical_top, &matched);
                if position > 0 {
                    features.context_off_topic = context_off_topic;
                }
                if let (Some(matcher), Some(top)) = (&snapshot.matcher, hits.first()) {
                    features.unexplained = unexplained(matcher, &terms, top.unit);
                }
                decision.probability(&features)
            }
            None if snapshot.matcher.is_some() => {
                let lexical = settings.lexical_decision();
                on_scale_of(lexical.probability(&features), lexical.threshold, decision.threshold)
            }
            None => decision.probability(&features),
        };
        candidates.push(Candidate {
            text: reading.text,
            hits,
            features,
            probability,
            names_phase: false,
            matched,
            matcher_abstained: abstains,
        });
    }
    candidates
}

/// Whether a reading is beyond what the matcher learnt, so the search alone
/// judges it: its best passage has no examples (the matcher has no class
/// for it and would call it off-topic), or most of the weight of its words
/// the knowledge uses lies in words no training text has, as when an edit
/// adds a passage's first mention of something and a member asks about it.
fn beyond(matcher: &Matcher, terms: &[QueryTerm], lexical_top: Option<usize>, policy: &AnswerPolicy) -> bool {
    let Some(top) = lexical_top else { return false };
    if !matcher.knows_unit(top) {
        return true;
    }
    let known: f32 = terms.iter().filter(|term| term.known).map(|term| term.weight).sum();
    let novel: f32 = terms
        .iter()
        .filter(|term| term.known && !term.stems.iter().any(|stem| matcher.knows_stem(stem)))
        .map(|term| term.weight)
        .sum();
    known > 0.0 && novel >= policy.novel_share * known
}

/// Whether a word says what a message is about: not common English, not a number.
pub(super) fn telling(term: &QueryTerm) -> bool {
    !is_common_english(&term.word) && !term.word.chars().all(|c| c.is_ascii_digit())
}

/// `ln(1 + n)` of the reading's telling words (not common English, not
/// digits) that `unit`'s passage and training texts never use, under any
/// of their stems (a correction, a synonym).
fn unexplained(matcher: &Matcher, terms: &[QueryTerm], unit: usize) -> f32 {
    let count = terms
        .iter()
        .filter(|term| telling(term) && !term.stems.iter().any(|stem| matcher.unit_knows_stem(unit, stem)))
        .count();
    (count as f32).ln_1p()
}

/// `probability`, from a decision whose threshold is `from`, moved onto the
/// scale of one whose threshold is `to` by shifting its log-odds: it clears
/// `to` exactly when it cleared `from`, so candidates judged by either
/// decision compare.
fn on_scale_of(probability: f32, from: f32, to: f32) -> f32 {
    let logit = |p: f32| {
        let p = p.clamp(1e-6, 1.0 - 1e-6);
        (p / (1.0 - p)).ln()
    };
    1.0 / (1.0 + (-(logit(probability) - logit(from) + logit(to))).exp())
}

// Computed here rather than beside the model (`decision`), so that the
// model depends on nothing the settings depend on.
impl Features {
    /// The features of a search for `terms` that returned `hits`.
    pub(crate) fn of(terms: &[QueryTerm], hits: &[Hit], index: &SearchIndex, asks: bool, segment: bool) -> Features {
        let max_idf = index.max_idf().max(f32::EPSILON);
        let total: f32 = terms.iter().map(|term| term.weight).sum();
        let unknown: f32 = terms.iter().filter(|term| !term.known).map(|term| term.weight).sum();
        let rare = terms.iter().filter(|term| !term.known && !is_common_english(&term.word)).count();
        // No hit reads as a hit that explains nothing: every hit feature 0.
        let top = hits.first().copied().unwrap_or(Hit { unit: 0, score: 0.0, coverage: 0.0 });
        let second = hits.get(1).map_or(0.0, |hit| hit.score);
        Features {
            coverage: top.coverage,
            score: (top.score.max(0.0) / max_idf).ln_1p(),
            margin: if top.score > 0.0 { ((top.score - second) / top.score).clamp(0.0, 1.0) } else { 0.0 },
            matched: (top.coverage * total / max_idf).max(0.0).ln_1p(),
            unknown: if total > 0.0 { unknown / total } else { 1.0 },
            words: (terms.len() as f32).ln_1p(),
            asks: f32::from(u8::from(asks)),
            segment: f32::from(u8::from(segment)),
            known_coverage: if total > unknown { (top.coverage * total / (total - unknown)).min(1.0) } else { 0.0 },
            rare_unknown: (rare as f32).ln_1p(),
            uncurated: index.uncurated(),
            ..Features::default()
        }
    }

    /// Adds what the matcher makes of the reading whose fused hits are `hits`.
    fn add_semantic(&mut self, reading: &Reading, hits: &[Hit], lexical_top: Option<usize>, matched: &[(usize, f32)]) {
        let answer = hits.first().map(|hit| hit.unit);
        let matcher_top = matched.first().map(|&(unit, _)| unit);
        self.semantic = answer.map_or(0.0, |unit| reading.by_unit[unit]);
        self.semantic_top = matched.first().map_or(0.0, |&(_, p)| p);
        self.off_topic = reading.off_topic;
        self.agrees = f32::from(u8::from(lexical_top.is_some() && lexical_top == matcher_top));
        self.nearest = answer.map_or(0.0, |unit| reading.nearest_by_unit[unit]);
        self.nearest_off_topic = reading.nearest_off_topic;
        self.sentence = answer.map_or(0.0, |unit| reading.sentence_by_unit[unit]);
        self.knn_off_topic = reading.knn_off_topic;
    }
}
