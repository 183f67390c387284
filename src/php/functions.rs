//! The PHP functions. Each one: validate its arguments and the configuration (throwing before
//! any request), run the engine-free client on the runtime, convert the outcome.
//!
//! Arguments are strict (ext-php-rs does not coerce): `"12"` for an `int` throws `TypeError`.
//! The WordPress plugin casts the ids WordPress hands around as strings.

use ext_php_rs::binary_slice::BinarySlice;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};

use closte_core::client::{cached_ssl_endpoint, DomainOperation, SslEndpoint};
use closte_core::domain::DomainName;
use closte_core::runtime;
use closte_core::stats::COUNTERS;

use super::call::{self, prepare};
use super::convert::outcome_array;
use super::errors::OrThrow;
use super::ini::api_key;

/// The blocking domain functions: validate, run the operation, convert the outcome.
fn domain_call(
    operation: DomainOperation,
    raw: &[u8],
    site_id: Option<i64>,
) -> PhpResult<ZBox<ZendHashTable>> {
    let domain = DomainName::parse_bytes(raw).or_throw()?;
    let call = prepare()?;
    let domain = domain.refuse_api_host(&call.settings.api_url).or_throw()?;
    let outcome = call.block_on(|c| async move { c.run(operation, &domain).await });
    outcome_array(&outcome, site_id)
}

/// Adds `$domain` as an alias of the Closte app, then requests its certificate unless
/// `$request_ssl` is false (`ssl` is then null: request it once DNS points here).
#[php_function]
#[php(defaults(site_id = 0, request_ssl = true))]
pub fn closte_add_domain(
    domain: BinarySlice<u8>,
    site_id: i64,
    request_ssl: bool,
) -> PhpResult<ZBox<ZendHashTable>> {
    let domain = DomainName::parse_bytes(&domain).or_throw()?;
    let call = prepare()?;
    let domain = domain.refuse_api_host(&call.settings.api_url).or_throw()?;
    let outcome = call.block_on(|c| async move { c.add_domain_with(&domain, request_ssl).await });
    outcome_array(&outcome, Some(site_id))
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
    Ok(DomainName::parse_bytes(&domain)
        .or_throw()?
        .as_str()
        .to_string())
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
    let outcome = prepare()?.block_on(|c| async move { c.list_domains().await });
    outcome_array(&outcome, None)
}

/// Checks key and reachability without changing anything on Closte.
#[php_function]
pub fn closte_test_connection() -> PhpResult<ZBox<ZendHashTable>> {
    let outcome = prepare()?.block_on(|c| async move { c.test_connection().await });
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
    // The PHP implementation answers "php" here: callers can tell which one runs.
    stats.insert("implementation", "extension")?;
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
    let api_url = call::settings().map(|s| s.api_url).ok();
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
