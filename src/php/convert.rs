//! Rust values into PHP arrays: the result shape of every remote operation, and Closte's JSON.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use serde_json::Value;

use std::net::IpAddr;

use closte_core::client::outcome::{Operation, Outcome};
use closte_core::net::{CertificateCheck, DnsCheck};

/// The result array. Keys present for every operation: `ok`, `operation`, `domain`, `state`,
/// `status`, `error`, `error_kind`, `retryable`, `attempts`, `elapsed_ms`, `response`,
/// `endpoint`; `ssl` for add_domain; `domains` for list_domains; `dns` for check_dns;
/// `certificate` for verify_certificate; `site_id` when given.
pub fn outcome_array(outcome: &Outcome, site_id: Option<i64>) -> PhpResult<ZBox<ZendHashTable>> {
    let mut array = shape(&Shape {
        ok: outcome.ok(),
        operation: outcome.operation().as_str(),
        domain: outcome.domain(),
        site_id,
        state: outcome.state().as_str(),
        status: outcome.status(),
        error: outcome.error(),
        error_kind: outcome.error_kind().map(|k| k.as_str()),
        retryable: outcome.retryable(),
        attempts: outcome.attempts(),
        elapsed_ms: outcome.elapsed_ms(),
        endpoint: outcome.endpoint(),
    })?;
    array.insert("response", json_zval(outcome.response())?)?;
    if outcome.operation() == Operation::AddDomain {
        let mut ssl = Zval::new();
        if let Some(nested) = outcome.ssl() {
            ssl.set_hashtable(outcome_array(nested, None)?);
        }
        array.insert("ssl", ssl)?;
    }
    if let Some(domains) = outcome.domains() {
        array.insert("domains", domains.to_vec())?;
    }
    match outcome.operation() {
        Operation::CheckDns => {
            let mut dns = Zval::new();
            if let Some(found) = outcome.dns() {
                dns.set_hashtable(dns_array(found)?);
            }
            array.insert("dns", dns)?;
        }
        Operation::VerifyCertificate => {
            let mut certificate = Zval::new();
            if let Some(found) = outcome.certificate() {
                certificate.set_hashtable(certificate_array(found)?);
            }
            array.insert("certificate", certificate)?;
        }
        _ => {}
    }
    Ok(array)
}

fn texts(addresses: &[IpAddr]) -> Vec<String> {
    addresses.iter().map(IpAddr::to_string).collect()
}

/// `check_dns`'s `dns` member.
fn dns_array(found: &DnsCheck) -> PhpResult<ZBox<ZendHashTable>> {
    let mut array = ZendHashTable::new();
    array.insert("ready", found.ready)?;
    array.insert("reason", found.reason.as_str())?;
    array.insert("addresses", texts(&found.addresses))?;
    array.insert("expected", found.expected.as_str())?;
    array.insert("expected_addresses", texts(&found.expected_addresses))?;
    array.insert("unexpected", texts(&found.unexpected))?;
    array.insert("source", found.source.as_str())?;
    Ok(array)
}

/// `verify_certificate`'s `certificate` member.
fn certificate_array(found: &CertificateCheck) -> PhpResult<ZBox<ZendHashTable>> {
    let mut array = ZendHashTable::new();
    array.insert("status", found.status.as_str())?;
    array.insert("address", found.address.map(|a| a.to_string()))?;
    array.insert("port", i64::from(found.port))?;
    array.insert("issuer", found.issuer.clone())?;
    array.insert("issuer_organization", found.issuer_organization.clone())?;
    array.insert("subject", found.subject.clone())?;
    array.insert("names", found.names.clone())?;
    array.insert("not_before", found.not_before)?;
    array.insert("not_after", found.not_after)?;
    array.insert("days_left", found.days_left)?;
    array.insert("fingerprint", found.fingerprint.clone())?;
    array.insert("checked_at", found.checked_at)?;
    array.insert("detail", found.detail.as_str())?;
    Ok(array)
}

/// `closte_wait`'s entry for a job that has not finished, or an id that names no job: the same
/// keys as a result (`state` `pending` or `unknown`, never `ok`), with the jobs layer's words.
pub fn job_placeholder_array(
    operation: Option<Operation>,
    domain: Option<&str>,
    site_id: Option<i64>,
    pending_for: Option<std::time::Duration>,
) -> PhpResult<ZBox<ZendHashTable>> {
    let (state, error) = match pending_for {
        Some(_) => ("pending", None),
        None => (
            "unknown",
            Some("no such job in this process (already collected, or never started here)"),
        ),
    };
    let mut array = shape(&Shape {
        ok: false,
        operation: operation.map_or("unknown", Operation::as_str),
        domain,
        site_id,
        state,
        status: 0,
        error,
        error_kind: None,
        retryable: false,
        attempts: 0,
        elapsed_ms: pending_for.map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        endpoint: None,
    })?;
    array.insert("response", Zval::new())?;
    match operation {
        Some(Operation::AddDomain) => array.insert("ssl", Zval::new())?,
        Some(Operation::VerifyCertificate) => array.insert("certificate", Zval::new())?,
        _ => {}
    }
    Ok(array)
}

/// The keys every entry shares, in their documented order.
struct Shape<'a> {
    ok: bool,
    operation: &'a str,
    domain: Option<&'a str>,
    site_id: Option<i64>,
    state: &'a str,
    status: u16,
    error: Option<&'a str>,
    error_kind: Option<&'a str>,
    retryable: bool,
    attempts: u32,
    elapsed_ms: f64,
    endpoint: Option<&'a str>,
}

fn shape(entry: &Shape) -> PhpResult<ZBox<ZendHashTable>> {
    let mut array = ZendHashTable::new();
    array.insert("ok", entry.ok)?;
    array.insert("operation", entry.operation)?;
    array.insert("domain", entry.domain.map(str::to_string))?;
    if let Some(site_id) = entry.site_id {
        array.insert("site_id", site_id)?;
    }
    array.insert("state", entry.state)?;
    array.insert("status", i64::from(entry.status))?;
    array.insert("error", entry.error.map(str::to_string))?;
    array.insert("error_kind", entry.error_kind)?;
    array.insert("retryable", entry.retryable)?;
    array.insert("attempts", i64::from(entry.attempts))?;
    array.insert("elapsed_ms", entry.elapsed_ms)?;
    array.insert("endpoint", entry.endpoint.map(str::to_string))?;
    Ok(array)
}

/// JSON as PHP values: objects and arrays become arrays, numbers int or float.
pub fn json_zval(value: Option<&Value>) -> PhpResult<Zval> {
    let mut zval = Zval::new();
    match value {
        None | Some(Value::Null) => zval.set_null(),
        Some(Value::Bool(b)) => zval.set_bool(*b),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => zval.set_long(i),
            None => zval.set_double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Some(Value::String(s)) => zval.set_string(s, false)?,
        Some(Value::Array(items)) => {
            let mut array = ZendHashTable::with_capacity(items.len().min(u32::MAX as usize) as u32);
            for item in items {
                array.push(json_zval(Some(item))?)?;
            }
            zval.set_hashtable(array);
        }
        Some(Value::Object(map)) => {
            let mut array = ZendHashTable::new();
            for (key, item) in map {
                array.insert(key.as_str(), json_zval(Some(item))?)?;
            }
            zval.set_hashtable(array);
        }
    }
    Ok(zval)
}
