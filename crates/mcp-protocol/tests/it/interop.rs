//! Interoperability with the official Python MCP SDK (`mcp` on PyPI, pinned below): its client
//! drives the example server over Streamable HTTP in both eras and over stdio. The SDK lives in
//! a virtualenv at the workspace root; without it these tests fail and say how to create it.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use mcp_protocol::{HttpConfig, InMemorySessionStore, McpHttpService};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::echo_server;

/// The pinned SDK version (keep in step with `.ci/run`).
const MCP_SDK_VERSION: &str = "2.3.0";

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    let python = workspace_root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "the Python MCP SDK is missing: run `python3 -m venv .venv && .venv/bin/pip install mcp=={MCP_SDK_VERSION}` \
         in the workspace root ({})",
        workspace_root().display()
    );
    python
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/client.py")
}

/// The example binary, which cargo builds alongside the tests.
fn echo_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let bin = debug_dir.join("examples/echo");
    assert!(
        bin.exists(),
        "example binary {} not found: build it with `cargo build -p mcp-protocol --example echo`",
        bin.display()
    );
    bin
}

/// Runs the SDK client script and returns the protocol version it negotiated.
async fn run_client(mode: &str, target: &[String]) -> String {
    let out = tokio::process::Command::new(python())
        .arg(script())
        .arg(mode)
        .args(target)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.lines().last() == Some("ok"),
        "SDK client failed ({mode}):\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("protocol "))
        .unwrap()
        .to_owned()
}

/// Runs the example server in-process on a free loopback port for the duration of `f`.
async fn with_http_server(mode: &str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let service = McpHttpService::new(
        echo_server::build(2),
        Arc::new(InMemorySessionStore::default()),
        HttpConfig::default(),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let closer = service.clone();
    let server = tokio::spawn(mcp_protocol::serve(listener, service, async move {
        let _ = stopped.await;
        closer.close_streams();
    }));
    let version = run_client(mode, &[url]).await;
    let _ = stop.send(());
    server.await.unwrap();
    version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_legacy_over_http() {
    assert_eq!(with_http_server("legacy").await, "2025-11-25");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_modern_over_http() {
    assert_eq!(with_http_server("2026-07-28").await, "2026-07-28");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_auto_probe_over_http_picks_modern() {
    assert_eq!(with_http_server("auto").await, "2026-07-28");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_over_stdio_both_eras() {
    let cmd = vec![echo_binary().display().to_string(), "--stdio".to_owned()];
    assert_eq!(run_client("auto", &cmd).await, "2026-07-28");
    assert_eq!(run_client("legacy", &cmd).await, "2025-11-25");
}
