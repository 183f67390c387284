//! Shared vectors: the pure decisions of closte-core as data (`tests/vectors/*.json` at the
//! repository root). The PHP implementation runs the same files (tests/php/VectorsTest.php), so
//! a decision that drifts in one implementation fails a test of that implementation.
//!
//! Each file holds one decision family: a `header` (what the cases mean, the function each
//! runner calls) and `cases`, each `{ "id", "input", "expected" }`. A runner turns `input` into
//! a JSON value with the family's function below and compares it with `expected`. A case may
//! carry `drift` (`{ "php": ..., "why": ... }`): a known difference of the PHP implementation,
//! whose runner then expects `drift.php`; Rust always expects `expected`.
//!
//! `cargo test -p closte-core --test vectors -- --ignored regenerate_vectors` rewrites every
//! `expected` from the current Rust decisions (for new cases, or a deliberate change); review
//! the diff, then run the PHP side (docs/testing.md, "Shared vectors").

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use closte_core::client::answer;
use closte_core::client::error::Failure;
use closte_core::client::extract_domains;
use closte_core::client::reconcile::{self, SyncOptions};
use closte_core::client::retry_after;
use closte_core::config::{keys, Settings};
use closte_core::domain::DomainName;
use closte_core::net::address_policy;
use closte_core::net::certificate::{self, Facts};
use closte_core::net::dns::{self, Overrides};
use serde_json::{json, Map, Value};

/// A family's decision: a case's `input` to the value compared with its `expected`.
type Decide = fn(&Value) -> Value;

/// Every vector file and the function that decides its cases.
const FAMILIES: [(&str, Decide); 12] = [
    ("domain_names.json", domain_name),
    ("retry_after.json", retry_after_seconds),
    ("failure_classification.json", failure_classification),
    ("listing_extraction.json", listing_extraction),
    ("answer_decoding.json", answer_decoding),
    ("sync_plan.json", sync_plan),
    ("settings.json", setting),
    ("address_policy.json", address_judgement),
    ("dns_readiness.json", dns_readiness),
    ("certificate_names.json", certificate_names),
    ("certificate_status.json", certificate_status),
    ("resolve_overrides.json", resolve_overrides),
];

