//! The HTTP side: the hyper accept loop with graceful shutdown, and the tower stack (request
//! id, tracing, timeout) in front of a small router: the intake's paths, `/metrics` and
//! `/healthz`. The body limit is the intake's own (`Limits::max_body_bytes`, checked against
//! `Content-Length` and while reading), so an oversized body gets the SOAP fault with 413.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use webhooks::Intake;

use crate::metrics::{ProcessingMetrics, render};

/// What the router needs.
#[derive(Clone)]
pub struct Routes {
    /// The outbound-message intake.
    pub intake: Intake,
    /// Processing counters.
    pub processing: Arc<ProcessingMetrics>,
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

async fn route(
    routes: Routes,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    match request.uri().path() {
        "/healthz" => Ok(text(StatusCode::OK, "ok\n".to_owned())),
        "/metrics" => Ok(text(
            StatusCode::OK,
            render(&routes.intake.metrics().snapshot(), &routes.processing),
        )),
        _ => Ok(routes.intake.handle(request).await),
    }
}

/// Serves until `stop` is cancelled, then stops accepting and lets open connections finish
/// within `grace`. Returns the end of the grace period, which the consumers share.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    timeout: Duration,
    grace: Duration,
    stop: CancellationToken,
) -> tokio::time::Instant {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let routes = routes.clone();
        let service = ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(TraceLayer::new_for_http())
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                timeout,
            ))
            .service_fn(move |request| route(routes.clone(), request));
        let connection = builder
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let deadline = tokio::time::Instant::now() + grace;
    if tokio::time::timeout_at(deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace ended with connections still open");
    }
    deadline
}
