//! Bounded retries of what the bot sends to Discord. A 5xx, a 429 or a
//! transport error is transient (Discord asks clients to retry), and an
//! interaction must be answered within 3 seconds, so a send is tried at most
//! three times over about one second. Other 4xx are the bot's own mistakes
//! and are never retried. When a retry is refused with 40060 ("interaction
//! has already been acknowledged"), an earlier attempt got through although
//! its answer was lost: the reply counts as delivered.

use std::future::Future;
use std::time::Duration;

use poise::serenity_prelude as serenity;

/// Pauses before the second and third attempts.
const BACKOFF: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(600)];

/// Discord's code for an interaction answered already.
const ALREADY_ACKNOWLEDGED: isize = 40060;

/// Runs `attempt` until it succeeds, fails for good, or the tries run out.
pub(crate) async fn send<T, F, Fut>(what: &str, mut attempt: F) -> Result<(), serenity::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, serenity::Error>>,
{
    let mut pauses = BACKOFF.iter();
    let mut retried = false;
    loop {
        let err = match attempt().await {
            Ok(_) => return Ok(()),
            Err(err) if retried && code(&err) == Some(ALREADY_ACKNOWLEDGED) => return Ok(()),
            Err(err) => err,
        };
        match pauses.next() {
            Some(pause) if transient(&err) => {
                tracing::warn!(what, error = %err, "sending to Discord failed, retrying");
                tokio::time::sleep(*pause).await;
                retried = true;
            }
            _ => return Err(err),
        }
    }
}

/// Whether `err` may go away on its own: 5xx, 429, or no answer at all.
fn transient(err: &serenity::Error) -> bool {
    match err {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(response)) => {
            response.status_code.is_server_error() || response.status_code == serenity::StatusCode::TOO_MANY_REQUESTS
        }
        serenity::Error::Http(serenity::HttpError::Request(_)) => true,
        _ => false,
    }
}

/// Discord's JSON error code of a refused request.
fn code(err: &serenity::Error) -> Option<isize> {
    match err {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(response)) => Some(response.error.code),
        _ => None,
    }
}
