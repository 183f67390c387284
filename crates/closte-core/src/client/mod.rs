//! The engine-free Closte client: no `ext_php_rs` in here, so `cargo test` exercises it against
//! the simulator over loopback.
//!
//! One generic request function ([`ClosteClient::exchange`]) sends any [`Endpoint`], with the
//! per-attempt deadline, the body cap and the retry policy. The operations above it decide what
//! an answer means (an "already exists" is a success for an add).

pub mod answer;
pub mod endpoint;
pub mod error;
pub mod outcome;
pub mod reconcile;
pub mod retry_after;
pub(crate) mod ssl_cache;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::{ApiKey, Settings};
use crate::domain::DomainName;
use crate::stats::COUNTERS;
use answer::{decode, Answer};
use endpoint::{
    AddDomainAlias, ConnectionProbe, DeleteDomainAlias, Endpoint, GetDomains, InstallSsl, Method,
    SslStatus, SSL_ENDPOINT_CANDIDATES,
};
use error::{says_already_exists, says_not_found, ErrorKind, Failure};
use outcome::{Operation, Outcome, State};

pub use ssl_cache::{cached_ssl_endpoint, SslEndpoint};

/// Largest body we read from Closte. Its answers are small JSON objects; a list of thousands of
/// aliases stays far below this. Anything larger is a proxy page or an attack.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// First retry delay; doubles per retry, with jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
const BACKOFF_CAP: Duration = Duration::from_secs(5);
/// A `Retry-After` longer than this is not waited for in-call: the operation ends as
/// `rate_limited` (retryable) and the caller's queue tries again later.
pub const MAX_RETRY_AFTER_SECS: u64 = 30;

/// The operations that act on one domain (what `closte_enqueue` accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainOperation {
    Add,
    Remove,
    RequestSsl,
    SslStatus,
}

impl DomainOperation {
    pub const NAMES: [&'static str; 4] =
        ["add_domain", "remove_domain", "request_ssl", "ssl_status"];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "add_domain" => Some(Self::Add),
            "remove_domain" => Some(Self::Remove),
            "request_ssl" => Some(Self::RequestSsl),
            "ssl_status" => Some(Self::SslStatus),
            _ => None,
        }
    }

    pub fn operation(self) -> Operation {
        match self {
            Self::Add => Operation::AddDomain,
            Self::Remove => Operation::RemoveDomain,
            Self::RequestSsl => Operation::RequestSsl,
            Self::SslStatus => Operation::SslStatus,
        }
    }

    /// Add and remove carry the site id into their result.
    pub fn takes_site_id(self) -> bool {
        matches!(self, Self::Add | Self::Remove)
    }
}

/// A Closte client bound to one key and one set of settings. Cheap to build per call: the
/// reqwest client (connection pool) inside is shared and cloned from the runtime module.
pub struct ClosteClient {
    http: reqwest::Client,
    base_url: String,
    key: ApiKey,
    timeout: Duration,
    max_retries: u32,
}

/// The result of [`ClosteClient::exchange`]: the final answer or failure, and how many HTTP
/// attempts it took.
pub struct Exchange {
    pub result: Result<Answer, Failure>,
    pub attempts: u32,
}

impl ClosteClient {
    pub fn new(http: reqwest::Client, settings: &Settings, key: ApiKey) -> Self {
        Self {
            http,
            base_url: settings.api_url.clone(),
            key,
            timeout: settings.timeout,
            max_retries: settings.max_retries,
        }
    }

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

    /// Runs one domain operation.
    pub async fn run(&self, operation: DomainOperation, domain: &DomainName) -> Outcome {
        match operation {
            DomainOperation::Add => self.add_domain(domain).await,
            DomainOperation::Remove => self.remove_domain(domain).await,
            DomainOperation::RequestSsl => self.request_ssl(domain).await,
            DomainOperation::SslStatus => self.ssl_status(domain).await,
        }
    }

