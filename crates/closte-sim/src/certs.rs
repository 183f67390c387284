//! The certificates behind the TLS front door: a test CA (generated at start, or given by file)
//! with an intermediate "Closte Sim R1" that signs every trusted leaf, a second CA that is never
//! published (for `untrusted`), and the leaves themselves with what a client will read from them.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use ring::rand::SecureRandom;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{json, Value};

/// The name of the certificate served for an SNI name the simulator holds nothing for (and for
/// a ClientHello without SNI), like a real server's default virtual host.
pub const DEFAULT_NAME: &str = "default.closte-sim.invalid";
/// The SAN of `wrong_name` certificates unless the test gives `names`.
pub const WRONG_NAME: &str = "other.closte-sim.invalid";
const DAY: i64 = 86_400;
/// Issued certificates start an hour in the past (clock skew) and last 90 days, as Let's Encrypt's.
const ISSUED_DAYS: i64 = 90;

/// The first value of a name attribute (e.g. the issuer's CN) as text.
fn first<'a>(
    mut values: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>,
) -> Option<String> {
    values
        .next()
        .and_then(|v| v.as_str().ok())
        .map(str::to_string)
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A certificate chain and key the front door can serve, with the facts a client reads from the
/// leaf (parsed back from the DER, so they are what is served, not what was asked for).
pub struct Leaf {
    pub names: Vec<String>,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub issuer_organization: Option<String>,
    pub not_before: i64,
    pub not_after: i64,
    pub fingerprint: String,
    /// `issued` (by the simulated Closte), `installed` (by a test) or `default`.
    pub source: &'static str,
    /// What kind a test asked for (`valid`, `expiring`, ..., `pem`), null for issued/default.
    pub kind: Option<String>,
    pub config: Arc<rustls::ServerConfig>,
}

impl Leaf {
    fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        source: &'static str,
        kind: Option<String>,
    ) -> Result<Leaf, String> {
        let leaf_der = chain.first().ok_or("no certificate")?.clone();
        let (_, x509) = x509_parser::parse_x509_certificate(&leaf_der)
            .map_err(|e| format!("the certificate does not parse: {e}"))?;
        let names = match x509.subject_alternative_name() {
            Ok(Some(san)) => san
                .value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    x509_parser::extensions::GeneralName::DNSName(dns) => Some(dns.to_string()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let issuer = x509.issuer();
        let facts = (
            first(x509.subject().iter_common_name()),
            first(issuer.iter_common_name()),
            first(issuer.iter_organization()),
            x509.validity().not_before.timestamp(),
            x509.validity().not_after.timestamp(),
        );
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("the certificate and key do not make a server identity: {e}"))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, &leaf_der);
        Ok(Leaf {
            names,
            subject: facts.0,
            issuer: facts.1,
            issuer_organization: facts.2,
            not_before: facts.3,
            not_after: facts.4,
            fingerprint: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
            source,
            kind,
            config: Arc::new(config),
        })
    }

    /// A certificate a test made: PEM chain (leaf first) and its PKCS#8, PKCS#1 or SEC1 key.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Leaf, String> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("cert_pem: {e}"))?;
        if chain.is_empty() {
            return Err("cert_pem: no CERTIFICATE block".into());
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| format!("key_pem: {e}"))?;
        Leaf::new(chain, key, "installed", Some("pem".into()))
    }

    pub fn facts(&self) -> Value {
        json!({
            "names": self.names,
            "subject": self.subject,
            "issuer": self.issuer,
            "issuer_organization": self.issuer_organization,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "fingerprint": self.fingerprint,
            "source": self.source,
            "kind": self.kind,
        })
    }
}

/// A certificate a test asks for by kind (`POST /__sim/certificates`).
pub struct Request {
    pub kind: String,
    pub days_left: Option<i64>,
    pub names: Option<Vec<String>>,
}

