//! [`Client`]: one connection's way to Salesforce. Every call goes through [`Client::send`], which
//! applies the soft ceiling, the circuit breaker, the rate limit, one refresh-and-retry on
//! `INVALID_SESSION_ID`, and retries with jittered backoff for retryable failures.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use crate::access::{Access, AccessProvider};
use salesforce_core::wire::{ApiError, LimitInfo};

use crate::error::{Error, ErrorClass};
use crate::resilience::{BreakerState, CircuitBreaker, RateLimit, RetryPolicy};
use crate::usage::{ApiUsage, UsageSnapshot};

/// The API version used unless configured otherwise.
pub const DEFAULT_API_VERSION: &str = "66.0";

/// Success bodies larger than this are refused rather than buffered (a query page holds at most
/// 2,000 records; Bulk results are streamed, not buffered).
pub(crate) const MAX_JSON_BODY: usize = 64 * 1024 * 1024;
/// Error bodies are short; anything longer is cut.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// The most a body read reserves before its bytes arrive.
const PREALLOCATE_AT_MOST: usize = 1024 * 1024;

/// A REST API version such as `66.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersion(String);

impl ApiVersion {
    /// Parses `66.0` or `v66.0`.
    ///
    /// # Errors
    /// When the text is not `MAJOR.MINOR` digits.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bare = text.strip_prefix('v').unwrap_or(text);
        let valid = bare.split_once('.').is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.len() <= 3
                && minor.len() <= 2
                && major
                    .bytes()
                    .chain(minor.bytes())
                    .all(|b| b.is_ascii_digit())
        });
        if valid {
            Ok(Self(bare.to_owned()))
        } else {
            Err(Error::InvalidRequest(format!(
                "`{text}` is not an API version like 66.0"
            )))
        }
    }

    /// The version without the `v`, e.g. `66.0`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        Self(DEFAULT_API_VERSION.to_owned())
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    access: Arc<dyn AccessProvider>,
    api_version: ApiVersion,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    breaker: Option<Arc<CircuitBreaker>>,
    usage: Option<Arc<ApiUsage>>,
    rate_limit: Option<Arc<RateLimit>>,
    http: Option<reqwest::Client>,
}

impl ClientBuilder {
    /// The REST API version (default [`DEFAULT_API_VERSION`]).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self
    }

    /// The whole-request timeout (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The org's circuit breaker, shared with every other client of the same org.
    pub fn circuit_breaker(mut self, breaker: Arc<CircuitBreaker>) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// The org's usage tracker, shared with every other client of the same org.
    pub fn usage(mut self, usage: Arc<ApiUsage>) -> Self {
        self.usage = Some(usage);
        self
    }

    /// A rate limit for this connection.
    pub fn rate_limit(mut self, limit: Arc<RateLimit>) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Reuse an HTTP client (and its connection pool) across many [`Client`]s. It should not
    /// follow redirects: the bearer token must never travel to another host.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// When the HTTP client cannot be created (TLS set-up).
    pub fn build(self) -> Result<Client, Error> {
        let http = match self.http {
            Some(http) => http,
            None => http_client(self.timeout, self.connect_timeout)?,
        };
        Ok(Client {
            priority: Priority::Required,
            inner: Arc::new(Inner {
                http,
                access: self.access,
                api_version: self.api_version,
                retry: self.retry,
                breaker: self.breaker.unwrap_or_default(),
                usage: self.usage.unwrap_or_default(),
                rate_limit: self.rate_limit,
            }),
        })
    }
}

/// A reqwest client as this crate wants it: rustls, pooled, gzip, timeouts, and no redirects
/// (a redirect would carry the bearer token to wherever it points).
///
/// # Errors
/// When TLS cannot be initialised.
pub fn http_client(timeout: Duration, connect_timeout: Duration) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("sfmcp/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(Error::transport)
}

/// A Salesforce client for one connection (one user's access to one org). Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// Calls through an [`optional`](Client::optional) view are skipped above the soft ceiling.
    priority: Priority,
}

