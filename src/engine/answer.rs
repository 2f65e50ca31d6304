//! Questions to answers: message understanding, search, the answer
//! decision, roadmap pointers.
//!
//! A message is searched whole and, when it has several segments (a
//! backstory and a question, two questions), segment by segment. Each
//! candidate's best passage gets a probability from the fitted `Decision`;
//! the most probable candidate answers when it clears the decision's
//! threshold, and another question segment whose own passage clears it too
//! adds a second answer. A message that names a roadmap phase is answered
//! with that phase. `ask_after` reads a short follow-up together with the
//! member's previous question.

use crate::engine::decision::{Decision, Features};
use crate::engine::knowledge::{Unit, UnitKind};
use crate::engine::matcher::{Matcher, Reading};
use crate::engine::message::{leans_on_earlier, segments, Leaning, Segment};
use crate::engine::phases;
use crate::engine::search::{Hit, QueryTerm, SearchIndex};
use crate::engine::snapshot::Snapshot;
use crate::engine::words::is_common_english;

/// Least coverage for a passage to be listed as related under an answer.
const RELATED_COVERAGE: f32 = 0.4;

/// The outcome of a question, before it is rendered for any surface.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub(crate) question: String,
    /// False when nothing answers the question with confidence; `hits` are
    /// then suggestions only.
    pub answered: bool,
    /// The decision's probability that `hits[0]` answers (0 to 1).
    pub confidence: f32,
    /// Best first. When answered, `hits[0]` is the answer and the next
    /// `related` hits are related passages.
    pub hits: Vec<Hit>,
    /// When not answered but in scope: the passages to offer as choices
    /// ("Is it one of these?"), best first, at most `CHOICES`. Empty when
    /// answered or when the decision is not sure enough of any.
    pub choices: Vec<Hit>,
    /// When declined outright: words of the message the knowledge never
    /// uses (lowercased), at most `NOT_COVERED`: what the reply can name as
    /// not covered ("salary", "leetcode").
    pub not_covered: Vec<String>,
    /// Roadmap phases related to the answer.
    pub(crate) pointers: Vec<u8>,
    /// Answers to further questions in the same message.
    pub more: Vec<Part>,
    /// How the decision read the message, for explanations (`ask --json`).
    pub candidates: Vec<Candidate>,
    /// Set when the message was a follow-up, read together with the
    /// member's previous question: the text that was answered.
    pub read_with_previous: Option<String>,
}

impl Answer {
    /// Partly covered: not answered, but the best passage is close enough to
    /// show as the closest the knowledge comes (the band of choices).
    pub fn partial(&self) -> bool {
        !self.answered && !self.choices.is_empty()
    }
}

/// The answer to one more question of a message.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub hit: Hit,
    pub pointers: Vec<u8>,
}

/// Whether a further question segment is answered by its own passage: the
/// decision is nearly as sure of it as of a whole message (short segments
/// score lower by nature), and that passage contains most of its weight.
fn answers_on_its_own(candidate: &Candidate, threshold: f32) -> bool {
    candidate.names_phase
        || (candidate.probability >= threshold - SECOND_QUESTION_SLACK
            && candidate.features.coverage >= SECOND_QUESTION_COVERAGE)
}

/// Whether the whole message's own search backs a question segment's passage:
/// it is among the whole message's best few hits, and contains a good part
/// of the segment's weight. A short second question ("and where do i
/// start?") scores low alone, but once the message is answered, agreement
/// between the two readings is enough to answer it too.
fn corroborated(candidate: &Candidate, whole: &Candidate) -> bool {
    let Some(top) = candidate.hits.first() else { return false };
    candidate.features.coverage >= CORROBORATED_COVERAGE
        && whole.hits.iter().take(CORROBORATING_HITS).any(|hit| hit.unit == top.unit)
}

/// How many of the whole message's hits may back a question segment's passage.
const CORROBORATING_HITS: usize = 3;

/// Least coverage of a second question by a passage the whole message backs.
const CORROBORATED_COVERAGE: f32 = 0.4;

/// How much less sure the decision may be of a second question than of the first.
const SECOND_QUESTION_SLACK: f32 = 0.1;

/// Least coverage of a second question by its own passage.
const SECOND_QUESTION_COVERAGE: f32 = 0.7;

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
}

/// How many passages an unsure reply offers.
pub const CHOICES: usize = 3;

/// Lexical hits considered for fusion with the matcher's ranking.
const FUSION_POOL: usize = 10;

/// The matcher's best passages that join the lexical ones in fusion.
const MATCHED: usize = 3;

