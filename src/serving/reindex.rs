//! Live reindexing: what starts a rebuild, and what members and editors see of it.
//!
//! A `Reindexer` owns one worker thread that runs `Host::rebuild_with` and
//! nothing else, so rebuilds never overlap. Triggers (file events, SIGHUP,
//! `/reindex`, `trigger()`) only raise a request counter; the worker takes
//! the latest count when it starts a rebuild, so any number of requests
//! arriving during one rebuild lead to exactly one more. The host keeps
//! serving its current snapshot throughout and publishes a new one in one
//! step, or keeps the old one and the worker logs every diagnostic.
//!
//! The watcher watches the folder itself, not its parent, and re-checks
//! the folder's identity twice a second: if the folder vanishes the old
//! snapshot stays, and when a folder appears again at that path (recreated,
//! renamed into place, a symlink switched) it is watched and rebuilt.
//!
//! Nothing here knows about Discord or replies: `conversation::admin`
//! renders outcomes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};

use crate::config::ReindexConfig;
use crate::engine::snapshot::Snapshot;
use crate::quality::eval::QuestionSet;
use crate::serving::gate::QualityGate;
use crate::serving::host::{Host, RebuildError, RebuildReport};
use crate::serving::watch::{watch_loop, Watcher};

/// Why reindexing could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReindexError {
    #[error("cannot watch the knowledge folder: {0}")]
    Watch(#[from] std::io::Error),
    #[error("listening for SIGHUP needs a tokio runtime")]
    NoRuntime,
    #[error("the reindex quality gate cannot start: {0}")]
    Gate(#[from] crate::quality::QualityError),
}

/// What a rebuild came to: the report of a published (or unchanged) snapshot, or why it was refused.
pub(crate) type Outcome = Result<RebuildReport, RebuildError>;

/// A check every new snapshot must pass before it is published.
pub type Gate = Box<dyn Fn(&Snapshot) -> Result<(), String> + Send + Sync>;

/// Rebuilds the host's snapshot on request, one rebuild at a time. Cheap to clone;
/// the worker, watcher and SIGHUP listener stop when the last clone is dropped.
#[derive(Clone)]
pub struct Reindexer {
    inner: Arc<Inner>,
}

/// Current state, for `/reindex` and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// A rebuild is running now.
    pub rebuilding: bool,
    /// Requests not yet covered by a finished or running rebuild.
    pub pending: bool,
    /// Rebuilds finished since start, whatever their outcome.
    pub rebuilds: u64,
    /// The folder is being watched right now (false while it is missing, or when watching is off).
    pub watching: bool,
}

impl Reindexer {
    /// Starts the worker, the watcher (when `config.watch`) and, inside a tokio
    /// runtime on Unix, the SIGHUP listener. Fails when the watcher cannot be set
    /// up or `config.eval` names an unreadable question file.
    pub fn start(host: Arc<Host>, config: &ReindexConfig) -> Result<Reindexer, ReindexError> {
        let reindexer = Reindexer::new(host, config)?;
        if config.watch {
            reindexer.watch()?;
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            reindexer.listen_for_sighup()?;
        }
        Ok(reindexer)
    }

    /// Starts only the worker, with the quality gate `config.eval` describes.
    pub fn new(host: Arc<Host>, config: &ReindexConfig) -> Result<Reindexer, ReindexError> {
        let gate: Option<Gate> = match QualityGate::from_config(config) {
            Some(gate) => {
                // Fail at start on a bad question file rather than refusing every later edit.
                QuestionSet::load(&gate.path)?;
                Some(Box::new(move |snapshot: &Snapshot| gate.judge(snapshot).map(drop)))
            }
            None => None,
        };
        Ok(Reindexer::with_gate(host, config, gate))
    }

    /// Starts only the worker, with any gate (tests use one to hold a rebuild open).
    pub fn with_gate(host: Arc<Host>, config: &ReindexConfig, gate: Option<Gate>) -> Reindexer {
        let (done, _) = tokio::sync::watch::channel(Completed { generation: 0, outcome: None });
        let shared = Arc::new(Shared {
            host,
            config: config.clone(),
            requests: Mutex::new(Requests { requested: 0, started: 0, shutdown: false }),
            wake: Condvar::new(),
            done,
            rebuilds: AtomicU64::new(0),
            rebuilding: AtomicBool::new(false),
            watching: AtomicBool::new(false),
        });
        let worker_shared = Arc::clone(&shared);
        let spawned = std::thread::Builder::new().name("reindex".into()).spawn(move || work(&worker_shared, gate));
        if let Err(err) = spawned {
            // Without a worker every request would wait forever; say so in every outcome instead.
            let message = format!("cannot start the reindex worker: {err}");
            tracing::error!("{message}");
            shared.requests_lock().shutdown = true;
            shared
                .done
                .send_replace(Completed { generation: u64::MAX, outcome: Some(Err(RebuildError::Refused(message))) });
        }
        Reindexer { inner: Arc::new(Inner { shared, watcher: Mutex::new(None), sighup: Mutex::new(None) }) }
    }

