//! The Reports API over HTTP: the list, running summary and tabular reports, and their numbers
//! checked against independent SOQL counts.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::Org;

async fn soql(org: &Org, query: &str) -> Value {
    let q: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let (status, body) = org.json(Method::GET, &format!("/query?q={q}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn report_id(org: &Org, name: &str) -> String {
    let (status, list) = org.json(Method::GET, "/analytics/reports", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no report {name}: {list}"));
    let id = entry["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("00O") && id.len() == 18);
    assert_eq!(
        entry["url"],
        format!("/services/data/v62.0/analytics/reports/{id}")
    );
    id
}

/// `{group label: row count}` from a summary report's factMap.
fn counts_by_group(body: &Value) -> BTreeMap<String, u64> {
    body["groupingsDown"]["groupings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let key = format!("{}!T", g["key"].as_str().unwrap());
            let fact = &body["factMap"][&key];
            let count = fact["aggregates"].as_array().unwrap().last().unwrap()["value"]
                .as_u64()
                .unwrap();
            assert_eq!(
                fact["rows"].as_array().unwrap().len() as u64,
                count,
                "rows of {key}"
            );
            let label = g["value"].as_str().unwrap_or("").to_owned();
            (label, count)
        })
        .collect()
}

/// `{group: count}` from a SOQL `GROUP BY` query with `COUNT(Id) n`.
async fn soql_counts(org: &Org, query: &str, field: &str) -> BTreeMap<String, u64> {
    let body = soql(org, query).await;
    body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[field].as_str().unwrap_or("").to_owned(),
                r["n"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn open_pipeline_by_stage_matches_soql() {
    let org = Org::start().await;
    let id = report_id(&org, "Open Pipeline by Stage").await;
    let (status, body) = org
        .json(Method::GET, &format!("/analytics/reports/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["attributes"]["reportId"], id.as_str());
    assert_eq!(body["reportMetadata"]["reportFormat"], "SUMMARY");
    assert_eq!(
        body["reportMetadata"]["aggregates"],
        serde_json::json!(["s!AMOUNT", "RowCount"])
    );
    let expected = soql_counts(
        &org,
        "SELECT StageName, COUNT(Id) n FROM Opportunity WHERE IsClosed = false GROUP BY StageName",
        "StageName",
    )
    .await;
    assert!(
        !expected.is_empty(),
        "the tiny dataset has open opportunities"
    );
    assert_eq!(counts_by_group(&body), expected);

    let total = soql(
        &org,
        "SELECT COUNT(Id) n, SUM(Amount) s FROM Opportunity WHERE IsClosed = false",
    )
    .await;
    let grand = &body["factMap"]["T!T"];
    assert_eq!(grand["aggregates"][1]["value"], total["records"][0]["n"]);
    let sum = grand["aggregates"][0]["value"].as_f64().unwrap();
    let expected_sum = total["records"][0]["s"].as_f64().unwrap_or(0.0);
    assert!(
        (sum - expected_sum).abs() < 0.005,
        "{sum} vs {expected_sum}"
    );
    assert!(
        grand["aggregates"][0]["label"]
            .as_str()
            .unwrap()
            .starts_with('$')
    );

    let first_row = &body["factMap"]["0!T"]["rows"][0]["dataCells"];
    assert!(first_row[0]["value"].as_str().unwrap().starts_with("006"));
    assert!(first_row[0]["label"].is_string());
}

#[tokio::test]
async fn leads_by_source_and_cases_by_priority_match_soql() {
    let org = Org::start().await;
    for (name, query, field) in [
        (
            "Leads by Source",
            "SELECT LeadSource, COUNT(Id) n FROM Lead GROUP BY LeadSource",
            "LeadSource",
        ),
        (
            "Cases by Priority",
            "SELECT Priority, COUNT(Id) n FROM Case GROUP BY Priority",
            "Priority",
        ),
    ] {
        let id = report_id(&org, name).await;
        let (status, body) = org
            .json(Method::POST, &format!("/analytics/reports/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            counts_by_group(&body),
            soql_counts(&org, query, field).await,
            "{name}"
        );
    }
}

#[tokio::test]
async fn tabular_report_rows_sit_under_the_grand_total() {
    let org = Org::start().await;
    let id = report_id(&org, "Open Opportunities").await;
    let (_, body) = org
        .json(Method::GET, &format!("/analytics/reports/{id}"), None)
        .await;
    assert_eq!(body["reportMetadata"]["reportFormat"], "TABULAR");
    let open = soql(&org, "SELECT Id FROM Opportunity WHERE IsClosed = false").await;
    let rows = body["factMap"]["T!T"]["rows"].as_array().unwrap();
    assert_eq!(rows.len() as u64, open["totalSize"].as_u64().unwrap());
    assert_eq!(rows[0]["dataCells"].as_array().unwrap().len(), 4);

    let (_, summary) = org
        .json(
            Method::GET,
            &format!("/analytics/reports/{id}?includeDetails=false"),
            None,
        )
        .await;
    assert_eq!(summary["hasDetailRows"], false);
    assert_eq!(summary["factMap"]["T!T"]["rows"], serde_json::json!([]));

    let (status, _) = org
        .json(Method::GET, "/analytics/reports/00O000000000099AAA", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
