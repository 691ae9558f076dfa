//! `sfmcp-server login`: `auth`'s loopback login, and the connection it leaves for
//! `sfmcp-server --stdio` (and the local HTTP server in `none` mode) to use when no other
//! credentials are configured.
//!
//! Where it is kept: with `REDIS_URL`, in Redis under `{SFMCP_REDIS_PREFIX}login:`; otherwise in
//! `connections.json` in the config directory (a file of mode 0600 holding only ciphertext).
//! Either way everything is sealed with `SFMCP_TOKEN_KEY`: the connection under the principal
//! `local`, plus a "profile" (login URL, consumer key, consumer secret if any, redirect URI) so
//! that the server can refresh the token without being told the app again.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use anyhow::{Context as _, bail};
use auth::crypto::Keyring;
use auth::loopback::LoopbackLogin;
use auth::modes::none::LOCAL_PRINCIPAL;
use auth::salesforce::{LoginHost, SalesforceOAuthClient, SalesforceOAuthConfig};
use auth::secret::ClientSecret;
use auth::store::file::FileBackend;
use auth::store::redis::RedisBackend;
use auth::store::{Backend, Store};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::stores::{Stores, keyring};

const PROFILE_KEY: &str = "profile";
const PROFILE_AAD: &[u8] = b"sfmcp-login-profile";

#[derive(Serialize, Deserialize)]
struct Profile {
    login_url: String,
    client_id: String,
    client_secret: Option<String>,
    redirect_uri: String,
}

/// A connection stored by `login`, ready to serve.
pub struct StoredLogin {
    /// The store holding it (principal [`LOCAL_PRINCIPAL`]).
    pub store: Store,
    /// The app it was made with, for refreshes.
    pub salesforce: SalesforceOAuthClient,
    /// Where it is kept, for the logs.
    pub location: String,
}

/// Where `login` keeps its records: Redis when configured, else the file.
fn backend(settings: &Settings, stores: &Stores) -> anyhow::Result<(Arc<dyn Backend>, String)> {
    if let Some(pool) = &stores.redis {
        let prefix = format!("{}login:", settings.redis_prefix);
        let location = format!("Redis (prefix {prefix})");
        return Ok((
            Arc::new(RedisBackend::from_pool(pool.clone(), &prefix)),
            location,
        ));
    }
    let path = settings
        .login_file()
        .context("no config directory: set SFMCP_CONFIG_DIR (or HOME)")?;
    let location = path.display().to_string();
    Ok((Arc::new(FileBackend::new(path)), location))
}

/// The connection stored by `login`, if there is one. A stored login that cannot be opened
/// (no or another `SFMCP_TOKEN_KEY`) is an error rather than a silent switch to the demo.
pub async fn load(settings: &Settings, stores: &Stores) -> anyhow::Result<Option<StoredLogin>> {
    let file_exists = settings.login_file().is_some_and(|f| f.exists());
    if stores.redis.is_none() && !file_exists {
        return Ok(None);
    }
    let Some(keyring) = keyring(settings)? else {
        if file_exists {
            bail!(
                "a Salesforce login is stored in {}; set SFMCP_TOKEN_KEY to use it (or delete the file for the demo org)",
                settings.login_file().unwrap_or_default().display()
            );
        }
        return Ok(None);
    };
    let (backend, location) = backend(settings, stores)?;
    let Some(sealed) = backend
        .get(PROFILE_KEY)
        .await
        .with_context(|| format!("reading the stored login in {location}"))?
    else {
        return Ok(None);
    };
    let json = keyring.open(&sealed, PROFILE_AAD).with_context(|| {
        format!("the stored login in {location} does not open with this SFMCP_TOKEN_KEY")
    })?;
    let profile: Profile =
        serde_json::from_slice(&json).context("the stored login profile is damaged")?;
    let redirect = url::Url::parse(&profile.redirect_uri).context("stored redirect URI")?;
    let mut config = SalesforceOAuthConfig::new(profile.client_id, redirect);
    config.login_host = LoginHost::parse(&profile.login_url).context("stored login URL")?;
    config.client_secret = profile.client_secret.map(ClientSecret::new);
    Ok(Some(StoredLogin {
        store: Store::new(backend, keyring),
        salesforce: SalesforceOAuthClient::new(config)?,
        location,
    }))
}

