//! The operator's dashboard: a read-only web view of the question log, at
//! `/dashboard` on `serve`'s metrics listener and from `transition-bot
//! dashboard`, which reads the database alone (SQLite or PostgreSQL).
//!
//! Pages: the overview (questions per day, answered rate and votes per
//! week), content gaps (`similar`), passages (most 👎, never used), the
//! review queue and answering speed, each for a period and a server
//! (`?days=7|30|90&server=ID`) and as JSON (`&format=json`). `data` reads
//! and assembles, `svg` draws, `html` lays out.
//!
//! Safe by default: without a token it is served on loopback addresses
//! only, and answers only requests addressed to a loopback name (a web
//! page rebinding its own name to 127.0.0.1 gets 403); with `[dashboard]
//! token_env`, every request needs `Authorization: Bearer <token>` or the
//! cookie the login form sets (an expiry signed with a key this process
//! drew at start, so it says nothing about the token and dies with the
//! process), and anything else gets 401 with the login form. Failed
//! attempts are answered one at a time, each after a pause.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::ops::storage::{BoardQuery, Location, StorageError};

pub(crate) mod data;
mod html;
mod similar;
mod svg;

pub use data::{Board, Scope};

/// The dashboard's pages, in navigation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Overview,
    Gaps,
    Passages,
    Review,
    Speed,
}

impl Page {
    pub const ALL: [Page; 5] = [Page::Overview, Page::Gaps, Page::Passages, Page::Review, Page::Speed];

    pub fn path(self) -> &'static str {
        match self {
            Page::Overview => "/dashboard",
            Page::Gaps => "/dashboard/gaps",
            Page::Passages => "/dashboard/passages",
            Page::Review => "/dashboard/review",
            Page::Speed => "/dashboard/speed",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Page::Overview => "Over time",
            Page::Gaps => "Content gaps",
            Page::Passages => "Passages",
            Page::Review => "Review queue",
            Page::Speed => "Speed",
        }
    }

    fn named(name: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|page| page.path().rsplit('/').next() == Some(name) && *page != Page::Overview)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("the dashboard's token variable {name} is not set (or empty): set it, or remove [dashboard] token_env")]
    NoToken { name: String },
    #[error(
        "refusing to serve the dashboard on {listen} without a token: it shows members' questions. Listen on \
         127.0.0.1 (and use an SSH tunnel), or set [dashboard] token_env"
    )]
    Exposed { listen: String },
    #[error("cannot listen on {listen} for the dashboard: {source}")]
    Listen { listen: String, source: std::io::Error },
    #[error("no system randomness for the dashboard's login key: {reason}")]
    NoRandomness { reason: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Who may look: the token's digest, when there is one, and the key that
/// signs login cookies.
#[derive(Clone)]
pub struct Access {
    digest: Option<[u8; 32]>,
    cookie_key: [u8; 32],
    /// Held while a failed attempt waits, so guesses come one at a time.
    failures: Arc<tokio::sync::Mutex<()>>,
}

/// How long a login lasts.
const LOGIN_SECS: u64 = 7 * 24 * 60 * 60;
/// The wait before answering a wrong token.
const FAILURE_PAUSE: Duration = Duration::from_millis(300);
const COOKIE: &str = "transition_bot_dashboard";

type Signer = Hmac<Sha256>;

impl Access {
    /// Without a token: loopback only. Fails only without the system's
    /// randomness, without which no login cookie could be trusted.
    pub fn open() -> Result<Access, DashboardError> {
        let mut cookie_key = [0u8; 32];
        getrandom::fill(&mut cookie_key).map_err(|err| DashboardError::NoRandomness { reason: err.to_string() })?;
        Ok(Access { digest: None, cookie_key, failures: Arc::default() })
    }

    /// The token in the environment variable `token_env` names; none when
    /// `token_env` is unset, an error when it names an unset variable.
    pub fn from_env(token_env: Option<&str>) -> Result<Access, DashboardError> {
        let Some(name) = token_env else { return Access::open() };
        match std::env::var(name) {
            Ok(token) if !token.trim().is_empty() => Access::with_token(token.trim()),
            _ => Err(DashboardError::NoToken { name: name.to_string() }),
        }
    }

    pub fn with_token(token: &str) -> Result<Access, DashboardError> {
        Ok(Access { digest: Some(digest(token)), ..Access::open()? })
    }

    /// Whether a listener on `listen` may serve the dashboard: with a
    /// token anywhere, without one only where every address is loopback.
    pub fn allows(&self, listen: &str) -> Result<(), DashboardError> {
        let loopback = listen.to_socket_addrs().is_ok_and(|mut addrs| addrs.all(|addr| addr.ip().is_loopback()));
        if self.digest.is_some() || loopback {
            Ok(())
        } else {
            Err(DashboardError::Exposed { listen: listen.to_string() })
        }
    }

    fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.digest else { return true };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|token| same(&digest(token.trim()), expected));
        let cookie = login_cookies(headers).any(|value| self.cookie_valid(value, now_secs()));
        bearer || cookie
    }

    /// A cookie value for a login now: its expiry and the expiry's signature.
    fn cookie_value(&self, now: u64) -> String {
        let expires = now + LOGIN_SECS;
        format!("{expires}.{}", hex(&self.sign(expires)))
    }

    fn cookie_valid(&self, value: &str, now: u64) -> bool {
        let Some((expires, signature)) = value.split_once('.') else { return false };
        if !expires.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        let (Ok(expires), Some(signature)) = (expires.parse::<u64>(), decode_hex(signature)) else { return false };
        expires > now && same(&self.sign(expires), &signature)
    }

    fn sign(&self, expires: u64) -> [u8; 32] {
        let mut signer = Signer::new_from_slice(&self.cookie_key).expect("HMAC takes keys of any length");
        signer.update(&expires.to_be_bytes());
        signer.finalize().into_bytes().into()
    }

    /// Waits before answering a wrong credential, one at a time: `false`
    /// (answer 429 at once) while another wrong one is waiting, so guesses
    /// are capped and nothing queues up behind a flood.
    async fn pause_after_failure(&self) -> bool {
        let Ok(_one_at_a_time) = self.failures.try_lock() else { return false };
        tokio::time::sleep(FAILURE_PAUSE).await;
        true
    }
}

