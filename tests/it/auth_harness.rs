//! Shared fixture of the auth end-to-end tests: the sandbox as Salesforce, our OAuth routes and
//! the bearer layer served by hyper on 127.0.0.1:0, a Redis-backed encrypted store on a manual
//! clock, and a reqwest client that never follows redirects so each hop can be checked.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use auth::clock::ManualClock;
use auth::crypto::{EncryptionKey, Keyring};
use auth::mcp_auth::McpAuthConfig;
use auth::mcp_auth::bearer::{AuthenticatedPrincipal, BearerAuthLayer, BearerValidator};
use auth::mcp_auth::routes::OAuthRoutes;
use auth::pkce::{PkceChallenge, generate_verifier};
use auth::refresh::{RefreshPolicy, TokenManager};
use auth::salesforce::{LoginHost, SalesforceOAuthClient, SalesforceOAuthConfig};
use auth::secret::ClientSecret;
use auth::store::Store;
use auth::store::redis::RedisBackend;
use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use salesforce_sandbox::oauth::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use salesforce_sandbox::{Clock, DatasetSize, RunningSandbox, Sandbox};
use test_support::TestRedis;
use tokio::net::TcpListener;
use tower::{Service as _, ServiceBuilder};
use url::Url;

/// The MCP client's registered redirect URI (nothing listens there: we read the Location).
pub const CLIENT_REDIRECT: &str = "http://127.0.0.1:33418/callback";
/// The Salesforce access token lifetime the sandbox and our refresh policy agree on.
pub const SF_LIFETIME_SECS: i64 = 2 * 60 * 60;

/// One running world: sandbox, our server, the store.
pub struct World {
    pub sandbox: RunningSandbox,
    pub redis: TestRedis,
    pub keyring: Arc<Keyring>,
    pub store: Store,
    pub clock: ManualClock,
    pub salesforce: SalesforceOAuthClient,
    /// The user's browser and the MCP client, talking to our server.
    pub browser: Browser,
    server: tokio::task::JoinHandle<()>,
}

impl std::ops::Deref for World {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        &self.browser
    }
}

/// A browser and MCP client against an OAuth server at `base`: registration, the authorize and
/// consent pages, following each redirect by hand, and the token endpoint.
pub struct Browser {
    /// `http://127.0.0.1:PORT`, the issuer.
    pub base: String,
    /// Never follows redirects, so each hop can be checked.
    pub http: reqwest::Client,
    /// The `sfmcp_login` cookie our consent answer set: the browser's proof at the callback.
    login_cookie: std::sync::Mutex<Option<String>>,
}

impl Drop for World {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn now_ms() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

impl World {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let callback = format!("{base}/oauth/salesforce/callback");
        let sandbox = Sandbox::builder()
            .clock(Clock::fixed(chrono::Utc::now()))
            .dataset(DatasetSize::Tiny, 1)
            .auto_approve(true)
            .callback_urls(vec![callback.clone()])
            .access_token_lifetime(chrono::TimeDelta::seconds(SF_LIFETIME_SECS))
            .build()
            .unwrap()
            .serve(TcpListener::bind("127.0.0.1:0").await.unwrap())
            .unwrap();

        let redis = TestRedis::shared();
        let keyring = Arc::new(Keyring::new(EncryptionKey::generate("k1").unwrap()));
        let clock = ManualClock::new(now_ms());
        let store = Self::redis_store(&redis, &keyring, &clock);

        let mut sf_config =
            SalesforceOAuthConfig::new(DEMO_CLIENT_ID, Url::parse(&callback).unwrap());
        sf_config.client_secret = Some(ClientSecret::new(DEMO_CLIENT_SECRET));
        sf_config.login_host = LoginHost::parse(&sandbox.base_url()).unwrap();
        sf_config.access_token_lifetime = std::time::Duration::from_secs(SF_LIFETIME_SECS as u64);
        let salesforce = SalesforceOAuthClient::new(sf_config).unwrap();

