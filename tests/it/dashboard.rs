//! The operator's dashboard (`transition-bot dashboard`) on a seeded
//! question log: its numbers against the rows written, escaping, question
//! text kept back, the token, the refusal to serve beyond loopback without
//! one, and every page in a real headless Chromium (driven through
//! chromedriver's WebDriver protocol), whose overview screenshot is the
//! README's picture.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::support::history::{self, History, SERVERS};
use crate::support::{bot_command, knowledge_dir};
use transition_bot::config::StorageConfig;
use transition_bot::ops::dashboard::{Dashboard, Page, Scope};
use transition_bot::ops::events::{ExampleEvent, ExampleSource, QuestionEvent, Surface};
use transition_bot::ops::storage::{self, Storage};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const TOKEN_VAR: &str = "DASHBOARD_TEST_TOKEN";
const SCRIPT: &str = "<script>alert('x')</script> how do I pass the interview?";
const REVIEW_MARKUP: &str = "<b>phase</b> two when";
const VISA: &str = "how do I get a visa to work in Canada";

fn ms(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// The first time the dashboard counts for a period of `days`: the start
/// of the period's first UTC day.
fn since(days: i64) -> i64 {
    (ms(SystemTime::now()).div_euclid(DAY_MS) - days + 1) * DAY_MS
}

/// What the seeded log holds for `days` and `server`, counted from the rows.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    asked: i64,
    answered: i64,
    offered: i64,
    declined: i64,
    helpful: i64,
    unhelpful: i64,
}

fn expected(history: &History, days: i64, server: Option<u64>) -> Expected {
    let since = since(days);
    let mut e = Expected::default();
    let here = |guild: Option<u64>| server.is_none() || guild == server;
    for (time, q) in history.questions.iter().filter(|(t, q)| ms(*t) >= since && here(q.guild_id)) {
        let _ = time;
        e.asked += 1;
        if q.answered {
            e.answered += 1;
        } else if q.offered {
            e.offered += 1;
        } else {
            e.declined += 1;
        }
    }
    // Every seeded vote is a different member's, so each counts.
    for (_, v) in history.votes.iter().filter(|(t, v)| ms(*t) >= since && here(v.guild_id)) {
        if v.helpful {
            e.helpful += 1;
        } else {
            e.unhelpful += 1;
        }
    }
    e
}

fn totals(json: &Value) -> Expected {
    let n = |key: &str| json["totals"][key].as_i64().unwrap_or(-1);
    Expected {
        asked: n("asked"),
        answered: n("answered"),
        offered: n("offered"),
        declined: n("declined"),
        helpful: n("helpful"),
        unhelpful: n("unhelpful"),
    }
}

/// A folder with a config and a question log seeded with `count` questions
/// over 90 days, a question with markup, and two waiting review groups.
async fn seeded(count: usize) -> (tempfile::TempDir, History) {
    let dir = tempfile::tempdir().unwrap();
    let mut history = history::history(count, 90, SystemTime::now(), 7);
    history.questions.push((
        SystemTime::now() - Duration::from_secs(3_600),
        QuestionEvent {
            surface: Surface::Mention,
            question: SCRIPT.into(),
            guild_id: Some(SERVERS[0]),
            channel_id: Some(1),
            answered: false,
            offered: false,
            top_unit: None,
            score: 0.1,
            latency: Duration::from_millis(2),
        },
    ));
    let config = StorageConfig { path: dir.path().join("log.sqlite3"), ..StorageConfig::default() };
    storage::import_history(&config, &history.questions, &history.votes).await.unwrap();
    let storage = Storage::start(&config).unwrap();
    // Two review groups, and a pick that resolves one server's visa questions.
    for (user, text) in
        [(1, "when do I start on phase 2"), (2, "when do I start on phase 2"), (3, REVIEW_MARKUP), (4, VISA)]
    {
        storage.record_example(&ExampleEvent {
            text: text.into(),
            unit: if text == VISA { "article/time-and-cost-reality-check" } else { "roadmap/phase-2" }.into(),
            source: ExampleSource::Pick,
            guild_id: Some(SERVERS[0]),
            channel_id: Some(1),
            user_id: user,
        });
    }
    storage.shutdown().await.unwrap();
    write_config(dir.path(), true, None);
    (dir, history)
}

