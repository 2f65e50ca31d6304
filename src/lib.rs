//! transition-bot: answers developers' questions about moving into AI
//! engineering from a Markdown knowledge base.
//!
//! The core (`knowledge`, `search`, `answer`, `reply`, `commands`) knows
//! nothing of Discord; `cli` drives it from the terminal.

pub mod answer;
pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod eval;
pub mod host;
pub mod knowledge;
pub mod reply;
pub mod search;
pub mod snapshot;
pub mod telemetry;
