//! The TLS front door, tested from outside: a real closte-sim process, the Closte API and the
//! control API over HTTP, and handshakes by a rustls client that trusts the published test CA.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::{json, Value};

const DAY: i64 = 86_400;

struct Sim {
    child: Child,
    port: u16,
    front_door: u16,
    dir: PathBuf,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("closte-sim-fd-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Sim {
    fn start(extra: &[&str]) -> Sim {
        Sim::start_in(temp_dir(), extra)
    }

    fn start_in(dir: PathBuf, extra: &[&str]) -> Sim {
        let port_file = dir.join("port");
        let log = dir.join("log");
        let child = Command::new(env!("CARGO_BIN_EXE_closte-sim"))
            .arg("--port-file")
            .arg(&port_file)
            .args(["--parent-pid", &std::process::id().to_string()])
            .args(extra)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start closte-sim");
        let deadline = Instant::now() + Duration::from_secs(10);
        let port: u16 = loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                break port;
            }
            assert!(Instant::now() < deadline, "closte-sim did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        // The startup line is written before the port file: the helpers parse it.
        let line = std::fs::read_to_string(&log).unwrap();
        let front_door = line
            .split_whitespace()
            .find_map(|field| field.strip_prefix("front_door=127.0.0.1:"))
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no front_door= in {line:?}"));
        Sim {
            child,
            port,
            front_door,
            dir,
        }
    }

    fn http(&self, method: &str, path: &str, content_type: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, body.to_string())
    }

    fn control(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let (status, text) = self.http(method, &format!("/__sim{path}"), "application/json", &body);
        (status, serde_json::from_str(&text).unwrap())
    }

    fn api(&self, path: &str, domain: &str) -> Value {
        let (_, text) = self.http(
            "POST",
            &format!("/api/client{path}"),
            "application/x-www-form-urlencoded",
            &format!("apikey=sim-key&domain={domain}"),
        );
        serde_json::from_str(&text).unwrap()
    }

    fn ca_pem(&self) -> String {
        self.http("GET", "/__sim/ca.pem", "text/plain", "").1
    }

    fn certificates(&self) -> Value {
        self.control("GET", "/certificates", Value::Null).1
    }

    fn install(&self, body: Value) -> Value {
        let (status, answer) = self.control("POST", "/certificates", body);
        assert_eq!(status, 200, "{answer}");
        answer
    }

    fn handshake(&self, sni: &str) -> Presented {
        handshake(self.front_door, sni, &self.ca_pem())
    }
}

