//! An in-process fake Discord (REST + gateway) on 127.0.0.1, random port,
//! for end-to-end tests of the real serenity/poise client.
//!
//! Tests use it as `crate::support::fake_discord`:
//!
//! ```ignore
//! use crate::support::fake_discord::*;
//!
//! let fake = FakeDiscord::start(FakeConfig::default()).await;
//! // Start the bot with TRANSITION_BOT_DISCORD__PROXY_URL=fake.base_url() and
//! // token fake.config().token; its Http must be built with
//! // `HttpBuilder::new(token).proxy(url).ratelimiter_disabled(true)`.
//! fake.wait_ready(1, secs(10)).await;
//! let ask = slash_command("ask", json!([{"name": "question", "type": 3, "value": "rust?"}]));
//! fake.send_interaction(&ask);
//! validate(&fake.callback_for(&ask.id, secs(5)).await).unwrap();
//! ```
//!
//! * REST (`/api/v10` prefix optional, stripped from recorded paths): gateway
//!   discovery, app info (with an owner, for poise), current user, command
//!   PUTs (echoed), interaction callbacks (204), follow-ups, edits and channel
//!   messages (a Message echoing the body). Other routes: recorded, 404. A
//!   wrong `Authorization: Bot <token>`: 401. `fail_next_sends(n)`: the next
//!   n callbacks or channel messages get a 502 with an HTML body;
//!   `slow_callbacks(d)`: callbacks are answered after `d`;
//!   `garble_commands`: command PUTs get a 200 whose body is no command list.
//! * Gateway: a websocket upgrade on any path (the URL handed out is
//!   `ws://127.0.0.1:PORT/gateway`; serenity appends `?v=10`). HELLO,
//!   IDENTIFY -> READY, heartbeat -> ACK, RESUME -> the dispatches after the
//!   client's sequence number, then RESUMED; per-session sequence numbers and
//!   dispatch buffers; any number of shards.
//! * Gateway faults: `drop_gateway` (no close frame), `request_reconnect`
//!   (op 7), `invalidate_sessions(resumable)` (op 9), `close_gateway(code)`
//!   (4000 keeps the session, 4009 ends it), `zombify` (heartbeats no longer
//!   ACKed), `revoke_token` (REST 401, gateway 4004).
//! * `validate`: Discord's OpenAPI request schemas (vendored subset in
//!   `tests/fixtures/discord/`) plus limits no schema states.
//!
//! serenity silently drops a gateway event it cannot parse (the test then
//! times out), so `tests/fake_discord_selftest.rs` parses every fixture
//! builder's output as serenity types.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// Snowflakes of the fake world. Distinct values, so a test catches a bot
/// that confuses, say, the application id with the bot user id.
pub const APPLICATION_ID: u64 = 1_100_000_000_000_000_001;
pub const BOT_USER_ID: u64 = 1_100_000_000_000_000_002;
/// Owner of the application (poise's `owners`).
pub const OWNER_ID: u64 = 1_100_000_000_000_000_003;
/// The human who invokes commands and writes messages in fixtures.
pub const USER_ID: u64 = 1_100_000_000_000_000_004;
pub const GUILD_ID: u64 = 1_100_000_000_000_000_010;
pub const CHANNEL_ID: u64 = 1_100_000_000_000_000_020;

const TIMESTAMP: &str = "2025-01-01T00:00:00.000000+00:00";
static SUBSET: &str = include_str!("../fixtures/discord/openapi-subset.json");

/// Shorthand for test timeouts.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A fresh snowflake-like id, unique within the test process.
pub fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1_200_000_000_000_000_000);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// Bot token without the `Bot ` prefix.
    pub token: String,
    /// `shards` answered by `GET /gateway/bot` (used by `start_autosharded`).
    pub recommended_shards: u32,
    /// Sent in HELLO. serenity heartbeats at this rate (each is ACKed) and
    /// notices a dead connection at the latest one interval later.
    pub heartbeat_interval_ms: u64,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig { token: "fake-bot-token".into(), recommended_shards: 1, heartbeat_interval_ms: 1000 }
    }
}

/// One HTTP request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path without the `/api/v10` prefix, e.g. `/channels/1/messages`.
    pub path: String,
    /// Raw query string (serenity sends `&k=v&...`), `""` if none.
    pub query: String,
    /// Lower-cased header names.
    pub headers: BTreeMap<String, String>,
    /// The JSON body, if the body parsed as JSON.
    pub body: Option<Value>,
    /// Status the fake answered with.
    pub status: u16,
    /// When the request arrived, for latency measurements.
    pub at: std::time::Instant,
}

