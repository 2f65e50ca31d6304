//! Live reindexing (issue 4): edits are served quickly, broken edits never
//! are, readers never see a half-published snapshot, and triggers coalesce.
//!
//! Every test works on a copy of `knowledge/` in a temporary folder. Watching
//! tests poll the host with a generous deadline rather than sleeping a fixed
//! time, so they are quick when the machine is and still pass when it is busy.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::copy_dir;
use transition_bot::config::ReindexConfig;
use transition_bot::conversation::admin::render_outcome;
use transition_bot::engine::answer;
use transition_bot::engine::snapshot::Snapshot;
use transition_bot::serving::host::{Host, RebuildError};
use transition_bot::serving::reindex::{Gate, Reindexer};

/// A copy of the project's knowledge folder, inside a temp dir so the folder itself can be deleted.
struct Workspace {
    _temp: tempfile::TempDir,
    dir: PathBuf,
}

impl Workspace {
    fn new() -> Workspace {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("knowledge");
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"), &dir);
        Workspace { _temp: temp, dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).expect("read knowledge file")
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write knowledge file");
    }

    /// Replaces `from` (which must occur) with `to` in one file.
    fn edit(&self, name: &str, from: &str, to: &str) {
        let text = self.read(name);
        assert!(text.contains(from), "{name} does not contain {from:?}");
        self.write(name, &text.replace(from, to));
    }

    fn host(&self) -> Arc<Host> {
        let snapshot = Snapshot::load(&self.dir, crate::support::answer_settings()).expect("the knowledge copy loads");
        Arc::new(Host::new(snapshot, self.dir.clone()))
    }
}

/// Held by the load test and by the tests with deadlines, so four spinning
/// readers on a small machine never eat the deadline of another test.
static CPU_HEAVY: Mutex<()> = Mutex::new(());

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    CPU_HEAVY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn config(watch: bool, poll: bool) -> ReindexConfig {
    ReindexConfig { watch, poll, poll_interval_ms: 100, debounce_ms: 100, eval: None, min_pass: 0.95 }
}

/// The first sentence of the skill-stack passage, which the edits below replace.
const SKILLS_SENTENCE: &str = "Much of the confusion around AI careers comes from an overemphasis on tools.";

/// True when the host serves a unit containing `marker` and a question about it is answered with that unit.
/// Markers are two words ("quokkafish tooling"): the decision does not answer
/// a question of one word found in one passage ("what about quokkafish?").
fn serves(host: &Host, marker: &str) -> bool {
    let snapshot = host.snapshot();
    let answer = answer::ask(&snapshot, &format!("what about {marker}?"));
    answer.answered
        && answer
            .hits
            .first()
            .is_some_and(|hit| snapshot.knowledge.units[hit.unit].text.to_lowercase().contains(marker))
}

