//! The one command table, and how every command's reply looks.
//!
//! `COMMANDS` names each command, its options and its help; the terminal's
//! chat parsing (`parse_chat_line`), Discord's slash registration and `/help`
//! all come from it, so they cannot drift. `run` carries out the commands
//! that need only a snapshot; admin commands (`Reindex`, `Stats`) need the
//! running services, and their front end carries them out with
//! `conversation::admin`'s replies. Replies are not clamped here: front ends
//! fit them to the platform's limits at delivery.

use std::fmt::Write as _;

use crate::conversation::reply::{limits, truncate_text, Action, Button, ButtonStyle, Embed, Field, Reply};
use crate::engine::answer::{self, Answer};
use crate::engine::knowledge::{Knowledge, Phase, Unit, UnitKind};
use crate::engine::snapshot::Snapshot;

/// A command a member can run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Ask(String),
    Phases,
    Phase(u8),
    Compare(Option<String>),
    Faq,
    Help,
    /// Admins: rebuild the knowledge now.
    Reindex,
    /// Admins: question-log stats over a window such as "7d".
    Stats(Option<String>),
    /// Admins: the examples learned from members that wait for review.
    Examples,
}

/// One command as every surface shows it.
#[derive(Clone, Copy, Debug)]
pub struct CommandSpec {
    pub name: &'static str,
    /// Other names the terminal accepts.
    pub(crate) aliases: &'static [&'static str],
    /// One line of help; `{topic}` becomes the knowledge base's title.
    pub(crate) help: &'static str,
    pub(crate) options: &'static [OptionSpec],
    /// Only server managers and configured admins may run it.
    pub(crate) admin: bool,
}

/// One option of a command.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OptionSpec {
    pub(crate) name: &'static str,
    pub(crate) help: &'static str,
    pub(crate) kind: OptionKind,
    pub(crate) required: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OptionKind {
    /// Free text of at most `max_length` characters (Discord's limit on the option).
    Text { max_length: u16 },
    /// A whole number from `min`.
    Number { min: i64 },
    /// Yes or no (Discord only: the terminal has no one else to hide a reply from).
    Flag,
    /// One of a few words.
    Choice(&'static [&'static str]),
    /// A channel of the server (Discord only).
    Channel,
}

/// Longest question accepted: a long help-channel message fits, an essay does not.
pub(crate) const MAX_QUESTION_CHARS: u16 = 1000;

/// Longest other text option: far longer than any dimension name or window.
pub(crate) const MAX_OPTION_CHARS: u16 = 100;

