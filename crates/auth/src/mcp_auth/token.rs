//! Our token endpoint and revocation (as plain async functions over [`GrantStore`]):
//! `authorization_code` (single-use code, PKCE S256 verified, redirect URI and resource bound)
//! and `refresh_token` (rotating: the old refresh token is taken atomically, so reusing it is
//! refused), and RFC 7009 revocation.

use serde::{Deserialize, Serialize, Serializer};

use super::authorize::millis;
use super::registration::RegisteredClient;
use super::{GrantKind, GrantRecord, GrantStore, McpAuthConfig, parse_scopes, scopes_within};
use crate::pkce::parse_verifier;
use crate::random::{random_token, sha256_hex};
use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::{Error, OAuthErrorCode, Result};

/// The form fields of a token request (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequest {
    /// `authorization_code` or `refresh_token`.
    pub grant_type: Option<String>,
    /// The code.
    pub code: Option<String>,
    /// The redirect URI the code was issued for.
    pub redirect_uri: Option<String>,
    /// The PKCE verifier.
    pub code_verifier: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// The client (for public clients and `client_secret_post`).
    pub client_id: Option<String>,
    /// `client_secret_post`.
    pub client_secret: Option<String>,
    /// RFC 8707 resource.
    pub resource: Option<String>,
    /// Narrower scope on refresh.
    pub scope: Option<String>,
}

impl TokenRequest {
    /// Parses a form body.
    pub fn from_form(body: &[u8]) -> Result<Self> {
        serde_urlencoded::from_bytes(body)
            .map_err(|_| Error::oauth(OAuthErrorCode::InvalidRequest, "malformed form body"))
    }
}

/// Client credentials from an `Authorization: Basic` header, if the server saw one.
#[derive(Debug, Clone)]
pub struct BasicCredentials {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: ClientSecret,
}

/// A successful token response.
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// Our opaque access token.
    #[serde(serialize_with = "expose_access")]
    pub access_token: AccessToken,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: u64,
    /// Our opaque refresh token.
    #[serde(serialize_with = "expose_refresh")]
    pub refresh_token: RefreshToken,
    /// Granted scopes.
    pub scope: String,
}

fn expose_access<S: Serializer>(t: &AccessToken, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(t.secret())
}

fn expose_refresh<S: Serializer>(t: &RefreshToken, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(t.secret())
}

fn invalid_grant(description: &'static str) -> Error {
    Error::oauth(OAuthErrorCode::InvalidGrant, description)
}

/// Identifies and authenticates the client of a token or revocation request: registered
/// clients, and with `config` also clients named by a metadata document URL.
async fn authenticate_client(
    store: &dyn GrantStore,
    config: Option<&McpAuthConfig>,
    request: &TokenRequest,
    basic: Option<&BasicCredentials>,
) -> Result<RegisteredClient> {
    let invalid = || {
        Error::oauth(
            OAuthErrorCode::InvalidClient,
            "client authentication failed",
        )
    };
    let (client_id, secret) = match (basic, request.client_id.as_deref()) {
        (Some(basic), None) => (basic.client_id.as_str(), Some(basic.client_secret.clone())),
        (Some(basic), Some(id)) if id == basic.client_id => {
            (basic.client_id.as_str(), Some(basic.client_secret.clone()))
        }
        (Some(_), Some(_)) => return Err(invalid()),
        (None, Some(id)) => (id, request.client_secret.as_deref().map(ClientSecret::new)),
        (None, None) => return Err(invalid()),
    };
    let client = match config {
        Some(config) => super::lookup_client(store, config, client_id).await?,
        None => store.get_client(client_id).await?,
    }
    .ok_or_else(invalid)?;
    client.authenticate(secret.as_ref())?;
    Ok(client)
}

