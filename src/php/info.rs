//! phpinfo() / `php --ri closte`: state and settings, with the key masked.

use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

use closte_core::client::{cached_ssl_endpoint, SslEndpoint};
use closte_core::runtime;

use super::engine;
use super::ini::{api_key, current_settings};

/// # Safety
/// Called by the engine with this module's entry.
pub unsafe extern "C" fn module_info(module: *mut ModuleEntry) {
    // A panic must not unwind into the engine: phpinfo() simply shows less.
    let _ = std::panic::catch_unwind(|| {
        info_table_start!();
        info_table_row!("Closte support", "enabled");
        info_table_row!("Version", env!("CARGO_PKG_VERSION"));
        info_table_row!("Build", env!("CLOSTE_BUILD_COMMIT"));
        info_table_row!("API key", api_key().1.as_str());
        let state = runtime::state();
        let runtime_text = if state.started {
            format!(
                "started (pid {}, {} worker threads)",
                state.pid, state.worker_threads
            )
        } else {
            "not started (starts on the first call)".to_string()
        };
        info_table_row!("Runtime", runtime_text.as_str());
        let ssl = match current_settings()
            .ok()
            .and_then(|s| cached_ssl_endpoint(&s.api_url))
        {
            Some(SslEndpoint::Found(path)) => path.to_string(),
            Some(SslEndpoint::NoneFound) => "none (Closte issues certificates itself)".to_string(),
            None => "not discovered yet".to_string(),
        };
        info_table_row!("SSL endpoint", ssl.as_str());
        info_table_end!();
    });
    engine::print_ini_entries(module);
}
