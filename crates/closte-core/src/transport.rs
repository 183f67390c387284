//! How the shared HTTP client connects: our own rustls configuration (ring provider, the
//! platform's roots plus `closte.ca_file`, full certificate verification) and counters of the
//! connections and TLS handshakes it makes, so `closte_stats()` can show that one keep-alive
//! pool serves every call of a worker.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::stats::COUNTERS;

/// The TLS configuration of the client: ring, TLS 1.2/1.3, the platform verifier (system roots
/// plus `extra_ca_pem`), wrapped so that each full handshake is counted.
pub fn tls_config(extra_ca_pem: Option<&[u8]>) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = match extra_ca_pem {
        None => rustls_platform_verifier::Verifier::new(provider.clone()),
        Some(pem) => {
            let roots: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("not a PEM certificate bundle: {e}"))?;
            if roots.is_empty() {
                return Err("no PEM certificate in the file".to_string());
            }
            rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider.clone())
        }
    }
    .map_err(|e| e.to_string())?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(CountingVerifier(verifier)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Delegates every check to the platform verifier, unchanged, and counts certificate
/// verifications, i.e. full TLS handshakes. Why a verifier and not the connector (which counts
/// connections): only rustls knows whether a handshake was full or resumed, and a resumed
/// session skips certificate verification, so this is the one place that sees exactly the
/// full handshakes `closte_stats()['tls_handshakes']` reports (the benchmark's proof that one
/// worker makes one). `dangerous()` is only rustls' way to install a custom verifier: every
/// decision below is the platform verifier's own.
#[derive(Debug)]
struct CountingVerifier(rustls_platform_verifier::Verifier);

impl ServerCertVerifier for CountingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        COUNTERS.tls_handshake();
        self.0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A connector layer that counts the connections the pool opens.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountConnections;

impl<S> tower_layer::Layer<S> for CountConnections {
    type Service = CountingConnector<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CountingConnector(inner)
    }
}

#[derive(Clone, Debug)]
pub struct CountingConnector<S>(S);

impl<S, Request> tower_service::Service<Request> for CountingConnector<S>
where
    S: tower_service::Service<Request>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let connecting = self.0.call(request);
        Box::pin(async move {
            let connection = connecting.await?;
            COUNTERS.connection();
            Ok(connection)
        })
    }
}
