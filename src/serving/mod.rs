//! Keeping a snapshot live: the `host` that publishes whole snapshots, the
//! `reindex` worker, the folder `watch` and the quality `gate` that trigger
//! and vet its rebuilds, and graceful `shutdown`.
//!
//! Uses `engine`, `config` and `quality` (the gate runs a question set).
//! Knows nothing of Discord, storage or replies.

pub mod gate;
pub mod host;
pub mod reindex;
pub mod shutdown;
mod watch;
