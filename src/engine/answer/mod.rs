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
//! member's previous question. How each reading is searched, read by the
//! matcher and scored is `candidates`; choosing among them is here.
//!
//! The rules' tuned numbers are data (`AnswerPolicy`, `policy.toml`); an
//! answer carries its trace (`Answer::candidates`, `Answer::rule`), which
//! the trace tests (`tests.rs`) pin rule by rule.

mod candidates;

use crate::engine::decision::Decision;
use crate::engine::knowledge::{Unit, UnitKind};
use crate::engine::message::{leans_on_earlier, Leaning};
use crate::engine::phases;
use crate::engine::policy::AnswerPolicy;
use crate::engine::search::Hit;
use crate::engine::snapshot::Snapshot;
pub use candidates::{candidates, Candidate};
use candidates::{judge, read, readings, telling};

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
    /// uses (lowercased), at most the policy's `not_covered`: what the reply can name as
    /// not covered ("salary", "leetcode").
    pub not_covered: Vec<String>,
    /// Roadmap phases related to the answer.
    pub(crate) pointers: Vec<u8>,
    /// Answers to further questions in the same message.
    pub more: Vec<Part>,
    /// How the decision read the message, for explanations (`ask --json`)
    /// and the trace tests: every reading weighed, whole message first.
    pub candidates: Vec<Candidate>,
    /// Which rule decided the outcome: the trace's conclusion.
    pub rule: Rule,
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

/// Which rule decided an answer's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The most probable reading (the whole message or one of its
    /// questions) cleared the decision's threshold.
    Confident,
    /// The answering reading names a roadmap phase, which answers it.
    NamedPhase,
    /// Several questions of the message are each answered by a passage of
    /// their own: the surest of them answers, not one passage that half
    /// fits the whole.
    OwnQuestions,
    /// Not sure enough to answer, sure enough to offer the closest passages
    /// as choices (partly covered).
    Choices,
    /// Nothing answers: declined, naming the words the knowledge never uses.
    Declined,
    /// A member picked the passage among the choices offered (`chosen`).
    Picked,
}

/// The answer to one more question of a message.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub hit: Hit,
    pub pointers: Vec<u8>,
    /// Why it is answered too.
    pub rule: SecondRule,
}

/// Why a further question of a message is answered beside the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondRule {
    /// Its own passage answers it (`answers_on_its_own`).
    OnItsOwn,
    /// The whole message's search backs its passage (`corroborated`).
    Corroborated,
}

/// Whether a further question segment is answered by its own passage: the
/// decision is nearly as sure of it as of a whole message (short segments
/// score lower by nature), and that passage contains most of its weight.
fn answers_on_its_own(candidate: &Candidate, threshold: f32, policy: &AnswerPolicy) -> bool {
    candidate.names_phase
        || (candidate.probability >= threshold - policy.second_question_slack
            && candidate.features.coverage >= policy.second_question_coverage)
}

/// Whether the whole message's own search backs a question segment's passage:
/// it is among the whole message's best few hits, and contains a good part
/// of the segment's weight. A short second question ("and where do i
/// start?") scores low alone, but once the message is answered, agreement
/// between the two readings is enough to answer it too.
fn corroborated(candidate: &Candidate, whole: &Candidate, policy: &AnswerPolicy) -> bool {
    let Some(top) = candidate.hits.first() else { return false };
    candidate.features.coverage >= policy.corroborated_coverage
        && whole.hits.iter().take(policy.corroborating_hits).any(|hit| hit.unit == top.unit)
}

/// How many passages an unsure reply offers: a count of buttons the reply
/// shows, not a tuned number, so not in the policy.
pub const CHOICES: usize = 3;

/// Answers `question` from `snapshot` with the configured decision (`AnswerSettings::decision`).
pub fn ask(snapshot: &Snapshot, question: &str) -> Answer {
    ask_with(snapshot, question, snapshot.decision())
}

/// Answers `question` with `decision`; the answer carries its trace.
pub fn ask_with(snapshot: &Snapshot, question: &str, decision: &Decision) -> Answer {
    decide(snapshot, question, candidates(snapshot, question, decision), decision)
}

