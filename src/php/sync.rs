//! `closte_sync()`: bring Closte's alias list in line with a list of domains.

use std::collections::BTreeSet;
use std::sync::Arc;

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, ZendHashTable, Zval};
use tokio::sync::mpsc;

use closte_core::client::outcome::Operation;
use closte_core::client::reconcile::{reconcile, SyncOptions, SyncReport};
use closte_core::domain::DomainName;

use super::call::{self, prepare};
use super::convert::outcome_array;
use super::errors::{argument, runtime as runtime_error, Labelled, OrThrow};

/// Largest concurrency accepted, as for the INI default.
const MAX_CONCURRENCY: i64 = closte_core::config::MAX_CONCURRENCY as i64;

/// Adds the domains Closte is missing and, with `'prune' => true`, removes the aliases that are
/// not in `$domains` (never a wildcard alias, never one in `protect`, never the `www.X`/`X` twin
/// of a domain in `$domains` or `protect`, and with `confirm_remove` only those). Options: `prune` (bool), `dry_run` (bool: plan only), `concurrency` (1..256,
/// default INI `closte.concurrency`), `protect` (list of aliases never removed),
/// `confirm_remove` (list: prune removes only these), `allow_empty` (bool: prune against an
/// empty list), `progress` (callable receiving each add/remove result as it finishes, and the
/// number finished so far), `request_ssl` (bool, default true: false adds without requesting
/// certificates), `summary` (bool: leave out `unchanged` and the listing's `domains`, which
/// `unchanged_count` and `listed_count` count, for a caller of a large network that only counts
/// them: at 100,000 names they are 13 MiB of the caller's memory).
#[php_function]
#[php(optional = "options")]
pub fn closte_sync(
    domains: &ZendHashTable,
    options: Option<&ZendHashTable>,
) -> PhpResult<ZBox<ZendHashTable>> {
    let empty = ZendHashTable::new();
    let parsed = parse_options(options.unwrap_or(&empty))?;
    let api_url = call::settings()?.api_url;
    let desired = parse_domain_list(domains, "domains", Some(&api_url))?;
    if parsed.sync.prune && desired.is_empty() && !parsed.allow_empty {
        return Err(argument(
            "refusing to prune against an empty domain list: it would remove every alias on \
             Closte; pass 'allow_empty' => true if that is really meant",
        ));
    }
    let mut report = run(desired, parsed.sync.clone(), parsed.progress.as_ref())?;
    report_array(&mut report, &parsed.sync, parsed.summary)
}

struct ParsedOptions<'a> {
    sync: SyncOptions,
    allow_empty: bool,
    summary: bool,
    progress: Option<ZendCallable<'a>>,
}

fn parse_options(options: &ZendHashTable) -> PhpResult<ParsedOptions<'_>> {
    let settings = call::settings()?;
    let mut parsed = ParsedOptions {
        sync: SyncOptions {
            concurrency: settings.concurrency,
            ..SyncOptions::default()
        },
        allow_empty: false,
        summary: false,
        progress: None,
    };
    for (key, value) in options.iter() {
        match key.to_string().as_str() {
            "prune" => parsed.sync.prune = value.is_true(),
            "dry_run" => parsed.sync.dry_run = value.is_true(),
            "allow_empty" => parsed.allow_empty = value.is_true(),
            "request_ssl" => {
                parsed.sync.request_ssl = value
                    .bool()
                    .ok_or_else(|| argument("option \"request_ssl\" must be a bool"))?
            }
            "summary" => {
                parsed.summary = value
                    .bool()
                    .ok_or_else(|| argument("option \"summary\" must be a bool"))?
            }
            "concurrency" => {
                parsed.sync.concurrency = value
                    .long()
                    .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
                    .ok_or_else(|| {
                        argument(format!(
                            "option \"concurrency\" must be an int from 1 to {MAX_CONCURRENCY}"
                        ))
                    })? as usize
            }
            "protect" => parsed.sync.protect = name_set(value, "protect")?,
            "confirm_remove" => parsed.sync.confirmed = Some(name_set(value, "confirm_remove")?),
            "progress" => {
                parsed.progress = Some(
                    ZendCallable::new(value)
                        .map_err(|_| argument("option \"progress\" must be callable"))?,
                );
            }
            other => {
                return Err(argument(format!(
                    "unknown option \"{}\": expected prune, dry_run, concurrency, protect, \
                     confirm_remove, allow_empty, progress, request_ssl or summary",
                    other.escape_debug()
                )))
            }
        }
    }
    Ok(parsed)
}

/// A list option of domain names, as normalised strings.
fn name_set(value: &Zval, option: &str) -> PhpResult<BTreeSet<String>> {
    let list = value
        .array()
        .ok_or_else(|| argument(format!("option \"{option}\" must be an array of domains")))?;
    Ok(parse_domain_list(list, option, None)?
        .into_iter()
        .map(|name| name.as_str().to_string())
        .collect())
}

