//! Integration tests of `salesforce-core` through its public API only.

mod soql_roundtrip;
