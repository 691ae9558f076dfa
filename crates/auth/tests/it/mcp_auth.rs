//! The MCP authorization side: registration, authorization requests, our codes and tokens, the
//! token endpoint, revocation and the bearer layer — with the negative cases the issue lists.

use std::convert::Infallible;
use std::sync::Arc;

use auth::clock::ManualClock;
use auth::mcp_auth::authorize::{
    AuthorizationParams, AuthorizeOutcome, ValidatedAuthorizationRequest, issue_authorization_code,
    validate_authorization_request,
};
use auth::mcp_auth::bearer::{AuthenticatedPrincipal, BearerAuthLayer, BearerValidator};
use auth::mcp_auth::registration::register_client;
use auth::mcp_auth::token::{
    BasicCredentials, RevocationRequest, TokenRequest, TokenResponse, error_body, revoke,
    token_endpoint,
};
use auth::mcp_auth::{GrantStore, McpAuthConfig};
use auth::pkce::{PkceChallenge, generate_verifier};
use auth::secret::{ClientSecret, PkceVerifier};
use auth::store::Store;
use auth::{Error, OAuthErrorCode};
use http::{Request, Response, StatusCode, header};
use test_support::TestRedis;
use tower::{ServiceBuilder, ServiceExt as _};

use crate::common::{ORG, keyring, on_both, redis_store};

pub(crate) const REDIRECT: &str = "https://chatgpt.com/connector_platform_oauth_redirect";
pub(crate) const RESOURCE: &str = "https://mcp.example.com/mcp";

pub(crate) fn config() -> McpAuthConfig {
    McpAuthConfig::new("https://mcp.example.com", RESOURCE).unwrap()
}

pub(crate) async fn register(store: &dyn GrantStore) -> String {
    let body = format!(
        r#"{{"client_name":"ChatGPT","redirect_uris":["{REDIRECT}"],"token_endpoint_auth_method":"none"}}"#
    );
    register_client(store, body.as_bytes())
        .await
        .unwrap()
        .client_id
}

fn params(client_id: &str, verifier: &PkceVerifier) -> AuthorizationParams {
    AuthorizationParams {
        response_type: Some("code".into()),
        client_id: Some(client_id.into()),
        redirect_uri: Some(REDIRECT.into()),
        code_challenge: Some(PkceChallenge::from_verifier(verifier).as_str().into()),
        code_challenge_method: Some("S256".into()),
        state: Some("client-state".into()),
        scope: Some("mcp".into()),
        resource: Some(RESOURCE.into()),
    }
}

pub(crate) async fn validated(
    store: &dyn GrantStore,
    client_id: &str,
    verifier: &PkceVerifier,
) -> ValidatedAuthorizationRequest {
    match validate_authorization_request(store, &config(), &params(client_id, verifier))
        .await
        .unwrap()
    {
        AuthorizeOutcome::Proceed(request) => request,
        other => panic!("{other:?}"),
    }
}

/// Register, authorize, issue our code: (client id, verifier, code).
pub(crate) async fn authorized(store: &dyn GrantStore) -> (String, PkceVerifier, String) {
    let client_id = register(store).await;
    let verifier = generate_verifier();
    let request = validated(store, &client_id, &verifier).await;
    let (code, redirect) = issue_authorization_code(store, &config(), &request, "alice", Some(ORG))
        .await
        .unwrap();
    let query: Vec<(String, String)> = redirect.query_pairs().into_owned().collect();
    assert!(redirect.as_str().starts_with(REDIRECT));
    assert!(query.contains(&("code".into(), code.secret().into())));
    assert!(query.contains(&("state".into(), "client-state".into())));
    assert!(query.contains(&("iss".into(), "https://mcp.example.com".into())));
    (client_id, verifier, code.secret().to_owned())
}

pub(crate) fn code_request(client_id: &str, code: &str, verifier: &str) -> TokenRequest {
    code_request_to(REDIRECT, client_id, code, verifier)
}

