//! Refusals in the sandbox-backed flow, each with the right status and error: wrong PKCE
//! verifier, reused code, reused state, expired state, a redirect URI one character off, a token
//! for another audience, and a token in the query string.

use auth::pkce::{PkceChallenge, generate_verifier};
use http::header;

use crate::auth_harness::{CLIENT_REDIRECT, World, query};

/// A redirect URI that differs from the registered one in its last character.
const ONE_OFF_REDIRECT: &str = "http://127.0.0.1:33418/callbacl";

#[tokio::test]
async fn a_wrong_verifier_is_refused_and_spends_the_code() {
    let world = World::start().await;
    let login = world.login().await;
    let wrong = generate_verifier();
    let (status, body) = world
        .token(&login.exchange_form(wrong.secret(), CLIENT_REDIRECT))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    let (status, body) = world
        .token(&login.exchange_form(&login.verifier, CLIENT_REDIRECT))
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_it_gave() {
    let world = World::start().await;
    let login = world.login().await;
    let form = login.exchange_form(&login.verifier, CLIENT_REDIRECT);
    let (status, tokens) = world.token(&form).await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(world.mcp_call("/mcp", access).await.status(), 200);
    let (status, body) = world.token(&form).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(world.mcp_call("/mcp", access).await.status(), 401);
}

#[tokio::test]
async fn a_reused_state_is_refused_at_the_callback() {
    let world = World::start().await;
    let login = world.login().await;
    // Replaying Salesforce's redirect to our callback (same code and state).
    let replay = world
        .http
        .get(login.to_callback.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 400);
    assert!(replay.headers().get(header::LOCATION).is_none());
    let text = replay.text().await.unwrap();
    assert!(text.contains("unknown, used or expired state"), "{text}");
}

/// Register → authorize → consent → Salesforce, stopping before our callback.
async fn up_to_the_callback(world: &World) -> url::Url {
    let client_id = world.register().await;
    let challenge = PkceChallenge::from_verifier(&generate_verifier());
    let resource = world.resource();
    let page = world
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", CLIENT_REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", "s"),
            ("resource", &resource),
        ])
        .await;
    let to_salesforce = world.consent(page, "allow").await;
    world.follow(&to_salesforce).await
}

#[tokio::test]
async fn an_expired_state_is_refused_at_the_callback() {
    let world = World::start().await;
    let to_callback = up_to_the_callback(&world).await;
    world
        .clock
        .advance_ms(auth::store::FLOW_TTL.as_millis() as u64 + 1);
    let late = world.http.get(to_callback).send().await.unwrap();
    assert_eq!(late.status(), 400);
    assert!(late.headers().get(header::LOCATION).is_none());
    assert!(
        late.text()
            .await
            .unwrap()
            .contains("unknown, used or expired state")
    );
}

#[tokio::test]
async fn a_redirect_uri_one_character_off_is_refused() {
    let world = World::start().await;
    // At authorize: shown to the user, never redirected.
    let client_id = world.register().await;
    let challenge = PkceChallenge::from_verifier(&generate_verifier());
    let refused = world
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", ONE_OFF_REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert_eq!(refused.status(), 400);
    assert!(refused.headers().get(header::LOCATION).is_none());
    let text = refused.text().await.unwrap();
    assert!(text.starts_with("invalid_request"), "{text}");

    // At the token endpoint: the code was issued for another redirect URI.
    let login = world.login().await;
    let (status, body) = world
        .token(&login.exchange_form(&login.verifier, ONE_OFF_REDIRECT))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let world = World::start().await;
    let login = world.login().await;
    // Asking for another resource at the token endpoint.
    let other = world.url("/other");
    let mut form = login.exchange_form(&login.verifier, CLIENT_REDIRECT);
    form.push(("resource", &other));
    let (status, body) = world.token(&form).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_target"))
    );

    // Our token presented to another resource sharing the same grant store.
    let login = world.login().await;
    let (status, tokens) = world
        .token(&login.exchange_form(&login.verifier, CLIENT_REDIRECT))
        .await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap();
    let refused = world.mcp_call("/other", access).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("another resource"), "{challenge}");

    // Asking for another resource at authorize: redirected back with invalid_target.
    let client_id = world.register().await;
    let challenge = PkceChallenge::from_verifier(&generate_verifier());
    let refused = world
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", CLIENT_REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", "s1"),
            ("resource", &other),
        ])
        .await;
    assert_eq!(refused.status(), 302);
    let back = query(&crate::auth_harness::location(&refused));
    assert_eq!(back["error"], "invalid_target");
    assert_eq!(back["state"], "s1");
}

#[tokio::test]
async fn a_token_in_the_query_string_is_refused() {
    let world = World::start().await;
    let login = world.login().await;
    let (status, tokens) = world
        .token(&login.exchange_form(&login.verifier, CLIENT_REDIRECT))
        .await;
    assert_eq!(status, 200);
    let access = tokens["access_token"].as_str().unwrap();
    for with_header in [false, true] {
        let mut request = world
            .http
            .get(world.url("/mcp"))
            .query(&[("access_token", access)]);
        if with_header {
            request = request.bearer_auth(access);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), 400, "header too: {with_header}");
        let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
        assert!(
            challenge.contains("error=\"invalid_request\""),
            "{challenge}"
        );
    }
}
