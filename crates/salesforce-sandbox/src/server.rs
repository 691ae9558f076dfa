//! The sandbox as an HTTP server: shared state, the builder, hyper's accept loop with graceful
//! shutdown, and the top-level routing (OAuth, admin, versions, authenticated REST with the
//! API-usage counter and `Sforce-Limit-Info`).

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use chrono::TimeDelta;
use http::{HeaderMap, Method, Request, Response, StatusCode, header::HeaderName};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use salesforce_core::wire::error_code;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::dataset::{self, DatasetSize};
use crate::error::{ApiFailure, Error};
use crate::faults::{FaultAction, Faults};
use crate::http::Reply;
use crate::limits::ApiUsage;
use crate::oauth::tokens::TokenStore;
use crate::oauth::{self, OAuthConfig};
use crate::request_log::{LogEntry, RequestLog};
use crate::rest::{self, Call};
use crate::schema::Schema;
use crate::schema::custom::SchemaExtension;
use crate::store::{Store, Txn};

/// Default daily API request limit (Developer Edition).
pub const DEFAULT_DAILY_API_LIMIT: u64 = 15_000;
/// Default limit on request body size.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Everything a running sandbox shares between requests.
#[derive(Debug)]
pub struct State {
    pub(crate) store: Store,
    pub(crate) clock: Arc<Clock>,
    pub(crate) usage: ApiUsage,
    pub(crate) faults: Faults,
    pub(crate) log: RequestLog,
    pub(crate) tokens: TokenStore,
    pub(crate) locators: crate::soql_engine::QueryLocators,
    pub(crate) outbound: Arc<crate::outbound::Outbound>,
    oauth: RwLock<OAuthConfig>,
    base_url: RwLock<String>,
    max_body_bytes: usize,
    dataset: RwLock<Option<(DatasetSize, u64)>>,
}

