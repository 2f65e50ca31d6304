//! The optional `[reindex] eval` quality gate: a question set every new
//! snapshot must pass before it is published.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::config::ReindexConfig;
use crate::engine::snapshot::Snapshot;
use crate::quality::eval::{self, QuestionSet};

/// The optional `[reindex] eval` check: a question set the new snapshot must pass.
#[derive(Clone, Debug)]
pub(crate) struct QualityGate {
    pub(crate) path: PathBuf,
    /// Least share of cases that must pass, 0 to 1.
    pub(crate) min_pass: f64,
}

impl QualityGate {
    pub(crate) fn from_config(config: &ReindexConfig) -> Option<QualityGate> {
        config.eval.as_ref().map(|path| QualityGate { path: path.clone(), min_pass: config.min_pass })
    }

    /// Runs the question set (read afresh, so edits to it count) against `snapshot`.
    /// `Ok` holds a one-line summary; `Err` the summary and one line per failing question.
    pub(crate) fn judge(&self, snapshot: &Snapshot) -> Result<String, String> {
        let set = QuestionSet::load(&self.path).map_err(|err| format!("quality gate: {err}"))?;
        let report = eval::run(snapshot, &set);
        let summary = format!(
            "quality gate {}: {} of {} questions pass ({:.0}%, floor {:.0}%)",
            self.path.display(),
            report.passed,
            report.passed + report.failed,
            report.pass_rate() * 100.0,
            self.min_pass * 100.0
        );
        if report.pass_rate() >= self.min_pass {
            return Ok(summary);
        }
        let mut message = format!("{summary}; the new version is refused. Failing questions:");
        for failure in report.failures() {
            let _ = write!(message, "\n\"{}\": {}", failure.question, failure.reason);
        }
        Err(message)
    }
}
