//! Property tests (proptest) of the two parsers that see untrusted input: the domain normaliser
//! (operator/customer input) and the answer decoder (whatever comes back over the network).
//! They run in `cargo test`; the longer coverage-guided runs are in fuzz/ (see docs/fuzzing.md).

use closte_core::client::answer::decode;
use closte_core::client::error::ErrorKind;
use closte_core::domain::{DomainName, MAX_LABEL_LEN, MAX_NAME_LEN};
use proptest::prelude::*;

fn check_normal_form(name: &DomainName) {
    let text = name.as_str();
    assert!(text.is_ascii(), "{text:?} is ASCII");
    assert_eq!(text, text.to_ascii_lowercase());
    assert!(text.len() <= MAX_NAME_LEN);
    assert!(!text.ends_with('.'));
    let base = name.base();
    assert_eq!(name.is_wildcard(), text.starts_with("*."));
    let labels: Vec<&str> = base.split('.').collect();
    assert!(labels.len() >= 2, "{text:?} has at least two labels");
    for label in labels {
        assert!(
            !label.is_empty() && label.len() <= MAX_LABEL_LEN,
            "{label:?}"
        );
        assert!(label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        assert!(!label.starts_with('-') && !label.ends_with('-'));
    }
    // Normalising a normal form changes nothing.
    assert_eq!(DomainName::parse(text).as_ref(), Ok(name));
}

/// 4,000 cases per property, or PROPTEST_CASES when set: `make mutants` runs the whole suite once
/// per mutant and sets a smaller number there (scripts/mutants.sh says why).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(4000)
}

/// An ASCII label that is not an IDNA A-label: a label starting with `xn--` must be valid
/// punycode, which random text almost never is, so those are tested apart (rejected below).
fn plain_ascii_label() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?".prop_filter("no A-label prefix", |l| {
        !l.to_ascii_lowercase().starts_with("xn--")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn any_string_is_rejected_or_normalised(input in "\\PC{0,80}") {
        if let Ok(name) = DomainName::parse(&input) {
            check_normal_form(&name);
        }
    }

    #[test]
    fn any_bytes_are_rejected_or_normalised(input in proptest::collection::vec(any::<u8>(), 0..120)) {
        match DomainName::parse_bytes(&input) {
            Ok(name) => check_normal_form(&name),
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("invalid domain \""));
                prop_assert!(!message.contains('\0') && !message.contains('\n'));
            }
        }
    }

    #[test]
    fn host_like_strings_round_trip(
        labels in proptest::collection::vec(plain_ascii_label(), 1..5),
        tld in "[a-zA-Z]{2,10}",
        wildcard in any::<bool>(),
        root_dot in any::<bool>(),
    ) {
        let mut input = labels.join(".") + "." + &tld;
        if wildcard { input = format!("*.{input}"); }
        if root_dot { input.push('.'); }
        let name = DomainName::parse(&input).expect("a well-formed host name is accepted");
        check_normal_form(&name);
        prop_assert_eq!(name.as_str(), input.trim_end_matches('.').to_ascii_lowercase());
    }

    #[test]
    fn a_label_prefixed_labels_are_valid_punycode_or_rejected_as_idna(
        prefix in "[xX][nN]--",
        rest in "[a-zA-Z0-9]{1,6}",
        tld in "[a-z]{2,6}",
    ) {
        // The generator above keeps these out; here they are either real punycode (then in
        // normal form) or refused naming the label: as invalid IDNA, or, when the punycode is
        // valid but decodes to mixed scripts, as a look-alike. Never anything else.
        let input = format!("{prefix}{rest}.{tld}");
        match DomainName::parse(&input) {
            Ok(name) => check_normal_form(&name),
            Err(e) => {
                let message = e.to_string();
                let idna = format!("label \"{}{}\" is not a valid internationalised name", prefix.to_ascii_lowercase(), rest.to_ascii_lowercase());
                prop_assert!(message.contains(&idna) || message.contains("(a look-alike of another name)"), "{}", message);
            }
        }
    }
}

/// Found by the property above: valid punycode whose Unicode form mixes Greek and Latin.
#[test]
fn a_valid_a_label_that_decodes_to_mixed_scripts_is_refused_as_a_look_alike() {
    let message = DomainName::parse("xN--1mGPi.aa").unwrap_err().to_string();
    assert!(
        message.contains("mixes Greek and Latin letters (a look-alike of another name)"),
        "{message}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn any_answer_decodes_or_fails_cleanly(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        match decode(status, &body, None) {
            Ok(answer) => {
                prop_assert!((200..300).contains(&status));
                prop_assert!(answer.body.is_object());
                prop_assert_eq!(answer.status, status);
            }
            Err(failure) => {
                prop_assert_eq!(failure.status(), status);
                prop_assert!(!failure.message().is_empty());
                prop_assert!(failure.message().chars().count() <= 501);
                let expected = match status {
                    500..=599 => Some(ErrorKind::Server),
                    401 | 403 => Some(ErrorKind::Auth),
                    429 => Some(ErrorKind::RateLimited),
                    404 | 405 => Some(ErrorKind::NotFound),
                    200..=299 => Some(ErrorKind::BadResponse),
                    _ => None,
                };
                if let Some(kind) = expected {
                    prop_assert_eq!(failure.kind(), kind);
                }
            }
        }
    }

    #[test]
    fn json_answers_keep_their_error_text(success in any::<bool>(), text in "\\PC{0,40}") {
        let body = serde_json::json!({"success": success, "error": text}).to_string();
        let answer = decode(200, body.as_bytes(), None).expect("a JSON object decodes");
        prop_assert_eq!(answer.success, success);
        // Blank texts count as absent (so a failure message is never empty).
        let expected = (!text.trim().is_empty()).then_some(text.as_str());
        prop_assert_eq!(answer.error.as_deref(), expected);
    }
}