/// The CAs: `root` is what `/__sim/ca.pem` publishes, `r1` signs trusted leaves,
/// `untrusted` signs the `untrusted` kind and is published nowhere.
pub struct Authority {
    root_pem: String,
    r1: Issuer<'static, KeyPair>,
    r1_der: CertificateDer<'static>,
    untrusted: Issuer<'static, KeyPair>,
}

fn dn(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, "closte-sim");
    name
}

fn at(unix: i64) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::from_unix_timestamp(unix).map_err(|e| format!("date out of range: {e}"))
}

fn serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    // A positive INTEGER of at most 20 octets.
    bytes[0] &= 0x7f;
    SerialNumber::from_slice(&bytes)
}

fn ca_params(common_name: &str, now: i64) -> Result<CertificateParams, String> {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    // Valid long before any expired leaf a test makes, and for ten years.
    params.not_before = at(now - 3650 * DAY)?;
    params.not_after = at(now + 3650 * DAY)?;
    params.serial_number = Some(serial());
    Ok(params)
}

impl Authority {
    /// A fresh root ("Closte Sim Test Root"), or the root in `given` (certificate PEM, key PEM);
    /// the intermediate R1 and the unpublished CA are always made at start.
    pub fn new(given: Option<(String, String)>) -> Result<Authority, String> {
        let now = unix_now();
        let e = |what: &'static str| move |err: rcgen::Error| format!("{what}: {err}");
        let (root_pem, root) = match given {
            Some((cert_pem, key_pem)) => {
                let key = KeyPair::from_pem(&key_pem).map_err(e("--test-ca-key"))?;
                let issuer =
                    Issuer::from_ca_cert_pem(&cert_pem, key).map_err(e("--test-ca-cert"))?;
                (cert_pem, issuer)
            }
            None => {
                let key = KeyPair::generate().map_err(e("test CA key"))?;
                let params = ca_params("Closte Sim Test Root", now)?;
                let cert = params.self_signed(&key).map_err(e("test CA"))?;
                (cert.pem(), Issuer::new(params, key))
            }
        };
        let r1_key = KeyPair::generate().map_err(e("R1 key"))?;
        let mut r1_params = ca_params("Closte Sim R1", now)?;
        r1_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        r1_params.use_authority_key_identifier_extension = true;
        let r1_cert = r1_params.signed_by(&r1_key, &root).map_err(e("R1"))?;
        let untrusted_key = KeyPair::generate().map_err(e("untrusted CA key"))?;
        let untrusted_params = ca_params("Closte Sim Untrusted CA", now)?;
        Ok(Authority {
            root_pem,
            r1: Issuer::new(r1_params, r1_key),
            r1_der: r1_cert.der().clone(),
            untrusted: Issuer::new(untrusted_params, untrusted_key),
        })
    }

    /// The PEM of the root a client must trust (`GET /__sim/ca.pem`, `--test-ca-out`).
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// A leaf for `names`, valid from `not_before` to `not_after` (Unix s), signed by R1 (chain
    /// leaf + R1, as a server sends it) or by the unpublished CA (chain: the leaf alone).
    fn leaf(
        &self,
        names: &[String],
        not_before: i64,
        not_after: i64,
        trusted: bool,
        source: &'static str,
        kind: Option<String>,
    ) -> Result<Leaf, String> {
        let mut params =
            CertificateParams::new(names.to_vec()).map_err(|err| format!("names: {err}"))?;
        let mut subject = DistinguishedName::new();
        if let Some(first) = names.first() {
            subject.push(DnType::CommonName, first.as_str());
        }
        params.distinguished_name = subject;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = at(not_before)?;
        params.not_after = at(not_after)?;
        params.serial_number = Some(serial());
        let key = KeyPair::generate().map_err(|err| format!("leaf key: {err}"))?;
        let issuer = if trusted { &self.r1 } else { &self.untrusted };
        let cert = params
            .signed_by(&key, issuer)
            .map_err(|err| format!("leaf: {err}"))?;
        let mut chain = vec![cert.der().clone()];
        if trusted {
            chain.push(self.r1_der.clone());
        }
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Leaf::new(chain, key, source, kind)
    }

