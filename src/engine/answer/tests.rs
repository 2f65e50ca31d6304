//! Trace tests: one per answering rule, each a message, a tiny knowledge
//! folder in memory, and the trace the answer carries (every reading
//! weighed, and the rule that decided) pinned with `expect!`. A change to a
//! rule or to `policy.toml` shows here as a diff a reviewer can read,
//! without a full eval. `UPDATE_EXPECT=1 cargo test --lib answer::tests`
//! rewrites the expectations; read each one before committing it.

use std::fmt::Write;
use std::sync::LazyLock;

use expect_test::{expect, Expect};

use super::{ask, ask_after, Answer};
use crate::engine::decision::Features;
use crate::engine::settings::AnswerSettings;
use crate::engine::snapshot::Snapshot;

/// A short guide: every section one passage, each on its own subject.
const GUIDE: &str = "\
# Career Change Guide

## How long the transition takes

A transition into AI engineering usually takes twelve to eighteen months of steady part-time study alongside a full-time job.

## Do you need a degree

You do not need a degree or a PhD. Employers look at shipped projects and a portfolio far more than at diplomas.

## Where to start

Start by reading how models are used inside real products, then build small working systems of your own.

## Portfolio projects

Build two or three small projects that run under real conditions: retrieval, evaluation and deployment. Store embeddings in pgvector.

## Managers

Engineering managers moving into AI should learn enough to judge model trade-offs and how a team evaluates them.
";

/// A roadmap of three phases, for the rules that name one.
const ROADMAP: &str = "\
+++
kind = \"roadmap\"
months = 12
+++
# Learning Plan

The plan has three phases, each building on the last.

## Phase 1: Foundations

Read case studies and learn how models are used in products.

## Phase 2: Building

Build small systems with retrieval and evaluation.

## Phase 3: Production

Deploy, monitor and maintain a system under real load.
";

/// Example messages per passage, and off-topic ones: with these the
/// knowledge gets a matcher. None uses "pgvector", which the portfolio
/// passage mentions: new content the matcher has not learnt.
const EXAMPLES: &str = "\
+++
kind = \"examples\"
+++
# Examples

## guide/how-long-the-transition-takes
- how long does it take to switch into ai
- how many months until i can work as an ai engineer
- is a year enough to move into ai
- timeline for becoming an ai engineer?

## guide/do-you-need-a-degree
- do i need a masters degree for ai jobs
- is a phd required to be an ai engineer
- can i get hired without a computer science degree

## guide/where-to-start
- where should i begin
- what is the first thing to learn
- how do i get started with ai as a developer

## guide/portfolio-projects
- what should i build to show my skills
- which projects look good on a resume
- ideas for side projects that impress employers

## guide/managers
- i manage a team, what should i learn about ai
- advice for engineering managers moving to ai

## Off-topic
- what salary does an ai engineer make
- best pizza in town?
- how do i negotiate a raise
- any tips for a leetcode interview
";

fn sources(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files.iter().map(|(name, text)| (name.to_string(), text.to_string())).collect()
}

/// The guide and the roadmap, answered by the search alone.
static LEXICAL: LazyLock<Snapshot> = LazyLock::new(|| {
    Snapshot::from_sources(&sources(&[("guide.md", GUIDE), ("roadmap.md", ROADMAP)]), AnswerSettings::default())
        .expect("the lexical knowledge builds")
});

/// The guide with examples: the shipped model's matcher fused with the search.
static MATCHED: LazyLock<Snapshot> = LazyLock::new(|| {
    let files = [("guide.md", GUIDE), ("roadmap.md", ROADMAP), ("examples.md", EXAMPLES)];
    let snapshot = Snapshot::from_sources(&sources(&files), AnswerSettings::default()).expect("the knowledge builds");
    assert!(snapshot.matcher().is_some(), "no matcher: {:?}", snapshot.matcher_problem);
    snapshot
});

/// Asks `message` of the lexical knowledge and compares the trace.
fn check(message: &str, expect: Expect) {
    expect.assert_eq(&trace(&LEXICAL, message, &ask(&LEXICAL, message)));
}

/// Asks `message` of the knowledge with a matcher and compares the trace.
fn check_matched(message: &str, expect: Expect) {
    expect.assert_eq(&trace(&MATCHED, message, &ask(&MATCHED, message)));
}

/// Asks `message` right after `previous` and compares the trace.
fn check_after(previous: &str, message: &str, expect: Expect) {
    expect.assert_eq(&trace(&MATCHED, message, &ask_after(&MATCHED, Some(previous), message)));
}

