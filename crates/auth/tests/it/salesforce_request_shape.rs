//! Request-shape checks of the Salesforce OAuth client against `RequestShapeDouble`, a tiny
//! local hyper server that records what it receives and answers canned bodies. It is NOT an
//! emulation of Salesforce (that is the sandbox's job, end to end): it only lets these tests see
//! the method, path, headers and form fields the client sends and how it reads answers.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use auth::pkce::generate_verifier;
use auth::salesforce::{LoginHost, SalesforceOAuthClient, SalesforceOAuthConfig};
use auth::secret::{AccessToken, AuthorizationCode, ClientSecret, RefreshToken};
use auth::{Error, SalesforceErrorKind};
use base64::Engine as _;
use bytes::Bytes;
use hmac::Mac as _;
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use url::Url;

const ID: &str = "https://login.salesforce.com/id/00Dx0000000BV7zEAG/005x00000012Q9PAAU";

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub form: Vec<(String, String)>,
}

/// The canned answer: status, extra headers, body.
pub type Canned = (u16, Vec<(&'static str, String)>, String);

pub struct RequestShapeDouble {
    pub base: String,
    pub recorded: Arc<Mutex<Vec<Recorded>>>,
}

impl RequestShapeDouble {
    pub async fn start(answer: Canned) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let log = recorded.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                let answer = answer.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                        let log = log.clone();
                        let answer = answer.clone();
                        async move {
                            let method = request.method().to_string();
                            let path = request.uri().path().to_owned();
                            let header = |name: &str| {
                                request
                                    .headers()
                                    .get(name)
                                    .and_then(|v| v.to_str().ok())
                                    .map(str::to_owned)
                            };
                            let authorization = header("authorization");
                            let content_type = header("content-type");
                            let body = request.into_body().collect().await.unwrap().to_bytes();
                            let form = serde_urlencoded::from_bytes(&body).unwrap_or_default();
                            log.lock().unwrap().push(Recorded {
                                method,
                                path,
                                authorization,
                                content_type,
                                form,
                            });
                            let mut response = Response::builder().status(answer.0);
                            for (name, value) in &answer.1 {
                                response = response.header(*name, value);
                            }
                            Ok::<_, Infallible>(
                                response
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(answer.2)))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { base, recorded }
    }

    pub fn client(&self, secret: Option<&str>) -> SalesforceOAuthClient {
        let mut config = SalesforceOAuthConfig::new(
            "3MVG9key",
            Url::parse("https://mcp.example.com/oauth/salesforce/callback").unwrap(),
        );
        config.login_host = LoginHost::parse(&self.base).unwrap();
        config.client_secret = secret.map(ClientSecret::new);
        SalesforceOAuthClient::new(config).unwrap()
    }

    fn only_request(&self) -> Recorded {
        let recorded = self.recorded.lock().unwrap();
        assert_eq!(recorded.len(), 1, "{recorded:?}");
        recorded[0].clone()
    }
}

pub fn field<'a>(r: &'a Recorded, name: &str) -> Option<&'a str> {
    r.form
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub fn signed_token_body(secret: &str, issued_at: &str, with_refresh: bool) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(ID.as_bytes());
    mac.update(issued_at.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let refresh = if with_refresh {
        r#""refresh_token":"5Aep861new","#
    } else {
        ""
    };
    format!(
        r#"{{"access_token":"00Dx!AR8AQ","signature":"{signature}",{refresh}"scope":"refresh_token api",
        "instance_url":"https://acme.my.salesforce.com","id":"{ID}","token_type":"Bearer","issued_at":"{issued_at}"}}"#
    )
}

#[tokio::test]
async fn code_exchange_sends_the_documented_form_and_checks_the_signature() {
    let double = RequestShapeDouble::start((
        200,
        vec![],
        signed_token_body("s3cret", "1278448832702", true),
    ))
    .await;
    let verifier = generate_verifier();
    let tokens = double
        .client(Some("s3cret"))
        .exchange_code(&AuthorizationCode::new("aPrx.code"), &verifier)
        .await
        .unwrap();
    assert_eq!(tokens.org_id, "00Dx0000000BV7zEAG");
    assert_eq!(tokens.refresh_token, Some(RefreshToken::new("5Aep861new")));
    let r = double.only_request();
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/services/oauth2/token")
    );
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(field(&r, "grant_type"), Some("authorization_code"));
    assert_eq!(field(&r, "code"), Some("aPrx.code"));
    assert_eq!(field(&r, "client_id"), Some("3MVG9key"));
    assert_eq!(field(&r, "client_secret"), Some("s3cret"));
    assert_eq!(
        field(&r, "redirect_uri"),
        Some("https://mcp.example.com/oauth/salesforce/callback")
    );
    assert_eq!(field(&r, "code_verifier"), Some(verifier.secret()));
}

