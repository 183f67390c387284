//! Failure types and the pure classifier that picks an error kind.
//!
//! Two families are kept apart on purpose: Closte *answered* and said no ([`Failure::Rejected`]),
//! or we never got a usable answer ([`Failure::Transport`], [`Failure::Decode`]). Operators act
//! differently on each (fix the key or the domain vs. wait and retry).

pub use crate::error_kind::ErrorKind;

/// Why one exchange with Closte did not produce a success.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Closte (or a proxy in front of it) answered, and the answer is a refusal.
    Rejected {
        status: u16,
        kind: ErrorKind,
        message: String,
        /// Seconds asked for by `Retry-After`, when present.
        retry_after: Option<u64>,
        body: Option<serde_json::Value>,
    },
    /// No answer: connect failure, reset, timeout.
    Transport { kind: ErrorKind, message: String },
    /// An answer that is not Closte's JSON (HTML page, empty body, truncated, oversized).
    Decode { status: u16, message: String },
}

impl Failure {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Failure::Rejected { kind, .. } | Failure::Transport { kind, .. } => *kind,
            Failure::Decode { status, .. } if is_server_status(*status) => ErrorKind::Server,
            Failure::Decode { .. } => ErrorKind::BadResponse,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Failure::Rejected { status, .. } | Failure::Decode { status, .. } => *status,
            Failure::Transport { .. } => 0,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Failure::Rejected { message, .. }
            | Failure::Transport { message, .. }
            | Failure::Decode { message, .. } => message,
        }
    }

    pub fn body(&self) -> Option<&serde_json::Value> {
        match self {
            Failure::Rejected { body, .. } => body.as_ref(),
            _ => None,
        }
    }

    /// Safe to retry right now, inside the same call: the request either never reached Closte,
    /// timed out, or Closte/a gateway said "try again" (429, 502, 503, 504). A plain 500 is not
    /// retried in-call (it is still reported retryable for a later, queued attempt).
    pub fn retry_now(&self) -> bool {
        match self {
            // A connection error or timeout may pass; a certificate that failed will fail again.
            Failure::Transport { kind, .. } => *kind != ErrorKind::Tls,
            Failure::Rejected { status, kind, .. } => {
                *kind == ErrorKind::RateLimited || matches!(status, 502..=504)
            }
            Failure::Decode { status, .. } => matches!(status, 502..=504),
        }
    }

    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Failure::Rejected { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
impl Failure {
    /// A bare refusal, for tests of the rules above.
    pub(crate) fn rejected_for_test(status: u16, kind: ErrorKind) -> Self {
        Failure::Rejected {
            status,
            kind,
            message: String::new(),
            retry_after: None,
            body: None,
        }
    }
}

fn is_server_status(status: u16) -> bool {
    (500..=599).contains(&status)
}

/// Pure classifier for an answer that is not a success: the HTTP status decides first, then
/// Closte's error text (Closte often answers HTTP 200 with `{"success": false, "error": ...}`).
pub fn classify_rejection(status: u16, message: &str) -> ErrorKind {
    match status {
        401 | 403 => return ErrorKind::Auth,
        404 | 405 | 410 => return ErrorKind::NotFound,
        // Redirects are never followed (the key must not travel to another address).
        300..=399 => return ErrorKind::BadResponse,
        408 => return ErrorKind::Timeout,
        429 => return ErrorKind::RateLimited,
        500..=599 => return ErrorKind::Server,
        _ => {}
    }
    let text = message.to_ascii_lowercase();
    if text.contains("api key")
        || text.contains("apikey")
        || text.contains("api_key")
        || text.contains("unauthori")
        || text.contains("forbidden")
        || text.contains("permission")
        || text.contains("not allowed")
        || text.contains("authenticat")
    {
        ErrorKind::Auth
    } else if text.contains("invalid or empty domain") || text.contains("invalid domain") {
        ErrorKind::InvalidDomain
    } else if text.contains("too many requests") || text.contains("rate limit") {
        ErrorKind::RateLimited
    } else if is_not_found_text(&text) {
        ErrorKind::NotFound
    } else if status >= 400 {
        // Any other 4xx: Closte refused the request as such.
        ErrorKind::InvalidDomain
    } else {
        ErrorKind::Server
    }
}

/// Closte's wording for "the alias exists already" is not documented; match loosely.
pub fn says_already_exists(message: &str) -> bool {
    let text = message.to_ascii_lowercase();
    text.contains("already") || (text.contains("exists") && !text.contains("not exist"))
}

/// Closte's wording for "no such alias" is not documented; match loosely.
pub fn says_not_found(message: &str) -> bool {
    is_not_found_text(&message.to_ascii_lowercase())
}

fn is_not_found_text(lower: &str) -> bool {
    lower.contains("not found")
        || lower.contains("does not exist")
        || lower.contains("doesn't exist")
        || lower.contains("not exist")
        || lower.contains("no such")
        || lower.contains("not present")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_decides_first() {
        assert_eq!(classify_rejection(401, ""), ErrorKind::Auth);
        assert_eq!(classify_rejection(403, "whatever"), ErrorKind::Auth);
        assert_eq!(classify_rejection(404, ""), ErrorKind::NotFound);
        assert_eq!(classify_rejection(405, ""), ErrorKind::NotFound);
        assert_eq!(classify_rejection(429, ""), ErrorKind::RateLimited);
        assert_eq!(
            classify_rejection(500, "Invalid API key"),
            ErrorKind::Server
        );
        assert_eq!(classify_rejection(503, ""), ErrorKind::Server);
        assert_eq!(classify_rejection(408, ""), ErrorKind::Timeout);
        assert_eq!(classify_rejection(302, ""), ErrorKind::BadResponse);
    }

    #[test]
    fn closte_texts_are_classified() {
        assert_eq!(classify_rejection(200, "Invalid API Key"), ErrorKind::Auth);
        assert_eq!(classify_rejection(200, "Unauthorized"), ErrorKind::Auth);
        assert_eq!(
            classify_rejection(200, "You do not have permission for this app"),
            ErrorKind::Auth
        );
        assert_eq!(
            classify_rejection(200, "Invalid or empty domain: "),
            ErrorKind::InvalidDomain
        );
        assert_eq!(
            classify_rejection(200, "Invalid or empty domain: foo"),
            ErrorKind::InvalidDomain
        );
        assert_eq!(
            classify_rejection(200, "Too many requests"),
            ErrorKind::RateLimited
        );
        assert_eq!(
            classify_rejection(200, "Domain alias not found"),
            ErrorKind::NotFound
        );
        assert_eq!(
            classify_rejection(400, "Bad request"),
            ErrorKind::InvalidDomain
        );
        assert_eq!(
            classify_rejection(200, "Something broke"),
            ErrorKind::Server
        );
    }

    #[test]
    fn loose_phrasings() {
        assert!(says_already_exists("Domain alias already exists"));
        assert!(says_already_exists(
            "This domain is ALREADY added to the app"
        ));
        assert!(says_already_exists("alias exists"));
        assert!(!says_already_exists("Domain does not exist"));
        assert!(!says_already_exists("Invalid or empty domain: x"));
        assert!(says_not_found("Domain alias not found"));
        assert!(says_not_found("Alias does not exist"));
        assert!(says_not_found("No such domain"));
        assert!(!says_not_found("Invalid API key"));
    }

    /// Every wording family of a refused key, with phrasings other than the first one each
    /// was written for: a refused key misread as a server error would be retried for hours.
    #[test]
    fn every_wording_of_a_refused_key_is_auth_even_with_http_200() {
        for text in [
            "Invalid API key",
            "invalid apikey supplied",
            "missing api_key parameter",
            "Unauthorized request",
            "unauthorised",
            "Forbidden",
            "You have no permission to manage this app",
            "This action is not allowed for this key",
            "Authentication failed",
            "could not authenticate you",
        ] {
            assert_eq!(classify_rejection(200, text), ErrorKind::Auth, "{text}");
        }
    }

    #[test]
    fn every_wording_of_a_missing_alias_is_not_found_even_with_http_200() {
        for text in [
            "Domain alias not found",
            "Alias does not exist",
            "alias doesn't exist",
            "Domain alias not exist",
            "No such alias",
            "alias not present on this app",
        ] {
            assert_eq!(classify_rejection(200, text), ErrorKind::NotFound, "{text}");
            assert!(says_not_found(text), "{text}");
        }
        // And with another status the status decides, whatever the text.
        assert_eq!(
            classify_rejection(503, "alias not found"),
            ErrorKind::Server
        );
        assert_eq!(
            classify_rejection(200, "Something unexpected happened"),
            ErrorKind::Server
        );
    }

    #[test]
    fn a_tls_failure_is_retried_neither_now_nor_later() {
        let tls = Failure::Transport {
            kind: ErrorKind::Tls,
            message: "invalid peer certificate".into(),
        };
        assert!(!tls.retry_now());
        assert!(!tls.kind().is_retryable());
        let network = Failure::Transport {
            kind: ErrorKind::Network,
            message: "connection refused".into(),
        };
        assert!(network.retry_now());
    }

    #[test]
    fn retry_rules() {
        let rejected = Failure::rejected_for_test;
        assert!(rejected(429, ErrorKind::RateLimited).retry_now());
        assert!(rejected(502, ErrorKind::Server).retry_now());
        assert!(rejected(503, ErrorKind::Server).retry_now());
        assert!(rejected(504, ErrorKind::Server).retry_now());
        assert!(!rejected(500, ErrorKind::Server).retry_now());
        assert!(rejected(500, ErrorKind::Server).kind().is_retryable());
        assert!(!rejected(401, ErrorKind::Auth).retry_now());
        assert!(!rejected(200, ErrorKind::InvalidDomain).retry_now());
        let transport = Failure::Transport {
            kind: ErrorKind::Timeout,
            message: "timed out".into(),
        };
        assert!(transport.retry_now());
        let html = Failure::Decode {
            status: 502,
            message: "html".into(),
        };
        assert_eq!(html.kind(), ErrorKind::Server);
        assert!(html.retry_now());
        let garbage = Failure::Decode {
            status: 200,
            message: "not json".into(),
        };
        assert_eq!(garbage.kind(), ErrorKind::BadResponse);
        assert!(!garbage.retry_now());
        assert!(!ErrorKind::BadResponse.is_retryable());
        assert!(!ErrorKind::Auth.is_retryable());
    }
}
