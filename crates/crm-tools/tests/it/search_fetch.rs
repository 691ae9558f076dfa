//! `search` and `fetch` in the shape ChatGPT's deep research requires.

use std::collections::BTreeSet;

use salesforce_core::id::RecordId;
use serde_json::{Value, json};

use crate::support::{Bench, contains};

/// The one text content a search/fetch result must consist of, parsed.
fn only_text_json(result: &Value) -> Value {
    let content = result["content"].as_array().unwrap();
    assert_eq!(content.len(), 1, "{result}");
    assert_eq!(content[0]["type"], "text");
    serde_json::from_str(content[0]["text"].as_str().unwrap()).unwrap()
}

/// What `search` should find for `query` in the store: every word in one of the name fields.
pub fn expected_search(bench: &Bench, query: &str) -> BTreeSet<String> {
    let words: Vec<&str> = query.split_whitespace().collect();
    let objects: [(&str, &[&str]); 5] = [
        ("Lead", &["Name", "Company", "Email"]),
        ("Contact", &["Name", "Email"]),
        ("Account", &["Name"]),
        ("Opportunity", &["Name"]),
        ("Case", &["Subject", "CaseNumber"]),
    ];
    let mut found = BTreeSet::new();
    for (object, fields) in objects {
        let matching: Vec<String> = bench
            .rows(object)
            .into_iter()
            .filter(|r| {
                words
                    .iter()
                    .all(|w| fields.iter().any(|f| contains(r.text(f).as_deref(), w)))
            })
            .map(|r| r.id())
            .collect();
        assert!(
            matching.len() <= 5,
            "{object}: more than a page for {query}"
        );
        found.extend(matching);
    }
    found
}

#[tokio::test]
async fn search_then_fetch_like_deep_research() {
    let bench = Bench::start().await;
    let account = bench
        .insert(
            "Account",
            json!({"Name": "Globex Quantum Systems", "Industry": "Technology"}),
        )
        .await;
    let opportunity = bench
        .insert(
            "Opportunity",
            json!({"Name": "Globex Quantum Renewal", "AccountId": account, "StageName": "Negotiation/Review",
                   "Amount": 250000, "CloseDate": "2026-12-31", "Description": "Three-year renewal."}),
        )
        .await;
    bench
        .insert("Account", json!({"Name": "Globex Logistics"}))
        .await;

    let result = bench
        .call_raw("search", json!({"query": "globex  QUANTUM"}))
        .await;
    let body = only_text_json(&result);
    let results = body["results"].as_array().unwrap();
    let found: BTreeSet<String> = results
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(found, expected_search(&bench, "globex  QUANTUM"));
    assert!(found.contains(&account) && found.contains(&opportunity));
    let hit = results
        .iter()
        .find(|r| r["id"] == json!(opportunity))
        .unwrap();
    assert_eq!(
        hit["title"],
        "Opportunity: Globex Quantum Renewal (Globex Quantum Systems, Negotiation/Review)"
    );
    assert_eq!(
        hit["url"],
        json!(format!(
            "{}/lightning/r/Opportunity/{opportunity}/view",
            bench.base_url
        ))
    );

    let result = bench.call_raw("fetch", json!({"id": opportunity})).await;
    let doc = only_text_json(&result);
    assert_eq!(doc["id"], json!(opportunity));
    assert_eq!(doc["title"], hit["title"]);
    assert_eq!(doc["url"], hit["url"]);
    let text = doc["text"].as_str().unwrap();
    for line in [
        "Stage Name: Negotiation/Review",
        "Amount: 250,000.00",
        "Close Date: 2026-12-31",
        "Account: Globex Quantum Systems",
        "Three-year renewal.",
    ] {
        assert!(text.contains(line), "{line} missing from {text}");
    }
    assert_eq!(doc["metadata"]["object"], "Opportunity");
    assert_eq!(doc["metadata"]["StageName"], "Negotiation/Review");

    let empty = only_text_json(
        &bench
            .call_raw("search", json!({"query": "zzqx-nothing"}))
            .await,
    );
    assert_eq!(empty, json!({"results": []}));
    let message = bench
        .call_err("fetch", json!({"id": bench.rows("User")[0].id()}))
        .await;
    assert!(message.contains("User id"), "{message}");
    let missing = RecordId::mint("006", 999_999).as_str().to_owned();
    let message = bench.call_err("fetch", json!({"id": missing})).await;
    assert!(message.contains("no Opportunity has id"), "{message}");
    let message = bench.call_err("search", json!({"query": "   "})).await;
    assert!(message.contains("blank"), "{message}");
}