/// Every command, in the order help lists them.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "ask",
        aliases: &[],
        help: "Ask about {topic}: the best passage, where it comes from, and its roadmap phase",
        options: &[
            OptionSpec {
                name: "question",
                help: "Your question, e.g. \"How long does it take?\"",
                kind: OptionKind::Text { max_length: MAX_QUESTION_CHARS },
                required: true,
            },
            OptionSpec { name: "private", help: "Only you see the answer", kind: OptionKind::Flag, required: false },
        ],
        admin: false,
    },
    CommandSpec {
        name: "phases",
        aliases: &["roadmap"],
        help: "The roadmap: every phase in one line, and where it sits in the months",
        options: &[],
        admin: false,
    },
    CommandSpec {
        name: "phase",
        aliases: &[],
        help: "One roadmap phase: summary, activities, and what comes before and after",
        options: &[OptionSpec {
            name: "number",
            help: "Phase number, from 1",
            kind: OptionKind::Number { min: 1 },
            required: true,
        }],
        admin: false,
    },
    CommandSpec {
        name: "compare",
        aliases: &[],
        help: "The comparison table, or one of its rows",
        options: &[OptionSpec {
            name: "dimension",
            help: "A row such as \"Testing Approach\"; leave empty for the whole table",
            kind: OptionKind::Text { max_length: MAX_OPTION_CHARS },
            required: false,
        }],
        admin: false,
    },
    CommandSpec {
        name: "faq",
        aliases: &[],
        help: "Frequently asked questions and their answers",
        options: &[],
        admin: false,
    },
    CommandSpec {
        name: "help",
        aliases: &[],
        help: "What this bot can do and how to ask it",
        options: &[],
        admin: false,
    },
    CommandSpec {
        name: "reindex",
        aliases: &[],
        help: "Admins: reload the knowledge base from disk now",
        options: &[],
        admin: true,
    },
    CommandSpec {
        name: "settings",
        aliases: &[],
        help: "Admins: how the bot answers in this server; without options, shows the settings",
        options: &[
            OptionSpec {
                name: "add_channel",
                help: "Answer plain questions in this channel too",
                kind: OptionKind::Channel,
                required: false,
            },
            OptionSpec {
                name: "remove_channel",
                help: "Stop answering plain questions in this channel",
                kind: OptionKind::Channel,
                required: false,
            },
            OptionSpec {
                name: "add_forum",
                help: "Answer new posts in this help forum when sure",
                kind: OptionKind::Channel,
                required: false,
            },
            OptionSpec {
                name: "remove_forum",
                help: "Stop answering posts in this forum",
                kind: OptionKind::Channel,
                required: false,
            },
            OptionSpec {
                name: "solved_tag",
                help: "The forum tag ✅ Solved applies, e.g. Solved (\"none\" for no tag)",
                kind: OptionKind::Text { max_length: MAX_OPTION_CHARS },
                required: false,
            },
            OptionSpec {
                name: "trigger",
                help: "In those channels: only mentions, messages that read as questions, or all",
                kind: OptionKind::Choice(&["mention", "question", "all"]),
                required: false,
            },
            OptionSpec {
                name: "cooldown",
                help: "Seconds a member waits between channel questions",
                kind: OptionKind::Number { min: 0 },
                required: false,
            },
            OptionSpec {
                name: "suggest_when_unsure",
                help: "In those channels, post the closest topics when no answer is sure",
                kind: OptionKind::Flag,
                required: false,
            },
            OptionSpec {
                name: "reset",
                help: "Back to the bot's defaults (config.toml)",
                kind: OptionKind::Flag,
                required: false,
            },
        ],
        admin: true,
    },
    CommandSpec {
        name: "stats",
        aliases: &[],
        help: "Admins: what members asked, what went unanswered, which answers got 👎",
        options: &[OptionSpec {
            name: "since",
            help: "Time window such as 24h, 7d or all (default 7d)",
            kind: OptionKind::Text { max_length: MAX_OPTION_CHARS },
            required: false,
        }],
        admin: true,
    },
    CommandSpec {
        name: "examples",
        aliases: &["review"],
        help: "Admins: review what members taught the bot (their picks and 👍), approve or reject",
        options: &[],
        admin: true,
    },
];

impl CommandSpec {
    /// The spec named `name` (or one of its aliases), ignoring case.
    pub(crate) fn find(name: &str) -> Option<&'static CommandSpec> {
        let name = name.to_lowercase();
        COMMANDS.iter().find(|spec| spec.name == name || spec.aliases.contains(&name.as_str()))
    }

    /// The help line for `knowledge`.
    pub(crate) fn help_for(&self, knowledge: &Knowledge) -> String {
        self.help.replace("{topic}", knowledge.title())
    }

    /// `/phase NUMBER`, `/compare [DIMENSION]`: how to type it.
    pub(crate) fn usage(&self) -> String {
        let mut usage = format!("/{}", self.name);
        for option in self.options.iter().filter(|option| option.kind != OptionKind::Flag) {
            let name = option.name.to_uppercase();
            let _ = if option.required { write!(usage, " {name}") } else { write!(usage, " [{name}]") };
        }
        usage
    }
}

/// A command that cannot be carried out as asked, with what to tell the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UserError(pub String);

