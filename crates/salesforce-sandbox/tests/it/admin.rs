//! The admin API: faults, sessions, datasets and the request log.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::Org;

#[tokio::test]
async fn fault_injection_and_session_expiry() {
    let org = Org::start().await;
    org.admin(Method::PUT, "faults", json!({"errorRate": 1.0}))
        .await;
    let (status, body) = org.json(Method::GET, "/limits", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body[0]["errorCode"], "SERVER_UNAVAILABLE");
    org.admin(Method::PUT, "faults", json!({"dropRate": 1.0}))
        .await;
    assert!(
        org.client
            .get(org.api("/limits"))
            .bearer_auth(&org.token)
            .send()
            .await
            .is_err()
    );
    org.admin(Method::PUT, "faults", json!({})).await;
    assert_eq!(
        org.call(Method::GET, "/limits", None).await.status(),
        StatusCode::OK
    );

    org.admin(Method::POST, "sessions/expire", json!({})).await;
    assert_eq!(
        org.call(Method::GET, "/limits", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn datasets_reload_deterministically_and_requests_are_logged() {
    let org = Org::start().await;
    let first = org
        .admin(Method::POST, "dataset", json!({"size": "tiny", "seed": 5}))
        .await;
    assert_eq!(first["Lead"], 40);
    let (_, a) = org.json(Method::GET, "/sobjects/Lead/describe", None).await;
    let second = org
        .admin(Method::POST, "dataset", json!({"size": "tiny", "seed": 5}))
        .await;
    assert_eq!(first, second);
    let (_, b) = org.json(Method::GET, "/sobjects/Lead/describe", None).await;
    assert_eq!(a, b);
    let log = org.admin(Method::GET, "log", json!({})).await;
    assert!(
        log.as_array().unwrap().iter().any(|e| e["path"]
            == "/services/data/v62.0/sobjects/Lead/describe"
            && e["status"] == 200)
    );
    let response = org
        .client
        .post(format!("{}/__sandbox/dataset", org.base()))
        .json(&json!({"size": "huge"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn start_local_serves_until_shut_down() {
    let running = salesforce_sandbox::Sandbox::start_local().await.unwrap();
    let base = running.base_url();
    assert!(base.starts_with("http://127.0.0.1:"));
    let client = reqwest::Client::new();
    let versions = client
        .get(format!("{base}/services/data/"))
        .send()
        .await
        .unwrap();
    assert_eq!(versions.status(), StatusCode::OK);
    running.shutdown().await;
    assert!(
        client
            .get(format!("{base}/services/data/"))
            .send()
            .await
            .is_err()
    );
}
