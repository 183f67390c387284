//! The one resolver of the DNS and certificate checks, and the decision whether a name's DNS
//! points at this network.
//!
//! `closte.resolve` entries answer first (tests point names at loopback through them, staging
//! at a test server); any other name goes to the system resolver (getaddrinfo: A and AAAA,
//! CNAME chains followed). A name that does not exist, or has no address, resolves to nothing;
//! only a resolver that could not answer is a failure.

use std::ffi::{CStr, CString};
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::config::{keys, ConfigError};

use super::address_policy::canonical;

/// Why a name's DNS is (not) ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Ready,
    /// The name resolves to nothing.
    NoAddress,
    /// Some address of the name is not one of the main host's.
    Elsewhere,
    /// The main host resolves to nothing: there is nothing to compare with.
    ExpectedUnresolved,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Ready => "ready",
            Reason::NoAddress => "no_address",
            Reason::Elsewhere => "elsewhere",
            Reason::ExpectedUnresolved => "expected_unresolved",
        }
    }
}

/// Whether a name points here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub ready: bool,
    pub reason: Reason,
    /// The name's addresses that are not the main host's, in the order resolved, once each.
    pub unexpected: Vec<IpAddr>,
}

/// A name is ready when every one of its addresses (canonical, each once) is one of the main
/// host's: a name with one address elsewhere would get Let's Encrypt's validation there.
pub fn readiness(addresses: &[IpAddr], expected: &[IpAddr]) -> Readiness {
    let expected: Vec<IpAddr> = expected.iter().copied().map(canonical).collect();
    let addresses = distinct(addresses);
    let (reason, unexpected) = if expected.is_empty() {
        (Reason::ExpectedUnresolved, Vec::new())
    } else if addresses.is_empty() {
        (Reason::NoAddress, Vec::new())
    } else {
        let unexpected: Vec<IpAddr> = addresses
            .into_iter()
            .filter(|address| !expected.contains(address))
            .collect();
        let reason = if unexpected.is_empty() {
            Reason::Ready
        } else {
            Reason::Elsewhere
        };
        (reason, unexpected)
    };
    Readiness {
        ready: reason == Reason::Ready,
        reason,
        unexpected,
    }
}

/// Canonical addresses, each once, in their first order.
pub fn distinct(addresses: &[IpAddr]) -> Vec<IpAddr> {
    let mut seen = Vec::with_capacity(addresses.len());
    for address in addresses.iter().copied().map(canonical) {
        if !seen.contains(&address) {
            seen.push(address);
        }
    }
    seen
}

/// `closte.resolve`, parsed: exact names, `*.suffix` patterns and a `*` fallback, each with the
/// addresses it resolves to (an empty list: the name does not resolve).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// The setting as given (trimmed), for display.
    text: String,
    exact: Vec<(String, Vec<IpAddr>)>,
    /// `(suffix, addresses)` of each `*.suffix` entry, the suffix without `*.`.
    suffixes: Vec<(String, Vec<IpAddr>)>,
    fallback: Option<Vec<IpAddr>>,
}

impl Overrides {
    /// Parses `name=address[,address...]` entries separated by `;`. Blank entries are ignored;
    /// names compare case-insensitively, and a name given twice is a mistake.
    pub fn parse(setting: &str) -> Result<Self, ConfigError> {
        let fail = |message: String| Err(ConfigError(format!("{}: {message}", keys::RESOLVE)));
        let mut overrides = Overrides {
            text: setting.trim().to_string(),
            ..Overrides::default()
        };
        let mut patterns: Vec<String> = Vec::new();
        for entry in setting.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let shown = entry.escape_debug();
            let Some((pattern, list)) = entry.split_once('=') else {
                return fail(format!(
                    "entry \"{shown}\" has no \"=\" (expected name=address[,address...])"
                ));
            };
            let pattern = pattern.trim().to_ascii_lowercase();
            if pattern.is_empty() {
                return fail(format!("entry \"{shown}\": the name is empty"));
            }
            let list = list.trim();
            let mut addresses = Vec::new();
            if !list.is_empty() {
                for item in list.split(',').map(str::trim) {
                    match item.parse::<IpAddr>() {
                        Ok(address) => addresses.push(address),
                        Err(_) => {
                            return fail(format!(
                                "entry \"{shown}\": \"{}\" is not an IP address",
                                item.escape_debug()
                            ))
                        }
                    }
                }
            }
            let addresses = distinct(&addresses);
            if patterns.contains(&pattern) {
                return fail(format!("\"{}\" is given twice", pattern.escape_debug()));
            }
            patterns.push(pattern.clone());
            if pattern == "*" {
                overrides.fallback = Some(addresses);
            } else if let Some(suffix) = pattern.strip_prefix("*.") {
                overrides.suffixes.push((suffix.to_string(), addresses));
            } else {
                overrides.exact.push((pattern, addresses));
            }
        }
        Ok(overrides)
    }

    /// The addresses `closte.resolve` gives `name`, or `None` when no entry applies (the
    /// system resolver answers). The exact name wins, then the longest `*.suffix`, then `*`.
    pub fn lookup(&self, name: &str) -> Option<Vec<IpAddr>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some((_, addresses)) = self.exact.iter().find(|(exact, _)| *exact == name) {
            return Some(addresses.clone());
        }
        self.suffixes
            .iter()
            .filter(|(suffix, _)| {
                name.len() > suffix.len() + 1
                    && name.ends_with(suffix.as_str())
                    && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
            })
            .max_by_key(|(suffix, _)| suffix.len())
            .map(|(_, addresses)| addresses.clone())
            .or_else(|| self.fallback.clone())
    }

    /// No entry at all: every name goes to the system resolver.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.suffixes.is_empty() && self.fallback.is_none()
    }

    /// The setting as given (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Where a name's addresses came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Override,
    System,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Override => "override",
            Source::System => "system",
        }
    }
}