/// Whether a request without a token was addressed to this machine by a
/// loopback name: a browser sends the name of the site it thinks it talks
/// to, so a page that rebinds its own name to 127.0.0.1 is refused.
/// Without a Host header (no browser sends none) the request is refused.
fn addressed_to_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|value| value.to_str().ok()) else { return false };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    // `*.localhost` is loopback by definition (RFC 6761): no site can rebind it.
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.to_canonical().is_loopback())
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::new().chain_update("transition-bot dashboard\0").chain_update(token).finalize().into()
}

/// Compares all 32 bytes whatever differs first, so timing tells nothing.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn decode_hex(text: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the passages' titles come from: the live snapshot in `serve`, the
/// knowledge folder for the standalone dashboard.
pub type Passages = Arc<dyn Fn() -> Vec<data::Passage> + Send + Sync>;

/// What every page is made from.
pub struct Dashboard {
    location: Location,
    text_logged: bool,
    passages: Passages,
    similar: Arc<similar::Similar>,
    latency_bounds_us: Vec<i64>,
}

impl Dashboard {
    pub(crate) fn new(location: Location, text_logged: bool, passages: Passages, model_dir: PathBuf) -> Dashboard {
        let latency_bounds_us = crate::ops::metrics::LATENCY_BUCKETS.iter().map(|s| (s * 1e6).round() as i64).collect();
        Dashboard {
            location,
            text_logged,
            passages,
            similar: Arc::new(similar::Similar::new(model_dir)),
            latency_bounds_us,
        }
    }

