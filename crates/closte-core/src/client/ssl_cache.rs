//! Which SSL endpoint Closte answers on, remembered per process and base URL.
//!
//! The stock integration probes up to four paths for every domain. We probe once; the answer
//! holds until the process ends (a PHP-FPM worker lives for many requests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// One discovery at a time per base URL (single flight): concurrent first calls of a bulk sync
/// wait for the first one's answer instead of each probing every candidate. The discoverer holds
/// the gate for writing; the others wait as readers, so they all wake together when it is done.
/// The gates belong to the process that made them: a forked child starts with none (a parent's
/// task may have held one at the fork, on a runtime the child does not have).
struct Gates {
    pid: u32,
    by_url: HashMap<String, Arc<tokio::sync::RwLock<()>>>,
}

static GATES: Mutex<Option<Gates>> = Mutex::new(None);

pub(super) fn discovery_gate(base_url: &str) -> Arc<tokio::sync::RwLock<()>> {
    let mut guard = GATES.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if guard.as_ref().is_some_and(|gates| gates.pid != pid) {
        // Leaked, not dropped: a gate may be locked by a task that does not exist here.
        std::mem::forget(guard.take());
    }
    guard
        .get_or_insert_with(|| Gates {
            pid,
            by_url: HashMap::new(),
        })
        .by_url
        .entry(base_url.to_string())
        .or_default()
        .clone()
}

pub(super) fn remember(base_url: &str, endpoint: SslEndpoint) {
    let mut guard = DISCOVERED.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .get_or_insert_with(HashMap::new)
        .insert(base_url.to_string(), endpoint);
}

/// fork(2) support (see `crate::fork`): this cache's locks, taken before a fork.
pub(crate) fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new((
        DISCOVERED.lock().unwrap_or_else(|p| p.into_inner()),
        GATES.lock().unwrap_or_else(|p| p.into_inner()),
    ))
}