/// Handles a token request.
pub async fn token_endpoint(
    store: &dyn GrantStore,
    config: &McpAuthConfig,
    request: &TokenRequest,
    basic: Option<&BasicCredentials>,
) -> Result<TokenResponse> {
    let client = authenticate_client(store, Some(config), request, basic).await?;
    match request.grant_type.as_deref() {
        Some("authorization_code") => exchange_code(store, config, &client, request).await,
        Some("refresh_token") => refresh(store, config, &client, request).await,
        Some(_) => Err(Error::oauth(
            OAuthErrorCode::UnsupportedGrantType,
            "unsupported grant_type",
        )),
        None => Err(Error::oauth(
            OAuthErrorCode::InvalidRequest,
            "grant_type is required",
        )),
    }
}

fn check_resource(config: &McpAuthConfig, requested: Option<&str>, bound: &str) -> Result<()> {
    match requested {
        Some(resource) if !config.is_our_resource(resource) || config.resource() != bound => {
            Err(Error::oauth(
                OAuthErrorCode::InvalidTarget,
                "resource does not match the grant",
            ))
        }
        _ => Ok(()),
    }
}

async fn exchange_code(
    store: &dyn GrantStore,
    config: &McpAuthConfig,
    client: &RegisteredClient,
    request: &TokenRequest,
) -> Result<TokenResponse> {
    let code = request
        .code
        .as_deref()
        .ok_or_else(|| Error::oauth(OAuthErrorCode::InvalidRequest, "code is required"))?;
    // Taken before any check, so a code is spent by its first use whatever happens next.
    let code_hash = sha256_hex(code);
    let Some(record) = store.take_grant(GrantKind::Code, &code_hash).await? else {
        revoke_family_of_spent(store, &code_hash).await?;
        return Err(invalid_grant("unknown, expired or already used code"));
    };
    if record.expires_at_ms <= store.now_ms() {
        return Err(invalid_grant("code expired"));
    }
    if record.client_id != client.client_id {
        return Err(invalid_grant("code was issued to another client"));
    }
    if record.redirect_uri.as_deref() != request.redirect_uri.as_deref() {
        return Err(invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    let verifier = request
        .code_verifier
        .as_deref()
        .ok_or_else(|| invalid_grant("code_verifier is required"))
        .and_then(|v| parse_verifier(v).map_err(|_| invalid_grant("malformed code_verifier")))?;
    let challenge = record
        .code_challenge
        .as_ref()
        .ok_or_else(|| invalid_grant("code has no PKCE challenge"))?;
    if !challenge.verify(&verifier) {
        return Err(invalid_grant("PKCE verification failed"));
    }
    check_resource(config, request.resource.as_deref(), &record.resource)?;
    // Order matters: the code was taken atomically above (a concurrent redemption got `None`),
    // and the spent marker naming the family is written before any token exists, so a replay
    // from here on revokes what this redemption issues. A crash in between leaves a spent code
    // and no tokens, never two token sets.
    let family = random_token();
    mark_spent(store, &code_hash, &record, &family, config.code_ttl).await?;
    issue_tokens(store, config, &record, record.scopes.clone(), &family).await
}

/// Remembers that `hash` was used, so a replay can find and revoke what it produced.
async fn mark_spent(
    store: &dyn GrantStore,
    hash: &str,
    record: &GrantRecord,
    family: &str,
    ttl: std::time::Duration,
) -> Result<()> {
    let spent = GrantRecord {
        family: Some(family.to_owned()),
        redirect_uri: None,
        code_challenge: None,
        access_hash: None,
        refresh_hash: None,
        ..record.clone()
    };
    match store.put_grant(GrantKind::Spent, hash, &spent, ttl).await {
        Ok(()) | Err(Error::Conflict) => Ok(()),
        Err(error) => Err(error),
    }
}

/// A spent code or refresh token came back: someone holds a copy, so the tokens it led to are
/// revoked (OAuth 2.1 §4.1.3 and §4.3.1).
/// How long a revoked family is remembered: longer than any issuing takes.
const REVOKED_FAMILY_TTL: std::time::Duration = std::time::Duration::from_secs(60 * 60);

fn revoked_family_key(family: &str) -> String {
    format!("family:{family}")
}

async fn revoke_family_of_spent(store: &dyn GrantStore, hash: &str) -> Result<()> {
    let Some(spent) = store.get_grant(GrantKind::Spent, hash).await? else {
        return Ok(());
    };
    let Some(family) = spent.family.clone() else {
        return Ok(());
    };
    // Remembered so that a redemption still issuing this family's tokens withdraws them.
    match store
        .put_grant(
            GrantKind::Spent,
            &revoked_family_key(&family),
            &spent,
            REVOKED_FAMILY_TTL,
        )
        .await
    {
        Ok(()) | Err(Error::Conflict) => {}
        Err(error) => return Err(error),
    }
    if let Some(current) = store.take_grant(GrantKind::Family, &family).await? {
        if let Some(access_hash) = &current.access_hash {
            store.delete_grant(GrantKind::Access, access_hash).await?;
        }
        if let Some(refresh_hash) = &current.refresh_hash {
            store.delete_grant(GrantKind::Refresh, refresh_hash).await?;
        }
    }
    tracing::warn!(client = %spent.client_id, "replayed code or refresh token; its token family is revoked");
    Ok(())
}

async fn refresh(
    store: &dyn GrantStore,
    config: &McpAuthConfig,
    client: &RegisteredClient,
    request: &TokenRequest,
) -> Result<TokenResponse> {
    if !client.grant_types.iter().any(|g| g == "refresh_token") {
        return Err(Error::oauth(
            OAuthErrorCode::UnauthorizedClient,
            "client is not registered for the refresh_token grant",
        ));
    }
    let token = request
        .refresh_token
        .as_deref()
        .ok_or_else(|| Error::oauth(OAuthErrorCode::InvalidRequest, "refresh_token is required"))?;
    let hash = sha256_hex(token);
    // Peek first so another client's token is left alone; then take, which is the atomic
    // single-use step (a concurrent reuse loses here).
    let Some(peeked) = store.get_grant(GrantKind::Refresh, &hash).await? else {
        revoke_family_of_spent(store, &hash).await?;
        return Err(invalid_grant(
            "unknown, expired or already used refresh token",
        ));
    };
    if peeked.client_id != client.client_id {
        return Err(invalid_grant("refresh token was issued to another client"));
    }
    let record = store
        .take_grant(GrantKind::Refresh, &hash)
        .await?
        .ok_or_else(|| invalid_grant("unknown, expired or already used refresh token"))?;
    if record.expires_at_ms <= store.now_ms() {
        return Err(invalid_grant("refresh token expired"));
    }
    check_resource(config, request.resource.as_deref(), &record.resource)?;
    let requested = parse_scopes(request.scope.as_deref())?;
    let scopes = if requested.is_empty() {
        record.scopes.clone()
    } else if scopes_within(&requested, &record.scopes) {
        requested
    } else {
        return Err(Error::oauth(
            OAuthErrorCode::InvalidScope,
            "scope exceeds the original grant",
        ));
    };
    let family = record.family.clone().unwrap_or_else(random_token);
    // As for codes: taken atomically, marked spent, then the new pair is issued.
    mark_spent(store, &hash, &record, &family, config.refresh_token_ttl).await?;
    issue_tokens(store, config, &record, scopes, &family).await
}

async fn issue_tokens(
    store: &dyn GrantStore,
    config: &McpAuthConfig,
    grant: &GrantRecord,
    scopes: Vec<String>,
    family: &str,
) -> Result<TokenResponse> {
    let now = store.now_ms();
    let access = AccessToken::new(random_token());
    let refresh = RefreshToken::new(random_token());
    let access_hash = sha256_hex(access.secret());
    let base = GrantRecord {
        principal: grant.principal.clone(),
        org_id: grant.org_id.clone(),
        client_id: grant.client_id.clone(),
        scopes: scopes.clone(),
        resource: grant.resource.clone(),
        expires_at_ms: now.saturating_add(millis(config.access_token_ttl)),
        redirect_uri: None,
        code_challenge: None,
        access_hash: None,
        refresh_hash: None,
        family: Some(family.to_owned()),
    };
    store
        .put_grant(
            GrantKind::Access,
            &access_hash,
            &base,
            config.access_token_ttl,
        )
        .await?;
    let refresh_hash = sha256_hex(refresh.secret());
    let (access_hash_copy, refresh_hash_copy) = (access_hash.clone(), refresh_hash.clone());
    let refresh_record = GrantRecord {
        expires_at_ms: now.saturating_add(millis(config.refresh_token_ttl)),
        access_hash: Some(access_hash),
        ..base
    };
    store
        .put_grant(
            GrantKind::Refresh,
            &refresh_hash,
            &refresh_record,
            config.refresh_token_ttl,
        )
        .await?;
    let family_record = GrantRecord {
        refresh_hash: Some(refresh_hash),
        ..refresh_record
    };
    store
        .put_grant(
            GrantKind::Family,
            family,
            &family_record,
            config.refresh_token_ttl,
        )
        .await?;
    // A replay of the code or refresh token seen while we were writing revoked the family
    // before its tokens existed: withdraw them.
    if store
        .get_grant(GrantKind::Spent, &revoked_family_key(family))
        .await?
        .is_some()
    {
        store
            .delete_grant(GrantKind::Access, &access_hash_copy)
            .await?;
        store
            .delete_grant(GrantKind::Refresh, &refresh_hash_copy)
            .await?;
        store.delete_grant(GrantKind::Family, family).await?;
        return Err(invalid_grant("the grant was replayed and is revoked"));
    }
    Ok(TokenResponse {
        access_token: access,
        token_type: "Bearer",
        expires_in: config.access_token_ttl.as_secs(),
        refresh_token: refresh,
        scope: scopes.join(" "),
    })
}

/// The form of a revocation request (RFC 7009).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RevocationRequest {
    /// The token.
    pub token: Option<String>,
    /// `access_token` or `refresh_token` (a hint only).
    pub token_type_hint: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// `client_secret_post`.
    pub client_secret: Option<String>,
}

/// Revokes one of our tokens. Revoking a refresh token also revokes the access token issued
/// with it. Unknown tokens succeed silently (RFC 7009 §2.2); another client's tokens are left
/// alone. Only registered clients: [`revoke_for`] also knows metadata-document clients.
pub async fn revoke(
    store: &dyn GrantStore,
    request: &RevocationRequest,
    basic: Option<&BasicCredentials>,
) -> Result<()> {
    revoke_inner(store, None, request, basic).await
}

/// [`revoke`] for every kind of client `config` accepts (registered and metadata documents).
pub async fn revoke_for(
    store: &dyn GrantStore,
    config: &McpAuthConfig,
    request: &RevocationRequest,
    basic: Option<&BasicCredentials>,
) -> Result<()> {
    revoke_inner(store, Some(config), request, basic).await
}

async fn revoke_inner(
    store: &dyn GrantStore,
    config: Option<&McpAuthConfig>,
    request: &RevocationRequest,
    basic: Option<&BasicCredentials>,
) -> Result<()> {
    let as_token_request = TokenRequest {
        client_id: request.client_id.clone(),
        client_secret: request.client_secret.clone(),
        ..TokenRequest::default()
    };
    let client = authenticate_client(store, config, &as_token_request, basic).await?;
    let token = request
        .token
        .as_deref()
        .ok_or_else(|| Error::oauth(OAuthErrorCode::InvalidRequest, "token is required"))?;
    let hash = sha256_hex(token);
    if let Some(record) = store.get_grant(GrantKind::Refresh, &hash).await? {
        if record.client_id == client.client_id {
            store.delete_grant(GrantKind::Refresh, &hash).await?;
            if let Some(access_hash) = &record.access_hash {
                store.delete_grant(GrantKind::Access, access_hash).await?;
            }
        }
        return Ok(());
    }
    if let Some(record) = store.get_grant(GrantKind::Access, &hash).await?
        && record.client_id == client.client_id
    {
        store.delete_grant(GrantKind::Access, &hash).await?;
    }
    Ok(())
}

/// The JSON error body of a token, registration or revocation endpoint answer.
pub fn error_body(error: &Error) -> Option<(u16, serde_json::Value)> {
    match error {
        Error::OAuth { code, description } => Some((
            code.http_status(),
            serde_json::json!({"error": code.as_str(), "error_description": description}),
        )),
        _ => None,
    }
}