    /// A dashboard over the database `storage` configures, titles from the
    /// Markdown in `knowledge_dir`, gaps grouped with the model in `model_dir`.
    pub fn open(
        storage: &crate::config::StorageConfig,
        knowledge_dir: PathBuf,
        model_dir: PathBuf,
    ) -> Result<Dashboard, DashboardError> {
        let location = Location::of(storage)?;
        Ok(Dashboard::new(location, storage.log_question_text, passages_of_folder(knowledge_dir), model_dir))
    }

    /// The data of `page` over `scope`, read now.
    pub async fn board(&self, page: Page, scope: Scope) -> Result<Board, DashboardError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        // From the start of the period's first UTC day, so every day shown is whole.
        let since_ms = data::first_day(now, scope.days) * data::DAY_MS;
        let query = BoardQuery { since_ms, guild: scope.server, latency_bounds_us: self.latency_bounds_us.clone() };
        let mut rows = self.location.board(query).await?;
        let (gaps, note) = if page == Page::Gaps && self.text_logged {
            let texts = std::mem::take(&mut rows.gaps);
            // Embedding is CPU work, kept off the async threads; remembered texts cost nothing.
            let similar = self.similar.clone();
            tokio::task::spawn_blocking(move || similar.group(&texts)).await.map_err(|_| StorageError::Stopped)?
        } else {
            (Vec::new(), None)
        };
        let passages = (self.passages)();
        let mut board = data::assemble(rows, scope, now, self.text_logged, &passages, gaps, &self.latency_bounds_us);
        board.grouping_note = note;
        Ok(board)
    }

    /// `page` over `scope` as a whole HTML document, or its data as JSON.
    pub async fn render(&self, page: Page, scope: Scope, json: bool) -> Result<String, DashboardError> {
        let board = self.board(page, scope).await?;
        Ok(if json { page_json(page, &board) } else { html::page(page, &board).into_string() })
    }
}

/// The part of the board a page shows, with its scope and totals.
fn page_json(page: Page, board: &Board) -> String {
    use serde_json::json;
    let value = match page {
        Page::Overview => json!({ "days": board.days, "weeks": board.weeks }),
        Page::Gaps => json!({ "gaps": board.gaps, "grouping_note": board.grouping_note }),
        Page::Passages => json!({ "disliked": board.disliked, "unused": board.unused }),
        Page::Review => json!({ "review": board.review }),
        Page::Speed => json!({ "latency": board.latency }),
    };
    let mut value = value;
    value["scope"] = json!(board.scope);
    value["totals"] = json!(board.totals);
    value["text_logged"] = json!(board.text_logged);
    value.to_string()
}

/// Passage titles read from a knowledge folder's Markdown at each request
/// (no index is built), so an edit shows without a restart.
fn passages_of_folder(dir: PathBuf) -> Passages {
    Arc::new(move || passages_of(&crate::engine::knowledge::load(&dir).0))
}

/// The live passages once `health` has a host (none while the first snapshot is built).
pub(crate) fn passages_of_health(health: Arc<crate::ops::health::Health>) -> Passages {
    Arc::new(move || health.host().map(|host| passages_of(&host.snapshot().knowledge)).unwrap_or_default())
}

fn passages_of(knowledge: &crate::engine::knowledge::Knowledge) -> Vec<data::Passage> {
    knowledge.units.iter().map(|unit| data::Passage { unit: unit.id.clone(), title: unit.title.clone() }).collect()
}

#[derive(Clone)]
struct Shared {
    dashboard: Arc<Dashboard>,
    access: Access,
}

#[derive(Debug, serde::Deserialize)]
struct Params {
    days: Option<String>,
    server: Option<String>,
    format: Option<String>,
}

impl Params {
    /// The scope asked for, or what is wrong with it.
    fn scope(&self) -> Result<Scope, String> {
        let days = match self.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => Scope::default().days,
            Some(days) => days
                .trim_end_matches('d')
                .parse()
                .ok()
                .filter(|days| data::PERIODS.contains(days))
                .ok_or("days must be 7, 30 or 90")?,
        };
        let server = match self.server.as_deref().map(str::trim).filter(|s| !s.is_empty() && *s != "all") {
            None => None,
            Some(id) => Some(id.parse().map_err(|_| "server must be a server id")?),
        };
        Ok(Scope { days, server })
    }
}