    /// Adds the alias, then requests its certificate. "Already exists" counts as added.
    pub async fn add_domain(&self, domain: &DomainName) -> Outcome {
        let started = Instant::now();
        let mut outcome = self
            .change_alias(Operation::AddDomain, &AddDomainAlias(domain), domain)
            .await;
        if outcome.ok() {
            outcome.ssl = Some(Box::new(self.request_ssl(domain).await));
        }
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// Removes the alias. "Not there" counts as removed.
    pub async fn remove_domain(&self, domain: &DomainName) -> Outcome {
        let started = Instant::now();
        let mut outcome = self
            .change_alias(Operation::RemoveDomain, &DeleteDomainAlias(domain), domain)
            .await;
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// The shared part of add and remove: one exchange, Closte's idempotent refusal ("already
    /// exists" / "not found") read as success, anything unclear settled with `/getdomains`.
    async fn change_alias<E: Endpoint>(
        &self,
        operation: Operation,
        endpoint: &E,
        domain: &DomainName,
    ) -> Outcome {
        let adding = operation == Operation::AddDomain;
        let (done, already, says_already): (State, State, fn(&str) -> bool) = if adding {
            (State::Added, State::AlreadyExists, says_already_exists)
        } else {
            (State::Removed, State::NotPresent, says_not_found)
        };
        let mut outcome = Outcome::new(operation, Some(domain.as_str()));
        outcome.endpoint = Some(endpoint.path().to_string());
        let exchange = self.exchange(endpoint).await;
        outcome.attempts = exchange.attempts;
        let failure = match exchange.result {
            Ok(answer) if answer.success => {
                outcome.succeed_with(done, answer);
                return outcome;
            }
            Ok(answer) if answer.error.as_deref().is_some_and(says_already) => {
                outcome.succeed_with(already, answer);
                return outcome;
            }
            Ok(answer) => answer.into_rejection(),
            Err(failure) => failure,
        };
        self.settle_ambiguous(&mut outcome, &failure, domain, adding)
            .await;
        outcome
    }

    /// After a failure whose meaning is unclear (a 5xx, an unknown refusal text, a timeout after
    /// which the change may have happened), ask `/getdomains` whether the alias is in the state
    /// we wanted. If it is, the operation succeeded; if that cannot be told, the original
    /// failure stands.
    async fn settle_ambiguous(
        &self,
        outcome: &mut Outcome,
        failure: &Failure,
        domain: &DomainName,
        want_present: bool,
    ) {
        outcome.fail(failure);
        let ambiguous = matches!(
            failure.kind(),
            ErrorKind::Server | ErrorKind::BadResponse | ErrorKind::Timeout
        ) || (failure.kind() == ErrorKind::NotFound && failure.status() == 200);
        if !ambiguous {
            return;
        }
        let listing = self.exchange(&GetDomains).await;
        outcome.attempts += listing.attempts;
        let Ok(answer) = listing.result else { return };
        if !answer.success {
            return;
        }
        let present = extract_domains(&answer.body)
            .iter()
            .any(|d| d == domain.as_str());
        if present == want_present {
            let state = if want_present {
                State::AlreadyExists
            } else {
                State::NotPresent
            };
            outcome.succeed(state, failure.status(), failure.body().cloned());
        }
    }

    /// Requests the Let's Encrypt certificate through the SSL endpoint, discovered once per
    /// process and base URL.
    pub async fn request_ssl(&self, domain: &DomainName) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome::new(Operation::RequestSsl, Some(domain.as_str()));
        match cached_ssl_endpoint(&self.base_url) {
            Some(known) => self.request_ssl_through(known, &mut outcome, domain).await,
            None => {
                // Single flight: whoever waited here finds the endpoint known, as a rule.
                let gate = ssl_cache::discovery_gate(&self.base_url);
                let discovering = gate.lock().await;
                match cached_ssl_endpoint(&self.base_url) {
                    Some(known) => {
                        // Found meanwhile: the gate is for discovery only, never for requests
                        // (holding it here serialised a whole bulk sync's first wave).
                        drop(discovering);
                        self.request_ssl_through(known, &mut outcome, domain).await
                    }
                    None => self.discover_ssl(&mut outcome, domain).await,
                }
            }
        }
        outcome.elapsed = started.elapsed();
        outcome
    }

    async fn request_ssl_through(
        &self,
        known: SslEndpoint,
        outcome: &mut Outcome,
        domain: &DomainName,
    ) {
        match known {
            SslEndpoint::Found(path) => {
                let exchange = self.exchange(&InstallSsl { path, domain }).await;
                outcome.attempts = exchange.attempts;
                outcome.endpoint = Some(path.to_string());
                settle(outcome, exchange.result, State::Requested);
            }
            SslEndpoint::NoneFound => no_ssl_endpoint(outcome),
        }
    }

    async fn discover_ssl(&self, outcome: &mut Outcome, domain: &DomainName) {
        for path in SSL_ENDPOINT_CANDIDATES {
            let exchange = self.exchange(&InstallSsl { path, domain }).await;
            outcome.attempts += exchange.attempts;
            outcome.endpoint = Some(path.to_string());
            let exists = match &exchange.result {
                Err(failure) if matches!(failure.status(), 404 | 405) => continue,
                Err(failure) => proves_endpoint_exists(failure),
                Ok(answer) => {
                    answer.success || proves_endpoint_exists(&answer.clone().into_rejection())
                }
            };
            if exists {
                ssl_cache::remember(&self.base_url, SslEndpoint::Found(path));
            }
            // Without proof either way nothing is remembered; the next call probes again.
            settle(outcome, exchange.result, State::Requested);
            return;
        }
        ssl_cache::remember(&self.base_url, SslEndpoint::NoneFound);
        no_ssl_endpoint(outcome);
    }

    /// The certificate status Closte reports for a domain.
    pub async fn ssl_status(&self, domain: &DomainName) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome::new(Operation::SslStatus, Some(domain.as_str()));
        let endpoint = SslStatus(domain);
        outcome.endpoint = Some(endpoint.path().to_string());
        let exchange = self.exchange(&endpoint).await;
        outcome.attempts = exchange.attempts;
        settle(&mut outcome, exchange.result, State::Checked);
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// The aliases Closte holds for the app.
    pub async fn list_domains(&self) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome::new(Operation::ListDomains, None);
        outcome.endpoint = Some(GetDomains.path().to_string());
        let exchange = self.exchange(&GetDomains).await;
        outcome.attempts = exchange.attempts;
        match exchange.result {
            Ok(mut answer) if answer.success => {
                outcome.domains = Some(extract_domains(&answer.body));
                // The names are in `domains`; the list is not converted a second time.
                if let Some(body) = answer.body.as_object_mut() {
                    body.remove("domains");
                }
                outcome.succeed_with(State::Listed, answer);
            }
            Ok(answer) => outcome.fail(&answer.into_rejection()),
            Err(failure) => outcome.fail(&failure),
        }
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// Verifies the key and reachability without changing anything (an add with an empty
    /// domain, which Closte refuses with `Invalid or empty domain: ` when the key is valid).
    pub async fn test_connection(&self) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome::new(Operation::TestConnection, None);
        outcome.endpoint = Some(ConnectionProbe.path().to_string());
        let exchange = self.exchange(&ConnectionProbe).await;
        outcome.attempts = exchange.attempts;
        match exchange.result {
            Ok(answer)
                if answer.success
                    || answer
                        .error
                        .as_deref()
                        .is_some_and(|e| e.starts_with("Invalid or empty domain")) =>
            {
                outcome.succeed_with(State::Authorized, answer)
            }
            Ok(answer) => outcome.fail(&answer.into_rejection()),
            Err(failure) => outcome.fail(&failure),
        }
        outcome.elapsed = started.elapsed();
        outcome
    }
}

