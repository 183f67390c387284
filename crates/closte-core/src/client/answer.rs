//! Decoding Closte's answers: `{"success": true, ...}` or `{"success": false, "error": "..."}`.
//!
//! Decoding is lenient where Closte's format is loose (`success` as bool, number or string;
//! `error` or `message`) and strict where it matters: a body that is not a JSON object is a
//! [`Failure::Decode`], never a silent success.

use serde_json::Value;

use super::error::{classify_rejection, Failure};

/// Longest error text we keep from a body (a proxy may send a whole page).
const MAX_MESSAGE_CHARS: usize = 500;

/// A well-formed Closte answer (HTTP 2xx, JSON object). `success` may still be false: what a
/// refusal means (e.g. "already exists" is fine for an add) is the operation's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub success: bool,
    pub error: Option<String>,
    pub body: Value,
}

impl Answer {
    /// A refusal as a failure, classified from status and Closte's text.
    pub fn into_rejection(self) -> Failure {
        let message = self
            .error
            .clone()
            .unwrap_or_else(|| "Closte answered success=false without an error text".to_string());
        Failure::Rejected {
            status: self.status,
            kind: classify_rejection(self.status, &message),
            message,
            retry_after: None,
            body: Some(self.body),
        }
    }
}

/// Turns one HTTP response into an [`Answer`] or a [`Failure`].
pub fn decode(status: u16, body: &[u8], retry_after: Option<u64>) -> Result<Answer, Failure> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if !(200..300).contains(&status) {
        let text = parsed
            .as_ref()
            .and_then(error_text)
            .unwrap_or_else(|| describe_http_failure(status, body, parsed.is_some()));
        return Err(Failure::Rejected {
            status,
            kind: classify_rejection(status, &text),
            message: text,
            retry_after,
            body: parsed.filter(Value::is_object),
        });
    }
    let Some(value) = parsed else {
        return Err(Failure::Decode {
            status,
            message: describe_undecodable(body),
        });
    };
    if !value.is_object() {
        return Err(Failure::Decode {
            status,
            message: format!(
                "expected a JSON object from Closte, got {}",
                json_type_name(&value)
            ),
        });
    }
    if let Some(message) = too_large(&value) {
        return Err(Failure::Decode { status, message });
    }
    let success = value.get("success").map(truthy).unwrap_or(false);
    let error = error_text(&value);
    Ok(Answer {
        status,
        success,
        error,
        body: value,
    })
}

/// Most JSON values an answer may hold outside its `domains` list. Every answer becomes a PHP
/// array (`response`); a body under the size cap can still hold a million tiny objects, which
/// PHP could not convert within a usual `memory_limit` (a fatal error inside the call).
pub const MAX_ANSWER_VALUES: usize = 10_000;

/// Most aliases a listing may name (each kept as one string in `domains`).
pub const MAX_LISTED_DOMAINS: usize = 100_000;

/// Why an answer is too large to hand to PHP, or `None`.
fn too_large(body: &Value) -> Option<String> {
    let listed = body
        .get("domains")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if listed > MAX_LISTED_DOMAINS {
        return Some(format!(
            "Closte's answer lists {listed} domains, more than the {MAX_LISTED_DOMAINS} accepted"
        ));
    }
    let values = count_values(body, MAX_ANSWER_VALUES + 1, true);
    (values > MAX_ANSWER_VALUES).then(|| {
        format!("Closte's answer holds more than {MAX_ANSWER_VALUES} JSON values: not converted")
    })
}

/// JSON values in `value`, counting at most `limit` (the top-level `domains` list, which the
/// client reduces to names, is left out when `skip_domains`).
fn count_values(value: &Value, limit: usize, skip_domains: bool) -> usize {
    let mut count = 1;
    let children: Box<dyn Iterator<Item = &Value>> = match value {
        Value::Array(items) => Box::new(items.iter()),
        Value::Object(map) => Box::new(
            map.iter()
                .filter(move |(k, _)| !(skip_domains && k.as_str() == "domains"))
                .map(|(_, v)| v),
        ),
        _ => Box::new(std::iter::empty()),
    };
    for child in children {
        if count >= limit {
            break;
        }
        count += count_values(child, limit - count, false);
    }
    count
}

/// `success` as Closte may spell it: `true`, `1`, `"1"`, `"true"`.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "1" | "true" | "ok"),
        _ => false,
    }
}

