//! Replies for admins: the outcome of a reindex, the question-log stats, a
//! server's settings (`/settings`: what a change does, saving it, and how
//! it reads), and the review of examples learned from members (`/examples`).

use std::collections::HashMap;
use std::sync::RwLock;

use crate::config::{DiscordConfig, ServerSettings, Trigger};
use crate::conversation::reply::{limits, truncate_text, Action, Button, ButtonStyle, Embed, Field, Reply};
use crate::engine::knowledge::Diagnostic;
use crate::ops::fleet::{Fleet, FleetReindex};
use crate::ops::stats::{parse_window, QuestionCount, Stats, UnitVotes, QUESTION_WIDTH};
use crate::ops::storage::Storage;
use crate::serving::host::{Host, RebuildError};
use crate::serving::reindex::{Outcome, Reindexer};

/// What one `/settings` asked to change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SettingsChange {
    pub(crate) add_channel: Option<u64>,
    pub(crate) remove_channel: Option<u64>,
    pub(crate) add_forum: Option<u64>,
    pub(crate) remove_forum: Option<u64>,
    /// A tag name; empty for none.
    pub(crate) solved_tag: Option<String>,
    pub(crate) trigger: Option<Trigger>,
    pub(crate) cooldown_secs: Option<u64>,
    pub(crate) suggest_when_unsure: Option<bool>,
    /// Forget every change: back to `config.toml`.
    pub(crate) reset: bool,
}

impl SettingsChange {
    /// The tag a typed `solved_tag` option names: trimmed, and empty (no
    /// tag) for "none" in any case, as the option's help says.
    pub(crate) fn solved_tag(typed: &str) -> String {
        let tag = typed.trim();
        if tag.eq_ignore_ascii_case("none") {
            String::new()
        } else {
            tag.to_string()
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        *self == SettingsChange::default()
    }

    /// The server's settings after this change. Adding or removing a channel
    /// starts from the channels in effect, so the defaults are kept.
    pub(crate) fn apply(&self, current: &ServerSettings, defaults: &DiscordConfig) -> ServerSettings {
        let mut settings = if self.reset { ServerSettings::default() } else { current.clone() };
        settings.channels = edit_list(settings.channels, &defaults.channels, self.add_channel, self.remove_channel);
        settings.forums = edit_list(settings.forums, &defaults.forums, self.add_forum, self.remove_forum);
        settings.solved_tag = self.solved_tag.clone().or(settings.solved_tag);
        settings.trigger = self.trigger.or(settings.trigger);
        settings.cooldown_secs = self.cooldown_secs.or(settings.cooldown_secs);
        settings.suggest_when_unsure = self.suggest_when_unsure.or(settings.suggest_when_unsure);
        settings
    }
}

/// A server's list of channels after adding and removing one: unchanged
/// (possibly still the default) when neither is asked.
fn edit_list(list: Option<Vec<u64>>, default: &[u64], add: Option<u64>, remove: Option<u64>) -> Option<Vec<u64>> {
    if add.is_none() && remove.is_none() {
        return list;
    }
    let mut list = list.unwrap_or_else(|| default.to_vec());
    if let Some(id) = add.filter(|id| !list.contains(id)) {
        list.push(id);
    }
    list.retain(|id| Some(*id) != remove);
    Some(list)
}

/// What `/settings` comes to: a reply at once (the settings as they are,
/// or why a change cannot be saved), or a save to wait for. The two are
/// apart so a front end can say it is working (Discord: defer) before the
/// database is written, and only then.
pub(crate) enum SettingsRequest<'a> {
    Now(Reply),
    Save(SettingsSave<'a>),
}

/// A server's changed settings, waiting to be saved.
pub(crate) struct SettingsSave<'a> {
    storage: &'a Storage,
    servers: &'a RwLock<HashMap<u64, ServerSettings>>,
    guild: u64,
    updated: ServerSettings,
    defaults: &'a DiscordConfig,
    reads_messages: bool,
}

