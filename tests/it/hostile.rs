//! No input makes a search fail or panic, and `ask --json` always prints valid JSON.

use std::path::Path;

use proptest::prelude::*;
use transition_bot::cli::AskJson;
use transition_bot::conversation::commands::{self, Command as BotCommand, COMMANDS};
use transition_bot::conversation::render::render_answer;
use transition_bot::conversation::reply::{count, limits, Reply};
use transition_bot::engine::answer;
use transition_bot::engine::snapshot::Snapshot;

fn snapshot() -> &'static Snapshot {
    static SNAPSHOT: std::sync::OnceLock<Snapshot> = std::sync::OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        Snapshot::load(&dir, crate::support::answer_settings()).expect("shipped knowledge loads")
    })
}

/// Fragments that break naive query parsers or length checks.
const NASTY: &[&str] = &[
    "\"",
    "'",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "AND",
    "OR",
    "NOT",
    "title:",
    "body:x",
    "*",
    "~2",
    "^3",
    "+",
    "-",
    "\\",
    ":",
    "<@123456789012345678>",
    "<@!1>",
    "<@&2>",
    "<#3>",
    "<:rust:4>",
    "<t:1700000000:R>",
    "@everyone",
    "@here",
    "🦀",
    "👍🏽",
    "é",
    "日本語",
    "\u{200b}",
    "\u{0}",
    "\u{feff}",
    "\n",
    "\t",
    "phase 4",
    "How long does it take?",
    "https://example.com/?q=a&b=c",
    "```code```",
    "**bold**",
];

fn hostile() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        3 => proptest::sample::select(NASTY).prop_map(str::to_string),
        2 => any::<String>(),
        1 => "[a-z ]{0,40}",
    ];
    proptest::collection::vec(fragment, 0..12).prop_map(|parts| parts.join(" "))
}

fn check(question: &str) {
    let snapshot = snapshot();
    let answer = answer::ask(snapshot, question);
    let reply = render_answer(snapshot, &answer).clamp();
    let json = serde_json::to_string(&AskJson::new(snapshot, &answer, reply.to_text())).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["answered"], answer.answered);
    assert!(reply.embeds.iter().all(|e| count(&e.description) <= limits::EMBED_DESCRIPTION));
    assert!(!answer.answered || !answer.hits.is_empty());
    commands::run(snapshot, &BotCommand::Ask(question.to_string())).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn any_question_gets_a_reply(question in hostile()) {
        check(&question);
    }
}

/// The reply a member gets for one typed line, fitted for delivery.
fn delivered(line: &str) -> Reply {
    let reply = match commands::parse_chat_line(line) {
        Ok(command) => commands::run(snapshot(), &command).unwrap_or_else(|err| Reply::notice(err.0)),
        Err(err) => Reply::notice(err.0),
    };
    reply.clamp()
}

/// Hostile text, and text far longer than any option allows.
fn argument() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => hostile(),
        1 => (1usize..6000, proptest::sample::select(vec!["x", "é", "🦀", "testing ", "<@1> "]))
            .prop_map(|(n, unit)| unit.repeat(n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    /// Every command of the table, with any argument, replies within every
    /// one of Discord's limits, errors included.
    #[test]
    fn every_command_with_any_argument_fits_discord(index in 0..COMMANDS.len(), argument in argument()) {
        let line = format!("/{} {argument}", COMMANDS[index].name);
        let violations = delivered(&line).limit_violations();
        prop_assert!(violations.is_empty(), "{line:?}: {violations:?}");
    }
}

/// Regression (layers issue): an unknown 2,500-character dimension made a
/// 2,714-character error reply that Discord refused.
#[test]
fn an_error_about_a_huge_dimension_fits_discord() {
    let reply = delivered(&format!("/compare {}", "d".repeat(2500)));
    assert!(reply.limit_violations().is_empty(), "{:?}", reply.limit_violations());
    assert!(reply.to_text().contains("No dimension matches"), "{}", reply.to_text());
}

#[test]
fn huge_and_degenerate_questions_are_answered() {
    for question in ["", " ", "?", &"a".repeat(5000), &"why ".repeat(1250), &"🦀".repeat(5000), &"AND OR ".repeat(700)]
    {
        check(question);
    }
}

#[test]
fn the_binary_prints_valid_json_for_hostile_input() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(48));
    let strategy = hostile().prop_filter("arguments cannot contain NUL", |q| !q.contains('\0'));
    runner
        .run(&strategy, |question| {
            let output = crate::support::bot_command()
                .args(["ask", "--json", "--", &question])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .unwrap();
            prop_assert!(output.status.success(), "{question:?}: {}", String::from_utf8_lossy(&output.stderr));
            let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            prop_assert!(value["answered"].is_boolean());
            Ok(())
        })
        .unwrap();
}
