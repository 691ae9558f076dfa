//! What unauthenticated callers can make the authorization server store is bounded: metadata
//! sizes, registration and consent rate limits, the idle TTL of registered clients, the memory
//! store's cap; and the token endpoint's single-use and grant-type rules under concurrency.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use auth::mcp_auth::registration::{RegistrationLimits, register_client, register_client_limited};
use auth::mcp_auth::routes::{ClientAddress, OAuthRoutes};
use auth::mcp_auth::token::{TokenRequest, error_body, token_endpoint};
use auth::mcp_auth::{
    GrantKind, GrantRecord, GrantStore, McpAuthConfig, PendingConsent, lookup_client,
};
use auth::store::Store;
use auth::store::memory::MemoryBackend;
use auth::{Error, OAuthErrorCode};
use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use tower::ServiceExt as _;

use crate::common::{keyring, on_both};
use crate::login::FakeSalesforce;
use crate::mcp_auth::{REDIRECT, authorized, code_request, config, oauth_code, refresh_request};

fn registration(redirect_uris: &[String], name: &str) -> Vec<u8> {
    serde_json::json!({"redirect_uris": redirect_uris, "client_name": name})
        .to_string()
        .into_bytes()
}

fn source(last: u8) -> Option<IpAddr> {
    Some(IpAddr::from([203, 0, 113, last]))
}

