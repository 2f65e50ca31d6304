//! Per-server settings (`/settings`) in the bot's database: one row per
//! server holding what it changed, as JSON, so a new setting needs no
//! migration.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::params;

use super::{migrate, now_ms, open, snowflake, StorageError};
use crate::config::ServerSettings;

/// Every server's settings. A row that no longer parses (written by a newer
/// build) is skipped with a warning: that server falls back to the defaults.
pub(super) fn read_all(path: &Path) -> Result<HashMap<u64, ServerSettings>, StorageError> {
    let mut connection = open(path, true)?;
    migrate(&mut connection, path)?;
    let query = |source| StorageError::Query { path: path.to_path_buf(), source };
    let mut statement = connection.prepare("SELECT guild_id, settings FROM server_settings").map_err(query)?;
    let rows = statement.query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))).map_err(query)?;
    let mut all = HashMap::new();
    for row in rows {
        let (guild, json) = row.map_err(query)?;
        match serde_json::from_str(&json) {
            Ok(settings) => {
                all.insert(guild as u64, settings);
            }
            Err(err) => tracing::warn!(guild, error = %err, "stored server settings do not parse; using the defaults"),
        }
    }
    Ok(all)
}

/// Stores one server's settings, replacing its row.
pub(super) fn write(path: &Path, guild: u64, settings: &ServerSettings) -> Result<(), StorageError> {
    let mut connection = open(path, true)?;
    migrate(&mut connection, path)?;
    // Serializing plain options and numbers cannot fail.
    let json = serde_json::to_string(settings).unwrap_or_default();
    connection
        .execute(
            "INSERT INTO server_settings (guild_id, settings, updated) VALUES (?1, ?2, ?3)
             ON CONFLICT (guild_id) DO UPDATE SET settings = excluded.settings, updated = excluded.updated",
            params![snowflake(guild), json, now_ms()],
        )
        .map_err(|source| StorageError::Query { path: path.to_path_buf(), source })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Trigger;

    #[test]
    fn settings_are_kept_per_server_and_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bot.sqlite3");
        let first = ServerSettings { channels: Some(vec![7, 8]), trigger: Some(Trigger::All), ..Default::default() };
        write(&path, 1, &first).unwrap();
        write(&path, 2, &ServerSettings { cooldown_secs: Some(30), ..Default::default() }).unwrap();
        let replaced = ServerSettings { suggest_when_unsure: Some(true), ..first.clone() };
        write(&path, 1, &replaced).unwrap();
        let all = read_all(&path).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[&1], replaced);
        assert_eq!(all[&2].cooldown_secs, Some(30));
        assert_eq!(all[&2].channels, None);
    }
}
