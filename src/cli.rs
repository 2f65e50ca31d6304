//! The command line: argument parsing, the terminal front end and exit codes.
//!
//! Exit codes: 0 success, 1 the command failed (bad config, unreadable
//! knowledge, a phase that does not exist, failing eval cases), 2 bad usage.
//! Errors are printed once, on one line, with their cause chain.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::answer::{self, Answer};
use crate::bench;
use crate::commands::{self, Command};
use crate::config::Config;
use crate::discord;
use crate::eval::{self, QuestionSet};
use crate::host::Host;
use crate::reindex::{self, Reindexer};
use crate::snapshot::Snapshot;

#[derive(Debug, Parser)]
#[command(
    name = "transition-bot",
    version,
    about = "Answers questions about moving from software development into AI engineering, in Discord or the terminal."
)]
pub struct Args {
    /// Config file; defaults to ./config.toml when it exists, else built-in defaults.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Knowledge folder, overriding the config's `knowledge.dir`.
    #[arg(long, global = true, value_name = "DIR")]
    pub knowledge: Option<PathBuf>,
    #[command(subcommand)]
    pub command: CliCommand,
}

#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Answer one question, as a member would see it.
    Ask {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// The question (several words are joined).
        #[arg(required = true, num_args = 1..)]
        question: Vec<String>,
    },
    /// List the roadmap's phases.
    Phases,
    /// Show one roadmap phase.
    Phase {
        #[arg(allow_negative_numbers = true)]
        number: i64,
    },
    /// Show the comparison table, or one of its rows.
    Compare { dimension: Option<String> },
    /// Show the frequently asked questions.
    Faq,
    /// Interactive session: questions or /commands, one per line, from stdin.
    Chat,
    /// Connect to Discord and answer there (token from DISCORD_TOKEN).
    Serve,
    /// Validate the knowledge folder (and the `[reindex] eval` gate) as a live rebuild would; exit 1 on errors.
    Check,
    /// Run a question file and report failures.
    Eval {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Summarize the question log: answered rate, most asked and unanswered questions, feedback.
    Stats {
        /// How far back: 30m, 12h, 7d, 2w, or `all`.
        #[arg(long, default_value = "7d", value_name = "WINDOW")]
        since: crate::stats::Window,
    },
    /// Measure build time, question latency (p50/p99) and peak memory.
    Bench {
        /// Question set to time; defaults to tests/questions.toml.
        #[arg(long, value_name = "FILE")]
        questions: Option<PathBuf>,
        /// How many times every question is answered.
        #[arg(long, default_value_t = 100, value_name = "N")]
        iterations: usize,
        /// Print one JSON object: units, build_ms, query_p50_us, query_p99_us, peak_rss_mb.
        #[arg(long)]
        json: bool,
        /// Also write every unit as one JSON line to FILE, for other engines to index.
        #[arg(long, value_name = "FILE")]
        dump_units: Option<PathBuf>,
    },
    /// Write a synthetic knowledge base of N sections into DIR, for scale tests.
    Generate {
        #[arg(long, value_name = "N")]
        sections: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also write a question set about the generated sections to FILE.
        #[arg(long, value_name = "FILE")]
        questions: Option<PathBuf>,
        dir: PathBuf,
    },
}

/// `println!` that ends the process quietly when stdout is closed early
/// (`transition-bot faq | head -3`), instead of panicking as `println!` does.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::write_line(format_args!($($arg)*)) };
}

pub fn write_line(line: std::fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    if let Err(err) = out.write_fmt(line).and_then(|()| out.write_all(b"\n")) {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write to stdout: {err}");
        }
        std::process::exit(if err.kind() == std::io::ErrorKind::BrokenPipe { 0 } else { 1 });
    }
}

