//! Holds the current snapshot and publishes new ones atomically.
//!
//! Readers call `snapshot()` once per request and keep that `Arc` until they
//! reply. `rebuild` loads a complete new snapshot off to the side and swaps
//! it in one step; on any error the old snapshot stays. Rebuilds are
//! serialized by a mutex so two never run at once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::engine::knowledge::{Diagnostic, Knowledge};
use crate::engine::settings::AnswerSettings;
use crate::engine::snapshot::{Snapshot, SnapshotError};

/// What a rebuild changed, in units.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    /// True when the content hash is the same as before.
    pub unchanged: bool,
    pub(crate) units: usize,
    /// Loading, indexing and the quality gate together.
    pub(crate) duration: Duration,
    /// Warnings that did not prevent the rebuild.
    pub warnings: Vec<Diagnostic>,
}

impl RebuildReport {
    /// One line for logs and replies.
    pub(crate) fn summary(&self) -> String {
        let millis = self.duration.as_secs_f64() * 1000.0;
        if self.unchanged {
            return format!("Nothing changed ({} units, checked in {millis:.1} ms).", self.units);
        }
        format!(
            "Reindexed {} units in {millis:.1} ms: {} added, {} removed, {} changed.",
            self.units,
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        )
    }
}

/// Why a rebuild was refused; the previous snapshot keeps serving.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RebuildError {
    #[error("the knowledge folder has {} error(s); still serving the previous version", .0.iter().filter(|d| d.is_error()).count())]
    Invalid(Vec<Diagnostic>),
    #[error("{0}; still serving the previous version")]
    Index(String),
    #[error("{0}")]
    Refused(String),
}

impl From<SnapshotError> for RebuildError {
    fn from(error: SnapshotError) -> RebuildError {
        match error {
            SnapshotError::Invalid(diagnostics) => RebuildError::Invalid(diagnostics),
            SnapshotError::Index(message) => RebuildError::Index(format!("cannot build the search index: {message}")),
        }
    }
}

pub struct Host {
    current: ArcSwap<Snapshot>,
    dir: PathBuf,
    settings: AnswerSettings,
    /// Examples learned from members, `(passage id, message)`, that every
    /// rebuild adds to the folder's content (from the database, set by the service).
    learned: ArcSwap<Vec<(String, String)>>,
    rebuilding: Mutex<()>,
}

impl Host {
    pub fn new(snapshot: Snapshot, dir: PathBuf) -> Host {
        let settings = snapshot.settings.clone();
        let learned = ArcSwap::from_pointee(Vec::new());
        Host { current: ArcSwap::from_pointee(snapshot), dir, settings, learned, rebuilding: Mutex::new(()) }
    }

    /// Sets the learned examples the next rebuild adds to the content;
    /// whether they differ from those set before.
    pub fn set_learned(&self, learned: Vec<(String, String)>) -> bool {
        let before = self.learned.swap(Arc::new(learned));
        *before != **self.learned.load()
    }

    /// The snapshot to use for one whole request.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub(crate) fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Rebuilds from disk and publishes if the new snapshot is valid and
    /// `accept` agrees (a quality gate); otherwise keeps the current one.
    /// Blocking: call from a blocking thread in async code.
    pub(crate) fn rebuild_with(
        &self,
        accept: impl FnOnce(&Snapshot) -> Result<(), String>,
    ) -> Result<RebuildReport, RebuildError> {
        let _one_at_a_time = self.rebuilding.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let report = self.load_and_publish(accept);
        release_freed_memory();
        report
    }

    fn load_and_publish(
        &self,
        accept: impl FnOnce(&Snapshot) -> Result<(), String>,
    ) -> Result<RebuildReport, RebuildError> {
        let started = Instant::now();
        let next = Snapshot::load_learning(&self.dir, self.settings.clone(), &self.learned.load())?;
        let previous = self.snapshot();
        let unchanged = previous.content_hash == next.content_hash;
        // Unchanged content is what is already being served, so the gate has nothing to decide.
        if !unchanged {
            accept(&next).map_err(RebuildError::Refused)?;
        }
        let mut report = diff(&previous.knowledge, &next.knowledge);
        report.unchanged = unchanged;
        report.duration = started.elapsed();
        report.units = next.knowledge.units.len();
        report.warnings = next.warnings.clone();
        if !report.unchanged {
            self.current.store(Arc::new(next));
        }
        Ok(report)
    }

    pub(crate) fn rebuild(&self) -> Result<RebuildReport, RebuildError> {
        self.rebuild_with(|_| Ok(()))
    }
}

/// A build allocates a whole second snapshot beside the first, and its
/// scratch is freed in scattered pieces that glibc keeps mapped: without a
/// trim, resident memory after a reindex depended on where those pieces fell
/// (the soak measured anywhere from -2% to +13% over three reindexes).
/// Handing the free pages back after each rebuild keeps it flat.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_freed_memory() {
    // SAFETY: malloc_trim only returns free memory to the kernel; it is
    // thread-safe and takes the allocator's own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}

fn diff(old: &Knowledge, new: &Knowledge) -> RebuildReport {
    let before: HashMap<&str, _> = old.units.iter().map(|u| (u.id.as_str(), u)).collect();
    let after: HashMap<&str, _> = new.units.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut report = RebuildReport::default();
    for unit in &new.units {
        match before.get(unit.id.as_str()) {
            None => report.added.push(unit.id.clone()),
            Some(previous) if *previous != unit => report.changed.push(unit.id.clone()),
            Some(_) => {}
        }
    }
    report.removed = old.units.iter().filter(|u| !after.contains_key(u.id.as_str())).map(|u| u.id.clone()).collect();
    report
}