impl State {
    pub(crate) fn oauth_config(&self) -> OAuthConfig {
        self.oauth.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn base_url(&self) -> String {
        self.base_url
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn demo_username(&self) -> String {
        let data = self.store.read();
        let admin = data.users().admin;
        data.object("User")
            .and_then(|(_, def, table)| {
                let record = table.get(&admin)?;
                record
                    .get(def.field_index("Username")?)
                    .as_text()
                    .map(str::to_owned)
            })
            .unwrap_or_default()
    }

    /// Empties the org and regenerates the configured dataset (if any).
    pub(crate) fn reload(&self, dataset: Option<(DatasetSize, u64)>) {
        let now = self.clock.now();
        // Locators point at rows of the old data.
        self.locators.clear();
        self.store.reset(now);
        if let Some((size, seed)) = dataset {
            let mut data = self.store.write();
            dataset::generate(&mut data, size, seed, now, &mut |_| {});
        }
        *self.dataset.write().unwrap_or_else(|e| e.into_inner()) = dataset;
    }

    pub(crate) fn dataset(&self) -> Option<(DatasetSize, u64)> {
        *self.dataset.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// Configures a [`Sandbox`].
pub struct SandboxBuilder {
    clock: Option<Clock>,
    dataset: Option<(DatasetSize, u64)>,
    daily_api_limit: u64,
    oauth: OAuthConfig,
    extension: Option<SchemaExtension>,
    max_body_bytes: usize,
    progress: Option<Box<dyn FnMut(dataset::Progress) + Send>>,
    outbound_rules: Vec<crate::outbound::OutboundRule>,
}

impl SandboxBuilder {
    /// Uses this clock (e.g. [`Clock::fixed`]) instead of real time.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Loads a generated dataset at start and on reset.
    pub fn dataset(mut self, size: DatasetSize, seed: u64) -> Self {
        self.dataset = Some((size, seed));
        self
    }

    /// Reports dataset generation progress (useful for `large`).
    pub fn progress(mut self, progress: impl FnMut(dataset::Progress) + Send + 'static) -> Self {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Sets the daily API request limit (default 15,000).
    pub fn daily_api_limit(mut self, max: u64) -> Self {
        self.daily_api_limit = max;
        self
    }

    /// Sets the demo app's callback URLs (matched exactly).
    pub fn callback_urls(mut self, urls: Vec<String>) -> Self {
        for app in &mut self.oauth.apps {
            app.callback_urls = urls.clone();
        }
        self
    }

    /// Approves authorize requests at once, without the login page.
    pub fn auto_approve(mut self, on: bool) -> Self {
        self.oauth.auto_approve = on;
        self
    }

    /// Sets how long access tokens live (default two hours).
    pub fn access_token_lifetime(mut self, lifetime: TimeDelta) -> Self {
        self.oauth.access_token_lifetime = lifetime;
        self
    }

    /// Turns refresh-token rotation on or off (default on).
    pub fn rotate_refresh_tokens(mut self, on: bool) -> Self {
        self.oauth.rotate_refresh_tokens = on;
        self
    }

    /// Adds custom objects and fields.
    pub fn schema_extension(mut self, extension: SchemaExtension) -> Self {
        self.extension = Some(extension);
        self
    }

    /// Sets the request body size limit.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Adds outbound-message rules (see [`crate::outbound`]); checked by [`Self::build`].
    pub fn outbound_rules(
        mut self,
        rules: impl IntoIterator<Item = crate::outbound::OutboundRule>,
    ) -> Self {
        self.outbound_rules.extend(rules);
        self
    }

    /// Builds the org (generating the dataset, which can take seconds for `large`).
    pub fn build(self) -> Result<Sandbox, Error> {
        let clock = Arc::new(self.clock.unwrap_or_default());
        let now = clock.now();
        let mut schema = Schema::standard();
        if let Some(extension) = &self.extension {
            schema.extend(extension)?;
        }
        let store = Store::with_schema(schema, now);
        if let Some((size, seed)) = self.dataset {
            let mut progress = self.progress;
            let mut data = store.write();
            dataset::generate(&mut data, size, seed, now, &mut |p| {
                if let Some(f) = progress.as_mut() {
                    f(p);
                }
            });
        }
        let org_id = store.read().org_id();
        let outbound = Arc::new(crate::outbound::Outbound::new());
        for rule in &self.outbound_rules {
            outbound
                .add_rule(&store.read(), rule)
                .map_err(Error::OutboundRule)?;
        }
        store.set_observer(outbound.clone());
        Ok(Sandbox {
            state: Arc::new(State {
                store,
                usage: ApiUsage::new(self.daily_api_limit, now),
                clock,
                faults: Faults::default(),
                log: RequestLog::default(),
                tokens: TokenStore::new(org_id),
                locators: crate::soql_engine::QueryLocators::default(),
                outbound,
                oauth: RwLock::new(self.oauth),
                base_url: RwLock::new(String::new()),
                max_body_bytes: self.max_body_bytes,
                dataset: RwLock::new(self.dataset),
            }),
        })
    }
}

/// A local Salesforce org. Cheap to clone (shared state).
#[derive(Clone, Debug)]
pub struct Sandbox {
    state: Arc<State>,
}

/// A sandbox serving on a socket.
#[derive(Debug)]
pub struct RunningSandbox {
    sandbox: Sandbox,
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    delivery: JoinHandle<()>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`: the login URL and the instance URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The sandbox (clock, store, tokens) for direct control in tests.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Stops accepting, lets in-flight requests finish (up to 5 s) and waits for the loop.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.delivery.abort();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.delivery.abort();
    }
}

/// The error that makes hyper close a connection without answering (fault injection).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

impl Sandbox {
    /// A builder with defaults: real clock, no dataset, 15,000 daily API requests, the demo
    /// connected app with callback `http://localhost:8080/callback`, login page (no
    /// auto-approve), 2-hour access tokens, refresh-token rotation on.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder {
            clock: None,
            dataset: None,
            daily_api_limit: DEFAULT_DAILY_API_LIMIT,
            oauth: OAuthConfig::demo(vec!["http://localhost:8080/callback".into()]),
            extension: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            progress: None,
            outbound_rules: Vec::new(),
        }
    }

    /// Starts a sandbox with the tiny dataset and auto-approve on `127.0.0.1:0`.
    pub async fn start_local() -> Result<RunningSandbox, Error> {
        let sandbox = Self::builder()
            .dataset(DatasetSize::Tiny, 1)
            .auto_approve(true)
            .build()?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        sandbox.serve(listener)
    }

    pub(crate) fn state(&self) -> &Arc<State> {
        &self.state
    }

    /// The controllable clock.
    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// The org's data.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Issues an access token for the demo user without an OAuth flow (tests, demo mode).
    pub fn issue_access_token(&self) -> String {
        let user = self.state.store.read().users().admin;
        let lifetime = self.state.oauth_config().access_token_lifetime;
        self.state.tokens.issue_direct(
            user,
            oauth::DEMO_CLIENT_ID,
            self.state.clock.now(),
            lifetime,
        )
    }

    /// Serves on `listener` until [`RunningSandbox::shutdown`] (or drop).
    pub fn serve(self, listener: TcpListener) -> Result<RunningSandbox, Error> {
        let local_addr = listener.local_addr()?;
        *self
            .state
            .base_url
            .write()
            .unwrap_or_else(|e| e.into_inner()) = format!("http://{local_addr}");
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(accept_loop(self.state.clone(), listener, rx));
        let delivery = tokio::spawn(crate::outbound::delivery::run(self.state.clone()));
        Ok(RunningSandbox {
            sandbox: self,
            local_addr,
            shutdown: Some(tx),
            task: Some(task),
            delivery,
        })
    }
}

async fn accept_loop(state: Arc<State>, listener: TcpListener, mut stop: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let service = service_fn(move |req| handle(state.clone(), req));
                // Title-case header names on the wire, as Salesforce sends them
                // (`Sforce-Limit-Info`), for clients that match names case-sensitively.
                let conn = http1::Builder::new()
                    .title_case_headers(true)
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            _ = &mut stop => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {
            tracing::warn!("sandbox shutdown timed out with connections still open");
        }
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or_default().to_owned();
    if !path.starts_with("/__sandbox/") {
        let (delay, action) = state.faults.decide();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match action {
            FaultAction::Drop => return Err(Dropped),
            FaultAction::Unavailable => {
                let reply = Reply::from(ApiFailure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    error_code::SERVER_UNAVAILABLE,
                    "Server temporarily unavailable, please try again later.",
                ));
                return Ok(finish(&state, &parts.method, &path, reply));
            }
            FaultAction::Serve => {}
        }
    }
    let body = match Limited::new(body, state.max_body_bytes).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            let reply = Reply::from(ApiFailure::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "REQUEST_ENTITY_TOO_LARGE",
                format!(
                    "The request body exceeds the limit of {} bytes",
                    state.max_body_bytes
                ),
            ));
            return Ok(finish(&state, &parts.method, &path, reply));
        }
        Err(_) => return Err(Dropped),
    };
    // The one admin call that waits on network I/O.
    if parts.method == Method::POST && path == "/__sandbox/outbound/flush" {
        let reply = crate::outbound::admin::flush(&state).await;
        return Ok(finish(&state, &parts.method, &path, reply));
    }
    let reply = route(&state, &parts.method, &path, &query, &body, &parts.headers);
    Ok(finish(&state, &parts.method, &path, reply))
}

