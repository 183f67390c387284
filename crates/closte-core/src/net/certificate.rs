//! What a presented certificate means for a name: whether it covers the name, and its status
//! (the pure decisions of the certificate check; the handshake is in `verify.rs`).

/// A day, in seconds.
const DAY: i64 = 86_400;
/// A certificate this close to its notAfter is `expiring` (a warning, not yet a failure).
pub const EXPIRING_WITHIN_DAYS: i64 = 14;

/// The status of the certificate a visitor of the name sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Expiring,
    Expired,
    NotYetValid,
    NameMismatch,
    Untrusted,
    /// A connection was made, but no TLS handshake completed.
    NoTls,
    /// No connection could be made to any allowed address.
    Unreachable,
    /// The name resolves to nothing.
    NoAddress,
    /// Every address of the name is refused by the address policy.
    RefusedAddress,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Expiring => "expiring",
            Status::Expired => "expired",
            Status::NotYetValid => "not_yet_valid",
            Status::NameMismatch => "name_mismatch",
            Status::Untrusted => "untrusted",
            Status::NoTls => "no_tls",
            Status::Unreachable => "unreachable",
            Status::NoAddress => "no_address",
            Status::RefusedAddress => "refused_address",
        }
    }

    /// A visitor gets a working HTTPS connection (possibly soon to expire).
    pub fn is_good(self) -> bool {
        matches!(self, Status::Active | Status::Expiring)
    }
}

/// Whether one of `names` (the leaf's subjectAltName DNS names) covers `name`: RFC 6125 as
/// browsers apply it. Case-insensitive, a trailing dot ignored; `*` only as the whole leftmost
/// label of a pattern with at least two further labels, standing for exactly one label. The
/// subject CN is never consulted.
pub fn covers(name: &str, names: &[String]) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    names.iter().any(|pattern| {
        let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(rest) => {
                !rest.contains('*')
                    && rest.contains('.')
                    && name
                        .split_once('.')
                        .is_some_and(|(label, tail)| !label.is_empty() && tail == rest)
            }
            None => pattern == name,
        }
    })
}

/// What a handshake showed, as `status` needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The name asked for (SNI).
    pub name: String,
    /// The leaf's subjectAltName DNS names.
    pub names: Vec<String>,
    /// Validity, in Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// The chain verified to a trusted root (ignoring name and time).
    pub trusted: bool,
}

/// Whole days from `now` to `not_after`, rounded down (negative once expired).
pub fn days_left(not_after: i64, now: i64) -> i64 {
    not_after.saturating_sub(now).div_euclid(DAY)
}

/// The status of `facts` at `now` (Unix seconds) and the days left: the first that applies of
/// expired, not_yet_valid, name_mismatch, untrusted, expiring (≤ 14 days), active.
pub fn status(facts: &Facts, now: i64) -> (Status, i64) {
    let status = if now > facts.not_after {
        Status::Expired
    } else if now < facts.not_before {
        Status::NotYetValid
    } else if !covers(&facts.name, &facts.names) {
        Status::NameMismatch
    } else if !facts.trusted {
        Status::Untrusted
    } else if facts.not_after - now <= EXPIRING_WITHIN_DAYS * DAY {
        Status::Expiring
    } else {
        Status::Active
    };
    (status, days_left(facts.not_after, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn every_status_has_its_documented_name_and_only_active_and_expiring_are_good() {
        let all = [
            Status::Active,
            Status::Expiring,
            Status::Expired,
            Status::NotYetValid,
            Status::NameMismatch,
            Status::Untrusted,
            Status::NoTls,
            Status::Unreachable,
            Status::NoAddress,
            Status::RefusedAddress,
        ];
        let texts: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            texts,
            [
                "active",
                "expiring",
                "expired",
                "not_yet_valid",
                "name_mismatch",
                "untrusted",
                "no_tls",
                "unreachable",
                "no_address",
                "refused_address"
            ]
        );
        let good: Vec<Status> = all.into_iter().filter(|s| s.is_good()).collect();
        assert_eq!(good, [Status::Active, Status::Expiring]);
    }

    #[test]
    fn a_wildcard_stands_for_exactly_one_whole_leftmost_label() {
        assert!(covers("a.example.com", &names(&["*.example.com"])));
        assert!(covers("a.example.com.", &names(&["*.Example.com."])));
        assert!(!covers(".example.com", &names(&["*.example.com"])));
        assert!(!covers("a.example.org", &names(&["*.example.com"])));
        assert!(!covers("a.example.com", &names(&["*.example*com"])));
        assert!(!covers("a.com", &names(&["*.com"])));
        assert!(covers("a.com", &names(&["A.com"])));
    }

    #[test]
    fn the_status_boundaries_fall_on_the_exact_second() {
        let facts = |not_before, not_after, trusted, sans: &[&str]| Facts {
            name: "shop.example.com".into(),
            names: names(sans),
            not_before,
            not_after,
            trusted,
        };
        let now = 1_000_000;
        let ok = &["shop.example.com"];
        assert_eq!(
            status(&facts(0, now + 15 * DAY, true, ok), now),
            (Status::Active, 15)
        );
        assert_eq!(
            status(&facts(0, now + 14 * DAY, true, ok), now),
            (Status::Expiring, 14)
        );
        assert_eq!(
            status(&facts(0, now + 14 * DAY + 1, true, ok), now),
            (Status::Active, 14)
        );
        assert_eq!(status(&facts(0, now, true, ok), now), (Status::Expiring, 0));
        assert_eq!(
            status(&facts(0, now - 1, true, ok), now),
            (Status::Expired, -1)
        );
        assert_eq!(
            status(&facts(now, now + DAY, true, ok), now),
            (Status::Expiring, 1)
        );
        assert_eq!(
            status(&facts(now + 1, now + DAY, true, ok), now),
            (Status::NotYetValid, 1)
        );
        assert_eq!(
            status(&facts(0, now + 30 * DAY, false, &["x.example.com"]), now),
            (Status::NameMismatch, 30)
        );
        assert_eq!(
            status(&facts(0, now + 30 * DAY, false, ok), now),
            (Status::Untrusted, 30)
        );
        assert_eq!(
            status(&facts(0, now + 3 * DAY, false, ok), now),
            (Status::Untrusted, 3)
        );
        assert_eq!(days_left(i64::MIN, i64::MAX), (i64::MIN).div_euclid(DAY));
    }
}