    /// Requests a rebuild and returns at once.
    pub fn trigger(&self) {
        self.inner.shared.request();
    }

    /// Requests a rebuild and waits for one that started after this request.
    /// For `/reindex`: the result reflects the folder as it was when called.
    pub async fn rebuild_now(&self) -> Outcome {
        let mut done = self.inner.shared.done.subscribe();
        let wanted = self.inner.shared.request();
        let outcome = match done.wait_for(|completed| completed.generation >= wanted).await {
            Ok(completed) => completed.outcome.clone(),
            Err(_) => None,
        };
        outcome.unwrap_or_else(|| Err(stopped()))
    }

    /// Waits until every request so far has been served by a finished rebuild.
    pub async fn settled(&self) {
        let mut done = self.inner.shared.done.subscribe();
        let wanted = self.inner.shared.requests_lock().requested;
        let _ = done.wait_for(|completed| completed.generation >= wanted).await;
    }

    /// Calls `on_outcome` after every finished rebuild, from a tokio task
    /// (metrics count them). Needs a tokio runtime.
    pub(crate) fn on_outcome(&self, on_outcome: impl Fn(&Outcome) + Send + 'static) {
        let mut done = self.inner.shared.done.subscribe();
        tokio::spawn(async move {
            while done.changed().await.is_ok() {
                let outcome = done.borrow_and_update().outcome.clone();
                if let Some(outcome) = outcome {
                    on_outcome(&outcome);
                }
            }
        });
    }

    /// The last rebuild's outcome; `None` before the first.
    pub fn last_outcome(&self) -> Option<Outcome> {
        self.inner.shared.done.borrow().outcome.clone()
    }

    pub fn status(&self) -> Status {
        let shared = &self.inner.shared;
        let requests = shared.requests_lock();
        Status {
            rebuilding: shared.rebuilding.load(Ordering::SeqCst),
            pending: requests.requested > requests.started,
            rebuilds: shared.rebuilds.load(Ordering::SeqCst),
            watching: shared.watching.load(Ordering::SeqCst),
        }
    }

    /// Watches the host's folder (recursively, by events or by polling as
    /// configured) and requests a rebuild on every change. Replaces an earlier watcher.
    pub(crate) fn watch(&self) -> Result<(), ReindexError> {
        let dir = std::path::absolute(self.inner.shared.host.dir())?;
        let (stop, stopped) = mpsc::channel();
        let shared = Arc::clone(&self.inner.shared);
        std::thread::Builder::new().name("reindex-watch".into()).spawn(move || watch_loop(&shared, &dir, &stopped))?;
        let previous = self.inner.watcher.lock().unwrap_or_else(|p| p.into_inner()).replace(WatchThread { stop });
        drop(previous);
        Ok(())
    }

    /// Requests a rebuild on every SIGHUP. Needs a tokio runtime (the listener is a task on it).
    pub(crate) fn listen_for_sighup(&self) -> Result<(), ReindexError> {
        let shared = Arc::clone(&self.inner.shared);
        self.on_sighup(move || {
            tracing::info!("SIGHUP received: rebuilding the knowledge index");
            shared.request();
        })
    }

    /// Calls `action` on every SIGHUP instead (a fleet asks every process
    /// to rebuild), replacing the listener set up before.
    #[cfg(unix)]
    pub(crate) fn on_sighup(&self, action: impl Fn() + Send + 'static) -> Result<(), ReindexError> {
        use tokio::signal::unix::{signal, SignalKind};
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ReindexError::NoRuntime)?;
        // Registered here, not in the task, so a SIGHUP right after this returns is not lost (or fatal).
        let mut hangups = {
            let _inside = runtime.enter();
            signal(SignalKind::hangup())?
        };
        let task = runtime.spawn(async move {
            while hangups.recv().await.is_some() {
                action();
            }
        });
        if let Some(previous) = self.inner.sighup.lock().unwrap_or_else(|p| p.into_inner()).replace(task) {
            previous.abort();
        }
        Ok(())
    }

    #[cfg(not(unix))]
    pub(crate) fn on_sighup(&self, _action: impl Fn() + Send + 'static) -> Result<(), ReindexError> {
        Ok(())
    }
}

