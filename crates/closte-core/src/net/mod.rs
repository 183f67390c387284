//! The checks that look at a mapped domain from the outside, not through Closte: whether its
//! DNS points at this network (`check_dns`) and which certificate a visitor gets
//! (`verify_certificate`). What they connect to is chosen by a customer, so they resolve
//! through one resolver (`dns::resolve`), judge every address with `address_policy` before
//! connecting, and are bounded by `closte.timeout` / `closte.connect_timeout`.
//!
//! - `address_policy`: public addresses only (loopback, private, metadata... refused);
//! - `dns`: `closte.resolve` overrides, the resolver, DNS readiness;
//! - `certificate`: name coverage and certificate status (pure);
//! - `verify`: the handshake, the trust decision and the leaf's facts.

pub mod address_policy;
pub mod certificate;
pub mod dns;
pub mod verify;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustls::pki_types::UnixTime;
use tokio::net::TcpStream;

use crate::client::error::ErrorKind;
use crate::client::outcome::{Operation, Outcome, State};
use crate::config::Settings;
use crate::domain::DomainName;

use self::certificate::{Facts, Status};
use self::dns::{Overrides, Reason, ResolveFailure, Source};

/// The settings the checks use.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSettings {
    pub resolve: Overrides,
    pub allow_private_targets: bool,
    pub tls_check_port: u16,
    pub verify_ca_file: Option<PathBuf>,
    /// The whole check's budget (closte.timeout).
    pub timeout: Duration,
    /// One connection's budget (closte.connect_timeout).
    pub connect_timeout: Duration,
}

impl From<&Settings> for CheckSettings {
    fn from(settings: &Settings) -> Self {
        Self {
            resolve: settings.resolve.clone(),
            allow_private_targets: settings.allow_private_targets,
            tls_check_port: settings.tls_check_port,
            verify_ca_file: settings.verify_ca_file.clone(),
            timeout: settings.timeout,
            connect_timeout: settings.connect_timeout,
        }
    }
}

/// `check_dns`'s finding (the `dns` member of its result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsCheck {
    pub ready: bool,
    pub reason: Reason,
    pub addresses: Vec<IpAddr>,
    /// The normalised expected host.
    pub expected: String,
    pub expected_addresses: Vec<IpAddr>,
    pub unexpected: Vec<IpAddr>,
    /// Where the checked name's addresses came from.
    pub source: Source,
}

/// `verify_certificate`'s finding (the `certificate` member of its result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateCheck {
    pub status: Status,
    /// The address handshaken with (or last tried, or first refused).
    pub address: Option<IpAddr>,
    pub port: u16,
    pub issuer: Option<String>,
    pub issuer_organization: Option<String>,
    pub subject: Option<String>,
    pub names: Vec<String>,
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    pub days_left: Option<i64>,
    pub fingerprint: Option<String>,
    /// Unix seconds.
    pub checked_at: i64,
    /// One line for logs.
    pub detail: String,
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// What is left of the budget that ends at `deadline`.
fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

fn resolve_kind(failure: &ResolveFailure) -> ErrorKind {
    match failure {
        ResolveFailure::TimedOut(_) => ErrorKind::Timeout,
        ResolveFailure::Failed(_) => ErrorKind::Network,
    }
}

/// Whether `domain` resolves to the addresses of `expected` (the network's main host), both
/// through THE resolver. `ok` when both lookups were answered, ready or not.
pub async fn check_dns(
    settings: &CheckSettings,
    domain: &DomainName,
    expected: &DomainName,
) -> Outcome {
    let started = Instant::now();
    let deadline = started + settings.timeout;
    let mut outcome = Outcome::new(Operation::CheckDns, Some(domain.as_str()));
    outcome.attempts = 1;
    let mut lookups = Vec::with_capacity(2);
    for name in [domain, expected] {
        match dns::resolve(name.as_str(), &settings.resolve, remaining(deadline)).await {
            Ok(resolved) => lookups.push(resolved),
            Err(failure) => {
                outcome.fail_with(
                    State::Failed,
                    resolve_kind(&failure),
                    format!("cannot resolve {name}: {failure}"),
                );
                outcome.elapsed = started.elapsed();
                return outcome;
            }
        }
    }
    let expected_resolved = lookups.pop().unwrap_or_else(|| unreachable!("two lookups"));
    let resolved = lookups.pop().unwrap_or_else(|| unreachable!("two lookups"));
    let decision = dns::readiness(&resolved.addresses, &expected_resolved.addresses);
    let state = if decision.ready {
        State::DnsReady
    } else {
        State::DnsNotReady
    };
    outcome.succeed(state, 0, None);
    outcome.dns = Some(Box::new(DnsCheck {
        ready: decision.ready,
        reason: decision.reason,
        addresses: resolved.addresses,
        expected: expected.as_str().to_string(),
        expected_addresses: expected_resolved.addresses,
        unexpected: decision.unexpected,
        source: resolved.source,
    }));
    outcome.elapsed = started.elapsed();
    outcome
}