/// A name's addresses (canonical, each once, in resolver order) and where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub addresses: Vec<IpAddr>,
    pub source: Source,
}

/// The resolver did not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveFailure {
    /// No answer within the time given.
    TimedOut(Duration),
    /// The system resolver failed (no DNS server reachable, a SERVFAIL, ...).
    Failed(String),
}

impl fmt::Display for ResolveFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveFailure::TimedOut(after) => {
                write!(
                    f,
                    "no answer from the resolver within {} s",
                    after.as_secs_f64()
                )
            }
            ResolveFailure::Failed(reason) => write!(f, "the resolver failed: {reason}"),
        }
    }
}

/// THE resolver of the checks: `closte.resolve` first, else the system's getaddrinfo, within
/// `budget`.
pub async fn resolve(
    name: &str,
    overrides: &Overrides,
    budget: Duration,
) -> Result<Resolved, ResolveFailure> {
    if let Some(addresses) = overrides.lookup(name) {
        return Ok(Resolved {
            addresses,
            source: Source::Override,
        });
    }
    let owned = name.to_string();
    let lookup = tokio::task::spawn_blocking(move || system_lookup(&owned));
    match tokio::time::timeout(budget, lookup).await {
        Err(_) => Err(ResolveFailure::TimedOut(budget)),
        Ok(Err(join)) => Err(ResolveFailure::Failed(join.to_string())),
        Ok(Ok(result)) => result.map(|addresses| Resolved {
            addresses: distinct(&addresses),
            source: Source::System,
        }),
    }
}

/// getaddrinfo for TCP (A and AAAA, CNAMEs followed), in the order it returns. Called directly
/// rather than through std's lookup, which hides the error code: "no such name" and "no
/// address" are answers (nothing), anything else is a failure.
fn system_lookup(name: &str) -> Result<Vec<IpAddr>, ResolveFailure> {
    let host = CString::new(name).map_err(|_| ResolveFailure::Failed("NUL in name".into()))?;
    // SAFETY: a zeroed addrinfo is the documented "no hints" value; the hints below are valid.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = libc::AF_UNSPEC;
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: host is NUL-terminated, hints valid, list an out pointer freed below.
    let code = unsafe { libc::getaddrinfo(host.as_ptr(), std::ptr::null(), &hints, &mut list) };
    if code != 0 {
        return if is_no_answer(code) {
            Ok(Vec::new())
        } else {
            // SAFETY: gai_strerror returns a static, NUL-terminated text for any code.
            let reason = unsafe { CStr::from_ptr(libc::gai_strerror(code)) };
            Err(ResolveFailure::Failed(
                reason.to_string_lossy().into_owned(),
            ))
        };
    }
    let mut addresses = Vec::new();
    let mut entry = list;
    while !entry.is_null() {
        // SAFETY: entry is a node of the list getaddrinfo returned, not freed yet.
        let info = unsafe { &*entry };
        if let Some(address) = socket_address(info) {
            addresses.push(address);
        }
        entry = info.ai_next;
    }
    // SAFETY: list came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    Ok(addresses)
}

/// EAI_NONAME (NXDOMAIN) and EAI_NODATA (the name exists without an address): nothing to
/// connect to, which is an answer.
fn is_no_answer(code: i32) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if code == libc::EAI_NODATA {
        return true;
    }
    code == libc::EAI_NONAME
}