/// Accepts whatever the server presents and keeps it, so that trust is judged separately (as
/// the certificate check does) and an untrusted or expired chain can still be inspected.
#[derive(Debug)]
struct Recorder {
    chain: Mutex<Vec<CertificateDer<'static>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self.chain.lock().unwrap() = chain;
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

/// What one handshake showed: the leaf's facts and how the chain fares against the test CA.
struct Presented {
    names: Vec<String>,
    issuer_cn: Option<String>,
    issuer_o: Option<String>,
    not_before: i64,
    not_after: i64,
    fingerprint: String,
    chain_len: usize,
    /// The chain verified to the test CA for this name, now (None) or why not.
    verdict: Option<String>,
}

fn handshake(port: u16, sni: &str, ca_pem: &str) -> Presented {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Arc::new(Recorder {
        chain: Mutex::new(Vec::new()),
        provider: provider.clone(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let server_name = ServerName::try_from(sni.to_string()).unwrap();
    let mut connection =
        rustls::ClientConnection::new(Arc::new(config), server_name.clone()).unwrap();
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    while connection.is_handshaking() {
        connection.complete_io(&mut socket).expect("handshake");
    }
    let chain = recorder.chain.lock().unwrap().clone();
    let leaf = chain.first().expect("a certificate").clone();
    let (_, x509) = x509_parser::parse_x509_certificate(&leaf).unwrap();
    let names = x509
        .subject_alternative_name()
        .unwrap()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let issuer = x509.issuer();
    let issuer_cn = issuer
        .iter_common_name()
        .next()
        .and_then(|v| v.as_str().ok())
        .map(str::to_string);
    let issuer_o = issuer
        .iter_organization()
        .next()
        .and_then(|v| v.as_str().ok())
        .map(str::to_string);
    let (not_before, not_after) = (
        x509.validity().not_before.timestamp(),
        x509.validity().not_after.timestamp(),
    );
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(ca.unwrap()).unwrap();
    }
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .unwrap();
    let verdict = verifier
        .verify_server_cert(&leaf, &chain[1..], &server_name, &[], UnixTime::now())
        .err()
        .map(|e| format!("{e:?}"));
    let digest = ring::digest::digest(&ring::digest::SHA256, &leaf);
    Presented {
        names,
        issuer_cn,
        issuer_o,
        not_before,
        not_after,
        fingerprint: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        chain_len: chain.len(),
        verdict,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn days_left(presented: &Presented) -> i64 {
    (presented.not_after - now()).div_euclid(DAY)
}

#[test]
fn an_alias_gets_its_certificate_after_the_ssl_request_and_the_issue_delay() {
    let sim = Sim::start(&["--ssl-issue-delay-ms", "400"]);
    assert_eq!(
        sim.api("/adddomainalias", "shop.example.com")["success"],
        true
    );
    let before = sim.handshake("shop.example.com");
    assert_eq!(before.names, ["default.closte-sim.invalid"]);
    assert!(before.verdict.unwrap().contains("NotValidForName"));

    assert_eq!(sim.api("/ssl/install", "shop.example.com")["success"], true);
    assert_eq!(
        sim.api("/ssl/status", "shop.example.com")["status"],
        "pending"
    );
    assert_eq!(
        sim.handshake("shop.example.com").names,
        ["default.closte-sim.invalid"],
        "served only once issued"
    );
    std::thread::sleep(Duration::from_millis(450));
    assert_eq!(
        sim.api("/ssl/status", "shop.example.com")["status"],
        "active"
    );
    let issued = sim.handshake("shop.example.com");
    assert_eq!(issued.names, ["shop.example.com"]);
    assert_eq!(issued.issuer_cn.as_deref(), Some("Closte Sim R1"));
    assert_eq!(issued.issuer_o.as_deref(), Some("closte-sim"));
    assert_eq!(issued.verdict, None, "the chain verifies to the test CA");
    assert_eq!(
        issued.chain_len, 2,
        "leaf and R1, as a real server sends them"
    );
    assert_eq!(issued.not_after - issued.not_before, 90 * DAY);
    assert!((now() - 3600 - issued.not_before).abs() <= 5);
    assert_eq!(days_left(&issued), 89);

    let row = &sim.certificates()["certificates"]["shop.example.com"];
    assert_eq!(row["fingerprint"], issued.fingerprint.as_str());
    assert_eq!(row["names"], json!(["shop.example.com"]));
    assert_eq!(row["issuer"], "Closte Sim R1");
    assert_eq!(row["not_before"], issued.not_before);
    assert_eq!(row["not_after"], issued.not_after);
    assert_eq!(row["source"], "issued");
    assert_eq!(row["handshakes"], 3);
    assert_eq!(row["requested"], 1);
    // The same certificate on every later handshake.
    assert_eq!(
        sim.handshake("shop.example.com").fingerprint,
        issued.fingerprint
    );
}

#[test]
fn with_no_ssl_endpoint_closte_issues_for_every_added_alias() {
    let sim = Sim::start(&["--ssl-endpoint", "none", "--ssl-issue-delay-ms", "200"]);
    sim.api("/adddomainalias", "shop.example.com");
    std::thread::sleep(Duration::from_millis(250));
    let presented = sim.handshake("shop.example.com");
    assert_eq!(presented.names, ["shop.example.com"]);
    assert_eq!(presented.verdict, None);
    assert_eq!(
        sim.certificates()["certificates"]["shop.example.com"]["requested"],
        0
    );
}

#[test]
fn a_wildcard_alias_certificate_covers_one_label_under_it() {
    let sim = Sim::start(&["--ssl-endpoint", "none", "--ssl-issue-delay-ms", "0"]);
    let (_, added) = sim.http(
        "POST",
        "/api/client/adddomainalias",
        "application/x-www-form-urlencoded",
        "apikey=sim-key&domain=*.shop.example.com&wildcard=1",
    );
    assert!(added.contains("\"success\":true"), "{added}");
    let under = sim.handshake("a.shop.example.com");
    assert_eq!(under.names, ["*.shop.example.com"]);
    assert_eq!(under.verdict, None);
    assert_eq!(
        sim.handshake("shop.example.com").names,
        ["default.closte-sim.invalid"]
    );
}

#[test]
fn an_unknown_name_gets_the_default_certificate_and_both_counts_grow() {
    let sim = Sim::start(&[]);
    let presented = sim.handshake("nobody.example.com");
    assert_eq!(presented.names, ["default.closte-sim.invalid"]);
    assert_eq!(presented.issuer_cn.as_deref(), Some("Closte Sim R1"));
    let verdict = presented.verdict.unwrap();
    assert!(verdict.contains("NotValidForName"), "{verdict}");
    // Trusted for its own name: a name mismatch, not an untrusted chain.
    let own = sim.handshake("default.closte-sim.invalid");
    assert_eq!(own.verdict, None);
    sim.handshake("nobody.example.com");
    let view = sim.certificates();
    assert_eq!(view["certificates"]["nobody.example.com"]["handshakes"], 2);
    assert_eq!(
        view["certificates"]["nobody.example.com"]["source"],
        "default"
    );
    assert_eq!(view["certificates"]["nobody.example.com"]["requested"], 0);
    assert_eq!(view["default"]["handshakes"], 3);
    assert_eq!(
        view["default"]["fingerprint"],
        presented.fingerprint.as_str()
    );
}

#[test]
fn removing_the_alias_stops_serving_its_certificate() {
    let sim = Sim::start(&["--ssl-issue-delay-ms", "0"]);
    sim.api("/adddomainalias", "shop.example.com");
    sim.api("/ssl/install", "shop.example.com");
    assert_eq!(
        sim.handshake("shop.example.com").names,
        ["shop.example.com"]
    );
    assert_eq!(
        sim.api("/deletedomainalias", "shop.example.com")["success"],
        true
    );
    assert_eq!(
        sim.handshake("shop.example.com").names,
        ["default.closte-sim.invalid"]
    );
    let row = &sim.certificates()["certificates"]["shop.example.com"];
    assert_eq!(row["source"], "default");
    assert_eq!(row["handshakes"], 2, "handshakes after removal still count");
}

#[test]
fn each_control_kind_serves_what_it_says() {
    let sim = Sim::start(&[]);
    let name = "shop.example.com";
    let install = |body: Value| {
        let answer = sim.install(body);
        let presented = sim.handshake(name);
        assert_eq!(
            answer["certificate"]["fingerprint"],
            presented.fingerprint.as_str()
        );
        presented
    };

    let valid = install(json!({"name": name, "kind": "valid"}));
    assert_eq!(valid.verdict, None);
    assert_eq!(valid.names, [name]);
    assert_eq!(days_left(&valid), 89);

    let valid_30 = install(json!({"name": name, "kind": "valid", "days_left": 30}));
    assert_eq!(days_left(&valid_30), 30);
    assert_eq!(valid_30.verdict, None);

    let expiring = install(json!({"name": name, "kind": "expiring"}));
    assert_eq!(days_left(&expiring), 10);
    let expiring_3 = install(json!({"name": name, "kind": "expiring", "days_left": 3}));
    assert_eq!(days_left(&expiring_3), 3);
    assert_eq!(expiring_3.verdict, None);
    assert_eq!(expiring_3.issuer_cn.as_deref(), Some("Closte Sim R1"));

    let expired = install(json!({"name": name, "kind": "expired", "days_left": -5}));
    assert_eq!(days_left(&expired), -5);
    assert!(expired.not_after < now());
    assert!(expired.verdict.unwrap().contains("Expired"));

    let early = install(json!({"name": name, "kind": "not_yet_valid"}));
    assert!(early.not_before > now());
    assert!(early.verdict.unwrap().contains("NotValidYet"));

    let wrong = install(json!({"name": name, "kind": "wrong_name"}));
    assert_eq!(wrong.names, ["other.closte-sim.invalid"]);
    assert!(wrong.verdict.unwrap().contains("NotValidForName"));
    let twin =
        install(json!({"name": name, "kind": "wrong_name", "names": ["www.shop.example.com"]}));
    assert_eq!(twin.names, ["www.shop.example.com"]);

    let untrusted = install(json!({"name": name, "kind": "untrusted"}));
    assert_eq!(untrusted.names, [name]);
    assert_eq!(
        untrusted.issuer_cn.as_deref(),
        Some("Closte Sim Untrusted CA")
    );
    assert_eq!(untrusted.chain_len, 1);
    assert!(untrusted.verdict.unwrap().contains("UnknownIssuer"));

    let names =
        install(json!({"name": name, "kind": "valid", "names": [name, "www.shop.example.com"]}));
    assert_eq!(names.names, [name, "www.shop.example.com"]);

    // A certificate the test made itself.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
    params.not_before = time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    params.not_after = time::OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
    let own = params.self_signed(&key).unwrap();
    let pem = install(json!({"name": name, "cert_pem": own.pem(), "key_pem": key.serialize_pem()}));
    assert_eq!(
        (pem.not_before, pem.not_after),
        (1_700_000_000, 1_900_000_000)
    );
    assert!(pem.verdict.is_some(), "self-signed: not trusted");

    let row = &sim.certificates()["certificates"][name];
    assert_eq!(row["source"], "installed");
    assert_eq!(row["kind"], "pem");
    assert_eq!(row["handshakes"], 11, "one per install above");
}

#[test]
fn bad_certificate_requests_are_refused_with_the_reason() {
    let sim = Sim::start(&[]);
    for (body, needle) in [
        (json!({"kind": "valid"}), "name"),
        (
            json!({"name": "Shop.example.com", "kind": "valid"}),
            "host name",
        ),
        (
            json!({"name": "shop.example.com", "kind": "bogus"}),
            "one of valid",
        ),
        (
            json!({"name": "shop.example.com", "kind": "expiring", "days_left": 40}),
            "days_left",
        ),
        (
            json!({"name": "shop.example.com", "kind": "expired", "days_left": 3}),
            "days_left",
        ),
        (
            json!({"name": "shop.example.com", "cert_pem": "x"}),
            "together",
        ),
        (
            json!({"name": "shop.example.com", "cert_pem": "x", "key_pem": "y"}),
            "cert_pem",
        ),
        (
            json!({"name": "shop.example.com", "kind": "valid", "names": "a"}),
            "names",
        ),
    ] {
        let (status, answer) = sim.control("POST", "/certificates", body.clone());
        assert_eq!(status, 400, "{body}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(needle), "{body}: {error}");
    }
    assert_eq!(sim.certificates()["certificates"], json!({}));
}

#[test]
fn reset_clears_installed_certificates_and_counts() {
    let sim = Sim::start(&[]);
    sim.install(json!({"name": "shop.example.com", "kind": "expiring"}));
    sim.handshake("shop.example.com");
    sim.api("/ssl/install", "shop.example.com");
    assert_eq!(sim.control("POST", "/reset", Value::Null).0, 200);
    let view = sim.certificates();
    assert_eq!(view["certificates"], json!({}));
    assert_eq!(view["default"]["handshakes"], 0);
    assert_eq!(
        sim.handshake("shop.example.com").names,
        ["default.closte-sim.invalid"]
    );
}

#[test]
fn the_ca_is_published_written_at_start_or_taken_from_files() {
    let dir = temp_dir();
    let out = dir.join("ca.pem");
    let sim = Sim::start_in(dir.clone(), &["--test-ca-out", out.to_str().unwrap()]);
    let published = sim.ca_pem();
    assert!(published.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), published);
    let state = sim.control("GET", "/state", Value::Null).1;
    assert_eq!(state["front_door_port"], sim.front_door);
    assert_eq!(state["front_door"], format!("127.0.0.1:{}", sim.front_door));

    // A CA the test brings: the front door's chain ends at it.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Test Brought Root");
    let ca = params.self_signed(&key).unwrap();
    let given = temp_dir();
    std::fs::write(given.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(given.join("ca.key"), key.serialize_pem()).unwrap();
    let brought = Sim::start(&[
        "--test-ca-cert",
        given.join("ca.pem").to_str().unwrap(),
        "--test-ca-key",
        given.join("ca.key").to_str().unwrap(),
        "--ssl-issue-delay-ms",
        "0",
    ]);
    assert_eq!(brought.ca_pem(), ca.pem());
    brought.api("/adddomainalias", "shop.example.com");
    brought.api("/ssl/install", "shop.example.com");
    let presented = handshake(brought.front_door, "shop.example.com", &ca.pem());
    assert_eq!(presented.verdict, None);
    // The first simulator's CA does not vouch for it.
    let stranger = handshake(brought.front_door, "shop.example.com", &published);
    assert!(stranger.verdict.unwrap().contains("UnknownIssuer"));
    let _ = std::fs::remove_dir_all(given);
}

#[test]
fn a_request_after_the_handshake_gets_a_tiny_200_and_garbage_is_survived() {
    let sim = Sim::start(&[]);
    // Not TLS at all, then a connection that sends nothing and closes.
    let mut plain = TcpStream::connect(("127.0.0.1", sim.front_door)).unwrap();
    plain.write_all(b"GET / HTTP/1.1\r\n\r\n\x00\xff").unwrap();
    let mut sink = Vec::new();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = plain.read_to_end(&mut sink);
    drop(TcpStream::connect(("127.0.0.1", sim.front_door)).unwrap());

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(sim.ca_pem().as_bytes()) {
        roots.add(ca.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("default.closte-sim.invalid").unwrap();
    let connection = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let socket = TcpStream::connect(("127.0.0.1", sim.front_door)).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, socket);
    tls.write_all(b"GET / HTTP/1.1\r\nHost: default.closte-sim.invalid\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("closte-sim front door: default.closte-sim.invalid\n"));
}
