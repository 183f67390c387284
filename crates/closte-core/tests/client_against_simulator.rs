//! The engine-free client, through the real runtime accessor, against a real `closte-sim`
//! process over loopback HTTP.

mod common;

use std::time::{Duration, Instant};

use closte_core::client::error::ErrorKind;
use closte_core::client::outcome::{Outcome, State};
use closte_core::client::{cached_ssl_endpoint, ClosteClient, SslEndpoint, MAX_BODY_BYTES};
use closte_core::config::{ApiKey, Settings};
use closte_core::domain::DomainName;
use common::{Simulator, KEY};

fn settings(sim: &Simulator) -> Settings {
    Settings {
        api_url: sim.api_url(),
        timeout: Duration::from_secs(5),
        max_retries: 2,
        ..Settings::default()
    }
}

fn run<F, Fut>(settings: &Settings, key: &str, op: F) -> Outcome
where
    F: FnOnce(ClosteClient) -> Fut,
    Fut: std::future::Future<Output = Outcome>,
{
    let key = ApiKey::new(key).unwrap();
    closte_core::runtime::block_on(settings, |http| op(ClosteClient::new(http, settings, key)))
        .unwrap()
}

fn domain(name: &str) -> DomainName {
    DomainName::parse(name).unwrap()
}

fn add(sim: &Simulator, name: &str) -> Outcome {
    let d = domain(name);
    run(
        &settings(sim),
        KEY,
        |c| async move { c.add_domain(&d).await },
    )
}

fn remove(sim: &Simulator, name: &str) -> Outcome {
    let d = domain(name);
    run(
        &settings(sim),
        KEY,
        |c| async move { c.remove_domain(&d).await },
    )
}

#[test]
fn add_creates_the_alias_and_requests_ssl() {
    let sim = Simulator::start(&[]);
    let outcome = add(&sim, "Shop.Example.com");
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(outcome.state(), State::Added);
    assert_eq!(outcome.status(), 200);
    assert_eq!(outcome.attempts(), 1);
    assert_eq!(outcome.domain(), Some("shop.example.com"));
    let ssl = outcome.ssl().expect("nested SSL result");
    assert!(ssl.ok(), "{ssl:?}");
    assert_eq!(ssl.state(), State::Requested);
    assert_eq!(ssl.endpoint(), Some("/ssl/install"));
    assert_eq!(sim.domains(), vec!["shop.example.com"]);
    let state = sim.get("/state");
    assert_eq!(state["domains"][0]["ssl_requested"], true);
    let requests = sim.requests();
    assert_eq!(requests[0]["path"], "/adddomainalias");
    assert_eq!(requests[0]["fields"]["domain"], "shop.example.com");
    assert_eq!(requests[0]["fields"]["wildcard"], "0");
    assert_eq!(requests[0]["key"], "valid");
    assert_eq!(requests[1]["fields"]["type"], "letsencrypt");
}

#[test]
fn each_request_carries_exactly_its_own_fields_besides_the_key() {
    let sim = Simulator::start(&[]);
    let s = settings(&sim);
    let name = || domain("shop.example.com");
    let (a, b, c) = (name(), name(), name());
    run(&s, KEY, |client| async move { client.add_domain(&a).await });
    run(&s, KEY, |client| async move { client.list_domains().await });
    run(&s, KEY, |client| async move { client.ssl_status(&b).await });
    run(
        &s,
        KEY,
        |client| async move { client.remove_domain(&c).await },
    );
    let requests = sim.requests();
    let sent: Vec<(&str, &serde_json::Value)> = requests
        .iter()
        .map(|r| (r["path"].as_str().unwrap(), &r["fields"]))
        .collect();
    let domain_only = serde_json::json!({"domain": "shop.example.com"});
    assert_eq!(
        sent,
        [
            (
                "/adddomainalias",
                &serde_json::json!({"domain": "shop.example.com", "wildcard": "0"})
            ),
            (
                "/ssl/install",
                &serde_json::json!({"domain": "shop.example.com", "type": "letsencrypt"})
            ),
            ("/getdomains", &serde_json::json!({})),
            ("/ssl/status", &domain_only),
            (
                "/deletedomainalias",
                &serde_json::json!({"domain": "shop.example.com", "wildcard": "0"})
            ),
        ]
    );
    assert!(
        requests.iter().all(|r| r["key"] == "valid"),
        "the key on every request"
    );
}

