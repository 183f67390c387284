//! Configuration: the API key (a secret that never prints) and the client settings.
//!
//! Settings are parsed from raw strings through a lookup function so that the same parsing
//! serves PHP INI values (the binding layer) and plain tests.

use std::ffi::CStr;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::net::dns::Overrides;

pub const DEFAULT_API_URL: &str = "https://app.closte.com/api/client";
pub const DEFAULT_TIMEOUT_SECS: f64 = 15.0;
pub const DEFAULT_CONNECT_TIMEOUT_SECS: f64 = 5.0;
pub const DEFAULT_MAX_RETRIES: u32 = 2;
pub const DEFAULT_WORKER_THREADS: usize = 2;
pub const DEFAULT_DRAIN_TIMEOUT_SECS: f64 = 5.0;
pub const MAX_DRAIN_TIMEOUT_SECS: f64 = 60.0;
pub const DEFAULT_CONCURRENCY: usize = 8;
pub const MAX_CONCURRENCY: usize = 256;
/// Retries are bounded so that a misconfiguration cannot turn one call into minutes of waiting.
pub const MAX_RETRIES_LIMIT: u32 = 10;
pub const MAX_TIMEOUT_SECS: f64 = 300.0;
pub const MAX_WORKER_THREADS: usize = 16;
pub const DEFAULT_TLS_CHECK_PORT: u16 = 443;

pub fn default_user_agent() -> String {
    format!("closte-php/{}", env!("CARGO_PKG_VERSION"))
}

/// What a setting accepts, as the parser enforces it: the numeric bounds live here and nowhere
/// else (`Settings::from_lookup` reads them from [`SETTINGS`]), so the table, the messages and
/// docs/settings.json cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bounds {
    /// A text checked by the setting's own rule, described in words.
    Text(&'static str),
    /// A whole number from `min` to `max`, both included.
    Whole { min: u32, max: u32 },
    /// A number of seconds above `min` (excluded) and at most `max`.
    SecondsAbove { min: f64, max: f64 },
    /// A number of seconds from `min` to `max`, both included.
    Seconds { min: f64, max: f64 },
}

impl Bounds {
    /// The one-line description of what is accepted (docs/operator-guide.md's "accepts").
    pub fn accepts(self) -> String {
        match self {
            Bounds::Text(text) => text.to_string(),
            Bounds::Whole { min, max } => format!("whole number from {min} to {max}"),
            Bounds::SecondsAbove { min, max } => {
                format!("seconds above {min} and at most {max}")
            }
            Bounds::Seconds { min, max } => format!("seconds from {min} to {max}"),
        }
    }
}

/// One INI setting as PHP sees it: name, default (the INI string), what it accepts, whether its
/// value is secret (never displayed: phpinfo() shows only whether it is set) and a one-line doc.
/// This table is the one place these live: the extension registers its INI entries from it (and
/// masks every secret one), the parser takes its bounds from it, the installer writes its ini
/// file from what the loaded extension reports, and docs/settings.json is its machine-readable
/// copy (a test here fails when that file is stale), against which PHPUnit checks the PHP
/// implementation's settings and the settings table of docs/operator-guide.md.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    pub name: &'static CStr,
    pub default: &'static CStr,
    pub bounds: Bounds,
    pub secret: bool,
    pub meaning: &'static str,
}