/// Polls until `done` holds or `deadline` passes; returns whether it held.
fn eventually(deadline: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn assert_edit_served_within_two_seconds(poll: bool) {
    let _alone = exclusive();
    let workspace = Workspace::new();
    let host = workspace.host();
    let _reindexer = Reindexer::start(Arc::clone(&host), &config(true, poll)).expect("reindexer starts");
    assert!(!serves(&host, "quokkafish tooling"));
    // Let the watcher establish its watch; the deadline below starts at the write.
    assert!(eventually(Duration::from_secs(5), || _reindexer.status().watching), "the watcher never started");
    workspace.edit(
        "article.md",
        SKILLS_SENTENCE,
        "Quokkafish tooling is what the confusion about AI careers is about.",
    );
    let served = eventually(Duration::from_secs(2), || serves(&host, "quokkafish tooling"));
    assert!(served, "the edit was not served within 2 s of the write (poll = {poll})");
    // A second save right after the first, usually within the same second of modification
    // time (a formatter rewriting on save), is served too: notify's poller alone misses it.
    workspace.edit("article.md", "Quokkafish tooling", "Platypoid tooling");
    let served = eventually(Duration::from_secs(2), || serves(&host, "platypoid tooling"));
    assert!(served, "a quick second save was not served within 2 s (poll = {poll})");
}

/// Reading the folder (listing it, opening every file, copying it elsewhere)
/// and changing a file's permissions rebuild nothing and keep the same watch;
/// an edit afterwards is still served.
fn assert_reading_rebuilds_nothing(poll: bool) {
    let _alone = exclusive();
    let workspace = Workspace::new();
    let host = workspace.host();
    let reindexer = Reindexer::start(Arc::clone(&host), &config(true, poll)).expect("reindexer starts");
    assert!(eventually(Duration::from_secs(5), || reindexer.status().watching), "the watcher never started");
    std::thread::sleep(Duration::from_millis(400));
    let before = reindexer.status().rebuilds;
    let copy = tempfile::tempdir().expect("temp dir");
    for _ in 0..3 {
        copy_dir(&workspace.dir, &copy.path().join("knowledge"));
        for entry in std::fs::read_dir(&workspace.dir).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                let _ = std::fs::read(path).expect("read");
            }
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(workspace.path("faq.md"), std::fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(reindexer.status().rebuilds, before, "reading the folder caused rebuilds (poll = {poll})");
    assert!(reindexer.status().watching);
    workspace.edit(
        "article.md",
        SKILLS_SENTENCE,
        "Quokkafish tooling is what the confusion about AI careers is about.",
    );
    assert!(
        eventually(Duration::from_secs(2), || serves(&host, "quokkafish tooling")),
        "an edit after reading was missed"
    );
}

#[test]
fn reading_the_folder_rebuilds_nothing_with_file_events() {
    assert_reading_rebuilds_nothing(false);
}

#[test]
fn reading_the_folder_rebuilds_nothing_when_polling() {
    assert_reading_rebuilds_nothing(true);
}

#[test]
fn an_edit_is_served_within_two_seconds_with_file_events() {
    assert_edit_served_within_two_seconds(false);
}

#[test]
fn an_edit_is_served_within_two_seconds_when_polling() {
    assert_edit_served_within_two_seconds(true);
}

/// One way to break the folder, and the `file:line` the error must name.
struct Breakage {
    name: &'static str,
    breaks: fn(&Workspace),
    file: &'static str,
    line: Option<usize>,
    message: &'static str,
}

fn breakages() -> Vec<Breakage> {
    vec![
        Breakage {
            name: "bad front matter",
            breaks: |w| w.edit("faq.md", "kind = \"faq\"", "kind = \"faq\"\nnot toml at all"),
            file: "faq.md",
            line: None,
            message: "front matter",
        },
        Breakage {
            name: "a .md file that is not UTF-8",
            breaks: |w| {
                let mut bytes = w.read("article.md").into_bytes();
                bytes.extend_from_slice(b"\n\nLatin-1 caf\xe9 here.\n");
                std::fs::write(w.path("article.md"), bytes).expect("write");
            },
            file: "article.md",
            line: None,
            message: "not UTF-8",
        },
        Breakage {
            name: "binary garbage with a .md name",
            breaks: |w| std::fs::write(w.path("garbage.md"), b"\x00\x01\x02junk\x00").expect("write"),
            file: "garbage.md",
            line: Some(1),
            message: "binary",
        },
        Breakage {
            name: "a vanished file (dangling symlink)",
            breaks: |w| std::os::unix::fs::symlink(w.path("gone.md"), w.path("notes.md")).expect("symlink"),
            file: "notes.md",
            line: None,
            message: "cannot read file",
        },
        Breakage {
            name: "duplicate ids",
            breaks: |w| {
                let text = w.read("article.md");
                w.write("article.md", &format!("{text}\n## Build Forward, Not Sideways\n\nThe same heading twice.\n"));
            },
            file: "article.md",
            line: None,
            message: "duplicate unit id",
        },
        Breakage {
            name: "an empty folder",
            breaks: |w| {
                for entry in std::fs::read_dir(&w.dir).expect("read dir") {
                    let path = entry.expect("entry").path();
                    if path.is_dir() {
                        std::fs::remove_dir_all(path).expect("remove");
                    } else {
                        std::fs::remove_file(path).expect("remove");
                    }
                }
            },
            file: "knowledge",
            line: None,
            message: "no Markdown files",
        },
        Breakage {
            name: "a roadmap that lost its phases",
            breaks: |w| {
                let text = w.read("roadmap.md");
                let cut = text.find("## Phase 1").expect("phase 1 heading");
                w.write("roadmap.md", &text[..cut]);
            },
            file: "roadmap.md",
            line: Some(1),
            message: "roadmap has no phases",
        },
        Breakage {
            name: "a phase list pointing at a phase the roadmap dropped",
            breaks: |w| {
                let text = w.read("roadmap.md");
                let cut = text.find("## Phase 4").expect("phase 4 heading");
                w.write("roadmap.md", &text[..cut]);
            },
            file: "faq.md",
            line: None,
            message: "phase 4",
        },
    ]
}

#[tokio::test]
async fn a_broken_edit_keeps_the_old_answers_and_reports_file_and_line() {
    for breakage in breakages() {
        let workspace = Workspace::new();
        let host = workspace.host();
        let reindexer = Reindexer::new(Arc::clone(&host), &config(false, false)).expect("reindexer");
        let before = host.snapshot();
        let question = "how long does it take to become an AI engineer?";
        let answer_before = answer::ask(&before, question);
        (breakage.breaks)(&workspace);

        let outcome = reindexer.rebuild_now().await;
        let Err(RebuildError::Invalid(diagnostics)) = &outcome else {
            panic!("{}: expected the rebuild to be refused, got {outcome:?}", breakage.name);
        };
        let error = diagnostics
            .iter()
            .filter(|d| d.is_error())
            .find(|d| d.location.file.ends_with(breakage.file) && d.message.contains(breakage.message))
            .unwrap_or_else(|| panic!("{}: no error for {} in {diagnostics:?}", breakage.name, breakage.file));
        if let Some(line) = breakage.line {
            assert_eq!(error.location.line, line, "{}: {error}", breakage.name);
        }

        // The old snapshot still serves, and answers as before.
        let after = host.snapshot();
        assert!(Arc::ptr_eq(&before, &after), "{}: the snapshot was replaced", breakage.name);
        let answer_after = answer::ask(&after, question);
        assert!(answer_after.answered, "{}", breakage.name);
        assert_eq!(answer_before.hits.first().map(|h| h.unit), answer_after.hits.first().map(|h| h.unit));

        // `/reindex` names the file and line, ephemerally, within Discord's limits.
        let reply = render_outcome(&outcome);
        assert!(reply.ephemeral);
        let text = reply.to_text();
        assert!(
            text.contains(&format!("{}`", error.location)),
            "{}: reply lacks {}:\n{text}",
            breakage.name,
            error.location
        );
        assert_eq!(reply.clone().clamp(), reply);
        assert_eq!(reindexer.last_outcome(), Some(outcome.clone()));
    }
}

#[tokio::test]
async fn a_garbage_file_without_md_is_a_warning_that_the_report_names() {
    let workspace = Workspace::new();
    let host = workspace.host();
    let reindexer = Reindexer::new(Arc::clone(&host), &config(false, false)).expect("reindexer");
    std::fs::write(workspace.path("upload.bin"), [0xff, 0x00, 0xfe, 0x13, 0x37]).expect("write");
    let outcome = reindexer.rebuild_now().await;
    let report = outcome.as_ref().expect("a non-Markdown file does not stop the rebuild");
    assert!(report.unchanged);
    assert!(report.warnings.iter().any(|w| w.location.file == "upload.bin"), "{:?}", report.warnings);
    let text = render_outcome(&outcome).to_text();
    assert!(text.contains("Nothing changed") && text.contains("`upload.bin:0`"), "{text}");
    assert!(answer::ask(&host.snapshot(), "how long does it take to become an AI engineer?").answered);
}

#[tokio::test]
async fn the_report_lists_what_changed() {
    let workspace = Workspace::new();
    let host = workspace.host();
    let reindexer = Reindexer::new(Arc::clone(&host), &config(false, false)).expect("reindexer");
    let unchanged = reindexer.rebuild_now().await.expect("rebuild");
    assert!(unchanged.unchanged && unchanged.added.is_empty() && unchanged.changed.is_empty());

    workspace.edit("article.md", SKILLS_SENTENCE, "Quokkafish tooling is what the confusion is about.");
    workspace.write("extra.md", "# Extra\n\n## A New Section\n\nA brand new passage about wombat pipelines.\n");
    let report = reindexer.rebuild_now().await.expect("rebuild");
    assert!(!report.unchanged);
    assert_eq!(report.added, vec!["extra/a-new-section".to_string()]);
    assert_eq!(report.changed.len(), 1, "{:?}", report.changed);
    assert!(report.changed[0].starts_with("article/the-practical-skill-stack"), "{:?}", report.changed);
    assert!(serves(&host, "wombat pipelines"));
    let text = render_outcome(&Ok(report)).to_text();
    assert!(
        text.contains("Added (1)") && text.contains("`extra/a-new-section`") && text.contains("Changed (1)"),
        "{text}"
    );

    std::fs::remove_file(workspace.path("extra.md")).expect("remove");
    let report = reindexer.rebuild_now().await.expect("rebuild");
    assert_eq!(report.removed, vec!["extra/a-new-section".to_string()]);
}

/// Two files carrying the same marker; a reader that sees them disagree saw a mixed snapshot.
fn write_markers(workspace: &Workspace, generation: u64) {
    for (file, word) in [("marker-a.md", "Alpha"), ("marker-b.md", "Beta")] {
        let text = format!(
            "# Marker {word}\n\n## Zebracorn {word}\n\nThe zebracorn {word} passage carries marker m{generation}x \
             for the snapshot consistency test, and nothing else of interest.\n"
        );
        workspace.write(file, &text);
    }
}

fn marker_of(snapshot: &Snapshot, id: &str) -> Option<String> {
    let text = &snapshot.knowledge.unit(id)?.text;
    text.split_whitespace().find(|word| word.starts_with('m') && word.ends_with('x')).map(str::to_string)
}

#[test]
fn a_hundred_rebuilds_under_constant_queries_never_fail_or_mix() {
    let _alone = exclusive();
    let workspace = Workspace::new();
    write_markers(&workspace, 0);
    let host = workspace.host();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let reindexer = Reindexer::new(Arc::clone(&host), &config(false, false)).expect("reindexer");
    let stop = Arc::new(AtomicBool::new(false));
    let queries = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..4)
        .map(|reader| {
            let (host, stop, queries) = (Arc::clone(&host), Arc::clone(&stop), Arc::clone(&queries));
            std::thread::spawn(move || -> Result<(), String> {
                let mut generations_seen = std::collections::BTreeSet::new();
                while !stop.load(Ordering::SeqCst) {
                    let snapshot = host.snapshot();
                    let alpha = marker_of(&snapshot, "marker-a/zebracorn-alpha");
                    let beta = marker_of(&snapshot, "marker-b/zebracorn-beta");
                    if alpha.is_none() || alpha != beta {
                        return Err(format!("reader {reader}: mixed or missing markers {alpha:?} / {beta:?}"));
                    }
                    let question = if reader % 2 == 0 { "zebracorn alpha marker" } else { "how long does it take?" };
                    let answer = answer::ask(&snapshot, question);
                    if !answer.answered || answer.hits.is_empty() {
                        return Err(format!("reader {reader}: {question:?} was not answered"));
                    }
                    generations_seen.insert(alpha);
                    queries.fetch_add(1, Ordering::SeqCst);
                }
                // Readers saw rebuilds happen, or the test proves nothing.
                if generations_seen.len() < 2 {
                    return Err(format!("reader {reader} saw only {generations_seen:?}"));
                }
                Ok(())
            })
        })
        .collect();

    for generation in 1..=100 {
        write_markers(&workspace, generation);
        let report =
            runtime.block_on(reindexer.rebuild_now()).unwrap_or_else(|err| panic!("rebuild {generation}: {err:?}"));
        assert_eq!(report.changed.len(), 2, "rebuild {generation}: {:?}", report.changed);
        assert_eq!(marker_of(&host.snapshot(), "marker-a/zebracorn-alpha"), Some(format!("m{generation}x")));
    }
    stop.store(true, Ordering::SeqCst);
    for reader in readers {
        reader.join().expect("reader thread").expect("reader saw a failure");
    }
    assert_eq!(reindexer.status().rebuilds, 100);
    assert!(queries.load(Ordering::SeqCst) >= 100, "readers barely ran: {}", queries.load(Ordering::SeqCst));
}

#[test]
fn deleting_the_folder_keeps_the_old_snapshot_and_a_new_folder_is_picked_up() {
    let _alone = exclusive();
    let workspace = Workspace::new();
    let host = workspace.host();
    let reindexer = Reindexer::start(Arc::clone(&host), &config(true, false)).expect("reindexer starts");
    assert!(eventually(Duration::from_secs(5), || reindexer.status().watching));
    let before = host.snapshot();
    let saved = tempfile::tempdir().expect("temp dir");
    copy_dir(&workspace.dir, saved.path());

    std::fs::remove_dir_all(&workspace.dir).expect("delete the folder");
    let refused = eventually(
        Duration::from_secs(5),
        || matches!(reindexer.last_outcome(), Some(Err(RebuildError::Invalid(ref d))) if d.iter().any(|d| d.message.contains("cannot read knowledge folder"))),
    );
    assert!(refused, "the missing folder was not reported: {:?}", reindexer.last_outcome());
    assert!(Arc::ptr_eq(&before, &host.snapshot()));
    assert!(answer::ask(&host.snapshot(), "how long does it take to become an AI engineer?").answered);
    assert!(eventually(Duration::from_secs(5), || !reindexer.status().watching), "still watching a deleted folder");

    // The folder comes back (as after a deploy that replaces it), with an edit: it is watched and served again.
    copy_dir(saved.path(), &workspace.dir);
    workspace.edit("article.md", SKILLS_SENTENCE, "Quokkafish tooling is what the confusion is about.");
    assert!(
        eventually(Duration::from_secs(5), || serves(&host, "quokkafish tooling")),
        "the recreated folder was not indexed"
    );
    assert!(eventually(Duration::from_secs(5), || reindexer.status().watching));
    // And later edits in the new folder are seen through the new watch.
    workspace.write("extra.md", "# Extra\n\n## Wombats\n\nA brand new passage about wombat pipelines.\n");
    assert!(
        eventually(Duration::from_secs(5), || serves(&host, "wombat pipelines")),
        "edits after recreation were missed"
    );
}

/// A folder replaced the ways deploys replace one is watched again and
/// served: the edit made while it was replaced is answered within 5 s.
fn assert_replacement_is_served(how: &str, replace: impl FnOnce(&Path, &Path)) {
    let _alone = exclusive();
    let temp = tempfile::tempdir().expect("temp dir");
    let release = temp.path().join("release-1");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"), &release);
    let dir = temp.path().join("knowledge");
    std::os::unix::fs::symlink(&release, &dir).expect("symlink");
    let snapshot = Snapshot::load(&dir, crate::support::answer_settings()).expect("the knowledge copy loads");
    let host = Arc::new(Host::new(snapshot, dir.clone()));
    let reindexer = Reindexer::start(Arc::clone(&host), &config(true, false)).expect("reindexer starts");
    assert!(eventually(Duration::from_secs(5), || reindexer.status().watching), "the watcher never started");
    replace(temp.path(), &release);
    assert!(
        eventually(Duration::from_secs(5), || serves(&host, "quokkafish tooling")),
        "{how}: the new content was not served"
    );
    assert!(eventually(Duration::from_secs(5), || reindexer.status().watching), "{how}: no longer watching");
    // Later edits reach the bot through the new watch.
    std::fs::write(dir.join("extra.md"), "# Extra\n\n## Wombats\n\nA brand new passage about wombat pipelines.\n")
        .expect("write");
    assert!(eventually(Duration::from_secs(5), || serves(&host, "wombat pipelines")), "{how}: a later edit was missed");
}

/// Replaces the skills sentence in `dir/article.md`.
fn edit_article(dir: &Path) {
    let path = dir.join("article.md");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains(SKILLS_SENTENCE));
    let text = text.replace(SKILLS_SENTENCE, "Quokkafish tooling is what the confusion about AI careers is about.");
    std::fs::write(path, text).expect("write");
}

