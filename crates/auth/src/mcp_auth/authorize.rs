//! Validation of an MCP client's authorization request (`/oauth/authorize`): a registered
//! client or one described by its metadata document, exact redirect URI, PKCE S256, `resource` equal to our MCP URL, known scopes.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{GrantKind, GrantRecord, GrantStore, McpAuthConfig, parse_scopes, scopes_within};
use crate::pkce::PkceChallenge;
use crate::random::{random_token, sha256_hex};
use crate::secret::AuthorizationCode;
use crate::{Error, OAuthErrorCode, Result};

/// An MCP client's authorization request after validation, kept with the pending Salesforce
/// flow and turned into our authorization code after the callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatedAuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// The exact registered redirect URI the client asked for.
    pub redirect_uri: String,
    /// The client's S256 challenge.
    pub code_challenge: PkceChallenge,
    /// The client's `state`, echoed back.
    pub state: Option<String>,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The resource (audience) the tokens will be bound to.
    pub resource: String,
    /// SHA-256 of a random value set as a cookie in the browser that gave consent: the
    /// Salesforce callback must come from that browser, so a consented Salesforce URL forwarded
    /// to someone else cannot connect their account to this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser_binding: Option<String>,
}

/// The query parameters of `/oauth/authorize`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizationParams {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The registered client.
    pub client_id: Option<String>,
    /// One of its registered redirect URIs, exactly.
    pub redirect_uri: Option<String>,
    /// S256 challenge.
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
    /// The client's state.
    pub state: Option<String>,
    /// Requested scopes.
    pub scope: Option<String>,
    /// RFC 8707 resource: our MCP URL.
    pub resource: Option<String>,
}

/// What to do with an authorization request whose client and redirect URI are trustworthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeOutcome {
    /// Go on to Salesforce login with this request kept in the pending flow.
    Proceed(ValidatedAuthorizationRequest),
    /// Send the browser back to the client with this error redirect.
    RedirectWithError(Url),
}

const MAX_STATE_LEN: usize = 512;

/// Validates an authorization request. `Err` means the client or redirect URI cannot be trusted,
/// so the error must be shown to the user, never redirected; after that point errors are
/// redirected to the client ([`AuthorizeOutcome::RedirectWithError`]).
pub async fn validate_authorization_request(
    store: &dyn GrantStore,
    config: &McpAuthConfig,
    params: &AuthorizationParams,
) -> Result<AuthorizeOutcome> {
    let client_id = params
        .client_id
        .as_deref()
        .ok_or_else(|| Error::oauth(OAuthErrorCode::InvalidRequest, "client_id is required"))?;
    let client = super::lookup_client(store, config, client_id)
        .await?
        .ok_or_else(|| Error::oauth(OAuthErrorCode::InvalidClient, "unknown client"))?;
    let redirect_uri = params
        .redirect_uri
        .as_deref()
        .ok_or_else(|| Error::oauth(OAuthErrorCode::InvalidRequest, "redirect_uri is required"))?;
    if !client.has_redirect_uri(redirect_uri) {
        return Err(Error::oauth(
            OAuthErrorCode::InvalidRequest,
            "redirect_uri does not exactly match a registered one",
        ));
    }
    let state = params.state.clone().filter(|s| !s.is_empty());
    let reject = |code, description| {
        Ok(AuthorizeOutcome::RedirectWithError(error_redirect(
            redirect_uri,
            state.as_deref(),
            code,
            description,
            config,
        )?))
    };
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return reject(OAuthErrorCode::InvalidRequest, "state too long");
    }
    if params.response_type.as_deref() != Some("code") {
        return reject(
            OAuthErrorCode::UnsupportedResponseType,
            "response_type must be code",
        );
    }
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return reject(
            OAuthErrorCode::UnauthorizedClient,
            "client may not use authorization_code",
        );
    }
    let Some(challenge) = params.code_challenge.as_deref() else {
        return reject(
            OAuthErrorCode::InvalidRequest,
            "code_challenge is required (PKCE S256)",
        );
    };
    let Ok(code_challenge) =
        PkceChallenge::from_request(challenge, params.code_challenge_method.as_deref())
    else {
        return reject(
            OAuthErrorCode::InvalidRequest,
            "PKCE with code_challenge_method S256 is required",
        );
    };
    let resource = match params.resource.as_deref() {
        Some(resource) if config.is_our_resource(resource) => config.resource(),
        Some(_) => {
            return reject(
                OAuthErrorCode::InvalidTarget,
                "resource is not this MCP server",
            );
        }
        // MCP clients must send it; older ones that do not still get tokens bound to us.
        None => config.resource(),
    };
    let Ok(requested) = parse_scopes(params.scope.as_deref()) else {
        return reject(OAuthErrorCode::InvalidScope, "malformed scope");
    };
    let scopes = if requested.is_empty() {
        config.scopes_supported.clone()
    } else if scopes_within(&requested, &config.scopes_supported) {
        requested
    } else {
        return reject(OAuthErrorCode::InvalidScope, "unknown scope requested");
    };
    Ok(AuthorizeOutcome::Proceed(ValidatedAuthorizationRequest {
        client_id: client.client_id,
        redirect_uri: redirect_uri.to_owned(),
        code_challenge,
        state,
        scopes,
        resource,
        browser_binding: None,
    }))
}

/// Issues our single-use authorization code for a validated request once the user is known, and
/// returns the redirect to the client (`code`, `state`, `iss`).
pub async fn issue_authorization_code(
    store: &dyn GrantStore,
    config: &McpAuthConfig,
    request: &ValidatedAuthorizationRequest,
    principal: &str,
    org_id: Option<&str>,
) -> Result<(AuthorizationCode, Url)> {
    let code = AuthorizationCode::new(random_token());
    let record = GrantRecord {
        principal: principal.to_owned(),
        org_id: org_id.map(str::to_owned),
        client_id: request.client_id.clone(),
        scopes: request.scopes.clone(),
        resource: request.resource.clone(),
        expires_at_ms: store.now_ms().saturating_add(millis(config.code_ttl)),
        redirect_uri: Some(request.redirect_uri.clone()),
        code_challenge: Some(request.code_challenge.clone()),
        access_hash: None,
        refresh_hash: None,
        family: None,
    };
    store
        .put_grant(
            GrantKind::Code,
            &sha256_hex(code.secret()),
            &record,
            config.code_ttl,
        )
        .await?;
    let mut url = Url::parse(&request.redirect_uri)
        .map_err(|_| Error::oauth(OAuthErrorCode::InvalidRequest, "redirect_uri is not a URL"))?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("code", code.secret());
        if let Some(state) = &request.state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", &config.issuer());
    }
    Ok((code, url))
}

/// The error redirect to a trusted redirect URI (`error`, `error_description`, `state`, `iss`).
pub fn error_redirect(
    redirect_uri: &str,
    state: Option<&str>,
    code: OAuthErrorCode,
    description: &str,
    config: &McpAuthConfig,
) -> Result<Url> {
    let mut url = Url::parse(redirect_uri)
        .map_err(|_| Error::oauth(OAuthErrorCode::InvalidRequest, "redirect_uri is not a URL"))?;
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("error", code.as_str());
        query.append_pair("error_description", description);
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", &config.issuer());
    }
    Ok(url)
}

pub(crate) fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
