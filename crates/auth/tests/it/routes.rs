//! The OAuth routes over HTTP types, end to end within the process: register (DCR) → authorize →
//! Salesforce (a fake authorizer) → callback → our code → token → a request through the bearer
//! layer → refresh (rotation) → the old refresh token refused → revoke → 401 with the metadata
//! header. The same flow against the sandbox over real sockets comes with the sandbox.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use auth::mcp_auth::McpAuthConfig;
use auth::mcp_auth::bearer::{BearerAuthLayer, BearerValidator};
use auth::mcp_auth::routes::OAuthRoutes;
use auth::pkce::{PkceChallenge, generate_verifier};
use auth::store::Store;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use tower::{ServiceBuilder, ServiceExt as _};
use url::Url;

use crate::common::keyring;
use crate::login::{FakeSalesforce, state_of};

const REDIRECT: &str = "http://127.0.0.1:33418/callback";

struct Harness {
    routes: OAuthRoutes,
    store: Store,
    config: Arc<McpAuthConfig>,
}

impl Harness {
    fn new() -> Self {
        let store = Store::memory(keyring());
        let config = Arc::new(
            McpAuthConfig::new("https://mcp.example.com", "https://mcp.example.com/mcp").unwrap(),
        );
        let routes = OAuthRoutes::new(
            store.clone(),
            Arc::new(FakeSalesforce::new(false)),
            config.clone(),
        );
        Self {
            routes,
            store,
            config,
        }
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> (StatusCode, http::HeaderMap, String) {
        let response = self.routes.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    async fn get(&self, uri: &str) -> (StatusCode, http::HeaderMap, String) {
        self.send(Request::get(uri).body(Full::default()).unwrap())
            .await
    }

    /// `GET` with a `Cookie` header, as the consenting browser sends it back.
    async fn get_with_cookie(
        &self,
        uri: &str,
        cookie: &str,
    ) -> (StatusCode, http::HeaderMap, String) {
        self.send(
            Request::get(uri)
                .header(header::COOKIE, cookie)
                .body(Full::default())
                .unwrap(),
        )
        .await
    }

    async fn post_form(
        &self,
        uri: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, http::HeaderMap, String) {
        let body = serde_urlencoded::to_string(form).unwrap();
        self.send(
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Full::new(Bytes::from(body)))
                .unwrap(),
        )
        .await
    }

    /// Posts the consent form of `page` with the cookie from `page_headers`.
    async fn consent(
        &self,
        page: &str,
        page_headers: &http::HeaderMap,
        decision: &str,
    ) -> (StatusCode, http::HeaderMap) {
        let consent = page
            .split("name=\"consent\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let cookie = page_headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body =
            serde_urlencoded::to_string([("consent", consent), ("decision", decision)]).unwrap();
        let (status, headers, _) = self
            .send(
                Request::post("/oauth/authorize/consent")
                    .header(header::COOKIE, cookie)
                    .body(Full::new(Bytes::from(body)))
                    .unwrap(),
            )
            .await;
        (status, headers)
    }

    async fn mcp_call(&self, token: &str) -> Response<String> {
        let validator = BearerValidator::new(Arc::new(self.store.clone()), self.config.clone());
        let service = ServiceBuilder::new()
            .layer(BearerAuthLayer::new(validator))
            .service_fn(|_request: Request<String>| async {
                Ok::<_, Infallible>(Response::new("ok".to_owned()))
            });
        service
            .oneshot(
                Request::post("/mcp")
                    .header("authorization", format!("Bearer {token}"))
                    .body(String::new())
                    .unwrap(),
            )
            .await
            .unwrap()
    }
}

fn location(headers: &http::HeaderMap) -> Url {
    Url::parse(headers.get(header::LOCATION).unwrap().to_str().unwrap()).unwrap()
}

fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn metadata_documents_are_served() {
    let h = Harness::new();
    let (status, headers, body) = h.get("/.well-known/oauth-authorization-server").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let (status, _, body) = h.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["resource"], "https://mcp.example.com/mcp");
    }
    assert_eq!(h.get("/elsewhere").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        h.get("/oauth/token").await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn the_whole_flow_over_the_routes() {
    let h = Harness::new();
    // Register.
    let (status, _, body) = h
        .send(
            Request::post("/oauth/register")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(format!(
                    r#"{{"client_name":"Claude","redirect_uris":["{REDIRECT}"]}}"#
                ))))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let client_id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Authorize: on to Salesforce with our own state and PKCE.
    let verifier = generate_verifier();
    let challenge = PkceChallenge::from_verifier(&verifier);
    let authorize = format!(
        "/oauth/authorize?{}",
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", "client-state"),
            ("resource", "https://mcp.example.com/mcp"),
        ])
        .unwrap()
    );
    let (status, headers, page) = h.get(&authorize).await;
    assert_eq!(status, StatusCode::OK, "a consent page first");
    let (status, consent_headers) = h.consent(&page, &headers, "allow").await;
    assert_eq!(status, StatusCode::FOUND);
    let to_salesforce = location(&consent_headers);
    assert!(
        to_salesforce
            .as_str()
            .starts_with("https://test.salesforce.com/services/oauth2/authorize?")
    );
    assert_ne!(
        query(&to_salesforce)["code_challenge"],
        challenge.as_str(),
        "our own PKCE, not the client's"
    );

    // Salesforce calls back; we redirect to the client with our code, its state and iss.
    let callback = format!(
        "/oauth/salesforce/callback?code=sf-code&state={}",
        state_of(&to_salesforce)
    );
    let browser = login_cookie(&consent_headers);
    let (status, headers, _) = h.get_with_cookie(&callback, &browser).await;
    assert_eq!(status, StatusCode::FOUND);
    let to_client = location(&headers);
    assert!(to_client.as_str().starts_with(REDIRECT));
    let back = query(&to_client);
    assert_eq!(back["state"], "client-state");
    assert_eq!(back["iss"], "https://mcp.example.com");
    // Reused state.
    assert_eq!(
        h.get_with_cookie(&callback, &browser).await.0,
        StatusCode::BAD_REQUEST
    );

    // Token.
    let code_form = [
        ("grant_type", "authorization_code"),
        ("code", back["code"].as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.secret()),
        ("client_id", client_id.as_str()),
        ("resource", "https://mcp.example.com/mcp"),
    ];
    let (status, headers, body) = h.post_form("/oauth/token", &code_form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    let tokens: serde_json::Value = serde_json::from_str(&body).unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(tokens["token_type"], "Bearer");

    assert_eq!(h.mcp_call(&access).await.status(), StatusCode::OK);

    // Refresh rotates; the old refresh token is then refused.
    let refresh_form = |token: &str| {
        vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", token.to_owned()),
            ("client_id", client_id.clone()),
        ]
    };
    let form: Vec<(&str, String)> = refresh_form(&refresh);
    let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = h.post_form("/oauth/token", &borrowed).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated: serde_json::Value = serde_json::from_str(&body).unwrap();
    let new_access = rotated["access_token"].as_str().unwrap();
    assert_eq!(h.mcp_call(new_access).await.status(), StatusCode::OK);
    // Replaying the old one is refused (and, as a replay, revokes the family).
    let (status, _, body) = h.post_form("/oauth/token", &borrowed).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("invalid_grant"));

    // Revocation answers 200 (RFC 7009, even for a token already gone); the next call is 401.
    let (status, _, _) = h
        .post_form(
            "/oauth/revoke",
            &[
                ("token", rotated["refresh_token"].as_str().unwrap()),
                ("client_id", &client_id),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let refused = h.mcp_call(new_access).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(
        refused.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains(r#"resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#)
    );
    // Reused code: refused.
    let (status, _, body) = h.post_form("/oauth/token", &code_form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("invalid_grant"));
}

#[tokio::test]
async fn untrusted_redirects_are_never_followed() {
    let h = Harness::new();
    let (status, headers, body) = h
        .get("/oauth/authorize?response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&code_challenge=x&code_challenge_method=S256")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.get(header::LOCATION).is_none());
    assert!(body.contains("invalid_client"));
}

#[tokio::test]
async fn basic_client_authentication_and_body_limits() {
    let h = Harness::new();
    let (status, _, body) = h
        .send(
            Request::post("/oauth/register")
                .body(Full::new(Bytes::from(format!(
                    r#"{{"redirect_uris":["{REDIRECT}"],"token_endpoint_auth_method":"client_secret_basic"}}"#
                ))))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let registered: serde_json::Value = serde_json::from_str(&body).unwrap();
    let basic = |secret: &str| {
        use base64::Engine as _;
        let pair = format!("{}:{secret}", registered["client_id"].as_str().unwrap());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let request = |auth: String| {
        Request::post("/oauth/token")
            .header(header::AUTHORIZATION, auth)
            .body(Full::new(Bytes::from(
                "grant_type=refresh_token&refresh_token=unknown",
            )))
            .unwrap()
    };
    let (status, _, body) = h.send(request(basic("wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("invalid_client"));
    let (status, _, body) = h
        .send(request(basic(
            registered["client_secret"].as_str().unwrap(),
        )))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("invalid_grant"),
        "authenticated, then the unknown token is refused: {body}"
    );

    let huge = Request::post("/oauth/token")
        .body(Full::new(Bytes::from("a".repeat(64 * 1024))))
        .unwrap();
    assert_eq!(h.send(huge).await.0, StatusCode::BAD_REQUEST);
}

async fn register_and_authorize(h: &Harness, name: &str) -> (StatusCode, http::HeaderMap, String) {
    let (_, _, body) = h
        .send(
            Request::post("/oauth/register")
                .body(Full::new(Bytes::from(format!(
                    r#"{{"client_name":"{name}","redirect_uris":["{REDIRECT}"]}}"#
                ))))
                .unwrap(),
        )
        .await;
    let client_id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let challenge = PkceChallenge::from_verifier(&generate_verifier());
    let uri = format!(
        "/oauth/authorize?{}",
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", "s1"),
        ])
        .unwrap()
    );
    h.get(&uri).await
}

#[tokio::test]
async fn consent_is_required_bound_to_the_browser_and_single_use() {
    let h = Harness::new();
    let (status, headers, page) = register_and_authorize(&h, "<script>alert(1)</script>").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>"));
    assert!(page.contains("&lt;script&gt;"));
    assert!(page.contains("127.0.0.1"), "the redirect host is shown");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert!(
        headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("SameSite=Strict")
    );

    // Without this browser's cookie (a cross-site post): refused, and the consent is spent.
    let consent = page
        .split("name=\"consent\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let forged = Request::post("/oauth/authorize/consent")
        .header(header::COOKIE, "sfmcp_consent=guess")
        .body(Full::new(Bytes::from(format!(
            "consent={consent}&decision=allow"
        ))))
        .unwrap();
    assert_eq!(h.send(forged).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        h.consent(&page, &headers, "allow").await.0,
        StatusCode::BAD_REQUEST
    );

    // Deny: back to the client with access_denied.
    let (_, headers, page) = register_and_authorize(&h, "Claude").await;
    let (status, headers) = h.consent(&page, &headers, "deny").await;
    assert_eq!(status, StatusCode::FOUND);
    let back = query(&location(&headers));
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], "s1");
}

#[tokio::test]
async fn a_salesforce_refusal_is_reported_to_the_waiting_client() {
    let h = Harness::new();
    let (_, headers, page) = register_and_authorize(&h, "ChatGPT").await;
    let (status, consent_headers) = h.consent(&page, &headers, "allow").await;
    assert_eq!(status, StatusCode::FOUND);
    let to_salesforce = location(&consent_headers);
    let callback = format!(
        "/oauth/salesforce/callback?error=access_denied&error_description=end-user+denied&state={}",
        state_of(&to_salesforce)
    );
    let (status, headers, _) = h
        .get_with_cookie(&callback, &login_cookie(&consent_headers))
        .await;
    assert_eq!(status, StatusCode::FOUND);
    let to_client = location(&headers);
    assert!(to_client.as_str().starts_with(REDIRECT));
    let back = query(&to_client);
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], "s1");
    assert_eq!(back["iss"], "https://mcp.example.com");
}

