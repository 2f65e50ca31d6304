//! Gateway events poise does not handle itself: channel questions, help
//! forum posts and button clicks.

use std::time::Duration;

use poise::serenity_prelude as serenity;

use super::{convert, retry, Data, Delivery, Error};
use crate::conversation::admin;
use crate::conversation::answering::{self, Asked, Place, Via};
use crate::conversation::commands::{self, Command};
use crate::conversation::listening::{self, Heard};
use crate::conversation::render;
use crate::conversation::reply::{Action, Reply};
use crate::engine::search::strip_discord_markup;
use crate::ops::events::{ExampleEvent, ExampleSource, VoteEvent};

pub(crate) async fn handle(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &serenity::FullEvent,
) -> Result<(), Error> {
    let ctx = framework.serenity_context;
    let data = framework.user_data;
    match event {
        serenity::FullEvent::Message { new_message } => on_message(ctx, data, new_message).await,
        serenity::FullEvent::ThreadCreate { thread } => on_thread(ctx, data, thread).await,
        serenity::FullEvent::InteractionCreate { interaction: serenity::Interaction::Component(click) } => {
            on_click(ctx, data, click).await
        }
        serenity::FullEvent::Ready { data_about_bot } => {
            let shard = data_about_bot.shard.map_or(0, |shard| shard.id.0);
            tracing::info!(shard, "gateway ready");
            data.health.set_gateway_connected(shard, true);
            Ok(())
        }
        serenity::FullEvent::ShardsReady { total_shards } => {
            tracing::info!(total_shards, "all shards ready");
            // With "auto" the count is known only now; a fixed plan set it at start.
            if data.config.discord.shards == crate::config::Shards::Auto {
                data.health.expect_shards(0..*total_shards);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Answers a mention anywhere, a question in an answer channel, or a
/// member's follow-up to the bot's recent answer.
async fn on_message(ctx: &serenity::Context, data: &Data, message: &serenity::Message) -> Result<(), Error> {
    let me = ctx.cache.current_user().id;
    if message.author.bot || message.author.id == me || !data.first_delivery(Delivery::Message, message.id.get()) {
        return Ok(());
    }
    let mentioned = message.mentions.iter().any(|user| user.id == me);
    let rules = data.rules(message.guild_id.map(|id| id.get()));
    // The first message of a forum post has the thread's id. In a help forum
    // it is answered with the post, by `on_thread`, even when it mentions the bot.
    if message.id.get() == message.channel_id.get() && !rules.forums.is_empty() {
        let thread = message.channel_id.to_channel(&ctx.http).await.ok().and_then(|channel| channel.guild());
        if thread.and_then(|thread| thread.parent_id).is_some_and(|forum| rules.forums.contains(&forum.get())) {
            return Ok(());
        }
    }
    let previous = data.services.recent.previous((message.channel_id.get(), message.author.id.get()));
    let heard = Heard {
        text: &message.content,
        channel_id: message.channel_id.get(),
        mentioned,
        previous: previous.as_deref(),
    };
    let Some(via) = listening::via(&rules, &heard) else {
        return Ok(());
    };
    if via != Via::Mention
        && !data.cooldowns.may_answer(message.author.id.get(), Duration::from_secs(rules.cooldown_secs))
    {
        return Ok(());
    }
    let asked = Asked {
        text: strip_discord_markup(&message.content),
        via,
        place: Place { guild_id: message.guild_id.map(|id| id.get()), channel_id: Some(message.channel_id.get()) },
        member: message.author.id.get(),
    };
    answering::deliver(&data.services, asked, |reply| async move {
        let reply = convert::message(&reply).reference_message(message);
        retry::send("channel reply", || message.channel_id.send_message(&ctx.http, reply.clone())).await?;
        Ok::<_, Error>(())
    })
    .await?;
    Ok(())
}

/// Phase buttons show the phase; vote buttons record the vote and thank; a
/// post button posts a privately shown answer in the channel; ✅ Solved
/// marks a forum post solved.
async fn on_click(ctx: &serenity::Context, data: &Data, click: &serenity::ComponentInteraction) -> Result<(), Error> {
    let Some(action) = Action::parse(&click.data.custom_id) else {
        return Ok(());
    };
    if !data.first_delivery(Delivery::Interaction, click.id.get()) {
        return Ok(());
    }
    let Some(_replying) = data.services.in_flight.begin() else { return Ok(()) };
    let reply = match action {
        Action::Post { message } => return post_answer(ctx, click, message).await,
        Action::Pick { unit } => return pick(ctx, data, click, &unit).await,
        Action::Review { id, approve } => {
            let permissions = click.member.as_ref().and_then(|member| member.permissions);
            if !data.is_admin(click.user.id.get(), permissions) {
                Reply::notice("Only server managers and configured admins can review examples.")
            } else {
                let storage = data.services.telemetry.storage();
                admin::decide_reply(
                    storage,
                    &data.services.host,
                    &data.services.reindexer,
                    id,
                    approve,
                    click.user.id.get(),
                )
                .await
            }
        }
        Action::Solved { owner } => mark_solved(ctx, data, click, owner).await?,
        Action::Phase(number) => {
            let snapshot = data.services.host.snapshot();
            let mut reply =
                commands::run(&snapshot, &Command::Phase(number)).unwrap_or_else(|err| Reply::notice(err.0));
            // Only the clicker sees it, so one member's browsing doesn't flood the channel.
            reply.ephemeral = true;
            reply
        }
        Action::Vote { helpful, unit } => {
            let guild_id = click.guild_id.map(|id| id.get());
            let (channel_id, user_id) = (Some(click.channel_id.get()), click.user.id.get());
            // The question answered, when Discord says: the member's message the answer replies to.
            let asked = click.message.referenced_message.as_ref().map(|message| strip_discord_markup(&message.content));
            if let Some(text) = asked.filter(|text| !text.trim().is_empty()) {
                let source = if helpful { ExampleSource::Upvote } else { ExampleSource::Downvote };
                data.services.telemetry.example(ExampleEvent {
                    text,
                    unit: unit.clone(),
                    source,
                    guild_id,
                    channel_id,
                    user_id,
                });
            }
            data.services.telemetry.vote(VoteEvent { unit, helpful, guild_id, channel_id, user_id });
            Reply::notice(if helpful {
                "Thanks, glad it helped!"
            } else {
                "Thanks for telling me; this helps improve the answers."
            })
        }
    };
    let response = serenity::CreateInteractionResponse::Message(convert::interaction_message(&reply));
    retry::send("button reply", || click.create_response(&ctx.http, response.clone())).await?;
    Ok(())
}

/// A new post in a help forum: its title and first message are answered in
/// its thread when the bot is sure (or, when the server asked, the closest
/// topics are posted). A post is answered once: whether the bot already
/// posted in the thread is read from the thread, so a restart or a
/// redelivered event changes nothing.
async fn on_thread(ctx: &serenity::Context, data: &Data, thread: &serenity::GuildChannel) -> Result<(), Error> {
    let rules = data.rules(Some(thread.guild_id.get()));
    let in_forum = thread.parent_id.is_some_and(|forum| rules.forums.contains(&forum.get()));
    if !in_forum || !data.first_delivery(Delivery::Thread, thread.id.get()) {
        return Ok(());
    }
    let me = ctx.cache.current_user().id;
    let messages = thread.id.messages(&ctx.http, serenity::GetMessages::new().limit(50)).await?;
    if messages.iter().any(|message| message.author.id == me) {
        tracing::debug!(thread = thread.id.get(), "forum post already answered");
        return Ok(());
    }
    // The starter message of a forum post has the thread's id.
    let first = messages.iter().find(|message| message.id.get() == thread.id.get());
    let body = first.map(|message| strip_discord_markup(&message.content)).unwrap_or_default();
    let owner = thread.owner_id.map_or(0, |id| id.get());
    let asked = Asked {
        text: format!("{}\n{body}", thread.name),
        via: Via::Forum { owner, suggest_when_unsure: rules.suggest_when_unsure },
        place: Place { guild_id: Some(thread.guild_id.get()), channel_id: Some(thread.id.get()) },
        member: owner,
    };
    answering::deliver(&data.services, asked, |reply| async move {
        let message = convert::message(&reply);
        retry::send("forum answer", || thread.id.send_message(&ctx.http, message.clone())).await?;
        Ok::<_, Error>(())
    })
    .await?;
    Ok(())
}

/// ✅ Solved on a forum answer: the post's author or a moderator (Manage
/// Threads) marks it solved, which applies the server's Solved tag when the
/// forum has one.
async fn mark_solved(
    ctx: &serenity::Context,
    data: &Data,
    click: &serenity::ComponentInteraction,
    owner: u64,
) -> Result<Reply, Error> {
    let moderator = click.member.as_ref().and_then(|member| member.permissions).is_some_and(|p| p.manage_threads());
    if click.user.id.get() != owner && !moderator {
        return Ok(Reply::notice("Only the post's author or a moderator can mark it solved."));
    }
    let rules = data.rules(click.guild_id.map(|id| id.get()));
    let Some(tag_name) = rules.solved_tag else {
        return Ok(Reply::notice("Marked as solved. Thanks for closing the loop!"));
    };
    let serenity::Channel::Guild(thread) = click.channel_id.to_channel(&ctx.http).await? else {
        return Ok(Reply::notice("Marked as solved."));
    };
    let forum = match thread.parent_id {
        Some(parent) => parent.to_channel(&ctx.http).await?.guild(),
        None => None,
    };
    let tag =
        forum.and_then(|forum| forum.available_tags.into_iter().find(|tag| tag.name.eq_ignore_ascii_case(&tag_name)));
    let Some(tag) = tag else {
        return Ok(Reply::notice(format!("Marked as solved (this forum has no “{tag_name}” tag to apply).")));
    };
    if !thread.applied_tags.contains(&tag.id) {
        let mut tags = thread.applied_tags.clone();
        tags.push(tag.id);
        click.channel_id.edit_thread(&ctx.http, serenity::EditThread::new().applied_tags(tags)).await?;
    }
    Ok(Reply::notice(format!("Marked as solved: tagged “{}”.", tag.name)))
}

/// A member picked one of the choices an unsure reply offered: the reply
/// becomes that passage, in place, and the pick is recorded as a candidate
/// example (the question, from the reply's footer, and the passage).
async fn pick(
    ctx: &serenity::Context,
    data: &Data,
    click: &serenity::ComponentInteraction,
    key: &str,
) -> Result<(), Error> {
    let snapshot = data.services.host.snapshot();
    let question = click
        .message
        .embeds
        .first()
        .and_then(|embed| embed.footer.as_ref())
        .and_then(|footer| render::asked_in(&footer.text).map(str::to_string));
    let (Some(unit), Some(question)) = (render::unit_of_pick(&snapshot.knowledge, key), question) else {
        let notice = Reply::notice("That passage has changed since I offered it. Please ask again.");
        let response = serenity::CreateInteractionResponse::Message(convert::interaction_message(&notice));
        retry::send("button reply", || click.create_response(&ctx.http, response.clone())).await?;
        return Ok(());
    };
    let place = Place { guild_id: click.guild_id.map(|id| id.get()), channel_id: Some(click.channel_id.get()) };
    let (reply, example) = answering::picked(&snapshot, &question, unit, place, click.user.id.get());
    let response = serenity::CreateInteractionResponse::UpdateMessage(convert::interaction_message(&reply));
    retry::send("picked answer", || click.create_response(&ctx.http, response.clone())).await?;
    data.services.telemetry.example(example);
    Ok(())
}

/// Posts the answer shown privately on `click.message` as a reply to
/// `message`, then takes the button off the private copy, so the answer is
/// posted once.
async fn post_answer(
    ctx: &serenity::Context,
    click: &serenity::ComponentInteraction,
    message: u64,
) -> Result<(), Error> {
    let posted = convert::repost(&click.message, message);
    retry::send("posted answer", || click.channel_id.send_message(&ctx.http, posted.clone())).await?;
    let done = serenity::CreateInteractionResponseMessage::new()
        .content("Posted in the channel.")
        .components(Vec::new())
        .allowed_mentions(convert::no_pings());
    let response = serenity::CreateInteractionResponse::UpdateMessage(done);
    retry::send("button reply", || click.create_response(&ctx.http, response.clone())).await?;
    Ok(())
}