fn socket_address(info: &libc::addrinfo) -> Option<IpAddr> {
    if info.ai_addr.is_null() {
        return None;
    }
    match info.ai_family {
        libc::AF_INET => {
            // SAFETY: an AF_INET entry's ai_addr points at a sockaddr_in.
            let v4 = unsafe { &*(info.ai_addr as *const libc::sockaddr_in) };
            Some(IpAddr::from(u32::from_be(v4.sin_addr.s_addr).to_be_bytes()))
        }
        libc::AF_INET6 => {
            // SAFETY: an AF_INET6 entry's ai_addr points at a sockaddr_in6.
            let v6 = unsafe { &*(info.ai_addr as *const libc::sockaddr_in6) };
            Some(IpAddr::from(v6.sin6_addr.s6_addr))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn every_reason_and_source_has_its_documented_name() {
        let reasons: Vec<&str> = [
            Reason::Ready,
            Reason::NoAddress,
            Reason::Elsewhere,
            Reason::ExpectedUnresolved,
        ]
        .into_iter()
        .map(Reason::as_str)
        .collect();
        assert_eq!(
            reasons,
            ["ready", "no_address", "elsewhere", "expected_unresolved"]
        );
        assert_eq!(Source::Override.as_str(), "override");
        assert_eq!(Source::System.as_str(), "system");
    }

    #[test]
    fn a_name_is_ready_only_when_every_address_is_the_main_hosts() {
        let ready = readiness(
            &ips(&["1.2.3.4", "::ffff:1.2.3.5"]),
            &ips(&["1.2.3.5", "1.2.3.4"]),
        );
        assert_eq!(
            ready,
            Readiness {
                ready: true,
                reason: Reason::Ready,
                unexpected: vec![]
            }
        );
        let elsewhere = readiness(&ips(&["9.9.9.9", "1.2.3.4", "9.9.9.9"]), &ips(&["1.2.3.4"]));
        assert_eq!(
            elsewhere,
            Readiness {
                ready: false,
                reason: Reason::Elsewhere,
                unexpected: ips(&["9.9.9.9"])
            }
        );
        assert_eq!(readiness(&[], &ips(&["1.2.3.4"])).reason, Reason::NoAddress);
        assert_eq!(
            readiness(&ips(&["1.2.3.4"]), &[]).reason,
            Reason::ExpectedUnresolved
        );
    }

    #[test]
    fn overrides_pick_the_exact_name_then_the_longest_suffix_then_the_fallback() {
        let overrides = Overrides::parse(
            " a.test=127.0.0.1 ; *.test=127.0.0.2; *.b.test=127.0.0.3,::1; *=127.0.0.4 ",
        )
        .unwrap();
        assert_eq!(
            overrides.text(),
            "a.test=127.0.0.1 ; *.test=127.0.0.2; *.b.test=127.0.0.3,::1; *=127.0.0.4"
        );
        assert!(!overrides.is_empty());
        assert_eq!(overrides.lookup("A.test."), Some(ips(&["127.0.0.1"])));
        assert_eq!(
            overrides.lookup("x.b.test"),
            Some(ips(&["127.0.0.3", "::1"]))
        );
        assert_eq!(overrides.lookup("x.c.test"), Some(ips(&["127.0.0.2"])));
        // The suffix must follow a whole label.
        assert_eq!(overrides.lookup("xb.test"), Some(ips(&["127.0.0.2"])));
        assert_eq!(overrides.lookup("b.test"), Some(ips(&["127.0.0.2"])));
        assert_eq!(overrides.lookup("test"), Some(ips(&["127.0.0.4"])));
        assert_eq!(overrides.lookup("other.org"), Some(ips(&["127.0.0.4"])));
        let no_fallback = Overrides::parse("*.b.test=127.0.0.3").unwrap();
        assert_eq!(no_fallback.lookup("xb.test"), None);
        assert_eq!(no_fallback.lookup(".b.test"), None);
        assert_eq!(no_fallback.lookup("b.test"), None);
        assert!(Overrides::parse(" ; ").unwrap().is_empty());
        assert!(!Overrides::parse("*=").unwrap().is_empty());
        assert!(!Overrides::parse("*.x.test=").unwrap().is_empty());
    }

    #[test]
    fn a_bad_override_is_a_configuration_error_naming_the_entry() {
        let message = |text: &str| Overrides::parse(text).unwrap_err().0;
        assert_eq!(
            message("ok.test=::1; a.test=1.2.3.4,"),
            "closte.resolve: entry \"a.test=1.2.3.4,\": \"\" is not an IP address"
        );
        assert_eq!(
            message("*.x.test=::1;*.X.test=::2"),
            "closte.resolve: \"*.x.test\" is given twice"
        );
    }

    #[tokio::test]
    async fn the_resolver_answers_overrides_itself_and_asks_the_system_for_other_names() {
        let overrides = Overrides::parse("shop.test=::ffff:127.0.0.7,127.0.0.7").unwrap();
        let budget = Duration::from_secs(5);
        assert_eq!(
            resolve("shop.test", &overrides, budget).await,
            Ok(Resolved {
                addresses: ips(&["127.0.0.7"]),
                source: Source::Override
            })
        );
        let system = resolve("localhost", &overrides, budget).await.unwrap();
        assert_eq!(system.source, Source::System);
        assert!(
            system.addresses.iter().all(IpAddr::is_loopback),
            "{system:?}"
        );
        assert!(!system.addresses.is_empty());
        // RFC 6761: .invalid never exists; the answer is "no address", not a failure.
        let missing = resolve("no-such-name.invalid", &overrides, budget).await;
        assert_eq!(
            missing.map(|r| r.addresses),
            Ok(vec![]),
            "a name that does not exist resolves to nothing"
        );
        assert_eq!(
            ResolveFailure::TimedOut(Duration::from_millis(1500)).to_string(),
            "no answer from the resolver within 1.5 s"
        );
        assert_eq!(
            ResolveFailure::Failed("SERVFAIL".into()).to_string(),
            "the resolver failed: SERVFAIL"
        );
    }
}
