//! Client ID Metadata Documents end to end without the internet: a local hyper server serves
//! the documents, and a [`DocumentFetcher`] maps `https://app.test/…` onto it with the
//! production HTTP client settings and body reader ([`document_http_client`],
//! [`read_document`]); only the public-address check (unit-tested in the crate) is bypassed.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use auth::mcp_auth::authorize::{
    AuthorizationParams, AuthorizeOutcome, issue_authorization_code, validate_authorization_request,
};
use auth::mcp_auth::client_metadata::{
    ClientMetadataFetcher, DocumentFetcher, MAX_DOCUMENT_BYTES, document_http_client, read_document,
};
use auth::mcp_auth::routes::OAuthRoutes;
use auth::mcp_auth::token::token_endpoint;
use auth::mcp_auth::{GrantStore, McpAuthConfig};
use auth::pkce::{PkceChallenge, generate_verifier};
use auth::store::Store;
use auth::{Error, OAuthErrorCode};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tower::ServiceExt as _;
use url::Url;

use crate::common::{ORG, keyring};
use crate::login::FakeSalesforce;
use crate::mcp_auth::code_request_to;

const APP: &str = "https://app.test";
const REDIRECT: &str = "https://app.test/callback";
const RESOURCE: &str = "https://mcp.example.com/mcp";

fn document(client_id: &str) -> String {
    format!(
        r#"{{"client_id":"{client_id}","client_name":"Test App","redirect_uris":["{REDIRECT}"],
            "token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}}"#
    )
}

/// Serves the test documents; counts the requests it answers.
struct DocumentServer {
    address: std::net::SocketAddr,
    hits: Arc<AtomicUsize>,
}