/// An `authorization_code` token request for a code issued to `redirect_uri`.
pub(crate) fn code_request_to(
    redirect_uri: &str,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> TokenRequest {
    TokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(code.into()),
        redirect_uri: Some(redirect_uri.into()),
        code_verifier: Some(verifier.into()),
        client_id: Some(client_id.into()),
        resource: Some(RESOURCE.into()),
        ..TokenRequest::default()
    }
}

pub(crate) fn refresh_request(client_id: &str, refresh: &TokenResponse) -> TokenRequest {
    TokenRequest {
        grant_type: Some("refresh_token".into()),
        refresh_token: Some(refresh.refresh_token.secret().into()),
        client_id: Some(client_id.into()),
        resource: Some(RESOURCE.into()),
        ..TokenRequest::default()
    }
}

pub(crate) fn oauth_code(result: Result<impl std::fmt::Debug, Error>) -> OAuthErrorCode {
    match result {
        Err(Error::OAuth { code, .. }) => code,
        other => panic!("expected an OAuth error, got {other:?}"),
    }
}

fn validator(store: Store, config: McpAuthConfig) -> BearerValidator {
    BearerValidator::new(Arc::new(store), Arc::new(config))
}

#[tokio::test]
async fn full_flow_with_rotation_reuse_refusal_and_revocation() {
    on_both(|store, name| async move {
        let config = config();
        let (client_id, verifier, code) = authorized(&store).await;
        let tokens = token_endpoint(
            &store,
            &config,
            &code_request(&client_id, &code, verifier.secret()),
            None,
        )
        .await
        .unwrap();
        assert_eq!(tokens.scope, "mcp");
        let check = validator(store.clone(), config.clone());
        let principal = check
            .validate_token(tokens.access_token.secret())
            .await
            .unwrap();
        assert_eq!(principal.principal, "alice");
        assert_eq!(principal.org_id.as_deref(), Some(ORG));

        // Rotation: a new pair; the old refresh token is then refused.
        let rotated = token_endpoint(&store, &config, &refresh_request(&client_id, &tokens), None)
            .await
            .unwrap();
        assert_ne!(rotated.refresh_token, tokens.refresh_token);

        // Revoking the refresh token kills its access token too.
        assert!(
            check
                .validate_token(rotated.access_token.secret())
                .await
                .is_ok()
        );
        let revocation = RevocationRequest {
            token: Some(rotated.refresh_token.secret().into()),
            client_id: Some(client_id.clone()),
            ..RevocationRequest::default()
        };
        revoke(&store, &revocation, None).await.unwrap();
        assert!(
            check
                .validate_token(rotated.access_token.secret())
                .await
                .is_err()
        );
        assert_eq!(
            oauth_code(
                token_endpoint(&store, &config, &refresh_request(&client_id, &tokens), None).await
            ),
            OAuthErrorCode::InvalidGrant,
            "{name}: reused refresh token"
        );
        assert_eq!(
            oauth_code(
                token_endpoint(
                    &store,
                    &config,
                    &refresh_request(&client_id, &rotated),
                    None
                )
                .await
            ),
            OAuthErrorCode::InvalidGrant
        );
    })
    .await;
}

#[tokio::test]
async fn wrong_verifier_is_refused_and_spends_the_code() {
    on_both(|store, _| async move {
        let (client_id, verifier, code) = authorized(&store).await;
        let wrong = generate_verifier();
        assert_eq!(
            oauth_code(
                token_endpoint(
                    &store,
                    &config(),
                    &code_request(&client_id, &code, wrong.secret()),
                    None
                )
                .await
            ),
            OAuthErrorCode::InvalidGrant
        );
        // The right verifier cannot rescue a code that was already presented.
        assert_eq!(
            oauth_code(
                token_endpoint(
                    &store,
                    &config(),
                    &code_request(&client_id, &code, verifier.secret()),
                    None
                )
                .await
            ),
            OAuthErrorCode::InvalidGrant
        );
    })
    .await;
}

