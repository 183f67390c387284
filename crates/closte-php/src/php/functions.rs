//! The PHP functions. Each one: validate its arguments and the configuration (throwing before
//! any request), run the engine-free client on the runtime, convert the outcome.
//!
//! Arguments are strict (ext-php-rs does not coerce): `"12"` for an `int` throws `TypeError`.
//! The WordPress plugin casts the ids WordPress hands around as strings.

use std::future::Future;

use ext_php_rs::binary_slice::BinarySlice;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::class::RegisteredClass;
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};

use closte_core::client::outcome::Outcome;
use closte_core::client::{cached_ssl_endpoint, ClosteClient, DomainOperation, SslEndpoint};
use closte_core::config::{ApiKey, Settings};
use closte_core::domain::DomainName;
use closte_core::runtime;
use closte_core::stats::COUNTERS;

use super::configuration_exception::ConfigurationException;
use super::convert::outcome_array;
use super::exception::ClosteException;
use super::ini::{self, api_key, current_settings};
use super::invalid_domain_exception::InvalidDomainException;

/// Exception codes, stable for callers that switch on them.
pub(super) const CODE_INVALID_DOMAIN: i32 = 1;
pub(super) const CODE_CONFIGURATION: i32 = 2;
pub(super) const CODE_RUNTIME: i32 = 3;
pub(super) const CODE_ARGUMENT: i32 = 4;

/// Like [`parse_domain`], the message prefixed with where the name came from.
pub(super) fn parse_domain_named(raw: &[u8], label: &str) -> PhpResult<DomainName> {
    DomainName::parse_bytes(raw).map_err(|e| {
        PhpException::new(
            format!("{label}: {e}"),
            CODE_INVALID_DOMAIN,
            InvalidDomainException::get_metadata().ce(),
        )
    })
}

pub(super) fn parse_domain(raw: &[u8]) -> PhpResult<DomainName> {
    DomainName::parse_bytes(raw).map_err(|e| {
        PhpException::new(
            e.to_string(),
            CODE_INVALID_DOMAIN,
            InvalidDomainException::get_metadata().ce(),
        )
    })
}

fn configuration_error(message: String) -> PhpException {
    PhpException::new(
        message,
        CODE_CONFIGURATION,
        ConfigurationException::get_metadata().ce(),
    )
}

fn settings() -> PhpResult<Settings> {
    current_settings().map_err(|e| configuration_error(e.to_string()))
}

pub(super) fn settings_and_key() -> PhpResult<(Settings, ApiKey)> {
    let settings = settings()?;
    match api_key() {
        (Some(key), _) => Ok((settings, key)),
        (None, _) => Err(configuration_error(format!(
            "no Closte API key: define('{}', '...') in wp-config.php or set closte.api_key",
            ini::KEY_CONSTANT
        ))),
    }
}

/// A `Closte\Exception` for a mistake in the call itself (code 4) or a runtime failure (code 3).
pub(super) fn closte_error(message: String, code: i32) -> PhpException {
    PhpException::new(message, code, ClosteException::get_metadata().ce())
}

/// Runs one client operation on the runtime and returns its outcome.
fn run<F, Fut>(settings: Settings, key: ApiKey, operation: F) -> PhpResult<Outcome>
where
    F: FnOnce(ClosteClient) -> Fut,
    Fut: Future<Output = Outcome>,
{
    COUNTERS.operation();
    runtime::block_on(&settings, |http| {
        operation(ClosteClient::new(http, &settings, key))
    })
    .map_err(|e| closte_error(e.to_string(), CODE_RUNTIME))
}

/// The blocking domain functions: validate, run the operation, convert the outcome.
fn domain_call(
    operation: DomainOperation,
    raw: &[u8],
    site_id: Option<i64>,
) -> PhpResult<ZBox<ZendHashTable>> {
    let domain = parse_domain(raw)?;
    let (settings, key) = settings_and_key()?;
    let outcome = run(
        settings,
        key,
        |c| async move { c.run(operation, &domain).await },
    )?;
    outcome_array(&outcome, site_id)
}

/// Adds `$domain` as an alias of the Closte app, then requests its certificate.
#[php_function]
#[php(defaults(site_id = 0))]
pub fn closte_add_domain(domain: BinarySlice<u8>, site_id: i64) -> PhpResult<ZBox<ZendHashTable>> {
    domain_call(DomainOperation::Add, &domain, Some(site_id))
}

/// Removes the alias `$domain`; an alias that is not there counts as removed.
#[php_function]
#[php(defaults(site_id = 0))]
pub fn closte_remove_domain(
    domain: BinarySlice<u8>,
    site_id: i64,
) -> PhpResult<ZBox<ZendHashTable>> {
    domain_call(DomainOperation::Remove, &domain, Some(site_id))
}

