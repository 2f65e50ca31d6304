//! Operating the bot: what happened (`events`), where it goes (`telemetry`
//! to logs, `metrics` and the `storage` question log), what it adds up to
//! (`stats`, and as pictures on the operator's `dashboard`), whether the bot is well (`health`) and how logs look
//! (`logging`).
//!
//! Uses `engine`, `config` and `serving`. Nothing here renders replies or
//! knows Discord; a reply never waits on anything in this layer.

pub mod dashboard;
pub mod events;
pub(crate) mod fleet;
pub mod health;
pub(crate) mod logging;
pub mod metrics;
pub(crate) mod stats;
pub mod storage;
pub mod telemetry;
