//! `closte-core`: the engine-free part of the closte PHP extension. Nothing here knows the Zend
//! engine (the crate does not depend on ext-php-rs), so all of it builds and tests with plain
//! `cargo test -p closte-core`. The PHP binding layer is the `closte` package (the
//! repository's top level: src/, build.rs).
//!
//! - `domain`: `DomainName`, validated and normalised once at the boundary;
//! - `error_kind`: the `error_kind` vocabulary (client, jobs and counters share it);
//! - `config`: `Settings` (from any key/value lookup) and `ApiKey`, which redacts itself;
//! - `client`: the Closte client API: endpoints, one request function with deadline, cap and
//!   retry, answer decoding, the failure classifier, outcomes, SSL-endpoint cache, reconcile;
//! - `transport`: the rustls configuration and counting connector of the shared HTTP client;
//! - `runtime`: the one accessor of the tokio runtime and HTTP client, with its fork rules and
//!   the list of every process-wide lock a fork must find free;
//! - `fork`: the pthread_atfork handlers that take those locks before a fork and free them in
//!   parent and child (it depends on no other module);
//! - `net`: the checks that look at a mapped domain from outside (DNS readiness, the certificate
//!   a visitor sees), with the address policy and the one resolver they share;
//! - `enqueue`: what `closte_enqueue` starts (an operation on one domain, or a DNS check) and
//!   the options each operation takes;
//! - `jobs`: the per-process table of non-blocking jobs;
//! - `stats`: process-wide counters.

pub mod client;
pub mod config;
pub mod domain;
pub mod enqueue;
pub mod error_kind;
pub mod fork;
pub mod jobs;
pub mod net;
pub mod runtime;
pub mod stats;
pub mod transport;
