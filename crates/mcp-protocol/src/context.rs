//! What a running handler gets besides its arguments: the request's cancellation token and the
//! sinks for progress and log notifications, which go to the client on the request's own
//! response stream (and nowhere when the client did not ask for them).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::jsonrpc::Notification;

/// Notifications buffered per request before a handler waits for the transport to catch up.
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

/// Where a request's notifications go: the transport's per-request channel.
pub type NotificationSender = mpsc::Sender<Notification>;

/// The per-request environment a transport hands to the server.
#[derive(Debug, Clone, Default)]
pub struct RequestEnv {
    /// Cancelled when the client cancels or goes away.
    pub cancel: CancellationToken,
    /// The request's response stream, if the transport can stream notifications.
    pub sink: Option<NotificationSender>,
}

impl RequestEnv {
    /// An environment with a fresh token and the given sink.
    pub fn new(sink: Option<NotificationSender>) -> Self {
        RequestEnv {
            cancel: CancellationToken::new(),
            sink,
        }
    }
}

/// Given to every tool, resource and prompt handler.
#[derive(Debug, Clone)]
pub struct ToolContext {
    cancel: CancellationToken,
    sink: Option<NotificationSender>,
    progress_token: Option<Value>,
    log_level: Option<LogLevel>,
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
        }
    }

    /// A context that sends nothing and is never cancelled (for unit-testing handlers).
    pub fn detached() -> Self {
        ToolContext {
            cancel: CancellationToken::new(),
            sink: None,
            progress_token: None,
            log_level: None,
        }
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
            .send(Notification::new("notifications/progress", params))
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
            .send(Notification::new("notifications/message", params))
            .await;
    }
}
