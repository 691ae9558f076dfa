//! Fuzz target: any bytes through the outbound-message parser must give a message or an error,
//! never a panic, and a parsed message must respect the limits.
//! Run: `cargo +nightly fuzz run parse_soap` from `crates/webhooks/fuzz`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use webhooks::{Limits, parse};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(message) = parse(data, &limits) {
        assert!((1..=100).contains(&message.notifications.len()));
        for notification in &message.notifications {
            assert!(notification.sobject.fields.len() <= limits.max_fields);
        }
    }
});
