//! The `none` and `direct` modes against the sandbox: a static access token or the
//! client-credentials flow as the one local connection (renewed when it expires), and Salesforce
//! access tokens validated at `userinfo` with a short cache in front of a trivial MCP service.

use std::convert::Infallible;
use std::sync::Arc;

use auth::clock::ManualClock;
use auth::crypto::{EncryptionKey, Keyring};
use auth::modes::direct::{DirectBearerLayer, DirectConfig, DirectValidator, SalesforcePrincipal};
use auth::modes::none::{LOCAL_PRINCIPAL, StaticCredentials, provision_connection};
use auth::refresh::{RefreshPolicy, TokenManager};
use auth::salesforce::{LoginHost, SalesforceOAuthClient, SalesforceOAuthConfig};
use auth::secret::{AccessToken, ClientSecret};
use auth::store::{Store, TokenStore as _};
use http::{Request, Response, StatusCode, header};
use salesforce_sandbox::oauth::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use salesforce_sandbox::{Clock, DatasetSize, RunningSandbox, Sandbox};
use tokio::net::TcpListener;
use tower::{ServiceBuilder, ServiceExt as _};

const LIFETIME_SECS: i64 = 2 * 60 * 60;

async fn sandbox() -> RunningSandbox {
    Sandbox::builder()
        .clock(Clock::fixed(chrono::Utc::now()))
        .dataset(DatasetSize::Tiny, 1)
        .auto_approve(true)
        .access_token_lifetime(chrono::TimeDelta::seconds(LIFETIME_SECS))
        .build()
        .unwrap()
        .serve(TcpListener::bind("127.0.0.1:0").await.unwrap())
        .unwrap()
}

fn client(sandbox: &RunningSandbox, secret: bool) -> SalesforceOAuthClient {
    let mut config = SalesforceOAuthConfig::new(
        DEMO_CLIENT_ID,
        url::Url::parse("http://localhost:8080/callback").unwrap(),
    );
    config.login_host = LoginHost::parse(&sandbox.base_url()).unwrap();
    config.client_secret = secret.then(|| ClientSecret::new(DEMO_CLIENT_SECRET));
    SalesforceOAuthClient::new(config).unwrap()
}

fn memory_store(clock: &ManualClock) -> Store {
    Store::memory(Arc::new(Keyring::new(
        EncryptionKey::generate("k1").unwrap(),
    )))
    .with_clock(Arc::new(clock.clone()))
}

