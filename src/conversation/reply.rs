//! What the bot says, independent of where it says it, and Discord's limits.
//!
//! Every surface (Discord, the terminal, JSON) renders a `Reply`. Discord's
//! length limits are enforced here and only here, in `Reply::clamp`: counted
//! in Unicode scalar values as Discord counts them, never bytes, and cut at
//! a paragraph, line or word boundary with an ellipsis.

use std::fmt::Write as _;

/// Discord's limits on what a bot sends.
pub mod limits {
    pub(crate) const CONTENT: usize = 2000;
    pub(crate) const EMBEDS: usize = 10;
    pub(crate) const EMBED_TITLE: usize = 256;
    pub const EMBED_DESCRIPTION: usize = 4096;
    pub(crate) const EMBED_FIELDS: usize = 25;
    pub(crate) const FIELD_NAME: usize = 256;
    pub(crate) const FIELD_VALUE: usize = 1024;
    pub(crate) const FOOTER: usize = 2048;
    /// All titles, descriptions, field names and values and footers together.
    pub(crate) const EMBEDS_TOTAL: usize = 6000;
    pub(crate) const BUTTON_ROWS: usize = 5;
    pub(crate) const BUTTONS_PER_ROW: usize = 5;
    pub(crate) const CUSTOM_ID: usize = 100;
    pub(crate) const BUTTON_LABEL: usize = 80;
    pub(crate) const AUTOCOMPLETE_CHOICES: usize = 25;
    /// Autocomplete choice names and values.
    pub(crate) const CHOICE: usize = 100;
    /// A slash command's or option's description.
    pub(crate) const COMMAND_DESCRIPTION: usize = 100;
}

/// Appended to a description cut to fit, pointing to the rest.
pub(crate) const SHORTENED: &str = "\n\n*(Shortened to fit Discord: the full text is in the source.)*";

/// A message for any surface.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reply {
    /// Plain text above the embeds.
    pub(crate) content: Option<String>,
    pub embeds: Vec<Embed>,
    pub(crate) buttons: Vec<Button>,
    /// Only the asker sees it (Discord); ignored elsewhere.
    pub ephemeral: bool,
}

/// A command that cannot be carried out as asked, with what to tell the user
/// (front ends show it as a `Reply::notice`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Embed {
    pub(crate) title: String,
    pub description: String,
    pub(crate) fields: Vec<Field>,
    pub(crate) footer: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) inline: bool,
}

impl Field {
    pub(crate) fn new(name: impl Into<String>, value: impl Into<String>) -> Field {
        Field { name: name.into(), value: value.into(), inline: false }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ButtonStyle {
    Primary,
    Secondary,
    Success,
    Danger,
}

/// What a button does when clicked; everything it needs is in its id, so
/// buttons keep working after a restart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Show a roadmap phase.
    Phase(u8),
    /// Record whether the answer with this unit id helped.
    Vote { helpful: bool, unit: String },
    /// Post a privately shown answer in the channel, as a reply to the
    /// message (this id) it answers.
    Post { message: u64 },
    /// Mark a forum post (opened by this member) solved.
    Solved { owner: u64 },
    /// Show the offered passage whose `pick_key` this is, in place of the choices.
    Pick { unit: String },
    /// Admins: approve or reject the learned example (group) with this id.
    Review { id: i64, approve: bool },
}

impl Action {
    /// Encodes as a Discord `custom_id` of at most 100 characters.
    pub(crate) fn custom_id(&self) -> String {
        let id = match self {
            Action::Phase(number) => format!("tb:phase:{number}"),
            Action::Vote { helpful, unit } => format!("tb:vote:{}:{unit}", if *helpful { "up" } else { "down" }),
            Action::Post { message } => format!("tb:post:{message}"),
            Action::Solved { owner } => format!("tb:solved:{owner}"),
            Action::Pick { unit } => format!("tb:pick:{unit}"),
            Action::Review { id, approve } => format!("tb:review:{}:{id}", if *approve { "yes" } else { "no" }),
        };
        truncate_chars(&id, limits::CUSTOM_ID)
    }

