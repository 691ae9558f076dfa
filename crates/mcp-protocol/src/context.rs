//! What a running handler gets besides its arguments: the request's cancellation token, the
//! sinks for progress and log notifications, which go to the client on the request's own
//! response stream (and nowhere when the client did not ask for them), and sampling from the
//! client's model (see [`crate::sampling`]).

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::jsonrpc::{Message, Notification, Request};
use crate::sampling::{CREATE_MESSAGE, Peer, Rounds, SamplingRequest, SamplingResult, check_key};

/// Messages (notifications, and requests to the client) buffered per request before a handler
/// waits for the transport to catch up.
pub const NOTIFICATION_BUFFER: usize = 64;

/// Syslog-style log levels (RFC 5424), ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Detailed debugging information.
    Debug,
    /// General information.
    Info,
    /// Normal but significant events.
    Notice,
    /// Warning conditions.
    Warning,
    /// Error conditions.
    Error,
    /// Critical conditions.
    Critical,
    /// Action must be taken immediately.
    Alert,
    /// System is unusable.
    Emergency,
}

impl LogLevel {
    /// Parses a level name as the protocol spells it.
    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }
}

/// Where a request's messages to the client go (its notifications, and in the legacy era its
/// sampling requests): the transport's per-request channel.
pub type NotificationSender = mpsc::Sender<Message>;

/// The per-request environment a transport hands to the server.
#[derive(Debug, Clone, Default)]
pub struct RequestEnv {
    /// Cancelled when the client cancels or goes away.
    pub cancel: CancellationToken,
    /// The request's response stream, if the transport can stream notifications.
    pub sink: Option<NotificationSender>,
    /// Whatever the layers in front of the transport attached to the HTTP request (an
    /// authenticated principal, say); empty over stdio. Opaque to this crate.
    pub extensions: Arc<http::Extensions>,
    /// Where the client's responses to this request's own requests are routed (legacy
    /// sessions); without one, live sampling is not offered.
    pub peer: Option<Peer>,
}

impl RequestEnv {
    /// An environment with a fresh token, the given sink and no extensions.
    pub fn new(sink: Option<NotificationSender>) -> Self {
        RequestEnv {
            cancel: CancellationToken::new(),
            sink,
            extensions: Arc::default(),
            peer: None,
        }
    }

    /// The same environment able to send requests to the client through `peer`.
    pub fn with_peer(mut self, peer: Peer) -> Self {
        self.peer = Some(peer);
        self
    }

    /// The same environment carrying the HTTP request's extensions.
    pub fn with_extensions(mut self, extensions: Arc<http::Extensions>) -> Self {
        self.extensions = extensions;
        self
    }
}

/// How a handler's [`ToolContext::sample`] reaches the client's model.
#[derive(Debug, Clone, Default)]
pub(crate) enum Sampler {
    /// The client did not offer sampling (or the transport cannot carry it).
    #[default]
    Off,
    /// Legacy: a live request on the response stream, answered by a later POST.
    Live(Peer),
    /// Modern: answers from the retry, or `input_required`.
    Rounds(Arc<Mutex<Rounds>>),
}

/// Given to every tool, resource and prompt handler.
#[derive(Debug, Clone)]
pub struct ToolContext {
    cancel: CancellationToken,
    sink: Option<NotificationSender>,
    progress_token: Option<Value>,
    log_level: Option<LogLevel>,
    extensions: Arc<http::Extensions>,
    sampler: Sampler,
}

impl ToolContext {
    pub(crate) fn new(
        env: &RequestEnv,
        progress_token: Option<Value>,
        log_level: Option<LogLevel>,
    ) -> Self {
        ToolContext {
            cancel: env.cancel.clone(),
            sink: env.sink.clone(),
            progress_token,
            log_level,
            extensions: env.extensions.clone(),
            sampler: Sampler::Off,
        }
    }