/// Closte's error text. Blank texts count as absent, so a message is never empty.
fn error_text(value: &Value) -> Option<String> {
    ["error", "message", "msg"]
        .iter()
        .filter_map(|key| value.get(*key))
        .find_map(|v| match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::String(_) | Value::Null | Value::Bool(_) => None,
            other => Some(other.to_string()),
        })
        .map(|s| cap(&s))
}

fn describe_http_failure(status: u16, body: &[u8], is_json: bool) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let what = if body.is_empty() {
        "empty body".to_string()
    } else if is_json {
        "JSON without an error text".to_string()
    } else if looks_like_html(body) {
        "HTML page".to_string()
    } else {
        format!("{} bytes, not JSON", body.len())
    };
    format!("HTTP {status} {reason} ({what})").replace("  ", " ")
}

fn describe_undecodable(body: &[u8]) -> String {
    if body.is_empty() {
        "Closte answered with an empty body".to_string()
    } else if looks_like_html(body) {
        "Closte answered with an HTML page instead of JSON".to_string()
    } else {
        let preview: String = String::from_utf8_lossy(&body[..body.len().min(60)])
            .chars()
            .flat_map(char::escape_debug)
            .collect();
        format!(
            "Closte answered with malformed JSON ({} bytes, starts \"{preview}\")",
            body.len()
        )
    }
}