/// Runs `sfmcp-server login`: prints (and unless `no_browser` opens) the authorization URL,
/// waits on `127.0.0.1:port` for Salesforce's redirect, and stores the connection.
pub async fn run(
    settings: &Settings,
    port: u16,
    no_browser: bool,
    timeout: Duration,
) -> anyhow::Result<()> {
    let Some(keyring) = keyring(settings)? else {
        bail!("login needs SFMCP_TOKEN_KEY (32 random bytes, base64) to encrypt the stored tokens");
    };
    let login_url = settings
        .login_url
        .clone()
        .unwrap_or_else(|| "https://login.salesforce.com".to_owned());
    let Some(client_id) = settings.client_id.clone() else {
        bail!("login needs SALESFORCE_CLIENT_ID (the consumer key of your External Client App)");
    };
    let stores = Stores::open(settings)?;
    let (backend, location) = backend(settings, &stores)?;
    let listener = LoopbackLogin::bind(port).await?;
    let mut config = SalesforceOAuthConfig::new(client_id.clone(), listener.redirect_uri().clone());
    config.login_host = LoginHost::parse(&login_url).context("SALESFORCE_LOGIN_URL")?;
    config.client_secret = settings
        .client_secret
        .as_ref()
        .map(|s| ClientSecret::new(s.expose_secret()));
    let salesforce = SalesforceOAuthClient::new(listener.client_config(config))?;
    let store = Store::new(backend.clone(), keyring.clone());
    let redirect = listener.redirect_uri().to_string();
    let key = listener
        .run(
            &store,
            &salesforce,
            |url| announce(url, no_browser),
            timeout,
            |_| LOCAL_PRINCIPAL.to_owned(),
        )
        .await
        .context("Salesforce login")?;
    save_profile(
        backend.as_ref(),
        &keyring,
        &Profile {
            login_url,
            client_id,
            client_secret: settings
                .client_secret
                .as_ref()
                .map(|s| s.expose_secret().to_owned()),
            redirect_uri: redirect,
        },
    )
    .await?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "Connected to Salesforce org {}. Stored (encrypted) in {location}.",
            key.org_id()
        );
        println!(
            "`sfmcp-server --stdio` now uses this connection (with the same SFMCP_TOKEN_KEY)."
        );
    }
    Ok(())
}

async fn save_profile(
    backend: &dyn Backend,
    keyring: &Keyring,
    profile: &Profile,
) -> anyhow::Result<()> {
    let json = secrecy::zeroize::Zeroizing::new(serde_json::to_vec(profile)?);
    let sealed = keyring.seal(&json, PROFILE_AAD)?;
    backend
        .set(PROFILE_KEY, &sealed, None)
        .await
        .context("storing the login profile")
}

#[allow(clippy::print_stdout)]
fn announce(url: &url::Url, no_browser: bool) {
    println!("Open this URL in your browser to sign in to Salesforce:\n{url}");
    if no_browser {
        return;
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    // Best effort: the printed URL works without it.
    let _ = std::process::Command::new(opener)
        .arg(url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// Counts successful refreshes of `refresher` in `counter` (the `sfmcp_token_refreshes_total`
/// metric).
pub fn counting(
    refresher: auth::refresh::RefreshFn,
    counter: Arc<AtomicU64>,
) -> auth::refresh::RefreshFn {
    Arc::new(move |token| {
        let refresh = refresher(token);
        let counter = counter.clone();
        Box::pin(async move {
            let result = refresh.await;
            if result.is_ok() {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            result
        })
    })
}
