//! [`Intake`]: the whole receiving side as a tower `Service<http::Request<B>>`, so that the
//! worker binary only mounts it behind its own layers (timeout, tracing, request id).
//!
//! For each request: route and method, content type, path token, body within the size limit,
//! parse, verify, then [`Ingest`] every notification durably, and only then answer `Ack`.
//! Answers: 200 `Ack`; 400 fault for a malformed message (bad XML, DTD, >100 notifications);
//! 403 for an unknown org, a wrong path token or a refused session; 413 for an oversized body;
//! 404/405/415 for a wrong path, method or content type; 503 fault when our stores fail, so
//! that Salesforce delivers again. Nothing is acknowledged that is not stored.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};

use crate::response::{FaultCode, ack_response, fault_response};
use crate::{BoxFuture, Error, Ingest, Limits, Verifier, parse};

/// The default route of the intake.
pub const DEFAULT_PATH: &str = "/webhooks/salesforce/outbound";

/// Counters for the worker's `/metrics`, updated as messages are answered.
#[derive(Debug, Default)]
pub struct IntakeMetrics {
    /// Requests that reached the intake route.
    pub received: AtomicU64,
    /// Messages acknowledged.
    pub acknowledged: AtomicU64,
    /// Notifications stored now.
    pub enqueued: AtomicU64,
    /// Notifications already stored by an earlier delivery.
    pub duplicates: AtomicU64,
    /// Requests refused for what they were (4xx).
    pub refused: AtomicU64,
    /// Requests answered 503 because a store failed.
    pub unavailable: AtomicU64,
}

/// A point-in-time copy of [`IntakeMetrics`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntakeMetricsSnapshot {
    /// See [`IntakeMetrics::received`].
    pub received: u64,
    /// See [`IntakeMetrics::acknowledged`].
    pub acknowledged: u64,
    /// See [`IntakeMetrics::enqueued`].
    pub enqueued: u64,
    /// See [`IntakeMetrics::duplicates`].
    pub duplicates: u64,
    /// See [`IntakeMetrics::refused`].
    pub refused: u64,
    /// See [`IntakeMetrics::unavailable`].
    pub unavailable: u64,
}

impl IntakeMetrics {
    /// Reads every counter.
    pub fn snapshot(&self) -> IntakeMetricsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        IntakeMetricsSnapshot {
            received: get(&self.received),
            acknowledged: get(&self.acknowledged),
            enqueued: get(&self.enqueued),
            duplicates: get(&self.duplicates),
            refused: get(&self.refused),
            unavailable: get(&self.unavailable),
        }
    }
}

fn add(counter: &AtomicU64, n: usize) {
    counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
}

struct Inner {
    verifier: Verifier,
    ingest: Arc<dyn Ingest>,
    limits: Limits,
    path: String,
    metrics: Arc<IntakeMetrics>,
}

/// The intake service. Cheap to clone (one `Arc`).
///
/// Routes: `{path}` and `{path}/{action}` without a path token; `{path}/{token}` and
/// `{path}/{action}/{token}` with one. `{action}` is a label chosen when configuring the
/// outbound message (letters, digits, `-`, `_`); it routes only, the `ActionId` in the message
/// is what events carry.
#[derive(Clone)]
pub struct Intake {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intake")
            .field("verifier", &self.inner.verifier)
            .field("limits", &self.inner.limits)
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

enum Refusal {
    Status(StatusCode, &'static str),
    Failed(Error),
}

impl From<Error> for Refusal {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

impl Intake {
    /// An intake at [`DEFAULT_PATH`] with default [`Limits`].
    pub fn new(verifier: Verifier, ingest: Arc<dyn Ingest>) -> Self {
        Self {
            inner: Arc::new(Inner {
                verifier,
                ingest,
                limits: Limits::default(),
                path: DEFAULT_PATH.to_owned(),
                metrics: Arc::default(),
            }),
        }
    }

