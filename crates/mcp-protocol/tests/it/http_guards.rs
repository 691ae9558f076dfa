//! The transport's guards: `Host`/`:authority` (HTTP/1.1 and HTTP/2 prior knowledge), exact
//! `Origin` comparison, sessions bound to their `SessionOwner`, and the session cap.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use mcp_protocol::{HttpConfig, InMemorySessionStore, McpHttpService, SessionOwner, serve};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use crate::harness::{memory_service, test_server};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
const PING: &str = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
const LIST: &str = r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#;

/// A legacy POST with `headers`, `owner` in the extensions; status, session id, body.
async fn post(
    svc: &McpHttpService,
    headers: &[(&str, &str)],
    owner: Option<&str>,
    body: &str,
) -> (StatusCode, Option<String>, Value) {
    let mut request = Request::post("/mcp")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    if let Some(owner) = owner {
        request
            .extensions_mut()
            .insert(SessionOwner(owner.to_owned()));
    }
    let response = svc.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let session = response
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        session,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn send_empty(
    svc: &McpHttpService,
    method: http::Method,
    session: &str,
    owner: Option<&str>,
) -> StatusCode {
    let mut request = Request::builder()
        .method(method)
        .uri("/mcp")
        .header("host", "localhost")
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session)
        .body(Full::new(Bytes::new()))
        .unwrap();
    if let Some(owner) = owner {
        request
            .extensions_mut()
            .insert(SessionOwner(owner.to_owned()));
    }
    svc.clone().oneshot(request).await.unwrap().status()
}

#[tokio::test]
async fn origins_are_compared_by_scheme_host_and_port() {
    let listed = McpHttpService::new(
        test_server(),
        Arc::new(InMemorySessionStore::default()),
        HttpConfig {
            allowed_hosts: None,
            allowed_origins: Some(vec!["https://app.example.com".into()]),
            ..HttpConfig::default()
        },
    );
    for (origin, expected) in [
        ("https://app.example.com", StatusCode::OK),
        ("https://APP.example.com:443", StatusCode::OK),
        ("http://app.example.com", StatusCode::FORBIDDEN),
        ("https://app.example.com:8443", StatusCode::FORBIDDEN),
        ("https://app.example.com.evil.test", StatusCode::FORBIDDEN),
        ("null", StatusCode::FORBIDDEN),
    ] {
        let headers = [("host", "mcp.example.com"), ("origin", origin)];
        assert_eq!(
            post(&listed, &headers, None, PING).await.0,
            expected,
            "{origin}"
        );
    }
    // Without a list: same origin only (allowed host and the request's own port).
    let local = memory_service();
    for (host, origin, expected) in [
        ("localhost:8080", "http://localhost:8080", StatusCode::OK),
        (
            "localhost:8080",
            "http://localhost:3000",
            StatusCode::FORBIDDEN,
        ),
        ("localhost:8080", "http://localhost", StatusCode::FORBIDDEN),
        ("localhost", "http://localhost", StatusCode::OK),
        (
            "localhost:8080",
            "http://evil.test:8080",
            StatusCode::FORBIDDEN,
        ),
        ("127.0.0.1:8080", "http://127.0.0.1:8080", StatusCode::OK),
    ] {
        let headers = [("host", host), ("origin", origin)];
        assert_eq!(
            post(&local, &headers, None, PING).await.0,
            expected,
            "{host} {origin}"
        );
    }
}

/// Serves the default (loopback-only) service on a real socket, HTTP/1 and HTTP/2.
async fn listening() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, memory_service(), std::future::pending()));
    address
}

/// One HTTP/2 prior-knowledge request to `uri` (whose authority becomes `:authority`), with an
/// optional `Host` header.
async fn h2_status(address: std::net::SocketAddr, uri: &str, host: Option<&str>) -> StatusCode {
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let mut request = Request::post(uri)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let request = request
        .body(Full::new(Bytes::from_static(PING.as_bytes())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    response.status()
}

#[tokio::test]
async fn http2_authority_is_checked_like_host() {
    let address = listening().await;
    let port = address.port();
    let good = format!("http://localhost:{port}/mcp");
    let evil = format!("http://evil.test:{port}/mcp");
    assert_eq!(h2_status(address, &good, None).await, StatusCode::OK);
    assert_eq!(h2_status(address, &evil, None).await, StatusCode::FORBIDDEN);
    // Both named: both must be allowed.
    assert_eq!(
        h2_status(address, &good, Some("evil.test")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h2_status(address, &evil, Some("localhost")).await,
        StatusCode::FORBIDDEN
    );
    // HTTP/1.1 with no Host at all is refused.
    let stream = TcpStream::connect(address).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let response = sender
        .send_request(Request::get("/mcp").body(Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_session_belongs_to_the_owner_that_created_it() {
    let svc = memory_service();
    let host = [("host", "localhost")];
    let (status, session, _) = post(&svc, &host, Some("alice"), INITIALIZE).await;
    assert_eq!(status, StatusCode::OK);
    let session = session.unwrap();
    let with_session = [("host", "localhost"), ("mcp-session-id", session.as_str())];
    assert_eq!(
        post(&svc, &with_session, Some("alice"), LIST).await.0,
        StatusCode::OK
    );
    for intruder in [Some("bob"), None] {
        let (status, _, body) = post(&svc, &with_session, intruder, LIST).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{intruder:?}");
        assert_eq!(body["error"]["message"], "Session not found");
        assert_eq!(
            send_empty(&svc, http::Method::GET, &session, intruder).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send_empty(&svc, http::Method::DELETE, &session, intruder).await,
            StatusCode::NOT_FOUND
        );
    }
    // The intruders' DELETE did nothing; the owner's does.
    assert_eq!(
        send_empty(&svc, http::Method::DELETE, &session, Some("alice")).await,
        StatusCode::OK
    );
    // A session created without an owner is not usable by an authenticated caller either.
    let (_, anonymous, _) = post(&svc, &host, None, INITIALIZE).await;
    let anonymous = anonymous.unwrap();
    let with_anonymous = [
        ("host", "localhost"),
        ("mcp-session-id", anonymous.as_str()),
    ];
    assert_eq!(
        post(&svc, &with_anonymous, None, LIST).await.0,
        StatusCode::OK
    );
    assert_eq!(
        post(&svc, &with_anonymous, Some("alice"), LIST).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_full_session_store_refuses_new_sessions_clearly() {
    let svc = McpHttpService::new(
        test_server(),
        Arc::new(InMemorySessionStore::default().with_max_sessions(1)),
        HttpConfig::default(),
    );
    let host = [("host", "localhost")];
    let (status, first, _) = post(&svc, &host, None, INITIALIZE).await;
    assert_eq!(status, StatusCode::OK);
    let (status, second, body) = post(&svc, &host, None, INITIALIZE).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(second, None);
    assert_eq!(body["id"], 1);
    assert_eq!(
        body["error"]["message"],
        "too many sessions; try again later"
    );
    // The existing session keeps working.
    let first = first.unwrap();
    let with_session = [("host", "localhost"), ("mcp-session-id", first.as_str())];
    assert_eq!(
        post(&svc, &with_session, None, LIST).await.0,
        StatusCode::OK
    );
}
