//! `closte_check_dns` and `closte_verify_certificate`: the checks that look at a mapped domain
//! from outside (closte_core::net). They send nothing to Closte, so they need no API key; the
//! names and every setting they use are checked first, `closte.verify_ca_file` included, so a
//! mistake throws before any lookup or connection.

use ext_php_rs::binary_slice::BinarySlice;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;

use closte_core::config::Settings;
use closte_core::domain::DomainName;
use closte_core::net::{self, verify, CheckSettings};
use closte_core::runtime;
use closte_core::stats::COUNTERS;

use super::call;
use super::convert::outcome_array;
use super::errors::OrThrow;

/// A name the checks can look up: valid, and not a wildcard.
pub fn check_name(raw: &[u8]) -> PhpResult<DomainName> {
    DomainName::parse_bytes(raw)
        .and_then(DomainName::refuse_wildcard)
        .or_throw()
}

/// The settings of the certificate check, with `closte.verify_ca_file` readable and holding a
/// certificate (the check reads it again when it runs).
pub fn certificate_check_settings() -> PhpResult<Settings> {
    let settings = call::settings()?;
    if let Some(path) = &settings.verify_ca_file {
        verify::load_ca_file(path).or_throw()?;
    }
    Ok(settings)
}

/// Whether `$domain` resolves to the addresses of `$expected_host` (the network's main host):
/// `state` dns_ready or dns_not_ready (`ok` true: both lookups answered), or failed; the
/// finding in `dns`.
#[php_function]
pub fn closte_check_dns(
    domain: BinarySlice<u8>,
    expected_host: BinarySlice<u8>,
) -> PhpResult<ZBox<ZendHashTable>> {
    let name = check_name(&domain)?;
    let expected = check_name(&expected_host)?;
    let settings = call::settings()?;
    let (handle, _) = runtime::acquire(&settings).or_throw()?;
    COUNTERS.operation();
    let checks = CheckSettings::from(&settings);
    let outcome = handle.block_on(net::check_dns(&checks, &name, &expected));
    outcome_array(&outcome, None)
}

/// The certificate a visitor of `$domain` sees (TLS handshake with SNI = the name, at the
/// public address it resolves to, port closte.tls_check_port): `ok` when it is active or
/// expiring; the finding in `certificate`.
#[php_function]
pub fn closte_verify_certificate(domain: BinarySlice<u8>) -> PhpResult<ZBox<ZendHashTable>> {
    let name = check_name(&domain)?;
    let settings = certificate_check_settings()?;
    let (handle, _) = runtime::acquire(&settings).or_throw()?;
    COUNTERS.operation();
    let checks = CheckSettings::from(&settings);
    let outcome = handle.block_on(net::verify_certificate(&checks, &name));
    outcome_array(&outcome, None)
}

pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(closte_check_dns))
        .function(wrap_function!(closte_verify_certificate))
}