#[tokio::test]
async fn a_forged_signature_is_refused() {
    let double = RequestShapeDouble::start((
        200,
        vec![],
        signed_token_body("other", "1278448832702", true),
    ))
    .await;
    let result = double
        .client(Some("s3cret"))
        .exchange_code(&AuthorizationCode::new("c"), &generate_verifier())
        .await;
    assert!(matches!(result, Err(Error::SignatureMismatch)));
}

#[tokio::test]
async fn refresh_sends_the_refresh_token_and_maps_invalid_grant() {
    let double = RequestShapeDouble::start((
        400,
        vec![],
        r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#.into(),
    ))
    .await;
    let result = double
        .client(None)
        .refresh(&RefreshToken::new("5Aep861old"))
        .await;
    let error = result.unwrap_err();
    assert!(matches!(
        error,
        Error::Salesforce {
            kind: SalesforceErrorKind::InvalidGrant,
            status: 400
        }
    ));
    assert!(!error.to_string().contains("5Aep861old"));
    let r = double.only_request();
    assert_eq!(field(&r, "grant_type"), Some("refresh_token"));
    assert_eq!(field(&r, "refresh_token"), Some("5Aep861old"));
    assert_eq!(field(&r, "client_secret"), None);
}

#[tokio::test]
async fn refresh_without_rotation_keeps_no_refresh_token() {
    let double =
        RequestShapeDouble::start((200, vec![], signed_token_body("x", "1278448832702", false)))
            .await;
    let tokens = double
        .client(None)
        .refresh(&RefreshToken::new("rt"))
        .await
        .unwrap();
    assert_eq!(tokens.refresh_token, None);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let double = RequestShapeDouble::start((
        302,
        vec![("location", "http://127.0.0.1:1/steal".into())],
        String::new(),
    ))
    .await;
    let result = double.client(None).refresh(&RefreshToken::new("rt")).await;
    assert!(matches!(result, Err(Error::Http(_))), "{result:?}");
    assert_eq!(double.recorded.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let double = RequestShapeDouble::start((200, vec![], "x".repeat(70 * 1024))).await;
    let result = double.client(None).refresh(&RefreshToken::new("rt")).await;
    assert!(matches!(result, Err(Error::Http(_))), "{result:?}");
}

#[tokio::test]
async fn revoke_posts_the_token() {
    let double = RequestShapeDouble::start((200, vec![], String::new())).await;
    double
        .client(None)
        .revoke_refresh_token(&RefreshToken::new("rt-x"))
        .await
        .unwrap();
    let r = double.only_request();
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/services/oauth2/revoke")
    );
    assert_eq!(field(&r, "token"), Some("rt-x"));
}

#[tokio::test]
async fn userinfo_uses_the_bearer_header() {
    let double = RequestShapeDouble::start((
        200,
        vec![],
        format!(
            r#"{{"sub":"{ID}","user_id":"005x00000012Q9PAAU","organization_id":"00Dx0000000BV7zEAG","preferred_username":"a@b.c","zoneinfo":"Europe/Paris"}}"#
        ),
    ))
    .await;
    let info = double
        .client(None)
        .userinfo(&double.base, &AccessToken::new("00Dx!at"))
        .await
        .unwrap();
    assert_eq!(info.organization_id, "00Dx0000000BV7zEAG");
    let r = double.only_request();
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("GET", "/services/oauth2/userinfo")
    );
    assert_eq!(r.authorization.as_deref(), Some("Bearer 00Dx!at"));
}

#[tokio::test]
async fn introspect_posts_token_and_client_credentials() {
    let double = RequestShapeDouble::start((200, vec![], r#"{"active":false}"#.into())).await;
    let result = double
        .client(Some("s3cret"))
        .introspect(&AccessToken::new("00Dx!at"))
        .await
        .unwrap();
    assert!(!result.active);
    let r = double.only_request();
    assert_eq!(r.path, "/services/oauth2/introspect");
    assert_eq!(field(&r, "token"), Some("00Dx!at"));
    assert_eq!(field(&r, "token_type_hint"), Some("access_token"));
    assert_eq!(field(&r, "client_secret"), Some("s3cret"));
}

#[tokio::test]
async fn client_credentials_needs_a_secret_and_sends_the_grant() {
    let double =
        RequestShapeDouble::start((200, vec![], signed_token_body("s3cret", "1", false))).await;
    assert!(matches!(
        double.client(None).client_credentials().await,
        Err(Error::Config(_))
    ));
    double
        .client(Some("s3cret"))
        .client_credentials()
        .await
        .unwrap();
    let r = double.only_request();
    assert_eq!(field(&r, "grant_type"), Some("client_credentials"));
    assert_eq!(field(&r, "client_id"), Some("3MVG9key"));
}