async fn limits_status(instance_url: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{instance_url}/services/data/v62.0/limits"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn sandbox_calls(sandbox: &RunningSandbox, method: &str, path: &str) -> usize {
    let log: Vec<serde_json::Value> = reqwest::get(format!("{}/__sandbox/log", sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    log.iter()
        .filter(|e| e["method"] == method && e["path"] == path)
        .count()
}

#[tokio::test]
async fn none_mode_with_a_static_access_token() {
    let sandbox = sandbox().await;
    let clock = ManualClock::new(1_700_000_000_000);
    let store = memory_store(&clock);
    let salesforce = client(&sandbox, false);
    let token = sandbox.sandbox().issue_access_token();
    let credentials = StaticCredentials::AccessToken {
        instance_url: sandbox.base_url(),
        access_token: AccessToken::new(token.clone()),
    };
    let key = provision_connection(
        &store,
        &salesforce,
        &credentials,
        auth::clock::Clock::now_ms(&clock),
    )
    .await
    .unwrap();
    assert_eq!(key.principal(), LOCAL_PRINCIPAL);
    assert!(key.org_id().starts_with("00D"));
    let shared = Arc::new(store.clone());
    let manager = TokenManager::with_clock(
        shared.clone(),
        shared,
        salesforce.refresher(),
        RefreshPolicy::default(),
        Arc::new(clock.clone()),
    );
    let fresh = manager.access_token(&key).await.unwrap();
    assert_eq!(fresh.access_token.secret(), token);
    assert_eq!(limits_status(&fresh.instance_url, &token).await, 200);
    let principal = auth::modes::none::local_principal(&key);
    assert_eq!(principal.org_id.as_deref(), Some(key.org_id()));

    // A token Salesforce does not accept is refused at provisioning.
    let bogus = StaticCredentials::AccessToken {
        instance_url: sandbox.base_url(),
        access_token: AccessToken::new("00Dbogus!notatoken"),
    };
    assert!(matches!(
        provision_connection(&store, &salesforce, &bogus, 0).await,
        Err(auth::Error::Salesforce { .. })
    ));
}

#[tokio::test]
async fn none_mode_with_client_credentials_renews_itself() {
    let sandbox = sandbox().await;
    let clock = ManualClock::new(1_700_000_000_000);
    let store = memory_store(&clock);
    let salesforce = client(&sandbox, true);
    let key = provision_connection(
        &store,
        &salesforce,
        &StaticCredentials::ClientCredentials,
        0,
    )
    .await
    .unwrap();
    assert_eq!(key.principal(), LOCAL_PRINCIPAL);
    let stored = store.get(&key).await.unwrap().unwrap();
    assert!(stored.connection.refresh_token.is_none());
    let first = stored.connection.access_token.secret().to_owned();
    assert_eq!(limits_status(&sandbox.base_url(), &first).await, 200);

    // Past the lifetime on both clocks: the manager runs the flow again.
    let expired_at = stored.connection.issued_at_ms + (LIFETIME_SECS as u64 + 60) * 1000;
    clock.advance_ms(expired_at - auth::clock::Clock::now_ms(&clock));
    sandbox
        .sandbox()
        .clock()
        .advance(chrono::TimeDelta::seconds(LIFETIME_SECS + 60));
    assert_eq!(limits_status(&sandbox.base_url(), &first).await, 401);
    let shared = Arc::new(store.clone());
    let manager = TokenManager::with_clock(
        shared.clone(),
        shared,
        salesforce.refresher(),
        RefreshPolicy::default(),
        Arc::new(clock.clone()),
    );
    let renewed = manager.access_token(&key).await.unwrap();
    assert_ne!(renewed.access_token.secret(), first);
    assert_eq!(
        limits_status(&renewed.instance_url, renewed.access_token.secret()).await,
        200
    );
}

async fn echo(request: Request<String>) -> Result<Response<String>, Infallible> {
    let principal = request.extensions().get::<SalesforcePrincipal>().cloned();
    Ok(Response::new(match principal {
        Some(p) => serde_json::json!({
            "principal": p.principal,
            "org_id": p.org_id,
            "instance_url": p.instance_url,
            "same_token": p.access_token.secret() == "unused",
        })
        .to_string(),
        None => String::new(),
    }))
}

fn call(token: Option<&str>, query: &str) -> Request<String> {
    let mut request = Request::get(format!("/mcp{query}"));
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(String::new()).unwrap()
}

#[tokio::test]
async fn direct_mode_validates_salesforce_tokens_with_a_short_cache() {
    let sandbox = sandbox().await;
    let clock = ManualClock::new(1_700_000_000_000);
    let mut config = DirectConfig::new(
        "http://127.0.0.1:9/mcp",
        &sandbox.base_url(),
        &sandbox.base_url(),
    )
    .unwrap();
    config.cache_ttl = std::time::Duration::from_secs(30);
    let metadata = config.protected_resource_metadata();
    assert_eq!(metadata.authorization_servers, vec![sandbox.base_url()]);
    assert_eq!(metadata.resource, "http://127.0.0.1:9/mcp");
    let validator = DirectValidator::with_clock(
        client(&sandbox, false),
        Arc::new(config),
        Arc::new(clock.clone()),
    );
    let service = ServiceBuilder::new()
        .layer(DirectBearerLayer::new(validator))
        .service_fn(echo);
    let token = sandbox.sandbox().issue_access_token();

    for _ in 0..3 {
        let answer = service
            .clone()
            .oneshot(call(Some(&token), ""))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        let body: serde_json::Value = serde_json::from_str(answer.body()).unwrap();
        assert!(body["principal"].as_str().unwrap().starts_with("sf:005"));
        assert!(body["org_id"].as_str().unwrap().starts_with("00D"));
        assert_eq!(body["instance_url"], sandbox.base_url());
    }
    assert_eq!(
        sandbox_calls(&sandbox, "GET", "/services/oauth2/userinfo").await,
        1,
        "validated once, then from the cache"
    );

    // Unknown token: 401 pointing at our metadata.
    let refused = service
        .clone()
        .oneshot(call(Some("00Dnope!bogus"), ""))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let challenge = refused.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap();
    assert!(
        challenge.contains(
            "resource_metadata=\"http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp\""
        ),
        "{challenge}"
    );
    // No credentials: 401; a token in the query string: 400.
    let missing = service.clone().oneshot(call(None, "")).await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let in_query = service
        .clone()
        .oneshot(call(None, &format!("?access_token={token}")))
        .await
        .unwrap();
    assert_eq!(in_query.status(), StatusCode::BAD_REQUEST);

    // Salesforce ends the session: accepted from the cache until it lapses, then refused.
    let expired = reqwest::Client::new()
        .post(format!("{}/__sandbox/sessions/expire", sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 204);
    let cached = service
        .clone()
        .oneshot(call(Some(&token), ""))
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::OK);
    clock.advance_ms(31_000);
    let lapsed = service
        .clone()
        .oneshot(call(Some(&token), ""))
        .await
        .unwrap();
    assert_eq!(lapsed.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn direct_mode_refuses_another_org() {
    let sandbox = sandbox().await;
    let mut config = DirectConfig::new(
        "http://127.0.0.1:9/mcp",
        &sandbox.base_url(),
        &sandbox.base_url(),
    )
    .unwrap();
    config.org_id = Some("00D000000000000AAA".into());
    let validator = DirectValidator::new(client(&sandbox, false), Arc::new(config));
    let token = sandbox.sandbox().issue_access_token();
    assert_eq!(
        validator.validate_token(&token).await.unwrap_err(),
        auth::mcp_auth::bearer::BearerRejection::InvalidToken("token was issued for another org")
    );
}