/// The phase command for a number as a platform gives it.
pub(crate) fn phase_command(number: i64) -> Result<Command, UserError> {
    u8::try_from(number)
        .ok()
        .filter(|n| *n > 0)
        .map(Command::Phase)
        .ok_or_else(|| UserError(format!("There is no phase {number}. Try /phases for the list.")))
}

/// Runs a command that needs only a snapshot. Admin commands are the front
/// end's to run; here they only explain that.
pub fn run(snapshot: &Snapshot, command: &Command) -> Result<Reply, UserError> {
    let knowledge = &snapshot.knowledge;
    match command {
        Command::Ask(question) => Ok(render_answer(snapshot, &answer::ask(snapshot, question))),
        Command::Phases => render_phases(knowledge),
        Command::Phase(number) => render_phase(knowledge, *number),
        Command::Compare(dimension) => render_compare(knowledge, dimension.as_deref()),
        Command::Faq => render_faq(knowledge),
        Command::Help => Ok(render_help(knowledge)),
        Command::Reindex | Command::Stats(_) | Command::Examples => {
            Err(UserError("Only admins can run that here.".into()))
        }
    }
}

/// Parses a line typed in the terminal chat: `/command args` or a question.
pub fn parse_chat_line(line: &str) -> Result<Command, UserError> {
    let line = line.trim();
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Command::Ask(line.to_string()));
    };
    let (name, argument) = rest.split_once(char::is_whitespace).map_or((rest, ""), |(n, a)| (n, a.trim()));
    let Some(spec) = CommandSpec::find(name) else {
        return Err(UserError(format!("Unknown command /{name}. Type /help for the list.")));
    };
    let text = Some(argument.to_string()).filter(|a| !a.is_empty());
    if spec.name == "settings" {
        return Err(UserError("Server settings are changed in Discord with /settings; here, edit config.toml.".into()));
    }
    let command = match spec.name {
        "ask" => Command::Ask(argument.to_string()),
        "phases" => Command::Phases,
        "phase" => match argument.parse::<i64>() {
            Ok(number) => phase_command(number)?,
            Err(_) => return Err(UserError(format!("Usage: {}, for example /phase 2.", spec.usage()))),
        },
        "compare" => Command::Compare(text),
        "faq" => Command::Faq,
        "help" => Command::Help,
        "reindex" => Command::Reindex,
        "stats" => Command::Stats(text),
        "examples" => Command::Examples,
        other => unreachable!("/{other} is in COMMANDS but not parsed"),
    };
    Ok(command)
}

const NO_ANSWER_TITLE: &str = "I don't have an answer for that";

/// Renders a sure answer, a partly-covered one (the closest passage and
/// choices), or the honest "no answer" with what is not covered and suggestions.
pub fn render_answer(snapshot: &Snapshot, answer: &Answer) -> Reply {
    let knowledge = &snapshot.knowledge;
    if answer.partial() {
        return render_partial(knowledge, answer);
    }
    let Some(best) = answer.hits.first().filter(|_| answer.answered) else {
        return render_no_answer(knowledge, answer);
    };
    let unit = &knowledge.units[best.unit];
    let mut embed = Embed { title: answer_title(knowledge, unit), description: unit.text.clone(), ..Embed::default() };
    embed.fields.push(Field::new("Source", source_line(unit)));
    embed.fields.push(Field::new("On the roadmap", roadmap_line(knowledge, &answer.pointers)));
    let related: Vec<String> =
        answer.hits[1..].iter().map(|hit| format!("• {}", knowledge.units[hit.unit].title)).collect();
    if !related.is_empty() {
        embed.fields.push(Field::new("Related", related.join("\n")));
    }
    let mut embeds = vec![embed];
    // A second question of the same message gets its own passage, source and roadmap pointer.
    for part in &answer.more {
        let unit = &knowledge.units[part.hit.unit];
        let mut embed =
            Embed { title: answer_title(knowledge, unit), description: unit.text.clone(), ..Embed::default() };
        embed.fields.push(Field::new("Source", source_line(unit)));
        embed.fields.push(Field::new("On the roadmap", roadmap_line(knowledge, &part.pointers)));
        embeds.push(embed);
    }
    if let Some(last) = embeds.last_mut() {
        last.footer = Some("Was this helpful? Vote with the buttons below.".into());
    }
    let mut phases: Vec<u8> = answer.pointers.clone();
    for &phase in answer.more.iter().flat_map(|part| &part.pointers) {
        if !phases.contains(&phase) {
            phases.push(phase);
        }
    }
    let mut buttons: Vec<Button> = phases.iter().filter_map(|&n| knowledge.phase(n)).map(phase_button).collect();
    for helpful in [true, false] {
        let label = if helpful { "👍 Helpful" } else { "👎 Not helpful" };
        let style = if helpful { ButtonStyle::Success } else { ButtonStyle::Secondary };
        buttons.push(Button { action: Action::Vote { helpful, unit: unit.id.clone() }, label: label.into(), style });
    }
    Reply { embeds, buttons, ..Reply::default() }
}

