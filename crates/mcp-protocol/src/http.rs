//! The Streamable HTTP transport as a tower `Service<http::Request<B>>`: one endpoint serving
//! both eras, with header, `Accept`, `Origin`/`Host` and body-size checks, JSON or SSE responses,
//! legacy sessions through a [`SessionStore`], and cancellation when the client goes away.

mod serve;
mod sse;

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::context::{NOTIFICATION_BUFFER, RequestEnv};
use crate::dispatch::{Era, Outcome, SessionState, modern_version};
use crate::inflight::InFlight;
use crate::jsonrpc::{
    ErrorObject, Message, Notification, Request, RequestId, Response, error_codes, parse_message,
    to_json_bytes,
};
use crate::sampling::{Peer, PendingRequests};
use crate::server::{LEGACY_VERSIONS, MODERN_VERSION, McpServer};
use crate::session::{SessionId, SessionOwner, SessionStore};

pub use serve::serve;

/// Header carrying the legacy session id.
pub const SESSION_HEADER: &str = "mcp-session-id";
/// Header carrying the protocol version.
pub const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
/// Header mirroring the JSON-RPC method (modern era).
pub const METHOD_HEADER: &str = "mcp-method";
/// Header mirroring the tool/prompt name or resource URI (modern era).
pub const NAME_HEADER: &str = "mcp-name";

/// The response body type of [`McpHttpService`].
pub type McpBody = UnsyncBoxBody<Bytes, Infallible>;

/// Transport settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest request body accepted (413 above it).
    pub max_body_bytes: usize,
    /// Accepted `Host` names (without port), checked against the `Host` header and, for HTTP/2,
    /// the `:authority` (every one present must be allowed); `None` accepts any host.
    pub allowed_hosts: Option<Vec<String>>,
    /// Accepted `Origin` values (`scheme://host[:port]`), compared by scheme, host and port
    /// (a default port may be written or left out). `None` accepts only a same-origin `Origin`:
    /// an allowed host with the port of the request's own authority. Requests without `Origin`
    /// (non-browser clients) are accepted.
    pub allowed_origins: Option<Vec<String>>,
    /// Interval of SSE keep-alive comments.
    pub keep_alive: Duration,
    /// How long a legacy sampling request waits for the client's answer.
    pub sampling_timeout: Duration,
    /// Sampling requests one legacy session may have waiting at once.
    pub max_pending_sampling: usize,
}

impl Default for HttpConfig {
    /// Loopback-only hosts (DNS-rebinding protection for local servers), 4 MiB bodies,
    /// keep-alives every 15 s, sampling answers awaited 60 s, 4 waiting per session.
    fn default() -> Self {
        HttpConfig {
            max_body_bytes: crate::jsonrpc::MAX_MESSAGE_BYTES,
            allowed_hosts: Some(vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()]),
            allowed_origins: None,
            keep_alive: Duration::from_secs(15),
            sampling_timeout: crate::sampling::DEFAULT_SAMPLING_TIMEOUT,
            max_pending_sampling: crate::sampling::DEFAULT_MAX_PENDING_PER_SESSION,
        }
    }
}

/// The MCP endpoint as a tower service. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct McpHttpService {
    inner: Arc<HttpInner>,
}

struct HttpInner {
    server: McpServer,
    store: Arc<dyn SessionStore>,
    config: HttpConfig,
    inflight: InFlight,
    /// Sampling requests sent to legacy clients, waiting for the response POST. In this
    /// process only: the response must reach the replica that holds the tool call's stream.
    pending: PendingRequests,
    streams_closed: CancellationToken,
}

impl std::fmt::Debug for McpHttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHttpService")
            .field("server", &self.inner.server)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl McpHttpService {
    /// Serves `server`, keeping legacy sessions in `store`.
    pub fn new(server: McpServer, store: Arc<dyn SessionStore>, config: HttpConfig) -> Self {
        McpHttpService {
            inner: Arc::new(HttpInner {
                server,
                store,
                pending: PendingRequests::new(config.max_pending_sampling),
                config,
                inflight: InFlight::new(),
                streams_closed: CancellationToken::new(),
            }),
        }
    }

    /// Ends open GET streams and `subscriptions/listen` streams (call when shutting down so
    /// graceful shutdown can finish).
    pub fn close_streams(&self) {
        self.inner.streams_closed.cancel();
        self.inner.server.close_subscriptions();
    }
}

