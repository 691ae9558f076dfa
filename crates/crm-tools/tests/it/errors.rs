//! Salesforce failures reach the model as `isError` results that say what to do next.

use crm_tools::CrmConfig;
use serde_json::json;

use crate::support::Bench;

#[tokio::test]
async fn an_expired_session_asks_for_reauthorization() {
    let bench = Bench::custom(CrmConfig::default(), |b| b, Some("00Dexpired!token")).await;
    let message = bench
        .call_err("searchLeads", json!({"rating": ["Hot"]}))
        .await;
    assert!(message.contains("re-authorize"), "{message}");
    assert!(
        !message.contains("00Dexpired"),
        "no token in messages: {message}"
    );
}

#[tokio::test]
async fn exhausted_api_limits_say_try_later() {
    let bench = Bench::custom(CrmConfig::default(), |b| b.daily_api_limit(3), None).await;
    let mut last = None;
    for _ in 0..10 {
        let result = bench.call_raw("search", json!({"query": "Acme"})).await;
        if result["isError"] == json!(true) {
            last = result["content"][0]["text"].as_str().map(str::to_owned);
            break;
        }
    }
    let message = last.expect("the limit is reached within ten calls");
    assert!(message.contains("try again later"), "{message}");
}
