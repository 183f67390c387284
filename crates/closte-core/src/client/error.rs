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
    } else if text.contains("invalid or empty domain")
        || text.contains("invalid domain")
        // A domain another app holds is refused like a bad one: retrying cannot help.
        || has_phrase(&text, CLAIMED_ELSEWHERE)
    {
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

/// Ways of saying "this alias is on the app already" (lower case, matched as whole words). Not
/// "already" alone: "already in use by another application" is a refusal.
const ALREADY_HERE: &[&str] = &[
    "already exists",
    "already exist",
    "exists already",
    "already added",
    "already been added",
    "already present",
    "already an alias",
];

/// Words that put the domain with another owner: with any of them a text is not proof that the
/// alias is on this app, whatever else it says.
const OTHER_OWNER: &[&str] = &[
    "another",
    "other app",
    "other application",
    "in use",
    "used by",
    "belongs to",
];

/// Texts that name another app or account as the domain's holder: a refusal no retry can change
/// (`InvalidDomain`), not a server error retried later. Not "another" alone: "another request is
/// running" is worth retrying.
const CLAIMED_ELSEWHERE: &[&str] = &[
    "another app",
    "another application",
    "another account",
    "other app",
    "other application",
    "other account",
];

/// Closte's wording for "the alias exists already" is not documented, but only a text that says
/// the alias is already here may turn a refused add into a success (and a certificate request):
/// one of [`ALREADY_HERE`], and no word of [`OTHER_OWNER`]. Any other refusal is classified; an
/// unclear one is confirmed with `/getdomains`.
pub fn says_already_exists(message: &str) -> bool {
    let text = message.to_ascii_lowercase();
    has_phrase(&text, ALREADY_HERE) && !has_phrase(&text, OTHER_OWNER)
}

/// True when `lower` holds one of `phrases` as whole words (no ASCII letter or digit right before
/// or after), so "in use" is not found in "domain user" nor "used by" in "caused by".
fn has_phrase(lower: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|phrase| {
        lower.match_indices(phrase).any(|(at, _)| {
            let before = lower[..at].chars().next_back();
            let after = lower[at + phrase.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphanumeric())
                && !after.is_some_and(|c| c.is_ascii_alphanumeric())
        })
    })
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
    fn every_phrase_of_an_alias_already_here_counts_in_any_case() {
        for text in [
            "Domain alias already exists",
            "This domain is ALREADY added to the app",
            "This domain was already added to the application",
            "These aliases already exist",
            "Alias exists already",
            "The domain has already been added",
            "Domain already present on this app",
            "example.com is already an alias of this app",
            "already exists",
        ] {
            assert!(says_already_exists(text), "{text}");
        }
    }

    #[test]
    fn already_alone_or_with_another_owner_is_no_proof_the_alias_is_here() {
        for text in [
            "This domain is already in use by another application",
            "Domain already used on another app",
            "Domain already exists on another server",
            "Alias already exists in other app 12",
            "Domain already exists in other application",
            "Domain already added, in use elsewhere",
            "Alias already exists, used by app 12",
            "Domain already exists and belongs to app 12",
            "Domain already registered",
            "Request already running",
            "alias exists",
            "Domain does not exist",
            "Invalid or empty domain: x",
        ] {
            assert!(!says_already_exists(text), "{text}");
        }
    }

    #[test]
    fn phrases_count_only_as_whole_words() {
        assert!(!says_already_exists("Domain already existsx"));
        assert!(!says_already_exists("xalready exists"));
        assert!(!says_already_exists("Alias already added2"));
        // The other-owner words only as words: "domain user" holds no "in use", "caused by"
        // no "used by", "anotherness" no "another".
        assert!(says_already_exists("Domain user alias already exists"));
        assert!(says_already_exists(
            "Alias already exists (caused by a retry)"
        ));
        assert!(says_already_exists("anotherness: alias already exists"));
        assert!(!says_already_exists("alias already exists in use"));
        assert!(!says_already_exists("alias already exists, in use."));
        assert!(has_phrase("in use", &["in use"]));
        assert!(!has_phrase("in user", &["in use"]));
        assert!(!has_phrase("win use", &["in use"]));
        assert!(has_phrase("win use, in use", &["in use"]));
        assert!(
            has_phrase("é in use é", &["in use"]),
            "a non-ASCII letter is no word"
        );
    }

    #[test]
    fn a_domain_another_app_holds_is_a_refusal_not_retried() {
        for text in [
            "This domain is already in use by another application",
            "Domain already used on another app",
            "Domain belongs to another account",
            "Alias is on other app 12",
            "Domain is used by other application",
            "Domain is registered to other account",
        ] {
            let kind = classify_rejection(200, text);
            assert_eq!(kind, ErrorKind::InvalidDomain, "{text}");
            assert!(!kind.is_retryable(), "{text}");
            assert_eq!(classify_rejection(409, text), ErrorKind::InvalidDomain);
        }
        // Another request, or an owner not named: unclear, so a server error (confirmed with
        // the listing, retried later).
        for text in [
            "Another request is running",
            "Domain is already in use",
            "Domain belongs to app 12",
        ] {
            assert_eq!(classify_rejection(200, text), ErrorKind::Server, "{text}");
        }
    }

    #[test]
    fn not_found_phrasings() {
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