struct Inner {
    http: reqwest::Client,
    access: Arc<dyn AccessProvider>,
    api_version: ApiVersion,
    retry: RetryPolicy,
    breaker: Arc<CircuitBreaker>,
    usage: Arc<ApiUsage>,
    rate_limit: Option<Arc<RateLimit>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_version", &self.inner.api_version)
            .field("breaker", &self.inner.breaker.state())
            .finish_non_exhaustive()
    }
}

/// Whether a request may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Reads, PUT/PATCH/DELETE of one resource: safe to repeat.
    Idempotent,
    /// Creates: repeat only when Salesforce proved it did nothing.
    NotIdempotent,
}

/// Whether a call may be skipped when the org is above the soft usage ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    /// The user asked for it.
    Required,
    /// Nice to have (prefetch, cache warming).
    Optional,
}

/// One HTTP call, described so that it can be sent again.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// An absolute path on the instance, starting with `/services/`, already percent-encoded.
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<(Bytes, &'static str)>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) idempotency: Idempotency,
}

impl Request {
    pub(crate) fn new(method: Method, path: String) -> Self {
        let idempotency = if method == Method::POST {
            Idempotency::NotIdempotent
        } else {
            Idempotency::Idempotent
        };
        Self {
            method,
            path,
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
            idempotency,
        }
    }

    pub(crate) fn get(path: String) -> Self {
        Self::new(Method::GET, path)
    }

    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub(crate) fn json_body(mut self, body: &impl serde::Serialize) -> Result<Self, Error> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::InvalidRequest(format!("body cannot be encoded: {e}")))?;
        self.body = Some((Bytes::from(bytes), "application/json"));
        Ok(self)
    }

    pub(crate) fn raw_body(mut self, bytes: Bytes, content_type: &'static str) -> Self {
        self.body = Some((bytes, content_type));
        self
    }

    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub(crate) fn idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = idempotency;
        self
    }
}

/// Characters escaped in one path segment: everything but unreserved characters.
const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'[')
    .add(b']')
    .add(b'&')
    .add(b'+')
    .add(b';')
    .add(b'=')
    .add(b'@')
    .add(b':')
    .add(b'$')
    .add(b',');

/// Percent-encodes one path segment (an external id value, say).
pub(crate) fn segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

impl Client {
    /// Starts building a client that gets its access from `access`.
    pub fn builder(access: Arc<dyn AccessProvider>) -> ClientBuilder {
        ClientBuilder {
            access,
            api_version: ApiVersion::default(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            breaker: None,
            usage: None,
            rate_limit: None,
            http: None,
        }
    }

    /// The same connection for calls that can be skipped: above the org's soft usage ceiling they
    /// fail with [`Error::SoftLimit`] before anything is sent, so that optional work (prefetching,
    /// enrichment, cache warming) cannot burn the org's daily quota.
    pub fn optional(&self) -> Client {
        Client {
            inner: self.inner.clone(),
            priority: Priority::Optional,
        }
    }

    /// The REST API version in use.
    pub fn api_version(&self) -> &ApiVersion {
        &self.inner.api_version
    }

    /// The org's API usage as last reported, and this process's own calls.
    pub fn usage(&self) -> UsageSnapshot {
        self.inner.usage.snapshot()
    }

    /// The org's circuit breaker state.
    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state()
    }

    /// `/services/data/vNN.N/<rest>`.
    pub(crate) fn data_path(&self, rest: &str) -> String {
        format!("/services/data/v{}/{rest}", self.inner.api_version)
    }

