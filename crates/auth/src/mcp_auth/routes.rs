//! The HTTP face of our authorization server as one tower [`Service`]: metadata documents,
//! `/oauth/register`, `/oauth/authorize` (validate, then on to Salesforce with our own PKCE and
//! state), `/oauth/salesforce/callback` (exchange, store the connection, redirect to the MCP
//! client with our single-use code, `state` and `iss`), `/oauth/token` and `/oauth/revoke`.
//! Bodies are read with a size limit; token answers carry `Cache-Control: no-store`.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt as _, Full, Limited};
use serde::Serialize;
use tower::Service;

use super::authorize::{
    AuthorizationParams, AuthorizeOutcome, ValidatedAuthorizationRequest, error_redirect,
    issue_authorization_code, validate_authorization_request,
};
use super::metadata::paths;
use super::registration::{MAX_REGISTRATION_BODY, check_rate, register_client_limited};
use super::token::{
    BasicCredentials, RevocationRequest, TokenRequest, error_body, revoke_for, token_endpoint,
};
use super::{GrantStore as _, McpAuthConfig, PendingConsent, lookup_client};
use crate::Error;
use crate::login::{
    CallbackParams, SalesforceAuthorizer, finish_login, salesforce_principal, start_login,
    take_pending_flow,
};
use crate::random::{random_token, sha256_hex};
use crate::secret::ClientSecret;
use crate::secret::ct_eq_str;
use crate::store::Store;

const MAX_FORM_BODY: usize = 16 * 1024;
const CONSENT_COOKIE: &str = "sfmcp_consent";
/// Binds the Salesforce callback to the browser that consented (see
/// `ValidatedAuthorizationRequest::browser_binding`). `SameSite=Lax`: it must travel on
/// Salesforce's cross-site redirect back to us, which `Strict` would block.
const LOGIN_COOKIE: &str = "sfmcp_login";

/// The caller's address, put in the request extensions by the server: registration and
/// consent pages are rate-limited per source address when it is present (and only overall
/// when it is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

#[derive(serde::Deserialize)]
struct ConsentForm {
    consent: String,
    decision: String,
}

fn consent_cookie<B>(request: &Request<B>) -> Option<String> {
    cookie(request.headers(), CONSENT_COOKIE)
}

fn cookie(headers: &http::HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_owned())
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Our OAuth endpoints. Cheap to clone.
#[derive(Clone)]
pub struct OAuthRoutes {
    store: Store,
    salesforce: Arc<dyn SalesforceAuthorizer>,
    config: Arc<McpAuthConfig>,
}

impl std::fmt::Debug for OAuthRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthRoutes")
            .field("issuer", &self.config.issuer())
            .finish_non_exhaustive()
    }
}

type Answer = Response<Full<Bytes>>;

impl OAuthRoutes {
    /// Routes over `store` (grants, flows and connections), logging users in at `salesforce`.
    pub fn new(
        store: Store,
        salesforce: Arc<dyn SalesforceAuthorizer>,
        config: Arc<McpAuthConfig>,
    ) -> Self {
        Self {
            store,
            salesforce,
            config,
        }
    }

    /// Whether `path` is one of ours (for the server's router).
    pub fn handles(&self, path: &str) -> bool {
        [
            paths::AUTHORIZATION_SERVER_METADATA,
            paths::REGISTER,
            paths::AUTHORIZE,
            paths::CONSENT,
            paths::SALESFORCE_CALLBACK,
            paths::TOKEN,
            paths::REVOKE,
        ]
        .contains(&path)
            || self
                .config
                .protected_resource_metadata_paths()
                .iter()
                .any(|p| p == path)
    }

    /// Answers one request.
    pub async fn handle<B>(&self, request: Request<B>) -> Answer
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = request.uri().path().to_owned();
        let method = request.method().clone();
        let source = request.extensions().get::<ClientAddress>().map(|a| a.0);
        let expected = match path.as_str() {
            paths::REGISTER | paths::TOKEN | paths::REVOKE | paths::CONSENT => Method::POST,
            _ => Method::GET,
        };
        if !self.handles(&path) {
            return plain(StatusCode::NOT_FOUND, "not found");
        }
        if method != expected {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        match path.as_str() {
            paths::AUTHORIZATION_SERVER_METADATA => {
                json(StatusCode::OK, &self.config.authorization_server_metadata())
            }
            paths::REGISTER => self.register(request, source).await,
            paths::AUTHORIZE => {
                self.authorize(request.uri().query().unwrap_or_default(), source)
                    .await
            }
            paths::SALESFORCE_CALLBACK => {
                let login_cookie = cookie(request.headers(), LOGIN_COOKIE);
                self.callback(
                    request.uri().query().unwrap_or_default(),
                    login_cookie.as_deref(),
                )
                .await
            }
            paths::CONSENT => self.consent(request).await,
            paths::TOKEN => self.token(request).await,
            paths::REVOKE => self.revoke(request).await,
            _ => json(StatusCode::OK, &self.config.protected_resource_metadata()),
        }
    }