/// `/settings` in `guild`, from an admin (the front end checks that): no
/// change shows the settings; a change needs the database, where it is
/// saved before `servers` (each server's settings in memory, which every
/// message reads) holds it. `defaults` and `reads_messages` are as
/// for `settings_reply`.
pub(crate) fn settings_request<'a>(
    change: &SettingsChange,
    guild: u64,
    servers: &'a RwLock<HashMap<u64, ServerSettings>>,
    storage: Option<&'a Storage>,
    defaults: &'a DiscordConfig,
    reads_messages: bool,
) -> SettingsRequest<'a> {
    let current = servers.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&guild).cloned();
    let current = current.unwrap_or_default();
    if change.is_empty() {
        return SettingsRequest::Now(settings_reply(&current, defaults, reads_messages));
    }
    let Some(storage) = storage else {
        return SettingsRequest::Now(Reply::notice("Settings cannot be saved: this bot runs without a database."));
    };
    let updated = change.apply(&current, defaults);
    SettingsRequest::Save(SettingsSave { storage, servers, guild, updated, defaults, reads_messages })
}

impl SettingsSave<'_> {
    /// Saves the settings, then puts them in memory: a save that fails
    /// changes nothing, so what members see never differs from what a
    /// restart would load. Replies with the settings now in effect.
    pub(crate) async fn run(self) -> Reply {
        let SettingsSave { storage, servers, guild, updated, defaults, reads_messages } = self;
        if let Err(err) = storage.save_server_settings(guild, updated.clone()).await {
            tracing::error!(guild, error = %err, "cannot save server settings");
            return Reply::notice("The settings could not be saved, so nothing changed. It has been logged.");
        }
        servers.write().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(guild, updated.clone());
        tracing::info!(guild, "server settings changed");
        settings_reply(&updated, defaults, reads_messages)
    }
}

/// The ephemeral `/settings` reply: each setting in effect, and whether it
/// is this server's or the default. `reads_messages` is whether the bot
/// has the Message Content intent, which answer channels need.
pub(crate) fn settings_reply(settings: &ServerSettings, defaults: &DiscordConfig, reads_messages: bool) -> Reply {
    let rules = settings.over(defaults);
    let origin = |set: bool| if set { "this server" } else { "default" };
    let channels = if rules.channels.is_empty() {
        "none: mentions, /ask and the Apps menu only".to_string()
    } else {
        rules.channels.iter().map(|channel| format!("<#{channel}>")).collect::<Vec<_>>().join(", ")
    };
    let mut fields = vec![
        Field::new(format!("Answer channels ({})", origin(settings.channels.is_some())), channels),
        Field::new(format!("Trigger ({})", origin(settings.trigger.is_some())), rules.trigger.as_str()),
        Field::new(
            format!("Help forums ({})", origin(settings.forums.is_some())),
            if rules.forums.is_empty() {
                "none".to_string()
            } else {
                rules.forums.iter().map(|forum| format!("<#{forum}>")).collect::<Vec<_>>().join(", ")
            },
        ),
        Field::new(
            format!("Solved tag ({})", origin(settings.solved_tag.is_some())),
            rules.solved_tag.as_deref().map_or("none".to_string(), |tag| format!("“{tag}”")),
        ),
        Field::new(
            format!("Cooldown ({})", origin(settings.cooldown_secs.is_some())),
            format!("{} s between a member's channel questions", rules.cooldown_secs),
        ),
        Field::new(
            format!("Closest topics when unsure ({})", origin(settings.suggest_when_unsure.is_some())),
            if rules.suggest_when_unsure { "posted" } else { "silent" },
        ),
    ];
    let reads_plain = (!rules.channels.is_empty() && rules.trigger != Trigger::Mention) || !rules.forums.is_empty();
    if reads_plain && !reads_messages {
        fields.push(Field::new(
            "Not in effect yet",
            "Reading plain messages and forum posts needs the Message Content intent: enable it on the Bot \
             page of the Developer Portal, then restart the bot.",
        ));
    }
    let description = "Change them with `/settings` options; `reset` goes back to the bot's defaults.".to_string();
    Reply {
        ephemeral: true,
        ..Reply::embed(Embed { title: "Settings for this server".into(), description, fields, footer: None })
    }
}