#[test]
fn a_folder_moved_away_and_back_is_served() {
    assert_replacement_is_served("moved away and back", |_, release| {
        let away = release.with_extension("away");
        std::fs::rename(release, &away).expect("move away");
        std::thread::sleep(Duration::from_millis(300));
        edit_article(&away);
        std::fs::rename(&away, release).expect("move back");
    });
}

#[test]
fn a_symlink_swapped_to_a_new_release_is_served() {
    assert_replacement_is_served("symlink swap", |root, release| {
        // As deploy tools do: a new release beside the old, then an atomic rename of a new link over the old.
        let next = root.join("release-2");
        copy_dir(release, &next);
        edit_article(&next);
        let link = root.join("knowledge.next");
        std::os::unix::fs::symlink(&next, &link).expect("symlink");
        std::fs::rename(&link, root.join("knowledge")).expect("swap the link");
    });
}

#[test]
fn a_git_checkout_is_served() {
    let git = |dir: &Path, args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    };
    assert_replacement_is_served("git checkout", |_, release| {
        git(release, &["init", "-q"]);
        git(release, &["add", "."]);
        git(release, &["commit", "-qm", "v1"]);
        git(release, &["checkout", "-qb", "v2"]);
        edit_article(release);
        git(release, &["commit", "-qam", "v2"]);
        git(release, &["checkout", "-q", "main"]);
        std::thread::sleep(Duration::from_millis(300));
        git(release, &["checkout", "-q", "v2"]);
    });
}