        let config = Arc::new(McpAuthConfig::new(&base, &format!("{base}/mcp")).unwrap());
        // A second resource on the same grant store: its tokens are not ours to accept.
        let other = Arc::new(McpAuthConfig::new(&base, &format!("{base}/other")).unwrap());
        let routes = OAuthRoutes::new(store.clone(), Arc::new(salesforce.clone()), config.clone());
        let mcp = ServiceBuilder::new()
            .layer(BearerAuthLayer::new(BearerValidator::new(
                Arc::new(store.clone()),
                config.clone(),
            )))
            .service_fn(echo_principal);
        let other_mcp = ServiceBuilder::new()
            .layer(BearerAuthLayer::new(BearerValidator::new(
                Arc::new(store.clone()),
                other,
            )))
            .service_fn(echo_principal);

        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (routes, mcp, other_mcp) = (routes.clone(), mcp.clone(), other_mcp.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let (mut routes, mut mcp, mut other_mcp) =
                            (routes.clone(), mcp.clone(), other_mcp.clone());
                        async move {
                            let path = request.uri().path().to_owned();
                            if routes.handles(&path) {
                                routes.call(request).await
                            } else if path == "/mcp" {
                                mcp.call(request).await
                            } else if path == "/other" {
                                other_mcp.call(request).await
                            } else {
                                let mut answer = Response::new(Full::default());
                                *answer.status_mut() = StatusCode::NOT_FOUND;
                                Ok(answer)
                            }
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });

        Self {
            sandbox,
            redis,
            keyring,
            store,
            clock,
            salesforce,
            browser: Browser::new(base),
            server,
        }
    }

    /// Another store client on the same Redis prefix and keyring (a second replica).
    pub fn redis_store(redis: &TestRedis, keyring: &Arc<Keyring>, clock: &ManualClock) -> Store {
        Store::new(
            Arc::new(RedisBackend::new(redis.url(), redis.prefix()).unwrap()),
            keyring.clone(),
        )
        .with_clock(Arc::new(clock.clone()))
    }

    /// A token manager over `store`, on the world's clock, with the sandbox's lifetime.
    pub fn token_manager(&self, store: &Store) -> TokenManager {
        let shared = Arc::new(store.clone());
        TokenManager::with_clock(
            shared.clone(),
            shared,
            self.salesforce.refresher(),
            RefreshPolicy {
                lifetime: std::time::Duration::from_secs(SF_LIFETIME_SECS as u64),
                ..RefreshPolicy::default()
            },
            Arc::new(self.clock.clone()),
        )
    }

    /// Moves both clocks (ours and the sandbox's) forward.
    pub fn advance(&self, seconds: i64) {
        self.clock
            .advance_ms(u64::try_from(seconds * 1000).unwrap());
        self.sandbox
            .sandbox()
            .clock()
            .advance(chrono::TimeDelta::seconds(seconds));
    }

