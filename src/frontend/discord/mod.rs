//! The Discord front end: serenity + poise. The only module that knows Discord.
//!
//! Questions (`/ask`, mentions, channel questions) go through
//! `conversation::answering`; browse commands and button clicks through
//! `commands::run`; admin commands through `conversation::admin`. Every
//! reply leaves through `convert`, which fits it to Discord's limits.
//! Everything a button needs is in its `custom_id`, so buttons on old
//! messages keep working after a restart.

mod convert;
mod events;
mod retry;
pub(crate) mod sharding;
mod slash;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use poise::serenity_prelude as serenity;

use crate::config::{Config, DiscordConfig, ServerSettings, Trigger};
use crate::conversation::answering::{self, Answered, Place};
use crate::conversation::follow_ups::{Asker, Recent};
use crate::frontend::Services;
use crate::ops::events::Surface;
use crate::ops::fleet::Fleet;
use crate::ops::health::Health;
use crate::ops::metrics;
use crate::ops::telemetry::Telemetry;
use crate::serving::host::Host;
use crate::serving::reindex::Reindexer;
use crate::serving::shutdown::{self, InFlight, ShutdownSignal};
use sharding::ShardPlan;

pub(crate) use convert::no_pings;

/// Environment variable holding the bot token; never read from files, never printed.
pub(crate) const TOKEN_VAR: &str = "DISCORD_TOKEN";

/// Shared by every command and event handler.
pub(crate) struct Data {
    pub(crate) host: Arc<Host>,
    pub(crate) config: Arc<Config>,
    pub(crate) telemetry: Telemetry,
    pub(crate) reindexer: Reindexer,
    pub(crate) health: Arc<Health>,
    /// Replies being worked on; closed at shutdown so nothing new starts.
    pub(crate) in_flight: InFlight,
    /// When each member last had a channel question answered.
    cooldowns: Mutex<HashMap<u64, Instant>>,
    /// Ids of the latest events handled (messages, interactions), so an event
    /// Discord delivers twice (as around a resume) is answered once.
    seen: Mutex<lru::LruCache<(Delivery, u64), ()>>,
    /// Each member's last answered question per channel, for follow-ups.
    pub(crate) recent: Recent,
    /// What each server changed with `/settings` (the database holds them;
    /// this copy is read on every message, which never waits on the database).
    /// Shared with the task that reloads a server's row when another process of the fleet changed it.
    pub(crate) servers: Arc<std::sync::RwLock<HashMap<u64, ServerSettings>>>,
    pub(crate) fleet: Option<Fleet>,
    /// The bot asked for the Message Content intent: it can read plain messages.
    pub(crate) reads_messages: bool,
    /// Answers computed at once: each runs the model on the CPU, so more than
    /// one per core only queues inside the blocking pool and costs memory.
    answering: Arc<tokio::sync::Semaphore>,
}

/// What an event id names. A forum post's thread and its first message
/// share one id, and each is handled once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Delivery {
    Message,
    Interaction,
    Thread,
}

/// How many event ids `Data::seen` remembers: far more than arrive between
/// a delivery and its redelivery, in a few hundred kilobytes.
const SEEN_EVENTS: std::num::NonZeroUsize = match std::num::NonZeroUsize::new(16_384) {
    Some(n) => n,
    None => unreachable!(),
};

pub(crate) type Error = anyhow::Error;
pub(crate) type Context<'a> = poise::Context<'a, Data, Error>;

/// How long shutdown waits for replies in flight.
const REPLY_DEADLINE: Duration = Duration::from_secs(10);