#[test]
fn wildcard_domains_carry_the_flag() {
    let sim = Simulator::start(&[]);
    let outcome = add(&sim, "*.customers.example.com");
    assert!(outcome.ok(), "{outcome:?}");
    let request = &sim.requests()[0];
    assert_eq!(request["fields"]["domain"], "*.customers.example.com");
    assert_eq!(request["fields"]["wildcard"], "1");
    assert_eq!(sim.get("/state")["domains"][0]["wildcard"], true);
}

#[test]
fn an_existing_alias_is_success_in_any_phrasing() {
    for message in [
        "Domain alias already exists",
        "This domain is ALREADY added to the application",
    ] {
        let sim = Simulator::start(&["--already-exists-message", message]);
        assert_eq!(add(&sim, "example.com").state(), State::Added);
        let again = add(&sim, "example.com");
        assert!(again.ok(), "{message}: {again:?}");
        assert_eq!(again.state(), State::AlreadyExists);
        assert!(again.ssl().unwrap().ok(), "SSL still requested");
        assert_eq!(sim.domains(), vec!["example.com"]);
    }
}

#[test]
fn an_unknown_refusal_is_settled_by_listing_the_domains() {
    // Closte's "exists" text could be anything: a refusal we cannot read is confirmed with
    // /getdomains before it is reported as a failure.
    let sim = Simulator::start(&[
        "--already-exists-message",
        "Operation could not be completed",
    ]);
    add(&sim, "example.com");
    let again = add(&sim, "example.com");
    assert!(again.ok(), "{again:?}");
    assert_eq!(again.state(), State::AlreadyExists);
    assert_eq!(sim.requests_to("/getdomains"), 1);
}

#[test]
fn removing_is_idempotent() {
    for message in ["Domain alias not found", "Alias does not exist"] {
        let sim = Simulator::start(&["--not-found-message", message]);
        add(&sim, "example.com");
        let removed = remove(&sim, "example.com");
        assert!(removed.ok(), "{removed:?}");
        assert_eq!(removed.state(), State::Removed);
        assert!(sim.domains().is_empty());
        let again = remove(&sim, "example.com");
        assert!(again.ok(), "{message}: {again:?}");
        assert_eq!(again.state(), State::NotPresent);
    }
}

#[test]
fn the_ssl_endpoint_is_discovered_once() {
    let sim = Simulator::start(&["--ssl-endpoint", "/certificate/install"]);
    let first = add(&sim, "a.example.com");
    let ssl = first.ssl().unwrap();
    assert!(ssl.ok(), "{ssl:?}");
    assert_eq!(ssl.endpoint(), Some("/certificate/install"));
    assert_eq!(ssl.attempts(), 4, "three 404s, then the real endpoint");
    assert_eq!(
        cached_ssl_endpoint(&sim.api_url()),
        Some(SslEndpoint::Found("/certificate/install"))
    );
    let second = add(&sim, "b.example.com");
    assert_eq!(second.ssl().unwrap().attempts(), 1);
    for path in ["/ssl/install", "/installssl", "/ssl"] {
        assert_eq!(sim.requests_to(path), 1, "{path} probed only once");
    }
    assert_eq!(sim.requests_to("/certificate/install"), 2);
}

