//! The exception tree and the one mapping from core errors to it.
//!
//! Exceptions are for mistakes the caller can fix before any request is made; remote failures
//! are never thrown, they come back as result arrays. Codes are stable for callers that switch
//! on them: 1 invalid domain, 2 configuration, 3 runtime, 4 a bad argument of the call itself.
//!
//! The binding functions turn a core error into its exception with `.or_throw()?` (the orphan
//! rule forbids `From<core error> for PhpException`, so the mapping is a trait on `Result`).

use ext_php_rs::class::RegisteredClass;
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::zend::ce;

use closte_core::config::ConfigError;
use closte_core::domain::InvalidDomain;
use closte_core::runtime::StartError;

/// `Closte\Exception`: the base of every exception the extension throws.
#[php_class]
#[php(name = "Closte\\Exception")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct ClosteException;

/// `Closte\InvalidDomainException` (code 1): the domain argument is not a host name Closte can
/// serve; the message names the offending part.
#[php_class]
#[php(name = "Closte\\InvalidDomainException")]
#[php(extends(ClosteException))]
#[derive(Default)]
pub struct InvalidDomainException;

/// `Closte\ConfigurationException` (code 2): no API key, or a setting that cannot be used; the
/// message names the constant or INI setting, never the key's value.
#[php_class]
#[php(name = "Closte\\ConfigurationException")]
#[php(extends(ClosteException))]
#[derive(Default)]
pub struct ConfigurationException;

pub const CODE_INVALID_DOMAIN: i32 = 1;
pub const CODE_CONFIGURATION: i32 = 2;
pub const CODE_RUNTIME: i32 = 3;
pub const CODE_ARGUMENT: i32 = 4;

/// An error that has one exception class and code.
pub trait IntoPhpException {
    fn into_php(self) -> PhpException;
}

impl IntoPhpException for InvalidDomain {
    fn into_php(self) -> PhpException {
        invalid_domain(self.to_string())
    }
}

impl IntoPhpException for ConfigError {
    fn into_php(self) -> PhpException {
        configuration(self.to_string())
    }
}

/// The HTTP client could not be built from the settings (an unusable `closte.ca_file`): a
/// configuration error (code 2) naming the setting. The runtime's threads could not start:
/// code 3.
impl IntoPhpException for StartError {
    fn into_php(self) -> PhpException {
        match self {
            StartError::Client(_) => configuration(self.to_string()),
            StartError::Runtime(_) => runtime(self.to_string()),
        }
    }
}

/// A mistake in the call's own arguments or options: code 4.
pub struct ArgumentError(pub String);

impl IntoPhpException for ArgumentError {
    fn into_php(self) -> PhpException {
        PhpException::new(self.0, CODE_ARGUMENT, ClosteException::get_metadata().ce())
    }
}

/// A domain error that says where the name came from, e.g. `domains[3]: invalid domain ...`.
pub struct Labelled<'a>(pub &'a str, pub InvalidDomain);

impl IntoPhpException for Labelled<'_> {
    fn into_php(self) -> PhpException {
        invalid_domain(format!("{}: {}", self.0, self.1))
    }
}

/// `result.or_throw()?` in a binding function.
pub trait OrThrow<T> {
    fn or_throw(self) -> PhpResult<T>;
}

impl<T, E: IntoPhpException> OrThrow<T> for Result<T, E> {
    fn or_throw(self) -> PhpResult<T> {
        self.map_err(IntoPhpException::into_php)
    }
}

pub fn invalid_domain(message: String) -> PhpException {
    PhpException::new(
        message,
        CODE_INVALID_DOMAIN,
        InvalidDomainException::get_metadata().ce(),
    )
}

pub fn configuration(message: String) -> PhpException {
    PhpException::new(
        message,
        CODE_CONFIGURATION,
        ConfigurationException::get_metadata().ce(),
    )
}

/// The runtime failed (could not start, or a task did not finish): code 3.
pub fn runtime(message: String) -> PhpException {
    PhpException::new(message, CODE_RUNTIME, ClosteException::get_metadata().ce())
}

/// A bad argument or option: code 4.
pub fn argument(message: impl Into<String>) -> PhpException {
    ArgumentError(message.into()).into_php()
}