    fn with_inner(self, change: impl FnOnce(&mut Inner)) -> Self {
        let Inner {
            verifier,
            ingest,
            limits,
            path,
            metrics,
        } = &*self.inner;
        let mut inner = Inner {
            verifier: verifier.clone(),
            ingest: ingest.clone(),
            limits: limits.clone(),
            path: path.clone(),
            metrics: metrics.clone(),
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Sets the parsing limits (the body size limit included).
    pub fn with_limits(self, limits: Limits) -> Self {
        self.with_inner(|inner| inner.limits = limits)
    }

    /// Mounts the intake at another path (no trailing slash).
    pub fn with_path(self, path: impl Into<String>) -> Self {
        let path = path.into();
        self.with_inner(|inner| inner.path = path.trim_end_matches('/').to_owned())
    }

    /// The counters (shared with every clone).
    pub fn metrics(&self) -> Arc<IntakeMetrics> {
        self.inner.metrics.clone()
    }

    /// Answers one request.
    pub async fn handle<B>(&self, request: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let inner = &self.inner;
        let path = request.uri().path().to_owned();
        let Some(token) = self.route(&path) else {
            return fault_response(StatusCode::NOT_FOUND, FaultCode::Client, "no such endpoint");
        };
        add(&inner.metrics.received, 1);
        match self.process(request, token).await {
            Ok(outcome) => {
                add(&inner.metrics.acknowledged, 1);
                add(&inner.metrics.enqueued, outcome.enqueued);
                add(&inner.metrics.duplicates, outcome.duplicates);
                ack_response()
            }
            Err(Refusal::Status(status, text)) => {
                add(&inner.metrics.refused, 1);
                tracing::info!(%status, reason = text, "outbound message refused");
                let mut response = fault_response(status, FaultCode::Client, text);
                if status == StatusCode::METHOD_NOT_ALLOWED {
                    response
                        .headers_mut()
                        .insert(header::ALLOW, HeaderValue::from_static("POST"));
                }
                response
            }
            Err(Refusal::Failed(error)) => self.failure(&error),
        }
    }

    fn failure(&self, error: &Error) -> Response<Full<Bytes>> {
        let metrics = &self.inner.metrics;
        let (status, text) = match error {
            Error::BodyTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "message too large".to_owned(),
            ),
            Error::OrganizationNotAllowed(_) | Error::BadPathToken | Error::SessionRefused(_) => {
                (StatusCode::FORBIDDEN, "not authorized".to_owned())
            }
            error if error.is_message_error() => (
                StatusCode::BAD_REQUEST,
                format!("invalid outbound message: {error}"),
            ),
            _ => {
                add(&metrics.unavailable, 1);
                tracing::warn!(%error, "outbound message not stored; asking Salesforce to retry");
                return fault_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    FaultCode::Server,
                    "temporarily unable to store the message; please retry",
                );
            }
        };
        add(&metrics.refused, 1);
        tracing::info!(%status, %error, "outbound message refused");
        fault_response(status, FaultCode::Client, &text)
    }

    /// `Some(token segment)` when the path is one of ours.
    fn route<'p>(&self, path: &'p str) -> Option<Option<&'p str>> {
        let rest = path.strip_prefix(self.inner.path.as_str())?;
        if rest.is_empty() {
            return Some(None);
        }
        let rest = rest.strip_prefix('/')?;
        let segments: Vec<&str> = rest.split('/').collect();
        let with_token = self.inner.verifier.requires_path_token();
        let label_ok = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        match (segments.as_slice(), with_token) {
            ([action], false) if label_ok(action) => Some(None),
            ([token], true) => Some(Some(*token)),
            ([action, token], true) if label_ok(action) => Some(Some(*token)),
            _ => None,
        }
    }

    async fn process<B>(
        &self,
        request: Request<B>,
        token: Option<&str>,
    ) -> Result<crate::IngestOutcome, Refusal>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let inner = &self.inner;
        if request.method() != Method::POST {
            return Err(Refusal::Status(StatusCode::METHOD_NOT_ALLOWED, "use POST"));
        }
        if !is_xml(request.headers().get(header::CONTENT_TYPE)) {
            return Err(Refusal::Status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected text/xml; charset=utf-8",
            ));
        }
        inner.verifier.check_path_token(token)?;
        let limit = inner.limits.max_body_bytes;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
            return Err(Error::BodyTooLarge { limit }.into());
        }
        let body = match Limited::new(request.into_body(), limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(Error::BodyTooLarge { limit }.into());
            }
            Err(_) => {
                return Err(Refusal::Status(
                    StatusCode::BAD_REQUEST,
                    "could not read the body",
                ));
            }
        };
        let received_at = chrono::Utc::now();
        let message = parse(&body, &inner.limits)?;
        inner.verifier.check_message(&message).await?;
        Ok(inner.ingest.ingest_message(&message, received_at).await?)
    }
}

/// `text/xml` or `application/xml`, with at most a UTF-8 charset parameter.
fn is_xml(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("text/xml") && !media.eq_ignore_ascii_case("application/xml") {
        return false;
    }
    parts.all(|param| {
        let mut kv = param.splitn(2, '=');
        let key = kv.next().unwrap_or_default().trim();
        let value = kv.next().unwrap_or_default().trim().trim_matches('"');
        !key.eq_ignore_ascii_case("charset")
            || value.eq_ignore_ascii_case("utf-8")
            || value.eq_ignore_ascii_case("utf8")
    })
}

impl<B> tower::Service<Request<B>> for Intake
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let intake = self.clone();
        Box::pin(async move { Ok(intake.handle(request).await) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let ok = |v: &'static str| is_xml(Some(&HeaderValue::from_static(v)));
        assert!(ok("text/xml; charset=utf-8"));
        assert!(ok("text/xml"));
        assert!(ok("Text/XML;charset=\"UTF-8\""));
        assert!(!ok("text/xml; charset=iso-8859-1"));
        assert!(!ok("application/json"));
        assert!(!is_xml(None));
    }
}
