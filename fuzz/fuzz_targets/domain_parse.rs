//! Any bytes into the domain normaliser: never a panic; an accepted name is in normal form
//! (ASCII, lower case, length limits, letters/digits/hyphens) and normalises to itself.
#![no_main]

use closte_core::domain::{DomainName, MAX_LABEL_LEN, MAX_NAME_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match DomainName::parse_bytes(data) {
        Ok(name) => {
            let text = name.as_str();
            assert!(text.is_ascii() && text.len() <= MAX_NAME_LEN);
            assert_eq!(text, text.to_ascii_lowercase());
            for label in name.base().split('.') {
                assert!(!label.is_empty() && label.len() <= MAX_LABEL_LEN);
                assert!(label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
            }
            assert_eq!(DomainName::parse(text).as_ref(), Ok(&name));
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.starts_with("invalid domain \""));
            assert!(!message.contains('\0') && !message.contains('\n'));
            assert!(message.len() < 1000);
        }
    }
});