    /// Decodes a `custom_id`; `None` for ids this bot did not make.
    pub(crate) fn parse(custom_id: &str) -> Option<Action> {
        let rest = custom_id.strip_prefix("tb:")?;
        if let Some(number) = rest.strip_prefix("phase:") {
            return number.parse().ok().map(Action::Phase);
        }
        if let Some(message) = rest.strip_prefix("post:") {
            return message.parse().ok().map(|message| Action::Post { message });
        }
        if let Some(owner) = rest.strip_prefix("solved:") {
            return owner.parse().ok().map(|owner| Action::Solved { owner });
        }
        if let Some(review) = rest.strip_prefix("review:") {
            let (verdict, id) = review.split_once(':')?;
            let approve = match verdict {
                "yes" => true,
                "no" => false,
                _ => return None,
            };
            return id.parse().ok().map(|id| Action::Review { id, approve });
        }
        if let Some(unit) = rest.strip_prefix("pick:") {
            return (!unit.is_empty()).then(|| Action::Pick { unit: unit.to_string() });
        }
        let vote = rest.strip_prefix("vote:")?;
        let (direction, unit) = vote.split_once(':')?;
        let helpful = match direction {
            "up" => true,
            "down" => false,
            _ => return None,
        };
        Some(Action::Vote { helpful, unit: unit.to_string() })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Button {
    pub(crate) action: Action,
    pub(crate) label: String,
    pub(crate) style: ButtonStyle,
}

impl Reply {
    pub(crate) fn embed(embed: Embed) -> Reply {
        Reply { embeds: vec![embed], ..Reply::default() }
    }

    /// A short message only the asker sees.
    pub fn notice(text: impl Into<String>) -> Reply {
        Reply { content: Some(text.into()), ephemeral: true, ..Reply::default() }
    }

    /// Fits the reply within Discord's limits, cutting cleanly where needed.
    pub fn clamp(mut self) -> Reply {
        if let Some(content) = &mut self.content {
            *content = truncate_text(content, limits::CONTENT);
        }
        self.embeds.truncate(limits::EMBEDS);
        let mut budget = limits::EMBEDS_TOTAL;
        for embed in &mut self.embeds {
            embed.title = truncate_text(&embed.title, limits::EMBED_TITLE.min(budget));
            budget -= count(&embed.title);
            if let Some(footer) = &mut embed.footer {
                // The footer is small and carries the pointer to the rest, so it goes before the body.
                *footer = truncate_text(footer, limits::FOOTER.min(budget));
                budget -= count(footer);
            }
            embed.fields.truncate(limits::EMBED_FIELDS);
            let fields_wanted: usize = embed
                .fields
                .iter()
                .map(|f| count(&f.name).min(limits::FIELD_NAME) + count(&f.value).min(limits::FIELD_VALUE))
                .sum();
            // The description gets what the fields leave, but at least half the budget.
            let description_budget = budget.saturating_sub(fields_wanted).max(budget / 2);
            let room = limits::EMBED_DESCRIPTION.min(description_budget);
            if count(&embed.description) > room {
                // A cut passage says where the rest is rather than just stopping.
                let kept = truncate_text(&embed.description, room.saturating_sub(count(SHORTENED)));
                embed.description = truncate_text(&format!("{kept}{SHORTENED}"), room);
            }
            budget -= count(&embed.description);
            embed.fields.retain_mut(|field| {
                field.name = truncate_text(&field.name, limits::FIELD_NAME.min(budget));
                let left = budget - count(&field.name);
                field.value = truncate_text(&field.value, limits::FIELD_VALUE.min(left));
                let used = count(&field.name) + count(&field.value);
                // Discord rejects empty field names and values.
                let keep = !field.name.is_empty() && !field.value.is_empty();
                if keep {
                    budget -= used;
                }
                keep
            });
        }
        self.buttons.truncate(limits::BUTTON_ROWS * limits::BUTTONS_PER_ROW);
        for button in &mut self.buttons {
            button.label = truncate_text(&button.label, limits::BUTTON_LABEL);
        }
        self
    }

    /// Every way this reply breaks one of Discord's limits; empty once clamped.
    pub fn limit_violations(&self) -> Vec<String> {
        let mut found = Vec::new();
        let mut check = |what: &str, length: usize, max: usize| {
            if length > max {
                found.push(format!("{what}: {length} > {max}"));
            }
        };
        check("content", self.content.as_deref().map_or(0, count), limits::CONTENT);
        check("embeds", self.embeds.len(), limits::EMBEDS);
        let mut total = 0;
        for embed in &self.embeds {
            check("embed title", count(&embed.title), limits::EMBED_TITLE);
            check("embed description", count(&embed.description), limits::EMBED_DESCRIPTION);
            check("embed fields", embed.fields.len(), limits::EMBED_FIELDS);
            check("footer", embed.footer.as_deref().map_or(0, count), limits::FOOTER);
            total += count(&embed.title) + count(&embed.description) + embed.footer.as_deref().map_or(0, count);
            for field in &embed.fields {
                check("field name", count(&field.name), limits::FIELD_NAME);
                check("field value", count(&field.value), limits::FIELD_VALUE);
                total += count(&field.name) + count(&field.value);
            }
        }
        check("embeds in total", total, limits::EMBEDS_TOTAL);
        check("buttons", self.buttons.len(), limits::BUTTON_ROWS * limits::BUTTONS_PER_ROW);
        for button in &self.buttons {
            check("button label", count(&button.label), limits::BUTTON_LABEL);
            check("custom_id", count(&button.action.custom_id()), limits::CUSTOM_ID);
        }
        found
    }

    /// The reply as plain text, as the terminal shows it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(content) = &self.content {
            let _ = writeln!(out, "{content}");
        }
        for embed in &self.embeds {
            if !out.is_empty() {
                out.push('\n');
            }
            if !embed.title.is_empty() {
                let _ = writeln!(out, "{}\n{}", embed.title, "=".repeat(count(&embed.title).min(72)));
            }
            if !embed.description.is_empty() {
                let _ = writeln!(out, "{}", embed.description);
            }
            for field in &embed.fields {
                let _ = writeln!(out, "\n{}:\n{}", field.name, field.value);
            }
            if let Some(footer) = &embed.footer {
                let _ = writeln!(out, "\n({footer})");
            }
        }
        if !self.buttons.is_empty() {
            let labels: Vec<String> = self.buttons.iter().map(|b| format!("[{}]", b.label)).collect();
            let _ = writeln!(out, "\n{}", labels.join(" "));
        }
        out.trim_end().to_string()
    }
}

pub use crate::engine::text::{count, truncate_chars, truncate_text};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_cuts_at_boundaries() {
        let cases: &[(&str, usize, &str)] = &[
            ("short", 10, "short"),
            ("one two three four", 12, "one two…"),
            ("first para.\n\nsecond paragraph here", 20, "first para.…"),
            ("ééééé ééééé", 8, "ééééé…"),
            ("日本語のテキスト", 4, "日本語…"),
            ("🦀🦀🦀🦀", 3, "🦀🦀…"),
            ("anything", 0, ""),
        ];
        for (text, max, expected) in cases {
            let cut = truncate_text(text, *max);
            assert_eq!(&cut, expected, "{text:?} to {max}");
            assert!(count(&cut) <= *max);
        }
    }