/// The title of a partly-covered reply.
pub(crate) const PARTIAL_TITLE: &str = "Not exactly covered";

/// The heading of the choices a partly-covered reply offers.
pub(crate) const CHOICES_TITLE: &str = "Is it one of these?";

/// Where a choices reply keeps the question, for the pick to record (the
/// reply holds its own state, like every button: `Action`).
const ASKED_PREFIX: &str = "You asked: ";

/// How long a choice's one-line preview may be.
const PREVIEW: usize = 120;

/// Partly covered: the knowledge does not answer exactly that, so the reply
/// says so, then shows the closest passage in full (its source and roadmap
/// pointers), then "Is it one of these?": each choice numbered with its
/// title and a one-line preview, and a button per choice. The first embed's
/// footer keeps the question, for the pick.
fn render_partial(knowledge: &Knowledge, answer: &Answer) -> Reply {
    let Some(closest) = answer.choices.first().map(|hit| &knowledge.units[hit.unit]) else {
        return render_no_answer(knowledge, answer);
    };
    let mut lines = Vec::new();
    let mut buttons = Vec::new();
    for (number, hit) in answer.choices.iter().enumerate() {
        let unit = &knowledge.units[hit.unit];
        lines.push(format!("**{}. {}**\n{}", number + 1, unit.title, preview(unit)));
        let label = format!("{}. {}", number + 1, unit.title);
        buttons.push(Button { action: Action::Pick { unit: pick_key(&unit.id) }, label, style: ButtonStyle::Primary });
    }
    let mut embed = Embed {
        title: PARTIAL_TITLE.into(),
        description: format!(
            "My knowledge doesn't answer exactly that. The closest it comes is **{}**:\n\n{}",
            answer_title(knowledge, closest),
            closest.text
        ),
        footer: Some(format!("{ASKED_PREFIX}{}", answer.question)),
        ..Embed::default()
    };
    embed.fields.push(Field::new("Source", source_line(closest)));
    embed.fields.push(Field::new("On the roadmap", roadmap_line(knowledge, &answer::pointers(closest))));
    embed.fields.push(Field::new(CHOICES_TITLE, lines.join("\n\n")));
    Reply { embeds: vec![embed], buttons, ..Reply::default() }
}

/// The question a choices reply was for, from its footer.
pub(crate) fn asked_in(reply_footer: &str) -> Option<&str> {
    reply_footer.strip_prefix(ASKED_PREFIX).map(str::trim).filter(|question| !question.is_empty())
}

/// The first sentence of a passage, cut to a line.
fn preview(unit: &Unit) -> String {
    let text = unit.text.trim();
    let first = text.split_inclusive(['.', '?', '!', '\n']).next().unwrap_or(text).trim();
    truncate_text(first, PREVIEW)
}