/// How much the lexical score (relative to the best hit's) adds to the
/// matcher's probability when the two rankings are fused (tuned on the
/// chatty dev set: 0.25, 0.5 and 1.0 gave 97, 104 and 101 right with 30
/// examples per passage, and 1.0 kept every tidy question).
const LEXICAL_SHARE: f32 = 1.0;

/// How much the cosine to a passage's nearest training text adds: the
/// nearest example speaks for a member's exact phrasing, which the
/// regression averages away (dev: +1, tidy paraphrases +1).
const NEAREST_SHARE: f32 = 1.0;

/// The two rankings as one: each passage scores the matcher's probability,
/// plus `LEXICAL_SHARE` of its lexical score relative to the best lexical
/// hit, plus `NEAREST_SHARE` of its nearest training text's cosine. A passage only the matcher found keeps no lexical evidence
/// (score and coverage 0), so the decision sees that.
fn fuse(lexical: Vec<Hit>, reading: &Reading, matched: &[(usize, f32)], limit: usize) -> Vec<Hit> {
    let best = lexical.first().map_or(0.0, |hit| hit.score).max(f32::EPSILON);
    let mut pool = lexical;
    for &(unit, _) in matched {
        if !pool.iter().any(|hit| hit.unit == unit) {
            pool.push(Hit { unit, score: 0.0, coverage: 0.0 });
        }
    }
    let fused = |hit: &Hit| {
        reading.by_unit[hit.unit]
            + LEXICAL_SHARE * (hit.score.max(0.0) / best)
            + NEAREST_SHARE * reading.nearest_by_unit[hit.unit]
    };
    // Stable: ties keep the lexical order.
    pool.sort_by(|a, b| fused(b).total_cmp(&fused(a)));
    pool.truncate(limit);
    pool
}

