//! What members see: the platform-neutral `reply` and Discord's limits, the
//! one command table (`commands`), the one answering path (`answering`), and
//! the admin replies (`admin`: reindex outcomes, stats), and each member's
//! last question for follow-ups (`follow_ups`).
//!
//! Uses every layer below; knows no platform. Replies are fitted to the
//! limits once, at delivery, by the front ends calling `Reply::clamp`.

pub mod admin;
pub(crate) mod answering;
pub mod commands;
pub(crate) mod follow_ups;
pub mod reply;
