//! transition-bot: answers developers' questions about moving into AI
//! engineering from a Markdown knowledge base.
//!
//! The core (`knowledge`, `search`, `answer`, `reply`, `commands`) knows
//! nothing of Discord; `cli` drives it from the terminal. Operations
//! (`logging`, `metrics`, `health`, `storage`, `stats`, `sharding`, `shutdown`) are
//! library pieces the Discord front end wires in.

pub mod answer;
pub mod bench;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod discord;
pub mod eval;
pub mod health;
pub mod host;
pub mod knowledge;
pub mod logging;
pub mod metrics;
pub mod reindex;
pub mod reply;
pub mod search;
pub mod sharding;
pub mod shutdown;
pub mod snapshot;
pub mod stats;
pub mod storage;
pub mod telemetry;
