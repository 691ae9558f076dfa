//! The Salesforce login flow and disconnection as plain async functions, ready for the server's
//! `/oauth/authorize` and `/oauth/salesforce/callback` handlers and the command-line login:
//! start (fresh `state` and PKCE verifier kept in the [`FlowStore`], authorization URL out),
//! complete (single-use `state`, code exchange, connection stored), and disconnect (revoke at
//! Salesforce first, then delete locally).

use async_trait::async_trait;
use serde::Deserialize;
use url::Url;

use crate::mcp_auth::authorize::ValidatedAuthorizationRequest;
use crate::pkce::{PkceChallenge, generate_verifier};
use crate::salesforce::{SalesforceOAuthClient, SalesforceTokens};
use crate::secret::{AuthorizationCode, OAuthState, PkceVerifier, RefreshToken};
use crate::store::{
    Connection, ConnectionKey, ConnectionStatus, FlowStore, PendingFlow, TokenStore,
};
use crate::{Error, Result, SalesforceErrorKind};

const MAX_CALLBACK_FIELD: usize = 2048;

/// The Salesforce calls the login flow needs; [`SalesforceOAuthClient`] is the real one.
#[async_trait]
pub trait SalesforceAuthorizer: Send + Sync {
    /// Our consumer key.
    fn client_id(&self) -> &str;
    /// Our callback URL.
    fn redirect_uri(&self) -> &Url;
    /// The login host base URL.
    fn login_host(&self) -> &Url;
    /// The authorization URL for `state` and `challenge`.
    fn authorization_url(&self, state: &OAuthState, challenge: &PkceChallenge) -> Url;
    /// Exchanges a code.
    async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
    ) -> Result<SalesforceTokens>;
    /// Revokes a refresh token (and with it its access tokens).
    async fn revoke_refresh_token(&self, token: &RefreshToken) -> Result<()>;
}

#[async_trait]
impl SalesforceAuthorizer for SalesforceOAuthClient {
    fn client_id(&self) -> &str {
        &self.config().client_id
    }

    fn redirect_uri(&self) -> &Url {
        &self.config().redirect_uri
    }

    fn login_host(&self) -> &Url {
        self.config().login_host.url()
    }

    fn authorization_url(&self, state: &OAuthState, challenge: &PkceChallenge) -> Url {
        SalesforceOAuthClient::authorization_url(self, state, challenge)
    }

    async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
    ) -> Result<SalesforceTokens> {
        SalesforceOAuthClient::exchange_code(self, code, verifier).await
    }

    async fn revoke_refresh_token(&self, token: &RefreshToken) -> Result<()> {
        SalesforceOAuthClient::revoke_refresh_token(self, token).await
    }
}

/// Starts a login: stores a pending flow under a fresh `state` and returns where to send the
/// user. `mcp_request` is the MCP client's request to resume after the callback, if any.
pub async fn start_login(
    flows: &dyn FlowStore,
    salesforce: &dyn SalesforceAuthorizer,
    mcp_request: Option<ValidatedAuthorizationRequest>,
    now_ms: u64,
) -> Result<Url> {
    let state = OAuthState::generate();
    let verifier = generate_verifier();
    let challenge = PkceChallenge::from_verifier(&verifier);
    let flow = PendingFlow {
        verifier,
        redirect_uri: salesforce.redirect_uri().as_str().to_owned(),
        login_host: salesforce.login_host().as_str().to_owned(),
        client_id: salesforce.client_id().to_owned(),
        created_at_ms: now_ms,
        mcp_request,
    };
    flows.put_flow(&state, &flow).await?;
    Ok(salesforce.authorization_url(&state, &challenge))
}

/// The query of Salesforce's redirect to our callback.
#[derive(Clone, Default, Deserialize)]
pub struct CallbackParams {
    /// The code, on success.
    pub code: Option<String>,
    /// Our state.
    pub state: Option<String>,
    /// The error, on refusal (`access_denied`, …).
    pub error: Option<String>,
}

impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Code and state are secrets; only the error is safe to show.
        f.debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field("error", &self.error)
            .finish()
    }
}

/// A finished login.
#[derive(Debug, Clone)]
pub struct CompletedLogin {
    /// Where the connection was stored.
    pub key: ConnectionKey,
    /// The MCP client's request to resume, if the login started from one.
    pub mcp_request: Option<ValidatedAuthorizationRequest>,
}