/// Connects to Discord and serves until the client stops or a SIGTERM/Ctrl-C
/// shuts it down gracefully: no new events, replies in flight finished, the
/// gateway closed, the question log flushed.
pub(crate) async fn serve(config: Config, services: Services) -> anyhow::Result<()> {
    // First, so a signal during start-up is not lost.
    let signal = ShutdownSignal::install().context("cannot listen for shutdown signals")?;
    let token = token()?;
    let plan = sharding::plan(&config.discord)?;
    let config = Arc::new(config);
    let Services { host, reindexer, telemetry, metrics, fleet } = services;
    let health = Health::new();
    health.set_host(host.clone());
    if let Some(ids) = plan.shard_ids() {
        health.expect_shards(ids);
    }
    let server = match &config.metrics.listen {
        Some(listen) => {
            Some(metrics::serve(listen, metrics.clone(), health.clone(), telemetry.storage().cloned()).await?)
        }
        None => None,
    };
    let http = match &config.discord.proxy_url {
        // A proxy (or a fake Discord in tests) does the rate limiting, so serenity's is off.
        Some(url) => {
            serenity::HttpBuilder::new(&token).proxy(url.trim_end_matches('/')).ratelimiter_disabled(true).build()
        }
        None => serenity::HttpBuilder::new(&token).build(),
    };
    // A refused token ends here, saying what to do: serenity alone would warn
    // and go on to the gateway. Other failures are left to its reconnects.
    if let Err(err) = http.get_current_user().await {
        if refuses_token(&err) {
            anyhow::bail!(REJECTED_TOKEN);
        }
    }
    let servers = match telemetry.storage() {
        Some(storage) => storage.server_settings().await.unwrap_or_else(|err| {
            tracing::warn!(error = %err, "cannot read the servers' settings; using config.toml's for every server");
            HashMap::new()
        }),
        None => HashMap::new(),
    };
    let intents = intents(&config, servers.values());
    let servers = Arc::new(std::sync::RwLock::new(servers));
    let reloader = match (&fleet, telemetry.storage()) {
        (Some(fleet), Some(storage)) => {
            Some(tokio::spawn(reload_settings(fleet.clone(), storage.clone(), servers.clone())))
        }
        _ => None,
    };
    let in_flight = InFlight::new();
    let data = Data {
        host,
        config: config.clone(),
        telemetry: telemetry.clone(),
        reindexer,
        health: health.clone(),
        in_flight: in_flight.clone(),
        cooldowns: Mutex::new(HashMap::new()),
        seen: Mutex::new(lru::LruCache::new(SEEN_EVENTS)),
        recent: Recent::new(Duration::from_secs(config.discord.follow_up_secs)),
        servers,
        fleet,
        reads_messages: intents.contains(serenity::GatewayIntents::MESSAGE_CONTENT),
        answering: Arc::new(tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        )),
    };
    let (setup_failed, failed_setup) = tokio::sync::oneshot::channel();
    let mut client = serenity::ClientBuilder::new_with_http(http, intents)
        .framework(framework(data, setup_failed))
        .await
        .context("cannot create the Discord client")?;
    let shard_manager = client.shard_manager.clone();
    let watcher = tokio::spawn(watch_shards(shard_manager.clone(), health));
    let connection = async {
        match plan {
            ShardPlan::Auto => client.start_autosharded().await,
            ShardPlan::Range { total: 1, .. } => client.start().await,
            ShardPlan::Range { total, .. } if plan.is_whole() => client.start_shards(total).await,
            // serenity treats the range's end as inclusive.
            ShardPlan::Range { first, last, total } => client.start_shard_range(first..last, total).await,
        }
    };
    // Resolves only with a setup error: a setup that succeeded drops its sender.
    let failed_setup = async {
        match failed_setup.await {
            Ok(err) => err,
            Err(_) => std::future::pending().await,
        }
    };
    let result = tokio::select! {
        result = connection => result.context("Discord connection failed"),
        signal = signal.wait() => {
            tracing::info!(?signal, "shutting down");
            let stop_gateway = async { shard_manager.shutdown_all().await };
            let report = shutdown::graceful(&in_flight, REPLY_DEADLINE, stop_gateway, telemetry.shutdown()).await;
            report.flushed.context("the question log was not fully written")
        }
        // Without `Data` poise holds every event forever: connected but mute
        // helps nobody, so `serve` stops and a supervisor can restart it.
        err = failed_setup => {
            let stop_gateway = async { shard_manager.shutdown_all().await };
            // `graceful` logs a flush that failed; the setup error is what `serve` ends with.
            let _ = shutdown::graceful(&in_flight, REPLY_DEADLINE, stop_gateway, telemetry.shutdown()).await;
            Err(err.context("setting up after connecting to Discord failed"))
        }
    };
    watcher.abort();
    if let Some(reloader) = reloader {
        reloader.abort();
    }
    if let Some(server) = server {
        server.shutdown().await;
    }
    result.map_err(|err| if rejected_token(&err) { anyhow::anyhow!(REJECTED_TOKEN) } else { err })
}

