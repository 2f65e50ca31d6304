//! The operator's dashboard: a read-only web view of the question log, at
//! `/dashboard` on `serve`'s metrics listener and from `transition-bot
//! dashboard`, which reads the database alone (SQLite or PostgreSQL).
//!
//! Pages: the overview (questions per day, answered rate and votes per
//! week), content gaps (`similar`), passages (most 👎, never used), the
//! review queue and answering speed, each for a period and a server
//! (`?days=7|30|90&server=ID`) and as JSON (`&format=json`). `data` reads
//! and assembles, `svg` draws, `html` lays out, `login` decides who may look.
//!
//! Safe by default: without a token it is served on loopback addresses
//! only, and answers only requests addressed to a loopback name (a web
//! page rebinding its own name to 127.0.0.1 gets 403); with `[dashboard]
//! token_env`, every request needs `Authorization: Bearer <token>` or the
//! cookie the login form sets (an expiry signed with a key this process
//! drew at start, so it says nothing about the token and dies with the
//! process), and anything else gets 401 with the login form. Failed
//! attempts are answered one at a time, each after a pause.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};

use crate::ops::storage::{BoardQuery, Location, StorageError};

pub(crate) mod data;
mod html;
mod login;
mod similar;
mod svg;

pub use data::{Board, Scope};
pub use login::Access;
use login::{addressed_to_loopback, offers_credentials};

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
    if !access.has_token() && !addressed_to_loopback(request.headers()) {
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
    if !access.right_token(&form.token) {
        if !access.pause_after_failure().await {
            return too_many();
        }
        return (StatusCode::UNAUTHORIZED, Html(html::login(true).into_string())).into_response();
    }
    let cookie = access.login_cookie();
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