/// Every name is checked before anything is sent; duplicates count once. With `api_url`, the
/// API's own host is refused too (the desired list; `protect` may name anything).
fn parse_domain_list(
    list: &ZendHashTable,
    what: &str,
    api_url: Option<&str>,
) -> PhpResult<Vec<DomainName>> {
    let mut seen = BTreeSet::new();
    let mut names = Vec::new();
    for (index, (key, value)) in list.iter().enumerate() {
        let key = key.to_string();
        let label = format!(
            "{what}[{}]",
            if key.is_empty() {
                index.to_string()
            } else {
                key
            }
        );
        let Some(bytes) = value.binary_slice::<u8>() else {
            return Err(argument(format!("{label} is not a string")));
        };
        let name = DomainName::parse_bytes(bytes)
            .and_then(|name| match api_url {
                Some(url) => name.refuse_api_host(url),
                None => Ok(name),
            })
            .map_err(|e| Labelled(&label, e))
            .or_throw()?;
        if seen.insert(name.as_str().to_string()) {
            names.push(name);
        }
    }
    Ok(names)
}

fn run(
    desired: Vec<DomainName>,
    options: SyncOptions,
    progress: Option<&ZendCallable>,
) -> PhpResult<SyncReport> {
    let call = prepare()?;
    let handle = call.handle;
    let client = Arc::new(call.client);
    let (sender, mut receiver) = mpsc::unbounded_channel();
    let task = handle.spawn(reconcile(
        client,
        desired,
        options,
        progress.map(|_| sender),
    ));

    // Progress callbacks run here, on the PHP thread, as results arrive.
    if let Some(callback) = progress {
        let mut done: i64 = 0;
        while let Some(outcome) = handle.block_on(receiver.recv()) {
            done += 1;
            let array = outcome_array(&outcome, None)?;
            let mut arg = Zval::new();
            arg.set_hashtable(array);
            if callback.try_call(vec![&arg, &done]).is_err() {
                // The callback threw: stop the sync and let the exception propagate.
                task.abort();
                return Err(argument("progress callback failed".to_string()));
            }
        }
    }
    handle
        .block_on(task)
        .map_err(|e| runtime_error(format!("sync did not finish: {e}")))
}

/// The result array; with `summary`, without `unchanged` and the listing's `domains` (never
/// made into PHP values: their count is what the caller keeps).
fn report_array(
    report: &mut SyncReport,
    options: &SyncOptions,
    summary: bool,
) -> PhpResult<ZBox<ZendHashTable>> {
    let listed_count = report.listing.domains().map(|d| d.len() as i64);
    if summary {
        report.listing.take_domains();
    }
    let plan = &report.plan;
    let as_strings = |names: &[DomainName]| {
        names
            .iter()
            .map(|n| n.as_str().to_string())
            .collect::<Vec<_>>()
    };
    let mut result = ZendHashTable::new();
    result.insert("ok", report.ok())?;
    result.insert("prune", options.prune)?;
    result.insert("dry_run", report.dry_run)?;
    result.insert("concurrency", options.concurrency as i64)?;
    result.insert("to_add", as_strings(&plan.to_add))?;
    result.insert("to_remove", as_strings(&plan.to_remove))?;
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut failed = Vec::new();
    let mut per_domain = ZendHashTable::new();
    for outcome in &report.results {
        let name = outcome.domain().unwrap_or_default().to_string();
        if !outcome.ok() {
            failed.push(name.clone());
        } else if outcome.operation() == Operation::AddDomain {
            added.push(name.clone());
        } else {
            removed.push(name.clone());
        }
        per_domain.insert(name.as_str(), outcome_array(outcome, None)?)?;
    }
    result.insert("added", added)?;
    result.insert("removed", removed)?;
    if !summary {
        result.insert("unchanged", plan.unchanged.clone())?;
    }
    result.insert("unchanged_count", plan.unchanged.len() as i64)?;
    result.insert("failed", failed)?;
    result.insert("skipped", plan.skipped.clone())?;
    let mut kept = ZendHashTable::new();
    for (alias, rule) in &plan.kept {
        kept.insert(alias.as_str(), rule.as_str())?;
    }
    result.insert("kept", kept)?;
    result.insert("unconfirmed", plan.unconfirmed.clone())?;
    result.insert("listing", outcome_array(&report.listing, None)?)?;
    result.insert("listed_count", listed_count)?;
    result.insert("results", per_domain)?;
    result.insert("elapsed_ms", report.elapsed.as_secs_f64() * 1000.0)?;
    Ok(result)
}

pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module.function(wrap_function!(closte_sync))
}