    /// Sends a request with every policy applied; returns only successful (2xx) responses.
    pub(crate) async fn send(&self, request: &Request) -> Result<reqwest::Response, Error> {
        let inner = &*self.inner;
        let started = Instant::now();
        let mut delays = inner.retry.delays();
        let mut refreshed = false;
        let mut access = inner.access.current().await?;
        loop {
            if self.priority == Priority::Optional
                && let Some((used, max)) = inner.usage.above_soft_ceiling()
            {
                return Err(Error::SoftLimit { used, max });
            }
            let permit = inner
                .breaker
                .try_acquire()
                .map_err(|retry_in| Error::CircuitOpen { retry_in })?;
            if let Some(limit) = &inner.rate_limit {
                limit.until_ready().await;
            }
            let error = match self.attempt(&access, request).await {
                Ok(response) => {
                    inner.breaker.on_success(permit);
                    return Ok(response);
                }
                Err(error) => error,
            };
            if error.is_org_failure() {
                inner.breaker.on_failure(permit);
            } else {
                inner.breaker.on_neutral(permit);
            }
            if error.is_invalid_session() && !refreshed {
                refreshed = true;
                access = inner.access.refresh(&access).await?;
                continue;
            }
            let may_resend =
                request.idempotency == Idempotency::Idempotent || error.proves_not_performed();
            if error.class() == ErrorClass::Retryable
                && may_resend
                && let Some(delay) = delays.next()
                && started.elapsed() + delay <= inner.retry.deadline
            {
                tracing::debug!(error = %error, delay_ms = delay.as_millis() as u64, "retrying Salesforce call");
                tokio::time::sleep(delay).await;
                continue;
            }
            return Err(error);
        }
    }

    async fn attempt(
        &self,
        access: &Access,
        request: &Request,
    ) -> Result<reqwest::Response, Error> {
        let inner = &*self.inner;
        let url = instance_url(access.instance_url(), &request.path, &request.query)?;
        let mut builder = inner
            .http
            .request(request.method.clone(), url)
            .bearer_auth(access.bearer());
        if !request.headers.iter().any(|(name, _)| name == ACCEPT) {
            builder = builder.header(ACCEPT, "application/json");
        }
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some((body, content_type)) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, *content_type)
                .body(body.clone());
        }
        inner.usage.record_sent();
        let response = builder.send().await.map_err(Error::transport)?;
        if let Some(info) = response
            .headers()
            .get(salesforce_core::wire::LIMIT_INFO_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<LimitInfo>().ok())
        {
            inner.usage.record(&info);
        }
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(error_from_response(response).await)
        }
    }

    /// Sends and decodes a JSON success body.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        request: &Request,
        context: &'static str,
    ) -> Result<T, Error> {
        let response = self.send(request).await?;
        let body = read_bounded(response, MAX_JSON_BODY, context).await?;
        decode(&body, context)
    }
}

pub(crate) fn decode<T: DeserializeOwned>(body: &[u8], context: &'static str) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::UnexpectedResponse {
        context,
        detail: e.to_string(),
    })
}

