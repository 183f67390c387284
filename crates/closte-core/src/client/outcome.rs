//! The result of one remote operation: the shape every PHP function returns as an array.

use std::time::Duration;

use serde_json::Value;

use crate::net::{CertificateCheck, DnsCheck};

use super::answer::Answer;
use super::error::{ErrorKind, Failure};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    AddDomain,
    RemoveDomain,
    RequestSsl,
    SslStatus,
    ListDomains,
    TestConnection,
    CheckDns,
    VerifyCertificate,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::AddDomain => "add_domain",
            Operation::RemoveDomain => "remove_domain",
            Operation::RequestSsl => "request_ssl",
            Operation::SslStatus => "ssl_status",
            Operation::ListDomains => "list_domains",
            Operation::TestConnection => "test_connection",
            Operation::CheckDns => "check_dns",
            Operation::VerifyCertificate => "verify_certificate",
        }
    }
}

/// What happened, in words a log line can carry (`state` in the PHP array).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Added,
    AlreadyExists,
    Removed,
    NotPresent,
    Requested,
    NoEndpoint,
    Checked,
    Listed,
    Authorized,
    /// `check_dns`: the name resolves to the main host's addresses.
    DnsReady,
    /// `check_dns`: both lookups answered, the name does not point here (yet).
    DnsNotReady,
    /// `verify_certificate`: a certificate was presented and classified.
    Verified,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Added => "added",
            State::AlreadyExists => "already_exists",
            State::Removed => "removed",
            State::NotPresent => "not_present",
            State::Requested => "requested",
            State::NoEndpoint => "no_endpoint",
            State::Checked => "checked",
            State::Listed => "listed",
            State::Authorized => "authorized",
            State::DnsReady => "dns_ready",
            State::DnsNotReady => "dns_not_ready",
            State::Verified => "verified",
            State::Failed => "failed",
        }
    }
}

/// The result of one operation. The fields that make up success or failure (`ok`, `state`,
/// `error`, `error_kind`, `retryable`, `response`) change only through [`Outcome::succeed`],
/// [`Outcome::fail`] and [`Outcome::fail_with`], so every outcome has the documented shape: a
/// success has no error and no kind; a failure has both, and is retryable exactly when its kind
/// is. The rest is metadata the client fills in.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    operation: Operation,
    domain: Option<String>,
    ok: bool,
    state: State,
    /// HTTP status of the last answer, 0 when there was none.
    status: u16,
    error: Option<String>,
    error_kind: Option<ErrorKind>,
    retryable: bool,
    /// HTTP attempts spent on this operation (retries and confirmations included).
    pub(crate) attempts: u32,
    pub(crate) elapsed: Duration,
    /// Closte's decoded JSON answer, when there was one.
    response: Option<Value>,
    /// The endpoint path that produced the answer.
    pub(crate) endpoint: Option<String>,
    /// `list_domains`: the aliases Closte holds.
    pub(crate) domains: Option<Vec<String>>,
    /// `add_domain`: the nested SSL request.
    pub(crate) ssl: Option<Box<Outcome>>,
    /// `check_dns`: what the lookups found.
    pub(crate) dns: Option<Box<DnsCheck>>,
    /// `verify_certificate`: the certificate a visitor sees.
    pub(crate) certificate: Option<Box<CertificateCheck>>,
}
impl Outcome {
    pub fn new(operation: Operation, domain: Option<&str>) -> Self {
        Self {
            operation,
            domain: domain.map(str::to_string),
            ok: false,
            state: State::Failed,
            status: 0,
            error: None,
            error_kind: None,
            retryable: false,
            attempts: 0,
            elapsed: Duration::ZERO,
            response: None,
            endpoint: None,
            domains: None,
            ssl: None,
            dns: None,
            certificate: None,
        }
    }

    pub fn succeed(&mut self, state: State, status: u16, response: Option<Value>) {
        self.ok = true;
        self.state = state;
        self.status = status;
        self.response = response;
        self.error = None;
        self.error_kind = None;
        self.retryable = false;
    }

    pub fn succeed_with(&mut self, state: State, answer: Answer) {
        self.succeed(state, answer.status, Some(answer.body));
    }

    pub fn fail(&mut self, failure: &Failure) {
        let kind = failure.kind();
        self.ok = false;
        self.state = State::Failed;
        self.status = failure.status();
        self.error = Some(failure.message().to_string());
        self.error_kind = Some(kind);
        self.retryable = kind.is_retryable();
        self.response = failure.body().cloned();
    }

    /// A failure that is ours, not Closte's (e.g. no SSL endpoint exists).
    pub fn fail_with(&mut self, state: State, kind: ErrorKind, message: String) {
        self.ok = false;
        self.state = state;
        self.error = Some(message);
        self.error_kind = Some(kind);
        self.retryable = kind.is_retryable();
    }

    pub fn operation(&self) -> Operation {
        self.operation
    }

    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    pub fn ok(&self) -> bool {
        self.ok
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.error_kind
    }

    pub fn retryable(&self) -> bool {
        self.retryable
    }

    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    pub fn response(&self) -> Option<&Value> {
        self.response.as_ref()
    }

    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    pub fn domains(&self) -> Option<&[String]> {
        self.domains.as_deref()
    }

    /// Hands out the aliases a `list_domains` found, leaving none: for a caller that reports
    /// only their number (100,000 names are megabytes in a PHP array).
    pub fn take_domains(&mut self) -> Option<Vec<String>> {
        self.domains.take()
    }

    pub fn ssl(&self) -> Option<&Outcome> {
        self.ssl.as_deref()
    }

    pub fn dns(&self) -> Option<&DnsCheck> {
        self.dns.as_deref()
    }

    pub fn certificate(&self) -> Option<&CertificateCheck> {
        self.certificate.as_deref()
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_time_reads_as_a_duration_and_in_milliseconds() {
        let mut outcome = Outcome::new(Operation::ListDomains, None);
        assert_eq!(outcome.elapsed(), Duration::ZERO);
        outcome.elapsed = Duration::from_micros(1_500);
        assert_eq!(outcome.elapsed(), Duration::from_micros(1_500));
        assert_eq!(outcome.elapsed_ms(), 1.5);
    }

    #[test]
    fn taking_the_listed_domains_hands_them_out_once_and_leaves_none() {
        let mut outcome = Outcome::new(Operation::ListDomains, None);
        outcome.domains = Some(vec!["a.example.com".into(), "b.example.com".into()]);
        assert_eq!(
            outcome.take_domains(),
            Some(vec![
                "a.example.com".to_string(),
                "b.example.com".to_string()
            ])
        );
        assert_eq!(outcome.domains(), None);
        assert_eq!(outcome.take_domains(), None);
    }

    #[test]
    fn every_state_has_its_documented_name() {
        let names: Vec<&str> = [
            State::Added,
            State::AlreadyExists,
            State::Removed,
            State::NotPresent,
            State::Requested,
            State::NoEndpoint,
            State::Checked,
            State::Listed,
            State::Authorized,
            State::DnsReady,
            State::DnsNotReady,
            State::Verified,
            State::Failed,
        ]
        .into_iter()
        .map(State::as_str)
        .collect();
        assert_eq!(
            names,
            [
                "added",
                "already_exists",
                "removed",
                "not_present",
                "requested",
                "no_endpoint",
                "checked",
                "listed",
                "authorized",
                "dns_ready",
                "dns_not_ready",
                "verified",
                "failed"
            ]
        );
    }
}