/// The answer to `question`, whose readings the decision weighed as `candidates`.
fn decide(snapshot: &Snapshot, question: &str, mut candidates: Vec<Candidate>, decision: &Decision) -> Answer {
    let policy = snapshot.settings.policy();
    let threshold = snapshot.settings.min_confidence.unwrap_or(decision.threshold);
    let segmented = candidates.len() > 1;
    // In a message of several segments, the question that names a phase is
    // the question about it. Only when no question names one or is answered
    // on its own ("phase 3 sounds scary. why is it hard?") does the phase
    // named in the message's context answer.
    for candidate in candidates.iter_mut().skip(usize::from(segmented)) {
        name_phase(snapshot, candidate, threshold);
    }
    if segmented && !candidates[1..].iter().any(|candidate| answers_on_its_own(candidate, threshold, policy)) {
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
        (1..candidates.len()).filter(|&at| answers_on_its_own(&candidates[at], threshold, policy)).collect();
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
            .filter(|&(at, _)| Some(at) != best_at && at > 0)
            .filter_map(|(_, candidate)| {
                let rule = if answers_on_its_own(candidate, threshold, policy) {
                    SecondRule::OnItsOwn
                } else if corroborated(candidate, &candidates[0], policy) {
                    SecondRule::Corroborated
                } else {
                    return None;
                };
                Some((candidate.hits.first().copied()?, rule))
            })
            .filter(|(hit, _)| &units[hit.unit].title != main_title)
            .take(1)
            .map(|(hit, rule)| Part { hit, pointers: pointers(&units[hit.unit]), rule })
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
    let rule = match best_at.map(|at| &candidates[at]) {
        _ if !answered && !choices.is_empty() => Rule::Choices,
        _ if !answered => Rule::Declined,
        Some(best) if best.names_phase => Rule::NamedPhase,
        _ if distinct_tops >= 2 => Rule::OwnQuestions,
        _ => Rule::Confident,
    };
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
        rule,
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
        rule: Rule::Picked,
        read_with_previous: None,
    }
}

/// Answers `question`, which the same member asked right after `previous`
/// (their last answered question, if recent). A short message that goes on
/// from it ("and phase 3?") and is not answered alone, or points back to it
/// ("how long does that take?"), is read together with it. Both readings
/// are weighed from one pass of the model.
pub fn ask_after(snapshot: &Snapshot, previous: Option<&str>, question: &str) -> Answer {
    let Some((previous, leaning)) = follow_up(previous, question) else { return ask(snapshot, question) };
    let decision = snapshot.decision();
    let combined = format!("{previous} {question}");
    let (alone, together) = (readings(question), readings(&combined));
    let mut semantic = read(snapshot, &[&alone, &together]).into_iter();
    let (alone_semantic, together_semantic) = (semantic.next().flatten(), semantic.next().flatten());
    let alone = decide(snapshot, question, judge(snapshot, alone, alone_semantic, decision), decision);
    if alone.answered && leaning == Leaning::Continues {
        return alone;
    }
    let together = decide(snapshot, &combined, judge(snapshot, together, together_semantic, decision), decision);
    if !together.answered && alone.answered {
        return alone;
    }
    Answer { question: question.to_string(), read_with_previous: Some(combined), ..together }
}

/// Whether `question` is a follow-up to `previous` (a member's last
/// answered question), and how it leans on it: the one place that decides
/// it, for `ask_after` and for the front ends that answer a follow-up
/// nobody addressed to the bot. The previous question comes back trimmed
/// of its closing punctuation, so that read with the follow-up it is one
/// sentence: context, not a question of its own to answer again.
pub(crate) fn follow_up<'a>(previous: Option<&'a str>, question: &str) -> Option<(&'a str, Leaning)> {
    let leaning = leans_on_earlier(question)?;
    let previous = previous?.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '?' | '!' | '.'));
    Some((previous, leaning))
}

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
        .take(snapshot.settings.policy().not_covered)
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
        if first
            || (hit.coverage >= settings.policy().related_coverage
                && !kept.iter().any(|k| &units[k.unit].title == title))
        {
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

#[cfg(test)]
mod tests;