/// The ephemeral `/reindex` reply: what changed and how long it took, that
/// nothing changed, or every error with its `file:line`. Warnings (such as
/// an ignored non-Markdown file) are always named.
pub fn render_outcome(outcome: &Outcome) -> Reply {
    let embed = match outcome {
        Ok(report) => {
            let mut fields = Vec::new();
            for (name, ids) in [("Added", &report.added), ("Removed", &report.removed), ("Changed", &report.changed)] {
                if !ids.is_empty() {
                    let lines: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
                    fields.push(Field::new(format!("{name} ({})", ids.len()), listing(&lines, limits::FIELD_VALUE)));
                }
            }
            if !report.warnings.is_empty() {
                let lines: Vec<String> = report.warnings.iter().map(diagnostic_line).collect();
                fields.push(Field::new(
                    format!("Warnings ({})", report.warnings.len()),
                    listing(&lines, limits::FIELD_VALUE),
                ));
            }
            let title = if report.unchanged { "Nothing changed" } else { "Reindexed" };
            Embed { title: title.into(), description: report.summary(), fields, footer: None }
        }
        Err(RebuildError::Invalid(diagnostics)) => {
            let errors: Vec<String> = diagnostics.iter().filter(|d| d.is_error()).map(diagnostic_line).collect();
            let warnings: Vec<String> = diagnostics.iter().filter(|d| !d.is_error()).map(diagnostic_line).collect();
            let mut description = String::from("Still serving the previous version. Fix these and save again:\n");
            description.push_str(&listing(&errors, limits::EMBED_DESCRIPTION - description.chars().count()));
            let fields = if warnings.is_empty() {
                Vec::new()
            } else {
                vec![Field::new(format!("Warnings ({})", warnings.len()), listing(&warnings, limits::FIELD_VALUE))]
            };
            Embed { title: format!("Reindex refused: {} error(s)", errors.len()), description, fields, footer: None }
        }
        Err(RebuildError::Index(message)) => {
            Embed { title: "Reindex failed".into(), description: message.clone(), fields: Vec::new(), footer: None }
        }
        Err(RebuildError::Refused(message)) => {
            let mut lines = message.lines();
            let mut description = format!("{}\nStill serving the previous version.", lines.next().unwrap_or_default());
            let rest: Vec<String> = lines.map(|line| format!("- {line}")).collect();
            if !rest.is_empty() {
                description.push('\n');
                let room = limits::EMBED_DESCRIPTION.saturating_sub(description.chars().count());
                description.push_str(&listing(&rest, room));
            }
            Embed { title: "Reindex refused".into(), description, fields: Vec::new(), footer: None }
        }
    };
    Reply { ephemeral: true, ..Reply::embed(embed) }
}

/// The `/reindex` reply for any surface: this process's outcome, and in a
/// fleet every other process's too.
pub(crate) async fn reindex_reply(reindexer: &Reindexer, fleet: Option<&Fleet>) -> Reply {
    match fleet {
        Some(fleet) => render_fleet_outcome(&fleet.reindex().await),
        None => render_outcome(&reindexer.rebuild_now().await),
    }
}

/// This process's outcome in full, then one field per other process (as it
/// reported it), the processes that did not answer in time, or why the
/// others could not be asked.
pub(crate) fn render_fleet_outcome(fleet: &FleetReindex) -> Reply {
    let mut reply = render_outcome(&fleet.local);
    let local_ok = fleet.local.is_ok();
    let ok = usize::from(local_ok) + fleet.others.iter().filter(|other| other.ok).count();
    let total = 1 + fleet.others.len() + fleet.silent.len();
    if let Some(embed) = reply.embeds.first_mut() {
        embed.description = format!("**{}** (this process): {}\n{}", fleet.name, embed.title, embed.description);
        embed.title = format!("Fleet reindex: {ok} of {total} processes serving the current content");
        for other in &fleet.others {
            let mark = if other.ok { "✅" } else { "❌" };
            let value = format!("{mark} {}\n{}", other.title, other.detail);
            embed.fields.push(Field::new(&other.process, truncate_text(value.trim_end(), limits::FIELD_VALUE)));
        }
        if !fleet.silent.is_empty() {
            let names: Vec<String> = fleet.silent.iter().map(|name| format!("`{name}`")).collect();
            embed.fields.push(Field::new(
                "No answer in time",
                truncate_text(
                    &format!("{}: they may still rebuild; their logs say.", names.join(", ")),
                    limits::FIELD_VALUE,
                ),
            ));
        }
        if let Some(reason) = &fleet.unreachable {
            embed.fields.push(Field::new(
                "Only this process rebuilt",
                truncate_text(&format!("The others could not be asked: {reason}"), limits::FIELD_VALUE),
            ));
        }
    }
    reply
}

