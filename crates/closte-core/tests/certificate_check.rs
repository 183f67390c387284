//! `net::verify_certificate` against real TLS servers made here on loopback: certificates from
//! a test CA (rcgen), a rustls server per certificate, names pointed at 127.0.0.x through
//! `closte.resolve`. What is checked is what a visitor would see.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use closte_core::client::error::ErrorKind;
use closte_core::client::outcome::{Outcome, State};
use closte_core::domain::DomainName;
use closte_core::net::certificate::Status;
use closte_core::net::dns::{Overrides, Source};
use closte_core::net::{self, verify, CheckSettings};
use rcgen::{date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "closte tests");
    let pem = params.self_signed(&key).unwrap().pem();
    Ca {
        issuer: Issuer::new(params, key),
        pem,
    }
}

/// A leaf for `names`, valid from `from` to `until` (years), signed by `ca`.
fn leaf(ca: &Ca, names: &[&str], from: i32, until: i32) -> (CertificateDer<'static>, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.not_before = date_time_ymd(from, 1, 1);
    params.not_after = date_time_ymd(until, 1, 1);
    let certificate = params.signed_by(&key, &ca.issuer).unwrap();
    (certificate.der().clone(), key)
}

/// A TLS server on 127.0.0.1 presenting `certificate`; counts the connections it accepts.
async fn tls_server(certificate: CertificateDer<'static>, key: KeyPair) -> (u16, Arc<AtomicUsize>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![certificate],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    (port, accepted)
}

/// A PEM file in the temporary directory, deleted when the value is dropped (at the end of the
/// statement or test that holds it), so that `make test` leaves none behind.
struct TempPem(PathBuf);

impl TempPem {
    fn path(&self) -> PathBuf {
        self.0.clone()
    }
}