/// Every reading of `question` the decision weighs: the whole message first,
/// then each segment when there are several.
pub fn candidates(snapshot: &Snapshot, question: &str, decision: &Decision) -> Vec<Candidate> {
    let settings = &snapshot.settings;
    let limit = 1 + settings.related.max(settings.suggestions);
    let parts = segments(question);
    let asks_at_all = parts.iter().any(|segment| segment.asks);
    let mut readings = vec![Segment { text: question.to_string(), asks: asks_at_all }];
    if parts.len() > 1 {
        // Only the parts that ask something can be what the member wants answered;
        // a backstory sentence matching a passage by chance must not answer.
        readings.extend(parts.into_iter().filter(|segment| segment.asks));
    }
    let segmented = readings.len() > 1;
    let semantic: Option<Vec<Reading>> = snapshot.matcher.as_ref().and_then(|matcher| {
        let spelled: Vec<String> = readings.iter().map(|reading| snapshot.index.spelled(&reading.text)).collect();
        let texts: Vec<&str> = spelled.iter().map(String::as_str).collect();
        matcher
            .read(&texts)
            .map_err(|err| tracing::warn!("the matcher failed on a message, answering lexically: {err}"))
            .ok()
    });
    readings
        .into_iter()
        .enumerate()
        .map(|(position, reading)| {
            let terms = snapshot.index.analyze(&reading.text);
            let semantic = semantic.as_ref().map(|readings| &readings[position]);
            let pool = if semantic.is_some() { limit.max(FUSION_POOL) } else { limit };
            let lexical = snapshot.index.search_terms(&terms, pool);
            let lexical_top = lexical.first().map(|hit| hit.unit);
            let semantic = semantic
                .filter(|_| snapshot.matcher.as_ref().is_some_and(|matcher| !beyond(matcher, &terms, lexical_top)));
            let (hits, matched) = match semantic {
                Some(semantic) => {
                    let matched = semantic.ranked(MATCHED);
                    (fuse(lexical, semantic, &matched, limit), matched)
                }
                None => (lexical.into_iter().take(limit).collect(), Vec::new()),
            };
            let mut features = Features::of(&terms, &hits, &snapshot.index, reading.asks, segmented && position > 0);
            let probability = match semantic {
                Some(semantic) => {
                    features.add_semantic(semantic, &hits, lexical_top, &matched);
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
            Candidate { text: reading.text, hits, features, probability, names_phase: false, matched }
        })
        .collect()
}

/// Whether a reading is beyond what the matcher learnt, so the search alone
/// judges it: its best passage has no examples (the matcher has no class
/// for it and would call it off-topic), or most of the weight of its words
/// the knowledge uses lies in words no training text has, as when an edit
/// adds a passage's first mention of something and a member asks about it.
fn beyond(matcher: &Matcher, terms: &[QueryTerm], lexical_top: Option<usize>) -> bool {
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
    known > 0.0 && novel >= NOVEL_SHARE * known
}

/// Whether a word says what a message is about: not common English, not a number.
fn telling(term: &QueryTerm) -> bool {
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

/// Share of a reading's known weight in words new to the matcher beyond
/// which the search alone judges it.
const NOVEL_SHARE: f32 = 0.5;

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

/// Answers `question` from `snapshot` with the configured decision (`AnswerSettings::decision`).
pub fn ask(snapshot: &Snapshot, question: &str) -> Answer {
    ask_with(snapshot, question, snapshot.decision())
}

/// Answers `question` with `decision`.
pub fn ask_with(snapshot: &Snapshot, question: &str, decision: &Decision) -> Answer {
    let threshold = snapshot.settings.min_confidence.unwrap_or(decision.threshold);
    let mut candidates = candidates(snapshot, question, decision);
    let segmented = candidates.len() > 1;
    // In a message of several segments, the question that names a phase is
    // the question about it. Only when no question names one or is answered
    // on its own ("phase 3 sounds scary. why is it hard?") does the phase
    // named in the message's context answer.
    for candidate in candidates.iter_mut().skip(usize::from(segmented)) {
        name_phase(snapshot, candidate, threshold);
    }
    if segmented && !candidates[1..].iter().any(|candidate| answers_on_its_own(candidate, threshold)) {
        name_phase(snapshot, &mut candidates[0], threshold);
    }
    for candidate in candidates.iter_mut().filter(|candidate| !candidate.names_phase) {
        prefer_titled_phase(snapshot, candidate);
    }
    // The whole message is always a candidate, so there is a best one. But
    // when several of its questions are each answered by a passage of their
    // own, those passages answer, not one passage that half fits the whole.
    let by_probability = |&a: &usize, &b: &usize| candidates[a].probability.total_cmp(&candidates[b].probability);
    let on_their_own: Vec<usize> =
        (1..candidates.len()).filter(|&at| answers_on_its_own(&candidates[at], threshold)).collect();
    let distinct_tops = on_their_own
        .iter()
        .filter_map(|&at| candidates[at].hits.first().map(|hit| &snapshot.knowledge.units[hit.unit].title))
        .collect::<std::collections::HashSet<_>>()
        .len();
    let best_at = if distinct_tops >= 2 {
        on_their_own.iter().copied().max_by(by_probability)
    } else {
        (0..candidates.len()).max_by(by_probability)
    };
    let hits = best_at.map(|at| candidates[at].hits.clone()).unwrap_or_default();
    let confidence = best_at.map_or(0.0, |at| candidates[at].probability);
    let answered = !hits.is_empty() && confidence >= threshold;
    let units = &snapshot.knowledge.units;
    let (hits, pointers, more) = if answered {
        let main_title = &units[hits[0].unit].title;
        // Another question of the message (a segment: every candidate after
        // the whole message asks something), answered by a passage of its own.
        let more: Vec<Part> = candidates
            .iter()
            .enumerate()
            .filter(|&(at, candidate)| {
                Some(at) != best_at
                    && at > 0
                    && (answers_on_its_own(candidate, threshold) || corroborated(candidate, &candidates[0]))
            })
            .filter_map(|(_, candidate)| candidate.hits.first().copied())
            .filter(|hit| &units[hit.unit].title != main_title)
            .take(1)
            .map(|hit| Part { hit, pointers: pointers(&units[hit.unit]) })
            .collect();
        let main_pointers = pointers(&units[hits[0].unit]);
        (related(snapshot, hits), main_pointers, more)
    } else {
        (suggestions(snapshot, hits), Vec::new(), Vec::new())
    };
    // In scope but unsure: the band just under the threshold, from the decision.
    let offers = !answered && decision.choices.is_some_and(|least| confidence >= least.min(threshold));
    let choices: Vec<Hit> = if offers { hits.iter().take(CHOICES).copied().collect() } else { Vec::new() };
    let not_covered = if answered || !choices.is_empty() { Vec::new() } else { not_covered(snapshot, question) };
    Answer {
        question: question.to_string(),
        answered,
        confidence,
        hits,
        choices,
        not_covered,
        pointers,
        more,
        candidates,
        read_with_previous: None,
    }
}

/// The answer a member chose among the choices offered for `question`: the
/// passage `unit`, with its roadmap pointers, as if the decision had been sure.
pub fn chosen(snapshot: &Snapshot, question: &str, unit: usize) -> Answer {
    let hit = Hit { unit, score: 0.0, coverage: 1.0 };
    Answer {
        question: question.to_string(),
        answered: true,
        confidence: 1.0,
        hits: vec![hit],
        choices: Vec::new(),
        not_covered: Vec::new(),
        pointers: pointers(&snapshot.knowledge.units[unit]),
        more: Vec::new(),
        candidates: Vec::new(),
        read_with_previous: None,
    }
}

/// Answers `question`, which the same member asked right after `previous`
/// (their last answered question, if recent). A short message that goes on
/// from it ("and phase 3?") and is not answered alone, or points back to it
/// ("how long does that take?"), is read together with it.
pub fn ask_after(snapshot: &Snapshot, previous: Option<&str>, question: &str) -> Answer {
    let alone = ask(snapshot, question);
    let leaning = leans_on_earlier(question);
    let Some(previous) = previous.filter(|_| leaning.is_some()) else { return alone };
    if alone.answered && leaning == Some(Leaning::Continues) {
        return alone;
    }
    // One sentence, so the previous question is context, not a question of its own to answer again.
    let previous = previous.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '?' | '!' | '.'));
    let read = format!("{previous} {question}");
    let together = ask(snapshot, &read);
    if !together.answered && alone.answered {
        return alone;
    }
    Answer { question: question.to_string(), read_with_previous: Some(read), ..together }
}

/// How many words a decline names as not covered.
const NOT_COVERED: usize = 3;

/// The words of `question` the knowledge never uses (nor a correction or
/// synonym of them), in the message's order: informative ones only, not
/// common English filler.
fn not_covered(snapshot: &Snapshot, question: &str) -> Vec<String> {
    snapshot
        .index
        .analyze(question)
        .into_iter()
        // Two letters name nothing a member would recognise ("ux", "js").
        .filter(|term| !term.known && term.word.chars().count() > 2 && telling(term))
        .map(|term| term.word)
        .take(NOT_COVERED)
        .collect()
}

/// "What happens in phase 3?" is answered by phase 3, whatever else shares
/// its words: a reading that names a phase gets it first, and is answered.
fn name_phase(snapshot: &Snapshot, candidate: &mut Candidate, threshold: f32) {
    let knowledge = &snapshot.knowledge;
    let Some(phase) = phases::named_phase(&candidate.text, knowledge).and_then(|n| knowledge.phase(n)) else {
        return;
    };
    let found = candidate.hits.iter().find(|hit| hit.unit == phase.unit).copied();
    put_first(&mut candidate.hits, found.unwrap_or(Hit { unit: phase.unit, score: 0.0, coverage: 1.0 }));
    candidate.probability = candidate.probability.max(threshold);
    candidate.names_phase = true;
}

/// "The applied phase" points to the phase titled "Applied Projects": when
/// the search found that phase for the reading at all, it comes first. Not
/// surely enough to answer on that alone ("the integration stage of our CI"),
/// so the probability stays the decision's.
fn prefer_titled_phase(snapshot: &Snapshot, candidate: &mut Candidate) {
    let knowledge = &snapshot.knowledge;
    let Some(phase) = phases::titled_phase(&candidate.text, knowledge).and_then(|n| knowledge.phase(n)) else {
        return;
    };
    if let Some(hit) = candidate.hits.iter().find(|hit| hit.unit == phase.unit).copied() {
        put_first(&mut candidate.hits, hit);
    }
}

/// Puts `hit` first in `hits` (once), scored at least as the first was.
fn put_first(hits: &mut Vec<Hit>, hit: Hit) {
    hits.retain(|other| other.unit != hit.unit);
    let score = hits.first().map_or(hit.score, |top| top.score.max(hit.score));
    hits.insert(0, Hit { score, ..hit });
}

/// The phases an answer points to: a phase itself, or what its content declares.
pub(crate) fn pointers(unit: &Unit) -> Vec<u8> {
    let mut phases = unit.phases.clone();
    if unit.kind == UnitKind::Overview {
        // The overview lists every phase; pointing at all of them adds nothing.
        phases.clear();
    }
    phases
}

/// Keeps the answer and the related hits that are themselves confident and
/// say something different (not another passage of the same heading).
fn related(snapshot: &Snapshot, hits: Vec<Hit>) -> Vec<Hit> {
    let settings = &snapshot.settings;
    let units = &snapshot.knowledge.units;
    let mut kept: Vec<Hit> = Vec::new();
    for hit in hits {
        let title = &units[hit.unit].title;
        let first = kept.is_empty();
        if first || (hit.coverage >= RELATED_COVERAGE && !kept.iter().any(|k| &units[k.unit].title == title)) {
            kept.push(hit);
        }
        if kept.len() > settings.related {
            break;
        }
    }
    kept
}

/// Distinct titles, best first, as suggestions for an unanswered question.
fn suggestions(snapshot: &Snapshot, hits: Vec<Hit>) -> Vec<Hit> {
    let units = &snapshot.knowledge.units;
    let mut kept: Vec<Hit> = Vec::new();
    for hit in hits {
        if !kept.iter().any(|k| units[k.unit].title == units[hit.unit].title) {
            kept.push(hit);
        }
    }
    kept.truncate(snapshot.settings.suggestions);
    kept
}