#[tokio::test]
async fn reused_code_is_refused() {
    on_both(|store, _| async move {
        let (client_id, verifier, code) = authorized(&store).await;
        let request = code_request(&client_id, &code, verifier.secret());
        token_endpoint(&store, &config(), &request, None)
            .await
            .unwrap();
        assert_eq!(
            oauth_code(token_endpoint(&store, &config(), &request, None).await),
            OAuthErrorCode::InvalidGrant
        );
    })
    .await;
}

#[tokio::test]
async fn redirect_uri_differing_by_one_character_is_refused() {
    let store = Store::memory(keyring());
    let client_id = register(&store).await;
    let verifier = generate_verifier();
    // At authorization: an error to show, never a redirect to the unregistered URI.
    let mut p = params(&client_id, &verifier);
    p.redirect_uri = Some(format!("{REDIRECT}x"));
    assert_eq!(
        oauth_code(validate_authorization_request(&store, &config(), &p).await),
        OAuthErrorCode::InvalidRequest
    );
    p.redirect_uri = Some(REDIRECT.replacen("chatgpt", "chatgpu", 1));
    assert!(
        validate_authorization_request(&store, &config(), &p)
            .await
            .is_err()
    );
    // At the token endpoint.
    let (client_id, verifier, code) = authorized(&store).await;
    let mut request = code_request(&client_id, &code, verifier.secret());
    request.redirect_uri = Some(REDIRECT.trim_end_matches('t').to_owned());
    assert_eq!(
        oauth_code(token_endpoint(&store, &config(), &request, None).await),
        OAuthErrorCode::InvalidGrant
    );
}

#[tokio::test]
async fn authorization_errors_after_the_redirect_check_are_redirected() {
    let store = Store::memory(keyring());
    let client_id = register(&store).await;
    let verifier = generate_verifier();
    let error_of = |outcome: AuthorizeOutcome| match outcome {
        AuthorizeOutcome::RedirectWithError(url) => {
            assert!(url.as_str().starts_with(REDIRECT));
            url.query_pairs()
                .find(|(k, _)| k == "error")
                .map(|(_, v)| v.into_owned())
                .unwrap()
        }
        other => panic!("{other:?}"),
    };
    let mut p = params(&client_id, &verifier);
    p.code_challenge_method = Some("plain".into());
    assert_eq!(
        error_of(
            validate_authorization_request(&store, &config(), &p)
                .await
                .unwrap()
        ),
        "invalid_request"
    );
    let mut p = params(&client_id, &verifier);
    p.code_challenge = None;
    assert_eq!(
        error_of(
            validate_authorization_request(&store, &config(), &p)
                .await
                .unwrap()
        ),
        "invalid_request"
    );
    let mut p = params(&client_id, &verifier);
    p.resource = Some("https://evil.example.com/mcp".into());
    assert_eq!(
        error_of(
            validate_authorization_request(&store, &config(), &p)
                .await
                .unwrap()
        ),
        "invalid_target"
    );
    let mut p = params(&client_id, &verifier);
    p.scope = Some("mcp admin".into());
    assert_eq!(
        error_of(
            validate_authorization_request(&store, &config(), &p)
                .await
                .unwrap()
        ),
        "invalid_scope"
    );
    let mut p = params(&client_id, &verifier);
    p.response_type = Some("token".into());
    assert_eq!(
        error_of(
            validate_authorization_request(&store, &config(), &p)
                .await
                .unwrap()
        ),
        "unsupported_response_type"
    );
    let mut p = params("unknown-client", &verifier);
    p.client_id = Some("unknown-client".into());
    assert_eq!(
        oauth_code(validate_authorization_request(&store, &config(), &p).await),
        OAuthErrorCode::InvalidClient
    );
}

