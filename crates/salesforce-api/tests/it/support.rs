//! A sandbox org per test, a client for it, and the admin calls tests use to inject faults and
//! read the sandbox's request log.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use salesforce_api::{
    Access, AccessProvider, Client, ClientBuilder, Error, RetryPolicy, StaticAccess,
};
use salesforce_sandbox::{RunningSandbox, Sandbox};
use secrecy::SecretString;
use serde_json::{Value, json};

pub struct Org {
    pub running: RunningSandbox,
    pub http: reqwest::Client,
}

/// Retries fast enough for tests, with the production policy's shape.
pub fn fast_retries(max_retries: usize) -> RetryPolicy {
    RetryPolicy {
        initial_delay: Duration::from_millis(5),
        factor: 1.5,
        max_delay: Duration::from_millis(40),
        max_retries,
        deadline: Duration::from_secs(10),
    }
}

impl Org {
    pub async fn start() -> Self {
        let running = Sandbox::start_local().await.expect("sandbox starts");
        Self {
            running,
            http: reqwest::Client::new(),
        }
    }

    pub fn base_url(&self) -> String {
        self.running.base_url()
    }

    pub fn access(&self) -> Access {
        let token = self.running.sandbox().issue_access_token();
        Access::new(&self.base_url(), SecretString::from(token)).unwrap()
    }

    pub fn client(&self) -> Client {
        self.client_with(|b| b)
    }

    pub fn client_with(&self, configure: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
        let builder = Client::builder(StaticAccess::new(self.access())).retry(fast_retries(3));
        configure(builder).build().unwrap()
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/__sandbox/{path}", self.base_url());
        let response = self
            .http
            .request(method, url)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "admin {path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    pub async fn faults(&self, config: Value) {
        self.admin(reqwest::Method::PUT, "faults", config).await;
    }

    pub async fn clear_log(&self) {
        self.admin(reqwest::Method::DELETE, "log", json!({})).await;
    }

    /// `(method, path, status)` of every REST API request the sandbox saw since the last clear.
    pub async fn api_requests(&self) -> Vec<(String, String, u16)> {
        let log = self.admin(reqwest::Method::GET, "log", Value::Null).await;
        log.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["path"].as_str().unwrap().starts_with("/services/data/"))
            .map(|e| {
                (
                    e["method"].as_str().unwrap().to_owned(),
                    e["path"].as_str().unwrap().to_owned(),
                    e["status"].as_u64().unwrap() as u16,
                )
            })
            .collect()
    }
}

/// An access provider that obtains tokens with the client-credentials flow of the sandbox's demo
/// connected app, as a server-to-server integration would, and counts its refreshes.
pub struct ClientCredentials {
    base_url: String,
    http: reqwest::Client,
    current: tokio::sync::Mutex<Option<Access>>,
    pub refreshes: AtomicUsize,
}

impl ClientCredentials {
    pub fn new(org: &Org) -> Arc<Self> {
        Arc::new(Self {
            base_url: org.base_url(),
            http: org.http.clone(),
            current: tokio::sync::Mutex::new(None),
            refreshes: AtomicUsize::new(0),
        })
    }

    async fn fetch(&self) -> Result<Access, Error> {
        let response: Value = self
            .http
            .post(format!("{}/services/oauth2/token", self.base_url))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "sfmcp-demo"),
                ("client_secret", "sfmcp-demo-secret"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = response["access_token"]
            .as_str()
            .expect("client_credentials gives a token");
        let instance = response["instance_url"]
            .as_str()
            .expect("and an instance URL");
        Access::new(instance, SecretString::from(token.to_owned()))
    }
}

impl AccessProvider for ClientCredentials {
    fn current(&self) -> BoxFuture<'_, Result<Access, Error>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            if current.is_none() {
                *current = Some(self.fetch().await?);
            }
            Ok(current.clone().unwrap())
        })
    }

    fn refresh<'a>(&'a self, rejected: &'a Access) -> BoxFuture<'a, Result<Access, Error>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            if let Some(access) = current.as_ref().filter(|a| !a.same_token(rejected)) {
                return Ok(access.clone());
            }
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            let fresh = self.fetch().await?;
            *current = Some(fresh.clone());
            Ok(fresh)
        })
    }
}