impl Recorded {
    pub fn authorization(&self) -> Option<&str> {
        self.headers.get("authorization").map(String::as_str)
    }
    /// Path split on `/`, e.g. `["channels", "1", "messages"]`.
    pub fn segments(&self) -> Vec<&str> {
        self.path.trim_matches('/').split('/').collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginKind {
    Identify,
    Resume,
}

/// An IDENTIFY (op 2) or RESUME (op 6) the gateway accepted.
#[derive(Clone, Debug)]
pub struct Login {
    pub kind: LoginKind,
    /// `[shard_id, shard_total]` (for RESUME: that of the resumed session).
    pub shard: [u32; 2],
    /// Token as sent (serenity sends `Bot <token>`).
    pub token: String,
    /// Gateway intents bits (0 for RESUME, which carries none).
    pub intents: u64,
    pub session_id: String,
}

/// An interaction fixture: its id and token (to find its callback) and the
/// INTERACTION_CREATE `d` payload.
#[derive(Clone, Debug)]
pub struct FakeInteraction {
    pub id: String,
    pub token: String,
    pub payload: Value,
}

enum Out {
    Json(Value),
    Close(u16, &'static str),
    /// Drop the socket without a close frame, like a network failure.
    Drop,
}

struct Conn {
    id: u64,
    /// Set once the connection got READY or RESUMED.
    session_id: Option<String>,
    tx: mpsc::UnboundedSender<Out>,
}

/// A gateway session outlives its connection, so a RESUME continues it:
/// every dispatch is kept, and those after the client's last sequence number
/// are sent again on RESUME, as Discord does.
struct Session {
    shard: [u32; 2],
    seq: u64,
    frames: Vec<Value>,
}

#[derive(Default)]
struct GatewayState {
    requests: Vec<Recorded>,
    logins: Vec<Login>,
    sessions: HashMap<String, Session>,
    conns: Vec<Conn>,
    /// How many upcoming replies (interaction callbacks, channel messages)
    /// fail with a 502 and an HTML body, as Discord's edge sometimes does.
    failing_sends: usize,
    /// How long the fake takes to answer an interaction callback.
    callback_delay: Duration,
    /// Command registration is answered with a body serenity cannot parse.
    garbled_commands: bool,
    /// Connections whose heartbeats are no longer acknowledged (zombies).
    zombies: Vec<u64>,
    /// Channels `GET /channels/{id}` answers (threads, forums), by id;
    /// `PATCH` updates them.
    channels: HashMap<String, Value>,
    /// Messages in each channel, oldest first: those the test adds and those
    /// the bot posts, for `GET /channels/{id}/messages`.
    messages: HashMap<String, Vec<Value>>,
}

impl GatewayState {
    fn shard_of(&self, conn: &Conn) -> Option<[u32; 2]> {
        self.sessions.get(conn.session_id.as_ref()?).map(|s| s.shard)
    }
    /// Distinct `[id, total]` of live connections that got READY or RESUMED.
    fn ready_shards(&self) -> Vec<[u32; 2]> {
        let mut ids: Vec<_> = self.conns.iter().filter_map(|c| self.shard_of(c)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
    /// Records a dispatch in a session with its next sequence number
    /// (serenity drops a dispatch without `s`) and sends it on the session's
    /// connection, if it has one; otherwise it waits for a RESUME.
    fn dispatch(&mut self, session_id: &str, event: &str, data: &Value) -> bool {
        let Some(session) = self.sessions.get_mut(session_id) else {
            return false;
        };
        session.seq += 1;
        let frame = json!({"op": 0, "t": event, "s": session.seq, "d": data});
        session.frames.push(frame.clone());
        if let Some(conn) = self.conns.iter().find(|c| c.session_id.as_deref() == Some(session_id)) {
            let _ = conn.tx.send(Out::Json(frame));
        }
        true
    }

    /// Sends `out` on every connection; with `detach`, they lose their
    /// session, which keeps what is dispatched meanwhile for a RESUME.
    fn broadcast(&mut self, out: impl Fn() -> Out, detach: bool) {
        for conn in &mut self.conns {
            let _ = conn.tx.send(out());
            if detach {
                conn.session_id = None;
            }
        }
    }
}

struct Shared {
    config: FakeConfig,
    /// Set by `revoke_token`: the token is refused from then on.
    revoked: std::sync::atomic::AtomicBool,
    port: u16,
    state: Mutex<GatewayState>,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, GatewayState> {
        // A panicking test thread must not hide the state from the others.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/gateway", self.port)
    }
    /// Accepts the token with or without the `Bot ` prefix.
    fn token_ok(&self, sent: &str) -> bool {
        !self.revoked.load(std::sync::atomic::Ordering::SeqCst)
            && sent.trim_start_matches("Bot ") == self.config.token.trim_start_matches("Bot ")
    }
}

/// The running fake. Dropping it stops the server and closes the gateway.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.drop_gateway();
        self.server.abort();
    }
}

impl FakeDiscord {
    pub async fn start(config: FakeConfig) -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared { config, revoked: Default::default(), port, state: Mutex::default() });
        // One fallback handler: a websocket upgrade is the gateway whatever
        // the path; anything else is REST, routed by hand so that unknown
        // routes are recorded too.
        let app = axum::Router::new().fallback(entry).with_state(shared.clone());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeDiscord { shared, server }
    }

    /// `http://127.0.0.1:PORT`: the bot's proxy URL (serenity rewrites
    /// `https://discord.com` to it).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.shared.port)
    }
    pub fn gateway_url(&self) -> String {
        self.shared.ws_url()
    }
    pub fn config(&self) -> &FakeConfig {
        &self.shared.config
    }
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.state().requests.clone()
    }

    /// Poll `check` until it yields a value; on timeout panic with what was
    /// recorded so far (a timed-out wait is a failed test).
    async fn wait_for<T>(&self, timeout: Duration, what: &str, check: impl Fn(&GatewayState) -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check(&self.shared.state()) {
                return v;
            }
            if Instant::now() >= deadline {
                let st = self.shared.state();
                let reqs = st.requests.iter().map(|r| format!("{} {} {}", r.status, r.method, r.path));
                let reqs: Vec<_> = reqs.collect();
                panic!("fake Discord: no {what} within {timeout:?}; logins: {}; requests: {reqs:#?}", st.logins.len());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Wait until `shards` distinct shards have a live, ready session;
    /// returns the logins so far.
    pub async fn wait_ready(&self, shards: usize, timeout: Duration) -> Vec<Login> {
        let what = format!("{shards} ready shard(s)");
        let check = |st: &GatewayState| (st.ready_shards().len() >= shards).then(|| st.logins.clone());
        self.wait_for(timeout, &what, check).await
    }

    /// Wait until at least `n` IDENTIFY/RESUME logins were accepted in total.
    pub async fn wait_logins(&self, n: usize, timeout: Duration) -> Vec<Login> {
        let check = |st: &GatewayState| (st.logins.len() >= n).then(|| st.logins.clone());
        self.wait_for(timeout, &format!("{n} gateway logins"), check).await
    }

    /// How many IDENTIFY/RESUME logins were accepted so far.
    pub fn login_count(&self) -> usize {
        self.shared.state().logins.len()
    }

    /// Send a dispatch (op 0) to every ready connection, or only to shard id
    /// `shard`. Returns how many connections it was sent to.
    /// The dispatch goes to the shard's session: sent at once when connected,
    /// else kept for its RESUME.
    pub fn send_dispatch(&self, shard: Option<u32>, event: &str, data: Value) -> usize {
        let mut st = self.shared.state();
        let wanted = |s: [u32; 2]| shard.is_none_or(|want| s[0] == want);
        let targets: Vec<String> =
            st.sessions.iter().filter(|(_, session)| wanted(session.shard)).map(|(id, _)| id.clone()).collect();
        targets.into_iter().filter(|id| st.dispatch(id, event, &data)).count()
    }

    /// INTERACTION_CREATE to the shard that owns [`GUILD_ID`], as Discord
    /// routes it (`(guild_id >> 22) % shard_total`), so exactly one shard
    /// answers. Returns how many connections it was sent to (0 or 1).
    pub fn send_interaction(&self, interaction: &FakeInteraction) -> usize {
        let total = self.shared.state().sessions.values().map(|s| s.shard[1]).max();
        let shard = total.map(|t| ((GUILD_ID >> 22) % u64::from(t.max(1))) as u32);
        self.send_dispatch(shard, "INTERACTION_CREATE", interaction.payload.clone())
    }

    /// MESSAGE_CREATE to every ready shard.
    pub fn send_message(&self, message: &Value) -> usize {
        self.send_dispatch(None, "MESSAGE_CREATE", message.clone())
    }

    /// Wait for the first recorded request (in arrival order) matching `pred`.
    pub async fn wait_request(&self, pred: impl Fn(&Recorded) -> bool, timeout: Duration) -> Recorded {
        let check = |st: &GatewayState| st.requests.iter().find(|r| pred(r)).cloned();
        self.wait_for(timeout, "matching request", check).await
    }

    /// Wait for `POST /interactions/{id}/{token}/callback`.
    pub async fn callback_for(&self, interaction_id: &str, timeout: Duration) -> Recorded {
        let prefix = format!("/interactions/{interaction_id}/");
        let is_cb = |r: &Recorded| r.method == "POST" && r.path.starts_with(&prefix) && r.path.ends_with("/callback");
        self.wait_request(is_cb, timeout).await
    }

    /// Close every gateway connection abruptly (no close frame). Sessions
    /// are kept, so serenity may RESUME them or IDENTIFY anew.
    /// Refuses the token from now on (REST 401, gateway 4004), as after a reset.
    pub fn revoke_token(&self) {
        self.shared.revoked.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The next `n` replies the bot sends fail with a 502 (HTML body).
    pub fn fail_next_sends(&self, n: usize) {
        self.shared.state().failing_sends = n;
    }

    pub fn drop_gateway(&self) {
        for c in self.shared.state().conns.drain(..) {
            let _ = c.tx.send(Out::Drop);
        }
    }

    /// Op 7 Reconnect on every connection: the client must RESUME, and gets
    /// what was dispatched meanwhile.
    pub fn request_reconnect(&self) {
        self.shared.state().broadcast(|| Out::Json(json!({"op": 7, "d": null})), true);
    }

    /// Op 9 Invalid Session on every connection. Not resumable: the sessions
    /// end, and what was dispatched to them is lost, as on Discord.
    pub fn invalidate_sessions(&self, resumable: bool) {
        let mut st = self.shared.state();
        st.broadcast(|| Out::Json(json!({"op": 9, "d": resumable})), true);
        if !resumable {
            st.sessions.clear();
        }
    }

    /// Closes every connection with `code`: 4000 (unknown error) keeps the
    /// sessions for a RESUME; 4009 (session timed out) ends them.
    pub fn close_gateway(&self, code: u16) {
        let mut st = self.shared.state();
        st.broadcast(|| Out::Close(code, "closed by the fake"), true);
        if code == 4009 {
            st.sessions.clear();
        }
    }

    /// The current connections stop getting heartbeat ACKs, so the client
    /// must notice the zombie connection and replace it. It keeps its session
    /// (and receives dispatches) until the client resumes elsewhere.
    pub fn zombify(&self) {
        let mut st = self.shared.state();
        let ids: Vec<u64> = st.conns.iter().map(|c| c.id).collect();
        st.zombies.extend(ids);
    }

    /// A channel `GET /channels/{id}` answers from now on (a forum, a thread).
    pub fn add_channel(&self, channel: Value) {
        let id = channel["id"].as_str().unwrap_or_default().to_string();
        self.shared.state().channels.insert(id, channel);
    }

    /// A channel as the bot last changed it (`PATCH /channels/{id}`).
    pub fn channel(&self, id: u64) -> Option<Value> {
        self.shared.state().channels.get(&id.to_string()).cloned()
    }

    /// A message already in its channel, for `GET /channels/{id}/messages`.
    pub fn add_message(&self, message: Value) {
        let channel = message["channel_id"].as_str().unwrap_or_default().to_string();
        self.shared.state().messages.entry(channel).or_default().push(message);
    }

    /// Interaction callbacks are answered after `delay`.
    pub fn slow_callbacks(&self, delay: Duration) {
        self.shared.state().callback_delay = delay;
    }

    /// From now on, command registration (global or guild `PUT .../commands`)
    /// is answered 200 with `{"not": "a list"}`, as a broken proxy or an API
    /// change might: the request succeeds, its answer cannot be parsed.
    pub fn garble_commands(&self) {
        self.shared.state().garbled_commands = true;
    }
}

async fn entry(
    State(shared): State<Arc<Shared>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path().ends_with("/callback") {
        let delay = shared.state().callback_delay;
        tokio::time::sleep(delay).await;
    }
    match ws {
        Ok(ws) => ws.on_upgrade(move |socket| gateway(shared, socket)),
        Err(_) => rest(&shared, method, &uri, &headers, &body),
    }
}

fn rest(shared: &Shared, method: Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Response {
    let raw = uri.path();
    let path = ["/api/v10", "/api"].iter().find_map(|p| raw.strip_prefix(p)).unwrap_or(raw);
    let path = format!("/{}", path.trim_start_matches('/'));
    let headers: BTreeMap<String, String> =
        headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into())).collect();
    let body: Option<Value> = serde_json::from_slice(body).ok();
    let auth = headers.get("authorization").map_or("", String::as_str);
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let is_send = method == Method::POST
        && (matches!(segs.as_slice(), ["interactions", _, _, "callback"] | ["channels", _, "messages"]));
    let fails = is_send && {
        let mut state = shared.state();
        let fails = state.failing_sends > 0;
        state.failing_sends = state.failing_sends.saturating_sub(1);
        fails
    };
    let (status, answer) = if fails {
        (StatusCode::BAD_GATEWAY, Value::Null)
    } else if auth.starts_with("Bot ") && shared.token_ok(auth) {
        route(shared, &method, &segs, body.as_ref())
    } else {
        let unauthorized = json!({"message": "401: Unauthorized", "code": 0});
        (StatusCode::UNAUTHORIZED, unauthorized)
    };
    let (method, query) = (method.to_string(), uri.query().unwrap_or("").to_string());
    let recorded =
        Recorded { method, path, query, headers, body, status: status.as_u16(), at: std::time::Instant::now() };
    shared.state().requests.push(recorded);
    match status {
        StatusCode::NO_CONTENT => status.into_response(),
        StatusCode::BAD_GATEWAY => {
            (status, [("content-type", "text/html")], "<html>502 Bad Gateway</html>").into_response()
        }
        _ => (status, axum::Json(answer)).into_response(),
    }
}

fn route(shared: &Shared, method: &Method, segs: &[&str], body: Option<&Value>) -> (StatusCode, Value) {
    let ok = |v| (StatusCode::OK, v);
    match (method.as_str(), segs) {
        ("GET", ["gateway"]) => ok(json!({"url": shared.ws_url()})),
        ("GET", ["gateway", "bot"]) => ok(json!({
            "url": shared.ws_url(), "shards": shared.config.recommended_shards,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        })),
        ("GET", ["oauth2", "applications", "@me"]) => ok(application()),
        ("GET", ["users", "@me"]) => ok(bot_user()),
        ("PUT", ["applications", _, "commands"] | ["applications", _, "guilds", _, "commands"])
            if shared.state().garbled_commands =>
        {
            ok(json!({"not": "a list"}))
        }
        ("PUT", ["applications", _, "commands"]) => ok(echo_commands(body, None)),
        ("PUT", ["applications", _, "guilds", g, "commands"]) => ok(echo_commands(body, Some(g))),
        ("POST", ["interactions", _, _, "callback"]) => (StatusCode::NO_CONTENT, Value::Null),
        ("POST", ["webhooks", _, _]) | ("PATCH" | "GET", ["webhooks", _, _, "messages", _]) => {
            ok(echo_message(&CHANNEL_ID.to_string(), body, true))
        }
        ("POST", ["channels", channel, "messages"]) => {
            let message = echo_message(channel, body, false);
            shared.state().messages.entry(channel.to_string()).or_default().push(message.clone());
            ok(message)
        }
        // Newest first, as Discord lists them.
        ("GET", ["channels", channel, "messages"]) => {
            let state = shared.state();
            let newest_first: Vec<Value> =
                state.messages.get(*channel).map(|m| m.iter().rev().cloned().collect()).unwrap_or_default();
            ok(json!(newest_first))
        }
        ("GET", ["channels", channel]) => match shared.state().channels.get(*channel) {
            Some(found) => ok(found.clone()),
            None => (StatusCode::NOT_FOUND, json!({"message": "Unknown Channel", "code": 10003})),
        },
        ("PATCH", ["channels", channel]) => match shared.state().channels.get_mut(*channel) {
            Some(found) => {
                for (key, value) in body.and_then(Value::as_object).into_iter().flatten() {
                    found[key] = value.clone();
                }
                ok(found.clone())
            }
            None => (StatusCode::NOT_FOUND, json!({"message": "Unknown Channel", "code": 10003})),
        },
        _ => (StatusCode::NOT_FOUND, json!({"message": "404: Not Found", "code": 0})),
    }
}

/// Command registration answers the commands back with the fields Discord
/// adds (serenity parses the answer into `Vec<Command>`).
fn echo_commands(body: Option<&Value>, guild: Option<&str>) -> Value {
    let mut commands = body.cloned().filter(Value::is_array).unwrap_or(json!([]));
    let list = commands.as_array_mut().unwrap();
    for c in list.iter_mut().filter_map(Value::as_object_mut) {
        c.insert("id".into(), sf(next_id()));
        c.insert("application_id".into(), sf(APPLICATION_ID));
        c.insert("version".into(), sf(next_id()));
        c.entry("type").or_insert(json!(1));
        c.entry("description").or_insert(json!(""));
        if let Some(g) = guild {
            c.insert("guild_id".into(), json!(g));
        }
    }
    commands
}

/// A Message as Discord would return it for a sent body: authored by the bot,
/// echoing content, embeds and components.
fn echo_message(channel: &str, body: Option<&Value>, webhook: bool) -> Value {
    let body = body.cloned().unwrap_or_default();
    let mut msg = message(bot_user(), body["content"].as_str().unwrap_or(""), &[]);
    msg["channel_id"] = json!(channel);
    for key in ["embeds", "components"] {
        if body[key].is_array() {
            msg[key] = body[key].clone();
        }
    }
    if webhook {
        msg["webhook_id"] = sf(APPLICATION_ID);
        msg["application_id"] = sf(APPLICATION_ID);
    }
    msg
}

async fn gateway(shared: Arc<Shared>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = next_id();
    let conn = Conn { id, session_id: None, tx: tx.clone() };
    shared.state().conns.push(conn);
    let _ = tx.send(Out::Json(json!({"op": 10, "d": {"heartbeat_interval": shared.config.heartbeat_interval_ms}})));
    // All output goes through `rx`, so READY and later dispatches leave in
    // sequence order whichever task produced them.
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Out::Json(v)) => {
                    if socket.send(WsMessage::Text(v.to_string().into())).await.is_err() {
                        break;
                    }
                },
                Some(Out::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = socket.send(WsMessage::Close(Some(frame))).await;
                    break;
                },
                Some(Out::Drop) | None => break,
            },
            msg = socket.recv() => match msg {
                Some(Ok(WsMessage::Text(text))) => {
                    if let Ok(v) = serde_json::from_str::<Value>(&text) {
                        client_op(&shared, id, &v);
                    }
                },
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {},
            },
        }
    }
    shared.state().conns.retain(|c| c.id != id);
}