/// A short, stable key for a unit id in a button's `custom_id` (ids may be
/// long; the key survives rebuilds that keep the id).
pub(crate) fn pick_key(id: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(id.as_bytes()).iter().take(8).map(|byte| format!("{byte:02x}")).collect()
}

/// The unit whose id has this `pick_key`.
pub(crate) fn unit_of_pick(knowledge: &Knowledge, key: &str) -> Option<usize> {
    knowledge.units.iter().position(|unit| pick_key(&unit.id) == key)
}

fn render_no_answer(knowledge: &Knowledge, answer: &Answer) -> Reply {
    let mut embed = Embed {
        title: NO_ANSWER_TITLE.into(),
        description: "Nothing in my knowledge base answers this with confidence, and I'd rather say so than guess."
            .into(),
        ..Embed::default()
    };
    if !answer.not_covered.is_empty() {
        let words: Vec<String> = answer.not_covered.iter().map(|word| format!("“{word}”")).collect();
        embed.fields.push(Field::new("Not covered", format!("My knowledge never mentions {}.", or_list(&words))));
    }
    let closest: Vec<String> = answer.hits.iter().map(|hit| format!("• {}", knowledge.units[hit.unit].title)).collect();
    if !closest.is_empty() {
        embed.fields.push(Field::new("Closest topics I know", closest.join("\n")));
    }
    embed.fields.push(Field::new("Try", browse_lines(knowledge)));
    Reply::embed(embed)
}

/// "a", "a or b", "a, b or c".
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Where members can browse, listing only what this knowledge base has.
fn browse_lines(knowledge: &Knowledge) -> String {
    let mut lines = Vec::new();
    if let Some(roadmap) = &knowledge.roadmap {
        lines.push(format!("`/phases`: {}", roadmap.title));
    }
    if !knowledge.faq.is_empty() {
        lines.push("`/faq`: frequently asked questions".to_string());
    }
    if let Some(comparison) = &knowledge.comparison {
        lines.push(format!("`/compare`: {}", comparison.title));
    }
    lines.push("`/help`: everything I can do".to_string());
    lines.join("\n")
}

fn answer_title(knowledge: &Knowledge, unit: &Unit) -> String {
    match (unit.kind, &knowledge.comparison) {
        (UnitKind::Comparison, Some(comparison)) if unit.id != knowledge.units[comparison.unit].id => {
            format!("{}: {}", unit.title, comparison.columns.join(" vs "))
        }
        _ => unit.title.clone(),
    }
}

/// "Source › Section › Subsection".
fn source_line(unit: &Unit) -> String {
    let mut parts = vec![unit.source.clone()];
    parts.extend(unit.breadcrumb.iter().skip(1).cloned());
    parts.join(" › ")
}

fn roadmap_line(knowledge: &Knowledge, pointers: &[u8]) -> String {
    let Some(roadmap) = &knowledge.roadmap else {
        return "This knowledge base has no roadmap.".into();
    };
    if pointers.is_empty() {
        return format!("{}: `/phases`", roadmap.title);
    }
    let mut lines = Vec::new();
    for phase in pointers.iter().filter_map(|&n| knowledge.phase(n)) {
        lines.push(format!("{}{} · `/phase {}`", phase_name(phase), months_note(phase), phase.number));
    }
    lines.join("\n")
}

fn phase_name(phase: &Phase) -> String {
    format!("Phase {}: {}", phase.number, phase.title)
}

fn months_note(phase: &Phase) -> String {
    match phase.months {
        Some((from, to)) if from < to => format!(" (about months {from}–{to})"),
        Some((from, _)) => format!(" (about month {from})"),
        None => String::new(),
    }
}

fn phase_button(phase: &Phase) -> Button {
    Button {
        action: Action::Phase(phase.number),
        label: format!("Phase {}", phase.number),
        style: ButtonStyle::Primary,
    }
}

fn no_roadmap() -> UserError {
    UserError("This knowledge base has no roadmap.".into())
}