#[test]
fn without_an_ssl_endpoint_the_alias_still_counts() {
    let sim = Simulator::start(&["--ssl-endpoint", "none"]);
    let outcome = add(&sim, "example.com");
    assert!(outcome.ok());
    let ssl = outcome.ssl().unwrap();
    assert!(!ssl.ok());
    assert_eq!(ssl.state(), State::NoEndpoint);
    assert_eq!(ssl.error_kind(), Some(ErrorKind::NotFound));
    assert!(ssl
        .error()
        .unwrap()
        .contains("issues the Let's Encrypt certificate itself"));
    let before = sim.requests().len();
    let second = add(&sim, "other.example.com");
    assert_eq!(second.ssl().unwrap().state(), State::NoEndpoint);
    assert_eq!(
        sim.requests().len(),
        before + 1,
        "no SSL probing after the first discovery"
    );
}

#[test]
fn a_wrong_key_is_an_auth_failure_without_retries() {
    for status in ["200", "401"] {
        let sim = Simulator::start(&["--auth-status", status]);
        let d = domain("example.com");
        let outcome = run(&settings(&sim), "wrong-key", |c| async move {
            c.add_domain(&d).await
        });
        assert!(!outcome.ok());
        assert_eq!(
            outcome.error_kind(),
            Some(ErrorKind::Auth),
            "status {status}"
        );
        assert!(!outcome.retryable());
        assert_eq!(outcome.attempts(), 1);
        assert_eq!(outcome.error(), Some("Invalid API Key"));
        assert!(outcome.ssl().is_none());
        assert_eq!(sim.requests()[0]["key"], "invalid");
        let probe = run(&settings(&sim), "wrong-key", |c| async move {
            c.test_connection().await
        });
        assert_eq!(probe.error_kind(), Some(ErrorKind::Auth));
    }
}

#[test]
fn test_connection_and_listing() {
    let sim = Simulator::start(&[]);
    let probe = run(&settings(&sim), KEY, |c| async move {
        c.test_connection().await
    });
    assert!(probe.ok(), "{probe:?}");
    assert_eq!(probe.state(), State::Authorized);
    assert!(sim.domains().is_empty(), "the probe changes nothing");
    sim.post(
        "/domains",
        r#"{"domains":["a.example.com","*.b.example.com"]}"#,
    );
    let listed = run(
        &settings(&sim),
        KEY,
        |c| async move { c.list_domains().await },
    );
    assert!(listed.ok());
    assert_eq!(
        listed.domains().unwrap(),
        vec!["*.b.example.com".to_string(), "a.example.com".to_string()]
    );
}

#[test]
fn ssl_status_moves_from_pending_to_active() {
    let sim = Simulator::start(&["--ssl-issue-delay-ms", "300"]);
    add(&sim, "example.com");
    let d = domain("example.com");
    let status = |sim: &Simulator| {
        let d = d.clone();
        run(
            &settings(sim),
            KEY,
            |c| async move { c.ssl_status(&d).await },
        )
    };
    let first = status(&sim);
    assert!(first.ok());
    assert_eq!(first.response().unwrap()["status"], "pending");
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(status(&sim).response().unwrap()["status"], "active");
}