/// The certificate a visitor of `domain` gets: resolve, judge each address, connect to the
/// first allowed one that answers, one handshake with SNI = the name, then trust and status.
/// Every failure is a result.
pub async fn verify_certificate(settings: &CheckSettings, domain: &DomainName) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome::new(Operation::VerifyCertificate, Some(domain.as_str()));
    let (check, attempts, kind) = match &settings.verify_ca_file {
        Some(path) => match verify::load_ca_file(path) {
            Ok(extra_roots) => examine(settings, domain, &extra_roots).await,
            Err(error) => {
                outcome.fail_with(State::Failed, ErrorKind::Tls, error.0);
                outcome.elapsed = started.elapsed();
                return outcome;
            }
        },
        None => examine(settings, domain, &[]).await,
    };
    outcome.attempts = attempts;
    match kind {
        None => outcome.succeed(State::Verified, 0, None),
        Some(kind) => {
            let state = if handshake_classified(check.status) {
                State::Verified
            } else {
                State::Failed
            };
            outcome.fail_with(state, kind, check.detail.clone());
        }
    }
    outcome.certificate = Some(Box::new(check));
    outcome.elapsed = started.elapsed();
    outcome
}

/// A status a completed handshake gave (a certificate was classified).
fn handshake_classified(status: Status) -> bool {
    matches!(
        status,
        Status::Active
            | Status::Expiring
            | Status::Expired
            | Status::NotYetValid
            | Status::NameMismatch
            | Status::Untrusted
    )
}

/// The error kind of a status: none for a good certificate.
pub fn status_kind(status: Status) -> Option<ErrorKind> {
    match status {
        Status::Active | Status::Expiring => None,
        Status::Expired
        | Status::NotYetValid
        | Status::NameMismatch
        | Status::Untrusted
        | Status::NoTls => Some(ErrorKind::Tls),
        Status::Unreachable | Status::NoAddress => Some(ErrorKind::Network),
        Status::RefusedAddress => Some(ErrorKind::InvalidDomain),
    }
}