/// Every setting, in the order phpinfo() and docs/operator-guide.md list them.
pub const SETTINGS: [SettingSpec; 15] = [
    SettingSpec {
        name: c"closte.api_key",
        default: c"",
        bounds: Bounds::Text("any text (trimmed; empty: no key)"),
        secret: true,
        meaning: "fallback key when the constant CLOSTE_CLIENT_API_KEY is not defined",
    },
    SettingSpec {
        name: c"closte.api_url",
        default: c"https://app.closte.com/api/client",
        bounds: Bounds::Text(
            "https:// URL without query, fragment or credentials (http:// for a loopback host)",
        ),
        secret: false,
        meaning: "base URL of the Closte client API",
    },
    SettingSpec {
        name: c"closte.timeout",
        default: c"15",
        bounds: Bounds::SecondsAbove {
            min: 0.0,
            max: MAX_TIMEOUT_SECS,
        },
        secret: false,
        meaning: "seconds for one HTTP attempt: connect, TLS, headers and body",
    },
    SettingSpec {
        name: c"closte.connect_timeout",
        default: c"5",
        bounds: Bounds::SecondsAbove {
            min: 0.0,
            max: MAX_TIMEOUT_SECS,
        },
        secret: false,
        meaning: "seconds to establish the connection",
    },
    SettingSpec {
        name: c"closte.max_retries",
        default: c"2",
        bounds: Bounds::Whole {
            min: 0,
            max: MAX_RETRIES_LIMIT,
        },
        secret: false,
        meaning: "extra attempts for retry-safe failures",
    },
    SettingSpec {
        name: c"closte.user_agent",
        default: c"",
        bounds: Bounds::Text("text without control characters"),
        secret: false,
        meaning: "User-Agent header (empty: closte-php/<version>)",
    },
    SettingSpec {
        name: c"closte.ca_file",
        default: c"",
        bounds: Bounds::Text("path to a PEM file"),
        secret: false,
        meaning: "extra PEM CA bundle trusted besides the system roots",
    },
    SettingSpec {
        name: c"closte.proxy",
        default: c"",
        bounds: Bounds::Text("http:// or https:// URL with a host"),
        // The URL may carry the proxy's credentials.
        secret: true,
        meaning:
            "HTTP(S) proxy for Closte requests (empty: direct; HTTP_PROXY and the like are ignored)",
    },
    SettingSpec {
        name: c"closte.worker_threads",
        default: c"2",
        bounds: Bounds::Whole {
            min: 1,
            max: MAX_WORKER_THREADS as u32,
        },
        secret: false,
        meaning: "tokio worker threads, read when the runtime starts",
    },
    SettingSpec {
        name: c"closte.drain_timeout",
        default: c"5",
        bounds: Bounds::Seconds {
            min: 0.0,
            max: MAX_DRAIN_TIMEOUT_SECS,
        },
        secret: false,
        meaning: "seconds a request's unfinished closte_enqueue jobs get at request end",
    },
    SettingSpec {
        name: c"closte.concurrency",
        default: c"8",
        bounds: Bounds::Whole {
            min: 1,
            max: MAX_CONCURRENCY as u32,
        },
        secret: false,
        meaning: "default concurrency of closte_sync",
    },
    SettingSpec {
        name: c"closte.resolve",
        default: c"",
        bounds: Bounds::Text(
            "entries name=address[,address...] separated by \";\" (name: exact, *.suffix or *)",
        ),
        secret: false,
        meaning: "addresses used instead of DNS by closte_check_dns and closte_verify_certificate (tests, staging)",
    },
    SettingSpec {
        name: c"closte.allow_private_targets",
        default: c"0",
        bounds: Bounds::Text("0 or 1 (also on/off, true/false, yes/no; empty: 0)"),
        secret: false,
        meaning: "TEST ONLY: lets the certificate check connect to loopback, private, link-local and other non-public addresses",
    },
    SettingSpec {
        name: c"closte.tls_check_port",
        default: c"443",
        bounds: Bounds::Whole { min: 1, max: 65535 },
        secret: false,
        meaning: "port of closte_verify_certificate's TLS handshake",
    },
    SettingSpec {
        name: c"closte.verify_ca_file",
        default: c"",
        bounds: Bounds::Text("path of a readable PEM file, or empty"),
        secret: false,
        meaning: "extra trust anchors of closte_verify_certificate, besides the system roots",
    },
];

/// The entry of `SETTINGS` named `key`.
///
/// # Panics
/// When `key` is not in the table: a programming error that every test run reaches.
pub fn spec(key: &str) -> &'static SettingSpec {
    SETTINGS
        .iter()
        .find(|spec| spec.name.to_bytes() == key.as_bytes())
        .unwrap_or_else(|| panic!("{key} is not in SETTINGS"))
}

