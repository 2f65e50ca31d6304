//! The terminal front end: `chat` reads questions and `/commands` line by
//! line and prints replies as a member would read them, through the same
//! command table and answering path as Discord.

use std::io::{BufRead, Write};

use crate::conversation::admin::{reindex_reply, stats_reply};
use crate::conversation::answering::{self, Place};
use crate::conversation::commands::{self, Command};
use crate::conversation::follow_ups::Recent;
use crate::conversation::reply::Reply;
use crate::frontend::Services;
use crate::ops::events::Surface;

/// Lines that end the session; they are terminal controls, not member commands.
const QUIT: [&str; 2] = ["/quit", "/exit"];

/// Answers each line of `input` until it ends or a quit line, from the
/// host's current snapshot while the reindexer keeps it up to date.
/// `runtime` carries the async work (rebuilds, reading stats); `recent`
/// holds the last question, for follow-ups, as in a Discord channel.
pub(crate) fn chat(
    services: &Services,
    runtime: &tokio::runtime::Runtime,
    recent: &Recent,
    input: impl BufRead,
    mut out: impl Write,
    interactive: bool,
) -> std::io::Result<()> {
    if interactive {
        let title = services.host.snapshot().knowledge.title().to_string();
        writeln!(out, "transition-bot: ask about {title}, or type /help. Ctrl-D quits.")?;
    }
    let mut lines = input.lines();
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if QUIT.contains(&line) {
            break;
        }
        let reply = respond(services, runtime, recent, line);
        // Fitted to Discord's limits here too, so the terminal shows what members would see.
        writeln!(out, "{}\n", reply.clamp().to_text())?;
    }
    Ok(())
}

/// The reply to one line.
fn respond(services: &Services, runtime: &tokio::runtime::Runtime, recent: &Recent, line: &str) -> Reply {
    let command = match commands::parse_chat_line(line) {
        Ok(command) => command,
        Err(err) => return Reply::notice(err.0),
    };
    let snapshot = services.host.snapshot();
    match command {
        Command::Ask(question) => {
            // The terminal is one member in one channel.
            const ME: (u64, u64) = (0, 0);
            let answered = answering::answer_after(&snapshot, recent.previous(ME).as_deref(), &question);
            if let Some(context) = answered.context() {
                recent.remember(ME, context);
            }
            services.telemetry.question(answered.event(Surface::Terminal, Place::default()));
            answered.reply
        }
        Command::Reindex => runtime.block_on(reindex_reply(&services.reindexer, services.fleet.as_ref())),
        Command::Stats(since) => runtime.block_on(stats_reply(services.telemetry.storage(), since.as_deref())),
        other => commands::run(&snapshot, &other).unwrap_or_else(|err| Reply::notice(err.0)),
    }
}
