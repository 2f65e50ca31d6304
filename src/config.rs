//! Settings from `config.toml`, overridden by `TRANSITION_BOT_<SECTION>__<KEY>` variables.
//!
//! Every setting has a default, so the bot runs with no file at all. Unknown
//! keys are errors that name the key: a typo must not silently do nothing.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::decision::Decision;
use crate::engine::policy::AnswerPolicy;
use crate::engine::settings::AnswerSettings;

/// Prefix of environment variables that override config keys.
pub(crate) const ENV_PREFIX: &str = "TRANSITION_BOT_";

/// PostgreSQL keeps 63 bytes of a connection's name, `transition-bot/` and this.
pub(crate) const FLEET_NAME_MAX: usize = 48;

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Config {
    pub knowledge: KnowledgeConfig,
    pub answer: AnswerSettings,
    pub discord: DiscordConfig,
    pub reindex: ReindexConfig,
    pub metrics: MetricsConfig,
    pub dashboard: DashboardConfig,
    pub storage: StorageConfig,
    pub fleet: FleetConfig,
    pub log: LogConfig,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct KnowledgeConfig {
    /// Folder of Markdown files, relative to the working directory.
    pub dir: PathBuf,
}

impl Default for KnowledgeConfig {
    fn default() -> Self {
        KnowledgeConfig { dir: PathBuf::from("knowledge") }
    }
}

/// When the bot answers plain channel messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Trigger {
    /// Only when mentioned.
    Mention,
    /// When mentioned, and in `channels` for messages that read as questions.
    #[default]
    Question,
    /// When mentioned, and for every message in `channels`.
    All,
}

impl Trigger {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Trigger::Mention => "mention",
            Trigger::Question => "question",
            Trigger::All => "all",
        }
    }
}

/// What a server's admins changed with `/settings`; unset fields follow
/// `[discord]` in `config.toml`. Stored per server in the bot's database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct ServerSettings {
    pub channels: Option<Vec<u64>>,
    pub forums: Option<Vec<u64>>,
    /// An empty name clears the default tag.
    pub solved_tag: Option<String>,
    pub trigger: Option<Trigger>,
    pub cooldown_secs: Option<u64>,
    pub suggest_when_unsure: Option<bool>,
}

impl ServerSettings {
    /// How the bot answers messages in one server: `[discord]` with this
    /// server's changes applied.
    pub(crate) fn over(&self, defaults: &DiscordConfig) -> DiscordConfig {
        DiscordConfig {
            channels: self.channels.clone().unwrap_or_else(|| defaults.channels.clone()),
            forums: self.forums.clone().unwrap_or_else(|| defaults.forums.clone()),
            solved_tag: self.solved_tag.clone().or_else(|| defaults.solved_tag.clone()).filter(|tag| !tag.is_empty()),
            trigger: self.trigger.unwrap_or(defaults.trigger),
            cooldown_secs: self.cooldown_secs.unwrap_or(defaults.cooldown_secs),
            suggest_when_unsure: self.suggest_when_unsure.unwrap_or(defaults.suggest_when_unsure),
            ..defaults.clone()
        }
    }
}

/// How many gateway shards, and which this process runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) enum Shards {
    /// Discord's recommended count, all in this process.
    Auto,
    /// A fixed total.
    Total(u32),
}

impl Default for Shards {
    fn default() -> Self {
        Shards::Total(1)
    }
}

