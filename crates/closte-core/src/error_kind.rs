//! The `error_kind` vocabulary of every result, shared by the client (which classifies
//! failures), the jobs layer and the counters (which count failures by kind) without either
//! importing the other.

use std::fmt;

/// The `error_kind` values of the PHP result array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Auth,
    InvalidDomain,
    RateLimited,
    Server,
    Timeout,
    Network,
    BadResponse,
    NotFound,
    /// The server's certificate failed verification (or TLS could not be agreed): not
    /// retryable, since the same certificate fails again; fix the certificate or
    /// `closte.ca_file`.
    Tls,
    /// Not Closte's answer: the extension failed (a panicking or aborted job). Retryable, since
    /// nothing says the work was done.
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Auth,
        ErrorKind::InvalidDomain,
        ErrorKind::RateLimited,
        ErrorKind::Server,
        ErrorKind::Timeout,
        ErrorKind::Network,
        ErrorKind::BadResponse,
        ErrorKind::NotFound,
        ErrorKind::Tls,
        ErrorKind::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::InvalidDomain => "invalid_domain",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Server => "server",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Network => "network",
            ErrorKind::BadResponse => "bad_response",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Tls => "tls",
            ErrorKind::Internal => "internal",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Worth trying again later (a background queue may reschedule it). Add and remove are
    /// idempotent on Closte's side, so even a 500 after which the alias may exist is safe to redo.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::Server
                | ErrorKind::Timeout
                | ErrorKind::Network
                | ErrorKind::Internal
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_name_and_index() {
        let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "auth",
                "invalid_domain",
                "rate_limited",
                "server",
                "timeout",
                "network",
                "bad_response",
                "not_found",
                "tls",
                "internal"
            ]
        );
        for (position, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), position, "{kind}");
            assert_eq!(kind.to_string(), kind.as_str());
        }
    }

    #[test]
    fn only_what_may_pass_with_time_is_retryable() {
        let retryable: Vec<ErrorKind> = ErrorKind::ALL
            .into_iter()
            .filter(|k| k.is_retryable())
            .collect();
        assert_eq!(
            retryable,
            [
                ErrorKind::RateLimited,
                ErrorKind::Server,
                ErrorKind::Timeout,
                ErrorKind::Network,
                ErrorKind::Internal
            ]
        );
    }
}