fn gate_config(min_pass: f64) -> ReindexConfig {
    let questions = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/questions.toml");
    ReindexConfig { eval: Some(questions), min_pass, ..config(false, false) }
}

#[tokio::test]
async fn the_quality_gate_refuses_a_regressing_edit() {
    let workspace = Workspace::new();
    let host = workspace.host();
    let reindexer = Reindexer::new(Arc::clone(&host), &gate_config(0.95)).expect("reindexer");
    let before = host.snapshot();

    // An edit that keeps the answers passes the gate and is published.
    workspace.edit("article.md", SKILLS_SENTENCE, "Quokkafish tooling is what the confusion is about.");
    reindexer.rebuild_now().await.expect("a harmless edit passes the gate");
    let published = host.snapshot();
    assert!(!Arc::ptr_eq(&before, &published));

    // Removing the durations breaks every "how long" question.
    workspace.edit("faq.md", "12 to 18 months", "a good while");
    workspace.edit("roadmap.md", "roughly 18 months", "a long time");
    let outcome = reindexer.rebuild_now().await;
    let Err(RebuildError::Refused(message)) = &outcome else { panic!("expected the gate to refuse, got {outcome:?}") };
    assert!(message.contains("below") || message.contains("refused"), "{message}");
    assert!(message.contains("how long until I'm job ready as an AI engineer?"), "{message}");
    assert!(Arc::ptr_eq(&published, &host.snapshot()), "the refused snapshot was published");
    let text = render_outcome(&outcome).to_text();
    assert!(text.contains("Reindex refused") && text.contains("job ready"), "{text}");

    // The same edit with a floor it meets is published.
    let lenient = Reindexer::new(Arc::clone(&host), &gate_config(0.5)).expect("reindexer");
    lenient.rebuild_now().await.expect("passes a 50% floor");
    assert!(!Arc::ptr_eq(&published, &host.snapshot()));
}

