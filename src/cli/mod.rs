//! The command line: arguments, the one service setup shared by `serve` and
//! `chat`, output and exit codes. The only layer that uses anyhow.
//!
//! Exit codes: 0 success, 1 the command failed (bad config, unreadable
//! knowledge, a phase that does not exist, failing eval cases), 2 bad usage.
//! Errors are printed once, on one line, with their cause chain.

mod ask;
pub(crate) mod check;
mod output;
mod progress;
mod service;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::conversation::commands::{self, Command};
use crate::ops::stats::Window;
use crate::quality::eval::{self, Confusion, QuestionSet};
use crate::quality::{bench, fit, generate};

pub use ask::AskJson;
use output::line;

#[derive(Debug, Parser)]
#[command(
    name = "transition-bot",
    version,
    about = "Answers questions about moving from software development into AI engineering, in Discord or the terminal."
)]
pub(crate) struct Args {
    /// Config file; defaults to ./config.toml when it exists, else built-in defaults.
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Knowledge folder, overriding the config's `knowledge.dir`.
    #[arg(long, global = true, value_name = "DIR")]
    pub(crate) knowledge: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: CliCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CliCommand {
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
    /// Run question files and report failures and the confusion of each.
    Eval {
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// One JSON report (one file only).
        #[arg(long, conflicts_with = "table")]
        json: bool,
        /// Only the confusion table, one Markdown row per file (the README's table).
        #[arg(long)]
        table: bool,
    },
    /// Fit the answer decision on question files and print (or write) the decision file.
    Fit {
        /// Question files to fit on (never the held-out test split).
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// Largest share of off-topic cases that may be answered at the chosen threshold.
        #[arg(long, default_value_t = 0.02, value_name = "SHARE")]
        max_off_topic: f64,
        /// Largest share of off-topic cases that may get an answer or choices:
        /// the lower bound of the band where an unsure reply offers choices.
        #[arg(long, default_value_t = 0.05, value_name = "SHARE")]
        max_offered: f64,
        /// Write the decision file here instead of printing it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Another knowledge folder to fit over as well (such as the knowledge
        /// without its hand-written vocabulary: scripts/strip_vocabulary.py).
        #[arg(long, value_name = "DIR")]
        variant: Vec<PathBuf>,
        /// Keep the weights of the decision in use (`answer.decision`, else
        /// the shipped one) and choose only its operating point (threshold and
        /// `uncurated` shift) again: for an edit that moves the scores, not
        /// what separates them.
        #[arg(long)]
        keep_weights: bool,
        /// A limit of one file's own on the share of its off-topic cases
        /// answered, instead of `--max-off-topic`; such a file is left out of
        /// `--max-offered` (repeatable; FILE as given among the files).
        #[arg(long, value_name = "FILE=SHARE", value_parser = file_share)]
        max_off_topic_in: Vec<(String, f64)>,
    },
    /// Summarize the question log: answered rate, most asked and unanswered questions, feedback.
    Stats {
        /// How far back: 30m, 12h, 7d, 2w, or `all`.
        #[arg(long, default_value = "7d", value_name = "WINDOW")]
        since: Window,
    },
    /// Serve the operator's dashboard (read-only web pages over the question
    /// log) without running the bot; stop it with Ctrl-C.
    Dashboard {
        /// Address to listen on, overriding `[dashboard] listen` (127.0.0.1:9100).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Examples learned from members (approved in `/examples`).
    Examples {
        #[command(subcommand)]
        action: ExamplesAction,
    },
    /// Measure build time, question latency (p50/p99) and peak memory.
    Bench {
        /// Question set to time; defaults to tests/questions.toml.
        #[arg(long, value_name = "FILE")]
        questions: Option<PathBuf>,
        /// How many times every question is answered.
        #[arg(long, default_value_t = 100, value_name = "N")]
        iterations: usize,
        /// Print one JSON object: units, build_ms, first_start_ms, build_cold_ms, query_p50_us, query_p99_us,
        /// semantic_p50_us, semantic_p99_us, message_p50_us, message_p99_us, peak_rss_mb.
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

#[derive(Debug, Subcommand)]
pub(crate) enum ExamplesAction {
    /// Write the approved examples as a knowledge examples file (to stdout, or FILE),
    /// for operators who keep their content in git.
    Export {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
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
        // The reader went away (`faq | head -3`): the output is simply over.
        Err(err) if output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, whole cause chain: scripts and humans both read it.
            eprintln!("error: {}", output::error_line(&err));
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    progress::install();
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(dir) = args.knowledge {
        config.knowledge.dir = dir;
    }
    let command = match args.command {
        CliCommand::Ask { json, question } => return ask::run(&config, &question.join(" "), json),
        CliCommand::Phases => Command::Phases,
        CliCommand::Phase { number } => commands::phase_command(number)?,
        CliCommand::Compare { dimension } => Command::Compare(dimension),
        CliCommand::Faq => Command::Faq,
        CliCommand::Chat => return service::chat(&config),
        CliCommand::Serve => return service::serve(config),
        CliCommand::Eval { files, json, table } => return run_eval(&config, &files, json, table),
        CliCommand::Check => return check::run(&config),
        CliCommand::Fit { files, max_off_topic, max_offered, out, variant, keep_weights, max_off_topic_in } => {
            let options = fit::Options { max_off_topic, max_offered, keep_weights, max_off_topic_in };
            return run_fit(&config, &files, &variant, &options, out);
        }
        CliCommand::Stats { since } => return stats(&config, since),
        CliCommand::Dashboard { listen } => return service::dashboard(&config, listen),
        CliCommand::Examples { action: ExamplesAction::Export { out } } => return export_examples(&config, out),
        CliCommand::Bench { questions, iterations, json, dump_units } => {
            return run_bench(&config, questions, iterations, json, dump_units);
        }
        CliCommand::Generate { sections, seed, questions, dir } => {
            let generated = generate::write_knowledge(&dir, sections, seed)?;
            if let Some(path) = questions {
                std::fs::write(&path, &generated.questions_toml)
                    .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
            }
            eprintln!("wrote {sections} sections in {} files to {}", generated.sources.len(), dir.display());
            return Ok(ExitCode::SUCCESS);
        }
    };
    let snapshot = service::load_snapshot(&config)?;
    let reply = commands::run(&snapshot, &command)?;
    line(&reply.clamp().to_text())?;
    Ok(ExitCode::SUCCESS)
}

fn run_eval(config: &Config, files: &[PathBuf], json: bool, table: bool) -> anyhow::Result<ExitCode> {
    if json && files.len() > 1 {
        anyhow::bail!("--json reports one question file; give one, or use --table");
    }
    let sets = files.iter().map(|file| QuestionSet::load(file)).collect::<Result<Vec<_>, _>>()?;
    let snapshot = service::load_snapshot(config)?;
    if table {
        line(Confusion::TABLE_HEADER)?;
    }
    let mut failed = 0;
    for (file, set) in files.iter().zip(&sets) {
        let report = eval::run(&snapshot, set);
        failed += report.failed;
        if json {
            line(&serde_json::to_string_pretty(&report)?)?;
        } else if table {
            line(&report.confusion.table_row(&file.display().to_string()))?;
        } else {
            if files.len() > 1 {
                line(&format!("{}:", file.display()))?;
            }
            for failure in report.failures() {
                line(&format!("FAIL {:?}: {}", failure.question, failure.reason))?;
            }
            line(&report.confusion.summary())?;
            if let Some(auc) = report.auc {
                line(&format!("AUC of the confidence, answerable against off-topic: {auc:.3}"))?;
            }
            line(&format!("{} passed, {} failed", report.passed, report.failed))?;
        }
    }
    Ok(if failed == 0 || table { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `FILE=SHARE`, as `--max-off-topic-in` takes it.
fn file_share(text: &str) -> Result<(String, f64), String> {
    let (file, share) = text.rsplit_once('=').ok_or("expected FILE=SHARE")?;
    let share: f64 = share.parse().map_err(|_| format!("`{share}` is not a number"))?;
    if !(0.0..=1.0).contains(&share) {
        return Err(format!("{share} is not a share between 0 and 1"));
    }
    Ok((file.to_string(), share))
}

/// `transition-bot fit`: fits the decision and writes its file.
fn run_fit(
    config: &Config,
    files: &[PathBuf],
    variants: &[PathBuf],
    options: &fit::Options,
    out: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let sets = files
        .iter()
        .map(|file| Ok((file.display().to_string(), QuestionSet::load(file)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some((file, _)) = options.max_off_topic_in.iter().find(|(file, _)| !sets.iter().any(|set| &set.0 == file)) {
        anyhow::bail!("--max-off-topic-in names {file}, which is not among the files to fit on");
    }
    let mut snapshots = vec![service::load_snapshot(config)?];
    for dir in variants {
        let mut variant = config.clone();
        variant.knowledge.dir = dir.clone();
        snapshots.push(service::load_snapshot(&variant)?);
    }
    let fitted = fit::fit(&snapshots, &sets, options);
    let names: Vec<String> = sets.iter().map(|(name, _)| name.clone()).collect();
    let variant_names: Vec<String> = variants.iter().map(|dir| dir.display().to_string()).collect();
    let text = fit::decision_file(&fitted, &names, &variant_names, options);
    match out {
        Some(path) => {
            std::fs::write(&path, &text).map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
            eprintln!("{}", fitted.confusion.summary());
        }
        None => line(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `transition-bot stats`: reads the configured question log (SQLite, or the
/// fleet's PostgreSQL) and prints tables.
fn stats(config: &Config, since: Window) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let stats = runtime.block_on(crate::ops::storage::read_stats(&config.storage, since.0))?;
    line(&stats.to_table())?;
    Ok(ExitCode::SUCCESS)
}

/// `transition-bot examples export`: the approved examples in the knowledge format.
fn export_examples(config: &Config, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let approved = runtime.block_on(crate::ops::storage::read_approved_examples(&config.storage))?;
    let learned: Vec<(String, String)> = approved.into_iter().map(|example| (example.unit, example.text)).collect();
    let file = crate::engine::knowledge::examples::render_file(&learned);
    match out {
        Some(path) => {
            std::fs::write(&path, &file).map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
            eprintln!("wrote {} approved example(s) to {}", learned.len(), path.display());
        }
        None => line(file.trim_end())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `transition-bot bench`: measures and prints the report.
fn run_bench(
    config: &Config,
    questions: Option<PathBuf>,
    iterations: usize,
    json: bool,
    dump: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let questions_path = match questions {
        Some(path) => path,
        None => {
            let default = PathBuf::from("tests/questions.toml");
            anyhow::ensure!(default.is_file(), "no tests/questions.toml here; pass --questions FILE");
            default
        }
    };
    let questions = bench::load_questions(&questions_path)?;
    let dir = &config.knowledge.dir;
    if let Some(path) = dump {
        let snapshot = bench::load(dir, config.answer_settings())?;
        let write = || -> std::io::Result<()> {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
            bench::dump_units(&snapshot, &mut out)?;
            std::io::Write::flush(&mut out)
        };
        write().map_err(|err| anyhow::anyhow!("cannot write {}: {err}", path.display()))?;
    }
    let report = bench::run(dir, config.answer_settings(), &questions, iterations)?;
    if json {
        line(&serde_json::to_string(&report)?)?;
    } else {
        line(&format!("knowledge      {} ({} units)", dir.display(), report.units))?;
        line(&format!("questions      {} x {} runs", questions.len(), iterations))?;
        line(&format!(
            "build          {:.1} ms (first start {:.1} ms; {:.1} ms embedding everything)",
            report.build_ms, report.first_start_ms, report.build_cold_ms
        ))?;
        line(&format!("query p50      {:.1} µs", report.query_p50_us))?;
        line(&format!("query p99      {:.1} µs", report.query_p99_us))?;
        line(&format!("message p50    {:.1} µs (matcher {:.1} µs)", report.message_p50_us, report.semantic_p50_us))?;
        line(&format!("message p99    {:.1} µs (matcher {:.1} µs)", report.message_p99_us, report.semantic_p99_us))?;
        match report.peak_rss_mb {
            Some(mb) => line(&format!("peak memory    {mb:.1} MB"))?,
            None => line("peak memory    unknown (no /proc/self/status)")?,
        }
    }
    Ok(ExitCode::SUCCESS)
}
