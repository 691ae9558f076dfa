//! 100 concurrent callers with an expired Salesforce access token, spread over two store clients
//! (two replicas) sharing one Redis, cause exactly one refresh at the sandbox, no
//! `invalid_grant`, and every caller gets a token the sandbox accepts.

use auth::mcp_auth::GrantStore as _;
use auth::store::{ConnectionKey, TokenStore as _};

use crate::auth_harness::{SF_LIFETIME_SECS, World};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_callers_two_replicas_one_refresh() {
    let world = World::start().await;
    let login = world.login().await;
    // The login's own token exchange is not what we count.
    let (status, tokens) = world
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", login.code()),
            ("redirect_uri", crate::auth_harness::CLIENT_REDIRECT),
            ("client_id", &login.client_id),
            ("code_verifier", &login.verifier),
        ])
        .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let principal: serde_json::Value = world.mcp_call("/mcp", access).await.json().await.unwrap();
    let key = ConnectionKey::new(
        principal["principal"].as_str().unwrap(),
        principal["org_id"].as_str().unwrap(),
    )
    .unwrap();
    let before = world.store.get(&key).await.unwrap().unwrap();

    world.advance(SF_LIFETIME_SECS + 60);
    world.clear_sandbox_log().await;

    let replica_b = World::redis_store(&world.redis, &world.keyring, &world.clock);
    assert_eq!(replica_b.now_ms(), world.store.now_ms());
    let managers = [
        world.token_manager(&world.store),
        world.token_manager(&replica_b),
    ];
    let mut callers = Vec::new();
    for i in 0..100 {
        let manager = managers[i % 2].clone();
        let key = key.clone();
        let http = world.http.clone();
        callers.push(tokio::spawn(async move {
            let fresh = manager.access_token(&key).await?;
            let status = http
                .get(format!("{}/services/data/v62.0/limits", fresh.instance_url))
                .bearer_auth(fresh.access_token.secret())
                .send()
                .await
                .map_err(|e| auth::Error::Http(e.to_string()))?
                .status();
            Ok::<_, auth::Error>((fresh.access_token.secret().to_owned(), status))
        }));
    }
    let mut seen = std::collections::HashSet::new();
    for caller in callers {
        let (token, status) = caller.await.unwrap().expect("no caller fails");
        assert_eq!(status, 200);
        seen.insert(token);
    }
    assert_eq!(seen.len(), 1, "everyone got the one new token");
    assert!(!seen.contains(before.connection.access_token.secret()));

    let log = world.sandbox_log().await;
    let token_posts: Vec<_> = log
        .iter()
        .filter(|e| e["method"] == "POST" && e["path"] == "/services/oauth2/token")
        .collect();
    assert_eq!(token_posts.len(), 1, "{token_posts:?}");
    assert_eq!(token_posts[0]["status"], 200, "no invalid_grant");
    let limits_calls = log
        .iter()
        .filter(|e| e["path"] == "/services/data/v62.0/limits" && e["status"] == 200)
        .count();
    assert_eq!(limits_calls, 100);

    let after = world.store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        after.connection.status,
        auth::store::ConnectionStatus::Active
    );
    assert_ne!(
        after.connection.refresh_token.as_ref().unwrap().secret(),
        before.connection.refresh_token.as_ref().unwrap().secret(),
        "the rotated refresh token was stored"
    );
}
