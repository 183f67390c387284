//! The extension's INI settings and where the API key comes from.
//!
//! All settings are `PHP_INI_ALL`: a pool, a directory or a script (`ini_set`) may point at
//! another Closte URL, e.g. the simulator. They are read at call time, so a change applies to
//! the next call. `closte.worker_threads` applies when the runtime starts (first call).

use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::{IniEntryDef, IniEntryDefs};

use closte_core::config::{keys, ApiKey, ConfigError, Settings, SETTINGS};

use super::engine;

/// The constant Closte defines in wp-config.php on its hosting.
pub const KEY_CONSTANT: &str = "CLOSTE_CLIENT_API_KEY";

/// The INI entries, one per row of the settings table (closte_core::config::SETTINGS, where
/// every default lives), in its order, then the end marker. Each is `PHP_INI_ALL` and accepts any
/// value (values are validated when read, by `Settings`); every `secret` one is never displayed
/// (phpinfo(), php --ri show only whether it is set).
const fn entries() -> [IniEntryDef; SETTINGS.len() + 1] {
    let mut entries = [IniEntryDef::end(); SETTINGS.len() + 1];
    let mut index = 0;
    while index < SETTINGS.len() {
        let spec = &SETTINGS[index];
        entries[index] = IniEntryDef {
            on_modify: Some(engine::accept_ini_value),
            displayer: if spec.secret {
                Some(engine::masked_ini_displayer)
            } else {
                None
            },
            ..IniEntryDef::new(spec.name, spec.default, IniEntryPermission::All)
        };
        index += 1;
    }
    entries
}

pub static INI_ENTRIES: IniEntryDefs<{ SETTINGS.len() + 1 }> = IniEntryDefs::new(entries());

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

/// Longest wait at request end for jobs started with `closte_enqueue` (`closte.drain_timeout`).
/// Request end has no caller to throw to: a bad value there (it was checked by the call that
/// enqueued) counts as the default.
pub fn drain_timeout() -> std::time::Duration {
    current_settings()
        .map(|s| s.drain_timeout)
        .unwrap_or_else(|_| Settings::default().drain_timeout)
}
