//! A stand-in for the sandbox's `/query` route until the sandbox serves it itself: a loopback
//! HTTP front that answers `GET …/query?q=` and `…/query/{locator}` with the sandbox's own SOQL
//! engine (`salesforce_sandbox::soql_engine`) over the sandbox's store, and forwards every other
//! request to the sandbox unchanged. The tools and the client see one Salesforce-shaped origin.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use salesforce_sandbox::Sandbox;
use salesforce_sandbox::soql_engine::{
    QueryLocators, QueryRequest, batch_size_from_options, next_page, run_query,
};

/// Starts the bridge in front of `upstream`; returns its base URL.
pub async fn start(sandbox: Sandbox, upstream: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let bridge = Arc::new(BridgeState {
        sandbox,
        upstream,
        http: reqwest::Client::new(),
        locators: QueryLocators::default(),
    });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let bridge = bridge.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let bridge = bridge.clone();
                    async move { Ok::<_, Infallible>(bridge.handle(req).await) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    base
}

struct BridgeState {
    sandbox: Sandbox,
    upstream: String,
    http: reqwest::Client,
    locators: QueryLocators,
}

impl BridgeState {
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let path = req.uri().path().to_owned();
        let query = req.uri().query().unwrap_or("").to_owned();
        if let Some(answer) = self.query(&path, &query, req.headers()) {
            return answer;
        }
        let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
        let headers = req.headers().clone();
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let url = if query.is_empty() {
            format!("{}{path}", self.upstream)
        } else {
            format!("{}{path}?{query}", self.upstream)
        };
        let mut forward = self.http.request(method, url).body(body);
        for (name, value) in &headers {
            if name != http::header::HOST {
                forward = forward.header(name.as_str(), value.as_bytes());
            }
        }
        let answer = forward.send().await.unwrap();
        let mut response = Response::builder().status(answer.status().as_u16());
        for (name, value) in answer.headers() {
            response = response.header(name.as_str(), value.as_bytes());
        }
        let body = answer.bytes().await.unwrap();
        response.body(Full::new(body)).unwrap()
    }

    fn query(
        &self,
        path: &str,
        query: &str,
        headers: &http::HeaderMap,
    ) -> Option<Response<Full<Bytes>>> {
        let rest = path.strip_prefix("/services/data/v")?;
        let (version, rest) = rest.split_once('/')?;
        let (include_deleted, tail) = match rest.split_once('/') {
            Some(("query", locator)) => (false, Some(locator)),
            Some(("queryAll", locator)) => (true, Some(locator)),
            None if rest == "query" => (false, None),
            None if rest == "queryAll" => (true, None),
            _ => return None,
        };
        let now = self.sandbox.clock().now();
        let data = self.sandbox.store().read();
        let result = match tail {
            Some(locator) => next_page(&data, &self.locators, version, locator, now),
            None => {
                let pairs: Vec<(String, String)> =
                    serde_urlencoded::from_str(query).unwrap_or_default();
                let soql = pairs
                    .iter()
                    .find(|(k, _)| k == "q")
                    .map_or("", |(_, v)| v.as_str());
                let options = headers
                    .get("sforce-query-options")
                    .and_then(|v| v.to_str().ok());
                run_query(
                    &data,
                    &self.locators,
                    &QueryRequest {
                        version,
                        soql,
                        include_deleted,
                        batch_size: batch_size_from_options(options),
                        now,
                    },
                )
            }
        };
        let (status, body) = match result {
            Ok(page) => (StatusCode::OK, serde_json::to_vec(&page).unwrap()),
            Err(failure) => (failure.status, serde_json::to_vec(&failure.errors).unwrap()),
        };
        Some(
            Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .unwrap(),
        )
    }
}