/// The principal a Salesforce identity maps to when the caller has none of its own:
/// `sf:<user id>` (Salesforce user ids are unique across orgs).
pub fn salesforce_principal(tokens: &SalesforceTokens) -> String {
    format!("sf:{}", tokens.user_id)
}

/// Completes a login on the callback: [`take_pending_flow`], then [`finish_login`].
pub async fn complete_login(
    flows: &dyn FlowStore,
    tokens_store: &dyn TokenStore,
    salesforce: &dyn SalesforceAuthorizer,
    params: &CallbackParams,
    principal: impl FnOnce(&SalesforceTokens) -> String + Send,
) -> Result<CompletedLogin> {
    let flow = take_pending_flow(flows, params).await?;
    let key = finish_login(tokens_store, salesforce, &flow, params, principal).await?;
    Ok(CompletedLogin {
        key,
        mcp_request: flow.mcp_request,
    })
}

/// Takes the pending flow named by the callback's `state` (spent whatever the callback says).
/// An unknown, reused or expired `state` is an `invalid_request` [`Error::OAuth`].
pub async fn take_pending_flow(
    flows: &dyn FlowStore,
    params: &CallbackParams,
) -> Result<PendingFlow> {
    let state = params
        .state
        .as_deref()
        .filter(|s| s.len() <= MAX_CALLBACK_FIELD)
        .ok_or(Error::oauth(
            crate::OAuthErrorCode::InvalidRequest,
            "missing state",
        ))?;
    flows.take_flow(state).await?.ok_or(Error::oauth(
        crate::OAuthErrorCode::InvalidRequest,
        "unknown, used or expired state",
    ))
}

/// Finishes a taken flow: maps a refusal (`error=access_denied`, …) to [`Error::Salesforce`],
/// exchanges the code with the flow's verifier and stores the connection under (principal, org
/// id). `principal` chooses the principal from the tokens (usually [`salesforce_principal`]).
pub async fn finish_login(
    tokens_store: &dyn TokenStore,
    salesforce: &dyn SalesforceAuthorizer,
    flow: &PendingFlow,
    params: &CallbackParams,
    principal: impl FnOnce(&SalesforceTokens) -> String + Send,
) -> Result<ConnectionKey> {
    if let Some(error) = params.error.as_deref() {
        return Err(Error::Salesforce {
            kind: SalesforceErrorKind::from_code(error),
            status: 400,
        });
    }
    if flow.client_id != salesforce.client_id()
        || flow.redirect_uri != salesforce.redirect_uri().as_str()
    {
        return Err(Error::Config(
            "the pending flow was started for another connected app".into(),
        ));
    }
    let code = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= MAX_CALLBACK_FIELD)
        .ok_or(Error::oauth(
            crate::OAuthErrorCode::InvalidRequest,
            "missing code",
        ))?;
    let tokens = salesforce
        .exchange_code(&AuthorizationCode::new(code), &flow.verifier)
        .await?;
    let key = ConnectionKey::new(&principal(&tokens), &tokens.org_id)?;
    let connection = Connection {
        instance_url: tokens.instance_url,
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        issued_at_ms: tokens.issued_at_ms,
        scope: tokens.scope,
        id_url: tokens.id_url,
        user_id: tokens.user_id,
        status: ConnectionStatus::Active,
    };
    tokens_store.upsert(&key, &connection).await?;
    tracing::info!(connection = %key.label(), "Salesforce connection stored");
    Ok(key)
}

/// Disconnects: revokes the refresh token at Salesforce (which kills its access tokens), then
/// deletes the connection locally. A revocation failure other than "already invalid" keeps the
/// local record so the user can retry. Whether a connection existed.
pub async fn disconnect(
    tokens_store: &dyn TokenStore,
    salesforce: &dyn SalesforceAuthorizer,
    key: &ConnectionKey,
) -> Result<bool> {
    let Some(stored) = tokens_store.get(key).await? else {
        return Ok(false);
    };
    if let Some(refresh) = &stored.connection.refresh_token {
        match salesforce.revoke_refresh_token(refresh).await {
            Ok(())
            | Err(Error::Salesforce {
                kind: SalesforceErrorKind::InvalidGrant | SalesforceErrorKind::InvalidRequest,
                ..
            }) => {}
            Err(error) => return Err(error),
        }
    }
    tokens_store.delete(key).await
}
