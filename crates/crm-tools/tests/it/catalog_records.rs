//! The generic record tools on standard and custom objects: describe validation, the record
//! cache, the writable-object allow-list, read-only listing and the audit log.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crm_tools::{AUDIT_TARGET, CrmConfig, WRITE_TOOL_NAMES};
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::catalog_query::invoice_bench;
use crate::support::Bench;

/// Audit lines captured from `sfmcp::audit`, as field name → value.
#[derive(Clone, Default)]
struct AuditLines(Arc<Mutex<Vec<BTreeMap<String, String>>>>);

struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> Layer<S> for AuditLines {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == AUDIT_TARGET {
            let mut fields = Fields(BTreeMap::new());
            event.record(&mut fields);
            self.0.lock().unwrap().push(fields.0);
        }
    }
}

impl AuditLines {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(tracing_subscriber::registry().with(self.clone()))
    }

    fn take(&self) -> Vec<BTreeMap<String, String>> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn line(tool: &str, object: &str, record_id: &str, outcome: &str) -> BTreeMap<String, String> {
    [
        ("message", "CRM write"),
        ("principal", "-"),
        ("tool", tool),
        ("object", object),
        ("record_id", record_id),
        ("records", if outcome == "succeeded" { "1" } else { "0" }),
        ("outcome", outcome),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[tokio::test]
async fn custom_records_are_created_read_updated_and_deleted_with_an_audit_line_each() {
    let audit = AuditLines::default();
    let _guard = audit.install();
    let bench = invoice_bench(CrmConfig::default()).await;
    let account = bench.rows("Account").into_iter().next().unwrap().id();
    let created = bench
        .call(
            "createRecord",
            json!({"object": "Invoice__c", "fields": {
                "Name": "INV-0001", "Amount__c": 1250.5, "Status__c": "Sent", "Due__c": "2026-12-31", "Account__c": account
            }}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let row = bench.row("Invoice__c", &id);
    assert_eq!(row.number("Amount__c"), Some(1250.5));
    assert_eq!(row.text("Status__c").as_deref(), Some("Sent"));
    assert_eq!(created["record"]["Amount__c"], json!(1250.5));

    let read = bench.call("getRecord", json!({"id": id})).await;
    assert_eq!(read["object"], "Invoice__c");
    assert_eq!(read["record"]["Account__c"], json!(account));

    bench
        .call(
            "updateRecord",
            json!({"id": id, "fields": {"Status__c": "Paid", "Due__c": null}}),
        )
        .await;
    let row = bench.row("Invoice__c", &id);
    assert_eq!(row.text("Status__c").as_deref(), Some("Paid"));

    let deleted = bench
        .call("deleteRecord", json!({"object": "Invoice__c", "id": id}))
        .await;
    assert_eq!(deleted["deleted"], true);
    assert!(bench.rows("Invoice__c").is_empty());

    assert_eq!(
        audit.take(),
        vec![
            line("createRecord", "Invoice__c", &id, "succeeded"),
            line("updateRecord", "Invoice__c", &id, "succeeded"),
            line("deleteRecord", "Invoice__c", &id, "succeeded"),
        ],
        "one line per write, no field values"
    );
}

#[tokio::test]
async fn describe_validation_names_every_problem_and_writes_nothing() {
    let bench = invoice_bench(CrmConfig::default()).await;
    let e = bench
        .call_err(
            "createRecord",
            json!({"object": "Invoice__c", "fields": {
                "Status__c": "Lost", "Due__c": "31/12/2026", "Bogus__c": 1, "CreatedDate": "2026-01-01T00:00:00Z"
            }}),
        )
        .await;
    for expected in [
        "nothing was created",
        "Invoice__c has no field `Bogus__c`",
        "`Lost` is not a value of the Status__c picklist (values: Draft, Sent, Paid)",
        "Due__c is a date field and takes a date as YYYY-MM-DD",
        "CreatedDate cannot be set on create",
        "required field(s) missing: Name, Amount__c",
    ] {
        assert!(e.contains(expected), "{expected} in {e}");
    }
    assert!(bench.rows("Invoice__c").is_empty());
    let contact = bench.rows("Contact").into_iter().next().unwrap();
    let e = bench
        .call_err(
            "updateRecord",
            json!({"id": contact.id(), "fields": {"Name": "X", "Email": 7}}),
        )
        .await;
    assert!(e.contains("Name cannot be updated"), "{e}");
    assert!(e.contains("Email is a email field and takes text"), "{e}");
    let account = bench.rows("Account").into_iter().next().unwrap();
    let e = bench
        .call_err(
            "getRecord",
            json!({"id": account.id(), "object": "Contact"}),
        )
        .await;
    assert!(e.contains("not a Contact id"), "{e}");
}

#[tokio::test]
async fn hot_records_are_cached_until_our_own_write() {
    let bench = Bench::start().await;
    let account = bench.rows("Account").into_iter().next().unwrap();
    let first = bench
        .call(
            "getRecord",
            json!({"id": account.id(), "fields": ["Name", "Industry"]}),
        )
        .await;
    assert_eq!(first["cached"], false);
    assert_eq!(
        first["record"]["Name"].as_str(),
        account.text("Name").as_deref()
    );
    let again = bench
        .call(
            "getRecord",
            json!({"id": account.id(), "fields": ["Name", "Industry"]}),
        )
        .await;
    assert_eq!(again["cached"], true);
    bench
        .call(
            "updateRecord",
            json!({"id": account.id(), "fields": {"Name": "Renamed Holdings"}}),
        )
        .await;
    let after = bench
        .call(
            "getRecord",
            json!({"id": account.id(), "fields": ["Name", "Industry"]}),
        )
        .await;
    assert_eq!(after["cached"], false);
    assert_eq!(after["record"]["Name"], "Renamed Holdings");
    let lead = bench.rows("Lead").into_iter().next().unwrap();
    for _ in 0..2 {
        let read = bench.call("getRecord", json!({"id": lead.id()})).await;
        assert_eq!(read["cached"], false, "leads are not reference records");
    }
}

#[tokio::test]
async fn the_allow_list_is_checked_per_call_and_refusals_are_audited() {
    let audit = AuditLines::default();
    let _guard = audit.install();
    let bench = Bench::with_config(CrmConfig {
        writable_objects: Some(["Task".to_owned()].into_iter().collect()),
        ..CrmConfig::default()
    })
    .await;
    let listed = bench.listed_tools().await;
    assert!(listed.contains("createRecord"));
    assert!(!listed.contains("runFlow"), "a Flow could write anything");
    let before = bench.rows("Account").len();
    let e = bench
        .call_err(
            "createRecord",
            json!({"object": "Account", "fields": {"Name": "Not Allowed Inc"}}),
        )
        .await;
    assert!(e.contains("does not allow changing Account records"), "{e}");
    assert!(e.contains("writable objects: Task"), "{e}");
    assert_eq!(bench.rows("Account").len(), before);
    let account = bench.rows("Account").into_iter().next().unwrap().id();
    let e = bench.call_err("deleteRecord", json!({"id": account})).await;
    assert!(e.contains("does not allow"), "{e}");
    let task = bench
        .call(
            "createRecord",
            json!({"object": "Task", "fields": {"Subject": "Call back"}}),
        )
        .await;
    let task_id = task["id"].as_str().unwrap();
    assert_eq!(
        audit.take(),
        vec![
            line("createRecord", "Account", "", "refused"),
            line("deleteRecord", "Account", &account, "refused"),
            line("createRecord", "Task", task_id, "succeeded"),
        ]
    );
}

#[tokio::test]
async fn read_only_mode_lists_no_write_tool() {
    let bench = Bench::with_config(CrmConfig {
        read_only: true,
        ..CrmConfig::default()
    })
    .await;
    let listed = bench.listed_tools().await;
    for write in WRITE_TOOL_NAMES {
        assert!(!listed.contains(write), "{write} listed in read-only mode");
    }
    let tools = bench.request("tools/list", json!({})).await.unwrap();
    for tool in tools["tools"].as_array().unwrap() {
        assert_eq!(
            tool["annotations"]["readOnlyHint"], true,
            "{}",
            tool["name"]
        );
    }
    let writable = Bench::start()
        .await
        .request("tools/list", json!({}))
        .await
        .unwrap();
    let delete = writable["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "deleteRecord")
        .unwrap();
    assert_eq!(delete["annotations"]["destructiveHint"], true);
}
