//! Each Closte client-API endpoint as a small type (docs/closte-api.md).

use crate::domain::DomainName;

/// How a request carries its fields. Closte reads `apikey` from the form body of a POST and from
/// the query string of a GET.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One Closte endpoint: where it lives and which fields it sends (besides `apikey`).
pub trait Endpoint {
    fn method(&self) -> Method {
        Method::Post
    }
    fn path(&self) -> &str;
    fn fields(&self) -> Vec<(&'static str, String)>;
}

/// Closte's `wildcard` field: "1" for `*.` names, "0" otherwise.
fn wildcard_flag(domain: &DomainName) -> String {
    if domain.is_wildcard() { "1" } else { "0" }.to_string()
}

/// `POST /adddomainalias`.
pub struct AddDomainAlias<'a>(pub &'a DomainName);

impl Endpoint for AddDomainAlias<'_> {
    fn path(&self) -> &str {
        "/adddomainalias"
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("domain", self.0.as_str().to_string()),
            ("wildcard", wildcard_flag(self.0)),
        ]
    }
}

/// `POST /deletedomainalias`.
pub struct DeleteDomainAlias<'a>(pub &'a DomainName);

impl Endpoint for DeleteDomainAlias<'_> {
    fn path(&self) -> &str {
        "/deletedomainalias"
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("domain", self.0.as_str().to_string()),
            ("wildcard", wildcard_flag(self.0)),
        ]
    }
}

/// `POST /adddomainalias` with an empty domain: a valid key gets exactly
/// `Invalid or empty domain: ` back and nothing changes on Closte. The stock integration uses
/// the same probe, so it is known to be harmless.
pub struct ConnectionProbe;

impl Endpoint for ConnectionProbe {
    fn path(&self) -> &str {
        "/adddomainalias"
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![("domain", String::new()), ("wildcard", "0".to_string())]
    }
}

/// `GET /getdomains`: the aliases the app holds.
pub struct GetDomains;

impl Endpoint for GetDomains {
    fn method(&self) -> Method {
        Method::Get
    }
    fn path(&self) -> &str {
        "/getdomains"
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

/// The SSL endpoints the stock integration tries, in its order. No public source confirms any
/// of them; the first that exists (not 404/405) is remembered per process.
pub const SSL_ENDPOINT_CANDIDATES: [&str; 4] = [
    "/ssl/install",
    "/installssl",
    "/ssl",
    "/certificate/install",
];

/// `POST <ssl endpoint>` with `type=letsencrypt`.
pub struct InstallSsl<'a> {
    pub path: &'a str,
    pub domain: &'a DomainName,
}

impl Endpoint for InstallSsl<'_> {
    fn path(&self) -> &str {
        self.path
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("domain", self.domain.as_str().to_string()),
            ("type", "letsencrypt".to_string()),
        ]
    }
}

/// `POST /ssl/status`.
pub struct SslStatus<'a>(pub &'a DomainName);

impl Endpoint for SslStatus<'_> {
    fn path(&self) -> &str {
        "/ssl/status"
    }
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![("domain", self.0.as_str().to_string())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_carry_the_wildcard_flag() {
        let wild = DomainName::parse("*.Example.com").unwrap();
        let plain = DomainName::parse("example.com").unwrap();
        assert_eq!(
            AddDomainAlias(&wild).fields(),
            vec![("domain", "*.example.com".into()), ("wildcard", "1".into())]
        );
        assert_eq!(
            DeleteDomainAlias(&plain).fields(),
            vec![("domain", "example.com".into()), ("wildcard", "0".into())]
        );
        assert_eq!(GetDomains.method(), Method::Get);
        assert_eq!(ConnectionProbe.fields()[0], ("domain", String::new()));
        let ssl = InstallSsl {
            path: SSL_ENDPOINT_CANDIDATES[1],
            domain: &plain,
        };
        assert_eq!(ssl.path(), "/installssl");
        assert_eq!(ssl.fields()[1], ("type", "letsencrypt".into()));
    }
}