/// The phase list: one line each and where it sits in the roadmap's months.
pub(crate) fn render_phases(knowledge: &Knowledge) -> Result<Reply, UserError> {
    let roadmap = knowledge.roadmap.as_ref().ok_or_else(no_roadmap)?;
    let overview = &knowledge.units[roadmap.overview];
    let mut description = String::new();
    if let Some(months) = roadmap.months {
        let _ = writeln!(
            description,
            "{} phases over about {months} months, each building on the one before.\n",
            roadmap.phases.len()
        );
    }
    for phase in &roadmap.phases {
        let _ = writeln!(description, "**{}**{}\n{}\n", phase_name(phase), months_note(phase), phase.summary);
    }
    description.push_str("Use `/phase N` for a phase's activities.");
    let embed = Embed {
        title: roadmap.title.clone(),
        description,
        fields: vec![Field::new("Source", source_line(overview))],
        footer: None,
    };
    let buttons = roadmap.phases.iter().map(phase_button).collect();
    Ok(Reply { embeds: vec![embed], buttons, ..Reply::default() })
}

/// One phase in full, with what comes before and after it.
pub(crate) fn render_phase(knowledge: &Knowledge, number: u8) -> Result<Reply, UserError> {
    let roadmap = knowledge.roadmap.as_ref().ok_or_else(no_roadmap)?;
    let count = roadmap.phases.len();
    let phase = knowledge.phase(number);
    let Some(phase) = phase else {
        return Err(UserError(format!(
            "There is no phase {number}: the roadmap has phases 1 to {count}. Try /phases."
        )));
    };
    let unit = &knowledge.units[phase.unit];
    let mut embed = Embed {
        title: format!("{}{}", phase_name(phase), months_note(phase)),
        description: unit.text.clone(),
        ..Embed::default()
    };
    let before = roadmap.phases.iter().rev().find(|p| p.number < phase.number);
    let after = roadmap.phases.iter().find(|p| p.number > phase.number);
    embed
        .fields
        .push(Field::new("Before", before.map_or_else(|| "This is where the roadmap starts.".to_string(), phase_name)));
    embed.fields.push(Field::new("After", after.map_or_else(|| "This is the last phase.".to_string(), phase_name)));
    embed.fields.push(Field::new("Source", source_line(unit)));
    embed.footer = Some(format!("Phase {} of {count} · /phases for the whole roadmap", phase.number));
    let buttons = before.into_iter().chain(after).map(phase_button).collect();
    Ok(Reply { embeds: vec![embed], buttons, ..Reply::default() })
}

/// The comparison table, or one row of it.
pub(crate) fn render_compare(knowledge: &Knowledge, dimension: Option<&str>) -> Result<Reply, UserError> {
    let comparison = knowledge
        .comparison
        .as_ref()
        .ok_or_else(|| UserError("This knowledge base has no comparison table.".into()))?;
    let rows: Vec<_> = match dimension {
        None => comparison.rows.iter().collect(),
        Some(wanted) => {
            let row = find_dimension(comparison.rows.iter().map(|row| row.dimension.as_str()), wanted)
                .map(|index| &comparison.rows[index]);
            match row {
                Some(row) => vec![row],
                None => {
                    let known: Vec<&str> = comparison.rows.iter().map(|row| row.dimension.as_str()).collect();
                    return Err(UserError(format!(
                        "No dimension matches \"{wanted}\". Try one of: {}.",
                        known.join(", ")
                    )));
                }
            }
        }
    };
    let mut embed = Embed { title: comparison.title.clone(), ..Embed::default() };
    for row in &rows {
        let value: Vec<String> =
            comparison.columns.iter().zip(&row.cells).map(|(column, cell)| format!("**{column}:** {cell}")).collect();
        embed.fields.push(Field::new(row.dimension.clone(), value.join("\n")));
    }
    embed.fields.truncate(limits::EMBED_FIELDS);
    let source = source_line(&knowledge.units[comparison.unit]);
    embed.footer = Some(format!("{source} · /compare DIMENSION for one row"));
    Ok(Reply::embed(embed))
}

