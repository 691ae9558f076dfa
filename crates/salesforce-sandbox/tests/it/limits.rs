//! `Sforce-Limit-Info`, `/limits`, the daily quota and versions.

use reqwest::{Method, StatusCode};
use salesforce_core::wire::LimitInfo;
use serde_json::json;

use crate::support::{Org, builder};

fn limit_info(response: &reqwest::Response) -> LimitInfo {
    response.headers()["sforce-limit-info"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn every_api_response_carries_usage_and_the_quota_runs_out() {
    let org = Org::with(builder().daily_api_limit(5)).await;
    let first = org.call(Method::GET, "/limits", None).await;
    let info = limit_info(&first);
    assert_eq!((info.used, info.max), (1, 5));
    let limits: serde_json::Value = first.json().await.unwrap();
    assert_eq!(
        limits["DailyApiRequests"],
        json!({"Max": 5, "Remaining": 4})
    );
    let second = org.call(Method::GET, "/sobjects", None).await;
    assert_eq!(limit_info(&second).used, 2);

    let versions = org
        .client
        .get(format!("{}/services/data/", org.base()))
        .send()
        .await
        .unwrap();
    assert!(versions.headers().get("sforce-limit-info").is_none());
    let versions: serde_json::Value = versions.json().await.unwrap();
    assert!(
        versions.as_array().unwrap().iter().any(|v| v
            == &json!({"label": "Release 62", "url": "/services/data/v62.0", "version": "62.0"}))
    );

    for _ in 0..3 {
        assert_eq!(
            org.call(Method::GET, "/limits", None).await.status(),
            StatusCode::OK
        );
    }
    let refused = org.call(Method::GET, "/limits", None).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(limit_info(&refused).used, 5);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );

    // The next (sandbox) day starts a fresh count (with a fresh token: the old one expired).
    org.admin(Method::POST, "clock", json!({"advanceSeconds": 86_400}))
        .await;
    let token = org.running.sandbox().issue_access_token();
    let response = org
        .client
        .get(org.api("/limits"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(limit_info(&response).used, 1);
}

#[tokio::test]
async fn unknown_versions_and_paths_are_404() {
    let org = Org::start().await;
    let response = org
        .client
        .get(format!("{}/services/data/v12.0/sobjects", org.base()))
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (status, body) = org.json(Method::GET, "/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body[0]["errorCode"], "NOT_FOUND");
}

#[tokio::test]
async fn missing_or_bad_tokens_get_invalid_session_id() {
    let org = Org::start().await;
    let response = org.client.get(org.api("/sobjects")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    let response = org
        .client
        .get(org.api("/sobjects"))
        .bearer_auth("00Dbogus!token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let org = Org::with(builder().max_body_bytes(1024)).await;
    let (status, _) = org
        .json(
            Method::POST,
            "/sobjects/Account",
            Some(json!({"Name": "x".repeat(2048)})),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}
