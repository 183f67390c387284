//! Non-blocking dispatch from PHP: `closte_enqueue`, `closte_wait`, `closte_pending`, and the
//! request-end drain that logs whatever was not finished or not collected.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ext_php_rs::binary_slice::BinarySlice;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;

use closte_core::client::outcome::Operation;
use closte_core::client::DomainOperation;
use closte_core::domain::DomainName;
use closte_core::enqueue::{EnqueueOperation, EnqueueOptions, OptionValue};
use closte_core::jobs::{JobStatus, Leftover, JOBS};
use closte_core::net::{self, CheckSettings};
use closte_core::runtime;
use closte_core::stats::COUNTERS;

use super::call::{self, prepare, Call};
use super::checks::{certificate_check_settings, check_name};
use super::convert::{job_placeholder_array, outcome_array};
use super::engine;
use super::errors::{argument, OrThrow};
use super::ini;

/// Longest `closte_wait` timeout accepted, in seconds.
const MAX_WAIT_SECS: f64 = 3600.0;

/// Starts an operation in the background and returns its job id at once. Options:
/// `request_ssl` (bool, `add_domain` only, default true: false adds the alias without its
/// certificate request, for callers that request it once DNS points here); `expected_host`
/// (string, `check_dns` only and required there: `closte_check_dns($domain, $expected_host)`
/// as a job, so the checks of a burst resolve at once; no API key needed, nothing sent to
/// Closte).
#[php_function]
#[php(defaults(site_id = 0), optional = "site_id")]
pub fn closte_enqueue(
    operation: String,
    domain: BinarySlice<u8>,
    site_id: i64,
    options: Option<&ZendHashTable>,
) -> PhpResult<i64> {
    let op = EnqueueOperation::parse(&operation).ok_or_else(|| {
        argument(format!(
            "unknown operation \"{}\": expected one of {}",
            operation.escape_debug(),
            EnqueueOperation::NAMES.join(", ")
        ))
    })?;
    let options = read_enqueue_options(op, options)?;
    let op = match op {
        EnqueueOperation::Domain(op) => op,
        EnqueueOperation::CheckDns => {
            let expected = options.expected_host.unwrap_or_default();
            return enqueue_check_dns(&domain, &expected);
        }
    };
    let request_ssl = options.request_ssl;
    let domain = if op == DomainOperation::VerifyCertificate {
        // The check's own rules, before anything runs: no wildcard, a usable CA file.
        let name = check_name(&domain)?;
        certificate_check_settings()?;
        name
    } else {
        DomainName::parse_bytes(&domain).or_throw()?
    };
    let Call {
        settings,
        handle,
        client,
    } = prepare()?;
    let domain = domain.refuse_api_host(&settings.api_url).or_throw()?;
    let name = domain.as_str().to_string();
    let site = op.takes_site_id().then_some(site_id);
    let id = JOBS.submit(
        &handle,
        settings.concurrency,
        op.operation(),
        name,
        site,
        async move {
            match op {
                DomainOperation::Add => client.add_domain_with(&domain, request_ssl).await,
                _ => client.run(op, &domain).await,
            }
        },
    );
    Ok(id as i64)
}

/// `closte_check_dns` as a job: both names checked as it checks them (valid, no wildcard) and
/// the settings read before anything starts; no API key, as nothing is sent to Closte.
fn enqueue_check_dns(domain: &[u8], expected_host: &[u8]) -> PhpResult<i64> {
    let name = check_name(domain)?;
    let expected = check_name(expected_host)?;
    let settings = call::settings()?;
    let (handle, _) = runtime::acquire(&settings).or_throw()?;
    COUNTERS.operation();
    let checks = CheckSettings::from(&settings);
    let id = JOBS.submit(
        &handle,
        settings.concurrency,
        Operation::CheckDns,
        name.as_str().to_string(),
        None,
        async move { net::check_dns(&checks, &name, &expected).await },
    );
    Ok(id as i64)
}

/// `closte_enqueue`'s options, checked by closte-core's rules (enqueue.rs): anything wrong is a
/// code-4 error before any request.
fn read_enqueue_options(
    op: EnqueueOperation,
    options: Option<&ZendHashTable>,
) -> PhpResult<EnqueueOptions> {
    let read = match options {
        None => EnqueueOptions::read(op, std::iter::empty()),
        Some(options) => EnqueueOptions::read(
            op,
            options.iter().map(|(key, value)| {
                let value = if let Some(flag) = value.bool() {
                    OptionValue::Bool(flag)
                } else if let Some(bytes) = value.zend_str().map(|s| s.as_bytes()) {
                    OptionValue::String(bytes)
                } else {
                    OptionValue::Other
                };
                (key.to_string(), value)
            }),
        ),
    };
    read.map_err(argument)
}