/// Handle one client frame; replies are queued on the connection's channel.
fn client_op(shared: &Shared, conn_id: u64, frame: &Value) {
    let mut st = shared.state();
    let Some(idx) = st.conns.iter().position(|c| c.id == conn_id) else {
        return;
    };
    let (d, tx) = (&frame["d"], st.conns[idx].tx.clone());
    let token = d["token"].as_str().unwrap_or("").to_string();
    let (kind, session_id, shard) = match frame["op"].as_u64() {
        Some(1) if st.zombies.contains(&conn_id) => return,
        Some(1) => return drop(tx.send(Out::Json(json!({"op": 11})))),
        Some(2 | 6) if !shared.token_ok(&token) => {
            return drop(tx.send(Out::Close(4004, "Authentication failed.")));
        }
        Some(2) => {
            let shard = [0, 1].map(|i| d["shard"][i].as_u64().unwrap_or(i as u64) as u32);
            let session_id = format!("fake-session-{}", next_id());
            // A new session replaces the shard's old one, which nobody resumes.
            st.sessions.retain(|_, session| session.shard != shard);
            st.sessions.insert(session_id.clone(), Session { shard, seq: 0, frames: Vec::new() });
            (LoginKind::Identify, session_id, shard)
        }
        Some(6) => {
            let session_id = d["session_id"].as_str().unwrap_or("").to_string();
            let Some(shard) = st.sessions.get(&session_id).map(|s| s.shard) else {
                // Unknown session: op 9, "invalid session, not resumable".
                return drop(tx.send(Out::Json(json!({"op": 9, "d": false}))));
            };
            (LoginKind::Resume, session_id, shard)
        }
        _ => return, // presence updates, member requests...: ignored
    };
    // A stale connection of the same session must not get dispatches.
    for c in st.conns.iter_mut().filter(|c| c.session_id.as_ref() == Some(&session_id)) {
        c.session_id = None;
    }
    st.conns[idx].session_id = Some(session_id.clone());
    let intents = d["intents"].as_u64().unwrap_or(0);
    let login = Login { kind, shard, token, intents, session_id: session_id.clone() };
    st.logins.push(login);
    match kind {
        LoginKind::Identify => st.dispatch(&session_id, "READY", &ready(shard, &session_id, &shared.ws_url())),
        LoginKind::Resume => {
            // Everything after the client's last sequence number, then RESUMED.
            let last = d["seq"].as_u64().unwrap_or(0);
            let missed: Vec<Value> = st.sessions[&session_id]
                .frames
                .iter()
                .filter(|frame| frame["s"].as_u64().is_some_and(|s| s > last))
                .cloned()
                .collect();
            for frame in missed {
                let _ = tx.send(Out::Json(frame));
            }
            st.dispatch(&session_id, "RESUMED", &json!({}))
        }
    };
}