/// The normal form the other functions send and Closte lists (lower case, punycode, no
/// trailing dot), or `Closte\InvalidDomainException` naming the bad part. No request is made:
/// callers use it to validate and compare names before they act.
#[php_function]
pub fn closte_normalize_domain(domain: BinarySlice<u8>) -> PhpResult<String> {
    Ok(parse_domain(&domain)?.as_str().to_string())
}

/// Requests the Let's Encrypt certificate for `$domain` (SSL endpoint discovered once).
#[php_function]
pub fn closte_request_ssl(domain: BinarySlice<u8>) -> PhpResult<ZBox<ZendHashTable>> {
    domain_call(DomainOperation::RequestSsl, &domain, None)
}

/// The certificate status Closte reports for `$domain`.
#[php_function]
pub fn closte_ssl_status(domain: BinarySlice<u8>) -> PhpResult<ZBox<ZendHashTable>> {
    domain_call(DomainOperation::SslStatus, &domain, None)
}

/// The aliases Closte holds (`domains` key of the result).
#[php_function]
pub fn closte_list_domains() -> PhpResult<ZBox<ZendHashTable>> {
    let (settings, key) = settings_and_key()?;
    let outcome = run(settings, key, |c| async move { c.list_domains().await })?;
    outcome_array(&outcome, None)
}

/// Checks key and reachability without changing anything on Closte.
#[php_function]
pub fn closte_test_connection() -> PhpResult<ZBox<ZendHashTable>> {
    let (settings, key) = settings_and_key()?;
    let outcome = run(settings, key, |c| async move { c.test_connection().await })?;
    outcome_array(&outcome, None)
}

/// True when an API key is configured (constant or INI). Makes no request.
#[php_function]
pub fn closte_detect() -> bool {
    api_key().0.is_some()
}

/// The extension's version.
#[php_function]
pub fn closte_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Counters, the cached SSL endpoint and the runtime state. Never the key.
#[php_function]
pub fn closte_stats() -> PhpResult<ZBox<ZendHashTable>> {
    let snapshot = COUNTERS.snapshot();
    let mut stats = ZendHashTable::new();
    stats.insert("version", env!("CARGO_PKG_VERSION"))?;
    stats.insert("build", env!("CLOSTE_BUILD_COMMIT"))?;
    stats.insert("operations", snapshot.operations as i64)?;
    stats.insert("requests", snapshot.requests as i64)?;
    stats.insert("successes", snapshot.successes as i64)?;
    stats.insert("retries", snapshot.retries as i64)?;
    stats.insert("connections", snapshot.connections as i64)?;
    stats.insert("tls_handshakes", snapshot.tls_handshakes as i64)?;
    let mut failures = ZendHashTable::new();
    let mut failed = 0;
    for (kind, count) in &snapshot.failures {
        failures.insert(kind.as_str(), *count as i64)?;
        failed += count;
    }
    stats.insert("failures", failures)?;
    stats.insert("failed_requests", failed as i64)?;

    let (key, source) = api_key();
    stats.insert("key_configured", key.is_some())?;
    stats.insert("key_source", source.as_str())?;
    let api_url = current_settings().map(|s| s.api_url).ok();
    let mut ssl_endpoint = Zval::new();
    match api_url.as_deref().and_then(cached_ssl_endpoint) {
        Some(SslEndpoint::Found(path)) => ssl_endpoint.set_string(path, false)?,
        Some(SslEndpoint::NoneFound) => ssl_endpoint.set_bool(false),
        None => ssl_endpoint.set_null(),
    }
    stats.insert("api_url", api_url)?;
    stats.insert("ssl_endpoint", ssl_endpoint)?;

    let state = runtime::state();
    let mut rt = ZendHashTable::new();
    rt.insert("started", state.started)?;
    rt.insert("pid", i64::from(state.pid))?;
    rt.insert("worker_threads", state.worker_threads as i64)?;
    rt.insert("owned_by_this_process", state.owned_by_this_process)?;
    rt.insert("http_clients_built", state.clients_built as i64)?;
    stats.insert("runtime", rt)?;
    Ok(stats)
}

/// Registers every function of this file (`wrap_function!` must run where they are defined).
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(closte_add_domain))
        .function(wrap_function!(closte_remove_domain))
        .function(wrap_function!(closte_request_ssl))
        .function(wrap_function!(closte_ssl_status))
        .function(wrap_function!(closte_list_domains))
        .function(wrap_function!(closte_test_connection))
        .function(wrap_function!(closte_detect))
        .function(wrap_function!(closte_normalize_domain))
        .function(wrap_function!(closte_version))
        .function(wrap_function!(closte_stats))
}