/// An answer other than 404/405 shows that an SSL endpoint exists, unless it could come from
/// something in front of every path (auth check, rate limiter, gateway error: every 5xx is
/// classified `Server`).
fn proves_endpoint_exists(failure: &Failure) -> bool {
    match failure {
        Failure::Rejected { kind, .. } => !matches!(
            kind,
            ErrorKind::Auth | ErrorKind::RateLimited | ErrorKind::Server
        ),
        Failure::Transport { .. } | Failure::Decode { .. } => false,
    }
}

/// The common ending of an operation: a success answer is `state`, anything else a failure.
fn settle(outcome: &mut Outcome, result: Result<Answer, Failure>, state: State) {
    match result {
        Ok(answer) if answer.success => outcome.succeed_with(state, answer),
        Ok(answer) => outcome.fail(&answer.into_rejection()),
        Err(failure) => outcome.fail(&failure),
    }
}

fn no_ssl_endpoint(outcome: &mut Outcome) {
    outcome.endpoint = None;
    outcome.fail_with(
        State::NoEndpoint,
        ErrorKind::NotFound,
        format!(
            "Closte exposes none of the SSL endpoints {}; Closte issues the Let's Encrypt \
             certificate itself once the alias exists and DNS points at the app",
            SSL_ENDPOINT_CANDIDATES.join(", ")
        ),
    );
}

/// Domain names from a `/getdomains` answer: `domains` may hold strings or objects with a
/// `domain`/`name`/`alias` field. Lower-cased, trailing dot removed.
pub fn extract_domains(body: &Value) -> Vec<String> {
    let Some(items) = body.get("domains").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::String(s) => Some(s.as_str()),
            Value::Object(map) => ["domain", "name", "alias", "domain_name"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str)),
            _ => None,
        })
        .map(|s| s.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
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
    use serde_json::json;

    #[test]
    fn every_operation_name_parses_to_its_operation_and_nothing_else_does() {
        for name in DomainOperation::NAMES {
            let operation = DomainOperation::parse(name).expect(name);
            assert_eq!(operation.operation().as_str(), name);
        }
        for name in ["", "add", "ADD_DOMAIN", "list_domains", "test_connection"] {
            assert_eq!(DomainOperation::parse(name), None, "{name}");
        }
    }

    #[test]
    fn only_add_and_remove_carry_a_site_id() {
        let carrying: Vec<&str> = DomainOperation::NAMES
            .into_iter()
            .filter(|name| DomainOperation::parse(name).unwrap().takes_site_id())
            .collect();
        assert_eq!(carrying, ["add_domain", "remove_domain"]);
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

    #[test]
    fn domains_are_extracted_from_either_shape() {
        let body = json!({"success": true, "domains": [
            "Example.com", {"domain": "*.wild.example.com"}, {"name": "b.example.org."}, 7, ""
        ]});
        assert_eq!(
            extract_domains(&body),
            vec!["example.com", "*.wild.example.com", "b.example.org"]
        );
        assert!(extract_domains(&json!({"success": true})).is_empty());
    }

    #[test]
    fn endpoint_existence_rules() {
        let rejected = Failure::rejected_for_test;
        assert!(proves_endpoint_exists(&rejected(
            400,
            ErrorKind::InvalidDomain
        )));
        assert!(!proves_endpoint_exists(&rejected(200, ErrorKind::Server)));
        assert!(!proves_endpoint_exists(&rejected(401, ErrorKind::Auth)));
        assert!(!proves_endpoint_exists(&rejected(
            429,
            ErrorKind::RateLimited
        )));
        assert!(!proves_endpoint_exists(&rejected(500, ErrorKind::Server)));
    }
}