// ---------------------------------------------------------------- fixtures

/// A snowflake as Discord sends it: a string.
fn sf(id: u64) -> Value {
    json!(id.to_string())
}

/// The elements of a JSON array, none for anything else.
fn arr(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

/// A user object; `bot` marks bot accounts.
pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": sf(id), "username": name, "discriminator": "0", "global_name": null, "avatar": null, "bot": bot})
}

pub fn bot_user() -> Value {
    user(BOT_USER_ID, "transition-bot", true)
}

fn application() -> Value {
    json!({
        "id": sf(APPLICATION_ID), "name": "transition-bot", "icon": null, "description": "",
        "bot_public": false, "bot_require_code_grant": false, "verify_key": "00".repeat(32),
        "owner": user(OWNER_ID, "owner", false), "team": null, "flags": 0, "bot": bot_user(),
    })
}

/// READY `d` for a shard (public so the self-test can parse it as `Ready`).
pub fn ready(shard: [u32; 2], session_id: &str, resume_url: &str) -> Value {
    json!({
        "v": 10, "user": bot_user(), "guilds": [], "session_id": session_id,
        "resume_gateway_url": resume_url, "shard": shard,
        "application": {"id": sf(APPLICATION_ID), "flags": 0},
    })
}

/// A guild text message in [`CHANNEL_ID`]. `author_is_bot` makes the author
/// this bot ([`BOT_USER_ID`]), as for a message the bot sent; otherwise the
/// author is the human [`USER_ID`]. `mentions` are user ids.
pub fn message_create(content: &str, mentions: &[u64], author_is_bot: bool) -> Value {
    let author = if author_is_bot { bot_user() } else { user(USER_ID, "tester", false) };
    let mut msg = message(author, content, mentions);
    msg["guild_id"] = sf(GUILD_ID);
    // Gateway messages carry a partial member, without `user`.
    msg["member"] = json!({"roles": [], "joined_at": TIMESTAMP, "deaf": false, "mute": false, "flags": 0});
    msg
}