    /// The sandbox's request log (method, path, status).
    pub async fn sandbox_log(&self) -> Vec<serde_json::Value> {
        self.http
            .get(format!("{}/__sandbox/log", self.sandbox.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn clear_sandbox_log(&self) {
        let status = self
            .http
            .delete(format!("{}/__sandbox/log", self.sandbox.base_url()))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 204);
    }
}

impl Browser {
    pub fn new(base: String) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base,
            http,
            login_cookie: std::sync::Mutex::new(None),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn resource(&self) -> String {
        self.url("/mcp")
    }

    /// Registers a public client with [`CLIENT_REDIRECT`]; its client id.
    pub async fn register(&self) -> String {
        let response = self
            .http
            .post(self.url("/oauth/register"))
            .json(&serde_json::json!({
                "redirect_uris": [CLIENT_REDIRECT],
                "client_name": "e2e client",
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        body["client_id"].as_str().unwrap().to_owned()
    }

    /// `GET /oauth/authorize` with `params`; the raw response.
    pub async fn authorize(&self, params: &[(&str, &str)]) -> reqwest::Response {
        let mut url = Url::parse(&self.url("/oauth/authorize")).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        self.http.get(url).send().await.unwrap()
    }

    /// Posts the consent form of an authorize answer with its cookie; the Location it redirects to.
    pub async fn consent(&self, page: reqwest::Response, decision: &str) -> Url {
        assert_eq!(page.status(), 200);
        let cookie = page.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let html = page.text().await.unwrap();
        let consent = html
            .split("name=\"consent\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let response = self
            .http
            .post(self.url("/oauth/authorize/consent"))
            .header(header::COOKIE, cookie)
            .form(&[("consent", consent.as_str()), ("decision", decision)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        let login_cookie = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("sfmcp_login="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        *self.login_cookie.lock().unwrap() = login_cookie;
        location(&response)
    }

    /// `GET url`, expecting a redirect; its Location. Our Salesforce callback gets the login
    /// cookie, as the consenting browser would send it.
    pub async fn follow(&self, url: &Url) -> Url {
        let mut request = self.http.get(url.clone());
        let cookie = self.login_cookie.lock().unwrap().clone();
        if url.path() == "/oauth/salesforce/callback"
            && let Some(cookie) = cookie
        {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 302, "{url}");
        location(&response)
    }

    /// `POST /oauth/token`; status and JSON body.
    pub async fn token(&self, form: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// `GET path` (on our server) with a bearer token.
    pub async fn mcp_call(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Runs the whole browser part of a login for a fresh client up to our code.
    pub async fn login(&self) -> Login {
        let client_id = self.register().await;
        let verifier = generate_verifier();
        let challenge = PkceChallenge::from_verifier(&verifier);
        let client_state = "client-state-1";
        let resource = self.resource();
        let page = self
            .authorize(&[
                ("response_type", "code"),
                ("client_id", &client_id),
                ("redirect_uri", CLIENT_REDIRECT),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
                ("state", client_state),
                ("resource", &resource),
                ("scope", "mcp"),
            ])
            .await;
        let to_salesforce = self.consent(page, "allow").await;
        let sf_query = query(&to_salesforce);
        let to_callback = self.follow(&to_salesforce).await;
        let callback_query = query(&to_callback);
        let to_client = self.follow(&to_callback).await;
        let client_query = query(&to_client);
        Login {
            client_id,
            verifier: verifier.secret().to_owned(),
            to_salesforce,
            sf_query,
            to_callback,
            callback_query,
            to_client,
            client_query,
        }
    }
}

/// Everything seen on the wire during [`Browser::login`].
pub struct Login {
    pub client_id: String,
    pub verifier: String,
    pub to_salesforce: Url,
    pub sf_query: HashMap<String, String>,
    pub to_callback: Url,
    pub callback_query: HashMap<String, String>,
    pub to_client: Url,
    pub client_query: HashMap<String, String>,
}

impl Login {
    pub fn code(&self) -> &str {
        &self.client_query["code"]
    }

    /// The token request exchanging this login's code, with `verifier` and `redirect_uri`.
    pub fn exchange_form<'a>(
        &'a self,
        verifier: &'a str,
        redirect_uri: &'a str,
    ) -> Vec<(&'a str, &'a str)> {
        vec![
            ("grant_type", "authorization_code"),
            ("code", self.code()),
            ("redirect_uri", redirect_uri),
            ("client_id", &self.client_id),
            ("code_verifier", verifier),
        ]
    }
}

pub fn location(response: &reqwest::Response) -> Url {
    Url::parse(response.headers()[header::LOCATION].to_str().unwrap()).unwrap()
}

pub fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// The URL without its query: scheme, host, port and path, for exact redirect checks.
pub fn without_query(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// The trivial MCP stand-in: echoes the principal the bearer layer attached.
async fn echo_principal(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = match request.extensions().get::<AuthenticatedPrincipal>() {
        Some(p) => serde_json::json!({
            "principal": p.principal,
            "org_id": p.org_id,
            "client_id": p.client_id,
            "scopes": p.scopes,
        }),
        None => serde_json::json!({"principal": null}),
    };
    Ok(Response::new(Full::new(Bytes::from(body.to_string()))))
}
