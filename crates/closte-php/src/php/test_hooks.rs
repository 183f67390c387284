//! Test-only functions (cargo feature `test-hooks`, never in a release build): deliberate
//! panics, to prove that a panic surfaces as a PHP `\Error` or a failed job, and that the
//! worker goes on serving.

use ext_php_rs::prelude::*;

use closte_core::client::outcome::Outcome;
use closte_core::jobs::JOBS;
use closte_core::runtime;

use super::functions::{closte_error, settings_and_key, CODE_RUNTIME};

/// Panics in the binding layer, on the PHP thread.
#[php_function]
pub fn closte_test_panic(message: String) -> i64 {
    panic!("{message}");
}

/// Enqueues a job whose work panics on a runtime thread.
#[php_function]
pub fn closte_test_enqueue_panic(message: String) -> PhpResult<i64> {
    let (settings, _key) = settings_and_key()?;
    let (handle, _http) =
        runtime::acquire(&settings).map_err(|e| closte_error(e.to_string(), CODE_RUNTIME))?;
    let id = JOBS.submit(
        &handle,
        closte_core::client::outcome::Operation::AddDomain,
        "panic.example".to_string(),
        None,
        async move {
            if !message.is_empty() {
                panic!("{message}");
            }
            Outcome::new(closte_core::client::outcome::Operation::AddDomain, None)
        },
    );
    Ok(id as i64)
}

pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(closte_test_panic))
        .function(wrap_function!(closte_test_enqueue_panic))
}
