//! Rust values into PHP arrays: the result shape of every remote operation, and Closte's JSON.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use serde_json::Value;

use closte_core::client::outcome::{Operation, Outcome};

/// The result array. Keys present for every operation: `ok`, `operation`, `domain`, `state`,
/// `status`, `error`, `error_kind`, `retryable`, `attempts`, `elapsed_ms`, `response`,
/// `endpoint`; `ssl` for add_domain; `domains` for list_domains; `site_id` when given.
pub fn outcome_array(outcome: &Outcome, site_id: Option<i64>) -> PhpResult<ZBox<ZendHashTable>> {
    let mut array = ZendHashTable::new();
    array.insert("ok", outcome.ok)?;
    array.insert("operation", outcome.operation.as_str())?;
    array.insert("domain", outcome.domain.clone())?;
    if let Some(site_id) = site_id {
        array.insert("site_id", site_id)?;
    }
    array.insert("state", outcome.state.as_str())?;
    array.insert("status", i64::from(outcome.status))?;
    array.insert("error", outcome.error.clone())?;
    array.insert("error_kind", outcome.error_kind.map(|k| k.as_str()))?;
    array.insert("retryable", outcome.retryable)?;
    array.insert("attempts", i64::from(outcome.attempts))?;
    array.insert("elapsed_ms", outcome.elapsed_ms())?;
    array.insert("endpoint", outcome.endpoint.clone())?;
    array.insert("response", json_zval(outcome.response.as_ref())?)?;
    if outcome.operation == Operation::AddDomain {
        let mut ssl = Zval::new();
        if let Some(nested) = &outcome.ssl {
            ssl.set_hashtable(outcome_array(nested, None)?);
        }
        array.insert("ssl", ssl)?;
    }
    if let Some(domains) = &outcome.domains {
        array.insert("domains", domains.clone())?;
    }
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
