//! The extension's INI settings and where the API key comes from.
//!
//! All settings are `PHP_INI_ALL`: a pool, a directory or a script (`ini_set`) may point at
//! another Closte URL, e.g. the simulator. They are read at call time, so a change applies to
//! the next call. `closte.worker_threads` applies when the runtime starts (first call).

use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::{IniEntryDef, IniEntryDefs};

use closte_core::config::{keys, ApiKey, ConfigError, Settings};

use super::engine;

/// The constant Closte defines in wp-config.php on its hosting.
pub const KEY_CONSTANT: &str = "CLOSTE_CLIENT_API_KEY";

const fn entry(name: &'static std::ffi::CStr, default: &'static std::ffi::CStr) -> IniEntryDef {
    IniEntryDef {
        on_modify: Some(engine::accept_ini_value),
        ..IniEntryDef::new(name, default, IniEntryPermission::All)
    }
}

pub static INI_ENTRIES: IniEntryDefs<11> = IniEntryDefs::new([
    IniEntryDef {
        displayer: Some(engine::masked_ini_displayer),
        ..entry(c"closte.api_key", c"")
    },
    entry(c"closte.api_url", c"https://app.closte.com/api/client"),
    entry(c"closte.timeout", c"15"),
    entry(c"closte.connect_timeout", c"5"),
    entry(c"closte.max_retries", c"2"),
    entry(c"closte.user_agent", c""),
    entry(c"closte.ca_file", c""),
    entry(c"closte.worker_threads", c"2"),
    entry(c"closte.drain_timeout", c"5"),
    entry(c"closte.concurrency", c"8"),
    IniEntryDef::end(),
]);

/// Settings as the INI says now.
pub fn current_settings() -> Result<Settings, ConfigError> {
    Settings::from_lookup(engine::ini_string)
}

/// Where the key was found, for phpinfo() and `closte_stats()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Constant,
    Ini,
    None,
}

impl KeySource {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySource::Constant => "constant CLOSTE_CLIENT_API_KEY",
            KeySource::Ini => "ini closte.api_key",
            KeySource::None => "not configured",
        }
    }
}

/// The constant `CLOSTE_CLIENT_API_KEY` wins (read at every call, as wp-config.php defines it);
/// the INI setting `closte.api_key` is the fallback.
pub fn api_key() -> (Option<ApiKey>, KeySource) {
    if let Some(key) = engine::constant_string(KEY_CONSTANT).and_then(|v| ApiKey::new(&v)) {
        return (Some(key), KeySource::Constant);
    }
    if let Some(key) = engine::ini_string(keys::API_KEY).and_then(|v| ApiKey::new(&v)) {
        return (Some(key), KeySource::Ini);
    }
    (None, KeySource::None)
}

/// Longest wait at request end for jobs started with `closte_enqueue` (INI
/// `closte.drain_timeout`, seconds, 0..60; a bad value counts as the default, 5).
pub fn drain_timeout() -> std::time::Duration {
    let seconds = engine::ini_string("closte.drain_timeout")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && (0.0..=60.0).contains(s))
        .unwrap_or(5.0);
    std::time::Duration::from_secs_f64(seconds)
}
