//! Fuzz target: arbitrary text as the `q` of the sandbox's `query` and `queryAll` (the SOQL
//! engine: parse, resolve against the schema, evaluate, serialise, page) and as a SOSL search,
//! over the tiny demo org. It must answer with records or a Salesforce 400 error, never panic.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use salesforce_sandbox::soql_engine::{QueryLocators, QueryRequest, run_query};
use salesforce_sandbox::{DatasetSize, Sandbox};

fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        Sandbox::builder()
            .dataset(DatasetSize::Tiny, 1)
            .build()
            .expect("sandbox")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sandbox = sandbox();
    let org = sandbox.store().read();
    let locators = QueryLocators::default();
    for include_deleted in [false, true] {
        let request = QueryRequest {
            version: "66.0",
            soql: text,
            include_deleted,
            batch_size: 200,
            now: sandbox.clock().now(),
        };
        if let Err(failure) = run_query(&org, &locators, &request) {
            assert_eq!(failure.status.as_u16(), 400, "{failure:?}");
        }
    }
    if let Err(failure) = salesforce_sandbox::search::sosl::parse(text) {
        assert_eq!(failure.status.as_u16(), 400, "{failure:?}");
    }
});
