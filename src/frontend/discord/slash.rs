//! Slash commands. Each is a thin shell: read the options, run the core
//! command on one snapshot, send the reply. Names, descriptions and option
//! limits come from `conversation::commands::COMMANDS` (applied in `all`), so
//! Discord, the terminal and `/help` describe the same commands.

use poise::serenity_prelude as serenity;

use super::{convert, retry, Context, Data, Error};
use crate::config::Trigger;
use crate::conversation::admin::{
    reindex_reply, review_reply, settings_request, stats_reply, SettingsChange, SettingsRequest,
};
use crate::conversation::answering::{self, Asked, Place, Via};
#[cfg(test)]
use crate::conversation::commands::OptionKind;
use crate::conversation::commands::{self, Command, COMMANDS};
use crate::conversation::reply::{limits, truncate_text, Reply, UserError};
use crate::engine::knowledge::Knowledge;
use crate::engine::search::strip_discord_markup;

/// The handlers, described from the command table for `knowledge`, and the
/// message menu's "Ask transition-bot".
pub(crate) fn all(knowledge: &Knowledge) -> Vec<poise::Command<Data, Error>> {
    let handlers = vec![ask(), phases(), phase(), compare(), faq(), help(), reindex(), settings(), stats(), examples()];
    let mut commands: Vec<_> = handlers.into_iter().filter_map(|handler| describe(handler, knowledge)).collect();
    commands.push(ask_about_message());
    commands
}

/// Applies the table's descriptions to a handler; `None` for a handler the
/// table does not list (`registered_commands_match_the_table` fails on one).
fn describe(mut handler: poise::Command<Data, Error>, knowledge: &Knowledge) -> Option<poise::Command<Data, Error>> {
    let spec = COMMANDS.iter().find(|spec| spec.name == handler.name)?;
    handler.description = Some(truncate_text(&spec.help_for(knowledge), limits::COMMAND_DESCRIPTION).into());
    for parameter in &mut handler.parameters {
        if let Some(option) = spec.options.iter().find(|option| option.name == parameter.name) {
            parameter.description = Some(option.help.into());
        }
    }
    Some(handler)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registered commands are exactly the table's, with its options,
    /// required flags and text limits (the `max_length` attributes above
    /// must repeat the table's numbers: poise takes them only as literals).
    #[test]
    fn registered_commands_match_the_table() {
        let knowledge = Knowledge::default();
        let commands: Vec<_> = all(&knowledge).into_iter().filter(|command| command.slash_action.is_some()).collect();
        assert_eq!(commands.len(), COMMANDS.len(), "a handler or a table entry is missing");
        let registered = serde_json::to_value(poise::builtins::create_application_commands(&commands)).unwrap();
        for (spec, definition) in COMMANDS.iter().zip(registered.as_array().unwrap()) {
            assert_eq!(definition["name"], spec.name);
            assert!(definition["description"].as_str().unwrap().chars().count() <= limits::COMMAND_DESCRIPTION);
            let options = definition["options"].as_array().cloned().unwrap_or_default();
            let names: Vec<&str> = options.iter().map(|o| o["name"].as_str().unwrap()).collect();
            let expected: Vec<&str> = spec.options.iter().map(|o| o.name).collect();
            assert_eq!(names, expected, "/{}", spec.name);
            for (option, registered) in spec.options.iter().zip(&options) {
                assert_eq!(registered["required"].as_bool().unwrap_or(false), option.required, "/{}", spec.name);
                if let OptionKind::Text { max_length } = option.kind {
                    assert_eq!(registered["max_length"], u64::from(max_length), "/{} {}", spec.name, option.name);
                }
            }
            let admin = definition["default_member_permissions"].is_string()
                || definition["default_member_permissions"].is_number();
            assert_eq!(admin, spec.admin, "/{}", spec.name);
        }
    }
}

/// Sends a core reply; `convert` fits it to Discord's limits.
async fn send(ctx: Context<'_>, reply: &Reply) -> Result<(), Error> {
    retry::send("interaction reply", || ctx.send(convert::poise_reply(reply))).await?;
    Ok(())
}

/// Runs a browse command; a `UserError` is shown to the user only.
async fn run(ctx: Context<'_>, command: Command) -> Result<(), Error> {
    let Some(_replying) = ctx.data().services.in_flight.begin() else { return Ok(()) };
    let snapshot = ctx.data().services.host.snapshot();
    let reply = commands::run(&snapshot, &command).unwrap_or_else(|UserError(message)| Reply::notice(message));
    send(ctx, &reply).await
}

/// Ask a question about moving from software development into AI engineering.
///
/// Replies with the most relevant passage, where it comes from, and the roadmap phase it relates to.
#[poise::command(slash_command)]
async fn ask(
    ctx: Context<'_>,
    #[description = "Your question, e.g. \"How long does it take?\""]
    #[autocomplete = "complete_question"]
    #[max_length = 1000]
    question: String,
    #[description = "Only you see the answer"] private: Option<bool>,
) -> Result<(), Error> {
    deliver(ctx, question, Via::Slash { private: private.unwrap_or(false) }).await
}

