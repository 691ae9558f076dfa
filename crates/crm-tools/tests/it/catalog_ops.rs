//! `bulkImport` (with progress notifications), `bulkExport`, `runFlow`, `runReport`,
//! `recentEvents` (from an event source of the test's own) and `getApiUsage` against the sandbox.

use chrono::{Duration, Utc};
use crm_tools::{CrmConfig, EventEntry, EventSource};
use futures::future::BoxFuture;
use mcp_protocol::{Request, RequestEnv, RequestId};
use serde_json::{Map, Value, json};

use crate::support::Bench;

/// Calls a tool with a progress token; returns the result and the progress notifications.
async fn call_with_progress(bench: &Bench, tool: &str, args: Value) -> (Value, Vec<Value>) {
    let (sink, mut notifications) = tokio::sync::mpsc::channel::<mcp_protocol::Message>(64);
    let collector = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(message) = notifications.recv().await {
            if let mcp_protocol::Message::Notification(n) = message
                && n.method == "notifications/progress"
            {
                seen.push(n.params.unwrap_or_default());
            }
        }
        seen
    });
    // The outcome (and with it any clone of the sink) is gone before collecting ends.
    let result = bench
        .server
        .handle_request(
            Request {
                id: RequestId::Number(7),
                method: "tools/call".into(),
                params: Some(json!({
                    "name": tool,
                    "arguments": args,
                    "_meta": {
                        "progressToken": "import-1",
                        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                        "io.modelcontextprotocol/clientCapabilities": {}
                    }
                })),
            },
            None,
            RequestEnv::new(Some(sink)),
        )
        .await
        .response
        .payload
        .expect("a result");
    (result, collector.await.unwrap())
}

#[tokio::test]
async fn bulk_import_inserts_reports_progress_and_lists_failed_rows_then_deletes() {
    let bench = Bench::start().await;
    let before = bench.rows("Lead").len();
    let (result, progress) = call_with_progress(
        &bench,
        "bulkImport",
        json!({"object": "Lead", "operation": "insert", "records": [
            {"LastName": "Okafor", "Company": "Bulk Test Ltd", "Rating": "Hot"},
            {"LastName": "Lindqvist", "Company": "Bulk Test Ltd", "Rating": "Warm"},
            {"LastName": null, "Company": "Nameless Co"}
        ]}),
    )
    .await;
    assert_ne!(result["isError"], json!(true), "{result}");
    let out = &result["structuredContent"];
    assert_eq!(out["submitted"], 3);
    assert_eq!(out["successful"], 2);
    assert_eq!(out["created"], 2);
    assert_eq!(out["failed"], 1);
    let failure = &out["failedRows"][0];
    assert!(
        failure["error"]
            .as_str()
            .unwrap()
            .contains("REQUIRED_FIELD_MISSING"),
        "{failure}"
    );
    assert_eq!(failure["fields"]["Company"], "Nameless Co");
    let leads = bench.rows("Lead");
    assert_eq!(leads.len(), before + 2);
    let created: Vec<String> = out["successfulIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_owned())
        .collect();
    let mut names: Vec<String> = created
        .iter()
        .map(|id| bench.row("Lead", id).text("LastName").unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Lindqvist", "Okafor"]);

    assert!(!progress.is_empty(), "progress notifications while it ran");
    assert!(
        progress
            .iter()
            .all(|p| p["progressToken"] == "import-1" && p["total"].as_f64() == Some(3.0)),
        "{progress:?}"
    );
    assert_eq!(
        progress.last().unwrap()["progress"].as_f64(),
        Some(3.0),
        "{progress:?}"
    );

    let csv = format!("Id\n{}\n{}\n", created[0], created[1]);
    let deleted = bench
        .call(
            "bulkImport",
            json!({"object": "Lead", "operation": "delete", "csv": csv}),
        )
        .await;
    assert_eq!(deleted["successful"], 2);
    assert_eq!(bench.rows("Lead").len(), before);

    let e = bench
        .call_err(
            "bulkImport",
            json!({"object": "Lead", "operation": "insert", "csv": "LastName,Nope__c\nX,1\n"}),
        )
        .await;
    assert!(e.contains("Lead has no field `Nope__c`"), "{e}");
    assert!(e.contains("required column(s) missing: Company"), "{e}");
}

#[tokio::test]
async fn bulk_export_embeds_the_csv_and_shows_the_first_rows() {
    let bench = Bench::with_config(CrmConfig {
        row_cap: 5,
        ..CrmConfig::default()
    })
    .await;
    let result = bench
        .call_raw(
            "bulkExport",
            json!({"soql": "SELECT Id, Name, Industry FROM Account"}),
        )
        .await;
    assert_ne!(result["isError"], json!(true), "{result}");
    let out = &result["structuredContent"];
    let accounts = bench.rows("Account");
    assert_eq!(out["totalRows"], json!(accounts.len()));
    assert_eq!(out["csvRows"], json!(accounts.len()));
    assert_eq!(out["truncated"], false);
    assert_eq!(out["rows"].as_array().unwrap().len(), 5.min(accounts.len()));
    assert_eq!(out["columns"], json!(["Id", "Name", "Industry"]));
    let resource = &result["content"][1];
    assert_eq!(resource["type"], "resource");
    assert_eq!(resource["resource"]["mimeType"], "text/csv");
    let csv = resource["resource"]["text"].as_str().unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut exported: Vec<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    exported.sort();
    let mut expected: Vec<String> = accounts.iter().map(|a| a.id()).collect();
    expected.sort();
    assert_eq!(exported, expected);
    let e = bench
        .call_err(
            "bulkExport",
            json!({"soql": "SELECT Id FROM Account OFFSET 5"}),
        )
        .await;
    assert!(e.contains("no OFFSET"), "{e}");
}

#[tokio::test]
async fn flows_run_by_name_and_reports_return_their_rows() {
    let bench = Bench::start().await;
    let lead = bench.rows("Lead").into_iter().next().unwrap();
    let ran = bench
        .call(
            "runFlow",
            json!({"flow": "Qualify_Lead", "inputs": {"leadId": lead.id(), "rating": "Warm"}}),
        )
        .await;
    assert_eq!(ran["success"], true);
    let after = bench.row("Lead", &lead.id());
    assert_eq!(after.text("Status").as_deref(), Some("Working - Contacted"));
    assert_eq!(after.text("Rating").as_deref(), Some("Warm"));
    let e = bench
        .call_err("runFlow", json!({"flow": "No_Such_Flow"}))
        .await;
    assert!(e.contains("No_Such_Flow"), "{e}");

    let report = bench
        .call("runReport", json!({"reportName": "open pipeline by stage"}))
        .await;
    let open: Vec<_> = bench
        .rows("Opportunity")
        .into_iter()
        .filter(|o| {
            !matches!(
                o.get("IsClosed"),
                salesforce_sandbox::value::Value::Bool(true)
            )
        })
        .collect();
    assert_eq!(report["totalRows"], json!(open.len()));
    let amount: f64 = open.iter().filter_map(|o| o.number("Amount")).sum();
    let total = report["totals"][0]["value"].as_f64().unwrap();
    assert!((total - amount).abs() < 0.01, "{total} vs {amount}");
    let mut stages: Vec<String> = open.iter().filter_map(|o| o.text("StageName")).collect();
    stages.sort();
    stages.dedup();
    assert_eq!(report["groups"].as_array().unwrap().len(), stages.len());
    let e = bench
        .call_err("runReport", json!({"reportName": "by"}))
        .await;
    assert!(e.contains("reportId"), "{e}");
}

/// An event source over entries held newest last, as a feed keeps them; the server's adapter
/// from the worker's feed is tested end to end in the workspace tests (`server_events.rs`).
struct Events(Vec<EventEntry>);

impl EventSource for Events {
    fn recent<'a>(
        &'a self,
        max: usize,
        object: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<EventEntry>, String>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .rev()
                .filter(|e| object.is_none_or(|o| e.object.eq_ignore_ascii_case(o)))
                .take(max)
                .cloned()
                .collect())
        })
    }
}

