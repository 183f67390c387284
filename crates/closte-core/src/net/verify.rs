//! The certificate check's TLS side: one handshake that accepts whatever chain the server
//! presents (so that an expired or foreign certificate can still be reported), then the trust
//! decision taken separately, and the leaf's facts read with x509-parser.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::net::TcpStream;
use x509_parser::prelude::{AttributeTypeAndValue, FromDer, GeneralName, X509Certificate};

use crate::config::{keys, ConfigError};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The certificates of `closte.verify_ca_file` (extra trust anchors of the check), or the
/// configuration error every caller shows before connecting anywhere.
pub fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let refused = || {
        ConfigError(format!(
            "{} must be a readable PEM file with at least one certificate, got \"{}\"",
            keys::VERIFY_CA_FILE,
            path.display().to_string().escape_debug()
        ))
    };
    let pem = std::fs::read(path).map_err(|_| refused())?;
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|_| refused())?;
    if certificates.is_empty() {
        return Err(refused());
    }
    Ok(certificates)
}

/// The system's roots, read once per process (the operating system's store changes rarely,
/// and reading it costs more than a check).
fn native_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// Records the chain the server presents and accepts it; the handshake's signatures are still
/// verified against the leaf, so the server proved it holds the leaf's key.
#[derive(Debug)]
struct Recorder {
    chain: Mutex<Vec<CertificateDer<'static>>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self.chain.lock().unwrap_or_else(|p| p.into_inner()) = chain;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// One TLS handshake over `tcp` with SNI `name`: the presented chain (leaf first), or why no
/// handshake completed. Nothing is sent after it; the connection is dropped.
pub async fn presented_chain(
    tcp: TcpStream,
    name: &str,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let provider = provider();
    let recorder = Arc::new(Recorder {
        chain: Mutex::new(Vec::new()),
        provider: provider.clone(),
    });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let server_name = ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = connector
        .connect(server_name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    drop(stream);
    let chain = std::mem::take(&mut *recorder.chain.lock().unwrap_or_else(|p| p.into_inner()));
    if chain.is_empty() {
        return Err("the server presented no certificate".to_string());
    }
    Ok(chain)
}

/// Whether `chain` (leaf first) verifies to the system roots plus `extra_roots` for a TLS
/// server at `now`, the name aside: a certificate for another name is reported as a name
/// mismatch, not as untrusted.
pub fn is_trusted(
    chain: &[CertificateDer<'static>],
    name: &str,
    extra_roots: &[CertificateDer<'static>],
    now: UnixTime,
) -> bool {
    let Some((leaf, intermediates)) = chain.split_first() else {
        return false;
    };
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(native_roots().iter().cloned());
    roots.add_parsable_certificates(extra_roots.iter().cloned());
    let Ok(verifier) =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider()).build()
    else {
        return false;
    };
    let Ok(server_name) = ServerName::try_from(name.to_string()) else {
        return false;
    };
    match verifier.verify_server_cert(leaf, intermediates, &server_name, &[], now) {
        Ok(_) => true,
        Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => true,
        Err(_) => false,
    }
}

/// What the leaf says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// subjectAltName DNS names, in certificate order.
    pub names: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
    pub issuer: Option<String>,
    pub issuer_organization: Option<String>,
    pub subject: Option<String>,
    /// Lowercase hex SHA-256 of the DER.
    pub fingerprint: String,
}

/// Reads the leaf's names, validity, issuer and subject.
pub fn parse_leaf(der: &[u8]) -> Result<Leaf, String> {
    let (_, certificate) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let names = match certificate.subject_alternative_name() {
        Ok(Some(extension)) => extension
            .value
            .general_names
            .iter()
            .filter_map(|general| match general {
                GeneralName::DNSName(name) => Some(name.to_string()),
                _ => None,
            })
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => return Err(e.to_string()),
    };
    fn first<'a>(
        mut values: impl Iterator<Item = &'a AttributeTypeAndValue<'a>>,
    ) -> Option<String> {
        values
            .next()
            .and_then(|value| value.as_str().ok())
            .map(str::to_string)
    }
    let validity = certificate.validity();
    Ok(Leaf {
        names,
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        issuer: first(certificate.issuer().iter_common_name()),
        issuer_organization: first(certificate.issuer().iter_organization()),
        subject: first(certificate.subject().iter_common_name()),
        fingerprint: hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_lowercase_hex_of_every_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
    }

    #[test]
    fn the_ca_file_must_hold_a_pem_certificate() {
        let dir = std::env::temp_dir().join(format!("closte-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let message = |path: &Path| load_ca_file(path).unwrap_err().0;
        assert_eq!(
            message(&empty),
            format!(
                "closte.verify_ca_file must be a readable PEM file with at least one certificate, got \"{}\"",
                empty.display()
            )
        );
        let missing = dir.join("missing.pem");
        assert!(message(&missing).ends_with(&format!("got \"{}\"", missing.display())));
        let broken = dir.join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        assert!(load_ca_file(&broken).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nothing_is_trusted_without_a_chain_or_with_garbage() {
        let now = UnixTime::now();
        assert!(!is_trusted(&[], "a.test", &[], now));
        let garbage = vec![CertificateDer::from(vec![1u8, 2, 3])];
        assert!(!is_trusted(&garbage, "a.test", &garbage, now));
        assert!(parse_leaf(&[1, 2, 3]).is_err());
    }
}
