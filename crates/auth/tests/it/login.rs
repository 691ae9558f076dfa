//! The Salesforce login flow over the stores, with a fake authorizer standing in for Salesforce
//! (the real exchange is covered by the request-shape tests and, next, the sandbox end to end).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use auth::clock::{Clock as _, ManualClock};
use auth::login::{
    CallbackParams, SalesforceAuthorizer, complete_login, disconnect, salesforce_principal,
    start_login,
};
use auth::pkce::PkceChallenge;
use auth::salesforce::{LoginHost, SalesforceOAuthConfig, SalesforceTokens};
use auth::secret::{AccessToken, AuthorizationCode, OAuthState, PkceVerifier, RefreshToken};
use auth::store::{ConnectionKey, Store, TokenStore as _};
use auth::{Error, SalesforceErrorKind};
use url::Url;

use crate::common::{ORG, keyring};

/// Records the verifier it was given, answers fixed tokens, counts revocations.
pub struct FakeSalesforce {
    config: SalesforceOAuthConfig,
    seen_verifier: Mutex<Option<String>>,
    revocations: AtomicUsize,
    revoke_fails: bool,
}

impl FakeSalesforce {
    pub fn new(revoke_fails: bool) -> Self {
        let mut config = SalesforceOAuthConfig::new(
            "3MVG9key",
            Url::parse("https://mcp.example.com/oauth/salesforce/callback").unwrap(),
        );
        config.login_host = LoginHost::sandbox();
        Self {
            config,
            seen_verifier: Mutex::new(None),
            revocations: AtomicUsize::new(0),
            revoke_fails,
        }
    }
}

#[async_trait]
impl SalesforceAuthorizer for FakeSalesforce {
    fn client_id(&self) -> &str {
        &self.config.client_id
    }
    fn redirect_uri(&self) -> &Url {
        &self.config.redirect_uri
    }
    fn login_host(&self) -> &Url {
        self.config.login_host.url()
    }
    fn authorization_url(&self, state: &OAuthState, challenge: &PkceChallenge) -> Url {
        self.config.authorization_url(state, challenge)
    }
    async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
    ) -> auth::Result<SalesforceTokens> {
        assert_eq!(code.secret(), "sf-code");
        *self.seen_verifier.lock().unwrap() = Some(verifier.secret().to_owned());
        Ok(SalesforceTokens {
            access_token: AccessToken::new("00Dx!at"),
            refresh_token: Some(RefreshToken::new("5Aep-rt")),
            instance_url: "https://acme.my.salesforce.com".into(),
            id_url: format!("https://test.salesforce.com/id/{ORG}/005x00000012Q9PAAU"),
            org_id: ORG.into(),
            user_id: "005x00000012Q9PAAU".into(),
            issued_at_ms: 1,
            scope: "api refresh_token".into(),
        })
    }
    async fn revoke_refresh_token(&self, token: &RefreshToken) -> auth::Result<()> {
        assert_eq!(token.secret(), "5Aep-rt");
        self.revocations.fetch_add(1, Ordering::SeqCst);
        if self.revoke_fails {
            Err(Error::Http("connection refused".into()))
        } else {
            Ok(())
        }
    }
}

