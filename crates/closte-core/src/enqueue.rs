//! What `closte_enqueue` starts and the options each operation takes: an operation on one
//! domain (`DomainOperation`), or `check_dns`, a DNS check against `expected_host` that sends
//! nothing to Closte (so several checks of a burst run at once instead of one after another).
//! The rules and their code-4 messages live here, once, for the binding; the PHP
//! implementation's `Api::enqueue` gives the same answers.

use crate::client::outcome::Operation;
use crate::client::DomainOperation;

/// An operation `closte_enqueue` can start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnqueueOperation {
    /// A Closte operation (or the certificate check) on one domain.
    Domain(DomainOperation),
    /// `closte_check_dns($domain, $options['expected_host'])`, as a job.
    CheckDns,
}

impl EnqueueOperation {
    /// Every name `closte_enqueue` accepts, in the order its error message lists them.
    pub const NAMES: [&'static str; 6] = [
        "add_domain",
        "remove_domain",
        "request_ssl",
        "ssl_status",
        "verify_certificate",
        "check_dns",
    ];

    pub fn parse(name: &str) -> Option<Self> {
        if name == "check_dns" {
            return Some(Self::CheckDns);
        }
        DomainOperation::parse(name).map(Self::Domain)
    }

    /// The `operation` of the job's result.
    pub fn operation(self) -> Operation {
        match self {
            Self::Domain(op) => op.operation(),
            Self::CheckDns => Operation::CheckDns,
        }
    }
}

/// An option's value as the caller passed it: its type is what the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionValue<'a> {
    Bool(bool),
    String(&'a [u8]),
    /// Anything else (int, float, array, null, object).
    Other,
}

/// `closte_enqueue`'s options once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnqueueOptions {
    /// `add_domain` only (default true): false adds the alias without its certificate request.
    pub request_ssl: bool,
    /// `check_dns` only, and required there: the host `$domain` must resolve like (raw bytes;
    /// the binding validates them as a name, no wildcard, as `closte_check_dns` does).
    pub expected_host: Option<Vec<u8>>,
}

impl EnqueueOptions {
    /// Checks `options` (key, value) for `operation`: an unknown key, an option another
    /// operation takes, a value of the wrong type or `check_dns` without `expected_host` is an
    /// error naming what was wrong (thrown with code 4 before anything starts).
    pub fn read<'a, I>(operation: EnqueueOperation, options: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = (String, OptionValue<'a>)>,
    {
        let mut read = Self {
            request_ssl: true,
            expected_host: None,
        };
        let name = operation.operation().as_str();
        for (key, value) in options {
            match key.as_str() {
                "request_ssl" => {
                    if operation != EnqueueOperation::Domain(DomainOperation::Add) {
                        return Err(format!(
                            "option \"request_ssl\" applies to add_domain only, not to {name}"
                        ));
                    }
                    let OptionValue::Bool(value) = value else {
                        return Err("option \"request_ssl\" must be a bool".to_string());
                    };
                    read.request_ssl = value;
                }
                "expected_host" => {
                    if operation != EnqueueOperation::CheckDns {
                        return Err(format!(
                            "option \"expected_host\" applies to check_dns only, not to {name}"
                        ));
                    }
                    let OptionValue::String(host) = value else {
                        return Err("option \"expected_host\" must be a string".to_string());
                    };
                    read.expected_host = Some(host.to_vec());
                }
                other => {
                    return Err(format!(
                        "unknown option \"{}\": expected request_ssl or expected_host",
                        other.escape_debug()
                    ))
                }
            }
        }
        if operation == EnqueueOperation::CheckDns && read.expected_host.is_none() {
            return Err(
                "check_dns needs the option \"expected_host\" (the host the name must resolve like)"
                    .to_string(),
            );
        }
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(
        op: &str,
        options: Vec<(&str, OptionValue<'static>)>,
    ) -> Result<EnqueueOptions, String> {
        let operation = EnqueueOperation::parse(op).expect(op);
        EnqueueOptions::read(
            operation,
            options
                .into_iter()
                .map(|(key, value)| (key.to_string(), value)),
        )
    }

    #[test]
    fn every_name_parses_to_the_operation_of_that_name_and_nothing_else_does() {
        for name in EnqueueOperation::NAMES {
            let operation = EnqueueOperation::parse(name).expect(name);
            assert_eq!(operation.operation().as_str(), name);
        }
        assert_eq!(
            EnqueueOperation::parse("check_dns"),
            Some(EnqueueOperation::CheckDns)
        );
        assert_eq!(
            EnqueueOperation::parse("add_domain"),
            Some(EnqueueOperation::Domain(DomainOperation::Add))
        );
        for name in [
            "",
            "CHECK_DNS",
            "check-dns",
            "list_domains",
            "test_connection",
        ] {
            assert_eq!(EnqueueOperation::parse(name), None, "{name}");
        }
    }

    #[test]
    fn defaults_without_options() {
        assert_eq!(
            read("add_domain", vec![]),
            Ok(EnqueueOptions {
                request_ssl: true,
                expected_host: None
            })
        );
        assert!(read("ssl_status", vec![]).unwrap().request_ssl);
    }

    #[test]
    fn request_ssl_is_a_bool_of_add_domain() {
        assert!(
            !read(
                "add_domain",
                vec![("request_ssl", OptionValue::Bool(false))]
            )
            .unwrap()
            .request_ssl
        );
        assert!(
            read("add_domain", vec![("request_ssl", OptionValue::Bool(true))])
                .unwrap()
                .request_ssl
        );
        for value in [OptionValue::String(b"no"), OptionValue::Other] {
            assert_eq!(
                read("add_domain", vec![("request_ssl", value)]),
                Err("option \"request_ssl\" must be a bool".to_string())
            );
        }
        assert_eq!(
            read("check_dns", vec![("request_ssl", OptionValue::Bool(false))]),
            Err("option \"request_ssl\" applies to add_domain only, not to check_dns".to_string())
        );
        assert_eq!(
            read(
                "remove_domain",
                vec![("request_ssl", OptionValue::Bool(false))]
            ),
            Err(
                "option \"request_ssl\" applies to add_domain only, not to remove_domain"
                    .to_string()
            )
        );
    }

    #[test]
    fn check_dns_needs_expected_host_as_a_string() {
        assert_eq!(
            read(
                "check_dns",
                vec![("expected_host", OptionValue::String(b"Main.Example"))]
            ),
            Ok(EnqueueOptions {
                request_ssl: true,
                expected_host: Some(b"Main.Example".to_vec())
            })
        );
        let missing =
            "check_dns needs the option \"expected_host\" (the host the name must resolve like)";
        assert_eq!(read("check_dns", vec![]), Err(missing.to_string()));
        for value in [OptionValue::Bool(true), OptionValue::Other] {
            assert_eq!(
                read("check_dns", vec![("expected_host", value)]),
                Err("option \"expected_host\" must be a string".to_string())
            );
        }
        assert_eq!(
            read(
                "add_domain",
                vec![("expected_host", OptionValue::String(b"main.example"))]
            ),
            Err(
                "option \"expected_host\" applies to check_dns only, not to add_domain".to_string()
            )
        );
    }

    #[test]
    fn an_unknown_option_is_named_escaped() {
        assert_eq!(
            read("add_domain", vec![("concurrency", OptionValue::Other)]),
            Err(
                "unknown option \"concurrency\": expected request_ssl or expected_host".to_string()
            )
        );
        assert_eq!(
            read("check_dns", vec![("a\"\n", OptionValue::Bool(true))]),
            Err("unknown option \"a\\\"\\n\": expected request_ssl or expected_host".to_string())
        );
    }
}
