//! The HTTP side: routing (`/mcp` behind the mode's guard, the mode's OAuth routes and metadata,
//! `/healthz`, `/readyz`, `/metrics`), the rate limit per principal (per client address when
//! there is none), the tower-http layer stack, and the hyper accept loop with graceful shutdown.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use mcp_protocol::McpHttpService;
use salesforce_api::{ApiUsage, CircuitBreaker};
use tokio::net::TcpListener;
use tower::util::BoxCloneSyncService;
use tower::{Layer as _, Service, ServiceBuilder, ServiceExt};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::metrics::{Metrics, SalesforceGauges};
use crate::modes::{AuthRoutes, Guard, SalesforceCheck};
use crate::stores::Stores;

type BoxBody = UnsyncBoxBody<Bytes, Infallible>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The request body `/mcp` and its guard see.
pub type McpRequestBody = UnsyncBoxBody<Bytes, BodyError>;

/// A request body's read error. A concrete type, not a boxed trait object: futures holding
/// trait-object lifetimes trip the compiler's `Send` checks.
#[derive(Debug)]
pub struct BodyError(BoxError);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BodyError {}
/// `/mcp` behind the mode's guard and the rate limit.
pub type McpEndpoint = BoxCloneSyncService<Request<McpRequestBody>, Response<BoxBody>, Infallible>;

/// Whom the rate limit counts a request against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RateKey {
    /// The authenticated user (`oauth`, `direct`).
    Principal(String),
    /// The client address (`none`, where there is no user).
    Peer(IpAddr),
}

/// The keyed limiter.
pub type Limiter = DefaultKeyedRateLimiter<RateKey>;
/// Keys kept before idle ones are dropped.
const LIMITER_KEYS: usize = 10_000;

/// The peer address of a connection, put in each request's extensions by the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

/// What the routes share.
pub struct AppState {
    /// The MCP service (shutdown closes its streams).
    pub mcp: McpHttpService,
    /// `/mcp` as served: guard, rate limit, MCP.
    pub endpoint: McpEndpoint,
    /// The mode's other routes.
    pub routes: AuthRoutes,
    /// How readiness reaches Salesforce.
    pub check: SalesforceCheck,
    /// The stores (readiness pings Redis).
    pub stores: Arc<Stores>,
    /// API usage shared by every Salesforce client.
    pub usage: Arc<ApiUsage>,
    /// The circuit breaker shared by every Salesforce client.
    pub breaker: Arc<CircuitBreaker>,
    /// Request and tool metrics.
    pub metrics: Arc<Metrics>,
    /// Token renewals.
    pub token_refreshes: Arc<std::sync::atomic::AtomicU64>,
}

/// The limiter for `per_second` requests per key (burst twice that).
pub fn limiter(per_second: u32) -> Limiter {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    let burst = rate.saturating_mul(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN));
    RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
}

/// `/mcp` behind `guard`: the guard attaches the principal, the limit counts against it, then
/// MCP answers.
pub fn endpoint(
    guard: Guard,
    mcp: McpHttpService,
    limiter: Limiter,
    metrics: Arc<Metrics>,
) -> McpEndpoint {
    let limited = RateLimited {
        mcp,
        limiter: Arc::new(limiter),
        metrics,
    };
    match guard {
        Guard::Open => BoxCloneSyncService::new(limited),
        Guard::Broker(layer) => BoxCloneSyncService::new(layer.layer(limited)),
        Guard::Direct(layer) => BoxCloneSyncService::new(layer.layer(limited)),
    }
}

/// The rate limit in front of MCP.
#[derive(Clone)]
struct RateLimited {
    mcp: McpHttpService,
    limiter: Arc<Limiter>,
    metrics: Arc<Metrics>,
}

fn rate_key<B>(req: &Request<B>) -> RateKey {
    let extensions = req.extensions();
    if let Some(p) = extensions.get::<auth::mcp_auth::bearer::AuthenticatedPrincipal>() {
        return RateKey::Principal(p.principal.clone());
    }
    if let Some(p) = extensions.get::<auth::modes::direct::SalesforcePrincipal>() {
        return RateKey::Principal(p.principal.clone());
    }
    RateKey::Peer(
        extensions
            .get::<Peer>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |p| p.0.ip()),
    )
}

impl Service<Request<McpRequestBody>> for RateLimited {
    type Response = Response<BoxBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<BoxBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<McpRequestBody>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            if this.limiter.len() > LIMITER_KEYS {
                this.limiter.retain_recent();
            }
            let key = rate_key(&req);
            if let Err(not_until) = this.limiter.check_key(&key) {
                this.metrics.record_rate_limited();
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                let mut response = text(
                    StatusCode::TOO_MANY_REQUESTS,
                    "text/plain",
                    "too many requests; retry later\n",
                );
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
                return Ok(response);
            }
            let mut req = req;
            // A legacy session belongs to the principal that opened it: another caller's token
            // cannot use a leaked session id.
            if let RateKey::Principal(principal) = key {
                req.extensions_mut()
                    .insert(mcp_protocol::SessionOwner(principal));
            }
            this.mcp.oneshot(req).await
        })
    }
}

/// The router: a tower service over any request body.
#[derive(Clone)]
pub struct App(pub Arc<AppState>);

fn text(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<BoxBody> {
    let mut response = Response::new(Full::new(body.into()).boxed_unsync());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

impl<B> Service<Request<B>> for App
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<BoxBody>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<BoxBody>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let state = self.0.clone();
        Box::pin(async move {
            let started = Instant::now();
            let (route, response) = route(&state, req).await;
            state
                .metrics
                .record(route, response.status().as_u16(), started.elapsed());
            Ok(response)
        })
    }
}

