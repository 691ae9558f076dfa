//! Server-sent event response bodies: a request's notifications (and, legacy, its sampling
//! requests to the client) followed by its response, or an
//! idle legacy GET stream; both send keep-alive comments, and dropping the body (the client went
//! away) drops the handler and cancels its token.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderValue, StatusCode, header};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use tokio::sync::mpsc;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_util::sync::{CancellationToken, DropGuard, WaitForCancellationFutureOwned};

use super::HttpResponse;
use crate::dispatch::Outcome;
use crate::inflight::InFlightGuard;
use crate::jsonrpc::{Message, to_json_bytes};

const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

fn event(json: Vec<u8>) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 24);
    out.extend_from_slice(b"event: message\ndata: ");
    out.extend_from_slice(&json);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

fn ticker(period: Duration) -> Interval {
    let mut t = tokio::time::interval_at(Instant::now() + period, period);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

/// The event stream of one SSE response.
pub(super) struct Stream {
    queued: VecDeque<Bytes>,
    outcome: Option<BoxFuture<'static, Outcome>>,
    notifications: Option<mpsc::Receiver<Message>>,
    closed: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    ticker: Interval,
    finished: bool,
    _guards: Option<(DropGuard, Option<InFlightGuard>)>,
}

impl Stream {
    /// A request that is still running after emitting `first`.
    pub(super) fn running(
        first: Message,
        outcome: BoxFuture<'static, Outcome>,
        notifications: mpsc::Receiver<Message>,
        keep_alive: Duration,
        guards: (DropGuard, Option<InFlightGuard>),
    ) -> Self {
        Stream {
            queued: VecDeque::from([event(to_json_bytes(&first))]),
            outcome: Some(outcome),
            notifications: Some(notifications),
            closed: None,
            ticker: ticker(keep_alive),
            finished: false,
            _guards: Some(guards),
        }
    }

    /// A request that finished, having emitted `queued` notifications.
    pub(super) fn finished(queued: Vec<Message>, out: Outcome, keep_alive: Duration) -> Self {
        let mut events: VecDeque<Bytes> = queued.iter().map(|n| event(to_json_bytes(n))).collect();
        if !out.cancelled {
            events.push_back(event(to_json_bytes(&out.response)));
        }
        Stream {
            queued: events,
            outcome: None,
            notifications: None,
            closed: None,
            ticker: ticker(keep_alive),
            finished: true,
            _guards: None,
        }
    }

    /// A legacy GET stream: only keep-alives (this server sends no unsolicited messages) until
    /// the client leaves or `closed` fires.
    pub(super) fn idle(keep_alive: Duration, closed: CancellationToken) -> Self {
        Stream {
            queued: VecDeque::new(),
            outcome: None,
            notifications: None,
            closed: Some(Box::pin(closed.cancelled_owned())),
            ticker: ticker(keep_alive),
            finished: false,
            _guards: None,
        }
    }
}

impl futures::Stream for Stream {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = &mut *self;
        loop {
            if let Some(b) = this.queued.pop_front() {
                return Poll::Ready(Some(b));
            }
            if this.finished {
                return Poll::Ready(None);
            }
            if let Some(rx) = &mut this.notifications
                && let Poll::Ready(Some(n)) = rx.poll_recv(cx)
            {
                this.queued.push_back(event(to_json_bytes(&n)));
                continue;
            }
            if let Some(fut) = &mut this.outcome
                && let Poll::Ready(out) = fut.as_mut().poll(cx)
            {
                this.outcome = None;
                if let Some(rx) = &mut this.notifications {
                    while let Ok(n) = rx.try_recv() {
                        this.queued.push_back(event(to_json_bytes(&n)));
                    }
                }
                if !out.cancelled {
                    this.queued.push_back(event(to_json_bytes(&out.response)));
                }
                this.finished = true;
                continue;
            }
            if let Some(closed) = &mut this.closed
                && closed.as_mut().poll(cx).is_ready()
            {
                this.finished = true;
                continue;
            }
            if this.ticker.poll_tick(cx).is_ready() {
                this.queued.push_back(Bytes::from_static(KEEP_ALIVE));
                continue;
            }
            return Poll::Pending;
        }
    }
}

/// Wraps a stream into a `text/event-stream` response.
pub(super) fn response(stream: Stream) -> HttpResponse {
    use futures::StreamExt;
    let body = StreamBody::new(stream.map(|b| Ok(Frame::data(b)))).boxed_unsync();
    let mut r = http::Response::new(body);
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}
