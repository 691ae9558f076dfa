//! The whole MCP authorization flow over real HTTP with the sandbox as Salesforce: register
//! (DCR) → authorize → consent → Salesforce authorize (auto-approve) → our callback → our code →
//! token → a request through the bearer layer → the stored Salesforce connection works at the
//! sandbox → refresh with rotation on both sides → old refresh tokens refused → revoke → 401 with
//! the metadata pointer. The same run is captured at TRACE and scanned for every secret seen on
//! the wire, and Redis is scanned for them too.

use std::io::Write;
use std::sync::{Arc, Mutex};

use auth::SalesforceErrorKind;
use auth::store::{ConnectionKey, TokenStore as _};
use tracing_subscriber::fmt::MakeWriter;

use crate::auth_harness::{CLIENT_REDIRECT, World, without_query};

#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every string value stored under the test's prefix, with its key.
pub async fn redis_dump(world: &World) -> Vec<(String, Vec<String>)> {
    let client = redis::Client::open(world.redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut dump = Vec::new();
    for key in world.redis.keys() {
        assert!(key.starts_with(world.redis.prefix()));
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let values: Vec<String> = match kind.as_str() {
            "string" => vec![
                redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
            ],
            "set" => redis::cmd("SMEMBERS")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "hash" => redis::cmd("HVALS")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "none" => Vec::new(),
            other => panic!("unexpected type {other} at {key}"),
        };
        dump.push((key, values));
    }
    dump
}

#[tokio::test(flavor = "current_thread")]
async fn full_flow_over_http_with_the_sandbox() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut secrets: Vec<String> = Vec::new();

    let world = World::start().await;
    let login = world.login().await;
    secrets.push(login.verifier.clone());

    // Hop 1: our consent sends the browser to the sandbox's authorize with our own PKCE and
    // state, and exactly our callback.
    assert_eq!(
        without_query(&login.to_salesforce),
        format!("{}/services/oauth2/authorize", world.sandbox.base_url())
    );
    let sf = &login.sf_query;
    assert_eq!(sf["response_type"], "code");
    assert_eq!(sf["client_id"], "sfmcp-demo");
    assert_eq!(sf["redirect_uri"], world.url("/oauth/salesforce/callback"));
    assert_eq!(sf["code_challenge_method"], "S256");
    assert_eq!(sf["code_challenge"].len(), 43);
    assert_eq!(sf["state"].len(), 43, "256 random bits, base64url");
    assert_ne!(
        sf["state"], "client-state-1",
        "our state is not the client's"
    );
    secrets.push(sf["state"].clone());
    secrets.push(sf["code_challenge"].clone());

    // Hop 2: the sandbox approves and returns to exactly our callback with our state.
    assert_eq!(
        without_query(&login.to_callback),
        world.url("/oauth/salesforce/callback")
    );
    assert_eq!(login.callback_query["state"], sf["state"]);
    let sf_code = login.callback_query["code"].clone();
    secrets.push(sf_code.clone());

    // Hop 3: our callback returns to exactly the client's redirect URI with our code, its
    // state and our issuer.
    assert_eq!(without_query(&login.to_client), CLIENT_REDIRECT);
    assert_eq!(login.client_query["state"], "client-state-1");
    assert_eq!(login.client_query["iss"], world.base);
    assert_ne!(login.code(), sf_code, "our code is not Salesforce's");
    secrets.push(login.code().to_owned());

    // Our code for our tokens.
    let resource = world.resource();
    let (status, tokens) = world
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", login.code()),
            ("redirect_uri", CLIENT_REDIRECT),
            ("client_id", &login.client_id),
            ("code_verifier", &login.verifier),
            ("resource", &resource),
        ])
        .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    secrets.push(access.clone());
    secrets.push(refresh.clone());

    // An MCP-like request through the bearer layer.
    let answer = world.mcp_call("/mcp", &access).await;
    assert_eq!(answer.status(), 200);
    let principal: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(principal["client_id"], login.client_id.as_str());
    assert_eq!(principal["scopes"], serde_json::json!(["mcp"]));
    let who = principal["principal"].as_str().unwrap().to_owned();
    let org = principal["org_id"].as_str().unwrap().to_owned();
    assert!(who.starts_with("sf:005"), "{who}");
    assert!(org.starts_with("00D"), "{org}");

    // The Salesforce connection is stored (encrypted) and usable at the sandbox.
    let key = ConnectionKey::new(&who, &org).unwrap();
    let stored = world.store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.connection.instance_url, world.sandbox.base_url());
    let sf_access = stored.connection.access_token.secret().to_owned();
    let sf_refresh = stored.connection.refresh_token.clone().unwrap();
    secrets.push(sf_access.clone());
    secrets.push(sf_refresh.secret().to_owned());
    let manager = world.token_manager(&world.store);
    let fresh = manager.access_token(&key).await.unwrap();
    assert_eq!(fresh.access_token.secret(), sf_access);
    let limits = world
        .http
        .get(format!("{}/services/data/v62.0/limits", fresh.instance_url))
        .bearer_auth(fresh.access_token.secret())
        .send()
        .await
        .unwrap();
    assert_eq!(limits.status(), 200);

    // Salesforce-side rotation: the token expires, the manager refreshes once, the new access
    // token works, and the old refresh token is dead at the sandbox.
    world.advance(crate::auth_harness::SF_LIFETIME_SECS + 60);
    let refreshed = manager.access_token(&key).await.unwrap();
    assert_ne!(refreshed.access_token.secret(), sf_access);
    secrets.push(refreshed.access_token.secret().to_owned());
    let rotated = world.store.get(&key).await.unwrap().unwrap();
    let new_sf_refresh = rotated.connection.refresh_token.clone().unwrap();
    assert_ne!(new_sf_refresh.secret(), sf_refresh.secret());
    secrets.push(new_sf_refresh.secret().to_owned());
    let limits = world
        .http
        .get(format!(
            "{}/services/data/v62.0/limits",
            refreshed.instance_url
        ))
        .bearer_auth(refreshed.access_token.secret())
        .send()
        .await
        .unwrap();
    assert_eq!(limits.status(), 200);
    match world.salesforce.refresh(&sf_refresh).await {
        Err(auth::Error::Salesforce {
            kind: SalesforceErrorKind::InvalidGrant,
            ..
        }) => {}
        other => panic!(
            "old Salesforce refresh token still works: {:?}",
            other.is_ok()
        ),
    }

    // Our side: refresh rotates. (Our tokens live an hour and the clock moved two: the new
    // access token is the one to use.)
    let (status, rotated_tokens) = world
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &login.client_id),
        ])
        .await;
    assert_eq!(status, 200, "{rotated_tokens}");
    let access2 = rotated_tokens["access_token"].as_str().unwrap().to_owned();
    let refresh2 = rotated_tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh);
    secrets.push(access2.clone());
    secrets.push(refresh2.clone());
    assert_eq!(world.mcp_call("/mcp", &access2).await.status(), 200);

    // Revoke: the next request is refused with the pointer to our metadata.
    let revoked = world
        .http
        .post(world.url("/oauth/revoke"))
        .form(&[("token", access2.as_str()), ("client_id", &login.client_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let refused = world.mcp_call("/mcp", &access2).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{}/.well-known/oauth-protected-resource/mcp\"",
            world.base
        )),
        "{challenge}"
    );
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    // The old refresh token is refused, and its reuse revokes the family: the rotated refresh
    // token dies with it (OAuth 2.1 refresh token reuse detection).
    for (token, what) in [
        (&refresh, "old"),
        (&refresh2, "rotated, after reuse of the old"),
    ] {
        let (status, refused) = world
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", token),
                ("client_id", &login.client_id),
            ])
            .await;
        assert_eq!(status, 400, "{what}");
        assert_eq!(refused["error"], "invalid_grant", "{what}");
    }

    // No secret seen on the wire is in the log or, in clear, in Redis.
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("Salesforce connection stored"),
        "the log was captured"
    );
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret");
        assert!(!log.contains(secret.as_str()), "a secret reached the log");
    }
    let dump = redis_dump(&world).await;
    assert!(dump.len() >= 3, "{} keys", dump.len());
    for (key, values) in dump {
        for secret in &secrets {
            assert!(!key.contains(secret.as_str()), "secret in key {key}");
            for value in &values {
                assert!(!value.contains(secret.as_str()), "secret in clear at {key}");
            }
        }
    }
}
