//! A minimal HTTP/1 client and server runner for the end-to-end intake tests (loopback only).

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use webhooks::Intake;

/// Serves `intake` on 127.0.0.1:0 until the test's runtime ends; returns the address.
pub async fn serve(intake: Intake) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = TowerToHyperService::new(intake.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// Sends one request and returns the status and body.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: impl Into<Bytes>,
) -> (StatusCode, String) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("content-type", content_type)
        .header("soapaction", "\"\"")
        .body(Full::new(body.into()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// POSTs an outbound message as Salesforce does.
pub async fn post(addr: SocketAddr, path: &str, body: impl Into<Bytes>) -> (StatusCode, String) {
    send(addr, "POST", path, "text/xml; charset=utf-8", body).await
}
