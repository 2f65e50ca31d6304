//! `transition-bot check`: validates a knowledge folder the way a live rebuild
//! would, for operators' CI, so a broken edit fails a pipeline instead of
//! being refused by the running bot.
//!
//! Prints every diagnostic (`file:line: severity: message`), then the quality
//! gate's verdict when `[reindex] eval` is set, then one summary line.
//! Exit codes: 0 publishable, 1 errors or a failed gate.

use std::io::Write;
use std::process::ExitCode;

use crate::config::Config;
use crate::engine::knowledge::{self, Diagnostic};
use crate::engine::snapshot::{Snapshot, SnapshotError};
use crate::serving::gate::QualityGate;

/// What a check found; `run` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CheckReport {
    pub(crate) units: usize,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The gate's verdict line(s): `Ok` passed, `Err` failed; `None` when no gate is configured or errors came first.
    pub(crate) gate: Option<Result<String, String>>,
    /// The semantic matcher: what it trained on, or why there is none
    /// though the knowledge has examples (a warning: the bot still answers, lexically).
    pub(crate) matcher: Option<Result<String, String>>,
}

impl CheckReport {
    pub(crate) fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub(crate) fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors() + usize::from(matches!(self.matcher, Some(Err(_))))
    }

    /// True when a running bot would publish this folder.
    pub(crate) fn passed(&self) -> bool {
        self.errors() == 0 && !matches!(self.gate, Some(Err(_)))
    }

    pub(crate) fn summary(&self) -> String {
        let gate = match &self.gate {
            None => "",
            Some(Ok(_)) => ", quality gate passed",
            Some(Err(_)) => ", quality gate FAILED",
        };
        format!("{} units, {} warning(s), {} error(s){gate}", self.units, self.warnings(), self.errors())
    }
}

/// Loads and indexes the configured folder and runs the gate, as a rebuild would.
pub(crate) fn check(config: &Config) -> CheckReport {
    let dir = &config.knowledge.dir;
    let (knowledge, mut diagnostics) = knowledge::load(dir);
    let units = knowledge.units.len();
    let mut gate = None;
    let mut matcher = None;
    if !diagnostics.iter().any(Diagnostic::is_error) {
        // Indexing can fail too, and the gate needs the index: build the snapshot a rebuild would.
        match Snapshot::load(dir, config.answer_settings()) {
            Ok(snapshot) => {
                matcher = matcher_line(&snapshot);
                gate = QualityGate::from_config(&config.reindex).map(|gate| gate.judge(&snapshot));
            }
            Err(SnapshotError::Invalid(found)) => diagnostics = found,
            Err(SnapshotError::Index(message)) => gate = Some(Err(format!("cannot build the search index: {message}"))),
        }
    }
    CheckReport { units, diagnostics, gate, matcher }
}

/// What `check` says of the matcher: trained on what, or why it is off.
fn matcher_line(snapshot: &Snapshot) -> Option<Result<String, String>> {
    if let Some(problem) = &snapshot.matcher_problem {
        return Some(Err(format!("warning: {problem}")));
    }
    let matcher = snapshot.matcher()?;
    let report = matcher.report;
    Some(Ok(format!(
        "semantic matcher: {} classes trained on {} texts, beside {} passage sentences ({} embedded now, the rest cached; classifier {}), model {}",
        report.classes,
        report.texts,
        report.sentences,
        report.embedded,
        if report.trained { "trained now" } else { "cached" },
        matcher.model_dir().display()
    )))
}

pub(crate) fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let report = check(config);
    let mut out = std::io::stdout().lock();
    for diagnostic in &report.diagnostics {
        writeln!(out, "{diagnostic}")?;
    }
    if let Some(Ok(line) | Err(line)) = &report.matcher {
        writeln!(out, "{line}")?;
    }
    match &report.gate {
        Some(Ok(summary)) => writeln!(out, "{summary}")?,
        Some(Err(failure)) => writeln!(out, "{failure}")?,
        None if config.reindex.eval.is_some() && report.errors() > 0 => {
            writeln!(out, "quality gate not run: fix the errors first")?
        }
        None => {}
    }
    writeln!(out, "{}: {}", config.knowledge.dir.display(), report.summary())?;
    Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
