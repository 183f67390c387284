//! What every binding needs for a remote call, from one place: the validated settings, the API
//! key, the runtime handle and a Closte client over the shared keep-alive pool. Every function
//! gets them here, so the configuration is checked the same way, before anything is sent.

use std::future::Future;

use ext_php_rs::prelude::*;
use tokio::runtime::Handle;

use closte_core::client::ClosteClient;
use closte_core::config::{ApiKey, Settings};
use closte_core::runtime;
use closte_core::stats::COUNTERS;

use super::errors::{configuration, OrThrow};
use super::ini::{api_key, current_settings, KEY_CONSTANT};

/// The settings as the INI says now, or `Closte\ConfigurationException` naming the setting.
pub fn settings() -> PhpResult<Settings> {
    current_settings().or_throw()
}

/// The settings and the key, or `Closte\ConfigurationException`.
pub fn settings_and_key() -> PhpResult<(Settings, ApiKey)> {
    let settings = settings()?;
    match api_key() {
        (Some(key), _) => Ok((settings, key)),
        (None, _) => Err(configuration(format!(
            "no Closte API key: define('{KEY_CONSTANT}', '...') in wp-config.php or set closte.api_key"
        ))),
    }
}

/// One call's settings, runtime and client; counted as one operation in `closte_stats()`.
pub struct Call {
    pub settings: Settings,
    pub handle: Handle,
    pub client: ClosteClient,
}

/// Validates the configuration, starts (or reuses) the runtime and builds the call's client.
pub fn prepare() -> PhpResult<Call> {
    let (settings, key) = settings_and_key()?;
    let (handle, http) = runtime::acquire(&settings).or_throw()?;
    COUNTERS.operation();
    let client = ClosteClient::new(http, &settings, key);
    Ok(Call {
        settings,
        handle,
        client,
    })
}

impl Call {
    /// Runs one client operation to its end on the runtime, blocking this PHP thread.
    pub fn block_on<F, Fut>(self, operation: F) -> Fut::Output
    where
        F: FnOnce(ClosteClient) -> Fut,
        Fut: Future,
    {
        self.handle.block_on(operation(self.client))
    }
}