#[tokio::test]
async fn token_for_another_audience_is_refused() {
    let store = Store::memory(keyring());
    let (client_id, verifier, code) = authorized(&store).await;
    let tokens = token_endpoint(
        &store,
        &config(),
        &code_request(&client_id, &code, verifier.secret()),
        None,
    )
    .await
    .unwrap();
    let other = McpAuthConfig::new(
        "https://mcp.example.com",
        "https://mcp.example.com/other-mcp",
    )
    .unwrap();
    assert!(
        validator(store.clone(), other)
            .validate_token(tokens.access_token.secret())
            .await
            .is_err()
    );
    assert!(
        validator(store, config())
            .validate_token(tokens.access_token.secret())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn resource_mismatch_at_the_token_endpoint_is_invalid_target() {
    let store = Store::memory(keyring());
    let (client_id, verifier, code) = authorized(&store).await;
    let mut request = code_request(&client_id, &code, verifier.secret());
    request.resource = Some("https://mcp.example.com/other".into());
    assert_eq!(
        oauth_code(token_endpoint(&store, &config(), &request, None).await),
        OAuthErrorCode::InvalidTarget
    );
}

#[tokio::test]
async fn expired_tokens_and_codes_are_refused() {
    let clock = ManualClock::new(1_800_000_000_000);
    let store = Store::memory(keyring()).with_clock(Arc::new(clock.clone()));
    let (client_id, verifier, code) = authorized(&store).await;
    let tokens = token_endpoint(
        &store,
        &config(),
        &code_request(&client_id, &code, verifier.secret()),
        None,
    )
    .await
    .unwrap();
    let check = validator(store.clone(), config());
    assert!(
        check
            .validate_token(tokens.access_token.secret())
            .await
            .is_ok()
    );
    clock.advance_ms(60 * 60 * 1000);
    assert!(
        check
            .validate_token(tokens.access_token.secret())
            .await
            .is_err()
    );

    let (client_id, verifier, code) = authorized(&store).await;
    clock.advance_ms(5 * 60 * 1000);
    assert_eq!(
        oauth_code(
            token_endpoint(
                &store,
                &config(),
                &code_request(&client_id, &code, verifier.secret()),
                None
            )
            .await
        ),
        OAuthErrorCode::InvalidGrant
    );
}

#[tokio::test]
async fn another_clients_code_and_tokens_are_refused() {
    let store = Store::memory(keyring());
    let (_, verifier, code) = authorized(&store).await;
    let intruder = register(&store).await;
    assert_eq!(
        oauth_code(
            token_endpoint(
                &store,
                &config(),
                &code_request(&intruder, &code, verifier.secret()),
                None
            )
            .await
        ),
        OAuthErrorCode::InvalidGrant
    );
    assert_eq!(
        oauth_code(
            token_endpoint(
                &store,
                &config(),
                &code_request("nobody", "x", verifier.secret()),
                None
            )
            .await
        ),
        OAuthErrorCode::InvalidClient
    );
}

#[tokio::test]
async fn confidential_clients_authenticate_with_their_secret() {
    let store = Store::memory(keyring());
    let body = format!(
        r#"{{"redirect_uris":["{REDIRECT}"],"token_endpoint_auth_method":"client_secret_basic"}}"#
    );
    let registered = register_client(&store, body.as_bytes()).await.unwrap();
    let secret = registered.client_secret.clone().unwrap();
    let json = serde_json::to_value(&registered).unwrap();
    assert_eq!(json["client_secret"], secret.secret());
    assert!(!format!("{registered:?}").contains(secret.secret()));
    let stored = store
        .get_client(&registered.client_id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.secret_hash.is_some());

    let verifier = generate_verifier();
    let request = validated(&store, &registered.client_id, &verifier).await;
    let (code, _) = issue_authorization_code(&store, &config(), &request, "alice", None)
        .await
        .unwrap();
    let mut token_request = code_request(&registered.client_id, code.secret(), verifier.secret());
    token_request.client_id = None;
    let wrong = BasicCredentials {
        client_id: registered.client_id.clone(),
        client_secret: ClientSecret::new("nope"),
    };
    let error = token_endpoint(&store, &config(), &token_request, Some(&wrong))
        .await
        .unwrap_err();
    assert_eq!(error_body(&error).unwrap().0, 401);
    let right = BasicCredentials {
        client_id: registered.client_id.clone(),
        client_secret: secret,
    };
    token_endpoint(&store, &config(), &token_request, Some(&right))
        .await
        .unwrap();
}

#[tokio::test]
async fn registration_validation() {
    let store = Store::memory(keyring());
    for bad in [
        r#"{"redirect_uris":["http://example.com/cb"]}"#.to_owned(),
        r#"{"redirect_uris":[]}"#.to_owned(),
        r#"{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}"#.to_owned(),
        r#"{"redirect_uris":["https://a.example/cb"],"grant_types":["implicit"]}"#.to_owned(),
        r#"{"redirect_uris":["https://a.example/cb"],"response_types":["token"]}"#.to_owned(),
        "not json".to_owned(),
        format!(r#"{{"redirect_uris":["https://a.example/cb"],"client_name":"{}"}}"#, "x".repeat(17 * 1024)),
    ] {
        assert!(register_client(&store, bad.as_bytes()).await.is_err(), "{bad:.80}");
    }
    let ok = register_client(
        &store,
        br#"{"redirect_uris":["http://127.0.0.1:33418/callback"]}"#,
    )
    .await
    .unwrap();
    let json = serde_json::to_value(&ok).unwrap();
    assert_eq!(json["token_endpoint_auth_method"], "none");
    assert!(json.get("client_secret").is_none());
}

async fn call(layer: BearerAuthLayer, request: Request<String>) -> Response<String> {
    let service =
        ServiceBuilder::new()
            .layer(layer)
            .service_fn(|request: Request<String>| async move {
                let principal = request
                    .extensions()
                    .get::<AuthenticatedPrincipal>()
                    .cloned();
                Ok::<_, Infallible>(Response::new(format!(
                    "hello {}",
                    principal.map(|p| p.principal).unwrap_or_default()
                )))
            });
    service.oneshot(request).await.unwrap()
}

fn www_authenticate(response: &Response<String>) -> String {
    response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn bearer_layer_accepts_attaches_and_refuses() {
    let store = Store::memory(keyring());
    let (client_id, verifier, code) = authorized(&store).await;
    let tokens = token_endpoint(
        &store,
        &config(),
        &code_request(&client_id, &code, verifier.secret()),
        None,
    )
    .await
    .unwrap();
    let layer = BearerAuthLayer::new(validator(store.clone(), config()));
    let token = tokens.access_token.secret();

    let ok = call(
        layer.clone(),
        Request::post("/mcp")
            .header("authorization", format!("Bearer {token}"))
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.body(), "hello alice");

    let missing = call(
        layer.clone(),
        Request::post("/mcp").body(String::new()).unwrap(),
    )
    .await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        www_authenticate(&missing),
        r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp""#
    );

    let bogus = call(
        layer.clone(),
        Request::post("/mcp")
            .header("authorization", "Bearer nope")
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(bogus.status(), StatusCode::UNAUTHORIZED);
    assert!(www_authenticate(&bogus).contains(r#"error="invalid_token""#));
    assert!(www_authenticate(&bogus).contains("resource_metadata="));

    let basic = call(
        layer.clone(),
        Request::post("/mcp")
            .header("authorization", format!("Basic {token}"))
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);

    // A token in the query string is refused even with a valid header.
    let query = call(
        layer.clone(),
        Request::post(format!("/mcp?access_token={token}"))
            .header("authorization", format!("Bearer {token}"))
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(query.status(), StatusCode::BAD_REQUEST);
    assert!(www_authenticate(&query).contains(r#"error="invalid_request""#));
    assert!(!www_authenticate(&query).contains(token));

    // A token without the required scope: 403 insufficient_scope.
    let mut stricter = config();
    stricter.required_scopes = vec!["mcp".into(), "crm.write".into()];
    let forbidden = call(
        BearerAuthLayer::new(validator(store, stricter)),
        Request::post("/mcp")
            .header("authorization", format!("Bearer {token}"))
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert!(
        www_authenticate(&forbidden)
            .starts_with(r#"Bearer error="insufficient_scope", scope="mcp crm.write""#)
    );
}

#[tokio::test]
async fn redis_holds_only_hashes_of_our_codes_and_tokens() {
    let redis = TestRedis::shared();
    let store = redis_store(&redis, keyring());
    let (client_id, verifier, code) = authorized(&store).await;
    // An unused code, still in the store.
    let (_, v2, code2) = authorized(&store).await;
    let tokens = token_endpoint(
        &store,
        &config(),
        &code_request(&client_id, &code, verifier.secret()),
        None,
    )
    .await
    .unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let needles = [
        tokens.access_token.secret(),
        tokens.refresh_token.secret(),
        code2.as_str(),
        v2.secret(),
        verifier.secret(),
    ];
    let keys = redis.keys();
    assert!(keys.len() >= 5, "{keys:?}");
    for key in keys {
        let value: String = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        for needle in needles {
            assert!(
                !key.contains(needle) && !value.contains(needle),
                "secret in clear at {key}"
            );
        }
    }
}

#[tokio::test]
async fn grant_store_outage_is_503_not_401() {
    let mut redis = TestRedis::private();
    let store = redis_store(&redis, keyring());
    redis.stop();
    let response = call(
        BearerAuthLayer::new(validator(store, config())),
        Request::post("/mcp")
            .header("authorization", "Bearer abc")
            .body(String::new())
            .unwrap(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
}

#[tokio::test]
async fn replaying_a_code_revokes_the_tokens_it_produced() {
    on_both(|store, name| async move {
        let (client_id, verifier, code) = authorized(&store).await;
        let request = code_request(&client_id, &code, verifier.secret());
        let tokens = token_endpoint(&store, &config(), &request, None)
            .await
            .unwrap();
        let check = validator(store.clone(), config());
        assert!(
            check
                .validate_token(tokens.access_token.secret())
                .await
                .is_ok()
        );
        assert_eq!(
            oauth_code(token_endpoint(&store, &config(), &request, None).await),
            OAuthErrorCode::InvalidGrant
        );
        assert!(
            check
                .validate_token(tokens.access_token.secret())
                .await
                .is_err(),
            "{name}"
        );
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
            OAuthErrorCode::InvalidGrant
        );
    })
    .await;
}

#[tokio::test]
async fn replaying_a_rotated_refresh_token_revokes_the_current_pair() {
    on_both(|store, name| async move {
        let (client_id, verifier, code) = authorized(&store).await;
        let first = token_endpoint(
            &store,
            &config(),
            &code_request(&client_id, &code, verifier.secret()),
            None,
        )
        .await
        .unwrap();
        let second = token_endpoint(
            &store,
            &config(),
            &refresh_request(&client_id, &first),
            None,
        )
        .await
        .unwrap();
        let third = token_endpoint(
            &store,
            &config(),
            &refresh_request(&client_id, &second),
            None,
        )
        .await
        .unwrap();
        let check = validator(store.clone(), config());
        assert!(
            check
                .validate_token(third.access_token.secret())
                .await
                .is_ok()
        );
        // An attacker replays the first refresh token: the live pair dies too.
        assert_eq!(
            oauth_code(
                token_endpoint(
                    &store,
                    &config(),
                    &refresh_request(&client_id, &first),
                    None
                )
                .await
            ),
            OAuthErrorCode::InvalidGrant
        );
        assert!(
            check
                .validate_token(third.access_token.secret())
                .await
                .is_err(),
            "{name}"
        );
        assert_eq!(
            oauth_code(
                token_endpoint(
                    &store,
                    &config(),
                    &refresh_request(&client_id, &third),
                    None
                )
                .await
            ),
            OAuthErrorCode::InvalidGrant
        );
    })
    .await;
}
