//! The one command table, its parsing, and carrying out a command.
//!
//! `COMMANDS` names each command, its options and its help; the terminal's
//! chat parsing (`parse_chat_line`), Discord's slash registration and `/help`
//! all come from it, so they cannot drift. `run` carries out the commands
//! that need only a snapshot, with the replies of `render` (answers) and
//! `browse` (the roadmap, the comparison, the FAQ); admin commands
//! (`Reindex`, `Stats`) need the running services, and their front end
//! carries them out with `conversation::admin`'s replies. Replies are not
//! clamped here: front ends fit them to the platform's limits at delivery.

use std::fmt::Write as _;

use crate::conversation::browse::{render_compare, render_faq, render_phase, render_phases};
use crate::conversation::render::render_answer;
use crate::conversation::reply::{limits, truncate_text, Embed, Field, Reply, UserError};
use crate::engine::answer;
use crate::engine::knowledge::{Knowledge, UnitKind};
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

    use crate::conversation::field_guide as snapshot;

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
}
