//! The Discord front end: serenity + poise. The only module that knows Discord.
//!
//! Questions (`/ask`, the Apps menu, mentions, channel questions, forum
//! posts) each make one call, `conversation::answering::deliver`; browse commands and button clicks through
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
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use poise::serenity_prelude as serenity;

use crate::config::{Config, DiscordConfig, ServerSettings, Trigger};
use crate::conversation::listening::Cooldowns;
use crate::conversation::Services;
use crate::ops::health::Health;
use crate::serving::shutdown::{self, ShutdownSignal};
use sharding::ShardPlan;

pub(crate) use convert::no_pings;

/// Environment variable holding the bot token; never read from files, never printed.
pub(crate) const TOKEN_VAR: &str = "DISCORD_TOKEN";

/// Shared by every command and event handler.
pub(crate) struct Data {
    /// The snapshot, reindexer, telemetry and conversation state `chat` has too.
    pub(crate) services: Services,
    pub(crate) config: Arc<Config>,
    pub(crate) health: Arc<Health>,
    /// When each recent member last had a channel message answered.
    cooldowns: Cooldowns,
    /// Ids of the latest events handled (messages, interactions), so an event
    /// Discord delivers twice (as around a resume) is answered once.
    seen: Mutex<lru::LruCache<(Delivery, u64), ()>>,
    /// What each server changed with `/settings`.
    pub(crate) servers: Servers,
    /// The bot asked for the Message Content intent: it can read plain messages.
    pub(crate) reads_messages: bool,
}

/// What each server changed with `/settings` (the database holds them; this
/// copy is read on every message, which never waits on the database). Shared
/// with the task that reloads a server's row when another process of the
/// fleet changed it.
pub(crate) type Servers = Arc<RwLock<HashMap<u64, ServerSettings>>>;

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

/// Connects to Discord and serves until the client stops or `signal`
/// (SIGTERM/Ctrl-C) shuts it down gracefully: no new events, replies in
/// flight finished, the gateway closed, the question log flushed. `health`
/// is kept current with the shards; `servers` holds each server's settings.
pub(crate) async fn serve(
    config: Config,
    services: Services,
    health: Arc<Health>,
    servers: Servers,
    signal: ShutdownSignal,
) -> anyhow::Result<()> {
    let token = token()?;
    let plan = sharding::plan(&config.discord)?;
    let config = Arc::new(config);
    if let Some(ids) = plan.shard_ids() {
        health.expect_shards(ids);
    }
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
    let intents = {
        let servers = servers.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        intents(&config, servers.values())
    };
    let (in_flight, telemetry) = (services.in_flight.clone(), services.telemetry.clone());
    let data = Data {
        services,
        config: config.clone(),
        health: health.clone(),
        cooldowns: Cooldowns::new(),
        seen: Mutex::new(lru::LruCache::new(SEEN_EVENTS)),
        servers,
        reads_messages: intents.contains(serenity::GatewayIntents::MESSAGE_CONTENT),
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
    result.map_err(|err| if rejected_token(&err) { anyhow::anyhow!(REJECTED_TOKEN) } else { err })
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

    /// Whether `user` may run admin commands and review examples: Manage
    /// Server (or Administrator) where they act, as Discord's `permissions`
    /// for them there say, or listed in `discord.admin_users`. Every admin
    /// check, of a command or a button, asks this.
    pub(crate) fn is_admin(&self, user: u64, permissions: Option<serenity::Permissions>) -> bool {
        self.config.discord.admin_users.contains(&user)
            || permissions.is_some_and(|permissions| permissions.manage_guild() || permissions.administrator())
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
        commands: slash::all(&data.services.host.snapshot().knowledge),
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
