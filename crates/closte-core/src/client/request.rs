//! The one request function: [`ClosteClient::exchange`] sends any [`Endpoint`] with the
//! per-attempt deadline, the body cap and the retry policy, and cuts an echoed key out of every
//! answer before anything reads it.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use crate::stats::COUNTERS;

use super::answer::{decode, Answer};
use super::endpoint::{Endpoint, Method};
use super::error::{ErrorKind, Failure};
use super::{retry_after, ClosteClient};

/// Largest body we read from Closte. Its answers are small JSON objects; a list of thousands of
/// aliases stays far below this. Anything larger is a proxy page or an attack.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// First retry delay; doubles per retry, with jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// A `Retry-After` longer than this is not waited for in-call: the operation ends as
/// `rate_limited` (retryable) and the caller's queue tries again later.
pub const MAX_RETRY_AFTER_SECS: u64 = 30;

/// The result of [`ClosteClient::exchange`]: the final answer or failure, and how many HTTP
/// attempts it took.
pub struct Exchange {
    pub result: Result<Answer, Failure>,
    pub attempts: u32,
}

impl ClosteClient {
    /// Sends one endpoint, retrying what is safe to retry.
    pub async fn exchange<E: Endpoint>(&self, endpoint: &E) -> Exchange {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let result = self.attempt(endpoint).await;
            COUNTERS.request(result.as_ref().err().map(Failure::kind));
            let delay = match &result {
                Err(failure) if failure.retry_now() && attempts <= self.max_retries => {
                    retry_delay(attempts, failure.retry_after())
                }
                _ => None,
            };
            match delay {
                Some(delay) => {
                    COUNTERS.retry();
                    tokio::time::sleep(delay).await;
                }
                None => return Exchange { result, attempts },
            }
        }
    }

    /// One HTTP attempt, bounded by the timeout from connect to the last body byte.
    async fn attempt<E: Endpoint>(&self, endpoint: &E) -> Result<Answer, Failure> {
        let url = format!("{}{}", self.base_url, endpoint.path());
        let mut fields = endpoint.fields();
        fields.insert(0, ("apikey", self.key.expose().to_string()));
        let request = match endpoint.method() {
            Method::Get => self.http.get(&url).query(&fields),
            Method::Post => self.http.post(&url).form(&fields),
        };
        let path = endpoint.path();
        // reqwest's own timeout covers the whole exchange; the outer one is a second fence in
        // case a body stream ever ignores it.
        let exchange = async {
            let mut response = request
                .timeout(self.timeout)
                .send()
                .await
                .map_err(|e| transport_failure(path, e))?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after::parse(v, std::time::SystemTime::now()));
            if response
                .content_length()
                .is_some_and(|len| len > MAX_BODY_BYTES as u64)
            {
                return Err(oversized(status));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| transport_failure(path, e))?
            {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(oversized(status));
                }
                body.extend_from_slice(&chunk);
            }
            decode(status, &without_key(body, self.key.expose()), retry_after)
        };
        match tokio::time::timeout(self.timeout + Duration::from_millis(250), exchange).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Transport {
                kind: ErrorKind::Timeout,
                message: format!("{path}: no complete answer within {:?}", self.timeout),
            }),
        }
    }
}

fn oversized(status: u16) -> Failure {
    Failure::Decode {
        status,
        message: format!("Closte's answer exceeds {MAX_BODY_BYTES} bytes; not read"),
    }
}

/// A transport error as a failure. The URL is stripped first: a GET carries the key in its
/// query string, and reqwest prints the URL in its messages.
fn transport_failure(path: &str, error: reqwest::Error) -> Failure {
    let error = error.without_url();
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else if is_tls_failure(&error) {
        ErrorKind::Tls
    } else {
        ErrorKind::Network
    };
    let mut message = format!("{path}: {error}");
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    Failure::Transport { kind, message }
}

/// A TLS failure (certificate verification, no common protocol) somewhere in the error's causes.
/// A certificate error or alert is not a network hiccup: retrying it for hours helps no one.
fn is_tls_failure(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if is_rustls_error(cause) {
            return true;
        }
        source = cause.source();
    }
    false
}

/// rustls' error, possibly wrapped in (nested) `io::Error`s, whose inner errors `source()` skips.
fn is_rustls_error(error: &(dyn std::error::Error + 'static)) -> bool {
    if error.downcast_ref::<rustls::Error>().is_some() {
        return true;
    }
    match error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        Some(inner) => is_rustls_error(inner),
        None => false,
    }
}

/// Exponential backoff with jitter (50-100% of the step); `Retry-After` raises the wait. `None`
/// when the server asks for longer than we are willing to wait in-call.
fn retry_delay(attempt: u32, retry_after: Option<u64>) -> Option<Duration> {
    if retry_after.is_some_and(|secs| secs > MAX_RETRY_AFTER_SECS) {
        return None;
    }
    let step = BACKOFF_BASE
        .saturating_mul(1 << (attempt - 1).min(10))
        .min(BACKOFF_CAP);
    let jitter = 0.5 + (RandomState::new().hash_one(Instant::now()) % 1000) as f64 / 2000.0;
    let backoff = step.mul_f64(jitter);
    Some(backoff.max(Duration::from_secs(retry_after.unwrap_or(0))))
}

/// Whatever answers may echo the key back ("Invalid API key: <key>"). It is cut out of the body
/// before anything reads it, so no result, log line, job report or exception can carry it: as
/// sent (form-encoded), as it is, and as JSON escapes it.
fn without_key(body: Vec<u8>, key: &str) -> Vec<u8> {
    let mut forms = vec![key.to_string()];
    let json = serde_json::to_string(key).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    let form: String = form_urlencoded::byte_serialize(key.as_bytes()).collect();
    for form in [json, form] {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    let mut body = body;
    for form in forms.iter().filter(|f| !f.is_empty()) {
        body = replace_all(&body, form.as_bytes(), b"[redacted]");
    }
    body
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echoed_key_is_cut_out_of_the_body_in_every_form() {
        let key = "k3y/with+odd&chars\"x";
        let echoed = format!(
            "{{\"error\":\"Invalid API key: {} / {} / {}\"}}",
            serde_json::to_string(key).unwrap().trim_matches('"'),
            form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>(),
            "plain"
        );
        let body = without_key(echoed.into_bytes(), key);
        let text = String::from_utf8(body).unwrap();
        assert!(!text.contains("k3y"), "{text}");
        assert_eq!(text.matches("[redacted]").count(), 2, "{text}");
        assert_eq!(without_key(b"no key here".to_vec(), key), b"no key here");
    }
    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..=12 {
            let d = retry_delay(attempt, None).unwrap();
            let step = BACKOFF_BASE
                .saturating_mul(1 << (attempt - 1).min(10))
                .min(BACKOFF_CAP);
            assert!(
                d >= step / 2 && d <= step,
                "attempt {attempt}: {d:?} vs step {step:?}"
            );
        }
        assert!(retry_delay(1, Some(3)).unwrap() >= Duration::from_secs(3));
        // Exactly the cap is still waited for in-call; one second more is not.
        assert_eq!(
            retry_delay(1, Some(MAX_RETRY_AFTER_SECS)),
            Some(Duration::from_secs(MAX_RETRY_AFTER_SECS))
        );
        assert_eq!(retry_delay(1, Some(MAX_RETRY_AFTER_SECS + 1)), None);
    }
}
