//! Delivering conversations: `discord` (serenity + poise, the only place
//! that knows them) and `terminal` (the `chat` session).
//!
//! Uses every layer below. Front ends parse input into commands, run them
//! through `conversation` (questions through `answering::deliver`), clamp
//! the reply and send it.

pub(crate) mod discord;
pub(crate) mod terminal;
