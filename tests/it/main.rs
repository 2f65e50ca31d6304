//! The integration tests, as one binary: each module links the whole stack
//! (tantivy, serenity, axum, rusqlite), so one binary keeps builds short.
//!
//! - `cli`, `bench_cli`: the real binary in a temp folder, as a user runs it.
//! - `hostile`: property tests: no input makes any command fail or overflow Discord's limits.
//! - `quality`: floors over the question sets, with and without the hand-written vocabulary.
//! - `reindex`, `ops`: live rebuilds; metrics, health, the question log, shutdown.
//! - `discord`, `serve_operations`, `load`, `soak`: `serve` against the fake Discord in `support`.
//! - `fleet`: PostgreSQL (a real server, `support::postgres`): both backends, two `serve` processes, a restart.
//! - `dashboard`: the operator's dashboard on a seeded log, over HTTP and in headless Chromium.
//! - `fake_discord_selftest`: the fake itself, checked with serenity's own types.
//! - `tidy`: the layers' import rules and module docs.

mod bench_cli;
mod cli;
mod dashboard;
mod discord;
mod fake_discord_selftest;
mod fleet;
mod hostile;
mod load;
mod ops;
mod quality;
mod reindex;
mod serve_operations;
mod soak;
mod support;
mod tidy;
