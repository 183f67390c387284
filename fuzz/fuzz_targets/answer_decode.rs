//! Any HTTP status and body into the answer decoder: never a panic; a success is a 2xx JSON
//! object; a failure keeps the status and has a bounded, non-empty message.
#![no_main]

use closte_core::client::answer::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = 100 + (u16::from_le_bytes([data[0], data[1]]) % 500);
    match decode(status, &data[2..], None) {
        Ok(answer) => {
            assert!((200..300).contains(&status));
            assert!(answer.body.is_object());
        }
        Err(failure) => {
            assert_eq!(failure.status(), status);
            assert!(!failure.message().is_empty());
            assert!(failure.message().chars().count() <= 501);
        }
    }
});
