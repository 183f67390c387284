//! `closte`: the Closte host integration for Ultimate Multisite, as a PHP extension.
//!
//! Module wiring only. The engine-free parts (`client`, `domain`, `config`, `runtime`, `stats`)
//! build and test without PHP; `php` is the thin binding layer.

pub mod client;
pub mod config;
pub mod domain;
pub mod runtime;
pub mod stats;