fn looks_like_html(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(256)]).to_ascii_lowercase();
    let head = head.trim_start();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<body")
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn cap(text: &str) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_of_exactly_the_limit_is_accepted_and_one_more_is_not() {
        let listing = |n: usize| serde_json::json!({ "domains": vec!["a.example"; n] });
        assert_eq!(too_large(&listing(MAX_LISTED_DOMAINS)), None);
        let refused = too_large(&listing(MAX_LISTED_DOMAINS + 1)).expect("too many");
        assert!(refused.contains("lists 100001 domains"), "{refused}");
    }

    #[test]
    fn counting_stops_at_the_limit_however_deep_the_values_are() {
        let nested = serde_json::json!([[1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3], {"a": [1, 2, 3]}]);
        assert_eq!(
            count_values(&nested, 1_000, false),
            19,
            "all of them under the limit"
        );
        for limit in [1, 5, 10, 18, 19] {
            assert_eq!(count_values(&nested, limit, false), limit, "limit {limit}");
        }
    }

    #[test]
    fn an_answer_of_many_small_values_is_a_bad_response_not_a_php_fatal() {
        let many = format!(
            "{{\"success\":true,\"data\":[{}]}}",
            vec!["{}"; 50_000].join(",")
        );
        let failure = decode(200, many.as_bytes(), None).unwrap_err();
        assert_eq!(failure.kind(), ErrorKind::BadResponse);
        assert!(
            failure.message().contains("more than 10000 JSON values"),
            "{}",
            failure.message()
        );
        // A large listing of names is fine: the domains are kept as strings, not as a tree.
        let names: Vec<String> = (0..20_000)
            .map(|i| format!("\"d{i}.example.com\""))
            .collect();
        let listing = format!("{{\"success\":true,\"domains\":[{}]}}", names.join(","));
        assert!(decode(200, listing.as_bytes(), None).is_ok());
        let exactly = format!(
            "{{\"data\":[{}]}}",
            vec!["1"; MAX_ANSWER_VALUES - 2].join(",")
        );
        assert!(
            decode(200, exactly.as_bytes(), None).is_ok(),
            "the cap itself is accepted"
        );
    }
    use crate::client::error::ErrorKind;

    #[test]
    fn success_and_refusal_decode() {
        let ok = decode(200, br#"{"success":true,"id":7}"#, None).unwrap();
        assert!(ok.success);
        assert_eq!(ok.body["id"], 7);
        let no = decode(
            200,
            br#"{"success":false,"error":"Invalid or empty domain: "}"#,
            None,
        )
        .unwrap();
        assert!(!no.success);
        assert_eq!(no.error.as_deref(), Some("Invalid or empty domain: "));
        let failure = no.into_rejection();
        assert_eq!(failure.kind(), ErrorKind::InvalidDomain);
        assert_eq!(failure.message(), "Invalid or empty domain: ");
    }

    #[test]
    fn lenient_success_spellings() {
        for body in [
            r#"{"success":1}"#,
            r#"{"success":"true"}"#,
            r#"{"success":"1"}"#,
            r#"{"success":true}"#,
        ] {
            assert!(
                decode(200, body.as_bytes(), None).unwrap().success,
                "{body}"
            );
        }
        for body in [
            r#"{"success":0}"#,
            r#"{"success":"no"}"#,
            r#"{}"#,
            r#"{"success":null}"#,
        ] {
            assert!(
                !decode(200, body.as_bytes(), None).unwrap().success,
                "{body}"
            );
        }
        let msg = decode(200, br#"{"success":false,"message":"Denied"}"#, None).unwrap();
        assert_eq!(msg.error.as_deref(), Some("Denied"));
    }

    #[test]
    fn garbage_is_a_decode_failure() {
        let cases: [(&[u8], &str); 5] = [
            (b"", "empty body"),
            (
                b"<!DOCTYPE html><html><body>oops</body></html>",
                "HTML page",
            ),
            (b"{\"success\":tru", "malformed JSON"),
            (b"[1,2]", "an array"),
            (b"\"ok\"", "a string"),
        ];
        for (body, expect) in cases {
            let err = decode(200, body, None).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BadResponse);
            assert!(
                err.message().contains(expect),
                "{}: {}",
                expect,
                err.message()
            );
        }
    }

    #[test]
    fn http_errors_are_rejections() {
        let err = decode(
            503,
            b"<html><body>Service Unavailable</body></html>",
            Some(3),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(err.status(), 503);
        assert_eq!(err.retry_after(), Some(3));
        assert!(err.message().contains("HTTP 503"), "{}", err.message());
        assert!(err.message().contains("HTML page"));
        let err = decode(401, br#"{"success":false,"error":"Invalid API key"}"#, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth);
        assert_eq!(err.message(), "Invalid API key");
        let err = decode(404, b"", None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(err.message(), "HTTP 404 Not Found (empty body)");
        let err = decode(429, b"slow down", Some(2)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
    }

    #[test]
    fn blank_error_texts_never_make_an_empty_message() {
        // Found by cargo-fuzz: a non-2xx answer whose "error" is "" gave an empty message.
        let err = decode(503, br#"{"success":false,"error":""}"#, None).unwrap_err();
        assert_eq!(
            err.message(),
            "HTTP 503 Service Unavailable (JSON without an error text)"
        );
        let err = decode(188, br#"{".ess":false,"error":""}"#, None).unwrap_err();
        assert!(!err.message().is_empty());
        let refusal = decode(
            200,
            br#"{"success":false,"error":"  ","message":"Denied"}"#,
            None,
        )
        .unwrap();
        assert_eq!(refusal.error.as_deref(), Some("Denied"));
        let bare = decode(200, br#"{"success":false,"error":""}"#, None).unwrap();
        assert_eq!(bare.error, None);
        assert!(!bare.into_rejection().message().is_empty());
    }

    #[test]
    fn html_is_recognised_by_its_start_or_a_body_tag_in_any_case() {
        for page in [
            &b"<!DOCTYPE html><title>502</title>"[..],
            b"\n  <HTML><head></head></html>",
            b"<?xml version=\"1.0\"?><html><BODY>nginx</BODY></html>",
        ] {
            let err = decode(200, page, None).unwrap_err();
            assert_eq!(
                err.message(),
                "Closte answered with an HTML page instead of JSON",
                "{}",
                String::from_utf8_lossy(page)
            );
        }
        // Markup without those signs is reported as what it is, with its first bytes.
        let err = decode(200, b"<error>busy</error>", None).unwrap_err();
        assert_eq!(
            err.message(),
            "Closte answered with malformed JSON (19 bytes, starts \"<error>busy</error>\")"
        );
        // Only the first 256 bytes are looked at.
        let late = format!("{}<body>", "x".repeat(300));
        assert!(!looks_like_html(late.as_bytes()));
    }

    #[test]
    fn a_refusal_without_a_text_says_so_and_keeps_its_body() {
        let answer = decode(200, br#"{"success":false,"code":7}"#, None).unwrap();
        let failure = answer.into_rejection();
        assert_eq!(
            failure.message(),
            "Closte answered success=false without an error text"
        );
        assert_eq!(failure.status(), 200);
        assert_eq!(failure.body().unwrap()["code"], 7);
        // A number or an object as the error text is kept as JSON text, not dropped.
        let answer = decode(200, br#"{"success":false,"error":{"code":7}}"#, None).unwrap();
        assert_eq!(answer.error.as_deref(), Some(r#"{"code":7}"#));
    }

    #[test]
    fn long_error_texts_are_capped() {
        let body = format!(r#"{{"success":false,"error":"{}"}}"#, "x".repeat(5000));
        let answer = decode(200, body.as_bytes(), None).unwrap();
        let text = answer.error.unwrap();
        assert_eq!(text.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(text.ends_with('…'), "the cut is marked");
        let exactly = "y".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(cap(&exactly), exactly, "a text at the cap is kept whole");
    }
}
