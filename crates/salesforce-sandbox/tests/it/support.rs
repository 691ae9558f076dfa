//! A started sandbox with a frozen clock, an access token and a reqwest client.

use chrono::{DateTime, Utc};
use reqwest::{Client, Method, Response, StatusCode};
use salesforce_sandbox::{Clock, DatasetSize, RunningSandbox, Sandbox, SandboxBuilder};
use serde_json::Value;

pub const CALLBACK: &str = "http://127.0.0.1:9/callback";

pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-04T15:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn builder() -> SandboxBuilder {
    Sandbox::builder()
        .clock(Clock::fixed(start_time()))
        .dataset(DatasetSize::Tiny, 42)
        .callback_urls(vec![CALLBACK.into()])
        .auto_approve(true)
}

pub struct Org {
    pub running: RunningSandbox,
    pub client: Client,
    pub token: String,
}

impl Org {
    pub async fn start() -> Self {
        Self::with(builder()).await
    }

    pub async fn with(builder: SandboxBuilder) -> Self {
        let sandbox = builder.build().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = sandbox.serve(listener).unwrap();
        let token = running.sandbox().issue_access_token();
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            running,
            client,
            token,
        }
    }

    pub fn base(&self) -> String {
        self.running.base_url()
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/services/data/v62.0{path}", self.base())
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut request = self
            .client
            .request(method, self.api(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let response = self.call(method, path, body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, value)
    }

    pub async fn admin(&self, method: Method, path: &str, body: Value) -> Value {
        let response = self
            .client
            .request(method, format!("{}/__sandbox/{path}", self.base()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "admin {path}: {}",
            response.status()
        );
        let text = response.text().await.unwrap();
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// Creates a record and returns its id.
    pub async fn create(&self, object: &str, body: Value) -> String {
        let (status, value) = self
            .json(Method::POST, &format!("/sobjects/{object}"), Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{value}");
        value["id"].as_str().unwrap().to_owned()
    }
}
