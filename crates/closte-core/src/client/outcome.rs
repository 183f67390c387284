//! The result of one remote operation: the shape every PHP function returns as an array.

use std::time::Duration;

use serde_json::Value;

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
    /// A job id that names no job (`closte_wait`).
    Unknown,
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
            Operation::Unknown => "unknown",
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
    Failed,
    /// A started job without a result yet (`closte_wait`).
    Pending,
    /// A job id that names no job (`closte_wait`).
    Unknown,
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
            State::Failed => "failed",
            State::Pending => "pending",
            State::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub operation: Operation,
    pub domain: Option<String>,
    pub ok: bool,
    pub state: State,
    /// HTTP status of the last answer, 0 when there was none.
    pub status: u16,
    pub error: Option<String>,
    pub error_kind: Option<ErrorKind>,
    pub retryable: bool,
    /// HTTP attempts spent on this operation (retries and confirmations included).
    pub attempts: u32,
    pub elapsed: Duration,
    /// Closte's decoded JSON answer, when there was one.
    pub response: Option<Value>,
    /// The endpoint path that produced the answer.
    pub endpoint: Option<String>,
    /// `list_domains`: the aliases Closte holds.
    pub domains: Option<Vec<String>>,
    /// `add_domain`: the nested SSL request.
    pub ssl: Option<Box<Outcome>>,
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

    pub fn elapsed_ms(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1000.0
    }
}