/// `file:line: message` for replies, location in code style so Markdown leaves file names alone.
fn diagnostic_line(diagnostic: &Diagnostic) -> String {
    format!("- `{}`: {}", diagnostic.location, diagnostic.message)
}

/// Whole lines within `room` characters, then "…and N more" rather than a line cut in half.
fn listing(lines: &[String], room: usize) -> String {
    let mut out = String::new();
    for (shown, line) in lines.iter().enumerate() {
        let more = format!("…and {} more (`transition-bot check` lists all)", lines.len() - shown);
        let needed = out.chars().count() + line.chars().count() + 1;
        let is_last = shown + 1 == lines.len();
        if needed > room || (!is_last && needed + more.chars().count() + 1 > room) {
            out.push_str(&more);
            return out;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// The stats command's reply, for any surface: the stats over `since`
/// ("7d" when unset), or a notice saying why there are none.
pub(crate) async fn stats_reply(storage: Option<&Storage>, since: Option<&str>) -> Reply {
    let window = match parse_window(since.unwrap_or("7d")) {
        Ok(window) => window,
        Err(message) => return Reply::notice(message),
    };
    let Some(storage) = storage else {
        return Reply::notice("The question log is off.");
    };
    match storage.stats(window).await {
        Ok(stats) => render_stats(&stats),
        Err(err) => Reply::notice(format!("The question log cannot be read right now: {err}")),
    }
}

/// The admin `/stats` reply.
pub fn render_stats(stats: &Stats) -> Reply {
    let mut fields = Vec::new();
    if !stats.by_surface.is_empty() {
        let lines: Vec<String> = stats
            .by_surface
            .iter()
            .map(|s| format!("{}: {} asked, {} answered", s.surface, s.asked, s.answered))
            .collect();
        fields.push(Field::new("By surface", lines.join("\n")));
    }
    match stats.text_note() {
        Some(note) => fields.push(Field::new("Questions", note)),
        None => {
            let list = |questions: &[QuestionCount]| -> String {
                if questions.is_empty() {
                    return "None.".to_string();
                }
                let lines: Vec<String> = questions
                    .iter()
                    .map(|q| format!("{}× {}", q.asked, truncate_text(&q.text, QUESTION_WIDTH)))
                    .collect();
                lines.join("\n")
            };
            fields.push(Field::new("Most asked", list(&stats.most_asked)));
            fields.push(Field::new("Top unanswered", list(&stats.top_unanswered)));
        }
    }
    let units = |list: &[UnitVotes]| -> String {
        if list.is_empty() {
            return "None.".to_string();
        }
        let lines: Vec<String> =
            list.iter().map(|u| format!("`{}`: {} 👎, {} 👍", u.unit, u.unhelpful, u.helpful)).collect();
        lines.join("\n")
    };
    fields.push(Field::new("Most 👎", units(&stats.most_unhelpful)));
    fields.push(Field::new("Most 👍", units(&stats.most_helpful)));
    let embed = Embed {
        title: format!("Bot stats, {}", stats.window_label()),
        description: stats.summary_line(),
        fields,
        footer: None,
    };
    Reply { ephemeral: true, ..Reply::embed(embed) }
}

/// Pending learned examples one review reply lists: two buttons each, within
/// Discord's 25.
const REVIEW_PAGE: usize = 10;

/// `/examples`: the pending learned examples (a member's message and the
/// passage they picked for it, or 👍'd), most supported first, each with
/// Approve and Reject.
pub(crate) async fn review_reply(storage: Option<&Storage>, guild: Option<u64>) -> Reply {
    let Some(storage) = storage else {
        return Reply::notice("Nothing is learned: this bot runs without a database.");
    };
    let pending = match storage.pending_examples(guild, REVIEW_PAGE).await {
        Ok(pending) => pending,
        Err(err) => {
            tracing::error!(error = %err, "cannot read pending examples");
            return Reply::notice("The examples waiting for review could not be read. It has been logged.");
        }
    };
    if pending.is_empty() {
        return Reply::notice("No learned examples are waiting for review.");
    }
    let mut embed = Embed { title: format!("{} learned example(s) to review", pending.len()), ..Embed::default() };
    let mut buttons = Vec::new();
    for (number, example) in pending.iter().enumerate() {
        let number = number + 1;
        let name = format!("{number}. → {}", example.unit);
        let value = format!(
            "“{}”\n{} member(s), {} time(s)",
            truncate_text(&example.text, 900),
            example.members,
            example.picks
        );
        embed.fields.push(Field::new(name, value));
        for approve in [true, false] {
            let (label, style) = if approve {
                (format!("✅ {number}"), ButtonStyle::Success)
            } else {
                (format!("✖ {number}"), ButtonStyle::Danger)
            };
            buttons.push(Button { action: Action::Review { id: example.id, approve }, label, style });
        }
    }
    embed.footer = Some("✅ approves an example (the next rebuild learns it), ✖ rejects it.".into());
    Reply { embeds: vec![embed], buttons, ephemeral: true, ..Reply::default() }
}

/// An Approve or Reject click on a review: decides the example, and after
/// an approval starts a rebuild with every approved example, so the message
/// is answered as soon as it is done.
pub(crate) async fn decide_reply(
    storage: Option<&Storage>,
    host: &Host,
    reindexer: &Reindexer,
    id: i64,
    approve: bool,
    by: u64,
) -> Reply {
    let Some(storage) = storage else {
        return Reply::notice("Nothing is learned: this bot runs without a database.");
    };
    match storage.decide_example(id, approve, by).await {
        Ok(0) => return Reply::notice("That example was already decided or is gone."),
        Ok(_) => {}
        Err(err) => {
            tracing::error!(error = %err, "cannot decide a learned example");
            return Reply::notice("The decision could not be saved, so nothing changed. It has been logged.");
        }
    }
    if !approve {
        return Reply::notice("Rejected: it will not be learned.");
    }
    match learn_approved(storage, host).await {
        Ok((count, _)) => {
            // Not waited for: a click must be answered within Discord's three seconds.
            reindexer.trigger();
            Reply::notice(format!("Approved: {count} learned example(s) in use; rebuilding with them now."))
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot read approved examples");
            Reply::notice(
                "Approved, but the approved examples could not be read back; the next rebuild will try again.",
            )
        }
    }
}

/// Hands every approved example to `host`, for its next rebuild: how many,
/// and whether they changed since last handed.
pub(crate) async fn learn_approved(
    storage: &Storage,
    host: &Host,
) -> Result<(usize, bool), crate::ops::storage::StorageError> {
    let learned: Vec<(String, String)> =
        storage.approved_examples().await?.into_iter().map(|example| (example.unit, example.text)).collect();
    let count = learned.len();
    Ok((count, host.set_learned(learned)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_change_keeps_the_defaults_it_does_not_touch() {
        let defaults = DiscordConfig { channels: vec![1], ..DiscordConfig::default() };
        let added =
            SettingsChange { add_channel: Some(2), ..Default::default() }.apply(&ServerSettings::default(), &defaults);
        assert_eq!((added.channels.as_deref(), added.trigger), (Some(&[1, 2][..]), None));
        let removed = SettingsChange { remove_channel: Some(1), cooldown_secs: Some(0), ..Default::default() }
            .apply(&added, &defaults);
        assert_eq!((removed.channels.as_deref(), removed.cooldown_secs), (Some(&[2][..]), Some(0)));
        let reset = SettingsChange { reset: true, ..Default::default() }.apply(&removed, &defaults);
        assert_eq!(reset, ServerSettings::default());
        assert!(SettingsChange::default().is_empty());
    }

    #[tokio::test]
    async fn a_settings_change_is_saved_before_memory_holds_it() {
        let defaults = DiscordConfig::default();
        let servers = RwLock::new(HashMap::new());
        let solved_tag = Some(SettingsChange::solved_tag(" None "));
        let change = SettingsChange { add_channel: Some(7), solved_tag, ..Default::default() };
        let SettingsRequest::Now(refused) = settings_request(&change, 1, &servers, None, &defaults, true) else {
            panic!("without a database there is nothing to save to");
        };
        assert!(refused.to_text().contains("without a database") && servers.read().unwrap().is_empty());
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::StorageConfig { path: dir.path().join("bot.sqlite3"), ..Default::default() };
        let storage = Storage::start(&config).unwrap();
        let SettingsRequest::Save(save) = settings_request(&change, 1, &servers, Some(&storage), &defaults, true)
        else {
            panic!("a change with a database is saved");
        };
        assert!(save.run().await.to_text().contains("<#7>"));
        let saved = ServerSettings { channels: Some(vec![7]), solved_tag: Some(String::new()), ..Default::default() };
        assert_eq!(servers.read().unwrap().get(&1), Some(&saved));
        assert_eq!(storage.server_settings().await.unwrap().get(&1), Some(&saved));
        let unchanged = SettingsChange::default();
        let SettingsRequest::Now(shown) = settings_request(&unchanged, 1, &servers, Some(&storage), &defaults, true)
        else {
            panic!("no change is shown, not saved");
        };
        assert!(shown.to_text().contains("<#7>"));
    }

    #[test]
    fn the_settings_reply_says_what_is_the_servers_and_what_is_missing() {
        let settings = ServerSettings { channels: Some(vec![42]), ..Default::default() };
        let reply = settings_reply(&settings, &DiscordConfig::default(), false).clamp();
        let text = reply.to_text();
        assert!(reply.ephemeral && reply.limit_violations().is_empty());
        assert!(text.contains("Answer channels (this server)") && text.contains("<#42>"), "{text}");
        assert!(text.contains("Trigger (default)") && text.contains("Message Content intent"), "{text}");
        let with_intent = settings_reply(&settings, &DiscordConfig::default(), true).to_text();
        assert!(!with_intent.contains("Message Content intent"));
    }
    use crate::conversation::reply::count;

    #[test]
    fn listing_keeps_whole_lines_and_counts_the_rest() {
        let lines: Vec<String> = (0..100).map(|n| format!("- `article.md:{n}`: café problem {n}")).collect();
        let text = listing(&lines, 300);
        assert!(text.chars().count() <= 300, "{text}");
        assert!(text.starts_with("- `article.md:0`"));
        let shown = text.lines().filter(|line| line.starts_with("- ")).count();
        assert!(text.ends_with(&format!("…and {} more (`transition-bot check` lists all)", 100 - shown)), "{text}");
        assert_eq!(listing(&lines[..2], 300), format!("{}\n{}", lines[0], lines[1]));
    }

    #[test]
    fn stats_reply_is_an_ephemeral_embed_that_fits_once_clamped() {
        let long = "why ".repeat(2000);
        let many: Vec<QuestionCount> =
            (0..10).map(|i| QuestionCount { text: format!("{i} {long}"), asked: 1, answered: 0 }).collect();
        let stats = Stats {
            text_logged: true,
            with_text: 10,
            most_asked: many.clone(),
            top_unanswered: many,
            ..Stats::default()
        };
        let reply = render_stats(&stats).clamp();
        assert!(reply.ephemeral);
        assert_eq!(reply.embeds.len(), 1);
        assert!(reply.embeds[0].fields.iter().any(|f| f.name == "Top unanswered"));
        let total: usize = reply.embeds[0].fields.iter().map(|f| count(&f.name) + count(&f.value)).sum();
        assert!(total + count(&reply.embeds[0].description) <= limits::EMBEDS_TOTAL);
    }

    #[test]
    fn stats_reply_says_when_question_text_is_not_logged() {
        let stats = Stats { text_logged: false, ..Stats::default() };
        assert!(render_stats(&stats).to_text().contains("log_question_text = false"));
    }

    #[test]
    fn refused_reindex_lists_every_error_with_its_place() {
        let diagnostics = vec![
            Diagnostic::error("faq.md", 3, "a question without an answer"),
            Diagnostic::warning("notes.txt", 0, "not Markdown; ignored"),
        ];
        let text = render_outcome(&Err(RebuildError::Invalid(diagnostics))).to_text();
        assert!(text.contains("Reindex refused: 1 error(s)") && text.contains("faq.md:3"), "{text}");
        assert!(text.contains("Warnings (1)"), "{text}");
    }
}