/// The check itself: its finding, the addresses connected to, and the error kind (none when
/// the certificate is good).
async fn examine(
    settings: &CheckSettings,
    domain: &DomainName,
    extra_roots: &[rustls::pki_types::CertificateDer<'static>],
) -> (CertificateCheck, u32, Option<ErrorKind>) {
    let name = domain.as_str();
    let port = settings.tls_check_port;
    let deadline = Instant::now() + settings.timeout;
    let mut check = CertificateCheck {
        status: Status::Unreachable,
        address: None,
        port,
        issuer: None,
        issuer_organization: None,
        subject: None,
        names: Vec::new(),
        not_before: None,
        not_after: None,
        days_left: None,
        fingerprint: None,
        checked_at: unix_now(),
        detail: String::new(),
    };
    let finish = |mut check: CertificateCheck, status, detail, attempts, kind| {
        check.status = status;
        check.detail = detail;
        (check, attempts, kind)
    };
    let addresses = match dns::resolve(name, &settings.resolve, remaining(deadline)).await {
        Ok(resolved) => resolved.addresses,
        Err(failure) => {
            let kind = resolve_kind(&failure);
            let detail = format!("cannot resolve {name}: {failure}");
            return finish(check, Status::Unreachable, detail, 0, Some(kind));
        }
    };
    if addresses.is_empty() {
        let detail = format!("{name} has no address");
        return finish(
            check,
            Status::NoAddress,
            detail,
            0,
            status_kind(Status::NoAddress),
        );
    }
    let mut attempts = 0;
    let mut refused = None;
    let mut last_failure: Option<(IpAddr, String, ErrorKind)> = None;
    for address in addresses {
        let judgement = address_policy::judge(address, settings.allow_private_targets);
        if !judgement.allowed {
            refused.get_or_insert(judgement);
            continue;
        }
        let target = SocketAddr::new(judgement.address, port);
        let budget = remaining(deadline).min(settings.connect_timeout);
        attempts += 1;
        let tcp = match tokio::time::timeout(budget, TcpStream::connect(target)).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(error)) => {
                let reason = format!("cannot connect to {target}: {error}");
                last_failure = Some((judgement.address, reason, ErrorKind::Network));
                continue;
            }
            Err(_) => {
                let reason = format!(
                    "cannot connect to {target}: no answer within {} s",
                    budget.as_secs_f64()
                );
                last_failure = Some((judgement.address, reason, ErrorKind::Timeout));
                continue;
            }
        };
        check.address = Some(judgement.address);
        let handshake =
            tokio::time::timeout(remaining(deadline), verify::presented_chain(tcp, name)).await;
        let chain = match handshake {
            Ok(Ok(chain)) => chain,
            Ok(Err(reason)) => {
                let detail = format!("no TLS on {target}: {reason}");
                return finish(
                    check,
                    Status::NoTls,
                    detail,
                    attempts,
                    status_kind(Status::NoTls),
                );
            }
            Err(_) => {
                let detail = format!(
                    "no TLS on {target}: no handshake within {} s (closte.timeout)",
                    settings.timeout.as_secs_f64()
                );
                return finish(
                    check,
                    Status::Unreachable,
                    detail,
                    attempts,
                    Some(ErrorKind::Timeout),
                );
            }
        };
        let now = unix_now();
        check.checked_at = now;
        return classify(check, &chain, name, extra_roots, now, attempts);
    }
    match (last_failure, refused) {
        (Some((address, reason, kind)), _) => {
            check.address = Some(address);
            finish(check, Status::Unreachable, reason, attempts, Some(kind))
        }
        (None, Some(judgement)) => {
            check.address = Some(judgement.address);
            let range = judgement.range.map_or("special", |r| r.as_str());
            let detail = format!(
                "{name} resolves to {} ({range}): not connected",
                judgement.address
            );
            let kind = status_kind(Status::RefusedAddress);
            finish(check, Status::RefusedAddress, detail, attempts, kind)
        }
        (None, None) => unreachable!("every address was either refused or tried"),
    }
}