impl<'de> Deserialize<'de> for Shards {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u32),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(0) => Err(serde::de::Error::custom("shards must be at least 1")),
            Raw::Number(total) => Ok(Shards::Total(total)),
            Raw::Text(text) if text == "auto" => Ok(Shards::Auto),
            Raw::Text(text) => match text.parse::<u32>() {
                Ok(total) if total > 0 => Ok(Shards::Total(total)),
                _ => Err(serde::de::Error::custom(format!("shards must be \"auto\" or a number, not `{text}`"))),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct DiscordConfig {
    /// Guilds to register slash commands in instantly; empty registers them globally.
    pub guild_ids: Vec<u64>,
    /// Channels where plain questions are answered without a mention.
    pub channels: Vec<u64>,
    /// Help forums: each new post is answered in its thread when the bot is sure.
    pub forums: Vec<u64>,
    /// The forum tag (by name, such as "Solved") the ✅ Solved button applies.
    pub solved_tag: Option<String>,
    pub trigger: Trigger,
    /// Seconds a member waits between channel questions.
    pub cooldown_secs: u64,
    /// In `channels`, post the closest topics when no answer is confident
    /// (otherwise stay silent there).
    pub suggest_when_unsure: bool,
    /// Seconds after an answer during which the same member's short
    /// follow-up in that channel ("and phase 3?") is read with their
    /// question; 0 turns follow-ups off.
    pub follow_up_secs: u64,
    /// Base URL all HTTP goes through (a rate-limit proxy, or a fake Discord in tests).
    pub proxy_url: Option<String>,
    /// Users allowed to run admin commands besides members with Manage Server.
    pub admin_users: Vec<u64>,
    pub shards: Shards,
    /// The first and last shard id this process runs, when shards are split over processes.
    pub shard_range: Option<[u32; 2]>,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            guild_ids: Vec::new(),
            channels: Vec::new(),
            forums: Vec::new(),
            solved_tag: None,
            trigger: Trigger::default(),
            cooldown_secs: 5,
            suggest_when_unsure: false,
            follow_up_secs: 300,
            proxy_url: None,
            admin_users: Vec::new(),
            shards: Shards::default(),
            shard_range: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReindexConfig {
    /// Rebuild when files in the knowledge folder change.
    pub watch: bool,
    /// Poll the folder instead of relying on file system events.
    pub poll: bool,
    pub poll_interval_ms: u64,
    /// Quiet time after a change before rebuilding, so one save is one rebuild.
    pub debounce_ms: u64,
    /// A question file every rebuild must pass before it is published.
    pub eval: Option<PathBuf>,
    /// Least share of `eval` cases that must pass (0 to 1).
    pub min_pass: f64,
}

impl Default for ReindexConfig {
    fn default() -> Self {
        ReindexConfig { watch: true, poll: false, poll_interval_ms: 1000, debounce_ms: 300, eval: None, min_pass: 0.95 }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct MetricsConfig {
    /// Address for `/metrics` and `/healthz`, such as `127.0.0.1:9184`; off when unset.
    pub listen: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct DashboardConfig {
    /// Where `transition-bot dashboard` listens. (`serve` shows the
    /// dashboard at `/dashboard` on `[metrics] listen`.)
    pub listen: String,
    /// The environment variable holding the token every request must give
    /// (`Authorization: Bearer …` or the login form); unset: no token, and
    /// then the dashboard is served on loopback addresses only.
    pub token_env: Option<String>,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        DashboardConfig { listen: "127.0.0.1:9100".into(), token_env: None }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// SQLite database for the question log, feedback and server settings
    /// (used when `url` is unset).
    pub path: PathBuf,
    /// `postgres://user@host:port/database`: a PostgreSQL database shared by
    /// a fleet of processes instead of the SQLite file. A password only from
    /// the environment (`TRANSITION_BOT_STORAGE__URL` or `PGPASSWORD`).
    pub url: Option<DatabaseUrl>,
    /// With `sslmode=require` in `url`: a PEM file of the certificates that
    /// sign the server's (a private CA); unset: Mozilla's roots.
    pub ca_file: Option<PathBuf>,
    /// Rows kept in memory while the database is unavailable; beyond this
    /// the oldest are dropped and counted.
    pub backlog: usize,
    /// Store question text; when false only counts and outcomes are kept.
    pub log_question_text: bool,
    /// Rows older than this many days are deleted; 0 keeps everything.
    /// Approved and rejected learned examples are kept: they are curated.
    pub retention_days: u32,
    /// Approve a candidate example (a passage members picked, or 👍'd, for
    /// the same message) once this many distinct members gave it; unset:
    /// only an admin approves.
    pub auto_approve: Option<u32>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            path: PathBuf::from("data/transition-bot.sqlite3"),
            url: None,
            ca_file: None,
            backlog: 10_000,
            log_question_text: true,
            retention_days: 90,
            auto_approve: None,
        }
    }
}

/// A PostgreSQL connection string. Its `Debug` hides any password, so
/// printing a config never shows one.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    /// The parsed connection settings, or what is wrong with the text.
    pub fn parse(&self) -> Result<tokio_postgres::Config, String> {
        let url = self.0.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err("storage.url must start with postgres:// (or postgresql://)".into());
        }
        url.parse().map_err(|err: tokio_postgres::Error| format!("storage.url does not parse: {err}"))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.parse() {
            Ok(config) if config.get_password().is_some() => f.write_str("DatabaseUrl(<with password>)"),
            _ => write!(f, "DatabaseUrl({:?})", self.0),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FleetConfig {
    /// This process's name in `/reindex` replies; `host:pid` when unset.
    pub name: Option<String>,
    /// How long `/reindex` waits for the other processes' outcomes.
    pub reindex_wait_secs: u64,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig { name: None, reindex_wait_secs: 20 }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter such as `info` or `transition_bot=debug`; `RUST_LOG` wins.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Text, level: "info".into() }
    }
}

/// Why no configuration could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// The file or the environment is wrong; `origin` says which file.
    #[error("invalid configuration ({origin} and {ENV_PREFIX}* variables): {message}")]
    Invalid { origin: String, message: String },
    #[error("{0}")]
    Rule(String),
}

impl Config {
    /// Loads `path` (or `./config.toml` when it exists), then applies the environment.
    pub(crate) fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let default_path = Path::new("config.toml");
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })
        };
        let (text, origin) = match path {
            Some(path) => (read(path)?, path.display().to_string()),
            None if default_path.exists() => (read(default_path)?, "config.toml".to_string()),
            None => (String::new(), "defaults".to_string()),
        };
        Config::from_toml_and_env(&text, std::env::vars())
            .map_err(|error| ConfigError::Invalid { origin, message: error.to_string() })
    }

    /// Parses config text and applies `TRANSITION_BOT_<SECTION>__<KEY>` overrides from `vars`.
    pub(crate) fn from_toml_and_env(
        text: &str,
        vars: impl Iterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let toml_error = |err: toml::de::Error| ConfigError::Rule(err.to_string().trim_end().to_string());
        let mut table: toml::Table = toml::from_str(text).map_err(toml_error)?;
        let file_url = table.get("storage").and_then(|s| s.get("url")).and_then(|u| u.as_str());
        if file_url.is_some_and(|url| DatabaseUrl(url.into()).parse().is_ok_and(|c| c.get_password().is_some())) {
            return Err(ConfigError::Rule(
                "storage.url in the config file has a password: give it in TRANSITION_BOT_STORAGE__URL or PGPASSWORD instead"
                    .into(),
            ));
        }
        for (name, value) in vars {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
            let Some((section, key)) = rest.split_once("__") else {
                return Err(ConfigError::Rule(format!(
                    "environment variable {name} should be {ENV_PREFIX}<SECTION>__<KEY>"
                )));
            };
            let (section, key) = (section.to_lowercase(), key.to_lowercase());
            let entry = table.entry(section.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(section_table) = entry.as_table_mut() else {
                return Err(ConfigError::Rule(format!("{name}: `{section}` is not a config section")));
            };
            section_table.insert(key, env_value(&value));
        }
        let mut config: Config = toml::Value::Table(table).try_into().map_err(toml_error)?;
        config.validate()?;
        if let Some(path) = &config.answer.decision {
            let problem = |what: String| ConfigError::Rule(format!("answer.decision: {}: {what}", path.display()));
            let text = std::fs::read_to_string(path).map_err(|err| problem(err.to_string()))?;
            let decision = Decision::parse(&text).map_err(|err| problem(err.to_string()))?;
            config.answer.fitted = Some(std::sync::Arc::new(decision));
        }
        if let Some(path) = &config.answer.policy {
            let problem = |what: String| ConfigError::Rule(format!("answer.policy: {}: {what}", path.display()));
            let text = std::fs::read_to_string(path).map_err(|err| problem(err.to_string()))?;
            let policy = AnswerPolicy::parse(&text).map_err(|err| problem(err.to_string()))?;
            config.answer.tuned = Some(std::sync::Arc::new(policy));
        }
        Ok(config)
    }

    /// How answers are chosen, with the embedding cache next to the
    /// database unless `answer.embedding_cache` names another place: both
    /// are the bot's state, in one folder an operator backs up or not.
    pub(crate) fn answer_settings(&self) -> AnswerSettings {
        let mut settings = self.answer.clone();
        if settings.embedding_cache.is_none() {
            settings.embedding_cache = Some(self.storage.path.with_file_name("embeddings.cache"));
        }
        settings
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let discord = &self.discord;
        for (key, ids) in
            [("guild_ids", &discord.guild_ids), ("channels", &discord.channels), ("admin_users", &discord.admin_users)]
        {
            if ids.contains(&0) {
                return Err(ConfigError::Rule(format!("discord.{key}: Discord ids are never 0")));
            }
        }
        if self.answer.min_confidence.is_some_and(|value| !(0.0..=1.0).contains(&value)) {
            return Err(ConfigError::Rule("answer.min_confidence must be between 0 and 1".into()));
        }
        if !(0.0..=1.0).contains(&self.reindex.min_pass) {
            return Err(ConfigError::Rule("reindex.min_pass must be between 0 and 1".into()));
        }
        if let Some(url) = &self.storage.url {
            url.parse().map_err(ConfigError::Rule)?;
        }
        if self.storage.auto_approve == Some(0) {
            return Err(ConfigError::Rule(
                "storage.auto_approve must be at least 1 (leave it unset to approve by hand only)".into(),
            ));
        }
        if self.fleet.name.as_deref().is_some_and(|name| name.trim().is_empty() || name.len() > FLEET_NAME_MAX) {
            return Err(ConfigError::Rule(format!("fleet.name must be 1 to {FLEET_NAME_MAX} bytes")));
        }
        if let (Some([first, last]), Shards::Total(total)) = (self.discord.shard_range, &self.discord.shards) {
            if first > last || last >= *total {
                return Err(ConfigError::Rule(format!(
                    "discord.shard_range [{first}, {last}] must lie within 0..{total}"
                )));
            }
        }
        Ok(())
    }
}