/// The dashboard's routes, under `/dashboard`, behind `access`.
pub fn router(dashboard: Arc<Dashboard>, access: Access) -> Router {
    let shared = Shared { dashboard, access };
    let pages = Router::new()
        .route("/dashboard", get(overview))
        .route("/dashboard/", get(overview))
        .route("/dashboard/{page}", get(named_page))
        .route_layer(middleware::from_fn_with_state(shared.clone(), admit))
        .with_state(shared.clone());
    let login = Router::new().route("/dashboard/login", get(login_form).post(log_in)).with_state(shared);
    login.merge(pages)
}

async fn admit(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let access = &shared.access;
    if access.digest.is_none() && !addressed_to_loopback(request.headers()) {
        return (StatusCode::FORBIDDEN, "without a token the dashboard answers only to localhost addresses\n")
            .into_response();
    }
    if access.admits(request.headers()) {
        return next.run(request).await;
    }
    // Someone not logged in gets the form at once; a wrong credential waits its turn.
    if offers_credentials(request.headers()) && !access.pause_after_failure().await {
        return too_many();
    }
    (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], Html(html::login(false).into_string()))
        .into_response()
}

fn offers_credentials(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION) || login_cookies(headers).next().is_some()
}

/// The values of the login cookie in a request's `Cookie` headers.
fn login_cookies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(COOKIE).and_then(|rest| rest.strip_prefix('=')))
}

fn too_many() -> Response {
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")], "another wrong token is being answered; try again\n")
        .into_response()
}

async fn overview(State(shared): State<Shared>, Query(params): Query<Params>) -> Response {
    show(&shared, Page::Overview, &params).await
}

async fn named_page(State(shared): State<Shared>, Path(name): Path<String>, Query(params): Query<Params>) -> Response {
    match Page::named(&name) {
        Some(page) => show(&shared, page, &params).await,
        None => (StatusCode::NOT_FOUND, "no such dashboard page\n").into_response(),
    }
}

async fn show(shared: &Shared, page: Page, params: &Params) -> Response {
    let scope = match params.scope() {
        Ok(scope) => scope,
        Err(problem) => return (StatusCode::BAD_REQUEST, format!("{problem}\n")).into_response(),
    };
    let json = params.format.as_deref() == Some("json");
    match shared.dashboard.render(page, scope, json).await {
        Ok(body) if json => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(body) => Html(body).into_response(),
        Err(err) => {
            // The details (paths, database names) go to the log, not to the browser.
            tracing::warn!(error = %err, "dashboard: cannot read the question log");
            (StatusCode::SERVICE_UNAVAILABLE, "cannot read the question log; the dashboard's log says why\n")
                .into_response()
        }
    }
}

async fn login_form() -> Html<String> {
    Html(html::login(false).into_string())
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
}