/// Finds a dimension by name: exact, then prefix, then contained, ignoring case.
pub(crate) fn find_dimension<'a>(dimensions: impl Iterator<Item = &'a str> + Clone, wanted: &str) -> Option<usize> {
    let wanted = wanted.trim().to_lowercase();
    if wanted.is_empty() {
        return None;
    }
    let tests: [&dyn Fn(&str) -> bool; 3] = [&|d| d == wanted, &|d| d.starts_with(&wanted), &|d| d.contains(&wanted)];
    tests.iter().find_map(|test| dimensions.clone().position(|d| test(&d.to_lowercase())))
}

/// Every FAQ question with its answer.
pub(crate) fn render_faq(knowledge: &Knowledge) -> Result<Reply, UserError> {
    let first = knowledge.faq.first().ok_or_else(|| UserError("This knowledge base has no FAQ.".into()))?;
    let title = knowledge.units[*first].breadcrumb.first().cloned().unwrap_or_else(|| "FAQ".into());
    let mut embed = Embed { title, ..Embed::default() };
    for &index in knowledge.faq.iter().take(limits::EMBED_FIELDS) {
        let unit = &knowledge.units[index];
        embed.fields.push(Field::new(unit.title.clone(), truncate_text(&unit.text, limits::FIELD_VALUE)));
    }
    if knowledge.faq.len() > limits::EMBED_FIELDS {
        embed.footer = Some(format!(
            "Showing {} of {} questions; ask me about the others.",
            limits::EMBED_FIELDS,
            knowledge.faq.len()
        ));
    }
    Ok(Reply::embed(embed))
}

/// Every command from the table, with what this knowledge base is about.
pub(crate) fn render_help(knowledge: &Knowledge) -> Reply {
    let mut description =
        format!("Ask me about *{}*: mention me with a question, or use a command.\n\n", knowledge.title());
    for spec in COMMANDS.iter().filter(|spec| !spec.admin) {
        let _ = writeln!(description, "`{}`: {}", spec.usage(), spec.help_for(knowledge));
    }
    description.push_str(
        "\nOn Discord, to answer someone else's message: right-click it (long-press on mobile), \
         Apps → **Ask transition-bot**. Only you see the answer until you post it.\n\
         After I answer you, a short follow-up such as \"and phase 3?\" is read with your question; \
         in a help forum, I answer new posts when I am sure.",
    );
    description.push_str("\nWhen nothing I know answers a question, I say so instead of guessing.");
    let admin: Vec<String> =
        COMMANDS.iter().filter(|spec| spec.admin).map(|spec| format!("`{}`", spec.usage())).collect();
    let mut embed = Embed { title: "Help".into(), description, ..Embed::default() };
    if !admin.is_empty() {
        embed.fields.push(Field::new("For server managers", admin.join(", ")));
    }
    Reply::embed(embed)
}

/// Autocomplete for questions: FAQ questions and titles containing what was typed.
pub fn complete_question(knowledge: &Knowledge, typed: &str) -> Vec<String> {
    let typed = typed.trim().to_lowercase();
    let mut choices: Vec<String> = Vec::new();
    let faq = knowledge.faq.iter().map(|&index| &knowledge.units[index]);
    let titled = knowledge.units.iter().filter(|unit| unit.kind != UnitKind::Faq);
    for unit in faq.chain(titled) {
        if choices.len() == limits::AUTOCOMPLETE_CHOICES {
            break;
        }
        let title = truncate_text(&unit.title, limits::CHOICE);
        if (typed.is_empty() || title.to_lowercase().contains(&typed)) && !choices.contains(&title) {
            choices.push(title);
        }
    }
    choices
}