/// Apps → "Ask transition-bot" on any message: the answer to that message's
/// text, shown first only to the helper who asked, with a button that posts
/// it in the channel as a reply to the message.
#[poise::command(context_menu_command = "Ask transition-bot")]
async fn ask_about_message(ctx: Context<'_>, message: serenity::Message) -> Result<(), Error> {
    let question = strip_discord_markup(&message.content);
    if question.trim().is_empty() {
        let notice = "That message has no text to answer (only images, files or embeds).";
        return send(ctx, &Reply::notice(notice)).await;
    }
    deliver(ctx, question, Via::MessageMenu { message: message.id.get() }).await
}

/// Answers an interaction's question through the one delivery path.
async fn deliver(ctx: Context<'_>, question: String, via: Via) -> Result<(), Error> {
    let asked = Asked {
        text: question,
        via,
        place: Place { guild_id: ctx.guild_id().map(|id| id.get()), channel_id: Some(ctx.channel_id().get()) },
        member: ctx.author().id.get(),
    };
    answering::deliver(&ctx.data().services, asked, |reply| async move { send(ctx, &reply).await }).await?;
    Ok(())
}

async fn complete_question(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let snapshot = ctx.data().services.host.snapshot();
    let choices = commands::complete_question(&snapshot.knowledge, partial);
    autocomplete(choices)
}

async fn complete_dimension(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let snapshot = ctx.data().services.host.snapshot();
    autocomplete(commands::complete_dimension(&snapshot.knowledge, partial))
}