fn message(author: Value, content: &str, mentions: &[u64]) -> Value {
    let mentions: Vec<Value> = mentions.iter().map(|&id| user(id, &format!("user{id}"), id == BOT_USER_ID)).collect();
    json!({
        "id": sf(next_id()), "channel_id": sf(CHANNEL_ID), "author": author, "content": content,
        "timestamp": TIMESTAMP, "edited_timestamp": null, "tts": false, "mention_everyone": false,
        "mentions": mentions, "mention_roles": [], "attachments": [], "embeds": [],
        "components": [], "pinned": false, "type": 0, "flags": 0,
    })
}

/// Common interaction fields: in the fake guild, invoked by [`USER_ID`].
fn interaction(kind: u8, data: Value) -> FakeInteraction {
    let id = next_id().to_string();
    let token = format!("fake-interaction-token-{id}");
    let member = json!({
        "user": user(USER_ID, "tester", false), "roles": [], "joined_at": TIMESTAMP,
        "deaf": false, "mute": false, "flags": 0, "pending": false, "permissions": "2248473465835073",
    });
    let payload = json!({
        "id": id, "application_id": sf(APPLICATION_ID), "type": kind, "data": data,
        "guild_id": sf(GUILD_ID), "channel_id": sf(CHANNEL_ID), "channel": {"id": sf(CHANNEL_ID), "type": 0},
        "member": member, "token": token, "version": 1, "app_permissions": "2248473465835073",
        "locale": "en-US", "guild_locale": "en-US", "entitlements": [], "context": 0,
        "attachment_size_limit": 26_214_400,
    });
    FakeInteraction { id, token, payload }
}