#[tokio::test]
async fn a_gate_with_a_missing_question_file_fails_at_start() {
    let workspace = Workspace::new();
    let config = ReindexConfig { eval: Some(workspace.path("no-such-questions.toml")), ..config(false, false) };
    let err = Reindexer::new(workspace.host(), &config).err().expect("a missing question file is an error");
    assert!(format!("{err:#}").contains("no-such-questions.toml"), "{err:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_during_a_rebuild_lead_to_exactly_one_more() {
    let workspace = Workspace::new();
    let host = workspace.host();
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let (entered_tx, release_rx) = (Mutex::new(entered_tx), Mutex::new(release_rx));
    // Holds the first rebuild open until the test releases it; later ones pass straight through.
    let gate: Gate = Box::new(move |_snapshot: &Snapshot| {
        let _ = entered_tx.lock().expect("lock").send(());
        let _ = release_rx.lock().expect("lock").recv();
        Ok(())
    });
    let reindexer = Reindexer::with_gate(Arc::clone(&host), &config(false, false), Some(gate));

    workspace.edit("article.md", SKILLS_SENTENCE, "Quokkafish tooling is what the confusion is about.");
    reindexer.trigger();
    entered.recv_timeout(Duration::from_secs(30)).expect("the first rebuild reached the gate");
    assert!(reindexer.status().rebuilding);
    workspace.write("extra.md", "# Extra\n\n## Wombats\n\nA brand new passage about wombat pipelines.\n");
    for _ in 0..50 {
        reindexer.trigger();
    }
    assert!(reindexer.status().pending);
    drop(release);

    tokio::time::timeout(Duration::from_secs(30), reindexer.settled()).await.expect("rebuilds settle");
    assert_eq!(reindexer.status().rebuilds, 2, "50 triggers during one rebuild must give exactly one more");
    assert!(
        serves(&host, "quokkafish tooling") && serves(&host, "wombat pipelines"),
        "the extra rebuild saw the later change"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = reindexer.status();
    assert_eq!((status.rebuilds, status.rebuilding, status.pending), (2, false, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_now_waits_for_a_rebuild_that_saw_its_edit() {
    let workspace = Workspace::new();
    let host = workspace.host();
    let reindexer = Reindexer::new(Arc::clone(&host), &config(false, false)).expect("reindexer");
    // A rebuild is already running or queued when the edit lands; rebuild_now must not return its result.
    reindexer.trigger();
    workspace.edit("article.md", SKILLS_SENTENCE, "Quokkafish tooling is what the confusion is about.");
    let report = reindexer.rebuild_now().await.expect("rebuild");
    assert!(serves(&host, "quokkafish tooling"), "rebuild_now returned before a rebuild that saw the edit: {report:?}");
}

/// The real binary, run in `dir` with no config file and no `TRANSITION_BOT_*` settings from the caller.
fn binary(dir: &Path) -> std::process::Command {
    let mut command = crate::support::bot_command();
    command.current_dir(dir);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("TRANSITION_BOT_")) {
        command.env_remove(name);
    }
    command
}

#[test]
fn check_exits_zero_on_good_content_and_one_on_errors_or_a_failed_gate() {
    let workspace = Workspace::new();
    let run = |extra_env: &[(&str, &str)]| {
        let output = binary(workspace.dir.parent().expect("parent"))
            .args(["check", "--knowledge"])
            .arg(&workspace.dir)
            .envs(extra_env.iter().copied())
            .output()
            .expect("run check");
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let questions = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/questions.toml");
    let gate = [("TRANSITION_BOT_REINDEX__EVAL", questions.to_str().expect("utf-8 path"))];

    let (code, out) = run(&[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("0 warning(s), 0 error(s)"), "{out}");
    let (code, out) = run(&gate);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("quality gate passed"), "{out}");

    // A warning alone still passes, and is printed.
    std::fs::write(workspace.path("upload.bin"), [0u8, 159, 146, 150]).expect("write");
    let (code, out) = run(&[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("upload.bin:0: warning:") && out.contains("1 warning(s), 0 error(s)"), "{out}");

    // A regressing edit fails the gate only.
    workspace.edit("faq.md", "12 to 18 months", "a good while");
    workspace.edit("roadmap.md", "roughly 18 months", "a long time");
    assert_eq!(run(&[]).0, Some(0));
    let (code, out) = run(&gate);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("quality gate FAILED") && out.contains("job ready"), "{out}");

    // Errors: every one printed with file:line, and the exit code says so.
    workspace.edit("faq.md", "kind = \"faq\"", "kind = \"faq\"\nnot toml at all");
    std::fs::write(workspace.path("garbage.md"), b"\x00\x01binary").expect("write");
    let (code, out) = run(&gate);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("garbage.md:1: error:") && out.contains("faq.md:") && out.contains("2 error(s)"), "{out}");
    assert!(out.contains("quality gate not run"), "{out}");
}

/// `chat` answers from the live snapshot, and SIGHUP (with watching off) rebuilds it.
#[test]
fn chat_rebuilds_on_sighup() {
    let _alone = exclusive();
    use std::io::{BufRead, Write};
    let workspace = Workspace::new();
    let mut child = binary(workspace.dir.parent().expect("parent"))
        .args(["chat", "--knowledge"])
        .arg(&workspace.dir)
        .env("TRANSITION_BOT_REINDEX__WATCH", "false")
        .env("RUST_LOG", "off")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start chat");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    // Reads replies until one line contains `wanted`, or the deadline passes.
    let saw = |wanted: &str, deadline: Duration| {
        let start = Instant::now();
        while let Some(left) = deadline.checked_sub(start.elapsed()) {
            match lines.recv_timeout(left) {
                Ok(line) if line.to_lowercase().contains(wanted) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    };
    // A first answer proves the reindexer (and its SIGHUP handler) is up: chat starts it before reading.
    writeln!(stdin, "how long does it take to become an AI engineer?").expect("write question");
    assert!(saw("18 months", Duration::from_secs(30)), "chat did not answer");

    workspace.edit("article.md", SKILLS_SENTENCE, "Quokkafish tooling is what the confusion is about.");
    // Watching is off, so without the signal the edit is never served.
    writeln!(stdin, "what about quokkafish tooling?").expect("write question");
    assert!(!saw("quokkafish tooling", Duration::from_millis(1500)), "served without a SIGHUP: is watching off?");
    let status = std::process::Command::new("kill").args(["-HUP", &child.id().to_string()]).status().expect("run kill");
    assert!(status.success());
    let start = Instant::now();
    let mut served = false;
    while !served && start.elapsed() < Duration::from_secs(10) {
        writeln!(stdin, "what about quokkafish tooling?").expect("write question");
        served = saw("quokkafish tooling", Duration::from_millis(300));
    }
    assert!(served, "the edit was not served after SIGHUP");
    writeln!(stdin, "/reindex").expect("write /reindex");
    assert!(saw("nothing changed", Duration::from_secs(10)), "/reindex in chat did not report");
    drop(stdin);
    assert!(child.wait().expect("chat exits").success());
}