impl<B> tower::Service<http::Request<B>> for McpHttpService
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<McpBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { Ok(inner.handle(req).await) })
    }
}

type HttpResponse = http::Response<McpBody>;

fn full(bytes: impl Into<Bytes>) -> McpBody {
    Full::new(bytes.into()).boxed_unsync()
}

fn empty(status: StatusCode) -> HttpResponse {
    let mut r = http::Response::new(full(Bytes::new()));
    *r.status_mut() = status;
    r
}

fn json_response(status: StatusCode, response: &Response) -> HttpResponse {
    let mut r = http::Response::new(full(to_json_bytes(response)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn rpc_error(status: StatusCode, id: Option<RequestId>, error: ErrorObject) -> HttpResponse {
    json_response(status, &Response::error(id, error))
}

/// The HTTP status for a JSON-RPC answer: transport-level problems are 4xx, everything else 200.
fn status_for(era: Era, response: &Response) -> StatusCode {
    let Some(e) = response.error_object() else {
        return StatusCode::OK;
    };
    match (era, e.code) {
        (_, error_codes::PARSE_ERROR | error_codes::INVALID_REQUEST) => StatusCode::BAD_REQUEST,
        (Era::Modern, error_codes::METHOD_NOT_FOUND) => StatusCode::NOT_FOUND,
        (
            Era::Modern,
            error_codes::INVALID_PARAMS
            | error_codes::HEADER_MISMATCH
            | error_codes::MISSING_CLIENT_CAPABILITY
            | error_codes::UNSUPPORTED_PROTOCOL_VERSION,
        ) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Media types listed in `Accept`, lower-cased and without parameters.
fn accepts(headers: &HeaderMap, wanted: &str) -> bool {
    let (family, _) = wanted.split_once('/').unwrap_or((wanted, ""));
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .any(|t| t == wanted || t == "*/*" || t == format!("{family}/*"))
}

/// Decodes a header value that may use the `=?base64?…?=` sentinel.
pub fn decode_header_value(v: &str) -> Option<String> {
    match v
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => {
            let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            String::from_utf8(bytes).ok()
        }
        None => Some(v.to_owned()),
    }
}

fn host_without_port(host: &str) -> &str {
    split_authority(host).0
}

/// `host[:port]` into the host (IPv6 in brackets) and the port text, if any.
fn split_authority(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(i) => (&authority[..=i], authority[i + 1..].strip_prefix(':')),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

/// An origin as (scheme, host, port), lower-cased, the default port filled in; `None` unless
/// it is `http` or `https` with a host and nothing after the authority.
fn parse_origin(origin: &str) -> Option<(String, String, u16)> {
    let (scheme, authority) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return None;
    }
    let (host, port) = split_authority(authority);
    let port = match port {
        None => default_port,
        Some(p) => p.parse().ok()?,
    };
    (!host.is_empty()).then(|| (scheme, host.to_ascii_lowercase(), port))
}

impl HttpInner {
    async fn handle<B>(self: Arc<Self>, req: http::Request<B>) -> HttpResponse
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = req.into_parts();
        if let Some(reason) = self.check_host_and_origin(&parts.headers, &parts.uri) {
            return rpc_error(
                StatusCode::FORBIDDEN,
                None,
                ErrorObject::invalid_request(reason),
            );
        }
        let extensions = Arc::new(parts.extensions);
        match parts.method {
            Method::POST => self.post(parts.headers, extensions, body).await,
            Method::GET => self.get(&parts.headers, &extensions).await,
            Method::DELETE => self.delete(&parts.headers, &extensions).await,
            _ => {
                let mut r = empty(StatusCode::METHOD_NOT_ALLOWED);
                r.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
                r
            }
        }
    }

    fn check_host_and_origin(&self, headers: &HeaderMap, uri: &http::Uri) -> Option<String> {
        let cfg = &self.config;
        // HTTP/1.1 names the host in `Host`; HTTP/2 in `:authority` (the URI), maybe both.
        let host_header = header_str(headers, header::HOST.as_str());
        let uri_authority = uri.authority().map(http::uri::Authority::as_str);
        let request_authority = host_header.or(uri_authority);
        if let Some(hosts) = &cfg.allowed_hosts {
            let allowed = |authority: &str| {
                let host = host_without_port(authority);
                hosts.iter().any(|a| a.eq_ignore_ascii_case(host))
            };
            let named: Vec<&str> = host_header.into_iter().chain(uri_authority).collect();
            if named.is_empty() || !named.iter().all(|a| allowed(a)) {
                return Some("Host not allowed".into());
            }
        }
        let origin = header_str(headers, header::ORIGIN.as_str())?;
        let Some((scheme, host, port)) = parse_origin(origin) else {
            return Some("Origin not allowed".into());
        };
        let ok = match (&cfg.allowed_origins, &cfg.allowed_hosts) {
            (Some(origins), _) => origins
                .iter()
                .filter_map(|o| parse_origin(o))
                .any(|(s, h, p)| s == scheme && h == host && p == port),
            (None, Some(hosts)) => {
                // Same origin: an allowed host, and the port the request itself was sent to.
                let request_port = request_authority
                    .and_then(|a| split_authority(a).1)
                    .map(str::parse::<u16>);
                let port_matches = match request_port {
                    Some(Ok(p)) => p == port,
                    Some(Err(_)) => false,
                    None => port == 80 || port == 443,
                };
                port_matches && hosts.iter().any(|a| a.eq_ignore_ascii_case(&host))
            }
            (None, None) => true,
        };
        (!ok).then(|| "Origin not allowed".into())
    }

    async fn post<B>(
        self: Arc<Self>,
        headers: HeaderMap,
        extensions: Arc<http::Extensions>,
        body: B,
    ) -> HttpResponse
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !(accepts(&headers, "application/json") && accepts(&headers, "text/event-stream")) {
            return rpc_error(
                StatusCode::NOT_ACCEPTABLE,
                None,
                ErrorObject::invalid_request(
                    "Not Acceptable: Accept must list application/json and text/event-stream",
                ),
            );
        }
        let json_body = header_str(&headers, header::CONTENT_TYPE.as_str())
            .and_then(|c| c.split(';').next())
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json"));
        if !json_body {
            return rpc_error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                ErrorObject::invalid_request("Content-Type must be application/json"),
            );
        }
        let bytes = match Limited::new(body, self.config.max_body_bytes)
            .collect()
            .await
        {
            Ok(c) => c.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return rpc_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    None,
                    ErrorObject::invalid_request(format!(
                        "body larger than {} bytes",
                        self.config.max_body_bytes
                    )),
                );
            }
            Err(_) => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    None,
                    ErrorObject::invalid_request("could not read the request body"),
                );
            }
        };
        let msg = match parse_message(&bytes) {
            Ok(m) => m,
            Err(resp) => return json_response(StatusCode::BAD_REQUEST, &resp),
        };
        let modern = match &msg {
            Message::Request(r) => modern_version(r.params.as_ref()).is_some(),
            Message::Notification(n) => modern_version(n.params.as_ref()).is_some(),
            Message::Response(_) => false,
        };
        if modern {
            self.post_modern(&headers, msg, extensions).await
        } else {
            self.post_legacy(&headers, msg, extensions).await
        }
    }

    async fn post_modern(
        self: Arc<Self>,
        headers: &HeaderMap,
        msg: Message,
        extensions: Arc<http::Extensions>,
    ) -> HttpResponse {
        let (id, method, params) = match &msg {
            Message::Request(r) => (Some(r.id.clone()), &r.method, r.params.as_ref()),
            Message::Notification(n) => (None, &n.method, n.params.as_ref()),
            Message::Response(_) => return empty(StatusCode::ACCEPTED),
        };
        if let Err(msg) = check_modern_headers(headers, method, params) {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                id,
                ErrorObject::new(error_codes::HEADER_MISMATCH, msg),
            );
        }
        match msg {
            Message::Request(req) => self.respond(req, None, extensions).await,
            // Modern HTTP cancels by closing the response stream; other notifications need no work.
            _ => empty(StatusCode::ACCEPTED),
        }
    }

    async fn post_legacy(
        self: Arc<Self>,
        headers: &HeaderMap,
        msg: Message,
        extensions: Arc<http::Extensions>,
    ) -> HttpResponse {
        let id = match &msg {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        match header_str(headers, PROTOCOL_VERSION_HEADER) {
            None => {}
            Some(v) if LEGACY_VERSIONS.contains(&v) => {}
            Some(MODERN_VERSION) => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    id,
                    ErrorObject::invalid_params(format!(
                        "missing params._meta[\"{}\"]",
                        crate::dispatch::META_PROTOCOL_VERSION
                    )),
                );
            }
            Some(_) => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    id,
                    ErrorObject::invalid_request("Bad Request: unsupported MCP-Protocol-Version"),
                );
            }
        }
        let msg = match msg {
            Message::Request(req) if req.method == "initialize" => {
                return self.initialize(req, extensions).await;
            }
            other => other,
        };
        let session = match header_str(headers, SESSION_HEADER) {
            None => {
                if let Message::Request(req) = msg
                    && req.method == "ping"
                {
                    return self.respond(req, None, extensions).await;
                }
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    id,
                    ErrorObject::invalid_request("Bad Request: Mcp-Session-Id header is required"),
                );
            }
            Some(raw) => match self.load_session(raw, &extensions).await {
                Ok(Some(s)) => s,
                Ok(None) => {
                    return rpc_error(
                        StatusCode::NOT_FOUND,
                        id,
                        ErrorObject::invalid_request("Session not found"),
                    );
                }
                Err(resp) => return resp,
            },
        };
        match msg {
            Message::Request(req) => self.respond(req, Some(session), extensions).await,
            Message::Notification(n) => self.legacy_notification(&n, session).await,
            // The answer to one of our requests: only a request of this same session that is
            // still waiting takes it.
            Message::Response(resp) => {
                if self.pending.resolve(session.0.as_str(), resp) {
                    empty(StatusCode::ACCEPTED)
                } else {
                    rpc_error(
                        StatusCode::BAD_REQUEST,
                        None,
                        ErrorObject::invalid_request(
                            "no request of this session is waiting for that response",
                        ),
                    )
                }
            }
        }
    }

    /// Loads a session for a request; `None` when unknown, expired or owned by someone else
    /// (answered like an unknown session, so ids of other owners' sessions are not confirmed).
    async fn load_session(
        &self,
        raw: &str,
        extensions: &http::Extensions,
    ) -> Result<Option<(SessionId, SessionState)>, HttpResponse> {
        let Some(sid) = SessionId::parse(raw) else {
            return Ok(None);
        };
        let owner = owner_of(extensions);
        match self.store.load(&sid).await {
            Ok(state) => Ok(state
                .filter(|s| s.owner.as_deref() == owner)
                .map(|s| (sid, s))),
            Err(e) => {
                tracing::warn!(error = %e, "session store failed");
                Err(rpc_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    ErrorObject::internal("session store unavailable"),
                ))
            }
        }
    }

    async fn initialize(
        self: Arc<Self>,
        req: Request,
        extensions: Arc<http::Extensions>,
    ) -> HttpResponse {
        let id = req.id.clone();
        let owner = owner_of(&extensions).map(str::to_owned);
        let env = RequestEnv::new(None).with_extensions(extensions);
        let out = self.server.handle_request(req, None, env).await;
        let Some(mut state) = out.session else {
            return json_response(status_for(Era::Legacy, &out.response), &out.response);
        };
        state.owner = owner;
        let sid = SessionId::generate();
        match self.store.save(&sid, &state).await {
            Ok(()) => {}
            Err(crate::Error::SessionLimit) => {
                tracing::warn!("session limit reached; initialize refused");
                let mut r = rpc_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Some(id),
                    ErrorObject::internal("too many sessions; try again later"),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
                return r;
            }
            Err(e) => {
                tracing::warn!(error = %e, "session store failed");
                return rpc_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Some(id),
                    ErrorObject::internal("session store unavailable"),
                );
            }
        }
        let mut r = json_response(StatusCode::OK, &out.response);
        if let Ok(v) = HeaderValue::from_str(sid.as_str()) {
            r.headers_mut().insert(SESSION_HEADER, v);
        }
        r
    }

    async fn legacy_notification(
        &self,
        n: &Notification,
        (sid, state): (SessionId, SessionState),
    ) -> HttpResponse {
        let effect = self.server.handle_notification(n, Some(&state));
        if let Some(id) = &effect.cancel {
            self.inflight.cancel(sid.as_str(), id);
        }
        if let Some(new) = &effect.session
            && let Err(e) = self.store.save(&sid, new).await
        {
            tracing::warn!(error = %e, "session store failed");
            return empty(StatusCode::SERVICE_UNAVAILABLE);
        }
        empty(StatusCode::ACCEPTED)
    }

    /// Runs a request and answers with JSON, or with SSE once the handler emits a notification.
    async fn respond(
        self: Arc<Self>,
        req: Request,
        session: Option<(SessionId, SessionState)>,
        extensions: Arc<http::Extensions>,
    ) -> HttpResponse {
        let (tx, mut rx) = mpsc::channel(NOTIFICATION_BUFFER);
        let mut env = RequestEnv::new(Some(tx)).with_extensions(extensions);
        if let Some((sid, _)) = &session {
            env = env.with_peer(Peer::new(
                sid.as_str(),
                self.pending.clone(),
                self.config.sampling_timeout,
            ));
        }
        // Dropping the response (client gone) cancels the handler.
        let drop_guard = env.cancel.clone().drop_guard();
        let inflight_guard = session.as_ref().map(|(sid, _)| {
            self.inflight
                .register(sid.as_str(), req.id.clone(), env.cancel.clone())
        });
        let this = self.clone();
        let id = req.id.clone();
        let mut fut: BoxFuture<'static, Outcome> = Box::pin(async move {
            let (sid, state) = match session {
                Some((sid, state)) => (Some(sid), Some(state)),
                None => (None, None),
            };
            let mut out = this.server.handle_request(req, state.as_ref(), env).await;
            if let (Some(new), Some(sid)) = (&out.session, &sid)
                && let Err(e) = this.store.save(sid, new).await
            {
                tracing::warn!(error = %e, "session store failed");
                out.response.payload = Err(ErrorObject::internal("session store unavailable"));
            }
            out
        });
        tokio::select! {
            biased;
            out = &mut fut => {
                let mut queued = Vec::new();
                while let Ok(n) = rx.try_recv() {
                    queued.push(n);
                }
                drop(inflight_guard);
                if queued.is_empty() {
                    drop(drop_guard);
                    return json_response(status_for(out.era, &out.response), &out.response);
                }
                sse::response(sse::Stream::finished(queued, out, self.config.keep_alive))
            }
            Some(first) = rx.recv() => {
                // A streaming request may run long: move it to its own task so a client going
                // away cancels its token without dropping the handler mid-step (it stops
                // cooperatively). Quick JSON answers above skip the spawn.
                let task = tokio::spawn(fut);
                let joined: BoxFuture<'static, Outcome> = Box::pin(async move {
                    task.await.unwrap_or_else(|_| Outcome {
                        response: Response::error(
                            Some(id),
                            ErrorObject::internal("request task failed"),
                        ),
                        era: Era::Legacy,
                        session: None,
                        cancelled: false,
                    })
                });
                sse::response(sse::Stream::running(
                    first,
                    joined,
                    rx,
                    self.config.keep_alive,
                    (drop_guard, inflight_guard),
                ))
            }
        }
    }

    async fn get(&self, headers: &HeaderMap, extensions: &http::Extensions) -> HttpResponse {
        let Some(raw) = header_str(headers, SESSION_HEADER) else {
            return empty(StatusCode::METHOD_NOT_ALLOWED);
        };
        if !accepts(headers, "text/event-stream") {
            return rpc_error(
                StatusCode::NOT_ACCEPTABLE,
                None,
                ErrorObject::invalid_request("Not Acceptable: Accept must list text/event-stream"),
            );
        }
        match self.load_session(raw, extensions).await {
            Ok(Some(_)) => sse::response(sse::Stream::idle(
                self.config.keep_alive,
                self.streams_closed.clone(),
            )),
            Ok(None) => rpc_error(
                StatusCode::NOT_FOUND,
                None,
                ErrorObject::invalid_request("Session not found"),
            ),
            Err(resp) => resp,
        }
    }

    async fn delete(&self, headers: &HeaderMap, extensions: &http::Extensions) -> HttpResponse {
        let Some(raw) = header_str(headers, SESSION_HEADER) else {
            return empty(StatusCode::METHOD_NOT_ALLOWED);
        };
        // Only its owner may end a session.
        let sid = match self.load_session(raw, extensions).await {
            Ok(Some((sid, _))) => sid,
            Ok(None) => return empty(StatusCode::NOT_FOUND),
            Err(resp) => return resp,
        };
        match self.store.delete(&sid).await {
            Ok(true) => empty(StatusCode::OK),
            Ok(false) => empty(StatusCode::NOT_FOUND),
            Err(e) => {
                tracing::warn!(error = %e, "session store failed");
                empty(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }
}

fn owner_of(extensions: &http::Extensions) -> Option<&str> {
    extensions.get::<SessionOwner>().map(|o| o.0.as_str())
}

/// Checks `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` against the body.
fn check_modern_headers(
    headers: &HeaderMap,
    method: &str,
    params: Option<&Value>,
) -> Result<(), String> {
    let body_version = modern_version(params).and_then(Value::as_str);
    match header_str(headers, PROTOCOL_VERSION_HEADER) {
        None => return Err("missing MCP-Protocol-Version header".into()),
        Some(v) if Some(v) != body_version => {
            return Err(format!(
                "MCP-Protocol-Version header {v:?} does not match the request's protocol version"
            ));
        }
        Some(_) => {}
    }
    match header_str(headers, METHOD_HEADER) {
        None => return Err("missing Mcp-Method header".into()),
        Some(m) if m != method => {
            return Err(format!(
                "Mcp-Method header {m:?} does not match method {method:?}"
            ));
        }
        Some(_) => {}
    }
    let name_field = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    };
    if let Some(field) = name_field {
        let body_name = params.and_then(|p| p.get(field)).and_then(Value::as_str);
        let header_name = headers
            .get(NAME_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(decode_header_value);
        match (header_name, body_name) {
            (None, _) => return Err("missing Mcp-Name header".into()),
            (Some(h), Some(b)) if h == b => {}
            (Some(h), _) => {
                return Err(format!(
                    "Mcp-Name header {h:?} does not match params.{field}"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_sentinel() {
        assert_eq!(decode_header_value("plain").as_deref(), Some("plain"));
        assert_eq!(
            decode_header_value("=?base64?w6ljaG8=?=").as_deref(),
            Some("écho")
        );
        assert_eq!(decode_header_value("=?base64?***?="), None);
    }

    #[test]
    fn host_parsing() {
        assert_eq!(host_without_port("localhost:8080"), "localhost");
        assert_eq!(host_without_port("[::1]:80"), "[::1]");
        assert_eq!(host_without_port("example.com"), "example.com");
        assert_eq!(split_authority("[::1]:80"), ("[::1]", Some("80")));
        assert_eq!(split_authority("[::1]"), ("[::1]", None));
    }

    #[test]
    fn origins_parse_with_default_ports() {
        let parsed = |o| parse_origin(o);
        assert_eq!(
            parsed("https://App.Example.com"),
            Some(("https".into(), "app.example.com".into(), 443))
        );
        assert_eq!(
            parsed("http://localhost:3000"),
            Some(("http".into(), "localhost".into(), 3000))
        );
        assert_eq!(
            parsed("http://[::1]"),
            Some(("http".into(), "[::1]".into(), 80))
        );
        for bad in [
            "null",
            "file://x",
            "https://",
            "https://a.com/path",
            "https://u@a.com",
            "https://a.com:x",
        ] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
    }

    #[test]
    fn accept_matching() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json;q=1, text/*"),
        );
        assert!(accepts(&h, "application/json"));
        assert!(accepts(&h, "text/event-stream"));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!accepts(&h, "text/event-stream"));
    }
}