/// Keeps `servers` current when any process of the fleet (this one too)
/// changes a server's settings: that server's row is read again.
async fn reload_settings(
    fleet: Fleet,
    storage: crate::ops::storage::Storage,
    servers: Arc<std::sync::RwLock<HashMap<u64, ServerSettings>>>,
) {
    let mut changes = fleet.settings_changes();
    loop {
        let guild = match changes.recv().await {
            Ok(guild) => guild,
            // Missed some: they are reloaded with the next change, or at the next start.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "fleet: settings changes came faster than they were read");
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        match storage.server_settings_of(guild).await {
            Ok(settings) => {
                let mut servers = servers.write().unwrap_or_else(|poisoned| poisoned.into_inner());
                match settings {
                    Some(settings) => servers.insert(guild, settings),
                    None => servers.remove(&guild),
                };
                tracing::info!(guild, "server settings reloaded");
            }
            Err(err) => tracing::warn!(guild, error = %err, "cannot reload a server's settings"),
        }
    }
}

/// What to do when Discord refuses the token, at start or on a later reconnect.
const REJECTED_TOKEN: &str = "Discord rejected the token in DISCORD_TOKEN: reset it in the Developer Portal \
     (https://discord.com/developers/applications → your application → Bot → Reset Token) and export the new \
     one as it is, without a `Bot ` prefix or quotes";

/// Whether `err` is Discord refusing the token: gateway close code 4004 or
/// HTTP 401. Retrying cannot help, so `serve` stops with `REJECTED_TOKEN`.
fn rejected_token(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.downcast_ref::<serenity::Error>().is_some_and(refuses_token))
}

fn refuses_token(err: &serenity::Error) -> bool {
    match err {
        serenity::Error::Gateway(serenity::GatewayError::InvalidAuthentication) => true,
        serenity::Error::Http(http) => http.status_code() == Some(serenity::StatusCode::UNAUTHORIZED),
        _ => false,
    }
}

/// Keeps shard status and heartbeat latency in `health` for `/healthz` and `/metrics`.
async fn watch_shards(shard_manager: Arc<serenity::ShardManager>, health: Arc<Health>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        for (id, runner) in shard_manager.runners.lock().await.iter() {
            health.set_gateway_connected(id.0, runner.stage == serenity::ConnectionStage::Connected);
            if let Some(latency) = runner.latency {
                health.set_heartbeat_latency(id.0, latency);
            }
        }
    }
}

impl Data {
    /// How the bot answers messages in `guild` (direct messages: the defaults).
    pub(crate) fn rules(&self, guild: Option<u64>) -> DiscordConfig {
        let servers = self.servers.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        let settings = guild.and_then(|guild| servers.get(&guild)).cloned().unwrap_or_default();
        settings.over(&self.config.discord)
    }

    /// True the first time event `id` of this kind is seen; a redelivery is
    /// logged at debug.
    pub(crate) fn first_delivery(&self, kind: Delivery, id: u64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let first = seen.put((kind, id), ()).is_none();
        if !first {
            tracing::debug!(id, ?kind, "event delivered again, ignored");
        }
        first
    }

    /// Answers on a blocking thread, so search and model work never stall
    /// the gateway's tasks, at most one per core at a time. A follow-up is read with the asker's last answered
    /// question there, and an answered question becomes their context.
    async fn answer(&self, question: &str, asker: Asker) -> Result<Answered, Error> {
        let snapshot = self.host.snapshot();
        let asked = question.to_string();
        let previous = self.recent.previous(asker);
        let permit = self.answering.clone().acquire_owned().await?;
        let answered = tokio::task::spawn_blocking(move || {
            let answered = answering::answer_after(&snapshot, previous.as_deref(), &asked);
            drop(permit);
            answered
        })
        .await?;
        if answered.answer.read_with_previous.is_some() {
            tracing::debug!(channel = asker.0, "a follow-up, read with the member's previous question");
        }
        if let Some(context) = answered.context() {
            self.recent.remember(asker, context);
        }
        Ok(answered)
    }

    /// Records a question once its reply is sent (or deliberately withheld).
    fn record(&self, answered: &Answered, surface: Surface, guild: Option<u64>, channel: u64) {
        self.telemetry.question(answered.event(surface, Place { guild_id: guild, channel_id: Some(channel) }));
    }
}

