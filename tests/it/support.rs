//! Shared helpers: the Python MCP SDK runner, the `sfmcp-server` binary, figures computed
//! straight from the sandbox's REST API, and the server's settings for tests.

use std::path::PathBuf;
use std::process::Stdio;

use clap::Parser;
use serde_json::Value;

/// The pinned SDK version (keep in step with `.ci/run`).
const MCP_SDK_VERSION: &str = "2.3.0";

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python() -> PathBuf {
    let python = workspace_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "the Python MCP SDK is missing: run `python3 -m venv .venv && .venv/bin/pip install mcp=={MCP_SDK_VERSION}` in the workspace root"
    );
    python
}

/// What the SDK client saw.
pub struct SdkRun {
    pub protocol: String,
    pub tools: Vec<String>,
    pub search_leads: Value,
    pub insights: Value,
    /// The client's stderr, which includes a stdio server's logs.
    pub stderr: String,
    /// Everything the client printed.
    pub stdout: String,
}

impl SdkRun {
    /// The JSON printed on the line starting with `{name} `.
    pub fn result(&self, name: &str) -> Value {
        printed(&self.stdout, name)
    }
}

/// The JSON a script printed on the line starting with `{name} `.
pub fn printed(stdout: &str, name: &str) -> Value {
    let prefix = format!("{name} ");
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no `{name}` line in {stdout}"));
    serde_json::from_str(line).unwrap()
}

/// Runs `tests/interop/{script}` with `args` under the SDK's Python, sending `bearer` as
/// `SFMCP_BEARER` when given; fails the test unless it exits 0 with "ok" as its last line.
/// Returns its stdout and stderr.
pub async fn run_interop(script: &str, args: &[String], bearer: Option<&str>) -> (String, String) {
    let mut command = tokio::process::Command::new(python());
    match bearer {
        Some(token) => command.env("SFMCP_BEARER", token),
        None => command.env_remove("SFMCP_BEARER"),
    };
    let out = command
        .arg(workspace_root().join("tests/interop").join(script))
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && stdout.lines().last() == Some("ok"),
        "{script} {}:\nstdout:\n{stdout}\nstderr:\n{stderr}",
        args.first().map_or("", String::as_str)
    );
    (stdout, stderr)
}

/// Runs `tests/interop/server_client.py` against `target` (a URL or a command line).
pub async fn run_sdk(mode: &str, account_id: &str, target: &[String]) -> SdkRun {
    run_sdk_as(mode, account_id, target, None).await
}

/// [`run_sdk`] sending `bearer` as `Authorization: Bearer` over HTTP.
pub async fn run_sdk_as(
    mode: &str,
    account_id: &str,
    target: &[String],
    bearer: Option<&str>,
) -> SdkRun {
    let mut args = vec![mode.to_owned(), account_id.to_owned()];
    args.extend_from_slice(target);
    let (stdout, stderr) = run_interop("server_client.py", &args, bearer).await;
    let line = |prefix: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in {stdout}"))
            .to_owned()
    };
    SdkRun {
        protocol: line("protocol "),
        tools: serde_json::from_str(&line("tools ")).unwrap(),
        search_leads: serde_json::from_str(&line("searchLeads ")).unwrap(),
        insights: serde_json::from_str(&line("insights ")).unwrap(),
        stderr,
        stdout,
    }
}

/// The `sfmcp-server` binary of this build, brought up to date with cargo (a no-op when fresh)
/// so the test never runs a stale binary. The build asks for the workspace's tests and bins, the
/// same feature resolution as the test run that is executing us (dev-dependencies included): a
/// plain `cargo build -p server` resolves features differently and would rebuild much of the
/// tree inside a timed test.
pub fn server_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let status = std::process::Command::new(cargo)
                .args(["build", "-q", "--workspace", "--tests", "--bins"])
                .current_dir(workspace_root())
                .status()
                .unwrap();
            assert!(status.success(), "building sfmcp-server failed");
            let bin = profile_dir.join("sfmcp-server");
            assert!(bin.exists(), "{} not found after building", bin.display());
            bin
        })
        .clone()
}