/// A guild slash command (type 2). `options` is Discord's option array, e.g.
/// `json!([{"name": "question", "type": 3, "value": "how?"}])` (type 3 string,
/// 4 integer, 5 boolean, 10 number; 1 subcommand with nested `options`).
pub fn slash_command(name: &str, options: Value) -> FakeInteraction {
    interaction(2, command_data(name, options))
}

/// An autocomplete request (type 4); mark the option being typed with
/// `"focused": true`, e.g. `[{"name": "topic", "type": 3, "value": "ru", "focused": true}]`.
pub fn autocomplete(name: &str, options: Value) -> FakeInteraction {
    interaction(4, command_data(name, options))
}

/// A forum channel with `tags` (names) as its available tags.
pub fn forum(id: u64, tags: &[&str]) -> Value {
    let tags: Vec<Value> = tags
        .iter()
        .enumerate()
        .map(|(n, name)| json!({"id": sf(1_400_000_000_000_000_000 + n as u64), "name": name, "moderated": false, "emoji_id": null, "emoji_name": null}))
        .collect();
    json!({
        "id": sf(id), "type": 15, "guild_id": sf(GUILD_ID), "name": "help", "position": 0,
        "permission_overwrites": [], "nsfw": false, "parent_id": null, "flags": 0,
        "available_tags": tags, "applied_tags": [],
    })
}