async fn route<B>(state: &AppState, req: Request<B>) -> (&'static str, Response<BoxBody>)
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    match path.as_str() {
        "/mcp" => {
            let req = req.map(|body| body.map_err(|e| BodyError(e.into())).boxed_unsync());
            let response = match state.endpoint.clone().oneshot(req).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            ("/mcp", response)
        }
        "/healthz" if method == Method::GET => {
            ("/healthz", text(StatusCode::OK, "text/plain", "ok\n"))
        }
        "/readyz" if method == Method::GET => ("/readyz", ready(state).await),
        "/metrics" if method == Method::GET => {
            let gauges = SalesforceGauges {
                usage: state.usage.snapshot(),
                breaker: state.breaker.state(),
                token_refreshes: state.token_refreshes.load(Ordering::Relaxed),
            };
            (
                "/metrics",
                text(
                    StatusCode::OK,
                    "text/plain; version=0.0.4",
                    state.metrics.render(&gauges),
                ),
            )
        }
        "/healthz" | "/readyz" | "/metrics" => (
            "other",
            text(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "use GET\n"),
        ),
        _ => match &state.routes {
            AuthRoutes::Broker(routes) if routes.handles(&path) => {
                let label = if path.starts_with("/.well-known/") {
                    "/.well-known"
                } else {
                    "/oauth"
                };
                let mut req = req;
                // Registration and consent are rate limited per source address as well as
                // overall. Behind a proxy this is the proxy's address: only the overall limits
                // then tell users apart.
                if let Some(peer) = req.extensions().get::<Peer>().map(|p| p.0.ip()) {
                    req.extensions_mut()
                        .insert(auth::mcp_auth::routes::ClientAddress(peer));
                }
                (label, routes.handle(req).await.map(BodyExt::boxed_unsync))
            }
            AuthRoutes::Direct(config)
                if config.protected_resource_metadata_paths().contains(&path) =>
            {
                let body =
                    serde_json::to_vec(&config.protected_resource_metadata()).unwrap_or_default();
                (
                    "/.well-known",
                    text(StatusCode::OK, "application/json", body),
                )
            }
            _ => (
                "other",
                text(StatusCode::NOT_FOUND, "text/plain", "not found\n"),
            ),
        },
    }
}

/// Ready when Redis (if configured) answers `PING` and Salesforce answers.
async fn ready(state: &AppState) -> Response<BoxBody> {
    if let Err(e) = state.stores.ping().await {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            format!("{e}\n"),
        );
    }
    let check = async {
        match &state.check {
            // Through the breaker, with the current token.
            SalesforceCheck::Client(client) => {
                client.limits().await.map(|_| ()).map_err(|e| e.to_string())
            }
            SalesforceCheck::Reachable { url, http } => match http.get(url).send().await {
                Ok(answer) if !answer.status().is_server_error() => Ok(()),
                Ok(answer) => Err(format!("answered {}", answer.status())),
                Err(e) => Err(format!("unreachable ({})", e.without_url())),
            },
        }
    };
    match tokio::time::timeout(Duration::from_secs(5), check).await {
        Ok(Ok(())) => text(StatusCode::OK, "text/plain", "ready\n"),
        Ok(Err(e)) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            format!("salesforce: {e}\n"),
        ),
        Err(_) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "salesforce: no answer within 5 s\n",
        ),
    }
}

/// Layer settings.
#[derive(Debug, Clone)]
pub struct Layers {
    /// Time to the response head.
    pub request_timeout: Duration,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Browser origins allowed by CORS (empty: no CORS layer).
    pub allowed_origins: Vec<String>,
}

/// Serves `app` behind the layer stack on `listener` until `shutdown` resolves; then stops
/// accepting, ends GET/SSE streams (`close_streams`), and gives in-flight calls `grace` to finish.
pub async fn serve(
    listener: TcpListener,
    app: App,
    layers: Layers,
    grace: Duration,
    shutdown: impl Future<Output = ()>,
) {
    let sensitive: Arc<[HeaderName]> = Arc::new([
        header::AUTHORIZATION,
        header::COOKIE,
        HeaderName::from_static("mcp-session-id"),
    ]);
    // With no configured origin the layer allows none: browsers get no CORS grant.
    let cors = {
        let origins: Vec<HeaderValue> = layers
            .allowed_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                HeaderName::from_static("mcp-session-id"),
                HeaderName::from_static("mcp-protocol-version"),
                HeaderName::from_static("mcp-method"),
                HeaderName::from_static("mcp-name"),
                HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([HeaderName::from_static("mcp-session-id")])
    };
    let mcp = app.0.mcp.clone();
    let service = ServiceBuilder::new()
        .layer(CatchPanicLayer::new())
        .layer(SetSensitiveRequestHeadersLayer::from_shared(sensitive))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(RequestBodyLimitLayer::new(layers.max_body_bytes))
        .layer(cors)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            layers.request_timeout,
        ))
        .service(app);

    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else {
                    // Out of descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let per_connection = service.clone().map_request(move |mut req: Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(Peer(peer));
                    req
                });
                let conn = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(per_connection))
                    .into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; finishing in-flight calls");
    // Long-lived GET streams are not calls: end them so only real work holds the shutdown.
    mcp.close_streams();
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_secs = grace.as_secs(),
            "in-flight calls did not finish in time"
        );
    }
}