#[tokio::test]
async fn registration_metadata_sizes_are_bounded_with_rfc7591_errors() {
    let store = Store::memory(keyring());
    let limits = RegistrationLimits {
        max_redirect_uris: 3,
        max_redirect_uri_len: 64,
        max_client_name_len: 10,
        ..RegistrationLimits::default()
    };
    let uri = |i: usize| format!("https://app.example/cb{i}");
    let four: Vec<String> = (0..4).map(uri).collect();
    let three: Vec<String> = (0..3).map(uri).collect();
    let long = vec![format!("https://app.example/{}", "a".repeat(64))];
    for (body, expected) in [
        (registration(&four, "App"), "invalid_redirect_uri"),
        (registration(&long, "App"), "invalid_redirect_uri"),
        (
            registration(&three, "An Application"),
            "invalid_client_metadata",
        ),
    ] {
        let error = register_client_limited(&store, &limits, None, &body)
            .await
            .unwrap_err();
        let (status, json) = error_body(&error).unwrap();
        assert_eq!(status, 400);
        assert_eq!(json["error"], expected);
        assert!(json["error_description"].is_string());
    }
    register_client_limited(&store, &limits, None, &registration(&three, "App"))
        .await
        .unwrap();
    // The defaults: 10 redirect URIs, 200-byte names.
    let eleven: Vec<String> = (0..11).map(uri).collect();
    assert!(
        register_client(&store, &registration(&eleven, "App"))
            .await
            .is_err()
    );
    assert!(
        register_client(&store, &registration(&three, &"n".repeat(201)))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn registration_is_rate_limited_per_source_and_overall() {
    on_both(|store, name| async move {
        let limits = RegistrationLimits {
            registrations_per_source: 2,
            registrations_per_window: 3,
            ..RegistrationLimits::default()
        };
        let body = registration(&[REDIRECT.to_owned()], "App");
        let register = |from| register_client_limited(&store, &limits, from, &body);
        register(source(1)).await.unwrap();
        register(source(1)).await.unwrap();
        let refused = register(source(1)).await.unwrap_err();
        assert_eq!(
            error_body(&refused).unwrap(),
            (
                429,
                serde_json::json!({"error": "temporarily_unavailable",
                    "error_description": "too many requests; try again later"})
            ),
            "{name}"
        );
        // Another source still gets in, until the overall limit is reached.
        register(source(2)).await.unwrap();
        assert_eq!(
            oauth_code(register(source(3)).await),
            OAuthErrorCode::TemporarilyUnavailable,
            "{name}"
        );
        // The store-wide cap over the idle TTL, whatever the short window says.
        let capped = RegistrationLimits {
            registrations_per_idle_ttl: 4,
            ..RegistrationLimits::default()
        };
        register_client_limited(&store, &capped, source(4), &body)
            .await
            .unwrap();
        assert_eq!(
            oauth_code(register_client_limited(&store, &capped, source(5), &body).await),
            OAuthErrorCode::TemporarilyUnavailable,
            "{name}: three earlier registrations plus this one fill a cap of four"
        );
        // Malformed requests are not counted against anyone.
        let limits = RegistrationLimits {
            registrations_per_source: 1,
            ..RegistrationLimits::default()
        };
        for _ in 0..3 {
            assert_eq!(
                oauth_code(register_client_limited(&store, &limits, source(9), b"{}").await),
                OAuthErrorCode::InvalidRedirectUri
            );
        }
    })
    .await;
}

#[tokio::test]
async fn the_window_ends() {
    on_both(|store, name| async move {
        let limits = RegistrationLimits {
            registrations_per_source: 1,
            window: Duration::from_millis(300),
            ..RegistrationLimits::default()
        };
        let body = registration(&[REDIRECT.to_owned()], "App");
        register_client_limited(&store, &limits, source(1), &body)
            .await
            .unwrap();
        assert!(
            register_client_limited(&store, &limits, source(1), &body)
                .await
                .is_err(),
            "{name}"
        );
        tokio::time::sleep(Duration::from_millis(600)).await;
        register_client_limited(&store, &limits, source(1), &body)
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn unused_clients_expire_and_use_keeps_them() {
    on_both(|store, name| async move {
        let mut config = config();
        config.limits.client_idle_ttl = Duration::from_millis(1_000);
        let body = registration(&[REDIRECT.to_owned()], "App");
        let used = register_client_limited(&store, &config.limits, None, &body)
            .await
            .unwrap()
            .client_id;
        let unused = register_client_limited(&store, &config.limits, None, &body)
            .await
            .unwrap()
            .client_id;
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            assert!(
                lookup_client(&store, &config, &used)
                    .await
                    .unwrap()
                    .is_some(),
                "{name}: a used client stays"
            );
        }
        // 1.2 s since registration and never used.
        assert!(
            store.get_client(&unused).await.unwrap().is_none(),
            "{name}: an unused client expires"
        );
    })
    .await;
}

#[tokio::test]
async fn the_memory_store_refuses_new_keys_when_full() {
    let store = Store::new(Arc::new(MemoryBackend::with_max_entries(4)), keyring());
    let body = registration(&[REDIRECT.to_owned()], "App");
    // Two keys for the rate counters, then one per client.
    register_client(&store, &body).await.unwrap();
    register_client(&store, &body).await.unwrap();
    let full = register_client(&store, &body).await.unwrap_err();
    assert!(matches!(full, Error::Capacity(_)), "{full:?}");
    let routes = OAuthRoutes::new(
        store,
        Arc::new(FakeSalesforce::new(false)),
        Arc::new(config()),
    );
    let response = routes
        .oneshot(
            Request::post("/oauth/register")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    let json: serde_json::Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(json["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn routes_rate_limit_registration_and_consent_pages_by_client_address() {
    let mut config = config();
    config.limits.registrations_per_source = 1;
    config.limits.consents_per_source = 1;
    let routes = OAuthRoutes::new(
        Store::memory(keyring()),
        Arc::new(FakeSalesforce::new(false)),
        Arc::new(config),
    );
    let send = |request: Request<Full<Bytes>>| {
        let routes = routes.clone();
        async move {
            let response = routes.oneshot(request).await.unwrap();
            let status = response.status();
            let retry_after = response.headers().contains_key(header::RETRY_AFTER);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                retry_after,
                String::from_utf8(body.to_vec()).unwrap(),
            )
        }
    };
    let register = |last: u8| {
        let mut request = Request::post("/oauth/register")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(registration(
                &[REDIRECT.to_owned()],
                "App",
            ))))
            .unwrap();
        request
            .extensions_mut()
            .insert(ClientAddress(source(last).unwrap()));
        request
    };
    let (status, _, body) = send(register(1)).await;
    assert_eq!(status, StatusCode::CREATED);
    let client_id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, retry_after, body) = send(register(1)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after);
    assert!(
        body.contains(r#""error":"temporarily_unavailable""#),
        "{body}"
    );
    assert_eq!(send(register(2)).await.0, StatusCode::CREATED);

    let verifier = auth::pkce::generate_verifier();
    let challenge = auth::pkce::PkceChallenge::from_verifier(&verifier);
    let authorize = || {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .unwrap();
        let mut request = Request::get(format!("/oauth/authorize?{query}"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        request
            .extensions_mut()
            .insert(ClientAddress(source(1).unwrap()));
        request
    };
    assert_eq!(send(authorize()).await.0, StatusCode::OK);
    let (status, _, body) = send(authorize()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

#[tokio::test]
async fn refresh_needs_the_refresh_token_grant() {
    on_both(|store, name| async move {
        let body = serde_json::json!({
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code"],
        })
        .to_string();
        let client_id = register_client(&store, body.as_bytes())
            .await
            .unwrap()
            .client_id;
        let verifier = auth::pkce::generate_verifier();
        let request = crate::mcp_auth::validated(&store, &client_id, &verifier).await;
        let (code, _) = auth::mcp_auth::authorize::issue_authorization_code(
            &store,
            &config(),
            &request,
            "alice",
            None,
        )
        .await
        .unwrap();
        let tokens = token_endpoint(
            &store,
            &config(),
            &code_request(&client_id, code.secret(), verifier.secret()),
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            oauth_code(
                token_endpoint(
                    &store,
                    &config(),
                    &refresh_request(&client_id, &tokens),
                    None
                )
                .await
            ),
            OAuthErrorCode::UnauthorizedClient,
            "{name}"
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_redemptions_of_one_code_issue_one_token_set() {
    on_both(|store, name| async move {
        let (client_id, verifier, code) = authorized(&store).await;
        let request = code_request(&client_id, &code, verifier.secret());
        let attempts = (0..16).map(|_| {
            let store = store.clone();
            let request = request.clone();
            tokio::spawn(async move { token_endpoint(&store, &config(), &request, None).await })
        });
        let mut issued = Vec::new();
        for attempt in futures::future::join_all(attempts).await {
            match attempt.unwrap() {
                Ok(tokens) => issued.push(tokens),
                Err(Error::OAuth {
                    code: OAuthErrorCode::InvalidGrant,
                    ..
                }) => {}
                Err(other) => panic!("{name}: {other:?}"),
            }
        }
        // Exactly one redemption took the code; the others replayed it (and, if they came after
        // it was marked spent, revoked what it got), so never two token sets.
        assert!(issued.len() <= 1, "{name}: {} token sets", issued.len());
    })
    .await;
}

/// A store that replays the code just before the family of the first redemption is written,
/// the narrowest window between "code spent" and "tokens exist".
struct ReplayWhileIssuing {
    inner: Store,
    replay: Mutex<Option<TokenRequest>>,
    config: McpAuthConfig,
}

#[async_trait]
impl GrantStore for ReplayWhileIssuing {
    fn now_ms(&self) -> u64 {
        self.inner.now_ms()
    }
    async fn put_client(
        &self,
        client: &auth::mcp_auth::registration::RegisteredClient,
    ) -> auth::Result<()> {
        self.inner.put_client(client).await
    }
    async fn touch_client(
        &self,
        client: &auth::mcp_auth::registration::RegisteredClient,
        idle_ttl: Duration,
    ) -> auth::Result<()> {
        self.inner.touch_client(client, idle_ttl).await
    }
    async fn increment_counter(&self, key: &str, window: Duration) -> auth::Result<u64> {
        self.inner.increment_counter(key, window).await
    }
    async fn get_client(
        &self,
        client_id: &str,
    ) -> auth::Result<Option<auth::mcp_auth::registration::RegisteredClient>> {
        self.inner.get_client(client_id).await
    }
    async fn put_grant(
        &self,
        kind: GrantKind,
        hash: &str,
        record: &GrantRecord,
        ttl: Duration,
    ) -> auth::Result<()> {
        let replay = (kind == GrantKind::Family)
            .then(|| self.replay.lock().unwrap().take())
            .flatten();
        if let Some(replay) = replay {
            let replayed = token_endpoint(&self.inner, &self.config, &replay, None).await;
            assert_eq!(oauth_code(replayed), OAuthErrorCode::InvalidGrant);
        }
        self.inner.put_grant(kind, hash, record, ttl).await
    }
    async fn get_grant(&self, kind: GrantKind, hash: &str) -> auth::Result<Option<GrantRecord>> {
        self.inner.get_grant(kind, hash).await
    }
    async fn take_grant(&self, kind: GrantKind, hash: &str) -> auth::Result<Option<GrantRecord>> {
        self.inner.take_grant(kind, hash).await
    }
    async fn delete_grant(&self, kind: GrantKind, hash: &str) -> auth::Result<bool> {
        self.inner.delete_grant(kind, hash).await
    }
    async fn put_consent(
        &self,
        hash: &str,
        consent: &PendingConsent,
        ttl: Duration,
    ) -> auth::Result<()> {
        self.inner.put_consent(hash, consent, ttl).await
    }
    async fn take_consent(&self, hash: &str) -> auth::Result<Option<PendingConsent>> {
        self.inner.take_consent(hash).await
    }
}

#[tokio::test]
async fn a_replay_while_tokens_are_being_issued_withdraws_them() {
    on_both(|store, name| async move {
        let (client_id, verifier, code) = authorized(&store).await;
        let request = code_request(&client_id, &code, verifier.secret());
        let racing = ReplayWhileIssuing {
            inner: store.clone(),
            replay: Mutex::new(Some(request.clone())),
            config: config(),
        };
        let first = token_endpoint(&racing, &config(), &request, None).await;
        assert_eq!(oauth_code(first), OAuthErrorCode::InvalidGrant, "{name}");
        assert!(racing.replay.lock().unwrap().is_none(), "the replay ran");
    })
    .await;
}
