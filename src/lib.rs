//! `closte`: the Closte host integration for Ultimate Multisite, as a PHP extension.
//!
//! Module wiring only. The engine-free parts (`client`, `domain`, `config`, `runtime`, `stats`)
//! build and test without PHP (`jobs` too); `php` is the thin binding layer.

pub mod client;
pub mod config;
pub mod domain;
pub mod jobs;
pub mod php;
pub mod runtime;
pub mod stats;
pub mod transport;

use ext_php_rs::prelude::*;

use php::startup;

#[php_module]
#[php(startup = "startup")]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    php::build(module)
}