pub fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match run(args) {
        Ok(code) => code,
        Err(err) => {
            // One line, whole cause chain: scripts and humans both read it.
            eprintln!("error: {}", format!("{err:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(dir) = args.knowledge {
        config.knowledge.dir = dir;
    }
    let command = match args.command {
        CliCommand::Ask { json, question } => return ask(&config, &question.join(" "), json),
        CliCommand::Phases => Command::Phases,
        CliCommand::Phase { number } => Command::Phase(number),
        CliCommand::Compare { dimension } => Command::Compare(dimension),
        CliCommand::Faq => Command::Faq,
        CliCommand::Chat => return chat(&config),
        CliCommand::Serve => return serve(config),
        CliCommand::Eval { file, json } => return run_eval(&config, &file, json),
        CliCommand::Check => return crate::check::run(&config),
        CliCommand::Stats { since } => return crate::stats::run_cli(&config, since.0),
        CliCommand::Bench { questions, iterations, json, dump_units } => {
            return bench::command(&config, questions.as_deref(), iterations, json, dump_units.as_deref());
        }
        CliCommand::Generate { sections, seed, questions, dir } => {
            return bench::generate_command(&dir, sections, seed, questions.as_deref());
        }
    };
    let snapshot = load_snapshot(&config)?;
    let reply = commands::run(&snapshot, &command)?;
    crate::outln!("{}", reply.to_text());
    Ok(ExitCode::SUCCESS)
}

/// Loads the configured knowledge folder, failing with every error found.
pub fn load_snapshot(config: &Config) -> anyhow::Result<Snapshot> {
    load_snapshot_from(&config.knowledge.dir, config)
}

fn load_snapshot_from(dir: &Path, config: &Config) -> anyhow::Result<Snapshot> {
    Snapshot::load(dir, config.answer).map_err(|diagnostics| {
        let errors: Vec<String> = diagnostics.iter().filter(|d| d.is_error()).map(ToString::to_string).collect();
        anyhow::anyhow!("knowledge folder {} has {} error(s): {}", dir.display(), errors.len(), errors.join("; "))
    })
}

fn ask(config: &Config, question: &str, json: bool) -> anyhow::Result<ExitCode> {
    let snapshot = load_snapshot(config)?;
    let answer = answer::ask(&snapshot, question);
    let reply = commands::render_answer(&snapshot, &answer).clamp();
    if json {
        let output = AskJson::new(&snapshot, &answer, reply.to_text());
        crate::outln!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        crate::outln!("{}", reply.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

/// The `ask --json` output.
#[derive(Debug, Serialize)]
pub struct AskJson {
    pub question: String,
    pub answered: bool,
    pub reply: String,
    pub hits: Vec<HitJson>,
    pub pointers: Vec<PointerJson>,
}

#[derive(Debug, Serialize)]
pub struct HitJson {
    pub id: String,
    pub kind: &'static str,
    pub title: String,
    pub text: String,
    pub score: f32,
}

#[derive(Debug, Serialize)]
pub struct PointerJson {
    pub phase: u8,
    pub title: String,
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
        AskJson { question: answer.question.clone(), answered: answer.answered, reply, hits, pointers }
    }
}

fn serve(config: Config) -> anyhow::Result<ExitCode> {
    discord::token()?;
    crate::logging::init(&config.log, false)?;
    let snapshot = load_snapshot(&config)?;
    tracing::info!(units = snapshot.knowledge.units.len(), dir = %config.knowledge.dir.display(), "knowledge loaded");
    let host = Arc::new(Host::new(snapshot, config.knowledge.dir.clone()));
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(discord::serve(config, host))?;
    Ok(ExitCode::SUCCESS)
}

/// Answers each line from the host's current snapshot while a reindexer
/// keeps it up to date (file changes, SIGHUP, `/reindex`), as `serve` does.
fn chat(config: &Config) -> anyhow::Result<ExitCode> {
    match chat_session(config) {
        // The reader went away (`chat | head`): the session is simply over.
        Err(err)
            if err.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(ExitCode::SUCCESS)
        }
        other => other,
    }
}

fn chat_session(config: &Config) -> anyhow::Result<ExitCode> {
    // The terminal is the conversation: only problems (a refused rebuild) are
    // logged unless RUST_LOG asks for more.
    let quiet = crate::config::LogConfig { level: "warn".into(), ..config.log.clone() };
    crate::logging::init(&quiet, false)?;
    let host = Arc::new(Host::new(load_snapshot(config)?, config.knowledge.dir.clone()));
    // Stdin is read on this thread; the runtime only carries the SIGHUP listener and `/reindex`.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let reindexer = runtime.block_on(async { Reindexer::start(Arc::clone(&host), &config.reindex) })?;
    let interactive = std::io::stdin().is_terminal();
    let mut out = std::io::stdout().lock();
    if interactive {
        writeln!(out, "transition-bot: ask about moving into AI engineering, or type /help. Ctrl-D quits.")?;
    }
    let mut lines = std::io::stdin().lock().lines();
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line.context("cannot read from stdin")?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if matches!(line, "/quit" | "/exit") {
            break;
        }
        if line == "/reindex" {
            let outcome = runtime.block_on(reindexer.rebuild_now());
            writeln!(out, "{}\n", reindex::render_outcome(&outcome).to_text())?;
            continue;
        }
        let snapshot = host.snapshot();
        let reply = commands::parse_chat_line(line).and_then(|command| commands::run(&snapshot, &command));
        match reply {
            Ok(reply) => writeln!(out, "{}\n", reply.to_text())?,
            Err(err) => writeln!(out, "{err}\n")?,
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn run_eval(config: &Config, file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let set = QuestionSet::load(file)?;
    let snapshot = load_snapshot(config)?;
    let report = eval::run(&snapshot, &set);
    if json {
        crate::outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for failure in report.failures() {
            crate::outln!("FAIL {:?}: {}", failure.question, failure.reason);
        }
        crate::outln!("{} passed, {} failed", report.passed, report.failed);
    }
    Ok(if report.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