fn stopped() -> RebuildError {
    RebuildError::Refused("the reindexer has stopped; still serving the previous version".into())
}

/// Logs an outcome: the summary, every warning, every error with `file:line`.
fn log_outcome(outcome: &Outcome) {
    match outcome {
        Ok(report) => {
            tracing::info!(
                units = report.units,
                added = report.added.len(),
                removed = report.removed.len(),
                changed = report.changed.len(),
                millis = report.duration.as_millis() as u64,
                "{}",
                report.summary()
            );
            for warning in &report.warnings {
                tracing::warn!("{warning}");
            }
        }
        Err(RebuildError::Invalid(diagnostics)) => {
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            tracing::error!(
                errors,
                "reindex refused: the knowledge folder has errors; still serving the previous version"
            );
            for diagnostic in diagnostics {
                if diagnostic.is_error() {
                    tracing::error!("{diagnostic}");
                } else {
                    tracing::warn!("{diagnostic}");
                }
            }
        }
        Err(RebuildError::Index(message)) => tracing::error!("reindex failed: {message}"),
        Err(RebuildError::Refused(message)) => {
            for line in message.lines() {
                tracing::error!("reindex refused: {line}");
            }
        }
    }
}

struct Inner {
    shared: Arc<Shared>,
    watcher: Mutex<Option<WatchThread>>,
    sighup: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shared.requests_lock().shutdown = true;
        self.shared.wake.notify_all();
        if let Some(task) = self.sighup.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        // Dropping the watch thread's handle stops it; its debouncer goes with it.
    }
}

/// Dropping it stops the watch thread within one recheck interval (it is not
/// joined, so dropping never blocks a caller), and the debouncer with it.
struct WatchThread {
    #[allow(dead_code)]
    stop: mpsc::Sender<()>,
}

/// State shared by the handles, the worker and the triggers.
struct Shared {
    host: Arc<Host>,
    config: ReindexConfig,
    requests: Mutex<Requests>,
    wake: Condvar,
    /// The newest finished rebuild, with the request count it covers.
    done: tokio::sync::watch::Sender<Completed>,
    rebuilds: AtomicU64,
    rebuilding: AtomicBool,
    watching: AtomicBool,
}

struct Requests {
    /// Requests made so far.
    requested: u64,
    /// The request count the running (or last) rebuild covers.
    started: u64,
    shutdown: bool,
}

#[derive(Clone)]
struct Completed {
    generation: u64,
    outcome: Option<Outcome>,
}

impl Watcher for Shared {
    fn config(&self) -> &ReindexConfig {
        &self.config
    }

    fn set_watching(&self, watching: bool) {
        self.watching.store(watching, Ordering::SeqCst);
    }

    fn request(&self) {
        Shared::request(self);
    }
}

impl Shared {
    /// Records a request and wakes the worker; returns the request's number.
    fn request(&self) -> u64 {
        let mut requests = self.requests_lock();
        requests.requested += 1;
        let number = requests.requested;
        drop(requests);
        self.wake.notify_one();
        number
    }

    fn requests_lock(&self) -> MutexGuard<'_, Requests> {
        // A panic elsewhere must not stop reindexing; the counters are always consistent.
        self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The worker: waits for requests, then rebuilds covering all of them at once.
fn work(shared: &Shared, gate: Option<Gate>) {
    loop {
        let generation = {
            let mut requests = shared.requests_lock();
            while requests.requested == requests.started && !requests.shutdown {
                requests = shared.wake.wait(requests).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if requests.shutdown {
                return;
            }
            requests.started = requests.requested;
            shared.rebuilding.store(true, Ordering::SeqCst);
            requests.started
        };
        let outcome = match &gate {
            Some(gate) => shared.host.rebuild_with(|snapshot| gate(snapshot)),
            None => shared.host.rebuild(),
        };
        log_outcome(&outcome);
        shared.rebuilds.fetch_add(1, Ordering::SeqCst);
        shared.rebuilding.store(false, Ordering::SeqCst);
        shared.done.send_replace(Completed { generation, outcome: Some(outcome) });
    }
}
