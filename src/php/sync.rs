//! `closte_sync()`: bring Closte's alias list in line with a list of domains.

use std::collections::BTreeSet;
use std::sync::Arc;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, ZendHashTable, Zval};
use tokio::sync::mpsc;

use crate::client::sync::sync;
use crate::client::ClosteClient;
use crate::domain::DomainName;
use crate::runtime;
use crate::stats::COUNTERS;

use super::convert::outcome_array;
use super::engine;
use super::functions::{
    closte_error, parse_domain_named, settings_and_key, CODE_ARGUMENT, CODE_RUNTIME,
};

/// Largest concurrency accepted.
const MAX_CONCURRENCY: i64 = 256;

/// Adds the domains Closte is missing and, with `'prune' => true`, removes the aliases that are
/// not in `$domains`. Options: `prune` (bool), `concurrency` (1..256, default INI
/// `closte.concurrency`), `progress` (callable receiving each add/remove result as it finishes,
/// and the number finished so far).
#[php_function]
#[php(optional = "options")]
pub fn closte_sync(
    domains: &ZendHashTable,
    options: Option<&ZendHashTable>,
) -> PhpResult<ZBox<ZendHashTable>> {
    let empty = ZendHashTable::new();
    let options = options.unwrap_or(&empty);
    let mut prune = false;
    let mut concurrency = engine::ini_string("closte.concurrency")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
        .unwrap_or(8);
    let mut progress: Option<ZendCallable> = None;
    for (key, value) in options.iter() {
        match key.to_string().as_str() {
            "prune" => prune = value.is_true(),
            "concurrency" => {
                concurrency = value
                    .long()
                    .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
                    .ok_or_else(|| {
                        closte_error(
                            format!(
                                "option \"concurrency\" must be an int from 1 to {MAX_CONCURRENCY}"
                            ),
                            CODE_ARGUMENT,
                        )
                    })?
            }
            "progress" => {
                progress = Some(ZendCallable::new(value).map_err(|_| {
                    closte_error(
                        "option \"progress\" must be callable".to_string(),
                        CODE_ARGUMENT,
                    )
                })?)
            }
            other => {
                return Err(closte_error(
                    format!(
                        "unknown option \"{}\": expected prune, concurrency or progress",
                        other.escape_debug()
                    ),
                    CODE_ARGUMENT,
                ))
            }
        }
    }

    // Every name is checked before anything is sent.
    let mut seen = BTreeSet::new();
    let mut desired: Vec<DomainName> = Vec::new();
    for (index, (key, value)) in domains.iter().enumerate() {
        let label = format!(
            "domains[{}]",
            if key.to_string().is_empty() {
                index.to_string()
            } else {
                key.to_string()
            }
        );
        let Some(bytes) = value.binary_slice::<u8>() else {
            return Err(closte_error(
                format!("{label} is not a string"),
                CODE_ARGUMENT,
            ));
        };
        let name = parse_domain_named(bytes, &label)?;
        if seen.insert(name.as_str().to_string()) {
            desired.push(name);
        }
    }

    let (settings, key) = settings_and_key()?;
    let (handle, http) =
        runtime::acquire(&settings).map_err(|e| closte_error(e.to_string(), CODE_RUNTIME))?;
    COUNTERS.operation();
    let client = Arc::new(ClosteClient::new(http, &settings, key));
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let task = handle.spawn(sync(
        client,
        desired,
        prune,
        concurrency as usize,
        progress.as_ref().map(|_| sender),
    ));

    // Progress callbacks run here, on the PHP thread, as results arrive.
    if let Some(callback) = &progress {
        let mut done: i64 = 0;
        while let Some(outcome) = handle.block_on(receiver.recv()) {
            done += 1;
            let array = outcome_array(&outcome, None)?;
            let mut arg = Zval::new();
            arg.set_hashtable(array);
            if callback.try_call(vec![&arg, &done]).is_err() {
                // The callback threw: stop the sync and let the exception propagate.
                task.abort();
                return Err(closte_error(
                    "progress callback failed".to_string(),
                    CODE_ARGUMENT,
                ));
            }
        }
    }
    let report = handle
        .block_on(task)
        .map_err(|e| closte_error(format!("sync did not finish: {e}"), CODE_RUNTIME))?;

    let mut result = ZendHashTable::new();
    result.insert("ok", report.ok())?;
    result.insert("prune", prune)?;
    result.insert("concurrency", concurrency)?;
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut failed = Vec::new();
    let mut per_domain = ZendHashTable::new();
    for outcome in &report.results {
        let name = outcome.domain.clone().unwrap_or_default();
        if !outcome.ok {
            failed.push(name.clone());
        } else if outcome.operation == crate::client::outcome::Operation::AddDomain {
            added.push(name.clone());
        } else {
            removed.push(name.clone());
        }
        per_domain.insert(name.as_str(), outcome_array(outcome, None)?)?;
    }
    result.insert("added", added)?;
    result.insert("removed", removed)?;
    result.insert("unchanged", report.unchanged.clone())?;
    result.insert("failed", failed)?;
    result.insert("skipped", report.skipped.clone())?;
    result.insert("listing", outcome_array(&report.listing, None)?)?;
    result.insert("results", per_domain)?;
    result.insert("elapsed_ms", report.elapsed.as_secs_f64() * 1000.0)?;
    Ok(result)
}

pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module.function(wrap_function!(closte_sync))
}