/// Waits up to `$timeout` seconds for the given jobs (all of this process's jobs when empty)
/// and returns their results keyed by job id; unfinished ones have `state` "pending".
#[php_function]
#[php(defaults(job_ids = Vec::<i64>::new(), timeout = 30.0))]
pub fn closte_wait(job_ids: Vec<i64>, timeout: f64) -> PhpResult<ZBox<ZendHashTable>> {
    if !timeout.is_finite() || !(0.0..=MAX_WAIT_SECS).contains(&timeout) {
        return Err(argument(format!(
            "timeout must be from 0 to {MAX_WAIT_SECS} seconds, got {timeout}"
        )));
    }
    let ids = if job_ids.is_empty() {
        None
    } else {
        Some(job_ids.iter().map(|id| (*id).max(0) as u64).collect())
    };
    let timeout = Duration::from_secs_f64(timeout);
    let statuses = match runtime::existing_handle() {
        Some(handle) => handle.block_on(JOBS.wait(ids, timeout)),
        // No runtime in this process: no job can be running; report what the table holds.
        None => JOBS.collect_now(ids),
    };
    let mut results = ZendHashTable::new();
    for (id, status) in statuses {
        let mut array = match status {
            JobStatus::Finished { outcome, site_id } => outcome_array(&outcome, site_id)?,
            JobStatus::Pending {
                operation,
                domain,
                site_id,
                elapsed,
            } => job_placeholder_array(Some(operation), Some(&domain), site_id, Some(elapsed))?,
            JobStatus::Unknown => job_placeholder_array(None, None, None, None)?,
        };
        array.insert("job_id", id as i64)?;
        results.insert_at_index(id as i64, array)?;
    }
    Ok(results)
}

/// Jobs started and not finished yet.
#[php_function]
pub fn closte_pending() -> i64 {
    JOBS.pending() as i64
}

/// The drain deadline of the last request, in ms, for MSHUTDOWN (INI may be gone by then).
static LAST_DRAIN_MS: AtomicU64 = AtomicU64::new(5000);

/// RSHUTDOWN: give unfinished jobs `closte.drain_timeout`, then log what is left so it can be
/// re-queued. Never panics into the engine.
pub extern "C" fn request_shutdown(_type: i32, _module_number: i32) -> i32 {
    let _ = std::panic::catch_unwind(|| {
        let timeout = ini::drain_timeout();
        LAST_DRAIN_MS.store(timeout.as_millis() as u64, Ordering::Relaxed);
        drain_and_log(timeout);
    });
    0
}

/// MSHUTDOWN: the same drain for anything started after the last request ended, then release
/// the runtime's threads.
pub extern "C" fn module_shutdown(_type: i32, _module_number: i32) -> i32 {
    let _ = std::panic::catch_unwind(|| {
        drain_and_log(Duration::from_millis(LAST_DRAIN_MS.load(Ordering::Relaxed)));
        runtime::shutdown();
    });
    0
}

fn drain_and_log(timeout: Duration) {
    for leftover in JOBS.drain(runtime::existing_handle().as_ref(), timeout) {
        engine::log_error(&describe_leftover(&leftover, timeout));
    }
}

fn describe_leftover(leftover: &Leftover, timeout: Duration) -> String {
    let site = leftover
        .site_id
        .map(|s| format!(" (site {s})"))
        .unwrap_or_default();
    match &leftover.outcome {
        None => format!(
            "closte: {} {}{} (job {}) was not finished when the request ended ({:.1} s drain): aborted, re-queue it",
            leftover.operation.as_str(),
            leftover.domain,
            site,
            leftover.id,
            timeout.as_secs_f64()
        ),
        Some(outcome) => format!(
            "closte: {} {}{} (job {}) failed and its result was never collected: {} {}",
            leftover.operation.as_str(),
            leftover.domain,
            site,
            leftover.id,
            outcome.error_kind().map(|k| k.as_str()).unwrap_or("unknown"),
            outcome.error().unwrap_or("")
        ),
    }
}

/// Registers this file's functions.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(closte_enqueue))
        .function(wrap_function!(closte_wait))
        .function(wrap_function!(closte_pending))
        .request_shutdown_function(request_shutdown)
        .shutdown_function(module_shutdown)
}
