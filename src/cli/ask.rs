//! `transition-bot ask`: one question, as text or as the `--json` object.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::output::line;
use crate::cli::service;
use crate::config::Config;
use crate::conversation::answering::{self, Place};
use crate::engine::answer::Answer;
use crate::engine::decision::FEATURE_NAMES;
use crate::engine::snapshot::Snapshot;
use crate::ops::events::Surface;
use crate::ops::telemetry::Telemetry;

/// Answers one question, from the knowledge and the approved learned
/// examples, through the answering path every surface uses and
/// reports it to telemetry as the terminal surface (`chat`, a long-running
/// session, also keeps its questions in the question log).
pub(crate) fn run(config: &Config, question: &str, json: bool) -> anyhow::Result<ExitCode> {
    let snapshot = service::load_live_snapshot(config)?;
    let answered = answering::answer(&snapshot, question);
    Telemetry::default().question(answered.event(Surface::Terminal, Place::default(), true));
    let text = answered.reply.clone().clamp().to_text();
    if json {
        line(&serde_json::to_string_pretty(&AskJson::new(&snapshot, &answered.answer, text))?)?;
    } else {
        line(&text)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The `ask --json` output.
#[derive(Debug, Serialize)]
pub struct AskJson {
    pub(crate) question: String,
    pub(crate) answered: bool,
    /// Partly covered: not answered, but the closest passage is shown (with `choices`).
    pub(crate) partial: bool,
    /// When declined outright: the message's words the knowledge never uses.
    pub(crate) not_covered: Vec<String>,
    pub(crate) reply: String,
    pub(crate) hits: Vec<HitJson>,
    pub(crate) pointers: Vec<PointerJson>,
    /// The decision's probability that the answer (or the closest passage) answers.
    pub(crate) confidence: f32,
    /// Ids of the passages answering further questions of the message.
    pub(crate) more: Vec<String>,
    /// How the decision read the message: the whole, then each asking segment.
    pub(crate) candidates: Vec<CandidateJson>,
    /// When unsure but in scope, the passages offered ("Is it one of these?").
    pub(crate) choices: Vec<ChoiceJson>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChoiceJson {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) text: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct CandidateJson {
    pub(crate) text: String,
    pub(crate) probability: f32,
    pub(crate) top: Option<String>,
    pub(crate) coverage: f32,
    /// The decision's inputs, by name.
    pub(crate) features: BTreeMap<&'static str, f32>,
    /// What the search found for this reading, fused with the matcher's ranking, best first.
    pub(crate) hits: Vec<CandidateHitJson>,
    /// The semantic matcher's best passages for this reading (empty without one).
    pub(crate) matched: Vec<MatchedJson>,
    /// The matcher's probability that nothing here answers (0 without one).
    pub(crate) off_topic: f32,
}

#[derive(Debug, Serialize)]
pub(crate) struct MatchedJson {
    pub(crate) id: String,
    pub(crate) probability: f32,
}

#[derive(Debug, Serialize)]
pub(crate) struct CandidateHitJson {
    pub(crate) id: String,
    pub(crate) score: f32,
    pub(crate) coverage: f32,
    pub(crate) text: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct HitJson {
    pub(crate) id: String,
    pub(crate) kind: &'static str,
    pub(crate) title: String,
    pub(crate) text: String,
    pub(crate) score: f32,
}

#[derive(Debug, Serialize)]
pub(crate) struct PointerJson {
    pub(crate) phase: u8,
    pub(crate) title: String,
}

impl AskJson {
    pub fn new(snapshot: &Snapshot, answer: &Answer, reply: String) -> AskJson {
        let units = &snapshot.knowledge.units;
        let hits = answer
            .hits
            .iter()
            .map(|hit| {
                let unit = &units[hit.unit];
                HitJson {
                    id: unit.id.clone(),
                    kind: unit.kind.as_str(),
                    title: unit.title.clone(),
                    text: unit.text.clone(),
                    score: hit.score,
                }
            })
            .collect();
        let pointers = answer
            .pointers
            .iter()
            .filter_map(|&n| snapshot.knowledge.phase(n))
            .map(|p| PointerJson { phase: p.number, title: p.title.clone() })
            .collect();
        let more = answer.more.iter().map(|part| units[part.hit.unit].id.clone()).collect();
        let candidates = answer
            .candidates
            .iter()
            .map(|candidate| CandidateJson {
                top: candidate.hits.first().map(|hit| units[hit.unit].id.clone()),
                coverage: candidate.features.coverage,
                features: FEATURE_NAMES.iter().copied().zip(candidate.features.values()).collect(),
                hits: candidate
                    .hits
                    .iter()
                    .map(|hit| CandidateHitJson {
                        id: units[hit.unit].id.clone(),
                        score: hit.score,
                        coverage: hit.coverage,
                        text: units[hit.unit].text.clone(),
                    })
                    .collect(),
                matched: candidate
                    .matched
                    .iter()
                    .map(|&(unit, probability)| MatchedJson { id: units[unit].id.clone(), probability })
                    .collect(),
                off_topic: candidate.features.off_topic,
                probability: candidate.probability,
                text: candidate.text.clone(),
            })
            .collect();
        AskJson {
            question: answer.question.clone(),
            answered: answer.answered,
            partial: answer.partial(),
            not_covered: answer.not_covered.clone(),
            reply,
            choices: answer
                .choices
                .iter()
                .map(|hit| {
                    let unit = &units[hit.unit];
                    ChoiceJson { id: unit.id.clone(), title: unit.title.clone(), text: unit.text.clone() }
                })
                .collect(),
            hits,
            pointers,
            confidence: answer.confidence,
            more,
            candidates,
        }
    }
}