/// docs/settings.json: the table for readers that are not Rust (PHPUnit checks the PHP
/// implementation, the operator guide and the installer against it). A unit test fails when the
/// committed file differs; `CLOSTE_WRITE_SETTINGS_JSON=1 cargo test -p closte-core settings_json`
/// rewrites it.
pub fn settings_json() -> String {
    let rows: Vec<serde_json::Value> = SETTINGS
        .iter()
        .map(|spec| {
            let mut row = serde_json::json!({
                "name": spec.name.to_string_lossy(),
                "default": spec.default.to_string_lossy(),
                "secret": spec.secret,
                "accepts": spec.bounds.accepts(),
                "meaning": spec.meaning,
            });
            let bounds = match spec.bounds {
                Bounds::Text(_) => None,
                Bounds::Whole { min, max } => {
                    Some(serde_json::json!({"kind": "whole", "min": min, "max": max}))
                }
                Bounds::SecondsAbove { min, max } => Some(
                    serde_json::json!({"kind": "seconds", "min": min, "min_excluded": true, "max": max}),
                ),
                Bounds::Seconds { min, max } => Some(
                    serde_json::json!({"kind": "seconds", "min": min, "min_excluded": false, "max": max}),
                ),
            };
            if let Some(bounds) = bounds {
                row["bounds"] = bounds;
            }
            row
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&rows).expect("plain JSON values");
    text.push('\n');
    text
}

/// The Closte API key. Its `Debug` and `Display` never show it; only [`ApiKey::expose`] does,
/// and only the request builder calls that.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key from configuration; `None` when empty after trimming.
    pub fn new(raw: &str) -> Option<Self> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            None
        } else {
            Some(Self(trimmed.to_string()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Client settings, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Base URL without a trailing slash, e.g. `https://app.closte.com/api/client`.
    pub api_url: String,
    /// Budget for one HTTP attempt: connect, TLS, headers and body.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Extra attempts after the first, for failures that are safe to retry.
    pub max_retries: u32,
    pub user_agent: String,
    /// Extra CA bundle (PEM) trusted in addition to the system roots.
    pub ca_file: Option<PathBuf>,
    /// The proxy every request goes through; `None`: direct (environment proxies are ignored).
    pub proxy: Option<String>,
    /// Tokio worker threads (the runtime is small on purpose: PHP workers are many).
    pub worker_threads: usize,
    /// Longest wait at request end for unfinished `closte_enqueue` jobs.
    pub drain_timeout: Duration,
    /// Default concurrency of `closte_sync`.
    pub concurrency: usize,
    /// `closte.resolve`: names answered without DNS by the checks' resolver.
    pub resolve: Overrides,
    /// `closte.allow_private_targets` (tests only): the certificate check may connect to
    /// non-public addresses.
    pub allow_private_targets: bool,
    /// Port of the certificate check's handshake.
    pub tls_check_port: u16,
    /// Extra trust anchors (PEM) of the certificate check; read by the check itself.
    pub verify_ca_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            api_url: DEFAULT_API_URL.to_string(),
            timeout: Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS),
            connect_timeout: Duration::from_secs_f64(DEFAULT_CONNECT_TIMEOUT_SECS),
            max_retries: DEFAULT_MAX_RETRIES,
            user_agent: default_user_agent(),
            ca_file: None,
            proxy: None,
            worker_threads: DEFAULT_WORKER_THREADS,
            drain_timeout: Duration::from_secs_f64(DEFAULT_DRAIN_TIMEOUT_SECS),
            concurrency: DEFAULT_CONCURRENCY,
            resolve: Overrides::default(),
            allow_private_targets: false,
            tls_check_port: DEFAULT_TLS_CHECK_PORT,
            verify_ca_file: None,
        }
    }
}

/// A setting that cannot be used; the message names the setting and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The names of the settings, as INI keys (the binding layer registers exactly these).
pub mod keys {
    pub const API_KEY: &str = "closte.api_key";
    pub const API_URL: &str = "closte.api_url";
    pub const TIMEOUT: &str = "closte.timeout";
    pub const CONNECT_TIMEOUT: &str = "closte.connect_timeout";
    pub const MAX_RETRIES: &str = "closte.max_retries";
    pub const USER_AGENT: &str = "closte.user_agent";
    pub const CA_FILE: &str = "closte.ca_file";
    pub const PROXY: &str = "closte.proxy";
    pub const WORKER_THREADS: &str = "closte.worker_threads";
    pub const DRAIN_TIMEOUT: &str = "closte.drain_timeout";
    pub const CONCURRENCY: &str = "closte.concurrency";
    pub const RESOLVE: &str = "closte.resolve";
    pub const ALLOW_PRIVATE_TARGETS: &str = "closte.allow_private_targets";
    pub const TLS_CHECK_PORT: &str = "closte.tls_check_port";
    pub const VERIFY_CA_FILE: &str = "closte.verify_ca_file";
}

impl Settings {
    /// Parses settings from a lookup (name -> raw value). Missing or empty values take defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut settings = Settings::default();
        if let Some(url) = get(keys::API_URL) {
            settings.api_url = parse_api_url(&url)?;
        }
        if let Some(raw) = get(keys::TIMEOUT) {
            settings.timeout = parse_seconds(keys::TIMEOUT, &raw)?;
        }
        if let Some(raw) = get(keys::CONNECT_TIMEOUT) {
            settings.connect_timeout = parse_seconds(keys::CONNECT_TIMEOUT, &raw)?;
        }
        if let Some(raw) = get(keys::MAX_RETRIES) {
            settings.max_retries = parse_whole(keys::MAX_RETRIES, &raw)?;
        }
        if let Some(agent) = get(keys::USER_AGENT) {
            if agent.chars().any(|c| c.is_control()) {
                return Err(ConfigError(format!(
                    "{} contains a control character",
                    keys::USER_AGENT
                )));
            }
            settings.user_agent = agent;
        }
        if let Some(path) = get(keys::CA_FILE) {
            settings.ca_file = Some(PathBuf::from(path));
        }
        if let Some(raw) = get(keys::PROXY) {
            settings.proxy = Some(parse_proxy(&raw)?);
        }
        if let Some(raw) = get(keys::WORKER_THREADS) {
            settings.worker_threads = parse_whole(keys::WORKER_THREADS, &raw)? as usize;
        }
        if let Some(raw) = get(keys::DRAIN_TIMEOUT) {
            settings.drain_timeout = parse_seconds(keys::DRAIN_TIMEOUT, &raw)?;
        }
        if let Some(raw) = get(keys::CONCURRENCY) {
            settings.concurrency = parse_whole(keys::CONCURRENCY, &raw)? as usize;
        }
        if let Some(raw) = get(keys::RESOLVE) {
            settings.resolve = Overrides::parse(&raw)?;
        }
        if let Some(raw) = get(keys::ALLOW_PRIVATE_TARGETS) {
            settings.allow_private_targets = parse_switch(keys::ALLOW_PRIVATE_TARGETS, &raw)?;
        }
        if let Some(raw) = get(keys::TLS_CHECK_PORT) {
            settings.tls_check_port = parse_whole(keys::TLS_CHECK_PORT, &raw)? as u16;
        }
        if let Some(path) = get(keys::VERIFY_CA_FILE) {
            settings.verify_ca_file = Some(PathBuf::from(path));
        }
        Ok(settings)
    }
}

