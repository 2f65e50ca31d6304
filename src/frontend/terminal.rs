//! The terminal front end: `chat` reads questions and `/commands` line by
//! line and prints replies as a member would read them, through the same
//! command table and answering path as Discord. An unsure reply's choices
//! are numbered; typing a number picks one, as a button does in Discord.

use std::io::{BufRead, Write};

use crate::conversation::admin::{reindex_reply, review_reply, stats_reply};
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
    // The choices the last reply offered, which a number on the next line picks.
    let mut offered: Option<Offered> = None;
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
        let picked = line.parse::<usize>().ok().and_then(|number| offered.as_ref()?.pick(services, number));
        let (reply, choices) = match picked {
            Some(reply) => (reply, None),
            None => respond(services, runtime, recent, line),
        };
        // Fitted to Discord's limits here too, so the terminal shows what members would see.
        writeln!(out, "{}\n", reply.clamp().to_text())?;
        if let Some(choices) = &choices {
            writeln!(out, "(Type 1 to {} to pick one.)\n", choices.units.len())?;
        }
        offered = choices;
    }
    Ok(())
}

/// Choices offered for a question: the passages' ids, in order.
struct Offered {
    question: String,
    units: Vec<String>,
}

impl Offered {
    /// The passage numbered `number` (from 1) as the answer, recorded as a
    /// candidate example like a pick in Discord; `None` for another number
    /// (then the line is a question like any other).
    fn pick(&self, services: &Services, number: usize) -> Option<Reply> {
        let id = self.units.get(number.checked_sub(1)?)?;
        let snapshot = services.host.snapshot();
        let unit = snapshot.knowledge.units.iter().position(|unit| &unit.id == id)?;
        let (reply, example) = answering::picked(&snapshot, &self.question, unit, Place::default(), 0);
        services.telemetry.example(example);
        Some(reply)
    }
}

/// The reply to one line, and the choices it offers.
fn respond(
    services: &Services,
    runtime: &tokio::runtime::Runtime,
    recent: &Recent,
    line: &str,
) -> (Reply, Option<Offered>) {
    let command = match commands::parse_chat_line(line) {
        Ok(command) => command,
        Err(err) => return (Reply::notice(err.0), None),
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
            let units: Vec<String> =
                answered.answer.choices.iter().map(|hit| snapshot.knowledge.units[hit.unit].id.clone()).collect();
            let offered = (!units.is_empty()).then(|| Offered { question: question.clone(), units });
            (answered.reply, offered)
        }
        Command::Reindex => (runtime.block_on(reindex_reply(&services.reindexer, services.fleet.as_ref())), None),
        Command::Stats(since) => (runtime.block_on(stats_reply(services.telemetry.storage(), since.as_deref())), None),
        Command::Examples => (runtime.block_on(review_reply(services.telemetry.storage(), None)), None),
        other => (commands::run(&snapshot, &other).unwrap_or_else(|err| Reply::notice(err.0)), None),
    }
}