/// An environment value as TOML (`2`, `true`, `[1, 2]`) or else as a string.
fn env_value(value: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {value}")) {
        Ok(mut table) => table.remove("v").unwrap_or_else(|| toml::Value::String(value.to_string())),
        Err(_) => toml::Value::String(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_toml_and_env(text, vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_need_no_file_and_match_the_shipped_config() {
        let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.toml")).unwrap();
        assert_eq!(parse("", &[]).unwrap(), Config::default());
        assert_eq!(parse(&shipped, &[]).unwrap(), Config::default());
    }

    #[test]
    fn environment_overrides_files() {
        let vars = [
            ("TRANSITION_BOT_DISCORD__PROXY_URL", "http://127.0.0.1:9"),
            ("TRANSITION_BOT_DISCORD__SHARDS", "auto"),
            ("TRANSITION_BOT_DISCORD__GUILD_IDS", "[1, 2]"),
            ("TRANSITION_BOT_ANSWER__MIN_CONFIDENCE", "0.7"),
            ("TRANSITION_BOT_STORAGE__AUTO_APPROVE", "3"),
            ("UNRELATED", "x"),
        ];
        let config = parse("[discord]\nshards = 4\n", &vars).unwrap();
        assert_eq!(config.discord.proxy_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(config.discord.shards, Shards::Auto);
        assert_eq!(config.discord.guild_ids, [1, 2]);
        assert_eq!(config.answer.min_confidence, Some(0.7));
        assert_eq!(config.storage.auto_approve, Some(3));
        assert_eq!(parse("[storage]\nauto_approve = 5\n", &[]).unwrap().storage.auto_approve, Some(5));
        assert_eq!(Config::default().storage.auto_approve, None, "off unless set");
    }

    #[test]
    fn mistakes_are_errors_that_name_the_key() {
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            ("[discord]\ntokn = 1\n", &[], "tokn"),
            ("[nope]\n", &[], "nope"),
            ("", &[("TRANSITION_BOT_METRICS__LISTN", "x")], "listn"),
            ("", &[("TRANSITION_BOT_DISCORD", "x")], "TRANSITION_BOT_DISCORD"),
            ("[answer]\nmin_confidence = 2.0\n", &[], "min_confidence"),
            ("[discord]\nshards = \"many\"\n", &[], "shards"),
            ("[discord]\nshards = 2\nshard_range = [1, 2]\n", &[], "shard_range"),
            ("not toml", &[], "line 1"),
            ("[storage]\nurl = \"mysql://db/bot\"\n", &[], "postgres://"),
            ("[storage]\nurl = \"postgres://bot:hunter2@db/bot\"\n", &[], "TRANSITION_BOT_STORAGE__URL"),
            ("[fleet]\nname = \" \"\n", &[], "fleet.name"),
            ("[storage]\nauto_approve = 0\n", &[], "storage.auto_approve"),
            ("", &[("TRANSITION_BOT_STORAGE__AUTO_APPROVE", "many")], "auto_approve"),
        ];
        for (text, vars, named) in cases {
            let err = format!("{:#}", parse(text, vars).unwrap_err());
            assert!(err.contains(named), "{err} should name {named}");
        }
    }

    #[test]
    fn a_database_password_comes_only_from_the_environment_and_is_never_shown() {
        let vars = [("TRANSITION_BOT_STORAGE__URL", "postgres://bot:hunter2@db:5433/bot")];
        let config = parse("[storage]\nurl = \"postgres://bot@db/bot\"\n", &vars).unwrap();
        let url = config.storage.url.as_ref().unwrap();
        assert_eq!(url.parse().unwrap().get_password(), Some(&b"hunter2"[..]));
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("with password"), "{shown}");
        let plain = parse("[storage]\nurl = \"postgres://bot@db/bot\"\n", &[]).unwrap();
        assert!(format!("{plain:?}").contains("postgres://bot@db/bot"));
    }
}
