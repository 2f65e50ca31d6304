//! The terminal front end: `chat` reads questions and `/commands` line by
//! line and prints replies as a member would read them, through the same
//! command table and answering path as Discord. An unsure reply's choices
//! are numbered; typing a number picks one, as a button does in Discord.

use std::io::{BufRead, Write};

use crate::conversation::admin::{reindex_reply, review_reply, stats_reply};
use crate::conversation::answering::{self, Asked, Place, Via};
use crate::conversation::commands::{self, Command};
use crate::conversation::reply::Reply;
use crate::conversation::Services;

/// Lines that end the session; they are terminal controls, not member commands.
const QUIT: [&str; 2] = ["/quit", "/exit"];

/// Answers each line of `input` until it ends or a quit line, from the
/// host's current snapshot while the reindexer keeps it up to date.
/// `runtime` carries the async work (answering, rebuilds, reading stats);
/// the services remember the last question, for follow-ups, as in a Discord channel.
pub(crate) fn chat(
    services: &Services,
    runtime: &tokio::runtime::Runtime,
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
        offered = match picked {
            Some(reply) => {
                show(&mut out, reply)?;
                None
            }
            None => respond(services, runtime, line, &mut out)?,
        };
        if let Some(choices) = &offered {
            writeln!(out, "(Type 1 to {} to pick one.)\n", choices.units.len())?;
        }
    }
    Ok(())
}

/// Fitted to Discord's limits here too, so the terminal shows what members would see.
fn show(out: &mut impl Write, reply: Reply) -> std::io::Result<()> {
    writeln!(out, "{}\n", reply.clamp().to_text())
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

/// Shows the reply to one line; returns the choices it offers.
fn respond(
    services: &Services,
    runtime: &tokio::runtime::Runtime,
    line: &str,
    out: &mut impl Write,
) -> std::io::Result<Option<Offered>> {
    let command = match commands::parse_chat_line(line) {
        Ok(command) => command,
        Err(err) => return show(out, Reply::notice(err.0)).map(|()| None),
    };
    let reply = match command {
        Command::Ask(question) => {
            // The terminal is one member in one channel.
            let asked = Asked { text: question.clone(), via: Via::Terminal, place: Place::default(), member: 0 };
            let answered =
                runtime.block_on(answering::deliver(services, asked, |reply| async move { show(out, reply) }))?;
            let units = answered.map(|answered| answered.choice_ids).unwrap_or_default();
            return Ok((!units.is_empty()).then_some(Offered { question, units }));
        }
        Command::Reindex => runtime.block_on(reindex_reply(&services.reindexer, services.fleet.as_ref())),
        Command::Stats(since) => runtime.block_on(stats_reply(services.telemetry.storage(), since.as_deref())),
        Command::Examples => runtime.block_on(review_reply(services.telemetry.storage(), None)),
        other => commands::run(&services.host.snapshot(), &other).unwrap_or_else(|err| Reply::notice(err.0)),
    };
    show(out, reply).map(|()| None)
}
