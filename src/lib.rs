//! transition-bot: answers questions from a Markdown knowledge base, on
//! Discord and in the terminal.
//!
//! The crate is layered; each folder is one layer and may use only the
//! layers listed before it (checked by the `tidy` test):
//!
//! 1. `engine`: knowledge, search, answers. Pure: no tokio, no network.
//! 2. `config`: `config.toml` and its environment overrides.
//! 3. `quality`: question sets, benchmarks, generated knowledge bases.
//! 4. `serving`: the live snapshot, rebuilds, graceful shutdown.
//! 5. `ops`: events, telemetry, metrics, the question log, stats, health, logging.
//! 6. `conversation`: replies, the command table, the one answering path.
//! 7. `frontend`: Discord and the terminal deliver replies.
//! 8. `cli`: arguments, service setup, output, exit codes.

pub mod cli;
pub mod config;
pub mod conversation;
pub mod engine;
pub mod frontend;
pub mod ops;
pub mod quality;
pub mod serving;