fn finish(state: &State, method: &Method, path: &str, reply: Reply) -> Response<Full<Bytes>> {
    state.log.push(LogEntry {
        at: crate::value::format_datetime(state.clock.now()),
        method: method.to_string(),
        path: path.chars().take(512).collect(),
        status: reply.status.as_u16(),
    });
    reply.into_response()
}

fn route(
    state: &State,
    method: &Method,
    path: &str,
    query: &str,
    body: &[u8],
    headers: &HeaderMap,
) -> Reply {
    if let Some(tail) = path.strip_prefix("/services/oauth2/") {
        return oauth::handle(state, method, tail, query, body, headers);
    }
    if let Some(tail) = path.strip_prefix("/id/") {
        return oauth::identity(state, headers, tail);
    }
    if let Some(tail) = path.strip_prefix("/__sandbox/") {
        return crate::admin::handle(state, method, tail, query, body);
    }
    if path == "/services/data" || path == "/services/data/" {
        return Reply::json(StatusCode::OK, &rest::versions_body());
    }
    let Some(rest_path) = path.strip_prefix("/services/data/") else {
        return Reply::from(ApiFailure::not_found());
    };
    let now = state.clock.now();
    // `Sforce-Limit-Info` (salesforce_core::wire::LIMIT_INFO_HEADER); header names are lowercase on the wire in hyper.
    let limit_header = HeaderName::from_static("sforce-limit-info");
    let mut parts = rest_path.split('/');
    let Some(version) = parts.next().and_then(rest::parse_version) else {
        return Reply::from(ApiFailure::not_found())
            .with_header(limit_header, state.usage.current(now).to_string());
    };
    let segments: Vec<String> = parts
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let Some(session) = oauth::bearer(headers).and_then(|t| state.tokens.session(t, now)) else {
        return Reply::from(ApiFailure::invalid_session())
            .with_header(limit_header, state.usage.current(now).to_string());
    };
    let usage = match state.usage.try_count(now) {
        Ok(usage) => usage,
        Err(usage) => {
            return Reply::from(ApiFailure::new(
                StatusCode::FORBIDDEN,
                error_code::REQUEST_LIMIT_EXCEEDED,
                "TotalRequests Limit exceeded.",
            ))
            .with_header(limit_header, usage.to_string());
        }
    };
    let call = Call {
        state,
        version: &version,
        method,
        segments: &segments,
        query,
        query_options: headers
            .get("sforce-query-options")
            .and_then(|v| v.to_str().ok()),
        body,
        user: session.user,
    };
    // Queries only read: they share the store with each other instead of queueing for the
    // write lock.
    let reply = if rest::query::handles(&call) {
        rest::query::handle(&call, &state.store.read())
    } else {
        let mut data = state.store.write();
        let mut txn = Txn::new(&mut data, session.user, now);
        rest::dispatch(&call, &mut txn)
    };
    reply.with_header(limit_header, usage.to_string())
}