    #[test]
    fn clamp_enforces_every_discord_limit() {
        let long = "ü".repeat(5000);
        let field = Field::new(long.clone(), long.clone());
        let embed = Embed {
            title: long.clone(),
            description: long.clone(),
            fields: vec![field; 30],
            footer: Some(long.clone()),
        };
        let button = Button { action: Action::Phase(1), label: long.clone(), style: ButtonStyle::Primary };
        let reply =
            Reply { content: Some(long.clone()), embeds: vec![embed; 12], buttons: vec![button; 30], ephemeral: false }
                .clamp();
        assert!(count(reply.content.as_deref().unwrap()) <= limits::CONTENT);
        assert_eq!(reply.embeds.len(), limits::EMBEDS);
        let mut total = 0;
        for embed in &reply.embeds {
            assert!(count(&embed.title) <= limits::EMBED_TITLE);
            assert!(count(&embed.description) <= limits::EMBED_DESCRIPTION);
            assert!(embed.fields.len() <= limits::EMBED_FIELDS);
            total += count(&embed.title) + count(&embed.description) + embed.footer.as_deref().map_or(0, count);
            for field in &embed.fields {
                assert!(count(&field.name) <= limits::FIELD_NAME && count(&field.value) <= limits::FIELD_VALUE);
                assert!(!field.name.is_empty() && !field.value.is_empty());
                total += count(&field.name) + count(&field.value);
            }
        }
        assert!(total <= limits::EMBEDS_TOTAL, "{total}");
        assert!(reply.embeds[0].description.ends_with(SHORTENED.trim_start()), "a cut passage points to the rest");
        assert_eq!(reply.buttons.len(), limits::BUTTON_ROWS * limits::BUTTONS_PER_ROW);
        assert!(reply.buttons.iter().all(|b| count(&b.label) <= limits::BUTTON_LABEL));
    }

    #[test]
    fn button_actions_round_trip_within_custom_id_limits() {
        let long_unit = "ü".repeat(200);
        for action in [
            Action::Phase(3),
            Action::Vote { helpful: true, unit: "faq/how-long".into() },
            Action::Vote { helpful: false, unit: "article/ümlaut".into() },
            Action::Post { message: u64::MAX },
            Action::Solved { owner: 7 },
            Action::Pick { unit: "0123456789abcdef".into() },
            Action::Review { id: i64::MAX, approve: true },
            Action::Review { id: 7, approve: false },
        ] {
            assert_eq!(Action::parse(&action.custom_id()), Some(action));
        }
        let id = Action::Vote { helpful: true, unit: long_unit }.custom_id();
        assert!(count(&id) <= limits::CUSTOM_ID);
        for foreign in ["", "tb:", "tb:phase:x", "tb:vote:maybe:x", "tb:pick:", "other:phase:1"] {
            assert_eq!(Action::parse(foreign), None, "{foreign}");
        }
    }
}
