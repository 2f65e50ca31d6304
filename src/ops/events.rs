//! What happened, as plain data: the questions, votes and candidate
//! examples every surface reports. A leaf module, so telemetry, metrics and storage all use it
//! without using each other.

use std::time::Duration;

/// Where a question came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    /// The `/ask` slash command.
    Slash,
    /// A message mentioning the bot.
    Mention,
    /// A plain question in a configured channel.
    Channel,
    /// A message someone asked the bot about from its Apps menu.
    MessageMenu,
    /// A new post in a help forum.
    Forum,
    /// The terminal (`ask`, `chat`).
    Terminal,
}

impl Surface {
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Slash => "slash",
            Surface::Mention => "mention",
            Surface::Channel => "channel",
            Surface::MessageMenu => "message_menu",
            Surface::Forum => "forum",
            Surface::Terminal => "terminal",
        }
    }
}

/// One question and what the bot did with it.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionEvent {
    pub surface: Surface,
    pub question: String,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
    pub answered: bool,
    /// Not answered, but the member was shown choices to pick from.
    pub offered: bool,
    /// Id of the unit answered with (or the closest suggestion).
    pub top_unit: Option<String>,
    /// The answer decision's confidence, from 0 to 1: the share of the
    /// question's informative weight the top unit contains. Every surface
    /// records this same measure (see `conversation::answering`).
    pub score: f32,
    pub latency: Duration,
}

/// A 👍/👎 on an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteEvent {
    pub unit: String,
    pub helpful: bool,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
    pub user_id: u64,
}

/// Where a candidate example came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExampleSource {
    /// The member picked this passage among the bot's choices.
    Pick,
    /// A 👍 on an answer with this passage.
    Upvote,
    /// A 👎 on an answer with this passage: a negative (this text is *not*
    /// answered by it). Stored, never approved into examples.
    Downvote,
}

impl ExampleSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ExampleSource::Pick => "pick",
            ExampleSource::Upvote => "upvote",
            ExampleSource::Downvote => "downvote",
        }
    }

    /// Whether the source says the text *is* answered by the passage.
    pub fn is_positive(self) -> bool {
        !matches!(self, ExampleSource::Downvote)
    }
}

/// A member's message and the passage they said it meant (or did not):
/// a candidate example an admin reviews before it trains the matcher.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExampleEvent {
    /// The member's message.
    pub text: String,
    /// The passage's id, such as `article/the-practical-skill-stack-that-actually-matters`.
    pub unit: String,
    pub source: ExampleSource,
    pub guild_id: Option<u64>,
    pub channel_id: Option<u64>,
    pub user_id: u64,
}