/// A forum post: a public thread (type 11) in `forum`, opened by `owner`
/// with `title`, as THREAD_CREATE and `GET /channels/{id}` carry it. Its
/// starter message has the thread's id.
pub fn forum_post(id: u64, forum: u64, owner: u64, title: &str) -> Value {
    json!({
        "id": sf(id), "type": 11, "guild_id": sf(GUILD_ID), "parent_id": sf(forum), "owner_id": sf(owner),
        "name": title, "last_message_id": sf(id), "rate_limit_per_user": 0, "flags": 0,
        "message_count": 0, "member_count": 1, "total_message_sent": 0, "applied_tags": [],
        "thread_metadata": {"archived": false, "auto_archive_duration": 4320, "archive_timestamp": TIMESTAMP, "locked": false},
        "newly_created": true,
    })
}

/// A message context-menu command (type 2, command type 3) used on `target`
/// (a message such as [`message_create`]), which Discord resolves in full.
pub fn message_command(name: &str, target: &Value) -> FakeInteraction {
    let mut data = command_data(name, json!([]));
    data["type"] = json!(3);
    data.as_object_mut().unwrap().remove("options");
    let id = target["id"].as_str().unwrap_or_default().to_string();
    data["target_id"] = json!(id);
    data["resolved"] = json!({"messages": {id: target}});
    interaction(2, data)
}

/// `data` of a chat-input command. Its id is stable per name, as Discord
/// keeps a command's id.
fn command_data(name: &str, options: Value) -> Value {
    let hash = name.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let id = 1_300_000_000_000_000_000 + hash % 1_000_000_000_000;
    json!({"id": sf(id), "name": name, "type": 1, "options": options})
}

/// A button click (type 3) on `message` (e.g. [`message_create`] with
/// `author_is_bot = true` and the button in its `components`).
pub fn button_click(custom_id: &str, message: Value) -> FakeInteraction {
    let mut i = interaction(3, json!({"custom_id": custom_id, "component_type": 2}));
    i.payload["message"] = message;
    i
}

// -------------------------------------------------------------- validation

/// Schema definitions `validate` uses, all in the vendored subset.
const DEFS: [&str; 10] = [
    "PongInteractionCallbackRequest",
    "CreateMessageInteractionCallbackRequest",
    "UpdateMessageInteractionCallbackRequest",
    "ApplicationCommandAutocompleteCallbackRequest",
    "ModalInteractionCallbackRequest",
    "MessageCreateRequest",
    "route.webhook_execute",
    "route.webhook_message_edit",
    "route.global_commands_put",
    "route.channel_update",
];

