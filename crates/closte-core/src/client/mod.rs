//! The engine-free Closte client: no `ext_php_rs` in here, so `cargo test` exercises it against
//! the simulator over loopback.
//!
//! One generic request function ([`ClosteClient::exchange`]) sends any
//! [`Endpoint`](endpoint::Endpoint), with the per-attempt deadline, the body cap and the retry
//! policy. The operations above it decide what an answer means (an "already exists" is a
//! success for an add). This file holds the client type and its construction; its methods live
//! in `request.rs` (the one request function), `ssl.rs` (SSL endpoint discovery, request and
//! status) and `operations.rs` (add, remove, list, test, run).

pub mod answer;
pub mod endpoint;
pub mod error;
mod operations;
pub mod outcome;
pub mod reconcile;
mod request;
pub mod retry_after;
mod ssl;
pub(crate) mod ssl_cache;

use std::time::Duration;

use crate::config::{ApiKey, Settings};
use crate::net::CheckSettings;

pub use operations::{extract_domains, DomainOperation};
pub use request::{Exchange, MAX_BODY_BYTES, MAX_RETRY_AFTER_SECS};
pub use ssl_cache::{cached_ssl_endpoint, SslEndpoint};

/// A Closte client bound to one key and one set of settings. Cheap to build per call: the
/// reqwest client (connection pool) inside is shared and cloned from the runtime module.
pub struct ClosteClient {
    http: reqwest::Client,
    base_url: String,
    key: ApiKey,
    timeout: Duration,
    max_retries: u32,
    /// What `verify_certificate` (a domain operation, so also a job) needs.
    checks: CheckSettings,
}

impl ClosteClient {
    pub fn new(http: reqwest::Client, settings: &Settings, key: ApiKey) -> Self {
        Self {
            http,
            base_url: settings.api_url.clone(),
            key,
            timeout: settings.timeout,
            max_retries: settings.max_retries,
            checks: CheckSettings::from(settings),
        }
    }
}
