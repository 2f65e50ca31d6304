//! The engine: Markdown knowledge in, answers out.
//!
//! Owns the knowledge model and its loader (`knowledge`), the tantivy index
//! and question analysis (`search`), message segments (`message`) and the
//! phases a message names (`phases`), the answer decision (`answer`) with
//! its tuned numbers (`policy`, `policy.toml`), the
//! immutable `snapshot` of both, and the word lists (`words`). Uses no other
//! layer: no tokio, no network, no Discord, no configuration files.

pub mod answer;
pub mod decision;
pub mod knowledge;
pub mod matcher;
pub(crate) mod message;
pub(crate) mod phases;
pub mod policy;
pub mod search;
pub mod settings;
pub mod snapshot;
pub mod text;
pub(crate) mod vectors;
pub(crate) mod words;