    async fn register<B>(&self, request: Request<B>, source: Option<std::net::IpAddr>) -> Answer
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let Some(body) = read_body(request.into_body(), MAX_REGISTRATION_BODY).await else {
            return oauth_error(&Error::oauth(
                crate::OAuthErrorCode::InvalidClientMetadata,
                "body unreadable or too large",
            ));
        };
        match register_client_limited(&self.store, &self.config.limits, source, &body).await {
            Ok(registered) => json(StatusCode::CREATED, &registered),
            Err(error) => oauth_error(&error),
        }
    }

    async fn authorize(&self, query: &str, source: Option<std::net::IpAddr>) -> Answer {
        let Ok(params) = serde_urlencoded::from_str::<AuthorizationParams>(query) else {
            return plain(StatusCode::BAD_REQUEST, "malformed authorization request");
        };
        match validate_authorization_request(&self.store, &self.config, &params).await {
            Ok(AuthorizeOutcome::Proceed(request)) => {
                // Each consent page stores a pending record: bounded like registrations.
                let limits = &self.config.limits;
                match check_rate(
                    &self.store,
                    "consent",
                    source,
                    limits.window,
                    limits.consents_per_window,
                    limits.consents_per_source,
                )
                .await
                {
                    Ok(()) => self.consent_page(request).await,
                    Err(error) => oauth_error(&error),
                }
            }
            Ok(AuthorizeOutcome::RedirectWithError(url)) => redirect(url.as_str()),
            // The client or its redirect URI is not trusted: tell the user, do not redirect.
            Err(Error::OAuth { code, description }) => {
                plain(StatusCode::BAD_REQUEST, &format!("{code}: {description}"))
            }
            Err(error) => server_error(&error),
        }
    }

    /// We log users in at Salesforce with one static client id for every MCP client, so each
    /// dynamically registered client needs the user's own consent first (MCP authorization,
    /// "Confused Deputy Problem"). The form is bound to this browser by a `SameSite=Strict`
    /// cookie, so another site cannot post it on the user's behalf.
    async fn consent_page(&self, request: ValidatedAuthorizationRequest) -> Answer {
        let client_name = match lookup_client(&self.store, &self.config, &request.client_id).await {
            Ok(client) => client.and_then(|c| c.client_name),
            Err(error) => return server_error(&error),
        };
        let mut name = client_name.unwrap_or_else(|| "An unnamed application".into());
        // A metadata document's name is self-asserted: show whose site published it.
        if let Some(host) = request
            .client_id
            .starts_with("https://")
            .then(|| url::Url::parse(&request.client_id).ok())
            .flatten()
            .and_then(|u| u.host_str().map(str::to_owned))
        {
            name = format!("{name} (from {host})");
        }
        let redirect_host = url::Url::parse(&request.redirect_uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let consent = random_token();
        let browser = random_token();
        let pending = PendingConsent {
            request,
            browser_hash: sha256_hex(&browser),
        };
        if let Err(error) = self
            .store
            .put_consent(&sha256_hex(&consent), &pending, crate::store::FLOW_TTL)
            .await
        {
            return server_error(&error);
        }
        let page = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Allow access?</title></head><body>\
             <h1>Allow {name} to use Salesforce through {issuer}?</h1>\
             <p>After you approve and sign in to Salesforce, you will be sent back to <strong>{host}</strong>.</p>\
             <form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"consent\" value=\"{consent}\">\
             <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
             </form></body></html>",
            name = html_escape(&name),
            issuer = html_escape(&self.config.issuer()),
            host = html_escape(&redirect_host),
            action = paths::CONSENT,
        );
        let mut answer = response(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Bytes::from(page),
        );
        let headers = answer.headers_mut();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if let Ok(cookie) = HeaderValue::from_str(&format!(
            "{CONSENT_COOKIE}={browser}; Path={}; HttpOnly; Secure; SameSite=Strict; Max-Age=600",
            paths::CONSENT
        )) {
            headers.insert(header::SET_COOKIE, cookie);
        }
        answer
    }

    async fn consent<B>(&self, request: Request<B>) -> Answer
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let browser = consent_cookie(&request);
        let Some(body) = read_body(request.into_body(), MAX_FORM_BODY).await else {
            return plain(StatusCode::BAD_REQUEST, "body unreadable or too large");
        };
        let Ok(form) = serde_urlencoded::from_bytes::<ConsentForm>(&body) else {
            return plain(StatusCode::BAD_REQUEST, "malformed consent form");
        };
        let pending = match self.store.take_consent(&sha256_hex(&form.consent)).await {
            Ok(Some(pending)) => pending,
            Ok(None) => {
                return plain(
                    StatusCode::BAD_REQUEST,
                    "this consent page has expired; start again",
                );
            }
            Err(error) => return server_error(&error),
        };
        let same_browser =
            browser.is_some_and(|b| ct_eq_str(&sha256_hex(&b), &pending.browser_hash));
        if !same_browser {
            return plain(
                StatusCode::FORBIDDEN,
                "consent must come from the page that asked for it",
            );
        }
        let mut request = pending.request;
        if form.decision != "allow" {
            return match error_redirect(
                &request.redirect_uri,
                request.state.as_deref(),
                crate::OAuthErrorCode::AccessDenied,
                "the user denied access",
                &self.config,
            ) {
                Ok(url) => redirect(url.as_str()),
                Err(error) => server_error(&error),
            };
        }
        let login_binding = random_token();
        request.browser_binding = Some(sha256_hex(&login_binding));
        match start_login(
            &self.store,
            self.salesforce.as_ref(),
            Some(request),
            self.store.now_ms(),
        )
        .await
        {
            Ok(url) => {
                let mut answer = redirect(url.as_str());
                if let Ok(cookie) = HeaderValue::from_str(&format!(
                    "{LOGIN_COOKIE}={login_binding}; Path={}; HttpOnly; Secure; SameSite=Lax; Max-Age=600",
                    paths::SALESFORCE_CALLBACK
                )) {
                    answer.headers_mut().insert(header::SET_COOKIE, cookie);
                }
                answer
            }
            Err(error) => server_error(&error),
        }
    }

    async fn callback(&self, query: &str, login_cookie: Option<&str>) -> Answer {
        let Ok(params) = serde_urlencoded::from_str::<CallbackParams>(query) else {
            return plain(StatusCode::BAD_REQUEST, "malformed callback");
        };
        let flow = match take_pending_flow(&self.store, &params).await {
            Ok(flow) => flow,
            Err(error @ Error::OAuth { .. }) => {
                return plain(
                    StatusCode::BAD_REQUEST,
                    &format!("Salesforce login failed: {error}"),
                );
            }
            Err(error) => return server_error(&error),
        };
        // The flow is spent either way: a callback from another browser cannot be retried.
        if let Some(binding) = flow
            .mcp_request
            .as_ref()
            .and_then(|r| r.browser_binding.as_deref())
        {
            let same_browser = login_cookie.is_some_and(|c| ct_eq_str(&sha256_hex(c), binding));
            if !same_browser {
                tracing::warn!("Salesforce callback from a browser that did not give consent");
                return plain(
                    StatusCode::FORBIDDEN,
                    "this sign-in was started in another browser; start again from your MCP client",
                );
            }
        }
        let finished = finish_login(
            &self.store,
            self.salesforce.as_ref(),
            &flow,
            &params,
            salesforce_principal,
        )
        .await;
        match (finished, flow.mcp_request) {
            (Ok(key), Some(request)) => {
                match issue_authorization_code(
                    &self.store,
                    &self.config,
                    &request,
                    key.principal(),
                    Some(key.org_id()),
                )
                .await
                {
                    Ok((_, url)) => redirect(url.as_str()),
                    Err(error) => server_error(&error),
                }
            }
            (Ok(_), None) => plain(
                StatusCode::OK,
                "Connected to Salesforce. You can close this window.",
            ),
            // The MCP client is waiting on its redirect URI: tell it what happened there.
            (Err(error), Some(request)) => {
                let code = match &error {
                    Error::Salesforce {
                        kind: crate::SalesforceErrorKind::AccessDenied,
                        ..
                    } => crate::OAuthErrorCode::AccessDenied,
                    _ => crate::OAuthErrorCode::ServerError,
                };
                tracing::warn!(%error, "Salesforce login failed");
                match error_redirect(
                    &request.redirect_uri,
                    request.state.as_deref(),
                    code,
                    "Salesforce login failed",
                    &self.config,
                ) {
                    Ok(url) => redirect(url.as_str()),
                    Err(error) => server_error(&error),
                }
            }
            (Err(error @ (Error::OAuth { .. } | Error::Salesforce { .. })), None) => plain(
                StatusCode::BAD_REQUEST,
                &format!("Salesforce login failed: {error}"),
            ),
            (Err(error), None) => server_error(&error),
        }
    }

    async fn token<B>(&self, request: Request<B>) -> Answer
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let basic = match basic_credentials(&request) {
            Ok(basic) => basic,
            Err(error) => return oauth_error(&error),
        };
        let Some(body) = read_body(request.into_body(), MAX_FORM_BODY).await else {
            return oauth_error(&Error::oauth(
                crate::OAuthErrorCode::InvalidRequest,
                "body unreadable or too large",
            ));
        };
        let form = match TokenRequest::from_form(&body) {
            Ok(form) => form,
            Err(error) => return oauth_error(&error),
        };
        match token_endpoint(&self.store, &self.config, &form, basic.as_ref()).await {
            Ok(tokens) => json(StatusCode::OK, &tokens),
            Err(error) => oauth_error(&error),
        }
    }

    async fn revoke<B>(&self, request: Request<B>) -> Answer
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let basic = match basic_credentials(&request) {
            Ok(basic) => basic,
            Err(error) => return oauth_error(&error),
        };
        let Some(body) = read_body(request.into_body(), MAX_FORM_BODY).await else {
            return oauth_error(&Error::oauth(
                crate::OAuthErrorCode::InvalidRequest,
                "body unreadable or too large",
            ));
        };
        let Ok(form) = serde_urlencoded::from_bytes::<RevocationRequest>(&body) else {
            return oauth_error(&Error::oauth(
                crate::OAuthErrorCode::InvalidRequest,
                "malformed form body",
            ));
        };
        match revoke_for(&self.store, &self.config, &form, basic.as_ref()).await {
            Ok(()) => plain(StatusCode::OK, ""),
            Err(error) => oauth_error(&error),
        }
    }
}