    pub(crate) fn with_sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = sampler;
        self
    }

    /// A context that sends nothing and is never cancelled (for unit-testing handlers).
    pub fn detached() -> Self {
        ToolContext {
            cancel: CancellationToken::new(),
            sink: None,
            progress_token: None,
            log_level: None,
            extensions: Arc::default(),
            sampler: Sampler::Off,
        }
    }

    /// A detached context carrying `extensions` (for unit-testing handlers that read them).
    pub fn detached_with(extensions: http::Extensions) -> Self {
        ToolContext {
            extensions: Arc::new(extensions),
            ..Self::detached()
        }
    }

    /// What the layers in front of the transport attached to the HTTP request, e.g. the
    /// authenticated principal; empty over stdio.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// The request's cancellation token: long handlers should watch it and stop early.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Whether the client asked for progress notifications (`_meta.progressToken`).
    pub fn wants_progress(&self) -> bool {
        self.progress_token.is_some() && self.sink.is_some()
    }

    /// Reports progress; does nothing unless the client sent a progress token.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let (Some(token), Some(sink)) = (&self.progress_token, &self.sink) else {
            return;
        };
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        // A closed sink means the client went away; cancellation handles that.
        let _ = sink
            .send(Message::Notification(Notification::new(
                "notifications/progress",
                params,
            )))
            .await;
    }

    /// Sends a log message if the client asked for this level or a lower one.
    pub async fn log(&self, level: LogLevel, logger: Option<&str>, data: Value) {
        let (Some(min), Some(sink)) = (self.log_level, &self.sink) else {
            return;
        };
        if level < min {
            return;
        }
        let mut params = json!({"level": level, "data": data});
        if let Some(logger) = logger {
            params["logger"] = json!(logger);
        }
        let _ = sink
            .send(Message::Notification(Notification::new(
                "notifications/message",
                params,
            )))
            .await;
    }

    /// Whether the client offered sampling for this call (declared the capability, over a
    /// transport that can carry the request). [`ToolContext::sample`] fails at once otherwise.
    pub fn can_sample(&self) -> bool {
        !matches!(self.sampler, Sampler::Off)
    }

    /// Asks the client's model for a completion, under `key` (1–64 of `[A-Za-z0-9_.-]`, unique
    /// within the call). Handlers are written once for both eras:
    ///
    /// - legacy: the request is sent now and the client's answer awaited (bounded by the
    ///   transport's timeout; cancelling the call drops it);
    /// - modern: the answer the client's retry carries for `key` (for exactly this request) is
    ///   returned; without one this returns [`Error::InputRequired`], and whatever the handler
    ///   then returns is replaced by an `input_required` result asking for it.
    ///
    /// The text that comes back is the client's: treat it as untrusted output. A handler should
    /// carry on without it when this fails.
    pub async fn sample(
        &self,
        key: &str,
        request: SamplingRequest,
    ) -> Result<SamplingResult, Error> {
        check_key(key)?;
        match &self.sampler {
            Sampler::Off => Err(Error::SamplingUnsupported),
            Sampler::Rounds(rounds) => {
                let answer = rounds
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take(key, request.to_params());
                match answer {
                    Some(v) => SamplingResult::from_value(v),
                    None => Err(Error::InputRequired),
                }
            }
            Sampler::Live(peer) => self.sample_live(peer, request).await,
        }
    }

    async fn sample_live(
        &self,
        peer: &Peer,
        request: SamplingRequest,
    ) -> Result<SamplingResult, Error> {
        let Some(sink) = &self.sink else {
            return Err(Error::SamplingUnsupported);
        };
        let (id, answer, _pending) = peer.pending.register(&peer.scope)?;
        let req = Request {
            id: id.clone(),
            method: CREATE_MESSAGE.into(),
            params: Some(request.to_params()),
        };
        if sink.send(Message::Request(req)).await.is_err() {
            return Err(Error::Cancelled);
        }
        // `_pending` forgets the request on every way out: answered, timed out, cancelled.
        let reply = tokio::select! {
            r = answer => r.map_err(|_| Error::Cancelled)?,
            () = tokio::time::sleep(peer.timeout) => {
                // Tell the client to stop working on it; nothing waits for its answer any more.
                let _ = sink.try_send(Message::Notification(Notification::new(
                    "notifications/cancelled",
                    json!({"requestId": id, "reason": "timed out"}),
                )));
                return Err(Error::SamplingTimeout);
            }
            () = self.cancel.cancelled() => return Err(Error::Cancelled),
        };
        match reply {
            Ok(v) => SamplingResult::from_value(v),
            Err(e) => Err(Error::SamplingDeclined {
                code: e.code,
                message: e.message,
            }),
        }
    }
}
