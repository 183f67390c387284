//! Test-only functions (cargo feature `test-hooks`, never in a release build): deliberate
//! panics, to prove that a panic surfaces as a PHP `\Error` or a failed job, and that the
//! worker goes on serving.

use ext_php_rs::prelude::*;

use closte_core::client::outcome::Outcome;
use closte_core::jobs::JOBS;

use super::call::{prepare, Call};

/// Panics in the binding layer, on the PHP thread.
#[php_function]
pub fn closte_test_panic(message: String) -> i64 {
    panic!("{message}");
}

/// Enqueues a job whose work panics on a runtime thread.
#[php_function]
pub fn closte_test_enqueue_panic(message: String) -> PhpResult<i64> {
    let Call { handle, .. } = prepare()?;
    let id = JOBS.submit(
        &handle,
        1,
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
