//! Who may look at the dashboard: with a token, a bearer header or the
//! login form's cookie; without one, loopback only.
//!
//! The cookie is an expiry and its HMAC under a key this process drew at
//! start, so it says nothing about the token and dies with the process.
//! Tokens and signatures are compared in constant time (`same`), and
//! failed attempts are answered one at a time, each after a pause, so
//! guessing is slow.

use std::net::{IpAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::DashboardError;

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

    /// Whether a request carries the token or a valid login cookie (always, without a token).
    pub(super) fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.digest else { return true };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|token| same(&digest(token.trim()), expected));
        let cookie = login_cookies(headers).any(|value| self.cookie_valid(value, now_secs()));
        bearer || cookie
    }

    /// Whether a token was set: without one, only loopback is answered.
    pub(super) fn has_token(&self) -> bool {
        self.digest.is_some()
    }

    /// Whether `token`, typed into the login form, is the token.
    pub(super) fn right_token(&self, token: &str) -> bool {
        self.digest.is_some_and(|expected| same(&digest(token.trim()), &expected))
    }

    /// The `Set-Cookie` header of a login now.
    pub(super) fn login_cookie(&self) -> String {
        // Not `Secure`: the dashboard is usually reached over plain HTTP through an SSH tunnel.
        format!(
            "{COOKIE}={}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={LOGIN_SECS}",
            self.cookie_value(now_secs())
        )
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
    pub(super) async fn pause_after_failure(&self) -> bool {
        let Ok(_one_at_a_time) = self.failures.try_lock() else { return false };
        tokio::time::sleep(FAILURE_PAUSE).await;
        true
    }
}

/// Whether a request without a token was addressed to this machine by a
/// loopback name: a browser sends the name of the site it thinks it talks
/// to, so a page that rebinds its own name to 127.0.0.1 is refused.
/// Without a Host header (no browser sends none) the request is refused.
pub(super) fn addressed_to_loopback(headers: &HeaderMap) -> bool {
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

/// Whether a request offers a token or a login cookie, right or wrong.
pub(super) fn offers_credentials(headers: &HeaderMap) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
}
