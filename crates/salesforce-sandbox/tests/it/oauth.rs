//! The OAuth web-server flow with PKCE, refresh rotation, revocation, client credentials and
//! token expiry, over real HTTP.

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{CALLBACK, Org, builder};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn authorize(org: &Org, redirect: &str) -> reqwest::Response {
    let url = reqwest::Url::parse_with_params(
        &format!("{}/services/oauth2/authorize", org.base()),
        &[
            ("response_type", "code"),
            ("client_id", "sfmcp-demo"),
            ("redirect_uri", redirect),
            ("scope", "api refresh_token"),
            ("state", "st4te"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    org.client.get(url).send().await.unwrap()
}

async fn code(org: &Org) -> String {
    let response = authorize(org, CALLBACK).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(CALLBACK));
    let pairs: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert!(pairs.contains(&("state".into(), "st4te".into())));
    pairs.into_iter().find(|(k, _)| k == "code").unwrap().1
}

async fn token(org: &Org, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = org
        .client
        .post(format!("{}/services/oauth2/token", org.base()))
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn exchange(org: &Org, code: &str, verifier: &str, redirect: &str) -> (StatusCode, Value) {
    token(
        org,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", "sfmcp-demo"),
            ("client_secret", "sfmcp-demo-secret"),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(org: &Org, refresh_token: &str) -> (StatusCode, Value) {
    token(
        org,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "sfmcp-demo"),
            ("client_secret", "sfmcp-demo-secret"),
        ],
    )
    .await
}

async fn api_status(org: &Org, access_token: &str) -> StatusCode {
    org.client
        .get(org.api("/limits"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn full_web_server_flow_with_pkce_rotation_and_revocation() {
    let org = Org::start().await;
    let code = code(&org).await;
    let (status, tokens) = exchange(&org, &code, VERIFIER, CALLBACK).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["instance_url"], org.base());
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens.get("expires_in").is_none());
    let issued_at = tokens["issued_at"].as_str().unwrap();
    assert!(issued_at.parse::<i64>().is_ok());
    let id = tokens["id"].as_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"sfmcp-demo-secret").unwrap();
    mac.update(format!("{id}{issued_at}").as_bytes());
    assert_eq!(
        tokens["signature"],
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert!(access.starts_with("00D") && access.contains('!'));
    let refresh1 = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(api_status(&org, &access).await, StatusCode::OK);

    // The code is single use.
    let (status, body) = exchange(&org, &code, VERIFIER, CALLBACK).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // Rotation: a new refresh token, and the old one dies at once.
    let (status, rotated) = refresh(&org, &refresh1).await;
    assert_eq!(status, StatusCode::OK);
    let refresh2 = rotated["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh1, refresh2);
    let access2 = rotated["access_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(&org, &refresh1).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "expired access/refresh token"})
    );
    assert_eq!(api_status(&org, &access2).await, StatusCode::OK);

    // Userinfo and introspection.
    let info: Value = org
        .client
        .get(format!("{}/services/oauth2/userinfo", org.base()))
        .bearer_auth(&access2)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["preferred_username"], "demo@sfmcp.example");
    let (_, intro) = (
        StatusCode::OK,
        org.client
            .post(format!("{}/services/oauth2/introspect", org.base()))
            .form(&[
                ("token", access2.as_str()),
                ("client_id", "sfmcp-demo"),
                ("client_secret", "sfmcp-demo-secret"),
            ])
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
    );
    assert_eq!(
        (intro["active"].as_bool(), intro["token_type"].as_str()),
        (Some(true), Some("access_token"))
    );

    let identity = org
        .client
        .get(id)
        .bearer_auth(&access2)
        .send()
        .await
        .unwrap();
    assert_eq!(identity.status(), StatusCode::OK);
    let identity: Value = identity.json().await.unwrap();
    assert_eq!(identity["username"], "demo@sfmcp.example");

    // Revoking the refresh token revokes its access tokens.
    let response = org
        .client
        .post(format!("{}/services/oauth2/revoke", org.base()))
        .form(&[("token", refresh2.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(api_status(&org, &access2).await, StatusCode::UNAUTHORIZED);
    assert_eq!(api_status(&org, &access).await, StatusCode::UNAUTHORIZED);
    let (status, _) = refresh(&org, &refresh2).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn wrong_verifier_reused_code_and_redirect_mismatch_are_refused() {
    let org = Org::start().await;
    let first = code(&org).await;
    let (status, body) = exchange(&org, &first, "not-the-verifier", CALLBACK).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    // The failed attempt used the code up.
    let (_, body) = exchange(&org, &first, VERIFIER, CALLBACK).await;
    assert_eq!(body["error"], "invalid_grant");

    let second = code(&org).await;
    let (_, body) = exchange(&org, &second, VERIFIER, "http://127.0.0.1:9/other").await;
    assert_eq!(body["error"], "redirect_uri_mismatch");

    let response = authorize(&org, "http://evil.example/cb").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers().get("location").is_none());

    let (status, body) = token(
        &org,
        &[("grant_type", "password"), ("client_id", "sfmcp-demo")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
    let (_, body) = token(
        &org,
        &[("grant_type", "client_credentials"), ("client_id", "nope")],
    )
    .await;
    assert_eq!(body["error"], "invalid_client_id");
    let (_, body) = token(
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "sfmcp-demo"),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = token(
        &org,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "sfmcp-demo"),
            ("client_secret", "sfmcp-demo-secret"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("refresh_token").is_none());
    assert_eq!(
        api_status(&org, body["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn access_tokens_expire_with_the_clock_and_refresh_still_works() {
    let org = Org::with(builder().access_token_lifetime(chrono::TimeDelta::hours(1))).await;
    let code = code(&org).await;
    let (_, tokens) = exchange(&org, &code, VERIFIER, CALLBACK).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(api_status(&org, access).await, StatusCode::OK);
    org.admin(Method::POST, "clock", json!({"advanceSeconds": 3601}))
        .await;
    assert_eq!(api_status(&org, access).await, StatusCode::UNAUTHORIZED);
    let (status, fresh) = refresh(&org, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        api_status(&org, fresh["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn login_page_flow_without_auto_approve() {
    let org = Org::with(builder().auto_approve(false)).await;
    let response = authorize(&org, CALLBACK).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains("<form method=\"post\" action=\"/services/oauth2/authorize\">"));
    let form = [
        ("response_type", "code"),
        ("client_id", "sfmcp-demo"),
        ("redirect_uri", CALLBACK),
        ("state", "s"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("username", "demo@sfmcp.example"),
    ];
    let post = |extra: Vec<(&'static str, &'static str)>| {
        let mut pairs: Vec<(&str, &str)> = form.to_vec();
        pairs.extend(extra);
        org.client
            .post(format!("{}/services/oauth2/authorize", org.base()))
            .form(&pairs)
            .send()
    };
    let wrong = post(vec![("password", "nope"), ("action", "allow")])
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::OK);
    let denied = post(vec![("action", "deny")]).await.unwrap();
    assert!(
        denied.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=access_denied")
    );
    let allowed = post(vec![("password", "sfmcp-demo"), ("action", "allow")])
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::FOUND);
    assert!(
        allowed.headers()["location"]
            .to_str()
            .unwrap()
            .contains("code=")
    );
    let _ = Method::GET;
}

#[tokio::test]
async fn codes_expire_and_rotation_can_be_switched_off() {
    let org = Org::with(builder().rotate_refresh_tokens(false)).await;
    let stale = code(&org).await;
    org.admin(Method::POST, "clock", json!({"advanceSeconds": 16 * 60}))
        .await;
    let (status, body) = exchange(&org, &stale, VERIFIER, CALLBACK).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "invalid_grant", "error_description": "expired authorization code"})
    );

    let fresh = code(&org).await;
    let (_, tokens) = exchange(&org, &fresh, VERIFIER, CALLBACK).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    for _ in 0..2 {
        let (status, refreshed) = refresh(&org, refresh_token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(refreshed.get("refresh_token").is_none());
    }
}
