//! Fuzz target: arbitrary text through the SOQL parser (the one both the sandbox's engine and the
//! client's guard use). It must never panic, and whatever parses must print back to SOQL that
//! parses to the same tree.

#![no_main]

use libfuzzer_sys::fuzz_target;
use salesforce_core::soql;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(query) = soql::parse(text) {
        let printed = query.to_string();
        let reparsed = soql::parse(&printed).expect("printed SOQL parses");
        assert_eq!(reparsed, query, "print/parse round trip changed the tree: {printed}");
    }
});
