//! Whether the bot is fit to serve: a knowledge snapshot is loaded and every
//! gateway shard this process runs is connected.
//!
//! The Discord front end reports shard events here (`set_gateway_connected`,
//! `set_heartbeat_latency`); `/healthz` and the shard metrics read it. It
//! knows nothing of serenity, so it is tested without Discord.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::serving::host::Host;

/// Why the bot is not fit to serve, as `/healthz` reports it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unhealthy {
    #[error("no knowledge snapshot loaded")]
    NoSnapshot,
    #[error("gateway not connected yet")]
    NotConnected,
    #[error("gateway shard(s) {0} not connected")]
    ShardsDown(String),
}

/// What is known about one gateway shard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ShardHealth {
    pub(crate) connected: bool,
    /// Last measured heartbeat round trip.
    pub(crate) heartbeat_latency: Option<Duration>,
}

#[derive(Default)]
pub struct Health {
    host: OnceLock<Arc<Host>>,
    shards: Mutex<BTreeMap<u32, ShardHealth>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("snapshot_loaded", &self.host.get().is_some())
            .field("shards", &self.shards())
            .finish()
    }
}

impl Health {
    pub fn new() -> Arc<Health> {
        Arc::new(Health::default())
    }

    /// Marks the knowledge as loaded; the host always holds a snapshot from then on.
    pub fn set_host(&self, host: Arc<Host>) {
        let _ = self.host.set(host);
    }

    pub(crate) fn host(&self) -> Option<&Arc<Host>> {
        self.host.get()
    }

    /// Declares the shards this process runs, so one that never connects counts as down.
    pub fn expect_shards(&self, shard_ids: impl IntoIterator<Item = u32>) {
        let mut shards = self.lock();
        for id in shard_ids {
            shards.entry(id).or_default();
        }
    }

    pub fn set_gateway_connected(&self, shard_id: u32, connected: bool) {
        self.lock().entry(shard_id).or_default().connected = connected;
    }

    pub fn set_heartbeat_latency(&self, shard_id: u32, latency: Duration) {
        self.lock().entry(shard_id).or_default().heartbeat_latency = Some(latency);
    }

    /// Every known shard, by id.
    pub(crate) fn shards(&self) -> Vec<(u32, ShardHealth)> {
        self.lock().iter().map(|(id, shard)| (*id, *shard)).collect()
    }

    /// `Ok` when healthy, else the reason, for `/healthz`.
    pub(crate) fn check(&self) -> Result<(), Unhealthy> {
        if self.host.get().is_none() {
            return Err(Unhealthy::NoSnapshot);
        }
        let shards = self.lock();
        if shards.is_empty() {
            return Err(Unhealthy::NotConnected);
        }
        let down: Vec<String> = shards.iter().filter(|(_, s)| !s.connected).map(|(id, _)| id.to_string()).collect();
        if !down.is_empty() {
            return Err(Unhealthy::ShardsDown(down.join(", ")));
        }
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, ShardHealth>> {
        // A panic elsewhere while holding the lock leaves plain data that is still valid.
        self.shards.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::snapshot::Snapshot;

    fn host() -> Arc<Host> {
        let snapshot = Snapshot::from_sources(
            &[("faq.md".to_string(), "# FAQ\n\n## What is RAG?\n\nRetrieval.\n".to_string())],
            Default::default(),
        )
        .unwrap();
        Arc::new(Host::new(snapshot, "knowledge".into()))
    }

    #[test]
    fn healthy_only_with_a_snapshot_and_every_shard_connected() {
        let health = Health::default();
        assert_eq!(health.check(), Err(Unhealthy::NoSnapshot));
        health.set_host(host());
        assert_eq!(health.check(), Err(Unhealthy::NotConnected));
        health.expect_shards(0..2);
        health.set_gateway_connected(0, true);
        assert_eq!(health.check(), Err(Unhealthy::ShardsDown("1".into())));
        health.set_gateway_connected(1, true);
        assert_eq!(health.check(), Ok(()));
        health.set_gateway_connected(0, false);
        assert!(health.check().unwrap_err().to_string().contains("shard(s) 0"));
    }

    #[test]
    fn keeps_latency_per_shard() {
        let health = Health::default();
        health.set_heartbeat_latency(3, Duration::from_millis(42));
        assert_eq!(
            health.shards(),
            vec![(3, ShardHealth { connected: false, heartbeat_latency: Some(Duration::from_millis(42)) })]
        );
    }
}