#[test]
fn gateway_errors_are_retried_then_succeed() {
    let sim = Simulator::start(&[]);
    sim.fault(r#"{"kind":"status","status":503,"count":2,"path":"/adddomainalias"}"#);
    let outcome = add(&sim, "example.com");
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(outcome.attempts(), 3);
    assert_eq!(sim.requests_to("/adddomainalias"), 3);
    assert_eq!(sim.domains(), vec!["example.com"]);
}

#[test]
fn a_plain_500_is_not_retried_in_call_but_is_retryable() {
    let sim = Simulator::start(&[]);
    sim.fault(r#"{"kind":"status","status":500,"count":1,"path":"/adddomainalias"}"#);
    let outcome = add(&sim, "example.com");
    assert!(!outcome.ok());
    assert_eq!(outcome.error_kind(), Some(ErrorKind::Server));
    assert!(outcome.retryable());
    assert_eq!(sim.requests_to("/adddomainalias"), 1);
    assert_eq!(
        sim.requests_to("/getdomains"),
        1,
        "ambiguous: confirmed by listing"
    );
    // The queue's later attempt succeeds.
    assert!(add(&sim, "example.com").ok());
}

#[test]
fn rate_limits_honour_retry_after() {
    let sim = Simulator::start(&[]);
    sim.fault(r#"{"kind":"status","status":429,"count":1,"retry_after":1}"#);
    let started = Instant::now();
    let outcome = add(&sim, "example.com");
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(outcome.attempts(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
}

#[test]
fn a_long_retry_after_ends_the_call_as_rate_limited() {
    let sim = Simulator::start(&[]);
    sim.fault(r#"{"kind":"status","status":429,"count":1,"retry_after":3600}"#);
    let outcome = add(&sim, "example.com");
    assert_eq!(outcome.error_kind(), Some(ErrorKind::RateLimited));
    assert!(outcome.retryable());
    assert_eq!(outcome.attempts(), 1);
}

#[test]
fn an_http_date_retry_after_is_honoured() {
    let sim = Simulator::start(&[]);
    sim.fault(r#"{"kind":"status","status":429,"count":1,"retry_after_date":2}"#);
    let started = Instant::now();
    let outcome = add(&sim, "example.com");
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(outcome.attempts(), 2);
    // The date has a one-second resolution: at least one second, never the 200 ms backoff.
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "retried after {:?}",
        started.elapsed()
    );
}

#[test]
fn a_retry_after_past_64_bits_saturates_and_ends_the_call_as_rate_limited() {
    let sim = Simulator::start(&[]);
    sim.fault(
        r#"{"kind":"status","status":429,"count":1,"retry_after_raw":"99999999999999999999999"}"#,
    );
    let outcome = add(&sim, "example.com");
    assert_eq!(outcome.error_kind(), Some(ErrorKind::RateLimited));
    assert!(outcome.retryable());
    assert_eq!(
        outcome.attempts(),
        1,
        "not retried within 0.2 s as if no header were there"
    );
}

/// A certificate the client does not trust: a `tls` failure, reported at once and not
/// retryable (the same certificate fails again).
#[test]
fn a_certificate_that_fails_verification_is_a_tls_failure_that_is_not_retried() {
    let dir = std::env::temp_dir().join(format!("closte-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A CA and a certificate for 127.0.0.1 that it signed (webpki refuses a CA certificate
    // as the server's own).
    let (ca, ca_key) = (dir.join("ca.pem"), dir.join("ca.key"));
    let (cert, key, csr, ext) = (
        dir.join("cert.pem"),
        dir.join("key.pem"),
        dir.join("cert.csr"),
        dir.join("san.ext"),
    );
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1\n").unwrap();
    let openssl = |args: &[&std::ffi::OsStr]| {
        let made = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl (Debian's openssl package) makes the test certificates");
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
    };
    let os = |s: &'static str| std::ffi::OsStr::new(s);
    openssl(&[
        os("req"),
        os("-x509"),
        os("-newkey"),
        os("rsa:2048"),
        os("-nodes"),
        os("-days"),
        os("1"),
        os("-subj"),
        os("/CN=closte test CA"),
        os("-keyout"),
        ca_key.as_os_str(),
        os("-out"),
        ca.as_os_str(),
    ]);
    openssl(&[
        os("req"),
        os("-newkey"),
        os("rsa:2048"),
        os("-nodes"),
        os("-subj"),
        os("/CN=127.0.0.1"),
        os("-keyout"),
        key.as_os_str(),
        os("-out"),
        csr.as_os_str(),
    ]);
    openssl(&[
        os("x509"),
        os("-req"),
        os("-in"),
        csr.as_os_str(),
        os("-CA"),
        ca.as_os_str(),
        os("-CAkey"),
        ca_key.as_os_str(),
        os("-CAcreateserial"),
        os("-days"),
        os("1"),
        os("-extfile"),
        ext.as_os_str(),
        os("-out"),
        cert.as_os_str(),
    ]);
    let sim = Simulator::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let mut s = settings(&sim);
    s.api_url = s.api_url.replace("http://", "https://");
    let d = DomainName::parse("example.com").unwrap();
    let outcome = run(&s, KEY, |c| async move { c.add_domain(&d).await });
    assert_eq!(outcome.error_kind(), Some(ErrorKind::Tls), "{outcome:?}");
    assert!(!outcome.retryable());
    assert_eq!(outcome.attempts(), 1, "not retried in-call either");

    // The same server trusted through closte.ca_file (its CA): the handshake completes.
    s.ca_file = Some(ca.clone());
    let d = DomainName::parse("example.com").unwrap();
    let trusted = run(&s, KEY, |c| async move { c.add_domain(&d).await });
    assert!(trusted.ok(), "{trusted:?}");
    assert_eq!(trusted.attempts(), 1, "{trusted:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bulk_sync_discovers_the_ssl_endpoint_once_not_once_per_task() {
    use closte_core::client::reconcile::{reconcile, SyncOptions};
    // The last candidate is the real one: every task that probed on its own would first hit
    // the three others.
    let sim = Simulator::start(&["--ssl-endpoint", "/certificate/install"]);
    let desired: Vec<DomainName> = (0..32)
        .map(|i| domain(&format!("bulk-{i}.example.com")))
        .collect();
    let options = SyncOptions {
        concurrency: 32,
        ..SyncOptions::default()
    };
    let s = settings(&sim);
    let report = closte_core::runtime::block_on(&s, |http| {
        reconcile(
            std::sync::Arc::new(ClosteClient::new(http, &s, ApiKey::new(KEY).unwrap())),
            desired,
            options,
            None,
        )
    })
    .unwrap();
    assert!(report.ok(), "{report:?}");
    let wrong: Vec<String> = sim
        .requests()
        .into_iter()
        .filter_map(|r| r["path"].as_str().map(str::to_string))
        .filter(|p| ["/ssl/install", "/installssl", "/ssl"].contains(&p.as_str()))
        .collect();
    assert_eq!(
        wrong.len(),
        3,
        "one probe of each wrong candidate: {wrong:?}"
    );
}

#[test]
fn after_a_discovery_that_proves_nothing_the_waiting_tasks_probe_again_once_not_each() {
    use closte_core::client::reconcile::{reconcile, SyncOptions};
    // The first probe meets a refused key (it could come from a gateway: no proof either way),
    // so nothing is remembered; of the tasks that waited for it, exactly one probes again.
    let sim = Simulator::start(&[
        "--ssl-endpoint",
        "/certificate/install",
        "--latency-ms",
        "20",
    ]);
    sim.fault(r#"{"kind":"status","status":401,"count":1,"path":"/ssl/install"}"#);
    let desired: Vec<DomainName> = (0..32)
        .map(|i| domain(&format!("again-{i}.example.com")))
        .collect();
    let options = SyncOptions {
        concurrency: 32,
        ..SyncOptions::default()
    };
    let s = settings(&sim);
    let report = closte_core::runtime::block_on(&s, |http| {
        reconcile(
            std::sync::Arc::new(ClosteClient::new(http, &s, ApiKey::new(KEY).unwrap())),
            desired,
            options,
            None,
        )
    })
    .unwrap();
    let ssl: Vec<&Outcome> = report.results.iter().filter_map(Outcome::ssl).collect();
    assert_eq!(ssl.len(), 32, "{report:?}");
    let refused: Vec<&&Outcome> = ssl.iter().filter(|o| !o.ok()).collect();
    assert_eq!(
        refused.len(),
        1,
        "only the first probe was refused: {refused:?}"
    );
    assert_eq!(refused[0].error_kind(), Some(ErrorKind::Auth));
    for path in ["/ssl/install", "/installssl", "/ssl"] {
        let expected = if path == "/ssl/install" { 2 } else { 1 };
        assert_eq!(sim.requests_to(path), expected, "{path}");
    }
    assert_eq!(sim.requests_to("/certificate/install"), 31);
    assert_eq!(
        cached_ssl_endpoint(&sim.api_url()),
        Some(SslEndpoint::Found("/certificate/install"))
    );
}

/// Closte refuses with HTTP 200 and `success: false`: every read and the SSL request are then
/// failures, never `listed`, `checked` or `requested`.
#[test]
fn a_200_refusal_is_a_failure_for_the_listing_the_status_and_the_ssl_request() {
    use closte_core::client::outcome::State;
    let sim = Simulator::start(&[]);
    let s = settings(&sim);
    let d = domain("refused.example.com");
    let listing = run(&s, "wrong-key", |c| async move { c.list_domains().await });
    let d2 = d.clone();
    let status = run(&s, "wrong-key", |c| async move { c.ssl_status(&d2).await });
    let request = run(&s, "wrong-key", |c| async move { c.request_ssl(&d).await });
    for outcome in [&listing, &status, &request] {
        assert!(!outcome.ok(), "{outcome:?}");
        assert_eq!(outcome.state(), State::Failed, "{outcome:?}");
        assert_eq!(outcome.status(), 200);
        assert_eq!(outcome.error_kind(), Some(ErrorKind::Auth), "{outcome:?}");
    }
    assert!(listing.domains().is_none(), "no listing from a refusal");
}

#[test]
fn a_hang_ends_at_the_timeout() {
    let sim = Simulator::start(&[]);
    sim.fault(r#"{"kind":"hang"}"#);
    let mut s = settings(&sim);
    s.timeout = Duration::from_millis(400);
    s.max_retries = 1;
    let d = domain("example.com");
    let started = Instant::now();
    let outcome = run(&s, KEY, |c| async move { c.add_domain(&d).await });
    let elapsed = started.elapsed();
    assert_eq!(
        outcome.error_kind(),
        Some(ErrorKind::Timeout),
        "{outcome:?}"
    );
    assert!(outcome.retryable());
    // The request's own deadline ends each attempt; the runtime's backstop (a little later)
    // only catches what that deadline cannot.
    let error = outcome.error().unwrap_or_default();
    assert!(!error.contains("no complete answer"), "{error}");
    assert!(error.contains("timed out"), "{error}");
    // two add attempts + one /getdomains confirmation (which hangs too)
    assert_eq!(outcome.attempts(), 4);
    assert!(
        elapsed < Duration::from_secs(5),
        "bounded by the timeouts: {elapsed:?}"
    );
}

#[test]
fn connection_refused_is_a_network_failure() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let s = Settings {
        api_url: format!("http://127.0.0.1:{port}/api/client"),
        max_retries: 1,
        ..Settings::default()
    };
    let d = domain("example.com");
    let outcome = run(&s, KEY, |c| async move { c.add_domain(&d).await });
    assert_eq!(
        outcome.error_kind(),
        Some(ErrorKind::Network),
        "{outcome:?}"
    );
    assert_eq!(outcome.status(), 0);
    assert_eq!(outcome.attempts(), 2);
    assert!(outcome.retryable());
    let message = outcome.error().unwrap();
    assert!(!message.contains(KEY));
    assert!(message.contains("/adddomainalias"), "{message}");
    // The cause chain is kept: the operator reads why, not only that, sending failed.
    assert!(message.contains("Connection refused"), "{message}");
}

#[test]
fn undecodable_answers_are_bad_responses() {
    for (fault, kind) in [
        (r#"{"kind":"malformed","count":1}"#, ErrorKind::BadResponse),
        (r#"{"kind":"empty","count":1}"#, ErrorKind::BadResponse),
        (
            r#"{"kind":"html","status":500,"count":1}"#,
            ErrorKind::Server,
        ),
        (r#"{"kind":"oversized","count":1}"#, ErrorKind::BadResponse),
    ] {
        let sim = Simulator::start(&[]);
        sim.fault(fault);
        let outcome = run(
            &settings(&sim),
            KEY,
            |c| async move { c.list_domains().await },
        );
        assert!(!outcome.ok(), "{fault}");
        assert_eq!(outcome.error_kind(), Some(kind), "{fault}: {outcome:?}");
    }
}

fn list_with_padding(size: usize, chunked: bool) -> Outcome {
    let sim = Simulator::start(&[]);
    add(&sim, "example.com");
    sim.fault(&format!(
        r#"{{"kind":"padded","size":{size},"chunked":{chunked},"count":1,"path":"/getdomains"}}"#
    ));
    run(
        &settings(&sim),
        KEY,
        |c| async move { c.list_domains().await },
    )
}

#[test]
fn an_answer_of_exactly_the_body_cap_is_read_with_or_without_a_length() {
    for chunked in [false, true] {
        let outcome = list_with_padding(MAX_BODY_BYTES, chunked);
        assert!(outcome.ok(), "chunked={chunked}: {outcome:?}");
        assert_eq!(outcome.state(), State::Listed);
        assert_eq!(outcome.domains(), Some(&["example.com".to_string()][..]));
    }
}

#[test]
fn one_byte_past_the_body_cap_is_refused_with_or_without_a_length() {
    // With a Content-Length the answer is refused before reading; chunked, while streaming.
    for chunked in [false, true] {
        let outcome = list_with_padding(MAX_BODY_BYTES + 1, chunked);
        assert!(!outcome.ok(), "chunked={chunked}");
        assert_eq!(outcome.error_kind(), Some(ErrorKind::BadResponse));
        assert_eq!(
            outcome.error(),
            Some("Closte's answer exceeds 4194304 bytes; not read")
        );
        assert_eq!(outcome.status(), 200);
        assert_eq!(outcome.attempts(), 1, "not retried in-call");
    }
}

fn request_ssl(sim: &Simulator, name: &str) -> Outcome {
    let d = domain(name);
    run(
        &settings(sim),
        KEY,
        |c| async move { c.request_ssl(&d).await },
    )
}

#[test]
fn a_refusal_of_the_request_itself_during_discovery_proves_the_endpoint_exists() {
    // 400, or a 200 refusal naming the domain: the endpoint answered about this request.
    for fault in [
        r#"{"kind":"status","status":400,"count":1,"path":"/ssl/install"}"#,
        r#"{"kind":"status","status":422,"count":1,"path":"/ssl/install"}"#,
        r#"{"kind":"status","status":200,"error":"Invalid domain","count":1,"path":"/ssl/install"}"#,
    ] {
        let sim = Simulator::start(&[]);
        sim.fault(fault);
        let refused = request_ssl(&sim, "example.com");
        assert!(!refused.ok(), "{fault}");
        assert_eq!(
            refused.error_kind(),
            Some(ErrorKind::InvalidDomain),
            "{fault}"
        );
        assert_eq!(refused.endpoint(), Some("/ssl/install"));
        assert_eq!(refused.attempts(), 1, "no other candidate probed: {fault}");
        assert_eq!(
            cached_ssl_endpoint(&sim.api_url()),
            Some(SslEndpoint::Found("/ssl/install")),
            "{fault}"
        );
    }
}

#[test]
fn what_stands_in_front_of_every_path_during_discovery_proves_nothing() {
    // A refused key, a rate limit or a server error could come from a gateway: nothing is
    // remembered, the call fails as it is, and the next call probes again.
    for (fault, kind) in [
        (
            r#"{"kind":"status","status":500,"count":1,"path":"/ssl/install"}"#,
            ErrorKind::Server,
        ),
        (
            r#"{"kind":"status","status":401,"count":1,"path":"/ssl/install"}"#,
            ErrorKind::Auth,
        ),
        (
            r#"{"kind":"status","status":200,"error":"Invalid API key","count":1,"path":"/ssl/install"}"#,
            ErrorKind::Auth,
        ),
        (
            r#"{"kind":"status","status":429,"retry_after":600,"count":1,"path":"/ssl/install"}"#,
            ErrorKind::RateLimited,
        ),
    ] {
        let sim = Simulator::start(&[]);
        sim.post("/domains", r#"{"domains":["example.com"]}"#);
        sim.fault(fault);
        let refused = request_ssl(&sim, "example.com");
        assert_eq!(refused.error_kind(), Some(kind), "{fault}: {refused:?}");
        assert_eq!(refused.attempts(), 1, "{fault}");
        assert_eq!(cached_ssl_endpoint(&sim.api_url()), None, "{fault}");
        let again = request_ssl(&sim, "example.com");
        assert!(again.ok(), "{fault}: {again:?}");
        assert_eq!(
            cached_ssl_endpoint(&sim.api_url()),
            Some(SslEndpoint::Found("/ssl/install"))
        );
    }
}

#[test]
fn a_not_found_refusal_with_http_200_is_confirmed_with_the_listing_and_a_404_is_not() {
    // Closte added the alias but answered with a not-found text at HTTP 200: ambiguous, so the
    // listing settles it, and the attempts include that confirmation.
    let sim = Simulator::start(&[]);
    sim.fault(
        r#"{"kind":"status","status":200,"error":"Application does not exist","count":1,"path":"/adddomainalias","apply":true}"#,
    );
    let outcome = add(&sim, "example.com");
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(outcome.state(), State::AlreadyExists);
    assert_eq!(outcome.attempts(), 2, "the add and the listing");
    assert_eq!(sim.requests_to("/getdomains"), 1);

    // A 404 is the address itself missing: reported as it is, no listing.
    let sim = Simulator::start(&[]);
    sim.fault(r#"{"kind":"status","status":404,"count":1,"path":"/adddomainalias","apply":true}"#);
    let outcome = add(&sim, "example.com");
    assert!(!outcome.ok());
    assert_eq!(outcome.error_kind(), Some(ErrorKind::NotFound));
    assert_eq!(outcome.status(), 404);
    assert_eq!(outcome.attempts(), 1);
    assert_eq!(sim.requests_to("/getdomains"), 0);

    // Confirmed absent: the failure stands, with the listing counted.
    let sim = Simulator::start(&[]);
    sim.fault(
        r#"{"kind":"status","status":200,"error":"Application does not exist","count":1,"path":"/adddomainalias"}"#,
    );
    let outcome = add(&sim, "example.com");
    assert!(!outcome.ok());
    assert_eq!(outcome.error_kind(), Some(ErrorKind::NotFound));
    assert_eq!(outcome.error(), Some("Application does not exist"));
    assert_eq!(outcome.attempts(), 2);
}

#[test]
fn a_reset_after_closte_acted_ends_with_one_alias() {
    let sim = Simulator::start(&[]);
    sim.fault(r#"{"kind":"reset","count":1,"path":"/adddomainalias","apply":true}"#);
    let outcome = add(&sim, "example.com");
    assert!(outcome.ok(), "{outcome:?}");
    assert_eq!(
        outcome.state(),
        State::AlreadyExists,
        "the retry found the alias in place"
    );
    assert_eq!(outcome.attempts(), 2);
    assert_eq!(sim.domains(), vec!["example.com"]);
}

#[test]
fn the_key_never_reaches_messages_or_debug_output() {
    let sim = Simulator::start(&[]);
    sim.fault(r#"{"kind":"reset","count":3}"#);
    let outcome = run(
        &settings(&sim),
        KEY,
        |c| async move { c.list_domains().await },
    );
    assert_eq!(outcome.error_kind(), Some(ErrorKind::Network));
    let everything = format!("{outcome:?} {}", outcome.error().unwrap_or_default());
    assert!(!everything.contains(KEY), "{everything}");
}