/// Autocomplete for comparison dimensions.
pub(crate) fn complete_dimension(knowledge: &Knowledge, typed: &str) -> Vec<String> {
    let typed = typed.trim().to_lowercase();
    let rows = knowledge.comparison.iter().flat_map(|comparison| comparison.rows.iter());
    rows.map(|row| truncate_text(&row.dimension, limits::CHOICE))
        .filter(|dimension| dimension.to_lowercase().contains(&typed))
        .take(limits::AUTOCOMPLETE_CHOICES)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        let sources = [(
            "kb.md".to_string(),
            "# Field guide\n\n## Getting started\n\nStart with the basics and practise daily.\n".to_string(),
        )];
        Snapshot::from_sources(&sources, Default::default()).expect("knowledge builds")
    }

    #[test]
    fn every_command_in_the_table_parses_by_name_and_alias() {
        for spec in COMMANDS {
            let argument = if spec.name == "phase" { " 1" } else { "" };
            for name in std::iter::once(spec.name).chain(spec.aliases.iter().copied()) {
                let line = format!("/{}{argument}", name.to_uppercase());
                // Server settings are Discord's alone; the terminal says where to change them.
                let parsed = parse_chat_line(&line);
                assert!(
                    parsed.is_ok() || spec.name == "settings" && parsed.unwrap_err().0.contains("config.toml"),
                    "{line}"
                );
            }
        }
        assert_eq!(parse_chat_line("/compare  testing ").unwrap(), Command::Compare(Some("testing".into())));
        assert_eq!(parse_chat_line("how long?").unwrap(), Command::Ask("how long?".into()));
        assert_eq!(parse_chat_line("/stats 24h").unwrap(), Command::Stats(Some("24h".into())));
        assert!(parse_chat_line("/nope").unwrap_err().0.contains("Unknown command /nope"));
        assert_eq!(parse_chat_line("/phase two").unwrap_err().0, "Usage: /phase NUMBER, for example /phase 2.");
        assert!(parse_chat_line("/phase 999").unwrap_err().0.contains("There is no phase 999"));
    }

    #[test]
    fn usage_shows_required_and_optional_options_but_not_flags() {
        let usage = |name| CommandSpec::find(name).unwrap().usage();
        assert_eq!(
            (usage("ask"), usage("phase"), usage("compare"), usage("faq")),
            (
                "/ask QUESTION".to_string(),
                "/phase NUMBER".to_string(),
                "/compare [DIMENSION]".to_string(),
                "/faq".to_string()
            )
        );
    }

    #[test]
    fn help_lists_every_command_and_names_the_knowledge_not_a_fixed_topic() {
        let snapshot = snapshot();
        let text = render_help(&snapshot.knowledge).to_text();
        for spec in COMMANDS {
            assert!(text.contains(&spec.usage()), "help lacks {}: {text}", spec.usage());
        }
        assert!(text.contains("Field guide"), "{text}");
        assert!(!text.contains("AI engineering"), "{text}");
    }

    #[test]
    fn browse_commands_explain_what_this_knowledge_base_lacks() {
        let snapshot = snapshot();
        for (command, expected) in [
            (Command::Phases, "no roadmap"),
            (Command::Phase(1), "no roadmap"),
            (Command::Compare(None), "no comparison table"),
            (Command::Faq, "no FAQ"),
            (Command::Reindex, "Only admins"),
        ] {
            let error = run(&snapshot, &command).unwrap_err();
            assert!(error.0.contains(expected), "{command:?}: {error}");
        }
    }

    #[test]
    fn an_answer_names_its_source_and_a_no_answer_says_so() {
        // One section is too little for the fitted decision's statistics: judge at a fixed low confidence.
        let mut snapshot = snapshot();
        snapshot.settings.min_confidence = Some(0.2);
        let answered = run(&snapshot, &Command::Ask("how do I get started with the basics?".into())).unwrap().to_text();
        assert!(answered.contains("Getting started") && answered.contains("Source:"), "{answered}");
        let declined = run(&snapshot, &Command::Ask("best pizza in naples".into())).unwrap().to_text();
        assert!(declined.contains(NO_ANSWER_TITLE), "{declined}");
    }
}