/// The `sfmcp_login=…` pair a consent answer sets for the Salesforce callback.
fn login_cookie(headers: &http::HeaderMap) -> String {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sfmcp_login="))
        .expect("the consent answer binds the callback to this browser")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_consented_salesforce_link_opened_in_another_browser_connects_nobody() {
    // The confused-deputy attack: an attacker registers a client, consents in their own browser,
    // and sends the resulting Salesforce link to a victim whom Salesforce signs in at once.
    let h = Harness::new();
    let (_, headers, page) = register_and_authorize(&h, "Attacker").await;
    let (status, consent_headers) = h.consent(&page, &headers, "allow").await;
    assert_eq!(status, StatusCode::FOUND);
    let set_cookie = consent_headers[header::SET_COOKIE].to_str().unwrap();
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/oauth/salesforce/callback",
    ] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let callback = format!(
        "/oauth/salesforce/callback?code=sf-code&state={}",
        state_of(&location(&consent_headers))
    );
    // The victim's browser has no cookie, or another one.
    let (status, headers, _) = h
        .get_with_cookie(&callback, "sfmcp_login=someone-else")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        headers.get(header::LOCATION).is_none(),
        "no code goes to the attacker's client"
    );
    // The flow is spent: even the right browser cannot finish it now.
    let (status, _, _) = h
        .get_with_cookie(&callback, &login_cookie(&consent_headers))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = h.get(&callback).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