impl Drop for TempPem {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn write_pem(label: &str, pem: &str) -> TempPem {
    let path =
        std::env::temp_dir().join(format!("closte-check-{}-{label}.pem", std::process::id()));
    std::fs::write(&path, pem).unwrap();
    TempPem(path)
}

fn settings(resolve: &str, port: u16, allow_private: bool, ca_file: PathBuf) -> CheckSettings {
    CheckSettings {
        resolve: Overrides::parse(resolve).unwrap(),
        allow_private_targets: allow_private,
        tls_check_port: port,
        verify_ca_file: Some(ca_file),
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
    }
}

fn shop() -> DomainName {
    DomainName::parse("Shop.Test").unwrap()
}

async fn verify(settings: &CheckSettings) -> Outcome {
    net::verify_certificate(settings, &shop()).await
}

#[tokio::test]
async fn a_trusted_certificate_for_the_name_within_its_validity_is_active() {
    let ca = ca("Closte Test R1");
    let (certificate, key) = leaf(&ca, &["shop.test", "www.shop.test"], 2020, 2090);
    let fingerprint_source = certificate.clone();
    let (port, accepted) = tls_server(certificate, key).await;
    let ca_file = write_pem("active", &ca.pem);
    let outcome = verify(&settings("shop.test=127.0.0.1", port, true, ca_file.path())).await;
    let found = outcome.certificate().expect("a certificate finding");
    assert_eq!(found.status, Status::Active, "{}", found.detail);
    assert!(outcome.ok());
    assert_eq!(outcome.state(), State::Verified);
    assert_eq!(outcome.error(), None);
    assert_eq!(outcome.attempts(), 1);
    assert_eq!(outcome.domain(), Some("shop.test"));
    assert_eq!(found.address, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(found.port, port);
    assert_eq!(found.names, ["shop.test", "www.shop.test"]);
    assert_eq!(found.issuer.as_deref(), Some("Closte Test R1"));
    assert_eq!(found.issuer_organization.as_deref(), Some("closte tests"));
    assert_eq!(found.subject.as_deref(), Some("shop.test"));
    assert_eq!(found.not_before, Some(1_577_836_800));
    assert_eq!(found.not_after, Some(3_786_912_000));
    let now = found.checked_at;
    assert_eq!(
        found.days_left,
        Some((3_786_912_000 - now).div_euclid(86_400))
    );
    let digest = ring::digest::digest(&ring::digest::SHA256, fingerprint_source.as_ref());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(found.fingerprint.as_deref(), Some(hex.as_str()));
    assert!(
        found
            .detail
            .starts_with("certificate of shop.test (issuer Closte Test R1) expires on 2090-01-01"),
        "{}",
        found.detail
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection");
}

#[tokio::test]
async fn an_expired_certificate_fails_as_tls_and_is_not_retryable() {
    let ca = ca("Closte Test R1");
    let (certificate, key) = leaf(&ca, &["shop.test"], 2020, 2021);
    let (port, _) = tls_server(certificate, key).await;
    let outcome = verify(&settings(
        "shop.test=127.0.0.1",
        port,
        true,
        write_pem("expired", &ca.pem).path(),
    ))
    .await;
    let found = outcome.certificate().unwrap();
    assert_eq!(found.status, Status::Expired);
    assert!(!outcome.ok());
    assert_eq!(outcome.state(), State::Verified);
    assert_eq!(outcome.error_kind(), Some(ErrorKind::Tls));
    assert!(!outcome.retryable());
    assert_eq!(outcome.error(), Some(found.detail.as_str()));
    assert_eq!(
        found.detail,
        "certificate of shop.test (issuer Closte Test R1) expired on 2021-01-01"
    );
    assert!(found.days_left.unwrap() < -365);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_name_mismatch() {
    let ca = ca("Closte Test R1");
    let (certificate, key) = leaf(&ca, &["default.closte-sim.invalid"], 2020, 2090);
    // Trust ignores the name: the chain of another name's certificate still verifies.
    let anchors = vec![CertificateDer::from_pem_slice(ca.pem.as_bytes()).unwrap()];
    let now = rustls::pki_types::UnixTime::now();
    let chain = [certificate.clone()];
    assert!(verify::is_trusted(&chain, "shop.test", &anchors, now));
    assert!(!verify::is_trusted(&chain, "shop.test", &[], now));
    let (port, _) = tls_server(certificate, key).await;
    let outcome = verify(&settings(
        "shop.test=127.0.0.1",
        port,
        true,
        write_pem("mismatch", &ca.pem).path(),
    ))
    .await;
    let found = outcome.certificate().unwrap();
    assert_eq!(found.status, Status::NameMismatch);
    assert_eq!(outcome.error_kind(), Some(ErrorKind::Tls));
    assert_eq!(outcome.state(), State::Verified);
    assert_eq!(found.names, ["default.closte-sim.invalid"]);
    assert_eq!(
        found.detail,
        "the certificate names default.closte-sim.invalid, not shop.test"
    );
}

#[tokio::test]
async fn a_certificate_from_a_ca_nobody_trusts_is_untrusted() {
    let published = ca("Closte Test R1");
    let other = ca("Somebody Else");
    let (certificate, key) = leaf(&other, &["shop.test"], 2020, 2090);
    let (port, _) = tls_server(certificate, key).await;
    let outcome = verify(&settings(
        "shop.test=127.0.0.1",
        port,
        true,
        write_pem("untrusted", &published.pem).path(),
    ))
    .await;
    let found = outcome.certificate().unwrap();
    assert_eq!(found.status, Status::Untrusted, "{}", found.detail);
    assert_eq!(found.issuer.as_deref(), Some("Somebody Else"));
    assert_eq!(outcome.error_kind(), Some(ErrorKind::Tls));
    assert!(!outcome.ok());
}

#[tokio::test]
async fn loopback_is_refused_without_allow_private_targets_and_nothing_connects() {
    let ca = ca("Closte Test R1");
    let (certificate, key) = leaf(&ca, &["shop.test"], 2020, 2090);
    let (port, accepted) = tls_server(certificate, key).await;
    let outcome = verify(&settings(
        "shop.test=127.0.0.1,10.1.2.3",
        port,
        false,
        write_pem("refused", &ca.pem).path(),
    ))
    .await;
    let found = outcome.certificate().unwrap();
    assert_eq!(found.status, Status::RefusedAddress);
    assert_eq!(found.address, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(outcome.state(), State::Failed);
    assert_eq!(outcome.error_kind(), Some(ErrorKind::InvalidDomain));
    assert!(!outcome.retryable());
    assert_eq!(outcome.attempts(), 0);
    assert_eq!(
        outcome.error(),
        Some("shop.test resolves to 127.0.0.1 (loopback): not connected")
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "no connection was made");
}

#[tokio::test]
async fn a_closed_port_is_unreachable_and_retryable_and_each_address_is_tried_in_order() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let ca = ca("Closte Test R1");
    let ca_file = write_pem("closed", &ca.pem);
    let outcome = verify(&settings("shop.test=127.0.0.1", port, true, ca_file.path())).await;
    let found = outcome.certificate().unwrap();
    assert_eq!(found.status, Status::Unreachable);
    assert_eq!(outcome.state(), State::Failed);
    assert_eq!(outcome.error_kind(), Some(ErrorKind::Network));
    assert!(outcome.retryable());
    assert_eq!(outcome.attempts(), 1);
    assert!(
        found
            .detail
            .starts_with(&format!("cannot connect to 127.0.0.1:{port}: ")),
        "{}",
        found.detail
    );

    // The first address does not answer, the second does: the second is the one handshaken.
    let (certificate, key) = leaf(&ca, &["shop.test"], 2020, 2090);
    let (open, _) = tls_server(certificate, key).await;
    let both = verify(&settings(
        "shop.test=127.0.0.2,127.0.0.1",
        open,
        true,
        ca_file.path(),
    ))
    .await;
    let found = both.certificate().unwrap();
    assert_eq!(found.status, Status::Active, "{}", found.detail);
    assert_eq!(found.address, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(both.attempts(), 2);
}

#[tokio::test]
async fn a_server_without_tls_and_a_name_without_address_are_reported() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let ca = ca("Closte Test R1");
    let ca_file = write_pem("plain", &ca.pem);
    let outcome = verify(&settings("shop.test=127.0.0.1", port, true, ca_file.path())).await;
    let found = outcome.certificate().unwrap();
    assert_eq!(found.status, Status::NoTls, "{}", found.detail);
    assert_eq!(outcome.state(), State::Failed);
    assert_eq!(outcome.error_kind(), Some(ErrorKind::Tls));
    assert!(found
        .detail
        .starts_with(&format!("no TLS on 127.0.0.1:{port}: ")));
    assert_eq!(found.names, Vec::<String>::new());

    let nowhere = verify(&settings("shop.test=", port, true, ca_file.path())).await;
    let found = nowhere.certificate().unwrap();
    assert_eq!(found.status, Status::NoAddress);
    assert_eq!(found.address, None);
    assert_eq!(nowhere.error_kind(), Some(ErrorKind::Network));
    assert_eq!(nowhere.error(), Some("shop.test has no address"));
    assert_eq!(nowhere.attempts(), 0);
}

#[tokio::test]
async fn check_dns_compares_the_name_with_the_main_host_through_the_overrides() {
    let check = |resolve: &str| CheckSettings {
        resolve: Overrides::parse(resolve).unwrap(),
        allow_private_targets: false,
        tls_check_port: 443,
        verify_ca_file: None,
        timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(1),
    };
    let main = DomainName::parse("network.test").unwrap();
    let ready = net::check_dns(
        &check("network.test=127.0.0.1; *.ready.test=127.0.0.1"),
        &DomainName::parse("shop.ready.test").unwrap(),
        &main,
    )
    .await;
    assert!(ready.ok());
    assert_eq!(ready.state(), State::DnsReady);
    let dns = ready.dns().unwrap();
    assert!(dns.ready);
    assert_eq!(dns.reason.as_str(), "ready");
    assert_eq!(dns.expected, "network.test");
    assert_eq!(dns.source, Source::Override);
    assert_eq!(ready.attempts(), 1);

    let elsewhere = net::check_dns(
        &check("network.test=127.0.0.1; *=127.0.0.9"),
        &DomainName::parse("shop.test").unwrap(),
        &main,
    )
    .await;
    assert!(elsewhere.ok(), "both lookups answered");
    assert_eq!(elsewhere.state(), State::DnsNotReady);
    assert_eq!(elsewhere.error(), None);
    let dns = elsewhere.dns().unwrap();
    assert_eq!(dns.reason.as_str(), "elsewhere");
    assert_eq!(
        dns.unexpected,
        ["127.0.0.9".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(dns.addresses, dns.unexpected);
    assert_eq!(
        dns.expected_addresses,
        ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]
    );
}
