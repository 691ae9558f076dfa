//! The bearer layer in front of the MCP endpoint: validates `Authorization: Bearer` (our token,
//! not expired, audience = our resource, required scopes), attaches the
//! [`AuthenticatedPrincipal`] to the request extensions, and otherwise answers 401 with
//! `WWW-Authenticate: Bearer resource_metadata="…"`, 403 `insufficient_scope`, or 400 for a
//! token in the query string (OAuth 2.1 forbids it). The token never goes further than here.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::{HeaderValue, Request, Response, StatusCode, header};
use tower::{Layer, Service};

use super::{GrantKind, GrantStore, McpAuthConfig, scopes_within};
use crate::random::sha256_hex;

const MAX_TOKEN_LEN: usize = 512;

/// Who is calling, attached to the request's extensions after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedPrincipal {
    /// Our principal (the user).
    pub principal: String,
    /// The Salesforce org the grant is for, when chosen at authorization.
    pub org_id: Option<String>,
    /// The MCP client.
    pub client_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// When the token expires, epoch milliseconds.
    pub expires_at_ms: u64,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerRejection {
    /// No credentials: 401 with the metadata pointer only.
    Missing,
    /// Malformed request, e.g. a token in the query string: 400 `invalid_request`.
    InvalidRequest(&'static str),
    /// Unknown, expired, or issued for another audience: 401 `invalid_token`.
    InvalidToken(&'static str),
    /// Valid but lacks scopes: 403 `insufficient_scope`.
    InsufficientScope,
    /// The grant store could not be asked: 503, so clients retry instead of re-authorizing.
    Unavailable,
}

/// Validates bearer tokens against the grant store.
#[derive(Clone)]
pub struct BearerValidator {
    store: Arc<dyn GrantStore>,
    config: Arc<McpAuthConfig>,
}

impl std::fmt::Debug for BearerValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerValidator")
            .field("resource", &self.config.resource())
            .finish_non_exhaustive()
    }
}

impl BearerValidator {
    /// A validator over `store` for the resource in `config`.
    pub fn new(store: Arc<dyn GrantStore>, config: Arc<McpAuthConfig>) -> Self {
        Self { store, config }
    }

    /// The bearer token of a request (header only; a query-string token is refused).
    pub fn extract_token<B>(&self, request: &Request<B>) -> Result<String, BearerRejection> {
        extract_bearer(request)
    }

    /// Validates one token: ours, unexpired, for our audience, with the required scopes.
    pub async fn validate_token(
        &self,
        token: &str,
    ) -> Result<AuthenticatedPrincipal, BearerRejection> {
        let record = match self
            .store
            .get_grant(GrantKind::Access, &sha256_hex(token))
            .await
        {
            Ok(Some(record)) => record,
            Ok(None) => return Err(BearerRejection::InvalidToken("unknown or revoked token")),
            Err(error) => {
                tracing::error!(%error, "grant store unavailable while validating a bearer token");
                return Err(BearerRejection::Unavailable);
            }
        };
        if record.expires_at_ms <= self.store.now_ms() {
            return Err(BearerRejection::InvalidToken("token expired"));
        }
        if record.resource != self.config.resource() {
            return Err(BearerRejection::InvalidToken(
                "token was issued for another resource",
            ));
        }
        if !scopes_within(&self.config.required_scopes, &record.scopes) {
            return Err(BearerRejection::InsufficientScope);
        }
        Ok(AuthenticatedPrincipal {
            principal: record.principal,
            org_id: record.org_id,
            client_id: record.client_id,
            scopes: record.scopes,
            expires_at_ms: record.expires_at_ms,
        })
    }

    /// The status and `WWW-Authenticate` value answering `rejection` (empty for 503).
    pub fn challenge(&self, rejection: BearerRejection) -> (StatusCode, String) {
        challenge_for(
            rejection,
            &self.config.resource_metadata_url(),
            &self.config.required_scopes,
        )
    }
}

/// The bearer token of a request: the `Authorization` header only (exactly one); a token in the
/// query string is refused (OAuth 2.1).
pub fn extract_bearer<B>(request: &Request<B>) -> Result<String, BearerRejection> {
    extract_bearer_allowing(request, b"")
}

/// Like [`extract_bearer`], also allowing the bytes in `extra` in the token. Salesforce access
/// tokens (`00D…!AQ…`) carry a `!`, outside RFC 6750's `b64token`.
pub(crate) fn extract_bearer_allowing<B>(
    request: &Request<B>,
    extra: &[u8],
) -> Result<String, BearerRejection> {
    if let Some(query) = request.uri().query()
        && url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "access_token")
    {
        return Err(BearerRejection::InvalidRequest(
            "access tokens are accepted only in the Authorization header",
        ));
    }
    let mut values = request.headers().get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(BearerRejection::Missing);
    };
    if values.next().is_some() {
        return Err(BearerRejection::InvalidRequest(
            "more than one Authorization header",
        ));
    }
    bearer_token(value, extra)
        .map(str::to_owned)
        .ok_or(BearerRejection::InvalidToken(
            "malformed bearer credentials",
        ))
}

