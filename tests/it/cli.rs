//! The binary as members and operators run it: commands, JSON, errors, question sets.

use std::path::Path;
use std::process::{Output, Stdio};

fn bot(args: &[&str]) -> Output {
    bot_with(args, &[], None)
}

/// Runs the binary in the project root (so `config.toml` and `knowledge/` are the shipped ones).
fn bot_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut command = crate::support::bot_command();
    command.args(args).current_dir(env!("CARGO_MANIFEST_DIR")).envs(env.iter().copied());
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("binary runs");
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn ask_json(question: &str) -> serde_json::Value {
    let output = bot(&["ask", "--json", question]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

#[test]
fn ask_answers_with_passage_source_and_roadmap_pointer() {
    let output = bot(&["ask", "What should I build during the applied projects phase?"]);
    let text = stdout(&output);
    assert!(output.status.success());
    assert!(text.contains("Adding intelligent classification to existing services"), "{text}");
    assert!(text.contains("Source:"), "{text}");
    assert!(text.contains("/phase 2"), "{text}");
}

#[test]
fn ask_json_has_the_documented_shape() {
    let value = ask_json("How long does it take?");
    assert_eq!(value["question"], "How long does it take?");
    assert_eq!(value["answered"], true);
    assert!(value["reply"].as_str().unwrap().contains("12 to 18 months"));
    let hit = &value["hits"][0];
    for key in ["id", "kind", "title", "text"] {
        assert!(hit[key].is_string(), "{key} in {hit}");
    }
    assert!(hit["score"].is_number());
    assert_eq!(hit["kind"], "faq");
    let phase = ask_json("What does phase 4 cover?");
    assert_eq!(phase["hits"][0]["kind"], "phase");
    assert_eq!(phase["pointers"][0]["phase"], 4);
    assert_eq!(phase["pointers"][0]["title"], "Production Constraints and Real Users");
}

#[test]
fn a_short_second_question_backed_by_the_whole_message_is_answered_too() {
    // Alone, "where do i even start" is too short for its passage to hold
    // most of it (coverage under 0.7), so it is not answered on its own; the
    // whole message's own search ranks the same phase among its best hits.
    let value = ask_json("do i need to quit my job to do this properly? and where do i even start");
    assert_eq!(value["answered"], true);
    assert_eq!(value["hits"][0]["id"], "article/time-and-cost-reality-check", "{value}");
    assert_eq!(value["more"], serde_json::json!(["roadmap/phase-1"]), "{value}");
    let candidates = value["candidates"].as_array().unwrap();
    assert!(candidates[2]["features"]["coverage"].as_f64().unwrap() < 0.7, "{value}");
    // Every reading explains itself: its features and its hits.
    assert!(candidates[0]["features"]["coverage"].is_number() && candidates[0]["hits"][0]["id"].is_string());
}

#[test]
fn off_topic_questions_get_an_honest_no_with_suggestions() {
    let value = ask_json("What is the weather like in Lisbon today?");
    assert_eq!(value["answered"], false);
    let reply = value["reply"].as_str().unwrap();
    assert!(reply.contains("I don't have an answer for that"), "{reply}");
    assert!(reply.contains("/phases") && reply.contains("/faq"), "{reply}");
    assert!(value["pointers"].as_array().unwrap().is_empty());
}

/// Three kinds of reply: sure (above), partly covered (the closest passage
/// in full, then choices), and not covered (naming words the knowledge never uses).
#[test]
fn a_near_question_is_partly_covered_and_a_foreign_one_names_what_is_not_covered() {
    // The decision is unsure of this one (the fitted band), and its best guess is right.
    let partial = ask_json("new vector db drops every week lol. keeping up with all of them or nah");
    assert_eq!((partial["answered"].as_bool(), partial["partial"].as_bool()), (Some(false), Some(true)), "{partial}");
    let reply = partial["reply"].as_str().unwrap();
    assert!(reply.contains("My knowledge doesn't answer exactly that. The closest it comes is"), "{reply}");
    assert!(reply.contains("New libraries appear weekly") && reply.contains("Is it one of these?"), "{reply}");
    assert_eq!(partial["choices"][0]["id"], "article/common-mistakes-during-the-transition", "{partial}");
    assert!(partial["not_covered"].as_array().unwrap().is_empty());

    let foreign = ask_json("what's the going rate for AI engineers in Berlin?");
    assert_eq!((foreign["answered"].as_bool(), foreign["partial"].as_bool()), (Some(false), Some(false)), "{foreign}");
    assert_eq!(foreign["not_covered"], serde_json::json!(["berlin"]), "{foreign}");
    let reply = foreign["reply"].as_str().unwrap();
    assert!(reply.contains("My knowledge never mentions “berlin”.") && reply.contains("/faq"), "{reply}");
}

#[test]
fn browse_commands_print_the_content() {
    let phases = stdout(&bot(&["phases"]));
    for title in ["Foundations and Context", "Applied Projects", "System Integration", "Production Constraints"] {
        assert!(phases.contains(title), "{phases}");
    }
    let phase = stdout(&bot(&["phase", "3"]));
    assert!(phase.contains("Orchestrating multiple components reliably") && phase.contains("Phase 4"), "{phase}");
    let row = stdout(&bot(&["compare", "career"]));
    assert!(row.contains("Senior AI Engineer, Applied AI Lead") && !row.contains("Primary Focus"), "{row}");
    let table = stdout(&bot(&["compare"]));
    assert!(table.contains("Primary Focus") && table.contains("Career Trajectory"), "{table}");
    let faq = stdout(&bot(&["faq"]));
    assert!(faq.contains("12 to 18 months") && faq.contains("data scientist"), "{faq}");
}

#[test]
fn errors_are_one_line_and_exit_non_zero() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (&["phase", "7"], &[], "There is no phase 7"),
        (&["phase", "-1"], &[], "There is no phase -1"),
        (&["compare", "salary"], &[], "No dimension matches"),
        (&["--knowledge", "no/such/dir", "phases"], &[], "cannot read knowledge folder"),
        (&["--config", "no/such.toml", "phases"], &[], "cannot read config file"),
        (&["faq"], &[("TRANSITION_BOT_ANSWER__MIN_CONFIDENCE", "lots")], "min_confidence"),
        (&["faq"], &[("TRANSITION_BOT_DISCORD__TOKEN", "x")], "unknown field `token`"),
        (&["eval", "no/such/questions.toml"], &[], "cannot read question file"),
    ];
    for (args, env, message) in cases {
        let output = bot_with(args, env, None);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(message), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
    }
    assert_eq!(bot(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn chat_reads_questions_and_commands_from_a_pipe() {
    let input =
        "How many hours per week should I put into learning?\n/phase 1\n/compare testing\n/phase 9\n/nope\n/help\n";
    let output = bot_with(&["chat"], &[], Some(input));
    let text = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    for expected in [
        "ten and fifteen hours per week",
        "Studying real-world architecture write-ups",
        "Hybrid testing",
        "There is no phase 9",
        "Unknown command /nope",
        "/ask QUESTION",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
}

/// In `chat`, as in a Discord channel, a short follow-up is read with the
/// previous answered question.
#[test]
fn chat_reads_a_follow_up_with_the_previous_question() {
    let input = "what happens in phase 3?\nhow long does that take?\nand phase 4?\n";
    let output = bot_with(&["chat"], &[], Some(input));
    let text = stdout(&output);
    let titles: Vec<&str> = text.lines().filter(|line| line.starts_with("Phase ") && !line.contains('·')).collect();
    assert_eq!(
        titles,
        [
            "Phase 3: System Integration and Orchestration",
            "Phase 3: System Integration and Orchestration",
            "Phase 4: Production Constraints and Real Users"
        ],
        "{text}"
    );
    let alone = stdout(&bot_with(&["chat"], &[], Some("how long does that take?\n")));
    assert!(alone.starts_with("How long does it take"), "{alone}");
}

#[test]
fn question_sets_pass_through_eval() {
    for set in ["tests/public-questions.toml", "tests/questions.toml"] {
        let output = bot(&["eval", set]);
        let text = stdout(&output);
        assert!(output.status.success(), "{set}: {text}");
        assert!(text.trim_end().ends_with(" 0 failed"), "{set}: {text}");
    }
}

#[test]
fn eval_reports_failures_and_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.toml");
    let cases =
        "[[case]]\nquestion = \"How long does it take?\"\nexpect_any = [\"a phrase the article never says\"]\n\n\
        [[case]]\nquestion = \"Recommend a good pizza recipe\"\nexpect_none = true\n\n\
        [[case]]\nquestion = \"What does phase 4 cover?\"\nexpect_any = [\"Observability\"]\nphase = 2\n";
    std::fs::write(&file, cases).unwrap();
    let output = bot(&["eval", file.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(text.contains("FAIL \"How long does it take?\""), "{text}");
    assert!(text.contains("expected phase 2"), "{text}");
    assert!(text.trim_end().ends_with("1 passed, 2 failed"), "{text}");
    let json = bot(&["eval", "--json", file.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!((report["passed"].as_u64(), report["failed"].as_u64()), (Some(1), Some(2)));
}

#[test]
fn an_operators_own_docs_work_without_the_article() {
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path();
    std::fs::write(
        docs.join("deploy.md"),
        "# Deploying Widgets\n\n## Rolling back\n\nTo roll back a widget release, run `widget rollback` with the previous version number.\n",
    )
    .unwrap();
    let knowledge = docs.to_str().unwrap();
    let output = bot(&["--knowledge", knowledge, "ask", "--json", "how do I roll back a release?"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["answered"], true);
    assert!(value["hits"][0]["text"].as_str().unwrap().contains("widget rollback"));
    let phases = bot(&["--knowledge", knowledge, "phases"]);
    assert_eq!(phases.status.code(), Some(1));
    assert!(stderr(&phases).contains("no roadmap"));
    assert!(Path::new(knowledge).exists());
}

/// The shipped knowledge starts from the seed beside the model: nothing to
/// embed or train. One new example is embedded, and without a terminal to
/// draw a bar on, `chat` says so in one line with the count.
#[test]
fn a_first_start_embeds_only_what_the_seed_lacks_and_logs_it_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("embeddings.cache");
    let env = [("TRANSITION_BOT_ANSWER__EMBEDDING_CACHE", cache.to_str().unwrap())];
    let check = stdout(&bot_with(&["check"], &env, None));
    assert!(check.contains("(0 embedded now, the rest cached; classifier cached)"), "the seed is stale: {check}");

    let knowledge = dir.path().join("knowledge");
    crate::support::copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"), &knowledge);
    std::fs::write(
        knowledge.join("examples").join("new.md"),
        "+++\nkind = \"examples\"\n+++\n# New\n\n## Off-topic\n- which tomato varieties grow best on a windy balcony?\n",
    )
    .unwrap();
    let fresh = dir.path().join("fresh.cache");
    let env = [("TRANSITION_BOT_ANSWER__EMBEDDING_CACHE", fresh.to_str().unwrap())];
    let chat = bot_with(&["--knowledge", knowledge.to_str().unwrap(), "chat"], &env, Some("How long does it take?\n"));
    let log = stderr(&chat);
    assert_eq!(log.matches("embedding the knowledge's training texts once").count(), 1, "{log}");
    assert!(log.contains("texts=1"), "{log}");
    assert!(stdout(&chat).contains("12 to 18 months"), "{}", stdout(&chat));
}

#[test]
fn fit_refuses_a_file_limit_it_cannot_apply() {
    let unknown = bot(&["fit", "--max-off-topic-in", "tests/corpus/real-dev.toml=0.1", "tests/questions.toml"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("names tests/corpus/real-dev.toml, which is not among the files"),
        "{}",
        stderr(&unknown)
    );
    let share = bot(&["fit", "--max-off-topic-in", "tests/questions.toml=1.5", "tests/questions.toml"]);
    assert_eq!(share.status.code(), Some(2), "a share above 1 is bad usage");
    assert!(stderr(&share).contains("not a share between 0 and 1"), "{}", stderr(&share));
}

#[test]
fn independently_written_paraphrases_stay_above_their_floor() {
    let output = bot(&["eval", "--json", "tests/paraphrases.toml"]);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("eval --json prints JSON");
    let passed = report["passed"].as_f64().unwrap();
    let total = passed + report["failed"].as_f64().unwrap();
    assert!(total >= 150.0, "the set is complete");
    assert!(passed / total >= 0.95, "{passed} of {total} passed: {}", stderr(&output));
}

#[test]
fn ask_json_shows_the_matchers_passages_and_probabilities() {
    let value = ask_json("how long till im job ready if i learn next to work?");
    let whole = &value["candidates"][0];
    let matched = whole["matched"].as_array().expect("matched is a list");
    assert!(!matched.is_empty() && matched.len() <= 3, "{whole}");
    assert_eq!(matched[0]["id"], "faq/how-long-does-it-take-to-become-an-ai-engineer", "{whole}");
    let p = |at: usize| matched[at]["probability"].as_f64().unwrap();
    assert!(p(0) > 0.5 && (1..matched.len()).all(|at| p(at) <= p(0)), "{whole}");
    assert!(whole["off_topic"].as_f64().unwrap() < 0.5, "{whole}");
    let off = ask_json("how much do ai engineers make a year in berlin?");
    assert_eq!(off["answered"], false, "{off}");
    assert!(off["candidates"][0]["off_topic"].as_f64().unwrap() > 0.5, "{off}");
}

/// Without the model the bot still answers, lexically, and says why once.
#[test]
fn a_missing_model_leaves_the_bot_answering_lexically() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-model");
    let env = [("TRANSITION_BOT_ANSWER__MODEL", missing.to_str().unwrap())];
    let check = bot_with(&["check"], &env, None);
    let text = stdout(&check);
    assert!(check.status.success(), "a missing model is a warning, not an error: {text}");
    assert!(text.contains("warning: the semantic matcher is off, answers are lexical only: cannot read"), "{text}");
    assert!(text.contains("config.json") && text.contains("1 warning(s)"), "{text}");
    let ask = bot_with(&["ask", "--json", "How long does it take?"], &env, None);
    let value: serde_json::Value = serde_json::from_slice(&ask.stdout).expect("valid JSON");
    assert_eq!(value["answered"], true, "{value}");
    assert!(value["candidates"][0]["matched"].as_array().unwrap().is_empty(), "{value}");
    let chat = bot_with(&["chat"], &env, Some("How long does it take?\n/quit\n"));
    let warned = stderr(&chat);
    assert_eq!(warned.matches("semantic matcher is off").count(), 1, "one clear line: {warned}");
    assert!(stdout(&chat).contains("12 to 18 months"), "{}", stdout(&chat));
}

#[test]
fn fit_keep_weights_chooses_only_the_operating_point() {
    let shipped: toml::Table = include_str!("../../src/engine/decision.toml").parse().unwrap();
    let fit = |extra: &[&str]| {
        let mut args = vec!["fit", "--max-off-topic", "0.04", "tests/public-questions.toml"];
        args.extend(extra);
        let output = bot(&args);
        assert!(output.status.success(), "{}", stderr(&output));
        let text = stdout(&output);
        (text.parse::<toml::Table>().unwrap_or_else(|err| panic!("{err}: {text}")), text)
    };
    let (kept, text) = fit(&["--keep-weights"]);
    assert!(text.contains("fit --max-off-topic 0.04 --max-offered 0.05 --keep-weights"), "{text}");
    let threshold = kept["threshold"].as_float().unwrap();
    assert!((0.0..1.0).contains(&threshold), "{threshold}");
    // The band of choices lies under the threshold, when there is one.
    assert!(kept.get("choices").and_then(toml::Value::as_float).is_none_or(|choices| choices <= threshold), "{text}");
    assert_eq!(kept["bias"], shipped["bias"]);
    let (kept_weights, shipped_weights) = (kept["weights"].as_table().unwrap(), shipped["weights"].as_table().unwrap());
    for (name, weight) in shipped_weights {
        // Without a variant there is nothing to shift `uncurated` for.
        let expected = if name == "uncurated" { 0.0 } else { weight.as_float().unwrap() };
        assert_eq!(kept_weights[name].as_float(), Some(expected), "{name}");
    }
    let (refitted, _) = fit(&[]);
    assert_ne!(refitted["bias"], shipped["bias"], "a full fit learns its own weights");
}

#[test]
fn a_configured_decision_file_replaces_the_shipped_one() {
    let dir = tempfile::tempdir().unwrap();
    let strict = dir.path().join("strict.toml");
    std::fs::write(&strict, "threshold = 0.99\nbias = -20.0\n[weights]\ncoverage = 1.0\n").unwrap();
    let answered = |env: &[(&str, &str)]| {
        let output = bot_with(&["ask", "--json", "how long does the transition take?"], env, None);
        assert!(output.status.success(), "{}", stderr(&output));
        let reply: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        reply["answered"].as_bool().unwrap()
    };
    assert!(answered(&[]), "the shipped decision answers a tidy question");
    let strict_path = strict.to_str().unwrap();
    assert!(!answered(&[("TRANSITION_BOT_ANSWER__DECISION", strict_path)]), "the configured one declines everything");

    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "threshold = 0.5\nbias = 0.0\n[weights]\nvibes = 1.0\n").unwrap();
    for path in [broken.to_str().unwrap(), "no/such/decision.toml"] {
        let output = bot_with(&["phases"], &[("TRANSITION_BOT_ANSWER__DECISION", path)], None);
        assert!(!output.status.success(), "{}", stdout(&output));
        assert!(stderr(&output).contains("answer.decision"), "{}", stderr(&output));
    }
}

/// In `chat`, an unsure reply's choices are numbered and typing a number
/// picks one: the passage is shown and the pick kept as a candidate
/// example, which `examples export` writes in the knowledge format once
/// approved, and which `ask` then answers from.
#[tokio::test(flavor = "multi_thread")]
async fn chat_picks_a_choice_by_number_and_ask_answers_from_it_once_approved() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.sqlite3");
    let env = [("TRANSITION_BOT_STORAGE__PATH", db.to_str().unwrap())];
    // The decision is unsure of this one (the fitted band), and its best guess is right.
    let question =
        "ngl im impatient af. when do ppl usually start seeing results from learning this on the side of their job";
    let output = bot_with(&["chat"], &env, Some(&format!("{question}\n1\n")));
    let text = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    let (offered, picked) = text.split_once("(Type 1 to").expect("the choices are numbered");
    assert!(offered.contains("Is it one of these?") && offered.contains("**1. "), "{text}");
    assert!(picked.contains("Source:") && !picked.contains("Is it one of these?"), "{text}");

    let storage = transition_bot::config::StorageConfig { path: db.clone(), ..Default::default() };
    let database = crate::support::database::Direct::of(&storage).await;
    let pending = "SELECT COUNT(*) FROM learned_examples WHERE source = 'pick' AND status = 'pending'";
    assert_eq!(database.count(pending).await, 1);
    let exported = stdout(&bot_with(&["examples", "export"], &env, None));
    assert!(!exported.contains(question), "only approved examples are exported: {exported}");
    database.execute("UPDATE learned_examples SET status = 'approved'").await;
    let exported = stdout(&bot_with(&["examples", "export"], &env, None));
    assert!(exported.contains("kind = \"examples\"") && exported.contains(&format!("- {question}")), "{exported}");
    assert!(exported.lines().any(|line| line.starts_with("## ") && line.contains('/')), "a passage id: {exported}");
    // Approved, the pick is what the bot answers from: `ask` reads it too, and is sure now.
    let asked: serde_json::Value =
        serde_json::from_str(&stdout(&bot_with(&["ask", "--json", question], &env, None))).unwrap();
    assert_eq!(asked["answered"], true, "{asked}");
    assert!(asked["hits"][0]["id"].as_str().is_some_and(|id| exported.contains(&format!("## {id}"))), "{asked}");
}
