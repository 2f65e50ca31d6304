//! Keeping a snapshot live: the `host` that publishes whole snapshots, the
//! `reindex` worker with its file watch and quality gate, and graceful
//! `shutdown`.
//!
//! Uses `engine`, `config` and `quality` (the gate runs a question set).
//! Knows nothing of Discord, storage or replies.

pub mod host;
pub mod reindex;
pub mod shutdown;