impl<B> Service<Request<B>> for OAuthRoutes
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Answer;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Answer, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let routes = self.clone();
        Box::pin(async move { Ok(routes.handle(request).await) })
    }
}

async fn read_body<B>(body: B, limit: usize) -> Option<Bytes>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Limited::new(body, limit)
        .collect()
        .await
        .ok()
        .map(|c| c.to_bytes())
}

/// `Authorization: Basic base64(client_id:client_secret)`, form-urlencoded parts (RFC 6749 §2.3.1).
fn basic_credentials<B>(request: &Request<B>) -> Result<Option<BasicCredentials>, Error> {
    let invalid = || {
        Error::oauth(
            crate::OAuthErrorCode::InvalidClient,
            "malformed Basic credentials",
        )
    };
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| invalid())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(invalid());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(invalid());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| invalid())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
    let unescape = |s: &str| percent_decode(s).ok_or_else(invalid);
    Ok(Some(BasicCredentials {
        client_id: unescape(id)?,
        client_secret: ClientSecret::new(unescape(secret)?),
    }))
}

fn percent_decode(value: &str) -> Option<String> {
    let pairs = format!("v={value}");
    serde_urlencoded::from_str::<Vec<(String, String)>>(&pairs)
        .ok()?
        .into_iter()
        .next()
        .map(|(_, v)| v)
}