fn event(n: u32, object: &str, rule: &str, minutes_ago: i64) -> EventEntry {
    let at = Utc::now() - Duration::minutes(minutes_ago);
    let mut fields = Map::new();
    fields.insert("Status".into(), json!(format!("s{n}")));
    EventEntry {
        key: format!("00D000000000001:04l{n:015}"),
        org_id: "00D000000000001AAA".into(),
        action_id: "04k000000000001AAA".into(),
        object: object.into(),
        record_id: Some(format!("00Q{n:012}AAA")),
        fields,
        rules: vec![rule.into()],
        task_ids: Vec::new(),
        received_at: at,
        processed_at: at,
    }
}

#[tokio::test]
async fn recent_events_are_listed_only_with_a_feed_and_filter_by_object_type_and_time() {
    let source = Events(
        [
            (1, "Lead", "lead-follow-up", 120),
            (2, "Opportunity", "opportunity-stage", 60),
            (3, "Lead", "lead-follow-up", 30),
            (4, "Lead", "other", 5),
        ]
        .into_iter()
        .map(|(n, object, rule, ago)| event(n, object, rule, ago))
        .collect(),
    );
    let without = Bench::start().await;
    assert!(!without.listed_tools().await.contains("recentEvents"));
    let bench =
        Bench::with_tools(CrmConfig::default(), |b| b, None, |t| t.with_events(source)).await;
    assert!(bench.listed_tools().await.contains("recentEvents"));
    let all = bench.call("recentEvents", json!({})).await;
    assert_eq!(all["returned"], 4);
    assert_eq!(
        all["events"][0]["recordId"], "00Q000000000004AAA",
        "newest first"
    );
    let leads = bench
        .call(
            "recentEvents",
            json!({"object": "lead", "type": "lead-follow-up"}),
        )
        .await;
    let ids: Vec<&str> = leads["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["recordId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["00Q000000000003AAA", "00Q000000000001AAA"]);
    let since = (Utc::now() - Duration::minutes(90)).to_rfc3339();
    let recent = bench
        .call("recentEvents", json!({"since": since, "limit": 2}))
        .await;
    assert_eq!(recent["returned"], 2);
    assert_eq!(
        recent["more"], true,
        "three events are newer than 90 minutes"
    );
    assert_eq!(recent["events"][1]["fields"]["Status"], "s3");
}

#[tokio::test]
async fn api_usage_reports_the_orgs_limits_and_our_own_requests() {
    let bench = Bench::custom(CrmConfig::default(), |b| b.daily_api_limit(5_000), None).await;
    let first = bench.call("getApiUsage", json!({})).await;
    let second = bench.call("getApiUsage", json!({})).await;
    assert_eq!(first["dailyApiRequests"]["max"], 5_000);
    let used = |v: &Value| v["dailyApiRequests"]["used"].as_i64().unwrap();
    let sent = |v: &Value| v["sfmcp"]["requestsSent"].as_i64().unwrap();
    assert_eq!(
        used(&second) - used(&first),
        1,
        "one /limits request in between"
    );
    assert_eq!(sent(&second) - sent(&first), 1);
    assert!(sent(&first) >= 1);
    assert_eq!(second["sfmcp"]["lastReportedMax"], 5_000);
}
