//! Core `Reply`s to serenity builders. Every reply the bot sends to Discord
//! passes through here, so this is where it is fitted to Discord's limits
//! (`Reply::clamp`), once, at delivery: answers, browse replies and error
//! notices alike.

use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle as SerenityStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed, CreateEmbedFooter,
};

use crate::conversation::reply::{limits, Action, ButtonStyle, Reply};

/// Embed colour of the bot's replies.
const COLOUR: u32 = 0x5865f2;

/// Mentions nobody: not @everyone, @here, roles, users, nor the asker of a
/// replied-to message, whatever the question or the knowledge text contains.
pub(crate) fn no_pings() -> CreateAllowedMentions {
    // An empty `parse` list with no ids allows nothing; `replied_user` covers replies.
    CreateAllowedMentions::new().replied_user(false)
}

fn embeds(reply: &Reply) -> Vec<CreateEmbed> {
    reply
        .embeds
        .iter()
        .map(|embed| {
            let mut created = CreateEmbed::new().colour(COLOUR);
            if !embed.title.is_empty() {
                created = created.title(&embed.title);
            }
            if !embed.description.is_empty() {
                created = created.description(&embed.description);
            }
            created = created.fields(embed.fields.iter().map(|f| (f.name.clone(), f.value.clone(), f.inline)));
            if let Some(footer) = &embed.footer {
                created = created.footer(CreateEmbedFooter::new(footer));
            }
            created
        })
        .collect()
}

/// Buttons in rows of five, as Discord requires.
fn components(reply: &Reply) -> Vec<CreateActionRow> {
    reply
        .buttons
        .chunks(limits::BUTTONS_PER_ROW)
        .take(limits::BUTTON_ROWS)
        .map(|row| {
            let buttons = row
                .iter()
                .map(|button| {
                    let style = match button.style {
                        ButtonStyle::Primary => SerenityStyle::Primary,
                        ButtonStyle::Secondary => SerenityStyle::Secondary,
                        ButtonStyle::Success => SerenityStyle::Success,
                        ButtonStyle::Danger => SerenityStyle::Danger,
                    };
                    CreateButton::new(button.action.custom_id()).label(&button.label).style(style)
                })
                .collect();
            CreateActionRow::Buttons(buttons)
        })
        .collect()
}

pub(crate) fn poise_reply(reply: &Reply) -> poise::CreateReply {
    let reply = &reply.clone().clamp();
    let mut created = poise::CreateReply::default()
        .ephemeral(reply.ephemeral)
        .allowed_mentions(no_pings())
        .components(components(reply));
    for embed in embeds(reply) {
        created = created.embed(embed);
    }
    if let Some(content) = &reply.content {
        created = created.content(content);
    }
    created
}

pub(crate) fn message(reply: &Reply) -> serenity::CreateMessage {
    let reply = &reply.clone().clamp();
    let mut created =
        serenity::CreateMessage::new().embeds(embeds(reply)).components(components(reply)).allowed_mentions(no_pings());
    if let Some(content) = &reply.content {
        created = created.content(content);
    }
    created
}

pub(crate) fn interaction_message(reply: &Reply) -> serenity::CreateInteractionResponseMessage {
    let reply = &reply.clone().clamp();
    let mut created = serenity::CreateInteractionResponseMessage::new()
        .embeds(embeds(reply))
        .components(components(reply))
        .allowed_mentions(no_pings())
        .ephemeral(reply.ephemeral);
    if let Some(content) = &reply.content {
        created = created.content(content);
    }
    created
}

/// A privately shown answer (`shown`, with its buttons) as a channel message
/// replying to `reply_to`: the same embeds and buttons, without the one that
/// posts it, pinging no one.
pub(crate) fn repost(shown: &serenity::Message, reply_to: u64) -> serenity::CreateMessage {
    let posts = |button: &&serenity::Button| {
        matches!(&button.data, serenity::ButtonKind::NonLink { custom_id, .. }
            if matches!(Action::parse(custom_id), Some(Action::Post { .. })))
    };
    let buttons: Vec<CreateButton> = shown
        .components
        .iter()
        .flat_map(|row| &row.components)
        .filter_map(|component| match component {
            serenity::ActionRowComponent::Button(button) => Some(button),
            _ => None,
        })
        .filter(|button| !posts(button))
        .map(|button| CreateButton::from(button.clone()))
        .collect();
    let rows = buttons.chunks(limits::BUTTONS_PER_ROW).map(|row| CreateActionRow::Buttons(row.to_vec())).collect();
    let embeds = shown.embeds.iter().cloned().map(CreateEmbed::from).collect();
    let mut created = serenity::CreateMessage::new()
        .embeds(embeds)
        .components(rows)
        .allowed_mentions(no_pings())
        .reference_message((shown.channel_id, serenity::MessageId::new(reply_to)));
    if !shown.content.is_empty() {
        created = created.content(&shown.content);
    }
    created
}
