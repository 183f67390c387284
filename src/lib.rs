//! `closte`: the Closte host integration for Ultimate Multisite, as a PHP extension.
//!
//! Module wiring only. Everything that does not need the Zend engine lives in the
//! `closte-core` crate (crates/closte-core), which does not depend on ext-php-rs; `php` is the
//! thin binding layer over it.

mod php;

use ext_php_rs::prelude::*;

use php::startup;

#[php_module]
#[php(startup = "startup")]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    php::build(module)
}
