//! Per-server settings (`/settings`) in the bot's database: one row per
//! server holding what it changed, as JSON, so a new setting needs no
//! migration. The SQL serves both backends.

use crate::config::ServerSettings;

pub(super) const SELECT_ALL: &str = "SELECT guild_id, settings FROM server_settings";
pub(super) const SELECT_ONE: &str = "SELECT settings FROM server_settings WHERE guild_id = $1";
pub(super) const UPSERT: &str = "INSERT INTO server_settings (guild_id, settings, updated) VALUES ($1, $2, $3)
     ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings, updated = excluded.updated";

/// The stored text of `settings`. Serializing plain options and numbers cannot fail.
pub(super) fn encode(settings: &ServerSettings) -> String {
    serde_json::to_string(settings).unwrap_or_default()
}

/// A stored row. One that no longer parses (written by a newer build) is
/// skipped with a warning: that server falls back to the defaults.
pub(super) fn decode(guild: i64, json: &str) -> Option<ServerSettings> {
    serde_json::from_str(json)
        .inspect_err(
            |err| tracing::warn!(guild, error = %err, "stored server settings do not parse; using the defaults"),
        )
        .ok()
}
