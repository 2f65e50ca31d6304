//! The `bench` and `generate` subcommands, run as the real binary.
//!
//! Timings are machine-dependent, so nothing here asserts a duration: the
//! tests check the JSON report's shape and that its values are consistent
//! with what was measured (units counted, percentiles ordered, memory known).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

const KEYS: [&str; 11] = [
    "units",
    "build_ms",
    "first_start_ms",
    "build_cold_ms",
    "query_p50_us",
    "query_p99_us",
    "semantic_p50_us",
    "semantic_p99_us",
    "message_p50_us",
    "message_p99_us",
    "peak_rss_mb",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary from the repository root, so default paths resolve.
fn run(args: &[&str]) -> Output {
    crate::support::bot_command()
        .args(args)
        .current_dir(repo())
        .env_remove("TRANSITION_BOT_KNOWLEDGE__DIR")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// Parses a `bench --json` report, checks its shape and sane values, returns it.
fn check_report(text: &str, expected_units: usize) -> serde_json::Map<String, Value> {
    let value: Value = serde_json::from_str(text.trim()).unwrap_or_else(|err| panic!("not JSON ({err}): {text}"));
    let object = value.as_object().unwrap_or_else(|| panic!("not an object: {text}")).clone();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "report keys");

    assert_eq!(object["units"].as_u64(), Some(expected_units as u64), "units: {text}");
    let number = |key: &str| object[key].as_f64().unwrap_or_else(|| panic!("{key} is not a number: {text}"));
    assert!(number("build_ms") > 0.0, "{text}");
    assert!(number("query_p50_us") > 0.0, "{text}");
    assert!(number("query_p99_us") >= number("query_p50_us"), "p99 below p50: {text}");
    assert!(number("message_p99_us") >= number("message_p50_us"), "p99 below p50: {text}");
    assert!(number("semantic_p99_us") >= number("semantic_p50_us"), "p99 below p50: {text}");
    assert!(number("build_cold_ms") > 0.0 && number("first_start_ms") > 0.0, "{text}");
    if Path::new("/proc/self/status").exists() {
        let rss = number("peak_rss_mb");
        assert!(rss > 1.0 && rss < 16_384.0, "implausible peak memory {rss} MB");
    }
    object
}

fn units_in(dir: &Path) -> usize {
    let (knowledge, diagnostics) = transition_bot::engine::knowledge::load(dir);
    assert!(!diagnostics.iter().any(|d| d.is_error()), "{diagnostics:?}");
    knowledge.units.len()
}

#[test]
fn bench_json_on_the_article_uses_the_default_question_set() {
    let output = run(&["--knowledge", "knowledge", "bench", "--json", "--iterations", "2"]);
    check_report(&stdout(&output), units_in(&repo().join("knowledge")));
}

#[test]
fn bench_json_on_a_generated_base_with_its_own_questions() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path().join("kb");
    let questions = temp.path().join("questions.toml");
    let (dir_arg, questions_arg) = (dir.to_str().expect("UTF-8 path"), questions.to_str().expect("UTF-8 path"));

    let output = run(&["generate", "--sections", "200", "--seed", "9", "--questions", questions_arg, dir_arg]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let files = std::fs::read_dir(&dir).expect("generated folder").count();
    assert_eq!(files, 2, "200 sections at 100 per file");
    let question_text = std::fs::read_to_string(&questions).expect("question file");
    assert_eq!(question_text.matches("[[case]]").count(), 20, "one question per ten sections");

    let units = units_in(&dir);
    assert!(units >= 200, "each section gives at least one unit, got {units}");
    let output = run(&["--knowledge", dir_arg, "bench", "--json", "--iterations", "2", "--questions", questions_arg]);
    check_report(&stdout(&output), units);

    // Regenerating into the now non-empty folder is refused, not mixed in.
    let again = run(&["generate", "--sections", "10", dir_arg]);
    assert_eq!(again.status.code(), Some(1));
    let error = String::from_utf8_lossy(&again.stderr);
    assert!(
        error.starts_with("error: ") && error.contains("not empty") && error.trim().lines().count() == 1,
        "{error}"
    );
}

#[test]
fn bench_text_report_names_every_figure_and_dump_writes_every_unit() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dump = temp.path().join("units.jsonl");
    let output = run(&["bench", "--iterations", "1", "--dump-units", dump.to_str().expect("UTF-8 path")]);
    let text = stdout(&output);
    for label in ["build", "query p50", "query p99", "peak memory"] {
        assert!(text.contains(label), "missing {label:?} in {text}");
    }
    let lines: Vec<Value> = std::fs::read_to_string(&dump)
        .expect("dump written")
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), units_in(&repo().join("knowledge")));
    assert!(lines.iter().all(|unit| unit["id"].is_string() && unit["text"].is_string() && unit["keywords"].is_array()));
}

#[test]
fn bad_bench_arguments_fail_with_one_line() {
    let output = run(&["bench", "--iterations", "0"]);
    assert_eq!(output.status.code(), Some(1));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("--iterations") && error.trim().lines().count() == 1, "{error}");

    let output = run(&["bench", "--questions", "no/such/file.toml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no/such/file.toml"));
}