/// The token from the environment; the error names the variable, never a value.
pub(crate) fn token() -> anyhow::Result<String> {
    let token = std::env::var(TOKEN_VAR).unwrap_or_default().trim().to_string();
    if token.is_empty() {
        anyhow::bail!(
            "{TOKEN_VAR} is not set: create a bot at https://discord.com/developers/applications and export its token"
        );
    }
    Ok(token)
}

/// Only what the bot uses. MESSAGE_CONTENT is privileged and needed only to
/// read plain questions in answer channels (from `config.toml` or a server's
/// `/settings` when the bot starts); mentions carry their content anyway.
pub(crate) fn intents<'a>(
    config: &Config,
    servers: impl IntoIterator<Item = &'a ServerSettings>,
) -> serenity::GatewayIntents {
    let mut intents = serenity::GatewayIntents::GUILDS
        | serenity::GatewayIntents::GUILD_MESSAGES
        | serenity::GatewayIntents::DIRECT_MESSAGES;
    // A forum post's first message is a plain message too.
    let answers_channels = |rules: DiscordConfig| {
        (!rules.channels.is_empty() && rules.trigger != Trigger::Mention) || !rules.forums.is_empty()
    };
    let by_default = answers_channels(ServerSettings::default().over(&config.discord));
    if by_default || servers.into_iter().any(|server| answers_channels(server.over(&config.discord))) {
        intents |= serenity::GatewayIntents::MESSAGE_CONTENT;
    }
    intents
}

/// poise's framework; a failure of its setup on the first READY (registering
/// the commands) is sent on `setup_failed` for `serve` to stop with.
fn framework(data: Data, setup_failed: tokio::sync::oneshot::Sender<Error>) -> poise::Framework<Data, Error> {
    let options = poise::FrameworkOptions {
        commands: slash::all(&data.host.snapshot().knowledge),
        on_error: |error| Box::pin(slash::on_error(error)),
        // A redelivered interaction fails this check and is dropped quietly (see `slash::on_error`).
        command_check: Some(|ctx| {
            Box::pin(async move { Ok(ctx.data().first_delivery(Delivery::Interaction, ctx.id())) })
        }),
        event_handler: |framework, event| Box::pin(events::handle(framework, event)),
        allowed_mentions: Some(no_pings()),
        // Prefix commands are not used: questions in channels are handled as events.
        prefix_options: poise::PrefixFrameworkOptions { prefix: None, mention_as_prefix: false, ..Default::default() },
        ..Default::default()
    };
    poise::Framework::builder()
        .options(options)
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                let registered = register_commands(&ctx.http, framework, &data.config.discord.guild_ids).await;
                if let Err(err) = registered {
                    // poise's `on_error` gets no way to stop the client, so
                    // the error goes to `serve`; poise gets a placeholder
                    // that `slash::on_error` leaves unsaid.
                    let _ = setup_failed.send(err);
                    anyhow::bail!("setup failed; serve reports it");
                }
                tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
                Ok(data)
            })
        })
        .build()
}

/// Registers every command globally, or in each of `guilds` when some are configured.
async fn register_commands(
    http: &serenity::Http,
    framework: &poise::Framework<Data, Error>,
    guilds: &[u64],
) -> anyhow::Result<()> {
    let commands = command_definitions(&framework.options().commands)?;
    if guilds.is_empty() {
        http.create_global_commands(&commands).await.context("cannot register the slash commands")?;
    }
    for guild in guilds {
        http.create_guild_commands(serenity::GuildId::new(*guild), &commands)
            .await
            .with_context(|| format!("cannot register the slash commands in server {guild}"))?;
    }
    Ok(())
}

/// poise's command definitions as JSON, with `default_member_permissions` as
/// the integer Discord's OpenAPI schema specifies (serenity sends a string).
fn command_definitions(commands: &[poise::Command<Data, Error>]) -> anyhow::Result<serde_json::Value> {
    let mut definitions = serde_json::to_value(poise::builtins::create_application_commands(commands))?;
    for definition in definitions.as_array_mut().into_iter().flatten() {
        let permissions = &mut definition["default_member_permissions"];
        if let Some(number) = permissions.as_str().and_then(|text| text.parse::<u64>().ok()) {
            *permissions = serde_json::Value::from(number);
        }
    }
    Ok(definitions)
}
