//! Which gateway shards this process runs, from `[discord] shards` and `shard_range`.
//!
//! Kept apart from the Discord client so the rules are tested without it.
//! The front end turns a `ShardPlan` into a serenity start call; see
//! `ShardPlan` for the one trap in serenity 0.12's API.

use std::ops::RangeInclusive;

use crate::config::{DiscordConfig, Shards};

/// What to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ShardPlan {
    /// Ask Discord (`GET /gateway/bot`) and run every shard here: `client.start_autosharded()`.
    Auto,
    /// Run shards `first..=last` of `total`.
    ///
    /// serenity 0.12's `start_shard_range(range, total)` treats `range.end` as
    /// *inclusive* (it boots `end - start + 1` shards), so call it as
    /// `client.start_shard_range(first..last, total)`, not `first..last + 1`.
    /// For the whole set, `client.start_shards(total)` avoids the question.
    Range { first: u32, last: u32, total: u32 },
}

impl ShardPlan {
    /// Shard ids this process runs; unknown until Discord answers for `Auto`.
    pub(crate) fn shard_ids(&self) -> Option<RangeInclusive<u32>> {
        match *self {
            ShardPlan::Auto => None,
            ShardPlan::Range { first, last, .. } => Some(first..=last),
        }
    }

    /// True when this process runs every shard.
    pub(crate) fn is_whole(&self) -> bool {
        match *self {
            ShardPlan::Auto => true,
            ShardPlan::Range { first, last, total } => first == 0 && last + 1 == total,
        }
    }
}

/// Why the configured shards make no plan.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ShardPlanError {
    #[error("discord.shard_range needs a fixed discord.shards total: every process must agree on it, and \"auto\" could differ between them")]
    RangeWithoutTotal,
    #[error("discord.shard_range [{first}, {last}] must lie within 0..{total}")]
    OutOfRange { first: u32, last: u32, total: u32 },
}

/// The plan for `config`; an error when `shard_range` is given without a fixed total.
pub(crate) fn plan(config: &DiscordConfig) -> Result<ShardPlan, ShardPlanError> {
    match (&config.shards, config.shard_range) {
        (Shards::Auto, None) => Ok(ShardPlan::Auto),
        (Shards::Auto, Some(_)) => Err(ShardPlanError::RangeWithoutTotal),
        (Shards::Total(total), None) => Ok(ShardPlan::Range { first: 0, last: total.saturating_sub(1), total: *total }),
        (Shards::Total(total), Some([first, last])) if first <= last && last < *total => {
            Ok(ShardPlan::Range { first, last, total: *total })
        }
        (Shards::Total(total), Some([first, last])) => Err(ShardPlanError::OutOfRange { first, last, total: *total }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn discord(shards: Shards, shard_range: Option<[u32; 2]>) -> DiscordConfig {
        DiscordConfig { shards, shard_range, ..DiscordConfig::default() }
    }

    #[test]
    fn plans_from_config() {
        assert_eq!(plan(&DiscordConfig::default()), Ok(ShardPlan::Range { first: 0, last: 0, total: 1 }));
        assert_eq!(plan(&discord(Shards::Auto, None)), Ok(ShardPlan::Auto));
        let split = plan(&discord(Shards::Total(4), Some([2, 3]))).unwrap();
        assert_eq!(split.shard_ids(), Some(2..=3));
        assert!(!split.is_whole());
        assert!(plan(&discord(Shards::Total(4), None)).unwrap().is_whole());
        assert!(plan(&discord(Shards::Auto, Some([0, 1]))).unwrap_err().to_string().contains("fixed"));
        assert!(plan(&discord(Shards::Total(2), Some([1, 2]))).is_err());
        assert!(plan(&discord(Shards::Total(4), Some([3, 2]))).is_err());
    }

    #[test]
    fn auto_from_the_environment() {
        let config = crate::config::Config::from_toml_and_env(
            "",
            [("TRANSITION_BOT_DISCORD__SHARDS".to_string(), "auto".to_string())].into_iter(),
        )
        .unwrap();
        assert_eq!(plan(&config.discord), Ok(ShardPlan::Auto));
        let split = crate::config::Config::from_toml_and_env(
            "[discord]\nshards = 4\n",
            [("TRANSITION_BOT_DISCORD__SHARD_RANGE".to_string(), "[0, 1]".to_string())].into_iter(),
        )
        .unwrap();
        assert_eq!(plan(&split.discord), Ok(ShardPlan::Range { first: 0, last: 1, total: 4 }));
    }
}