fn parse_api_url(raw: &str) -> Result<String, ConfigError> {
    let lower = raw.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| {
            ConfigError(format!(
                "{} must start with https:// or http://, got \"{}\"",
                keys::API_URL,
                raw.escape_debug()
            ))
        })?;
    if rest.is_empty() || rest.starts_with('/') || raw.chars().any(char::is_whitespace) {
        return Err(ConfigError(format!(
            "{} has no host or contains whitespace: \"{}\"",
            keys::API_URL,
            raw.escape_debug()
        )));
    }
    if raw.contains('?') || raw.contains('#') || raw.contains('@') {
        return Err(ConfigError(format!(
            "{} must be a plain base URL without query, fragment or credentials",
            keys::API_URL
        )));
    }
    // The host and port must be usable: an impossible port or a broken IPv6 literal is a
    // mistake in the configuration, not a network failure worth retrying for an hour.
    let url = reqwest::Url::parse(raw).map_err(|e| {
        ConfigError(format!(
            "{} is not a usable URL ({e}): \"{}\"",
            keys::API_URL,
            raw.escape_debug()
        ))
    })?;
    if url.host_str().is_none_or(str::is_empty) || url.port() == Some(0) {
        return Err(ConfigError(format!(
            "{} has no usable host or port: \"{}\"",
            keys::API_URL,
            raw.escape_debug()
        )));
    }
    // Every request carries the API key (in the body, or the query string of /getdomains):
    // over plain HTTP it may only cross this machine's loopback interface, which the simulator
    // and the tests use; anything else is a typo that would hand the key to the network path.
    let authority = rest.split('/').next().unwrap_or_default();
    if lower.starts_with("http://") && !is_loopback_authority(authority) {
        return Err(ConfigError(format!(
            "{} must use https:// (http:// only for a loopback host: 127.0.0.0/8, [::1] or \
             localhost), because the API key would otherwise travel in cleartext: \"{}\"",
            keys::API_URL,
            raw.escape_debug()
        )));
    }
    Ok(raw.trim_end_matches('/').to_string())
}

/// Whether a lowercased `host[:port]` names this machine as written: `localhost` exactly (not
/// `localhost.`, which a resolver may send to DNS), a dotted-decimal IPv4 address in
/// 127.0.0.0/8, or a bracketed IPv6 literal equal to ::1. Other spellings that happen to reach
/// loopback (`127.1`, `0x7f000001`, `[::ffff:127.0.0.1]`) are refused: the PHP implementation
/// applies the same rule to the same text, and neither guesses how a resolver reads them.
fn is_loopback_authority(authority: &str) -> bool {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let literal = bracketed.split(']').next().unwrap_or_default();
        return literal.parse::<Ipv6Addr>() == Ok(Ipv6Addr::LOCALHOST);
    }
    let host = authority.split(':').next().unwrap_or_default();
    host == "localhost" || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// An on/off setting: 1/0, on/off, true/false, yes/no in any case (php.ini turns a bare On
/// into "1" and Off into "", ini_set passes the text as written; empty is the default).
fn parse_switch(key: &str, raw: &str) -> Result<bool, ConfigError> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "on" | "true" | "yes" => Ok(true),
        "0" | "off" | "false" | "no" => Ok(false),
        _ => Err(ConfigError(format!(
            "{key} must be 0 or 1 (or on/off, true/false, yes/no), got \"{}\"",
            raw.escape_debug()
        ))),
    }
}

/// A number of seconds within the bounds `SETTINGS` gives `key`.
fn parse_seconds(key: &str, raw: &str) -> Result<Duration, ConfigError> {
    // Not finite: NaN fails every comparison and infinity every (finite) maximum.
    let secs = raw.parse::<f64>().ok();
    let (accepted, expected) = match spec(key).bounds {
        Bounds::SecondsAbove { min, max } => (
            secs.is_some_and(|secs| secs > min && secs <= max),
            format!("above {min} and at most {max}"),
        ),
        Bounds::Seconds { min, max } => (
            secs.is_some_and(|secs| (min..=max).contains(&secs)),
            format!("from {min} to {max}"),
        ),
        other => unreachable!("{key} is not a number of seconds: {other:?}"),
    };
    match secs {
        Some(secs) if accepted => Ok(Duration::from_secs_f64(secs)),
        _ => Err(ConfigError(format!(
            "{key} must be a number of seconds {expected}, got \"{}\"",
            raw.escape_debug()
        ))),
    }
}