fn write_config(dir: &Path, text_logged: bool, token_env: Option<&str>) {
    let token = token_env.map(|name| format!("token_env = \"{name}\"\n")).unwrap_or_default();
    let config = format!(
        "[knowledge]\ndir = \"{}\"\n[storage]\npath = \"log.sqlite3\"\nlog_question_text = {text_logged}\n\
         [dashboard]\n{token}[log]\nlevel = \"warn\"\n",
        knowledge_dir().display()
    );
    std::fs::write(dir.join("config.toml"), config).unwrap();
}

/// A running `transition-bot dashboard`; killed when dropped.
struct Running {
    child: Child,
    base: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dashboard_command(dir: &Path) -> Command {
    let mut command = bot_command();
    command.current_dir(dir).env_remove("RUST_LOG").env_remove(TOKEN_VAR);
    command
}

fn start(dir: &Path, env: &[(&str, &str)]) -> Running {
    let mut command = dashboard_command(dir);
    command.args(["dashboard", "--listen", "127.0.0.1:0"]).stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let mut seen = String::new();
    let base = loop {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("the dashboard exited before listening: {seen}");
        }
        seen.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("dashboard: ") {
            break url.trim_end_matches("/dashboard").to_string();
        }
    };
    // Keep draining stderr so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in stderr.lines() {});
    Running { child, base }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn get(url: &str) -> (u16, String) {
    let response = client().get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn get_json(url: &str) -> Value {
    let (status, body) = get(url).await;
    assert_eq!(status, 200, "{url}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The visa questions seeded in `server` in the last 90 days (which the
/// seeded pick resolves in the first server).
fn visa_questions(history: &History, server: u64) -> i64 {
    let since = since(90);
    let asked = |(time, q): &&(SystemTime, QuestionEvent)| {
        ms(*time) >= since && q.question == VISA && q.guild_id == Some(server)
    };
    history.questions.iter().filter(asked).count() as i64
}

/// The gap a question text is in, as its leading text or another wording.
fn group_of_text(gaps: &[Value], text: &str) -> usize {
    gaps.iter()
        .position(|g| g["text"] == text || g["variants"].as_array().unwrap().iter().any(|v| v == text))
        .unwrap_or_else(|| panic!("{text} in no gap: {gaps:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pages_count_the_seeded_log_by_period_and_server() {
    let (dir, history) = seeded(3_000).await;
    let running = start(dir.path(), &[]);
    let base = &running.base;
    for (days, server) in [(90, None), (7, None), (30, Some(SERVERS[0])), (90, Some(SERVERS[1]))] {
        let scope = match server {
            Some(server) => format!("days={days}&server={server}"),
            None => format!("days={days}"),
        };
        let overview = get_json(&format!("{base}/dashboard?{scope}&format=json")).await;
        let want = expected(&history, days, server);
        assert!(want.asked > 0 && want.helpful > 0 && want.unhelpful > 0, "{want:?}");
        assert_eq!(totals(&overview), want, "{scope}");
        assert_eq!(overview["days"].as_array().unwrap().len(), days as usize, "{scope}");
        let per_day: i64 = overview["days"].as_array().unwrap().iter().map(|d| d["asked"].as_i64().unwrap()).sum();
        assert_eq!(per_day, want.asked);
        let per_week: i64 = overview["weeks"].as_array().unwrap().iter().map(|w| w["asked"].as_i64().unwrap()).sum();
        assert_eq!(per_week, want.asked);
        // Every question lands in exactly one latency bucket.
        let speed = get_json(&format!("{base}/dashboard/speed?{scope}&format=json")).await;
        let bucketed: i64 = speed["latency"].as_array().unwrap().iter().map(|b| b["questions"].as_i64().unwrap()).sum();
        assert_eq!(bucketed, want.asked, "{scope}");
    }

    // Gaps: every unanswered question, grouped, wordings alike together.
    let gaps = get_json(&format!("{base}/dashboard/gaps?days=90&format=json")).await;
    let gaps = gaps["gaps"].as_array().unwrap();
    let want = expected(&history, 90, None);
    let asked: i64 = gaps.iter().map(|g| g["asked"].as_i64().unwrap()).sum();
    // A member of the first server picked a passage for the visa question afterwards: resolved there only.
    let visa = |server: u64| visa_questions(&history, server);
    assert!(visa(SERVERS[0]) > 0 && visa(SERVERS[1]) > 0);
    assert_eq!(asked, want.offered + want.declined - visa(SERVERS[0]));
    let visa_gap = &gaps[group_of_text(gaps, VISA)];
    assert_eq!(visa_gap["asked"], visa(SERVERS[1]), "{visa_gap}");
    let group_of = |text: &str| group_of_text(gaps, text);
    let salary = group_of("how much do AI engineers earn in Germany");
    assert_eq!(salary, group_of("what's the salary of an AI engineer in Berlin?"));
    assert_ne!(salary, group_of(VISA));
    assert_ne!(group_of("which vector db should i pick?"), group_of(VISA));

    // Passages: the 👎 add up, the most disliked leads, unused ones are listed.
    let passages = get_json(&format!("{base}/dashboard/passages?days=90&format=json")).await;
    let disliked = passages["disliked"].as_array().unwrap();
    assert_eq!(disliked.iter().map(|p| p["unhelpful"].as_i64().unwrap()).sum::<i64>(), want.unhelpful);
    assert_eq!(disliked[0]["unit"], "comparison", "{disliked:?}");
    assert_eq!(
        disliked[0]["title"], "Software Engineer vs. AI Engineer: How the Roles Compare in Practice",
        "{disliked:?}"
    );
    let unused: Vec<&str> =
        passages["unused"].as_array().unwrap().iter().map(|p| p["unit"].as_str().unwrap()).collect();
    assert!(unused.contains(&"roadmap/phase-4") && !unused.contains(&"roadmap/phase-1"), "{unused:?}");

    // The review queue, most members first.
    let review = get_json(&format!("{base}/dashboard/review?format=json")).await;
    let review = review["review"].as_array().unwrap();
    assert_eq!(review.len(), 3, "{review:?}");
    assert_eq!(
        (review[0]["text"].as_str(), review[0]["members"].as_i64()),
        (Some("when do I start on phase 2"), Some(2))
    );

    // HTML: every page has its chart; bad scopes and pages are refused.
    for page in Page::ALL {
        let (status, body) = get(&format!("{base}{}?days=90", page.path())).await;
        assert_eq!(status, 200, "{}", page.path());
        assert!(body.contains("<svg") || page == Page::Review && body.contains("Nothing is waiting"), "{body}");
    }
    assert_eq!(get(&format!("{base}/dashboard?days=8")).await.0, 400);
    assert_eq!(get(&format!("{base}/dashboard?server=abc")).await.0, 400);
    assert_eq!(get(&format!("{base}/dashboard/nope")).await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn member_text_is_escaped_and_kept_back_without_question_text_logging() {
    let (dir, _) = seeded(50).await;
    let running = start(dir.path(), &[]);
    let (status, body) = get(&format!("{}/dashboard/gaps?days=7", running.base)).await;
    assert_eq!(status, 200);
    assert!(body.contains("&lt;script&gt;alert"), "escaped: {body}");
    assert!(!body.contains("<script>"), "no markup from members: {body}");
    let (_, body) = get(&format!("{}/dashboard/review", running.base)).await;
    assert!(body.contains("&lt;b&gt;phase&lt;/b&gt;") && !body.contains("<b>phase"), "{body}");

    // Without a token, a page that rebinds its own name to 127.0.0.1 is refused.
    let rebound =
        client().get(format!("{}/dashboard", running.base)).header("Host", "attacker.example").send().await.unwrap();
    assert_eq!(rebound.status().as_u16(), 403);
    assert!(!rebound.text().await.unwrap().contains("asked"));
    drop(running);

    write_config(dir.path(), false, None);
    let running = start(dir.path(), &[]);
    for page in ["gaps", "review"] {
        let (status, body) = get(&format!("{}/dashboard/{page}?days=7", running.base)).await;
        assert_eq!(status, 200);
        assert!(!body.contains("alert") && !body.contains("phase 2"), "{page}: {body}");
        let (_, json) = get(&format!("{}/dashboard/{page}?days=7&format=json", running.base)).await;
        assert!(!json.contains("alert") && !json.contains("when do I"), "{page}: {json}");
    }
    assert!(get(&format!("{}/dashboard/gaps", running.base)).await.1.contains("log_question_text = false"));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_token_every_request_needs_it_and_a_wrong_one_sees_nothing() {
    let (dir, history) = seeded(200).await;
    write_config(dir.path(), true, Some(TOKEN_VAR));
    let running = start(dir.path(), &[(TOKEN_VAR, "correct horse")]);
    let url = format!("{}/dashboard?days=90&format=json", running.base);
    let asked = expected(&history, 90, None).asked.to_string();
    let client = client();
    for auth in [None, Some("Bearer wrong"), Some("correct horse"), Some("Bearer ")] {
        let mut request = client.get(&url);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{auth:?}");
        let body = response.text().await.unwrap();
        assert!(body.contains("Log in") && !body.contains(&asked) && !body.contains("vector"), "{body}");
    }
    for path in Page::ALL.iter().map(|page| page.path()).chain(["/dashboard/", "/dashboard/nope"]) {
        let response = client.get(format!("{}{path}?days=90", running.base)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{path}");
        assert!(!response.text().await.unwrap().contains("vector"), "{path}");
    }
    let response = client.get(&url).header("Authorization", "Bearer correct horse").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(totals(&response.json().await.unwrap()).asked.to_string(), asked);

    // Wrong tokens are answered one at a time: a second one meanwhile is told to retry, at once.
    let wrong = || client.get(&url).header("Authorization", "Bearer guess").send();
    let (first, second) = tokio::join!(wrong(), wrong());
    let mut statuses = [first.unwrap().status().as_u16(), second.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [401, 429]);

    // The login form: a wrong token is refused, the right one sets a cookie that admits.
    let login = format!("{}/dashboard/login", running.base);
    let wrong = client.post(&login).form(&[("token", "nope")]).send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    let right = client.post(&login).form(&[("token", "correct horse")]).send().await.unwrap();
    assert_eq!(right.status().as_u16(), 303);
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && !cookie.contains("correct"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let response = client.get(&url).header("Cookie", pair).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let (expires, _) = pair.split_once('=').unwrap().1.split_once('.').unwrap();
    for forged in ["00".to_string(), format!("{expires}.{}", "ab".repeat(32)), format!("9999999999.{}", "0".repeat(64))]
    {
        let response =
            client.get(&url).header("Cookie", format!("transition_bot_dashboard={forged}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{forged}");
    }
}

/// Runs a command that must end by itself, killing it after 60 s.
fn finished(mut command: Command) -> std::process::Output {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the command did not end: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn it_needs_a_log_refuses_to_listen_beyond_loopback_without_a_token_and_a_named_token_must_be_set() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), true, None);
    let dashboard = |args: &[&str]| {
        let mut command = dashboard_command(dir.path());
        command.arg("dashboard").args(args);
        finished(command)
    };
    let output = dashboard(&["--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no question log at log.sqlite3"), "{stderr}");
    assert!(!dir.path().join("log.sqlite3").exists(), "the dashboard never creates the database");
    // An older log is refused, and left as it was: the dashboard never migrates.
    let log = dir.path().join("log.sqlite3");
    let old = rusqlite::Connection::open(&log).unwrap();
    old.execute_batch(crate::ops::SQLITE_SCHEMA_2).unwrap();
    let output = dashboard(&["--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("has schema version 2, older than this build's"), "{stderr}");
    assert_eq!(old.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0)).unwrap(), 2);
    drop(old);
    std::fs::remove_file(&log).unwrap();
    let config = StorageConfig { path: log, ..StorageConfig::default() };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(storage::import_history(&config, &[], &[])).unwrap();

    let output = dashboard(&["--listen", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refusing to serve the dashboard on 0.0.0.0:0 without a token"), "{stderr}");

    write_config(dir.path(), true, Some(TOKEN_VAR));
    let output = dashboard(&["--listen", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("{TOKEN_VAR} is not set")), "{stderr}");
}

/// Both backends make the same board from the same 90 days of history
/// (and the same waiting examples): `fleet` runs this on PostgreSQL.
pub(crate) async fn both_backends_show_the_same_board(postgres: &StorageConfig) {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = StorageConfig { path: dir.path().join("log.sqlite3"), ..StorageConfig::default() };
    let history = history::history(1_000, 90, SystemTime::now(), 11);
    for config in [&sqlite, postgres] {
        assert_eq!(
            storage::import_history(config, &history.questions, &history.votes).await.unwrap(),
            1_000 + history.votes.len()
        );
        let storage = Storage::start(config).unwrap();
        storage.record_example(&ExampleEvent {
            text: VISA.into(),
            unit: "roadmap/phase-2".into(),
            source: ExampleSource::Pick,
            guild_id: Some(SERVERS[1]),
            channel_id: Some(1),
            user_id: 5,
        });
        storage.shutdown().await.unwrap();
    }
    let board = |config: &StorageConfig| {
        let dashboard = Dashboard::open(config, knowledge_dir(), PathBuf::from("/no/model")).unwrap();
        async move {
            let mut boards = Vec::new();
            for page in Page::ALL {
                for (days, server) in [(90, None), (7, Some(SERVERS[1]))] {
                    boards.push(dashboard.board(page, Scope { days, server }).await.unwrap());
                }
            }
            boards
        }
    };
    let (from_sqlite, from_postgres) = (board(&sqlite).await, board(postgres).await);
    let totals = &from_sqlite[0].totals;
    assert_eq!(totals.asked, expected(&history, 90, None).asked);
    assert!(totals.offered > 0 && totals.unhelpful > 0, "{totals:?}");
    assert_eq!(from_sqlite[0].review.len(), 1);
    assert_eq!(from_sqlite, from_postgres);
}

/// chromedriver and Chromium, from the distribution's packages.
fn browser_programs() -> (PathBuf, PathBuf) {
    let find = |names: &[&str]| {
        names.iter().map(PathBuf::from).find(|path| path.is_absolute() && path.exists()).or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
                .find(|candidate| candidate.exists())
        })
    };
    let driver = find(&["/usr/bin/chromedriver", "chromedriver"]);
    let chromium = find(&["/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"]);
    match (driver, chromium) {
        (Some(driver), Some(chromium)) => (driver, chromium),
        _ => panic!(
            "the dashboard's browser test needs Chromium and ChromeDriver: apt-get install chromium chromium-driver \
             (scripts/test installs them when missing)"
        ),
    }
}

/// A WebDriver session in headless Chromium.
struct Browser {
    driver: Child,
    url: String,
    client: reqwest::Client,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start() -> Browser {
        let (driver, chromium) = browser_programs();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while client.get(format!("{base}/status")).send().await.is_err() {
            assert!(std::time::Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": { "browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,1500"]
        } } } });
        let session: Value =
            client.post(format!("{base}/session")).json(&capabilities).send().await.unwrap().json().await.unwrap();
        let id = session["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {session}")).to_string();
        Browser { driver, url: format!("{base}/session/{id}"), client }
    }

    async fn command(&self, path: &str, body: Value) -> Value {
        let response = self.client.post(format!("{}/{path}", self.url)).json(&body).send().await.unwrap();
        let value: Value = response.json().await.unwrap();
        assert!(value["value"].get("error").is_none(), "{path}: {value}");
        value["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.command("url", json!({ "url": url })).await;
    }

    /// Runs `script` in the page and returns what it returns.
    async fn run(&self, script: &str) -> Value {
        self.command("execute/sync", json!({ "script": script, "args": [] })).await
    }

    async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let value: Value =
            self.client.get(format!("{}/screenshot", self.url)).send().await.unwrap().json().await.unwrap();
        base64::engine::general_purpose::STANDARD.decode(value["value"].as_str().unwrap()).unwrap()
    }
}

/// What the browser laid out: charts with drawn marks, and the numbers shown.
const LAYOUT: &str = r#"
const drawn = [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const marks = [...svg.querySelectorAll('rect, circle, polyline')]
    .filter(m => { const b = m.getBoundingClientRect(); return b.width > 0 && b.height > 0; }).length;
  return { width: box.width, height: box.height, marks };
});
const cells = id => [...document.querySelectorAll('#' + id + ' tbody tr')].map(tr => [...tr.cells].map(td => td.textContent.trim()));
const number = id => { const e = document.getElementById(id); return e ? Number(e.textContent) : null; };
return { drawn, asked: number('asked'), unhelpful: number('unhelpful'), days: cells('days'), latency: cells('latency'),
  gaps: cells('gaps'), disliked: cells('disliked'), review: cells('review'),
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  wide: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id) };
"#;

#[tokio::test(flavor = "multi_thread")]
async fn every_page_renders_its_charts_in_headless_chromium() {
    let (dir, history) = seeded(3_000).await;
    let running = start(dir.path(), &[]);
    let browser = Browser::start().await;
    let want = expected(&history, 90, None);
    let column = |rows: &Value, index: usize| -> i64 {
        rows.as_array().unwrap().iter().map(|row| row[index].as_str().unwrap().parse::<i64>().unwrap()).sum()
    };
    for page in Page::ALL {
        browser.open(&format!("{}{}?days=90", running.base, page.path())).await;
        let shown = browser.run(LAYOUT).await;
        let drawn = shown["drawn"].as_array().unwrap();
        assert!(!drawn.is_empty(), "{}: no chart: {shown}", page.path());
        for chart in drawn {
            assert!(chart["width"].as_f64().unwrap() > 300.0, "{}: {chart}", page.path());
            assert!(chart["marks"].as_i64().unwrap() > 0, "{}: nothing drawn: {chart}", page.path());
        }
        match page {
            Page::Overview => {
                assert_eq!(shown["asked"].as_i64(), Some(want.asked), "{shown}");
                assert_eq!(shown["unhelpful"].as_i64(), Some(want.unhelpful), "{shown}");
                assert_eq!(shown["days"].as_array().unwrap().len(), 90);
                assert_eq!(column(&shown["days"], 1), want.asked);
                // The day columns: one stack per day with questions.
                let with_questions = shown["days"].as_array().unwrap().iter().filter(|d| d[1] != "0").count() as i64;
                assert!(drawn[0]["marks"].as_i64().unwrap() >= with_questions, "{shown}");
                std::fs::create_dir_all(screenshot_path().parent().unwrap()).unwrap();
                std::fs::write(screenshot_path(), browser.screenshot().await).unwrap();
            }
            Page::Gaps => {
                assert_eq!(
                    column(&shown["gaps"], 0),
                    want.offered + want.declined - visa_questions(&history, SERVERS[0])
                )
            }
            Page::Passages => assert_eq!(column(&shown["disliked"], 0), want.unhelpful),
            Page::Review => assert_eq!(column(&shown["review"], 0), 4),
            Page::Speed => assert_eq!(column(&shown["latency"], 1), want.asked),
        }
    }
    // At a phone's width nothing runs off the side (tables scroll in their box).
    browser.command("window/rect", json!({ "width": 390, "height": 844 })).await;
    for page in Page::ALL {
        browser.open(&format!("{}{}?days=90", running.base, page.path())).await;
        let shown = browser.run(LAYOUT).await;
        assert!(shown["overflow"].as_f64().unwrap() <= 0.0, "{} overflows at 390 px: {shown}", page.path());
    }
    let png = std::fs::read(screenshot_path()).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

/// Where the browser test leaves the overview's screenshot
/// (`docs/dashboard.png` is a copy of it).
fn screenshot_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("dashboard-overview.png")
}