impl DocumentServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let counter = counter.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        async move { Ok::<_, Infallible>(answer(request.uri().path()).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { address, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn answer(path: &str) -> Response<Full<Bytes>> {
    let ok = |body: String| Response::new(Full::new(Bytes::from(body)));
    match path {
        "/good.json" | "/second.json" | "/third.json" => ok(document(&format!("{APP}{path}"))),
        "/mismatch.json" => ok(document(&format!("{APP}/other.json"))),
        "/big.json" => {
            // Valid JSON, padded past the limit with a long name.
            let padding = "x".repeat(MAX_DOCUMENT_BYTES);
            ok(document(&format!("{APP}/big.json")).replacen("Test App", &padding, 1))
        }
        "/slow.json" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            ok(document(&format!("{APP}/slow.json")))
        }
        "/redirect.json" => Response::builder()
            .status(302)
            .header("location", "/good.json")
            .body(Full::new(Bytes::new()))
            .unwrap(),
        _ => Response::builder()
            .status(404)
            .body(Full::new(Bytes::new()))
            .unwrap(),
    }
}

/// Sends `https://app.test/<path>` to the local server over plain HTTP.
struct LoopbackFetcher {
    address: std::net::SocketAddr,
    http: reqwest::Client,
}

#[async_trait]
impl DocumentFetcher for LoopbackFetcher {
    async fn fetch(&self, url: &Url) -> auth::Result<Vec<u8>> {
        let local = Url::parse(&format!("http://{}{}", self.address, url.path())).unwrap();
        read_document(&self.http, &local).await
    }
}

fn config_for(server: &DocumentServer, timeout: Duration) -> McpAuthConfig {
    let mut config = McpAuthConfig::new("https://mcp.example.com", RESOURCE).unwrap();
    let fetcher = LoopbackFetcher {
        address: server.address,
        http: document_http_client(timeout, None).unwrap(),
    };
    config.client_metadata = ClientMetadataFetcher::new(Arc::new(fetcher));
    config
}

fn params(client_id: &str, redirect_uri: &str, challenge: &str) -> AuthorizationParams {
    AuthorizationParams {
        response_type: Some("code".into()),
        client_id: Some(client_id.into()),
        redirect_uri: Some(redirect_uri.into()),
        code_challenge: Some(challenge.into()),
        code_challenge_method: Some("S256".into()),
        state: Some("s".into()),
        scope: Some("mcp".into()),
        resource: Some(RESOURCE.into()),
    }
}

async fn authorize(
    store: &dyn GrantStore,
    config: &McpAuthConfig,
    client_id: &str,
    redirect_uri: &str,
) -> auth::Result<AuthorizeOutcome> {
    let verifier = generate_verifier();
    let challenge = PkceChallenge::from_verifier(&verifier);
    validate_authorization_request(
        store,
        config,
        &params(client_id, redirect_uri, challenge.as_str()),
    )
    .await
}

fn refused_as_invalid_client(outcome: auth::Result<AuthorizeOutcome>) -> &'static str {
    match outcome {
        Err(Error::OAuth {
            code: OAuthErrorCode::InvalidClient,
            description,
        }) => description,
        other => panic!("expected invalid_client, got {other:?}"),
    }
}

#[tokio::test]
async fn a_document_client_authorizes_and_redeems_its_code() {
    let server = DocumentServer::start().await;
    let config = config_for(&server, Duration::from_secs(5));
    let store = Store::memory(keyring());
    let client_id = format!("{APP}/good.json");
    let verifier = generate_verifier();
    let challenge = PkceChallenge::from_verifier(&verifier);
    let outcome = validate_authorization_request(
        &store,
        &config,
        &params(&client_id, REDIRECT, challenge.as_str()),
    )
    .await
    .unwrap();
    let AuthorizeOutcome::Proceed(request) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(request.client_id, client_id);
    let (code, _) = issue_authorization_code(&store, &config, &request, "alice", Some(ORG))
        .await
        .unwrap();
    let request = code_request_to(REDIRECT, &client_id, code.secret(), verifier.secret());
    let tokens = token_endpoint(&store, &config, &request, None)
        .await
        .unwrap();
    assert_eq!(tokens.scope, "mcp");
    // Authorize and token each needed the document; the cache served the second.
    assert_eq!(server.hits(), 1);
    // Nothing about the client was written to the store.
    assert!(store.get_client(&client_id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_document_naming_another_client_id_is_refused() {
    let server = DocumentServer::start().await;
    let config = config_for(&server, Duration::from_secs(5));
    let store = Store::memory(keyring());
    let description = refused_as_invalid_client(
        authorize(&store, &config, &format!("{APP}/mismatch.json"), REDIRECT).await,
    );
    assert_eq!(
        description,
        "client metadata client_id differs from its URL"
    );
}

#[tokio::test]
async fn an_oversize_document_is_refused() {
    let server = DocumentServer::start().await;
    let config = config_for(&server, Duration::from_secs(5));
    let store = Store::memory(keyring());
    let description = refused_as_invalid_client(
        authorize(&store, &config, &format!("{APP}/big.json"), REDIRECT).await,
    );
    assert_eq!(description, "client metadata document too large");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = DocumentServer::start().await;
    let config = config_for(&server, Duration::from_millis(300));
    let store = Store::memory(keyring());
    let description = refused_as_invalid_client(
        authorize(&store, &config, &format!("{APP}/slow.json"), REDIRECT).await,
    );
    // The server would answer a valid document after 3 s: refused only because we gave up.
    assert_eq!(description, "client metadata could not be fetched");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = DocumentServer::start().await;
    let config = config_for(&server, Duration::from_secs(5));
    let store = Store::memory(keyring());
    let description = refused_as_invalid_client(
        authorize(&store, &config, &format!("{APP}/redirect.json"), REDIRECT).await,
    );
    assert_eq!(description, "client metadata could not be fetched");
    assert_eq!(server.hits(), 1, "the redirect target was not requested");
}

#[tokio::test]
async fn a_redirect_uri_missing_from_the_document_is_refused() {
    let server = DocumentServer::start().await;
    let config = config_for(&server, Duration::from_secs(5));
    let store = Store::memory(keyring());
    for wrong in [
        "https://app.test/callback2",
        "https://app.test/callbac",
        "https://evil.test/callback",
    ] {
        match authorize(&store, &config, &format!("{APP}/good.json"), wrong).await {
            Err(Error::OAuth {
                code: OAuthErrorCode::InvalidRequest,
                description,
            }) => assert_eq!(
                description,
                "redirect_uri does not exactly match a registered one"
            ),
            other => panic!("{wrong}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn http_and_malformed_client_id_urls_are_not_fetched() {
    let server = DocumentServer::start().await;
    let config = config_for(&server, Duration::from_secs(5));
    let store = Store::memory(keyring());
    // Not https: not a document client, and no registered client has that id.
    match authorize(&store, &config, "http://app.test/good.json", REDIRECT).await {
        Err(Error::OAuth {
            code: OAuthErrorCode::InvalidClient,
            description: "unknown client",
        }) => {}
        other => panic!("{other:?}"),
    }
    // https but refused by the URL check before any fetch.
    for refused in [
        "https://app.test/",
        "https://app.test/a/../good.json",
        "https://user:pw@app.test/good.json",
        "https://127.0.0.1/good.json",
        "https://[::1]/good.json",
    ] {
        refused_as_invalid_client(authorize(&store, &config, refused, REDIRECT).await);
    }
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn the_cache_is_bounded_and_remembers_refusals_briefly() {
    let server = DocumentServer::start().await;
    let config = config_for(&server, Duration::from_secs(5));
    let fetcher = config.client_metadata.clone().with_max_cached(2);
    for path in ["good", "second", "third"] {
        fetcher.client(&format!("{APP}/{path}.json")).await.unwrap();
    }
    assert_eq!(server.hits(), 3);
    assert_eq!(fetcher.cached(), 2);
    // A refused document is not fetched again right away.
    let mismatch = format!("{APP}/mismatch.json");
    assert!(fetcher.client(&mismatch).await.is_err());
    assert!(fetcher.client(&mismatch).await.is_err());
    assert_eq!(server.hits(), 4);
}

#[tokio::test]
async fn without_the_feature_https_client_ids_are_unknown() {
    let server = DocumentServer::start().await;
    let mut config = config_for(&server, Duration::from_secs(5));
    config.client_id_metadata_document_supported = false;
    assert!(
        !config
            .authorization_server_metadata()
            .client_id_metadata_document_supported
    );
    let store = Store::memory(keyring());
    match authorize(&store, &config, &format!("{APP}/good.json"), REDIRECT).await {
        Err(Error::OAuth {
            description: "unknown client",
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits(), 0);
}

#[tokio::test]
async fn the_consent_page_names_the_documents_host() {
    let server = DocumentServer::start().await;
    let config = Arc::new(config_for(&server, Duration::from_secs(5)));
    assert!(
        config
            .authorization_server_metadata()
            .client_id_metadata_document_supported
    );
    let routes = OAuthRoutes::new(
        Store::memory(keyring()),
        Arc::new(FakeSalesforce::new(false)),
        config,
    );
    let verifier = generate_verifier();
    let challenge = PkceChallenge::from_verifier(&verifier);
    let query: HashMap<&str, String> = HashMap::from([
        ("response_type", "code".into()),
        ("client_id", format!("{APP}/good.json")),
        ("redirect_uri", REDIRECT.into()),
        ("code_challenge", challenge.as_str().into()),
        ("code_challenge_method", "S256".into()),
        ("resource", RESOURCE.into()),
    ]);
    let uri = format!(
        "/oauth/authorize?{}",
        serde_urlencoded::to_string(&query).unwrap()
    );
    let response = routes
        .oneshot(Request::get(uri).body(Full::new(Bytes::new())).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.into_body().collect().await.unwrap().to_bytes();
    let page = String::from_utf8(page.to_vec()).unwrap();
    assert!(page.contains("Test App (from app.test)"), "{page}");
}