/// Retry-After values above this are reported as `"beyond": true`: the two implementations
/// saturate at their own integer width (u64 / PHP_INT_MAX), and any such wait exceeds every
/// in-call limit by far, which is the only use of the number.
const LARGEST_EXACT_WAIT: u64 = 1_000_000_000_000_000;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn load(file: &str) -> Value {
    let path = vectors_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cases(doc: &Value) -> &Vec<Value> {
    doc["cases"]
        .as_array()
        .expect("a vector file has a list of cases")
}

fn text<'a>(input: &'a Value, field: &str) -> &'a str {
    input[field]
        .as_str()
        .unwrap_or_else(|| panic!("input field {field} is a string"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("a list of strings")
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

/// The decision on every case of `doc`, compared with its `expected`: one line per mismatch.
/// The real run and the proof that a changed vector fails both go through this function.
fn mismatches(file: &str, doc: &Value, decide: Decide) -> Vec<String> {
    cases(doc)
        .iter()
        .filter_map(|case| {
            let actual = decide(&case["input"]);
            (actual != case["expected"]).then(|| {
                format!(
                    "{file} {}: expected {}, got {}",
                    case["id"].as_str().unwrap_or("(no id)"),
                    case["expected"],
                    actual
                )
            })
        })
        .collect()
}

/// `domain.rs`: `DomainName::parse_bytes`, then `refuse_api_host` when the case names an
/// `api_url`. Input `name` (text) or `name_hex` (bytes that are not UTF-8).
fn domain_name(input: &Value) -> Value {
    let bytes = match input.get("name_hex") {
        Some(hex) => decode_hex(hex.as_str().expect("name_hex is a string")),
        None => text(input, "name").as_bytes().to_vec(),
    };
    let parsed = DomainName::parse_bytes(&bytes).and_then(|name| match input.get("api_url") {
        Some(url) => name.refuse_api_host(url.as_str().expect("api_url is a string")),
        None => Ok(name),
    });
    match parsed {
        Ok(name) => json!({ "name": name.as_str(), "wildcard": name.is_wildcard() }),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

fn decode_hex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// `retry_after.rs`: `parse(value, now)`, `now` in Unix seconds.
fn retry_after_seconds(input: &Value) -> Value {
    let now = UNIX_EPOCH + Duration::from_secs(input["now"].as_u64().expect("now"));
    match retry_after::parse(text(input, "value"), now) {
        Some(seconds) if seconds > LARGEST_EXACT_WAIT => json!({ "beyond": true }),
        seconds => json!({ "seconds": seconds }),
    }
}

/// What a failure tells the caller: family, kind, retryable (a later attempt may help),
/// retry_now (inside the same call), status, message and the Retry-After seconds.
fn failure_facts(failure: &Failure) -> Value {
    let family = match failure {
        Failure::Rejected { .. } => "rejected",
        Failure::Transport { .. } => "transport",
        Failure::Decode { .. } => "decode",
    };
    json!({
        "family": family,
        "kind": failure.kind().as_str(),
        "retryable": failure.kind().is_retryable(),
        "retry_now": failure.retry_now(),
        "status": failure.status(),
        "message": failure.message(),
        "retry_after": match failure.retry_after() {
            Some(seconds) if seconds > LARGEST_EXACT_WAIT => json!("beyond"),
            seconds => json!(seconds),
        },
    })
}

/// One HTTP response as the client judges it: the `Retry-After` header through
/// `retry_after::parse`, the status and body through `answer::decode`, a well-formed refusal
/// (`success` false) through `Answer::into_rejection`.
fn failure_classification(input: &Value) -> Value {
    let now = UNIX_EPOCH + Duration::from_secs(input["now"].as_u64().unwrap_or(0));
    let retry_after = input["retry_after"]
        .as_str()
        .and_then(|header| retry_after::parse(header, now));
    let status = input["status"].as_u64().expect("status") as u16;
    match answer::decode(status, text(input, "body").as_bytes(), retry_after) {
        Ok(answer) if answer.success => json!({ "success": true }),
        Ok(answer) => failure_facts(&answer.into_rejection()),
        Err(failure) => failure_facts(&failure),
    }
}

/// `answer.rs`: `decode(status, body, None)`: the answer (success, error text, body) or the
/// failure's family, kind, status and message.
fn answer_decoding(input: &Value) -> Value {
    let status = input["status"].as_u64().expect("status") as u16;
    match answer::decode(status, text(input, "body").as_bytes(), None) {
        Ok(answer) => json!({ "answer": {
            "success": answer.success,
            "error": answer.error,
            "body": answer.body,
        } }),
        Err(failure) => {
            let facts = failure_facts(&failure);
            json!({ "failure": {
                "family": facts["family"],
                "kind": facts["kind"],
                "status": facts["status"],
                "message": facts["message"],
            } })
        }
    }
}

/// `operations.rs`: `extract_domains(body)`, the names of a `/getdomains` answer.
fn listing_extraction(input: &Value) -> Value {
    json!({ "domains": extract_domains(&input["body"]) })
}

/// `reconcile.rs`: `plan(listing, desired, options)`. `desired` holds normal forms (the caller
/// validates and deduplicates them first); `listing` null is a listing that could not be read.
fn sync_plan(input: &Value) -> Value {
    let listing = (!input["listing"].is_null()).then(|| strings(&input["listing"]));
    let desired: Vec<DomainName> = strings(&input["desired"])
        .iter()
        .map(|name| DomainName::parse(name).expect("desired names are valid"))
        .collect();
    let options = SyncOptions {
        prune: input["prune"].as_bool().expect("prune"),
        protect: strings(&input["protect"]).into_iter().collect(),
        confirmed: (!input["confirmed"].is_null()).then(|| {
            strings(&input["confirmed"])
                .into_iter()
                .collect::<BTreeSet<_>>()
        }),
        ..SyncOptions::default()
    };
    let plan = reconcile::plan(listing.as_deref(), &desired, &options);
    let names = |list: &[DomainName]| {
        list.iter()
            .map(|n| n.as_str().to_string())
            .collect::<Vec<_>>()
    };
    let kept: Map<String, Value> = plan
        .kept
        .iter()
        .map(|(alias, rule)| (alias.clone(), json!(rule.as_str())))
        .collect();
    json!({
        "to_add": names(&plan.to_add),
        "to_remove": names(&plan.to_remove),
        "unchanged": plan.unchanged,
        "kept": kept,
        "unconfirmed": plan.unconfirmed,
        "skipped": plan.skipped,
    })
}

/// `config.rs`: `Settings::from_lookup` with one setting given its raw value: the value it
/// holds then (seconds as a number) or the exact error. `closte.worker_threads` reports only
/// that it was accepted: the PHP implementation starts no threads and keeps no value.
fn setting(input: &Value) -> Value {
    let name = text(input, "setting");
    let raw = text(input, "raw").to_string();
    let settings = match Settings::from_lookup(|key| (key == name).then(|| raw.clone())) {
        Ok(settings) => settings,
        Err(e) => return json!({ "error": e.0 }),
    };
    let value = match name {
        keys::API_URL => json!(settings.api_url),
        keys::TIMEOUT => json!(settings.timeout.as_secs_f64()),
        keys::CONNECT_TIMEOUT => json!(settings.connect_timeout.as_secs_f64()),
        keys::MAX_RETRIES => json!(settings.max_retries),
        keys::USER_AGENT => json!(settings.user_agent),
        keys::CA_FILE => json!(settings.ca_file.map(|p| p.to_string_lossy().into_owned())),
        keys::PROXY => json!(settings.proxy),
        keys::WORKER_THREADS => return json!({ "accepted": true }),
        keys::DRAIN_TIMEOUT => json!(settings.drain_timeout.as_secs_f64()),
        keys::CONCURRENCY => json!(settings.concurrency),
        keys::RESOLVE => json!(settings.resolve.text()),
        keys::ALLOW_PRIVATE_TARGETS => json!(settings.allow_private_targets),
        keys::TLS_CHECK_PORT => json!(settings.tls_check_port),
        keys::VERIFY_CA_FILE => {
            json!(settings
                .verify_ca_file
                .map(|p| p.to_string_lossy().into_owned()))
        }
        other => panic!("no such setting in the vectors' runner: {other}"),
    };
    json!({ "value": value })
}

fn address(text: &str) -> IpAddr {
    text.parse()
        .unwrap_or_else(|_| panic!("{text} is an IP address"))
}

fn addresses(value: &Value) -> Vec<IpAddr> {
    strings(value).iter().map(|a| address(a)).collect()
}

fn texts(list: &[IpAddr]) -> Vec<String> {
    list.iter().map(IpAddr::to_string).collect()
}

/// `net/address_policy.rs`: `judge(address, allow_private)`.
fn address_judgement(input: &Value) -> Value {
    let allow_private = input["allow_private"].as_bool().expect("allow_private");
    let judgement = address_policy::judge(address(text(input, "address")), allow_private);
    json!({
        "address": judgement.address.to_string(),
        "allowed": judgement.allowed,
        "range": judgement.range.map(|r| r.as_str()),
    })
}

/// `net/dns.rs`: `readiness(addresses, expected_addresses)`.
fn dns_readiness(input: &Value) -> Value {
    let decision = dns::readiness(
        &addresses(&input["addresses"]),
        &addresses(&input["expected_addresses"]),
    );
    json!({
        "ready": decision.ready,
        "reason": decision.reason.as_str(),
        "unexpected": texts(&decision.unexpected),
    })
}

/// `net/certificate.rs`: `covers(name, names)`.
fn certificate_names(input: &Value) -> Value {
    json!({ "covers": certificate::covers(text(input, "name"), &strings(&input["names"])) })
}

/// `net/certificate.rs`: `status(facts, now)`.
fn certificate_status(input: &Value) -> Value {
    let number = |field: &str| {
        input[field]
            .as_i64()
            .unwrap_or_else(|| panic!("{field} is a number"))
    };
    let facts = Facts {
        name: text(input, "name").to_string(),
        names: strings(&input["names"]),
        not_before: number("not_before"),
        not_after: number("not_after"),
        trusted: input["trusted"].as_bool().expect("trusted"),
    };
    let (status, days_left) = certificate::status(&facts, number("now"));
    json!({ "status": status.as_str(), "days_left": days_left })
}

/// `net/dns.rs`: `Overrides::parse(setting)`, then `lookup(name)`.
fn resolve_overrides(input: &Value) -> Value {
    match Overrides::parse(text(input, "setting")) {
        Err(e) => json!({ "error": e.0 }),
        Ok(overrides) => match overrides.lookup(text(input, "name")) {
            Some(found) => json!({ "addresses": texts(&found) }),
            None => json!({ "system": true }),
        },
    }
}

#[test]
fn every_vector_holds() {
    let mut failures = Vec::new();
    for (file, decide) in FAMILIES {
        let doc = load(file);
        assert!(doc["header"]["about"].is_string(), "{file}: header.about");
        let ids: Vec<&str> = cases(&doc)
            .iter()
            .map(|case| case["id"].as_str().expect("every case has an id"))
            .collect();
        assert!(!ids.is_empty(), "{file} has cases");
        let unique: BTreeSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{file}: ids are unique");
        failures.extend(mismatches(file, &doc, decide));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_changed_expected_value_fails_the_run() {
    for (file, decide) in FAMILIES {
        for replacement in [json!(null), json!({ "changed": true })] {
            let mut doc = load(file);
            let case = &mut doc["cases"][0];
            let id = case["id"].as_str().expect("an id").to_string();
            case["expected"] = replacement;
            let reported = mismatches(file, &doc, decide);
            assert_eq!(reported.len(), 1, "{file}: {reported:?}");
            assert!(
                reported[0].starts_with(&format!("{file} {id}:")),
                "{}",
                reported[0]
            );
        }
    }
}

/// Rewrites every `expected` from the current decisions (see the module comment).
#[test]
#[ignore = "regenerates tests/vectors/*.json; run by hand"]
fn regenerate_vectors() {
    for (file, decide) in FAMILIES {
        let doc = load(file);
        let lines: Vec<String> = cases(&doc)
            .iter()
            .map(|case| {
                let expected = decide(&case["input"]);
                let drift = match case.get("drift") {
                    Some(drift) => format!(", \"drift\": {drift}"),
                    None => String::new(),
                };
                format!(
                    "    {{\"id\": {}, \"input\": {}, \"expected\": {}{drift}}}",
                    case["id"], case["input"], expected
                )
            })
            .collect();
        let header = serde_json::to_string_pretty(&doc["header"]).expect("JSON");
        let text = format!(
            "{{\n  \"header\": {},\n  \"cases\": [\n{}\n  ]\n}}\n",
            header.replace('\n', "\n  "),
            lines.join(",\n")
        );
        std::fs::write(vectors_dir().join(file), text).expect("write the vector file");
    }
}