/// The trace as a few lines: how the message was spelled and read, each
/// reading's best passage with its coverage and probability (and what the
/// matcher made of it), the rule that decided, and the outcome.
fn trace(snapshot: &Snapshot, message: &str, answer: &Answer) -> String {
    let id = |unit: usize| snapshot.knowledge.units[unit].id.as_str();
    let mut out = String::new();
    let spelled = snapshot.index.spelled(message);
    if spelled != message {
        let _ = writeln!(out, "spelled: {spelled}");
    }
    if let Some(read) = &answer.read_with_previous {
        let _ = writeln!(out, "read with previous: {read}");
    }
    for candidate in &answer.candidates {
        let top = candidate.hits.first().map_or("-", |hit| id(hit.unit));
        let _ = write!(
            out,
            "{:?}: {top} coverage {:.2} p {:.2}",
            candidate.text, candidate.features.coverage, candidate.probability
        );
        if let Some(&(unit, probability)) = candidate.matched.first() {
            let _ =
                write!(out, ", matcher {} {probability:.2} off-topic {:.2}", id(unit), candidate.features.off_topic);
        }
        if candidate.matcher_abstained {
            let _ = write!(out, ", matcher abstained");
        }
        if candidate.names_phase {
            let _ = write!(out, ", names a phase");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "rule: {:?}", answer.rule);
    if answer.answered {
        let _ = writeln!(out, "answer: {} ({:.2})", id(answer.hits[0].unit), answer.confidence);
    }
    for part in &answer.more {
        let _ = writeln!(out, "more: {} ({:?})", id(part.hit.unit), part.rule);
    }
    if !answer.choices.is_empty() {
        let choices: Vec<&str> = answer.choices.iter().map(|hit| id(hit.unit)).collect();
        let _ = writeln!(out, "choices: {} ({:.2})", choices.join(", "), answer.confidence);
    }
    if !answer.not_covered.is_empty() {
        let _ = writeln!(out, "not covered: {}", answer.not_covered.join(", "));
    }
    out
}

#[test]
fn a_whole_message_answers_when_the_decision_is_sure() {
    check(
        "how long does the transition into ai engineering take?",
        expect![[r#"
        "how long does the transition into ai engineering take?": guide/how-long-the-transition-takes coverage 1.00 p 1.00
        rule: Confident
        answer: guide/how-long-the-transition-takes (1.00)
    "#]],
    );
}

#[test]
fn a_backstory_and_a_question_are_read_apart() {
    check(
        "i have been a backend developer for ten years and feel a bit stuck. do i need a degree for this?",
        expect![[r#"
            "i have been a backend developer for ten years and feel a bit stuck. do i need a degree for this?": guide/do-you-need-a-degree coverage 0.15 p 0.11
            "do i need a degree for this?": guide/do-you-need-a-degree coverage 1.00 p 0.72
            rule: Confident
            answer: guide/do-you-need-a-degree (0.72)
        "#]],
    );
}

#[test]
fn a_named_phase_answers_a_question_about_it() {
    check(
        "what do i do in phase 2?",
        expect![[r#"
        "what do i do in phase 2?": roadmap/phase-2 coverage 1.00 p 0.99, names a phase
        rule: NamedPhase
        answer: roadmap/phase-2 (0.99)
    "#]],
    );
}

#[test]
fn a_second_question_answered_on_its_own_is_answered_too() {
    check(
        "how long does the transition take and do i need a degree or a phd?",
        expect![[r#"
        "how long does the transition take and do i need a degree or a phd?": guide/how-long-the-transition-takes coverage 0.60 p 0.97
        "how long does the transition take": guide/how-long-the-transition-takes coverage 1.00 p 0.97
        "do i need a degree or a phd?": guide/do-you-need-a-degree coverage 1.00 p 0.87
        rule: OwnQuestions
        answer: guide/how-long-the-transition-takes (0.97)
        more: guide/do-you-need-a-degree (OnItsOwn)
    "#]],
    );
}

#[test]
fn a_short_second_question_is_answered_when_the_whole_message_backs_it() {
    check(
        "how long does the transition into ai engineering take, and where do i start learning models?",
        expect![[r#"
        "how long does the transition into ai engineering take, and where do i start learning models?": guide/how-long-the-transition-takes coverage 0.64 p 0.98
        "how long does the transition into ai engineering take": guide/how-long-the-transition-takes coverage 1.00 p 0.98
        "where do i start learning models?": guide/where-to-start coverage 0.69 p 0.56
        rule: Confident
        answer: guide/how-long-the-transition-takes (0.98)
        more: guide/where-to-start (Corroborated)
    "#]],
    );
}

#[test]
fn a_follow_up_is_read_with_the_previous_question() {
    check_after(
        "how long does the transition take?",
        "is that true for managers?",
        expect![[r#"
        read with previous: how long does the transition take is that true for managers?
        "how long does the transition take is that true for managers?": guide/how-long-the-transition-takes coverage 0.67 p 0.93, matcher guide/how-long-the-transition-takes 0.99 off-topic 0.00
        rule: Confident
        answer: guide/how-long-the-transition-takes (0.93)
    "#]],
    );
}

#[test]
fn a_partly_covered_message_offers_choices() {
    check_matched(
        "which evaluation tools should a team use for retrieval?",
        expect![[r#"
        "which evaluation tools should a team use for retrieval?": guide/managers coverage 0.47 p 0.32, matcher abstained
        rule: Choices
        choices: guide/managers, roadmap, roadmap/phase-2 (0.32)
    "#]],
    );
}

#[test]
fn the_matcher_abstains_on_content_no_example_speaks_of() {
    check_matched(
        "can i store embeddings in pgvector?",
        expect![[r#"
        "can i store embeddings in pgvector?": guide/portfolio-projects coverage 1.00 p 0.95, matcher abstained
        rule: Confident
        answer: guide/portfolio-projects (0.95)
    "#]],
    );
}

#[test]
fn a_misspelt_word_is_read_as_the_word_it_misspells() {
    check_matched(
        "do i need a degre for ai?",
        expect![[r#"
        spelled: do i need a degree for ai?
        "do i need a degre for ai?": guide/do-you-need-a-degree coverage 0.56 p 0.94, matcher guide/do-you-need-a-degree 1.00 off-topic 0.00
        rule: Confident
        answer: guide/do-you-need-a-degree (0.94)
    "#]],
    );
}

#[test]
fn a_decline_names_the_words_the_knowledge_never_uses() {
    check(
        "best pizza in naples?",
        expect![[r#"
        "best pizza in naples?": - coverage 0.00 p 0.04
        rule: Declined
        not covered: pizza, naples
    "#]],
    );
}

#[test]
fn an_off_topic_message_is_declined_by_the_matcher() {
    check_matched(
        "what salary should i ask for as an ai engineer?",
        expect![[r#"
        "what salary should i ask for as an ai engineer?": guide/how-long-the-transition-takes coverage 0.44 p 0.21, matcher guide/do-you-need-a-degree 0.00 off-topic 1.00
        rule: Declined
        not covered: salary
    "#]],
    );
}

#[test]
fn a_question_closing_an_off_topic_message_is_weighed_in_its_context() {
    let message = "the best pizza in town has a crust i love. where should i begin?";
    check_matched(
        message,
        expect![[r#"
        "the best pizza in town has a crust i love. where should i begin?": guide/where-to-start coverage 0.00 p 0.01, matcher guide/where-to-start 0.01 off-topic 0.99
        "where should i begin?": guide/where-to-start coverage 0.00 p 0.17, matcher guide/where-to-start 1.00 off-topic 0.00
        rule: Declined
        not covered: pizza, crust
    "#]],
    );
    let closing = ask(&MATCHED, message);
    assert_eq!(closing.candidates.len(), 2, "{message:?} is read whole and by its question");
    let (whole, question) = (&closing.candidates[0], &closing.candidates[1]);
    assert_eq!(whole.features.context_off_topic, 0.0, "the whole message is its own context");
    assert!(whole.features.off_topic > 0.5, "the matcher reads the whole message as off-topic");
    assert_eq!(question.features.context_off_topic, whole.features.off_topic);
    let out_of_context = Features { context_off_topic: 0.0, ..question.features };
    assert!(
        question.probability < MATCHED.decision().probability(&out_of_context),
        "the shipped decision holds an off-topic message against its closing question"
    );
    // Where the matcher does not speak for the whole message (its best
    // passage, a phase, has no examples), it gives the question no context.
    let beyond = ask(&MATCHED, "deploy, monitor and maintain a system under real load. where should i begin?");
    assert!(beyond.candidates.len() > 1 && beyond.candidates[0].matcher_abstained, "{:?}", beyond.candidates);
    assert!(beyond.candidates[1..].iter().all(|segment| segment.features.context_off_topic == 0.0));
}