    /// What the simulated Closte issues for `name` now: SAN [name], 90 days from an hour ago.
    pub fn issue(&self, name: &str) -> Result<Leaf, String> {
        let from = unix_now() - 3600;
        self.leaf(
            &[name.to_string()],
            from,
            from + ISSUED_DAYS * DAY,
            true,
            "issued",
            None,
        )
    }

    /// The default virtual host's certificate (`default.closte-sim.invalid`).
    pub fn default_leaf(&self) -> Result<Leaf, String> {
        let mut leaf = self.issue(DEFAULT_NAME)?;
        leaf.source = "default";
        Ok(leaf)
    }

    /// A certificate of a kind for `name`. `days_left` sets notAfter to now + N days + 1 hour,
    /// so a check within the hour computes exactly N whole days left.
    pub fn make(&self, name: &str, request: &Request) -> Result<Leaf, String> {
        let now = unix_now();
        let issued_days_left = ISSUED_DAYS - 1;
        let (default_days, range): (i64, (i64, i64)) = match request.kind.as_str() {
            "valid" | "wrong_name" | "untrusted" => (issued_days_left, (15, 3650)),
            "expiring" => (10, (0, 14)),
            "expired" => (-1, (-3000, -1)),
            "not_yet_valid" => (issued_days_left + 2, (2, 3650)),
            other => {
                return Err(format!(
                    "kind \"{other}\": one of valid, expiring, expired, not_yet_valid, wrong_name, untrusted (or cert_pem + key_pem)"
                ))
            }
        };
        let days_left = request.days_left.unwrap_or(default_days);
        if !(range.0..=range.1).contains(&days_left) {
            return Err(format!(
                "days_left {days_left} does not fit kind {}: {}..={}",
                request.kind, range.0, range.1
            ));
        }
        let like_issued = matches!(request.kind.as_str(), "valid" | "wrong_name" | "untrusted");
        let not_after = if request.days_left.is_none() && like_issued {
            // The same dates as an issued certificate unless the test asks otherwise.
            now - 3600 + ISSUED_DAYS * DAY
        } else {
            now + days_left * DAY + 3600
        };
        let not_before = if request.kind == "not_yet_valid" {
            now + DAY
        } else {
            (now - 3600).min(not_after - ISSUED_DAYS * DAY)
        };
        let names = match (&request.names, request.kind.as_str()) {
            (Some(names), _) => names.clone(),
            (None, "wrong_name") => vec![WRONG_NAME.to_string()],
            (None, _) => vec![name.to_string()],
        };
        if names.is_empty() || names.len() > 100 {
            return Err("names: 1 to 100 names".into());
        }
        self.leaf(
            &names,
            not_before,
            not_after,
            request.kind != "untrusted",
            "installed",
            Some(request.kind.clone()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_left_is_exact_for_a_check_within_the_hour() {
        let authority = Authority::new(None).unwrap();
        let leaf = authority
            .make(
                "shop.example.com",
                &Request {
                    kind: "expiring".into(),
                    days_left: Some(12),
                    names: None,
                },
            )
            .unwrap();
        assert_eq!((leaf.not_after - unix_now()).div_euclid(DAY), 12);
        assert_eq!(leaf.names, ["shop.example.com"]);
        assert_eq!(leaf.issuer.as_deref(), Some("Closte Sim R1"));
        let expired = authority
            .make(
                "shop.example.com",
                &Request {
                    kind: "expired".into(),
                    days_left: Some(-3),
                    names: None,
                },
            )
            .unwrap();
        assert_eq!((expired.not_after - unix_now()).div_euclid(DAY), -3);
        assert!(expired.not_before < expired.not_after);
    }

    #[test]
    fn a_kind_refuses_days_left_that_contradict_it() {
        let authority = Authority::new(None).unwrap();
        for (kind, days) in [("expiring", 30), ("expired", 0), ("valid", 3)] {
            let request = Request {
                kind: kind.into(),
                days_left: Some(days),
                names: None,
            };
            assert!(authority.make("a.example.com", &request).is_err(), "{kind}");
        }
    }
}