/// Joins an instance-relative path onto the instance URL, refusing anything that could leave the
/// instance's origin (a `nextRecordsUrl` is data from the network, so it is checked too).
pub(crate) fn instance_url(
    instance: &Url,
    path: &str,
    query: &[(&'static str, String)],
) -> Result<Url, Error> {
    let safe = path.starts_with("/services/")
        && !path.contains("//")
        && !path.contains('\\')
        && !path.contains("/../")
        && !path.ends_with("/..")
        && !path.contains('#');
    if !safe {
        return Err(Error::UnexpectedResponse {
            context: "resource path",
            detail: format!("refusing path `{path}`"),
        });
    }
    let mut url = instance.join(path).map_err(|e| Error::UnexpectedResponse {
        context: "resource path",
        detail: e.to_string(),
    })?;
    if url.origin() != instance.origin() {
        return Err(Error::UnexpectedResponse {
            context: "resource path",
            detail: format!("`{path}` leaves the instance"),
        });
    }
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in query {
            pairs.append_pair(name, value);
        }
    }
    Ok(url)
}

/// Reads a body, refusing to buffer more than `limit` bytes.
pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
    context: &'static str,
) -> Result<Bytes, Error> {
    let announced = response.content_length();
    if announced.is_some_and(|len| len > limit as u64) {
        return Err(Error::UnexpectedResponse {
            context,
            detail: format!("body larger than {limit} bytes"),
        });
    }
    // Sized from the announced length rather than grown and copied chunk by chunk; capped, so a
    // length that the body never delivers cannot make us reserve up to `limit` up front.
    let reserve = announced.map_or(0, |len| len.min(PREALLOCATE_AT_MOST as u64) as usize);
    let mut body = Vec::with_capacity(reserve);
    while let Some(chunk) = response.chunk().await.map_err(Error::transport)? {
        if body.len() + chunk.len() > limit {
            return Err(Error::UnexpectedResponse {
                context,
                detail: format!("body larger than {limit} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// Turns a non-2xx response into an [`Error::Api`], keeping Salesforce's codes.
async fn error_from_response(response: reqwest::Response) -> Error {
    let status = response.status().as_u16();
    let body = match read_bounded(response, MAX_ERROR_BODY, "error body").await {
        Ok(body) => body,
        Err(Error::UnexpectedResponse { .. }) => Bytes::from_static(b"(error body too large)"),
        Err(other) => return other,
    };
    Error::Api {
        status,
        errors: parse_error_body(status, &body),
    }
}

/// Salesforce's error array, or a synthetic entry when the body is something else (a proxy's
/// HTML page, an empty 503) so that callers always get a code and a message.
pub(crate) fn parse_error_body(status: u16, body: &[u8]) -> Vec<ApiError> {
    if let Ok(items) = serde_json::from_slice::<Vec<ApiError>>(body)
        && !items.is_empty()
    {
        return items;
    }
    let text = String::from_utf8_lossy(body);
    let snippet: String = text.chars().take(200).collect();
    let code = match status {
        401 => "INVALID_SESSION_ID",
        404 => "NOT_FOUND",
        503 => "SERVER_UNAVAILABLE",
        _ => "UNKNOWN_ERROR",
    };
    let message = if snippet.trim().is_empty() {
        format!("HTTP {status}")
    } else {
        snippet
    };
    vec![ApiError::new(code, message)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance() -> Url {
        Url::parse("https://acme.my.salesforce.com").unwrap()
    }

    #[test]
    fn api_versions_parse_with_or_without_v() {
        assert_eq!(ApiVersion::parse("v66.0").unwrap().as_str(), "66.0");
        assert_eq!(ApiVersion::parse("62.0").unwrap().as_str(), "62.0");
        for bad in ["66", "v66", "66.", ".0", "6a.0", "66.0/../x", "1234.0"] {
            assert!(ApiVersion::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn paths_stay_on_the_instance() {
        let url = instance_url(
            &instance(),
            "/services/data/v62.0/query/01gRO0000016PIAYA2-2000",
            &[],
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://acme.my.salesforce.com/services/data/v62.0/query/01gRO0000016PIAYA2-2000"
        );
        for bad in [
            "https://evil.example/services/data",
            "//evil.example/services/data",
            "/services/../oauth2/token",
            "/services/data/..",
            "services/data",
            "/other",
            "/services/data\\..\\x",
        ] {
            assert!(
                instance_url(&instance(), bad, &[]).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn query_values_are_encoded() {
        let url = instance_url(
            &instance(),
            "/services/data/v66.0/query",
            &[("q", "SELECT Id FROM Lead WHERE Name = 'a&b'".into())],
        )
        .unwrap();
        assert_eq!(
            url.query(),
            Some("q=SELECT+Id+FROM+Lead+WHERE+Name+%3D+%27a%26b%27")
        );
    }

    #[test]
    fn segments_escape_separators() {
        assert_eq!(segment("a/b?c#d e%"), "a%2Fb%3Fc%23d%20e%25");
        assert_eq!(segment("EXT-001_x.y~z"), "EXT-001_x.y~z");
    }

    #[test]
    fn error_bodies_fall_back_to_a_code_and_message() {
        let parsed = parse_error_body(
            400,
            br#"[{"message":"unexpected token: 'From'","errorCode":"MALFORMED_QUERY"}]"#,
        );
        assert_eq!(parsed[0].error_code, "MALFORMED_QUERY");
        let html = parse_error_body(503, b"<html>maintenance</html>");
        assert_eq!(html[0].error_code, "SERVER_UNAVAILABLE");
        assert_eq!(html[0].message, "<html>maintenance</html>");
        let empty = parse_error_body(502, b"");
        assert_eq!(
            (empty[0].error_code.as_str(), empty[0].message.as_str()),
            ("UNKNOWN_ERROR", "HTTP 502")
        );
    }
}