/// The status and `WWW-Authenticate` value answering `rejection` (empty for 503), pointing at
/// `metadata_url` and naming `required_scopes`.
pub fn challenge_for(
    rejection: BearerRejection,
    metadata_url: &str,
    required_scopes: &[String],
) -> (StatusCode, String) {
    let metadata = format!("resource_metadata=\"{metadata_url}\"");
    let scope = format!("scope=\"{}\"", required_scopes.join(" "));
    match rejection {
        BearerRejection::Missing => (
            StatusCode::UNAUTHORIZED,
            format!("Bearer {metadata}, {scope}"),
        ),
        BearerRejection::InvalidRequest(description) => (
            StatusCode::BAD_REQUEST,
            format!(
                "Bearer error=\"invalid_request\", error_description=\"{description}\", {metadata}"
            ),
        ),
        BearerRejection::InvalidToken(description) => (
            StatusCode::UNAUTHORIZED,
            format!(
                "Bearer error=\"invalid_token\", error_description=\"{description}\", {metadata}, {scope}"
            ),
        ),
        BearerRejection::InsufficientScope => (
            StatusCode::FORBIDDEN,
            format!("Bearer error=\"insufficient_scope\", {scope}, {metadata}"),
        ),
        BearerRejection::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, String::new()),
    }
}

/// A response of `status` with `challenge` (if any) in `WWW-Authenticate` and an empty body.
pub(crate) fn refusal<ResBody: Default>(status: StatusCode, challenge: &str) -> Response<ResBody> {
    let mut response = Response::new(ResBody::default());
    *response.status_mut() = status;
    if !challenge.is_empty()
        && let Ok(value) = HeaderValue::from_str(challenge)
    {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn bearer_token<'a>(value: &'a HeaderValue, extra: &[u8]) -> Option<&'a str> {
    let value = value.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim_start_matches(' ');
    let well_formed = scheme.eq_ignore_ascii_case("bearer")
        && !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token.trim_end_matches('=').bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
                || extra.contains(&c)
        });
    well_formed.then_some(token)
}

/// What a bearer layer asks of its validator; [`BearerValidator`] (broker mode) and
/// [`DirectValidator`](crate::modes::direct::DirectValidator) (mode `direct`) differ only here.
pub trait TokenValidator: Clone + Send + Sync + 'static {
    /// What a valid token yields, attached to the request's extensions.
    type Principal: Clone + Send + Sync + 'static;

    /// The request's bearer token.
    fn token<B>(&self, request: &Request<B>) -> Result<String, BearerRejection>;

    /// Validates `token`.
    fn principal(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Self::Principal, BearerRejection>> + Send;

    /// The status and `WWW-Authenticate` value answering `rejection` (empty for none).
    fn answer(&self, rejection: BearerRejection) -> (StatusCode, String);
}

impl TokenValidator for BearerValidator {
    type Principal = AuthenticatedPrincipal;

    fn token<B>(&self, request: &Request<B>) -> Result<String, BearerRejection> {
        self.extract_token(request)
    }

    fn principal(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<AuthenticatedPrincipal, BearerRejection>> + Send {
        self.validate_token(token)
    }

    fn answer(&self, rejection: BearerRejection) -> (StatusCode, String) {
        self.challenge(rejection)
    }
}

/// The tower layer of broker mode.
pub type BearerAuthLayer = BearerLayer<BearerValidator>;

/// The service made by [`BearerAuthLayer`].
pub type BearerAuth<S> = Bearer<S, BearerValidator>;

/// A tower layer validating `Authorization: Bearer` with a [`TokenValidator`].
#[derive(Debug, Clone)]
pub struct BearerLayer<V> {
    validator: V,
}

impl<V> BearerLayer<V> {
    /// A layer validating with `validator`.
    pub fn new(validator: V) -> Self {
        Self { validator }
    }
}

impl<S, V: Clone> Layer<S> for BearerLayer<V> {
    type Service = Bearer<S, V>;

    fn layer(&self, inner: S) -> Self::Service {
        Bearer {
            inner,
            validator: self.validator.clone(),
        }
    }
}

/// The service made by [`BearerLayer`]: a valid token's principal goes into the request's
/// extensions; refusals carry an empty body (`ResBody::default()`), the `WWW-Authenticate`
/// header says everything a client needs.
#[derive(Debug, Clone)]
pub struct Bearer<S, V> {
    inner: S,
    validator: V,
}

impl<S, V, B, ResBody> Service<Request<B>> for Bearer<S, V>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    V: TokenValidator,
    B: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request; a fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let validator = self.validator.clone();
        Box::pin(async move {
            let validated = match validator.token(&request) {
                Ok(token) => validator.principal(&token).await,
                Err(rejection) => Err(rejection),
            };
            match validated {
                Ok(principal) => {
                    request.extensions_mut().insert(principal);
                    inner.call(request).await
                }
                Err(rejection) => {
                    let (status, challenge) = validator.answer(rejection);
                    Ok(refusal(status, &challenge))
                }
            }
        })
    }
}