/// Settings as the binary would parse them from `args` (no environment consulted beyond clap's).
/// The config directory is one that holds no stored login, so the host's never leaks in.
pub fn settings(args: &[&str]) -> server::Settings {
    let mut all = vec![
        "sfmcp-server",
        "--listen",
        "127.0.0.1:0",
        "--config-dir",
        "/nonexistent/sfmcp-tests",
    ];
    all.extend_from_slice(args);
    server::Args::try_parse_from(all)
        .unwrap()
        .settings()
        .unwrap()
}

/// Figures computed straight from the org's REST API, independently of the tools.
pub struct OrgFacts {
    pub base: String,
    pub token: String,
}

impl OrgFacts {
    pub async fn query(&self, soql: &str) -> Vec<Value> {
        let response = reqwest::Client::new()
            .get(format!("{}/services/data/v66.0/query", self.base))
            .query(&[("q", soql)])
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{soql}: {}",
            response.status()
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["done"], true, "{soql} pages; narrow it");
        body["records"].as_array().unwrap().clone()
    }

    /// Ids of Hot Healthcare leads created this week.
    pub async fn hot_healthcare_leads_this_week(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .query("SELECT Id FROM Lead WHERE Industry = 'Healthcare' AND Rating = 'Hot' AND CreatedDate = THIS_WEEK")
            .await
            .iter()
            .map(|r| r["Id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }

    /// An account with open opportunities, with its total and weighted open pipeline.
    pub async fn account_pipeline(&self) -> (String, f64, f64, usize) {
        let first = self
            .query("SELECT AccountId FROM Opportunity WHERE IsClosed = false AND Amount != null AND AccountId != null ORDER BY Amount DESC LIMIT 1")
            .await;
        let account = first[0]["AccountId"].as_str().unwrap().to_owned();
        let opportunities = self
            .query(&format!(
                "SELECT Amount, Probability FROM Opportunity WHERE IsClosed = false AND AccountId = '{account}'"
            ))
            .await;
        let amount = |r: &Value| r["Amount"].as_f64().unwrap_or(0.0);
        let total: f64 = opportunities.iter().map(amount).sum();
        let weighted: f64 = opportunities
            .iter()
            .map(|r| amount(r) * r["Probability"].as_f64().unwrap_or(0.0) / 100.0)
            .sum();
        (account, total, weighted, opportunities.len())
    }
}

/// Checks what the SDK saw against the org's own figures.
pub async fn check_run(run: &SdkRun, facts: &OrgFacts, account: &(String, f64, f64, usize)) {
    for tool in [
        "searchLeads",
        "getOpportunity",
        "getAccountInsights",
        "search",
        "fetch",
    ] {
        assert!(
            run.tools.iter().any(|t| t == tool),
            "{tool} missing from {:?}",
            run.tools
        );
    }
    let expected = facts.hot_healthcare_leads_this_week().await;
    assert_eq!(
        run.search_leads["totalSize"],
        expected.len(),
        "{}",
        run.search_leads
    );
    let mut got: Vec<String> = run.search_leads["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    assert_eq!(got, expected);

    let (id, total, weighted, open) = account;
    let insights = &run.insights;
    assert_eq!(insights["account"]["id"], id.as_str(), "{insights}");
    let pipeline = &insights["pipeline"];
    assert_eq!(pipeline["openOpportunities"], *open, "{pipeline}");
    let close = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() < 0.005;
    assert!(
        close(&pipeline["totalPipeline"], *total),
        "{pipeline} vs {total}"
    );
    assert!(
        close(&pipeline["weightedPipeline"], *weighted),
        "{pipeline} vs {weighted}"
    );
}
