//! A captured log of a whole flow (Salesforce login, refresh, our codes and tokens, the bearer
//! layer, revocation) at TRACE level contains no token, code, verifier or state.

use std::io::Write;
use std::sync::{Arc, Mutex};

use auth::login::{CallbackParams, complete_login, salesforce_principal, start_login};
use auth::mcp_auth::McpAuthConfig;
use auth::mcp_auth::authorize::{
    AuthorizationParams, AuthorizeOutcome, issue_authorization_code, validate_authorization_request,
};
use auth::mcp_auth::bearer::BearerValidator;
use auth::mcp_auth::registration::register_client;
use auth::mcp_auth::token::{RevocationRequest, TokenRequest, revoke, token_endpoint};
use auth::pkce::{PkceChallenge, generate_verifier};
use auth::refresh::{RefreshPolicy, TokenManager};
use auth::store::Store;
use tracing_subscriber::fmt::MakeWriter;

use crate::common::keyring;
use crate::salesforce_request_shape::{RequestShapeDouble, field, signed_token_body};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

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

#[tokio::test(flavor = "current_thread")]
async fn a_full_flow_logs_no_secret() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut needles: Vec<String> = Vec::new();

    // Salesforce side, over real HTTP to the request-shape double.
    let double = RequestShapeDouble::start((
        200,
        vec![],
        signed_token_body("s3cret", "1278448832702", true),
    ))
    .await;
    let salesforce = double.client(Some("s3cret"));
    let store = Store::memory(keyring());
    let url = start_login(&store, &salesforce, None, store.clock().now_ms())
        .await
        .unwrap();
    let state = url
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let params = CallbackParams {
        code: Some("aPrx.sfcode".into()),
        state: Some(state.clone()),
        error: None,
    };
    tracing::debug!(?params, "callback received");
    let done = complete_login(&store, &store, &salesforce, &params, salesforce_principal)
        .await
        .unwrap();
    // issued_at is in 2010: the token is stale and gets refreshed through the double.
    let store_arc = Arc::new(store.clone());
    let manager = TokenManager::new(
        store_arc.clone(),
        store_arc,
        salesforce.refresher(),
        RefreshPolicy::default(),
    );
    let fresh = manager.access_token(&done.key).await.unwrap();
    tracing::debug!(token = ?fresh, "refreshed");
    let verifier = {
        let recorded = double.recorded.lock().unwrap();
        field(&recorded[0], "code_verifier").unwrap().to_owned()
    };
    needles.extend([
        state,
        "aPrx.sfcode".into(),
        verifier,
        "00Dx!AR8AQ".into(),
        "5Aep861new".into(),
        "s3cret".into(),
    ]);

    // MCP side.
    let config =
        McpAuthConfig::new("https://mcp.example.com", "https://mcp.example.com/mcp").unwrap();
    let redirect = "http://127.0.0.1:33418/callback";
    let client = register_client(
        &store,
        format!(r#"{{"redirect_uris":["{redirect}"]}}"#).as_bytes(),
    )
    .await
    .unwrap();
    let client_verifier = generate_verifier();
    let params = AuthorizationParams {
        response_type: Some("code".into()),
        client_id: Some(client.client_id.clone()),
        redirect_uri: Some(redirect.into()),
        code_challenge: Some(
            PkceChallenge::from_verifier(&client_verifier)
                .as_str()
                .into(),
        ),
        code_challenge_method: Some("S256".into()),
        state: None,
        scope: None,
        resource: Some("https://mcp.example.com/mcp".into()),
    };
    let AuthorizeOutcome::Proceed(request) =
        validate_authorization_request(&store, &config, &params)
            .await
            .unwrap()
    else {
        panic!("refused");
    };
    let (code, _) = issue_authorization_code(
        &store,
        &config,
        &request,
        done.key.principal(),
        Some(done.key.org_id()),
    )
    .await
    .unwrap();
    let tokens = token_endpoint(
        &store,
        &config,
        &TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some(code.secret().into()),
            redirect_uri: Some(redirect.into()),
            code_verifier: Some(client_verifier.secret().into()),
            client_id: Some(client.client_id.clone()),
            ..TokenRequest::default()
        },
        None,
    )
    .await
    .unwrap();
    tracing::debug!(?tokens, ?code, ?client_verifier, "issued");
    let validator = BearerValidator::new(Arc::new(store.clone()), Arc::new(config));
    validator
        .validate_token(tokens.access_token.secret())
        .await
        .unwrap();
    let _ = validator.validate_token("not-a-token").await;
    revoke(
        &store,
        &RevocationRequest {
            token: Some(tokens.refresh_token.secret().into()),
            client_id: Some(client.client_id.clone()),
            ..RevocationRequest::default()
        },
        None,
    )
    .await
    .unwrap();
    needles.extend([
        code.secret().to_owned(),
        client_verifier.secret().to_owned(),
        tokens.access_token.secret().to_owned(),
        tokens.refresh_token.secret().to_owned(),
    ]);

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("Salesforce connection stored"), "{log}");
    assert!(log.contains("refreshed Salesforce access token"), "{log}");
    assert!(log.contains("[redacted]"), "{log}");
    for needle in &needles {
        assert!(
            !log.contains(needle.as_str()),
            "a secret reached the log:\n{log}"
        );
    }
}
