//! Watching tool calls from outside: a [`ToolObserver`] registered on the builder hears, for
//! every call that reached a tool's handler, the tool's name, how it ended and how long it took.
//! The server uses it for metrics; this crate never knows what the tools do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt as _;

use crate::registry::{ToolFuture, ToolHandler};

/// How a tool call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ToolOutcome {
    /// The handler returned a result.
    Ok,
    /// The handler returned an `isError` result.
    Error,
    /// The arguments passed the schema but did not fit the handler's type.
    InvalidArguments,
    /// The client cancelled the call (or went away) before it finished.
    Cancelled,
    /// The handler panicked.
    Panicked,
}

impl ToolOutcome {
    /// A lower-case label (`ok`, `error`, `invalid_arguments`, `cancelled`, `panicked`).
    pub fn as_str(self) -> &'static str {
        match self {
            ToolOutcome::Ok => "ok",
            ToolOutcome::Error => "error",
            ToolOutcome::InvalidArguments => "invalid_arguments",
            ToolOutcome::Cancelled => "cancelled",
            ToolOutcome::Panicked => "panicked",
        }
    }
}

/// Hears every tool call that reached a handler. Called on the request's task: keep it cheap.
pub trait ToolObserver: Send + Sync + 'static {
    /// `tool` ended with `outcome` after `elapsed`.
    fn tool_called(&self, tool: &str, outcome: ToolOutcome, elapsed: Duration);
}

/// `handler` reporting each call of `tool` to `observer`.
pub(crate) fn observed(
    tool: Arc<str>,
    handler: ToolHandler,
    observer: Arc<dyn ToolObserver>,
) -> ToolHandler {
    Arc::new(move |args, cx| {
        let started = Instant::now();
        let cancel = cx.cancellation().clone();
        let future = match handler(args, cx) {
            Ok(future) => future,
            Err(message) => {
                observer.tool_called(&tool, ToolOutcome::InvalidArguments, started.elapsed());
                return Err(message);
            }
        };
        let (tool, observer) = (tool.clone(), observer.clone());
        Ok(Box::pin(async move {
            // Reports on drop too, so an abandoned call still counts (as cancelled).
            let mut report = Report {
                tool,
                observer,
                started,
                outcome: ToolOutcome::Cancelled,
            };
            let result = std::panic::AssertUnwindSafe(future).catch_unwind().await;
            report.outcome = match &result {
                _ if cancel.is_cancelled() => ToolOutcome::Cancelled,
                Ok(Ok(_)) => ToolOutcome::Ok,
                Ok(Err(_)) => ToolOutcome::Error,
                Err(_) => ToolOutcome::Panicked,
            };
            drop(report);
            match result {
                Ok(answer) => answer,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }) as ToolFuture)
    })
}

struct Report {
    tool: Arc<str>,
    observer: Arc<dyn ToolObserver>,
    started: Instant,
    outcome: ToolOutcome,
}

impl Drop for Report {
    fn drop(&mut self) {
        self.observer
            .tool_called(&self.tool, self.outcome, self.started.elapsed());
    }
}