/// Check a recorded request body as Discord would: against the route's
/// request schema from Discord's OpenAPI spec; then the limits a schema cannot
/// state (6000 chars of embed text, 5 action rows, command name charset);
/// then the bot's own rule that a message with content carries
/// `allowed_mentions` parsing nothing (no `everyone`, `roles`, `users`), so
/// answers never ping. Bodiless requests to other routes (GETs) pass.
pub fn validate(r: &Recorded) -> Result<(), Vec<String>> {
    let body = r.body.clone().unwrap_or_default();
    let (def, message) = match (r.method.as_str(), r.segments().as_slice()) {
        ("POST", ["interactions", _, _, "callback"]) => match body["type"].as_u64() {
            Some(1) => (DEFS[0], None),
            Some(4 | 5) => (DEFS[1], Some(&body["data"])),
            Some(6 | 7) => (DEFS[2], Some(&body["data"])),
            Some(8) => (DEFS[3], None),
            _ => (DEFS[4], None), // 9 (modal); rejects unknown types too
        },
        ("POST", ["channels", _, "messages"]) => (DEFS[5], Some(&body)),
        ("POST", ["webhooks", _, _]) => (DEFS[6], Some(&body)),
        ("PATCH", ["webhooks", _, _, "messages", _]) => (DEFS[7], Some(&body)),
        // Global and guild command PUTs share one schema.
        ("PUT", ["applications", _, "commands"] | ["applications", _, "guilds", _, "commands"]) => (DEFS[8], None),
        ("PATCH", ["channels", _]) => (DEFS[9], None),
        _ if r.body.is_none() => return Ok(()),
        _ => return Err(vec![format!("no vendored schema for {} {}", r.method, r.path)]),
    };
    let mut errors = schema_errors(def, &body);
    if def == DEFS[8] {
        for command in arr(&body) {
            command_names(command, command["type"].as_u64().unwrap_or(1) == 1, &mut errors);
        }
    }
    if let Some(m) = message.filter(|m| m.is_object()) {
        message_limits(m, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn message_limits(m: &Value, errors: &mut Vec<String>) {
    let chars = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let embed_chars: usize = arr(&m["embeds"])
        .iter()
        .flat_map(|e| {
            let fields = arr(&e["fields"]).iter().flat_map(|f| [&f["name"], &f["value"]]);
            [&e["title"], &e["description"], &e["footer"]["text"], &e["author"]["name"]].into_iter().chain(fields)
        })
        .map(chars)
        .sum();
    if embed_chars > 6000 {
        errors.push(format!("embeds hold {embed_chars} characters in total, Discord allows 6000"));
    }
    let rows = arr(&m["components"]).iter().filter(|c| c["type"] == 1).count();
    if rows > 5 {
        errors.push(format!("{rows} action rows, Discord allows 5"));
    }
    if m["content"].as_str().is_some_and(|c| !c.is_empty()) {
        let mentions = &m["allowed_mentions"];
        if !mentions.is_object() {
            errors.push("content without allowed_mentions".into());
        } else if !arr(&mentions["parse"]).is_empty() {
            errors.push(format!("allowed_mentions parses {}", mentions["parse"]));
        }
    }
}

/// Discord's name rule for slash commands and their options, which the spec
/// leaves out: `^[-_\p{L}\p{N}]{1,32}$`, lower case (context-menu commands,
/// `type` 2 and 3, may use any name).
fn command_names(c: &Value, chat_input: bool, errors: &mut Vec<String>) {
    let name = c["name"].as_str().unwrap_or("");
    let charset = name.chars().all(|ch| ch == '-' || ch == '_' || ch.is_alphanumeric());
    if chat_input && !(charset && name.to_lowercase() == name) {
        errors.push(format!("command/option name {name:?}: only lower case letters, digits, - and _"));
    }
    for option in arr(&c["options"]) {
        command_names(option, true, errors);
    }
}

/// Errors of `body` against `$defs/<def>` of the vendored subset.
fn schema_errors(def: &str, body: &Value) -> Vec<String> {
    static VALIDATORS: OnceLock<HashMap<&str, jsonschema::Validator>> = OnceLock::new();
    let validators = VALIDATORS.get_or_init(|| {
        let subset: Value = serde_json::from_str(SUBSET).expect("openapi-subset.json is JSON");
        let build = |def: &str| {
            let mut schema = subset.clone();
            schema["$ref"] = json!(format!("#/$defs/{def}"));
            // Discord's formats (snowflake, int64, ...) are annotations, not
            // assertions: leave formats unchecked.
            let options = jsonschema::options().with_draft(jsonschema::Draft::Draft202012);
            let built = options.should_validate_formats(false).build(&schema);
            built.unwrap_or_else(|e| panic!("compiling schema {def}: {e}"))
        };
        DEFS.iter().map(|&def| (def, build(def))).collect()
    });
    // `evaluate` (unlike `iter_errors`) reports the errors inside failed
    // `oneOf` branches, e.g. at `/data/content` rather than only `/data`.
    let evaluation = validators[def].evaluate(body);
    let mut errors: Vec<String> = evaluation
        .iter_errors()
        .map(|e| {
            // Messages quote the offending value first and give the reason
            // last: keep both ends of long ones.
            let text: Vec<char> = e.error.to_string().chars().collect();
            let text: String = match text.len() {
                n if n > 160 => text[..60].iter().chain(&['.'; 3]).chain(&text[n - 90..]).collect(),
                _ => text.into_iter().collect(),
            };
            format!("{def} at '{}': {text}", e.instance_location)
        })
        .collect();
    errors.dedup();
    errors
}