/// The presented chain's facts, trust and status.
fn classify(
    mut check: CertificateCheck,
    chain: &[rustls::pki_types::CertificateDer<'static>],
    name: &str,
    extra_roots: &[rustls::pki_types::CertificateDer<'static>],
    now: i64,
    attempts: u32,
) -> (CertificateCheck, u32, Option<ErrorKind>) {
    let leaf = match chain.first().map(|der| verify::parse_leaf(der)) {
        Some(Ok(leaf)) => leaf,
        Some(Err(reason)) => {
            check.status = Status::Untrusted;
            check.detail = format!("the certificate presented for {name} cannot be read: {reason}");
            return (check, attempts, status_kind(Status::Untrusted));
        }
        None => {
            check.status = Status::NoTls;
            check.detail = format!("no certificate presented for {name}");
            return (check, attempts, status_kind(Status::NoTls));
        }
    };
    let unix_time = UnixTime::since_unix_epoch(Duration::from_secs(now.max(0) as u64));
    let facts = Facts {
        name: name.to_string(),
        names: leaf.names.clone(),
        not_before: leaf.not_before,
        not_after: leaf.not_after,
        trusted: verify::is_trusted(chain, name, extra_roots, unix_time),
    };
    let (status, days_left) = certificate::status(&facts, now);
    check.detail = describe(status, name, &leaf, days_left);
    check.status = status;
    check.names = leaf.names;
    check.not_before = Some(leaf.not_before);
    check.not_after = Some(leaf.not_after);
    check.days_left = Some(days_left);
    check.issuer = leaf.issuer;
    check.issuer_organization = leaf.issuer_organization;
    check.subject = leaf.subject;
    check.fingerprint = Some(leaf.fingerprint);
    (check, attempts, status_kind(status))
}

/// The log line of a classified certificate.
fn describe(status: Status, name: &str, leaf: &verify::Leaf, days_left: i64) -> String {
    let issuer = leaf.issuer.as_deref().unwrap_or("unknown");
    match status {
        Status::Active | Status::Expiring => format!(
            "certificate of {name} (issuer {issuer}) expires on {} (in {days_left} days)",
            date(leaf.not_after)
        ),
        Status::Expired => format!(
            "certificate of {name} (issuer {issuer}) expired on {}",
            date(leaf.not_after)
        ),
        Status::NotYetValid => format!(
            "certificate of {name} (issuer {issuer}) is not valid before {}",
            date(leaf.not_before)
        ),
        Status::NameMismatch if leaf.names.is_empty() => {
            format!("the certificate names no DNS name, not {name}")
        }
        Status::NameMismatch => {
            format!(
                "the certificate names {}, not {name}",
                leaf.names.join(", ")
            )
        }
        _ => format!("certificate of {name} (issuer {issuer}) does not chain to a trusted root"),
    }
}

/// A Unix time as its UTC date, YYYY-MM-DD (civil-from-days, H. Hinnant).
pub fn date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(86_399), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(951_868_800), "2000-03-01");
        assert_eq!(date(1_796_000_000), "2026-11-30");
        assert_eq!(date(1_709_164_800), "2024-02-29");
        assert_eq!(date(4_107_542_400), "2100-03-01");
        assert_eq!(date(1_735_603_200), "2024-12-31");
    }

    #[test]
    fn each_status_has_its_error_kind_and_only_handshake_statuses_are_classified() {
        let table = [
            (Status::Active, None, true),
            (Status::Expiring, None, true),
            (Status::Expired, Some(ErrorKind::Tls), true),
            (Status::NotYetValid, Some(ErrorKind::Tls), true),
            (Status::NameMismatch, Some(ErrorKind::Tls), true),
            (Status::Untrusted, Some(ErrorKind::Tls), true),
            (Status::NoTls, Some(ErrorKind::Tls), false),
            (Status::Unreachable, Some(ErrorKind::Network), false),
            (Status::NoAddress, Some(ErrorKind::Network), false),
            (
                Status::RefusedAddress,
                Some(ErrorKind::InvalidDomain),
                false,
            ),
        ];
        for (status, kind, classified) in table {
            assert_eq!(status_kind(status), kind, "{status:?}");
            assert_eq!(handshake_classified(status), classified, "{status:?}");
        }
    }

    #[test]
    fn the_log_line_says_what_a_visitor_sees() {
        let leaf = verify::Leaf {
            names: vec!["www.other.com".into(), "other.com".into()],
            not_before: 1_700_000_000,
            not_after: 1_796_000_000,
            issuer: Some("R11".into()),
            issuer_organization: None,
            subject: None,
            fingerprint: String::new(),
        };
        let line = |status| describe(status, "shop.example.com", &leaf, 12);
        assert_eq!(
            line(Status::Active),
            "certificate of shop.example.com (issuer R11) expires on 2026-11-30 (in 12 days)"
        );
        assert_eq!(line(Status::Expiring), line(Status::Active));
        assert_eq!(
            line(Status::Expired),
            "certificate of shop.example.com (issuer R11) expired on 2026-11-30"
        );
        assert_eq!(
            line(Status::NotYetValid),
            "certificate of shop.example.com (issuer R11) is not valid before 2023-11-14"
        );
        assert_eq!(
            line(Status::NameMismatch),
            "the certificate names www.other.com, other.com, not shop.example.com"
        );
        assert_eq!(
            line(Status::Untrusted),
            "certificate of shop.example.com (issuer R11) does not chain to a trusted root"
        );
        let bare = verify::Leaf {
            names: vec![],
            issuer: None,
            ..leaf.clone()
        };
        assert_eq!(
            describe(Status::NameMismatch, "a.test", &bare, 0),
            "the certificate names no DNS name, not a.test"
        );
        assert_eq!(
            describe(Status::Untrusted, "a.test", &bare, 0),
            "certificate of a.test (issuer unknown) does not chain to a trusted root"
        );
    }

    #[test]
    fn the_check_settings_are_the_settings() {
        let settings = Settings {
            tls_check_port: 8443,
            allow_private_targets: true,
            verify_ca_file: Some(PathBuf::from("/ca.pem")),
            timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(1),
            resolve: Overrides::parse("a.test=::1").unwrap(),
            ..Settings::default()
        };
        let check = CheckSettings::from(&settings);
        assert_eq!(
            check,
            CheckSettings {
                resolve: Overrides::parse("a.test=::1").unwrap(),
                allow_private_targets: true,
                tls_check_port: 8443,
                verify_ca_file: Some(PathBuf::from("/ca.pem")),
                timeout: Duration::from_secs(3),
                connect_timeout: Duration::from_secs(1),
            }
        );
    }
}
