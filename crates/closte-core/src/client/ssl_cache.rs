//! Which SSL endpoint Closte answers on, remembered per process and base URL.
//!
//! The stock integration probes up to four paths for every domain. We probe once; the answer
//! holds until the process ends (a PHP-FPM worker lives for many requests).

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslEndpoint {
    Found(&'static str),
    /// Every candidate answered 404/405: Closte issues certificates on its own.
    NoneFound,
}

static DISCOVERED: Mutex<Option<HashMap<String, SslEndpoint>>> = Mutex::new(None);

pub fn cached_ssl_endpoint(base_url: &str) -> Option<SslEndpoint> {
    let guard = DISCOVERED.lock().unwrap_or_else(|p| p.into_inner());
    guard.as_ref().and_then(|m| m.get(base_url).copied())
}

pub(super) fn remember(base_url: &str, endpoint: SslEndpoint) {
    let mut guard = DISCOVERED.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .get_or_insert_with(HashMap::new)
        .insert(base_url.to_string(), endpoint);
}

/// fork(2) support (see `crate::fork`): this cache's lock, taken before a fork.
pub(crate) fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(DISCOVERED.lock().unwrap_or_else(|p| p.into_inner()))
}
