//! The command-line loopback login against the sandbox (auto-approve): the announced URL is
//! followed with reqwest, the redirect reaches the loopback listener, the connection is stored
//! and works; stray requests do not end the wait.

use std::sync::Arc;
use std::time::Duration;

use auth::crypto::{EncryptionKey, Keyring};
use auth::login::salesforce_principal;
use auth::loopback::LoopbackLogin;
use auth::salesforce::{LoginHost, SalesforceOAuthClient, SalesforceOAuthConfig};
use auth::secret::ClientSecret;
use auth::store::{ConnectionKey, Store, TokenStore as _};
use salesforce_sandbox::oauth::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use salesforce_sandbox::{DatasetSize, RunningSandbox, Sandbox, SandboxBuilder};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;

/// A loopback login started against a served sandbox (built from `sandbox` with the login's
/// callback registered), past the announcement of its authorization URL.
struct Started {
    redirect: Url,
    /// The announced authorization URL.
    url: Url,
    store: Store,
    running: JoinHandle<auth::Result<ConnectionKey>>,
    _sandbox: RunningSandbox,
}

async fn start(sandbox: SandboxBuilder, client_secret: Option<&str>) -> Started {
    let login = LoopbackLogin::bind(0).await.unwrap();
    let redirect = login.redirect_uri().clone();
    let sandbox = sandbox
        .callback_urls(vec![redirect.to_string()])
        .build()
        .unwrap()
        .serve(TcpListener::bind("127.0.0.1:0").await.unwrap())
        .unwrap();
    let mut config = SalesforceOAuthConfig::new(DEMO_CLIENT_ID, redirect.clone());
    config.login_host = LoginHost::parse(&sandbox.base_url()).unwrap();
    config.client_secret = client_secret.map(ClientSecret::new);
    let salesforce = SalesforceOAuthClient::new(login.client_config(config)).unwrap();
    let store = Store::memory(Arc::new(Keyring::new(
        EncryptionKey::generate("k1").unwrap(),
    )));
    let (announced_tx, announced_rx) = tokio::sync::oneshot::channel();
    let running = {
        let (store, salesforce) = (store.clone(), salesforce.clone());
        tokio::spawn(async move {
            login
                .run(
                    &store,
                    &salesforce,
                    |url| {
                        let _ = announced_tx.send(url.clone());
                    },
                    Duration::from_secs(60),
                    salesforce_principal,
                )
                .await
        })
    };
    let url = announced_rx.await.unwrap();
    Started {
        redirect,
        url,
        store,
        running,
        _sandbox: sandbox,
    }
}

#[tokio::test]
async fn loopback_login_stores_a_working_connection() {
    let Started {
        redirect,
        url,
        store,
        running,
        _sandbox,
    } = start(
        Sandbox::builder()
            .dataset(DatasetSize::Tiny, 1)
            .auto_approve(true),
        Some(DEMO_CLIENT_SECRET),
    )
    .await;
    assert_eq!(redirect.host_str(), Some("127.0.0.1"));
    let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs["code_challenge_method"], "S256");
    assert_eq!(pairs["redirect_uri"], redirect.as_str());

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Stray requests: another path, a forged state. Both refused; the login goes on.
    let stray = http
        .get(redirect.join("/favicon.ico").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(stray.status(), 404);
    let mut forged = redirect.clone();
    forged.set_query(Some("code=x&state=forged"));
    assert_eq!(http.get(forged).send().await.unwrap().status(), 400);

    let approved = http.get(url).send().await.unwrap();
    assert_eq!(approved.status(), 302);
    let back = Url::parse(approved.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(back.as_str().split('?').next().unwrap(), redirect.as_str());
    let done = http.get(back).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Connected"));

    let key = running.await.unwrap().unwrap();
    assert!(key.principal().starts_with("sf:005"));
    let stored = store.get(&key).await.unwrap().unwrap();
    assert!(stored.connection.refresh_token.is_some());
    let limits = http
        .get(format!(
            "{}/services/data/v62.0/limits",
            stored.connection.instance_url
        ))
        .bearer_auth(stored.connection.access_token.secret())
        .send()
        .await
        .unwrap();
    assert_eq!(limits.status(), 200);
}

#[tokio::test]
async fn loopback_login_reports_a_refusal() {
    let Started {
        url,
        running,
        _sandbox,
        ..
    } = start(Sandbox::builder(), None).await;
    // The user clicks Deny on the sandbox's login page.
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.push(("action".into(), "deny".into()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut post_to = url.clone();
    post_to.set_query(None);
    let denied = http.post(post_to).form(&form).send().await.unwrap();
    assert_eq!(denied.status(), 302);
    let back = Url::parse(denied.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(http.get(back).send().await.unwrap().status(), 400);
    assert!(matches!(
        running.await.unwrap(),
        Err(auth::Error::Salesforce {
            kind: auth::SalesforceErrorKind::AccessDenied,
            ..
        })
    ));
}