fn response(status: StatusCode, content_type: &'static str, body: Bytes) -> Answer {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn plain(status: StatusCode, text: &str) -> Answer {
    response(
        status,
        "text/plain; charset=utf-8",
        Bytes::from(text.to_owned()),
    )
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Answer {
    match serde_json::to_vec(value) {
        Ok(body) => response(status, "application/json", Bytes::from(body)),
        Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "serialisation failed"),
    }
}

fn redirect(location: &str) -> Answer {
    let mut answer = plain(StatusCode::FOUND, "");
    if let Ok(value) = HeaderValue::from_str(location) {
        answer.headers_mut().insert(header::LOCATION, value);
    }
    answer
}

fn oauth_error(error: &Error) -> Answer {
    let mut answer = match error_body(error) {
        Some((status, body)) => json(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            &body,
        ),
        None => server_error(error),
    };
    if matches!(
        answer.status(),
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    answer
}

fn server_error(error: &Error) -> Answer {
    if let Error::Capacity(what) = error {
        tracing::warn!(what, "OAuth endpoint at capacity");
        let mut answer = json(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({"error": "temporarily_unavailable", "error_description": what}),
        );
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return answer;
    }
    tracing::error!(%error, "OAuth endpoint failed");
    json(
        StatusCode::INTERNAL_SERVER_ERROR,
        &serde_json::json!({"error": "server_error"}),
    )
}