/// An `http://` or `https://` proxy URL with a host (credentials in it are allowed: it is the
/// proxy's, and the value is never shown).
fn parse_proxy(raw: &str) -> Result<String, ConfigError> {
    let url = reqwest::Url::parse(raw)
        .map_err(|e| ConfigError(format!("{} is not a usable URL ({e})", keys::PROXY)))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(ConfigError(format!(
            "{} must be an http:// or https:// URL with a host",
            keys::PROXY
        )));
    }
    Ok(raw.to_string())
}

/// A whole number within the bounds `SETTINGS` gives `key`.
fn parse_whole(key: &str, raw: &str) -> Result<u32, ConfigError> {
    let Bounds::Whole { min, max } = spec(key).bounds else {
        unreachable!("{key} is not a whole number")
    };
    match raw.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(ConfigError(format!(
            "{key} must be a whole number from {min} to {max}, got \"{}\"",
            raw.escape_debug()
        ))),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_key_prints_as_redacted_in_debug_and_display() {
        let key = ApiKey::new("secret-key-123").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        assert_eq!(format!("{key}"), "<redacted>");
        assert_eq!(key.expose(), "secret-key-123");
    }
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_settings_table_gives_the_typed_defaults() {
        let table = |key: &str| {
            SETTINGS
                .iter()
                .find(|spec| spec.name.to_str() == Ok(key))
                .map(|spec| spec.default.to_string_lossy().into_owned())
        };
        assert_eq!(Settings::from_lookup(table), Ok(Settings::default()));
        let names: Vec<&str> = SETTINGS.iter().map(|s| s.name.to_str().unwrap()).collect();
        for key in [
            keys::API_KEY,
            keys::API_URL,
            keys::TIMEOUT,
            keys::CONNECT_TIMEOUT,
            keys::MAX_RETRIES,
            keys::USER_AGENT,
            keys::CA_FILE,
            keys::WORKER_THREADS,
            keys::DRAIN_TIMEOUT,
            keys::CONCURRENCY,
            keys::PROXY,
            keys::RESOLVE,
            keys::ALLOW_PRIVATE_TARGETS,
            keys::TLS_CHECK_PORT,
            keys::VERIFY_CA_FILE,
        ] {
            assert!(names.contains(&key), "{key} is in the table");
        }
        assert_eq!(names.len(), 15);
    }

    #[test]
    fn the_table_says_what_each_setting_accepts_and_which_are_secret() {
        let rows: Vec<(&str, String, bool)> = SETTINGS
            .iter()
            .map(|s| (s.name.to_str().unwrap(), s.bounds.accepts(), s.secret))
            .collect();
        let row =
            |name: &'static str, accepts: &str, secret: bool| (name, accepts.to_string(), secret);
        assert_eq!(
            rows,
            [
                row("closte.api_key", "any text (trimmed; empty: no key)", true),
                row(
                    "closte.api_url",
                    "https:// URL without query, fragment or credentials (http:// for a loopback host)",
                    false
                ),
                row("closte.timeout", "seconds above 0 and at most 300", false),
                row("closte.connect_timeout", "seconds above 0 and at most 300", false),
                row("closte.max_retries", "whole number from 0 to 10", false),
                row("closte.user_agent", "text without control characters", false),
                row("closte.ca_file", "path to a PEM file", false),
                row("closte.proxy", "http:// or https:// URL with a host", true),
                row("closte.worker_threads", "whole number from 1 to 16", false),
                row("closte.drain_timeout", "seconds from 0 to 60", false),
                row("closte.concurrency", "whole number from 1 to 256", false),
                row(
                    "closte.resolve",
                    "entries name=address[,address...] separated by \";\" (name: exact, *.suffix or *)",
                    false
                ),
                row(
                    "closte.allow_private_targets",
                    "0 or 1 (also on/off, true/false, yes/no; empty: 0)",
                    false
                ),
                row("closte.tls_check_port", "whole number from 1 to 65535", false),
                row(
                    "closte.verify_ca_file",
                    "path of a readable PEM file, or empty",
                    false
                ),
            ]
        );
        assert_eq!(spec("closte.concurrency").default, c"8");
    }

    #[test]
    #[should_panic(expected = "closte.nothing is not in SETTINGS")]
    fn a_name_outside_the_table_is_a_programming_error() {
        spec("closte.nothing");
    }

    /// Each bound as the parser enforces it: a value on it and one just past it, for every
    /// numeric setting of the table.
    #[test]
    fn every_bound_of_the_table_is_the_one_the_parser_enforces() {
        let accepted = |key: &str, value: String| settings(&[(key, &value)]).is_ok();
        let mut checked = 0;
        for spec in SETTINGS {
            let key = spec.name.to_str().unwrap();
            match spec.bounds {
                Bounds::Text(_) => continue,
                Bounds::Whole { min, max } => {
                    assert!(accepted(key, min.to_string()), "{key}={min}");
                    assert!(accepted(key, max.to_string()), "{key}={max}");
                    assert!(!accepted(key, (max + 1).to_string()), "{key}={}", max + 1);
                    assert!(
                        !accepted(key, (i64::from(min) - 1).to_string()),
                        "{key} below {min}"
                    );
                }
                Bounds::SecondsAbove { min, max } => {
                    assert!(!accepted(key, min.to_string()), "{key}={min}");
                    assert!(
                        accepted(key, (min + 0.001).to_string()),
                        "{key} above {min}"
                    );
                    assert!(accepted(key, max.to_string()), "{key}={max}");
                    assert!(
                        !accepted(key, (max + 0.001).to_string()),
                        "{key} above {max}"
                    );
                }
                Bounds::Seconds { min, max } => {
                    assert!(accepted(key, min.to_string()), "{key}={min}");
                    assert!(
                        !accepted(key, (min - 0.001).to_string()),
                        "{key} below {min}"
                    );
                    assert!(accepted(key, max.to_string()), "{key}={max}");
                    assert!(
                        !accepted(key, (max + 0.001).to_string()),
                        "{key} above {max}"
                    );
                }
            }
            checked += 1;
        }
        assert_eq!(checked, 7, "every numeric setting");
        for key in [keys::TIMEOUT, keys::DRAIN_TIMEOUT] {
            assert!(!accepted(key, "inf".into()), "{key}=inf");
            assert!(!accepted(key, "NaN".into()), "{key}=NaN");
        }
        assert_eq!(
            settings(&[(keys::TIMEOUT, "300.5")])
                .unwrap_err()
                .to_string(),
            "closte.timeout must be a number of seconds above 0 and at most 300, got \"300.5\""
        );
        assert_eq!(
            settings(&[(keys::DRAIN_TIMEOUT, "60.5")])
                .unwrap_err()
                .to_string(),
            "closte.drain_timeout must be a number of seconds from 0 to 60, got \"60.5\""
        );
        assert_eq!(
            settings(&[(keys::CONCURRENCY, "257")])
                .unwrap_err()
                .to_string(),
            "closte.concurrency must be a whole number from 1 to 256, got \"257\""
        );
        let parsed = settings(&[
            (keys::TIMEOUT, "300"),
            (keys::DRAIN_TIMEOUT, "60"),
            (keys::CONCURRENCY, "256"),
            (keys::WORKER_THREADS, "16"),
            (keys::MAX_RETRIES, "10"),
        ])
        .unwrap();
        assert_eq!(parsed.timeout, Duration::from_secs(300));
        assert_eq!(parsed.drain_timeout, Duration::from_secs(60));
        assert_eq!(
            (
                parsed.concurrency,
                parsed.worker_threads,
                parsed.max_retries
            ),
            (256, 16, 10)
        );
    }

    /// docs/settings.json is the table as committed; rewrite it with
    /// `CLOSTE_WRITE_SETTINGS_JSON=1 cargo test -p closte-core settings_json`.
    #[test]
    fn settings_json_is_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/settings.json");
        let rendered = settings_json();
        if std::env::var_os("CLOSTE_WRITE_SETTINGS_JSON").is_some() {
            std::fs::write(path, &rendered).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == rendered,
            "docs/settings.json is stale: run CLOSTE_WRITE_SETTINGS_JSON=1 cargo test -p closte-core settings_json"
        );
        let rows: Vec<serde_json::Value> = serde_json::from_str(&rendered).unwrap();
        assert_eq!(rows.len(), SETTINGS.len());
        assert_eq!(rows[1]["name"], "closte.api_url");
        assert_eq!(rows[1]["default"], "https://app.closte.com/api/client");
        assert_eq!(rows[7]["secret"], true);
        assert_eq!(rows[8]["secret"], false);
        assert_eq!(
            rows[4]["bounds"],
            serde_json::json!({"kind": "whole", "min": 0, "max": 10})
        );
        assert_eq!(
            rows[2]["bounds"],
            serde_json::json!({"kind": "seconds", "min": 0.0, "min_excluded": true, "max": 300.0})
        );
        assert_eq!(
            rows[9]["bounds"],
            serde_json::json!({"kind": "seconds", "min": 0.0, "min_excluded": false, "max": 60.0})
        );
        assert!(rows[0].get("bounds").is_none());
        assert_eq!(rows[10]["accepts"], "whole number from 1 to 256");
        assert_eq!(rows[10]["meaning"], "default concurrency of closte_sync");
    }

    #[test]
    fn an_impossible_port_or_a_broken_ipv6_literal_is_a_configuration_error() {
        for url in [
            "http://127.0.0.1:99999/api/client",
            "http://127.0.0.1:0/api/client",
            "http://[::1/api/client",
            "http://[::zz]:80/api/client",
            "https://exa mple.com",
        ] {
            let error = settings(&[("closte.api_url", url)]).unwrap_err();
            assert!(error.to_string().starts_with("closte.api_url "), "{error}");
        }
        let ok = settings(&[("closte.api_url", "http://[::1]:8099/api/client/")]).unwrap();
        assert_eq!(ok.api_url, "http://[::1]:8099/api/client");
    }

    #[test]
    fn api_urls_without_a_host_or_with_a_query_are_refused_with_a_message_that_says_why() {
        let message = |url: &str| {
            settings(&[("closte.api_url", url)])
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            message("https:///path"),
            "closte.api_url has no host or contains whitespace: \"https:///path\""
        );
        assert_eq!(
            message("https://app closte.com"),
            "closte.api_url has no host or contains whitespace: \"https://app closte.com\""
        );
        assert_eq!(
            message("https://app.closte.com/api?x=1"),
            "closte.api_url must be a plain base URL without query, fragment or credentials"
        );
        assert_eq!(
            message("https://app.closte.com/api#top"),
            "closte.api_url must be a plain base URL without query, fragment or credentials"
        );
        assert_eq!(
            message("ftp://app.closte.com"),
            "closte.api_url must start with https:// or http://, got \"ftp://app.closte.com\""
        );
    }

    #[test]
    fn plain_http_is_accepted_only_for_a_loopback_host() {
        for url in [
            "http://127.0.0.1:9999/api/client",
            "http://127.0.0.0/api/client",
            "http://127.255.255.254/api/client",
            "http://127.255.255.255:8080",
            "http://[::1]/api/client",
            "http://[::1]:8099/api/client",
            "http://[0:0:0:0:0:0:0:1]:8099/api/client",
            "http://localhost/api/client",
            "http://localhost:8099/api/client",
            "http://LOCALHOST:8099/api/client",
            "HTTP://LocalHost/api/client",
        ] {
            let parsed = settings(&[("closte.api_url", url)]);
            assert_eq!(parsed.map(|s| s.api_url), Ok(url.to_string()), "{url}");
        }
    }

    #[test]
    fn plain_http_to_any_other_host_is_refused_with_a_message_that_says_to_use_https() {
        for url in [
            "http://app.closte.com/api/client",
            "http://closte-api.example.invalid/api/client",
            "http://128.0.0.1/api/client",
            "http://126.255.255.255/api/client",
            "http://10.0.0.1:8099/api/client",
            "http://0.0.0.0/api/client",
            "http://[::2]/api/client",
            "http://[::]/api/client",
            "http://[::ffff:127.0.0.1]/api/client",
            "http://localhost.example.com/api/client",
            "http://localhost./api/client",
            "http://api.localhost/api/client",
            "http://127.0.0.1.nip.io/api/client",
            "http://127.1/api/client",
            "http://127.0.0.01/api/client",
            "http://2130706433/api/client",
            "http://0x7f000001/api/client",
            "HTTP://APP.CLOSTE.COM/api/client",
        ] {
            let error = settings(&[("closte.api_url", url)]).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "closte.api_url must use https:// (http:// only for a loopback host: \
                     127.0.0.0/8, [::1] or localhost), because the API key would otherwise \
                     travel in cleartext: \"{url}\""
                )
            );
        }
    }

    #[test]
    fn https_is_accepted_for_any_host() {
        for url in [
            "https://app.closte.com/api/client",
            "https://10.0.0.1:8443/api/client",
            "https://[::2]/api/client",
            "https://localhost.example.com/api/client",
            "https://127.0.0.1/api/client",
        ] {
            let parsed = settings(&[("closte.api_url", url)]);
            assert_eq!(parsed.map(|s| s.api_url), Ok(url.to_string()), "{url}");
        }
    }

    #[test]
    fn the_default_user_agent_names_the_extension_and_its_version() {
        assert_eq!(
            Settings::default().user_agent,
            format!("closte-php/{}", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            Settings::default().api_url,
            "https://app.closte.com/api/client"
        );
    }

    #[test]
    fn a_proxy_is_an_http_url_with_a_host() {
        let ok = settings(&[("closte.proxy", "http://user:pw@proxy.example:3128")]).unwrap();
        assert_eq!(
            ok.proxy.as_deref(),
            Some("http://user:pw@proxy.example:3128")
        );
        for bad in [
            "socks5://proxy.example:1080",
            "proxy.example:3128",
            "http://",
        ] {
            let error = settings(&[("closte.proxy", bad)]).unwrap_err();
            assert!(error.to_string().starts_with("closte.proxy "), "{error}");
            assert!(!error.to_string().contains("pw"), "never echoes the value");
        }
    }

    #[test]
    fn drain_timeout_and_concurrency_are_validated_and_name_the_setting() {
        let ok = settings(&[("closte.drain_timeout", "0"), ("closte.concurrency", "256")]).unwrap();
        assert_eq!(ok.drain_timeout, Duration::ZERO);
        assert_eq!(ok.concurrency, 256);
        for (key, value) in [
            ("closte.drain_timeout", "61"),
            ("closte.drain_timeout", "-1"),
            ("closte.drain_timeout", "soon"),
            ("closte.concurrency", "0"),
            ("closte.concurrency", "257"),
            ("closte.concurrency", "eight"),
        ] {
            let error = settings(&[(key, value)]).unwrap_err();
            assert!(error.to_string().starts_with(key), "{error}");
            assert!(error.to_string().contains(value), "{error}");
        }
    }

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let s = settings(&[]).unwrap();
        assert_eq!(s, Settings::default());
        assert_eq!(s.api_url, "https://app.closte.com/api/client");
        assert_eq!(s.max_retries, 2);
    }

    #[test]
    fn values_are_parsed_and_validated() {
        let s = settings(&[
            (keys::API_URL, "http://127.0.0.1:9999/api/client/"),
            (keys::TIMEOUT, "2.5"),
            (keys::CONNECT_TIMEOUT, "0.5"),
            (keys::MAX_RETRIES, "0"),
            (keys::USER_AGENT, "test-agent"),
            (keys::CA_FILE, "/tmp/ca.pem"),
            (keys::WORKER_THREADS, "1"),
        ])
        .unwrap();
        assert_eq!(s.api_url, "http://127.0.0.1:9999/api/client");
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(s.connect_timeout, Duration::from_millis(500));
        assert_eq!(s.max_retries, 0);
        assert_eq!(s.user_agent, "test-agent");
        assert_eq!(s.ca_file, Some(PathBuf::from("/tmp/ca.pem")));
        assert_eq!(s.worker_threads, 1);
    }

    #[test]
    fn bad_values_name_the_setting() {
        for (key, value) in [
            (keys::API_URL, "ftp://x"),
            (keys::API_URL, "https://"),
            (keys::API_URL, "https://user:pw@host"),
            (keys::TIMEOUT, "0"),
            (keys::TIMEOUT, "-1"),
            (keys::TIMEOUT, "abc"),
            (keys::TIMEOUT, "1000"),
            (keys::CONNECT_TIMEOUT, "NaN"),
            (keys::MAX_RETRIES, "11"),
            (keys::MAX_RETRIES, "-1"),
            (keys::WORKER_THREADS, "0"),
            (keys::USER_AGENT, "a\nb"),
        ] {
            let err = settings(&[(key, value)]).unwrap_err();
            assert!(
                err.0.contains(key),
                "{key}={value:?}: message {err} must name the key"
            );
        }
    }

    #[test]
    fn the_certificate_check_settings_are_parsed_and_their_errors_name_them() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(
            (
                defaults.allow_private_targets,
                defaults.tls_check_port,
                defaults.verify_ca_file.clone()
            ),
            (false, 443, None)
        );
        assert!(defaults.resolve.is_empty());
        for (raw, on) in [
            ("1", true),
            ("On", true),
            ("TRUE", true),
            ("yes", true),
            ("0", false),
            ("off", false),
            ("False", false),
            ("NO", false),
            ("", false),
        ] {
            let parsed = settings(&[(keys::ALLOW_PRIVATE_TARGETS, raw)]).unwrap();
            assert_eq!(parsed.allow_private_targets, on, "{raw:?}");
        }
        assert_eq!(
            settings(&[(keys::ALLOW_PRIVATE_TARGETS, "2")])
                .unwrap_err()
                .0,
            "closte.allow_private_targets must be 0 or 1 (or on/off, true/false, yes/no), got \"2\""
        );
        let parsed = settings(&[
            (keys::TLS_CHECK_PORT, "8443"),
            (keys::VERIFY_CA_FILE, " /tmp/ca.pem "),
            (keys::RESOLVE, "a.test=127.0.0.1"),
        ])
        .unwrap();
        assert_eq!(parsed.tls_check_port, 8443);
        assert_eq!(parsed.verify_ca_file, Some(PathBuf::from("/tmp/ca.pem")));
        assert_eq!(
            parsed.resolve.lookup("a.test"),
            Some(vec!["127.0.0.1".parse().unwrap()])
        );
        assert_eq!(
            settings(&[(keys::TLS_CHECK_PORT, "65536")]).unwrap_err().0,
            "closte.tls_check_port must be a whole number from 1 to 65535, got \"65536\""
        );
        assert_eq!(
            settings(&[(keys::RESOLVE, "a.test")]).unwrap_err().0,
            "closte.resolve: entry \"a.test\" has no \"=\" (expected name=address[,address...])"
        );
    }

    #[test]
    fn api_key_never_prints() {
        let key = ApiKey::new("  sk_live_SECRET123  ").unwrap();
        assert_eq!(key.expose(), "sk_live_SECRET123");
        assert!(!format!("{key:?}").contains("SECRET"));
        assert!(!format!("{key}").contains("SECRET"));
        assert!(ApiKey::new("   ").is_none());
        assert!(ApiKey::new("").is_none());
    }
}
