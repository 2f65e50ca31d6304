//! Graceful shutdown: wait for SIGTERM or Ctrl-C, stop taking events, let
//! replies in flight finish, stop the gateway, then flush the question log.
//!
//! The order matters: replies in flight still record telemetry, so the
//! question log is flushed last, after nothing can record any more. The
//! gateway is stopped through a caller-supplied future so this module needs
//! no serenity types.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// Which signal asked us to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM, as sent by systemd, Docker and Kubernetes.
    Terminate,
}

/// Signal handlers installed up front, so a signal during startup is not lost
/// (and does not kill the process before the question log is flushed).
#[derive(Debug)]
pub struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    /// Installs the handlers; needs a Tokio runtime.
    pub fn install() -> std::io::Result<ShutdownSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(ShutdownSignal {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(ShutdownSignal {})
        }
    }

    /// Resolves on the first SIGTERM or Ctrl-C.
    pub async fn wait(mut self) -> Signal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.terminate.recv() => Signal::Terminate,
                _ = self.interrupt.recv() => Signal::Interrupt,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
            Signal::Interrupt
        }
    }
}

/// Counts replies in flight and refuses new ones once closed; cheap to clone.
#[derive(Clone, Debug)]
pub struct InFlight {
    /// (closed, replies in flight), changed under the channel's lock so
    /// `begin` and `close` cannot interleave.
    state: Arc<watch::Sender<(bool, usize)>>,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight { state: Arc::new(watch::Sender::new((false, 0))) }
    }
}

/// Held while one reply is being produced and sent.
#[derive(Debug)]
#[must_use = "the reply counts as in flight only while the guard lives"]
pub struct InFlightGuard {
    state: Arc<watch::Sender<(bool, usize)>>,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.state.send_modify(|(_, count)| *count -= 1);
    }
}

impl InFlight {
    pub fn new() -> InFlight {
        InFlight::default()
    }

    /// Starts a reply; `None` once shutting down, and the event should be ignored.
    pub fn begin(&self) -> Option<InFlightGuard> {
        let mut admitted = false;
        self.state.send_if_modified(|(closed, count)| {
            if *closed {
                return false;
            }
            *count += 1;
            admitted = true;
            true
        });
        admitted.then(|| InFlightGuard { state: self.state.clone() })
    }

    /// Stops admitting new replies.
    pub(crate) fn close(&self) {
        self.state.send_modify(|(closed, _)| *closed = true);
    }

    pub(crate) fn count(&self) -> usize {
        self.state.borrow().1
    }

    /// Waits up to `deadline` for replies in flight to finish; returns how many did not.
    pub(crate) async fn wait_idle(&self, deadline: Duration) -> usize {
        let mut changes = self.state.subscribe();
        let _ = tokio::time::timeout(deadline, changes.wait_for(|(_, count)| *count == 0)).await;
        self.count()
    }
}

/// What a graceful shutdown managed.
#[derive(Debug)]
pub struct ShutdownReport<E> {
    /// Replies still running when the deadline passed.
    pub unfinished_replies: usize,
    /// What flushing the caller's records gave.
    pub flushed: Result<(), E>,
}

/// Runs the shutdown after a signal: closes `in_flight`, waits up to
/// `reply_deadline` for replies, runs `stop_gateway` (such as
/// `async { shard_manager.shutdown_all().await }`), then `flush` (such as
/// the question log's), which nothing can record into any more.
pub async fn graceful<E: std::fmt::Display>(
    in_flight: &InFlight,
    reply_deadline: Duration,
    stop_gateway: impl Future<Output = ()>,
    flush: impl Future<Output = Result<(), E>>,
) -> ShutdownReport<E> {
    in_flight.close();
    let unfinished_replies = in_flight.wait_idle(reply_deadline).await;
    if unfinished_replies > 0 {
        tracing::warn!(unfinished_replies, "shutting down with replies still in flight");
    }
    stop_gateway.await;
    let flushed = flush.await;
    match &flushed {
        Ok(()) => tracing::info!("records flushed; shutdown complete"),
        Err(err) => tracing::error!(error = %err, "records not fully flushed"),
    }
    ShutdownReport { unfinished_replies, flushed }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closing_refuses_new_replies_and_waits_for_running_ones() {
        let in_flight = InFlight::new();
        let guard = in_flight.begin().expect("open");
        assert_eq!(in_flight.count(), 1);
        in_flight.close();
        assert!(in_flight.begin().is_none(), "no new replies after close");
        let finisher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(guard);
        });
        assert_eq!(in_flight.wait_idle(Duration::from_secs(5)).await, 0);
        finisher.await.unwrap();
    }

    #[tokio::test]
    async fn gives_up_waiting_at_the_deadline() {
        let in_flight = InFlight::new();
        let _stuck = in_flight.begin().unwrap();
        assert_eq!(in_flight.wait_idle(Duration::from_millis(20)).await, 1);
    }

    #[tokio::test]
    async fn graceful_runs_the_steps_in_order() {
        let in_flight = InFlight::new();
        let guard = in_flight.begin().unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = order.clone();
        let finisher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            log.lock().unwrap().push("reply finished");
            drop(guard);
        });
        let log = order.clone();
        let report = graceful(
            &in_flight,
            Duration::from_secs(5),
            async { log.lock().unwrap().push("gateway stopped") },
            async {
                order.lock().unwrap().push("flushed");
                Ok::<(), String>(())
            },
        )
        .await;
        finisher.await.unwrap();
        assert_eq!(report.unfinished_replies, 0);
        assert!(report.flushed.is_ok());
        assert_eq!(*order.lock().unwrap(), vec!["reply finished", "gateway stopped", "flushed"]);
    }
}
