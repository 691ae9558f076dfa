//! The systems under test, started from the release binaries: a sandbox org, `sfmcp-server`
//! against it, a private `redis-server`, `sfmcp-worker`, the `echo` example and the Node anchors.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};
use secrecy::{ExposeSecret as _, SecretString};

use crate::RunArgs;
use crate::procs::{Proc, free_addr};

/// The demo connected app every sandbox has.
pub const DEMO_CLIENT_ID: &str = "sfmcp-demo";
/// Its secret (a published demo value, not a credential).
pub const DEMO_CLIENT_SECRET: &str = "sfmcp-demo-secret";
/// The REST API version the sandbox and the server speak.
pub const API_VERSION: &str = "v66.0";

const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A running `sfmcp-sandbox`.
pub struct Sandbox {
    /// The process.
    pub proc: Proc,
    /// Its address.
    pub addr: SocketAddr,
}

impl Sandbox {
    /// Starts a sandbox with the `dataset` (`tiny`, `demo`, `large`) and no daily API limit to
    /// speak of.
    pub async fn start(args: &RunArgs, dataset: &str) -> anyhow::Result<Self> {
        let addr = free_addr()?;
        let mut command = Command::new(args.bins.join("sfmcp-sandbox"));
        command.args([
            "--listen",
            &addr.to_string(),
            "--dataset",
            dataset,
            "--daily-api-limit",
            "1000000000000",
        ]);
        command.env("RUST_LOG", "warn");
        let mut proc = Proc::start("sandbox", command, &args.logs)?;
        proc.wait_for_port(addr, START_TIMEOUT).await?;
        Ok(Self { proc, addr })
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A token of the demo app (client-credentials flow).
    pub async fn token(&self) -> anyhow::Result<SecretString> {
        let response = reqwest::Client::new()
            .post(format!("{}/services/oauth2/token", self.url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", DEMO_CLIENT_ID),
                ("client_secret", DEMO_CLIENT_SECRET),
            ])
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("the sandbox refused a token: {}", response.status());
        }
        let body: serde_json::Value = response.json().await?;
        let token = body["access_token"]
            .as_str()
            .context("no access_token in the token response")?;
        Ok(SecretString::from(token.to_owned()))
    }

    /// Calls an admin endpoint under `/__sandbox/` and returns its JSON body (or `null`).
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let mut request =
            reqwest::Client::new().request(method, format!("{}/__sandbox/{path}", self.url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        if !response.status().is_success() {
            bail!("sandbox admin {path}: {}", response.status());
        }
        let text = response.text().await?;
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// A REST GET (path below `/services/data/vXX.X/`) with `token`, as JSON.
    pub async fn rest_get(
        &self,
        token: &SecretString,
        path: &str,
    ) -> anyhow::Result<serde_json::Value> {
        let response = reqwest::Client::new()
            .get(format!("{}/services/data/{API_VERSION}/{path}", self.url()))
            .bearer_auth(token.expose_secret())
            .send()
            .await?;
        if !response.status().is_success() {
            bail!(
                "GET {path}: {} {}",
                response.status(),
                response.text().await?
            );
        }
        Ok(response.json().await?)
    }
}

/// Starts `sfmcp-server` against `sandbox` (client-credentials flow, `none` auth), with the
/// per-client rate limit raised out of the way of the load.
pub async fn server(
    args: &RunArgs,
    sandbox: &Sandbox,
    name: &str,
) -> anyhow::Result<(Proc, SocketAddr)> {
    let addr = free_addr()?;
    let mut command = Command::new(args.bins.join("sfmcp-server"));
    command
        .args(["--listen", &addr.to_string()])
        .env("SALESFORCE_LOGIN_URL", sandbox.url())
        .env("SALESFORCE_CLIENT_ID", DEMO_CLIENT_ID)
        .env("SALESFORCE_CLIENT_SECRET", DEMO_CLIENT_SECRET)
        .env("SFMCP_RATE_LIMIT", "1000000000")
        .env("RUST_LOG", "warn");
    let mut proc = Proc::start(name, command, &args.logs)?;
    proc.wait_for_port(addr, START_TIMEOUT).await?;
    Ok((proc, addr))
}

/// A private `redis-server` on a free port, persisting nothing to disk (it is thrown away).
pub async fn redis(args: &RunArgs) -> anyhow::Result<(Proc, SocketAddr)> {
    let addr = free_addr()?;
    let mut command = Command::new("redis-server");
    command.args([
        "--port",
        &addr.port().to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]);
    let mut proc = Proc::start("redis", command, &args.logs)?;
    proc.wait_for_port(addr, START_TIMEOUT).await?;
    Ok((proc, addr))
}

/// A Node anchor: `node {script} {port}` in `{anchors}/{dir}`.
pub async fn node_anchor(
    args: &RunArgs,
    dir: &str,
    script: &str,
) -> anyhow::Result<(Proc, SocketAddr)> {
    let addr = free_addr()?;
    let mut command = Command::new("node");
    command
        .current_dir(args.anchors.join(dir))
        .args([script, &addr.port().to_string()]);
    let mut proc = Proc::start(dir, command, &args.logs)?;
    proc.wait_for_port(addr, START_TIMEOUT).await?;
    Ok((proc, addr))
}
