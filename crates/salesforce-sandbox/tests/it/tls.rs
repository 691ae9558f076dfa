//! https with a generated self-signed certificate: written once, reused, trusted by a client.

use std::path::PathBuf;

use reqwest::{Certificate, StatusCode};
use salesforce_sandbox::tls::TlsIdentity;

use crate::support::builder;

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("sfmcp-tls-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn a_client_trusting_the_generated_certificate_calls_the_api_over_https() {
    let dir = TempDir::new();
    let (cert, key) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    let identity = TlsIdentity::load_or_generate(&cert, &key).unwrap();
    let pem = std::fs::read(&cert).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key is private to its owner");
    }
    // A second start reuses the files instead of generating new ones.
    TlsIdentity::load_or_generate(&cert, &key).unwrap();
    assert_eq!(std::fs::read(&cert).unwrap(), pem);

    let sandbox = builder().build().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = sandbox.serve_tls(listener, &identity).unwrap();
    assert!(running.base_url().starts_with("https://127.0.0.1:"));
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    for host in [
        running.base_url(),
        running.base_url().replace("127.0.0.1", "localhost"),
    ] {
        let response = client
            .get(format!("{host}/services/data/"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let versions: serde_json::Value = response.json().await.unwrap();
        assert!(versions.as_array().is_some_and(|v| !v.is_empty()));
    }
    // A client that does not trust the certificate is refused.
    let untrusting = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("{}/services/data/", running.base_url()))
            .send()
            .await
            .is_err()
    );
    // One file without the other is refused rather than overwritten.
    std::fs::remove_file(&key).unwrap();
    assert!(TlsIdentity::load_or_generate(&cert, &key).is_err());
    running.shutdown().await;
}