pub fn state_of(url: &Url) -> String {
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

fn challenge_of(url: &Url) -> String {
    url.query_pairs()
        .find(|(k, _)| k == "code_challenge")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

fn callback(state: &str) -> CallbackParams {
    CallbackParams {
        code: Some("sf-code".into()),
        state: Some(state.into()),
        error: None,
    }
}

#[tokio::test]
async fn login_round_trip_stores_the_connection_and_spends_the_state() {
    let store = Store::memory(keyring());
    let salesforce = FakeSalesforce::new(false);
    let url = start_login(&store, &salesforce, None, store.clock().now_ms())
        .await
        .unwrap();
    assert!(
        url.as_str()
            .starts_with("https://test.salesforce.com/services/oauth2/authorize?")
    );
    let state = state_of(&url);
    assert_eq!(state.len(), 43);

    let done = complete_login(
        &store,
        &store,
        &salesforce,
        &callback(&state),
        salesforce_principal,
    )
    .await
    .unwrap();
    assert_eq!(
        done.key,
        ConnectionKey::new("sf:005x00000012Q9PAAU", ORG).unwrap()
    );
    // The verifier used in the exchange is the one behind the challenge we sent.
    let verifier = PkceVerifier::new(salesforce.seen_verifier.lock().unwrap().clone().unwrap());
    assert_eq!(
        PkceChallenge::from_verifier(&verifier).as_str(),
        challenge_of(&url)
    );
    let stored = store.get(&done.key).await.unwrap().unwrap();
    assert_eq!(
        stored.connection.refresh_token,
        Some(RefreshToken::new("5Aep-rt"))
    );

    // Reused state.
    assert!(matches!(
        complete_login(
            &store,
            &store,
            &salesforce,
            &callback(&state),
            salesforce_principal
        )
        .await,
        Err(Error::OAuth { .. })
    ));
    assert!(!format!("{:?}", callback(&state)).contains(&state));
}

#[tokio::test]
async fn expired_or_unknown_state_is_refused() {
    let clock = ManualClock::new(1_800_000_000_000);
    let store = Store::memory(keyring()).with_clock(Arc::new(clock.clone()));
    let salesforce = FakeSalesforce::new(false);
    let url = start_login(&store, &salesforce, None, clock.now_ms())
        .await
        .unwrap();
    clock.advance_ms(11 * 60 * 1000);
    assert!(
        complete_login(
            &store,
            &store,
            &salesforce,
            &callback(&state_of(&url)),
            salesforce_principal
        )
        .await
        .is_err()
    );
    assert!(
        complete_login(
            &store,
            &store,
            &salesforce,
            &callback("forged"),
            salesforce_principal
        )
        .await
        .is_err()
    );
    assert!(salesforce.seen_verifier.lock().unwrap().is_none());
}

#[tokio::test]
async fn access_denied_callback_is_mapped_and_spends_the_state() {
    let store = Store::memory(keyring());
    let salesforce = FakeSalesforce::new(false);
    let url = start_login(&store, &salesforce, None, store.clock().now_ms())
        .await
        .unwrap();
    let params = CallbackParams {
        code: None,
        state: Some(state_of(&url)),
        error: Some("access_denied".into()),
    };
    assert!(matches!(
        complete_login(&store, &store, &salesforce, &params, salesforce_principal).await,
        Err(Error::Salesforce {
            kind: SalesforceErrorKind::AccessDenied,
            ..
        })
    ));
    assert!(
        complete_login(
            &store,
            &store,
            &salesforce,
            &callback(&state_of(&url)),
            salesforce_principal
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn disconnect_revokes_before_deleting() {
    let store = Store::memory(keyring());
    let salesforce = FakeSalesforce::new(false);
    let url = start_login(&store, &salesforce, None, store.clock().now_ms())
        .await
        .unwrap();
    let done = complete_login(
        &store,
        &store,
        &salesforce,
        &callback(&state_of(&url)),
        salesforce_principal,
    )
    .await
    .unwrap();
    assert!(disconnect(&store, &salesforce, &done.key).await.unwrap());
    assert_eq!(salesforce.revocations.load(Ordering::SeqCst), 1);
    assert!(store.get(&done.key).await.unwrap().is_none());
    assert!(!disconnect(&store, &salesforce, &done.key).await.unwrap());

    // When Salesforce cannot be reached the local record stays, so the user can retry.
    let failing = FakeSalesforce::new(true);
    let url = start_login(&store, &failing, None, store.clock().now_ms())
        .await
        .unwrap();
    let done = complete_login(
        &store,
        &store,
        &failing,
        &callback(&state_of(&url)),
        salesforce_principal,
    )
    .await
    .unwrap();
    assert!(disconnect(&store, &failing, &done.key).await.is_err());
    assert!(store.get(&done.key).await.unwrap().is_some());
}