async fn log_in(State(shared): State<Shared>, Form(form): Form<LoginForm>) -> Response {
    let access = &shared.access;
    let right = access.digest.is_some_and(|expected| same(&digest(form.token.trim()), &expected));
    if !right {
        if !access.pause_after_failure().await {
            return too_many();
        }
        return (StatusCode::UNAUTHORIZED, Html(html::login(true).into_string())).into_response();
    }
    // Not `Secure`: the dashboard is usually reached over plain HTTP through an SSH tunnel.
    let cookie = format!(
        "{COOKIE}={}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={LOGIN_SECS}",
        access.cookie_value(now_secs())
    );
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/dashboard")]).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// A running standalone dashboard.
pub struct DashboardServer {
    pub local_addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// Serves the dashboard alone on `listen` (`transition-bot dashboard`),
/// refusing an address beyond loopback without a token.
pub async fn serve(listen: &str, dashboard: Dashboard, access: Access) -> Result<DashboardServer, DashboardError> {
    access.allows(listen)?;
    let failed = |source| DashboardError::Listen { listen: listen.to_string(), source };
    let listener = tokio::net::TcpListener::bind(listen).await.map_err(failed)?;
    let local_addr = listener.local_addr().map_err(failed)?;
    let app = router(Arc::new(dashboard), access);
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = %err, "dashboard server stopped");
        }
    });
    Ok(DashboardServer { local_addr, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_token_admits_by_bearer_or_a_signed_unexpired_cookie_and_nothing_else() {
        let access = Access::with_token("s3cret").unwrap();
        assert!(access.admits(&headers(&[(header::AUTHORIZATION, "Bearer s3cret")])));
        assert!(!access.admits(&headers(&[(header::AUTHORIZATION, "Bearer s3cre")])));
        assert!(!access.admits(&headers(&[(header::AUTHORIZATION, "s3cret")])));
        assert!(!access.admits(&HeaderMap::new()));
        let now = now_secs();
        let cookie = format!("other=1; {COOKIE}={}", access.cookie_value(now));
        assert!(access.admits(&headers(&[(header::COOKIE, &cookie)])));
        // Expired, signed by another process, or tampered with: refused.
        let (expires, signature) =
            access.cookie_value(now).split_once('.').map(|(a, b)| (a.to_string(), b.to_string())).unwrap();
        assert!(!access.cookie_valid(&format!("{expires}.{signature}"), expires.parse::<u64>().unwrap()));
        assert!(!Access::with_token("s3cret").unwrap().cookie_valid(&access.cookie_value(now), now));
        assert!(!access.cookie_valid(&format!("{}.{signature}", expires.parse::<u64>().unwrap() + 1), now));
        assert!(!access.cookie_valid("s3cret", now));
        assert!(!access.cookie_valid(&format!("+{expires}.{signature}"), now), "one spelling only");
        assert!(!access.cookie_valid(&format!("{expires}.+{}", &signature[1..]), now));
        assert!(!access.cookie_valid(&format!("{expires}.é{}", &signature[2..]), now));
        assert!(Access::open().unwrap().admits(&HeaderMap::new()));
    }

    #[test]
    fn without_a_token_only_requests_addressed_to_loopback_are_answered() {
        let loopback = [
            "127.0.0.1:9100",
            "localhost:9100",
            "LOCALHOST",
            "localhost.",
            "tunnel.localhost:9100",
            "[::1]:9100",
            "[::1]",
            "[::ffff:127.0.0.1]:9100",
            "127.0.0.2",
        ];
        for host in loopback {
            assert!(addressed_to_loopback(&headers(&[(header::HOST, host)])), "{host}");
        }
        for host in ["attacker.example:9100", "10.0.0.1", "[2001:db8::1]:80", "localhost.attacker.example", "", "[::2]"]
        {
            assert!(!addressed_to_loopback(&headers(&[(header::HOST, host)])), "{host}");
        }
        assert!(!addressed_to_loopback(&HeaderMap::new()), "no Host header");
    }

    #[test]
    fn without_a_token_only_loopback_is_served() {
        assert!(Access::open().unwrap().allows("127.0.0.1:9100").is_ok());
        assert!(Access::open().unwrap().allows("[::1]:9100").is_ok());
        assert!(matches!(Access::open().unwrap().allows("0.0.0.0:9100"), Err(DashboardError::Exposed { .. })));
        assert!(Access::with_token("t").unwrap().allows("0.0.0.0:9100").is_ok());
    }

    #[test]
    fn scopes_are_checked() {
        let params =
            |days: &str, server: &str| Params { days: Some(days.into()), server: Some(server.into()), format: None };
        assert_eq!(params("7", "").scope(), Ok(Scope { days: 7, server: None }));
        assert_eq!(params("90d", "123").scope(), Ok(Scope { days: 90, server: Some(123) }));
        assert!(params("8", "").scope().is_err());
        assert!(params("30", "<x>").scope().is_err());
    }
}