fn autocomplete(choices: Vec<String>) -> serenity::CreateAutocompleteResponse {
    let choices = choices
        .into_iter()
        .take(limits::AUTOCOMPLETE_CHOICES)
        .map(|choice| serenity::AutocompleteChoice::new(choice.clone(), choice))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// The roadmap: every phase in one line, and where it sits in the months.
#[poise::command(slash_command)]
async fn phases(ctx: Context<'_>) -> Result<(), Error> {
    run(ctx, Command::Phases).await
}

/// One roadmap phase: summary, activities, and what comes before and after.
#[poise::command(slash_command)]
async fn phase(
    ctx: Context<'_>,
    // No maximum: the roadmap's length comes from the knowledge files.
    #[description = "Phase number, from 1"]
    #[min = 1]
    number: i64,
) -> Result<(), Error> {
    match commands::phase_command(number) {
        Ok(command) => run(ctx, command).await,
        Err(UserError(message)) => send(ctx, &Reply::notice(message)).await,
    }
}

/// Software engineer vs AI engineer: the whole comparison, or one dimension.
#[poise::command(slash_command)]
async fn compare(
    ctx: Context<'_>,
    #[description = "A dimension such as \"Testing Approach\"; leave empty for the whole table"]
    #[autocomplete = "complete_dimension"]
    #[max_length = 100]
    dimension: Option<String>,
) -> Result<(), Error> {
    run(ctx, Command::Compare(dimension)).await
}

/// Frequently asked questions and their answers.
#[poise::command(slash_command)]
async fn faq(ctx: Context<'_>) -> Result<(), Error> {
    run(ctx, Command::Faq).await
}

/// What this bot can do and how to ask it.
#[poise::command(slash_command)]
async fn help(ctx: Context<'_>) -> Result<(), Error> {
    run(ctx, Command::Help).await
}

/// Admins: reload the knowledge base from disk now.
#[poise::command(slash_command, default_member_permissions = "MANAGE_GUILD", ephemeral)]
async fn reindex(ctx: Context<'_>) -> Result<(), Error> {
    if !is_admin(ctx) {
        return send(ctx, &Reply::notice("Only server managers and configured admins can reindex.")).await;
    }
    let Some(_replying) = ctx.data().services.in_flight.begin() else { return Ok(()) };
    ctx.defer_ephemeral().await?;
    let data = ctx.data();
    send(ctx, &reindex_reply(&data.services.reindexer, data.services.fleet.as_ref()).await).await
}

/// `/settings trigger`: when the bot answers plain messages in answer channels.
#[derive(Clone, Copy, poise::ChoiceParameter)]
enum TriggerChoice {
    #[name = "mention"]
    Mention,
    #[name = "question"]
    Question,
    #[name = "all"]
    All,
}

/// Admins: how the bot answers in this server.
#[poise::command(slash_command, default_member_permissions = "MANAGE_GUILD", ephemeral, guild_only)]
#[allow(clippy::too_many_arguments)] // one per option, as Discord shows them
async fn settings(
    ctx: Context<'_>,
    #[description = "Answer plain questions in this channel too"]
    #[channel_types("Text", "News")]
    add_channel: Option<serenity::ChannelId>,
    #[description = "Stop answering plain questions in this channel"]
    #[channel_types("Text", "News")]
    remove_channel: Option<serenity::ChannelId>,
    #[description = "Answer new posts in this help forum when sure"]
    #[channel_types("Forum")]
    add_forum: Option<serenity::ChannelId>,
    #[description = "Stop answering posts in this forum"]
    #[channel_types("Forum")]
    remove_forum: Option<serenity::ChannelId>,
    #[description = "The forum tag ✅ Solved applies, e.g. Solved (\"none\" for no tag)"]
    #[max_length = 100]
    solved_tag: Option<String>,
    #[description = "In those channels: only mentions, messages that read as questions, or all"] trigger: Option<
        TriggerChoice,
    >,
    #[description = "Seconds a member waits between channel questions"]
    #[min = 0]
    #[max = 86400]
    cooldown: Option<i64>,
    #[description = "In those channels, post the closest topics when no answer is sure"] suggest_when_unsure: Option<
        bool,
    >,
    #[description = "Back to the bot's defaults (config.toml)"] reset: Option<bool>,
) -> Result<(), Error> {
    if !is_admin(ctx) {
        return send(ctx, &Reply::notice("Only server managers and configured admins can change settings.")).await;
    }
    let Some(guild) = ctx.guild_id().map(|id| id.get()) else {
        return send(ctx, &Reply::notice("Settings belong to a server: use /settings there.")).await;
    };
    let change = SettingsChange {
        add_channel: add_channel.map(|id| id.get()),
        remove_channel: remove_channel.map(|id| id.get()),
        add_forum: add_forum.map(|id| id.get()),
        remove_forum: remove_forum.map(|id| id.get()),
        solved_tag: solved_tag.as_deref().map(SettingsChange::solved_tag),
        trigger: trigger.map(|choice| match choice {
            TriggerChoice::Mention => Trigger::Mention,
            TriggerChoice::Question => Trigger::Question,
            TriggerChoice::All => Trigger::All,
        }),
        cooldown_secs: cooldown.and_then(|secs| u64::try_from(secs).ok()),
        suggest_when_unsure,
        reset: reset.unwrap_or(false),
    };
    let data = ctx.data();
    let storage = data.services.telemetry.storage();
    let reply =
        match settings_request(&change, guild, &data.servers, storage, &data.config.discord, data.reads_messages) {
            SettingsRequest::Now(reply) => reply,
            // Saving can take longer than Discord's three seconds.
            SettingsRequest::Save(save) => {
                ctx.defer_ephemeral().await?;
                save.run().await
            }
        };
    send(ctx, &reply).await
}

/// Admins: what members asked, what went unanswered, which answers got 👎.
#[poise::command(slash_command, default_member_permissions = "MANAGE_GUILD", ephemeral)]
async fn stats(
    ctx: Context<'_>,
    #[description = "Time window such as 24h, 7d or all (default 7d)"]
    #[max_length = 100]
    since: Option<String>,
) -> Result<(), Error> {
    if !is_admin(ctx) {
        return send(ctx, &Reply::notice("Only server managers and configured admins can see stats.")).await;
    }
    // Reading the log can take longer than Discord's three seconds.
    ctx.defer_ephemeral().await?;
    send(ctx, &stats_reply(ctx.data().services.telemetry.storage(), since.as_deref()).await).await
}

/// Admins: review what members taught the bot, approve or reject.
#[poise::command(slash_command, default_member_permissions = "MANAGE_GUILD", ephemeral)]
async fn examples(ctx: Context<'_>) -> Result<(), Error> {
    if !is_admin(ctx) {
        return send(ctx, &Reply::notice("Only server managers and configured admins can review examples.")).await;
    }
    ctx.defer_ephemeral().await?;
    let guild = ctx.guild_id().map(|id| id.get());
    send(ctx, &review_reply(ctx.data().services.telemetry.storage(), guild).await).await
}

/// Whether whoever ran the command is an admin (`Data::is_admin`), from
/// their permissions in this guild.
fn is_admin(ctx: Context<'_>) -> bool {
    let permissions = match ctx {
        Context::Application(app) => app.interaction.member.as_ref().and_then(|member| member.permissions),
        Context::Prefix(_) => None,
    };
    ctx.data().is_admin(ctx.author().id.get(), permissions)
}

/// Logs the whole error chain and tells the user briefly; the bot keeps running.
pub(crate) async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            tracing::error!(command = %ctx.command().name, error = format!("{error:#}"), "command failed");
            let notice = Reply::notice("Sorry, something went wrong answering that. It has been logged.");
            if let Err(err) = ctx.send(convert::poise_reply(&notice)).await {
                tracing::warn!(error = %err, "could not report a failed command");
            }
        }
        // The only check is `Data::first_delivery`: a redelivered interaction, already answered.
        poise::FrameworkError::CommandCheckFailed { error: None, .. } => {}
        // The setup sent its error to `serve`, which stops with it in one line;
        // poise's default would print another.
        poise::FrameworkError::Setup { .. } => {}
        other => {
            if let Err(err) = poise::builtins::on_error(other).await {
                tracing::error!(error = %err, "error while handling an error");
            }
        }
    }
}
