//! The server's configuration: flags and environment variables (clap), checked into a
//! [`Settings`] whose every combination can start. A bad combination is one [`ConfigError`] line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret as _, SecretString};

/// How MCP clients authenticate to this server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// OAuth 2.1 for MCP clients, each user connecting their own Salesforce account.
    Oauth,
    /// Clients present a Salesforce access token directly as the bearer token.
    Direct,
    /// No client authentication: one Salesforce connection for every caller (loopback only
    /// unless forced).
    None,
}

/// `sfmcp-server`: lets MCP clients (ChatGPT, Claude) work with Salesforce.
///
/// With no Salesforce configuration it starts an embedded demo org (the sandbox) and prints
/// how to connect.
#[derive(Debug, Clone, Parser)]
#[command(name = "sfmcp-server", version)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "SFMCP_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Public base URL of this server (`https://mcp.example.com`), used in OAuth metadata and
    /// the printed connection hints; defaults to `http://{listen}`.
    #[arg(long, env = "SFMCP_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How MCP clients authenticate: `oauth`, `direct` or `none`.
    #[arg(long, env = "SFMCP_AUTH", value_enum, default_value = "none")]
    pub auth: AuthMode,
    /// Allow `none` auth on a non-loopback listen address (anyone who can reach the port acts
    /// as the configured Salesforce user).
    #[arg(long, env = "SFMCP_FORCE_INSECURE_NONE")]
    pub force_insecure_none: bool,
    /// Salesforce login base URL (`https://login.salesforce.com`, `https://test.salesforce.com`
    /// or a My Domain URL).
    #[arg(long, env = "SALESFORCE_LOGIN_URL")]
    pub salesforce_login_url: Option<String>,
    /// Consumer key of the External Client App / Connected App.
    #[arg(long, env = "SALESFORCE_CLIENT_ID")]
    pub salesforce_client_id: Option<String>,
    /// Consumer secret of the app (client-credentials flow in `none` mode).
    #[arg(long, env = "SALESFORCE_CLIENT_SECRET", hide_env_values = true)]
    pub salesforce_client_secret: Option<SecretString>,
    /// OAuth callback URL registered in the app (`oauth` mode).
    #[arg(long, env = "SALESFORCE_CALLBACK_URL")]
    pub salesforce_callback_url: Option<String>,
    /// Salesforce REST API version (`65.0`).
    #[arg(long, env = "SALESFORCE_API_VERSION")]
    pub salesforce_api_version: Option<String>,
    /// Instance URL for a static access token (with SALESFORCE_ACCESS_TOKEN).
    #[arg(long, env = "SALESFORCE_INSTANCE_URL")]
    pub salesforce_instance_url: Option<String>,
    /// A Salesforce access token to use as is (development; it cannot be refreshed).
    #[arg(long, env = "SALESFORCE_ACCESS_TOKEN", hide_env_values = true)]
    pub salesforce_access_token: Option<SecretString>,
    /// Redis URL for sessions and token stores; absent means in-memory stores.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<SecretString>,
    /// Key encrypting stored tokens (32 bytes, base64); required in `oauth` mode.
    #[arg(long, env = "SFMCP_TOKEN_KEY", hide_env_values = true)]
    pub token_key: Option<SecretString>,
    /// Read-only mode: tools that change data are not offered.
    #[arg(long, env = "SFMCP_READ_ONLY")]
    pub read_only: bool,
    /// Browser origins allowed to call /mcp (comma-separated `scheme://host[:port]`); enables
    /// CORS for them.
    #[arg(long, env = "SFMCP_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Requests per second allowed per client (burst twice that); 429 above it.
    #[arg(long, env = "SFMCP_RATE_LIMIT", default_value_t = 20)]
    pub rate_limit: u32,
    /// Seconds a request may take before a 408 (tool calls included).
    #[arg(long, env = "SFMCP_REQUEST_TIMEOUT", default_value_t = 120)]
    pub request_timeout: u64,
    /// Seconds in-flight calls get to finish on SIGTERM/ctrl-c.
    #[arg(long, env = "SFMCP_SHUTDOWN_GRACE", default_value_t = 30)]
    pub shutdown_grace: u64,
    /// Seconds `getRecord` keeps a hot record (accounts, users) before reading it again; 0
    /// turns the cache off. Our writes and webhook events drop a record sooner.
    #[arg(long, env = "SFMCP_RECORD_CACHE_TTL", default_value_t = 60)]
    pub record_cache_ttl: u64,
    /// Serve MCP over stdin/stdout (Claude Desktop) instead of HTTP; logs go to stderr.
    #[arg(long)]
    pub stdio: bool,
    /// Prefix of every Redis key this server writes (several deployments can share one Redis).
    #[arg(long, env = "SFMCP_REDIS_PREFIX", default_value = followups::DEFAULT_KEY_PREFIX)]
    pub redis_prefix: String,
    /// Directory of the connection stored by `sfmcp-server login` when REDIS_URL is not set
    /// (default: `$XDG_CONFIG_HOME/sfmcp`, or `~/.config/sfmcp`).
    #[arg(long, env = "SFMCP_CONFIG_DIR")]
    pub config_dir: Option<PathBuf>,
    /// `direct` mode: accept only tokens of this org (15 or 18 characters).
    #[arg(long, env = "SALESFORCE_ORG_ID")]
    pub salesforce_org_id: Option<String>,
    /// A command instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands besides serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Log in to Salesforce in the browser and store the connection (encrypted with
    /// SFMCP_TOKEN_KEY, in Redis when REDIS_URL is set, otherwise in the config directory) for
    /// `sfmcp-server --stdio` and the local HTTP server.
    Login {
        /// Loopback port for Salesforce's redirect; the connected app's callback URL must be
        /// `http://127.0.0.1:PORT/callback` (Salesforce compares it exactly).
        #[arg(long, default_value_t = 8787)]
        port: u16,
        /// Print the login URL without trying to open a browser.
        #[arg(long)]
        no_browser: bool,
        /// Seconds to wait for the login to finish.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
}

/// Where the Salesforce connection comes from.
#[derive(Debug, Clone)]
pub enum SalesforceSource {
    /// The in-process sandbox with the demo dataset.
    Embedded,
    /// A fixed access token.
    Static {
        /// Instance URL.
        instance_url: String,
        /// The token.
        access_token: SecretString,
    },
    /// The client-credentials flow of an app.
    ClientCredentials {
        /// Login base URL.
        login_url: String,
        /// Consumer key.
        client_id: String,
        /// Consumer secret.
        client_secret: SecretString,
    },
    /// `oauth`: each user logs in at `login_url` through the app `client_id`.
    WebServerFlow {
        /// Login base URL.
        login_url: String,
        /// Consumer key.
        client_id: String,
        /// Consumer secret, when the app requires one.
        client_secret: Option<SecretString>,
        /// Our callback URL registered in the app.
        callback_url: String,
    },
    /// `direct`: clients bring Salesforce tokens issued at `login_url` for `instance_url`.
    Direct {
        /// The authorization server named in our metadata.
        login_url: String,
        /// Where tokens are validated and API calls go.
        instance_url: String,
    },
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Public base URL without a trailing slash, when configured.
    pub public_url: Option<String>,
    /// Salesforce connection.
    pub salesforce: SalesforceSource,
    /// API version, when configured.
    pub api_version: Option<salesforce_api::ApiVersion>,
    /// Read-only tools.
    pub read_only: bool,
    /// Allowed browser origins (empty: no CORS, non-browser clients only).
    pub allowed_origins: Vec<String>,
    /// Accept any `Host` header (non-loopback deployments behind a public name).
    pub any_host: bool,
    /// Per-client requests per second.
    pub rate_limit: u32,
    /// Request timeout.
    pub request_timeout: Duration,
    /// Shutdown grace period.
    pub shutdown_grace: Duration,
    /// How long `getRecord` keeps a hot record.
    pub record_cache_ttl: Duration,
    /// Serve over stdio.
    pub stdio: bool,
    /// How MCP clients authenticate.
    pub auth: AuthMode,
    /// Key sealing stored tokens, checked to be 32 bytes of base64.
    pub token_key: Option<SecretString>,
    /// Redis for every store, when configured.
    pub redis_url: Option<SecretString>,
    /// Prefix of our Redis keys.
    pub redis_prefix: String,
    /// Where `login` keeps its connection without Redis.
    pub config_dir: Option<PathBuf>,
    /// `direct` mode: the only org accepted.
    pub org_id: Option<String>,
    /// The command to run instead of serving.
    pub command: Option<Command>,
    /// `SALESFORCE_LOGIN_URL` as given (for `login`).
    pub login_url: Option<String>,
    /// `SALESFORCE_CLIENT_ID` as given (for `login`).
    pub client_id: Option<String>,
    /// `SALESFORCE_CLIENT_SECRET` as given (for `login`).
    pub client_secret: Option<SecretString>,
}

impl Settings {
    /// The file `sfmcp-server login` stores its connection in (without Redis).
    pub fn login_file(&self) -> Option<PathBuf> {
        let dir = self.config_dir.clone().or_else(|| {
            std::env::var_os("XDG_CONFIG_HOME")
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join("sfmcp"))
                .or_else(|| {
                    std::env::var_os("HOME")
                        .filter(|d| !d.is_empty())
                        .map(|h| PathBuf::from(h).join(".config").join("sfmcp"))
                })
        })?;
        Some(dir.join("connections.json"))
    }
}

/// What is wrong with a configuration, as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn bad(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

fn check_token_key(key: &SecretString) -> Result<(), ConfigError> {
    auth::crypto::EncryptionKey::from_base64(
        "k1",
        &auth::secret::KeyMaterial::new(key.expose_secret()),
    )
    .map(|_| ())
    .map_err(|_| {
        bad("SFMCP_TOKEN_KEY must be 32 random bytes in base64 (`openssl rand -base64 32`)")
    })
}

impl Args {
    /// Checks the combination and resolves the Salesforce source.
    pub fn settings(self) -> Result<Settings, ConfigError> {
        let public_url = self
            .public_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(bad(format!(
                "SFMCP_PUBLIC_URL `{url}` is not an http(s) URL"
            )));
        }
        if let Some(key) = &self.token_key {
            check_token_key(key)?;
        }
        if self.stdio && self.auth != AuthMode::None {
            return Err(bad(
                "--stdio serves one local user: use SFMCP_AUTH=none (with `sfmcp-server login`, a token or client credentials)",
            ));
        }
        let salesforce = match self.auth {
            // `login` reads only the app and the stores.
            _ if self.command.is_some() => SalesforceSource::Embedded,
            AuthMode::None => {
                if !self.stdio && !self.listen.ip().is_loopback() && !self.force_insecure_none {
                    return Err(bad(format!(
                        "SFMCP_AUTH=none on non-loopback address {} lets anyone reachable act as the Salesforce user; listen on 127.0.0.1, or set SFMCP_FORCE_INSECURE_NONE=true",
                        self.listen
                    )));
                }
                self.salesforce_source()?
            }
            AuthMode::Oauth => self.oauth_source(public_url.as_deref())?,
            AuthMode::Direct => self.direct_source(public_url.as_deref())?,
        };
        let api_version = self
            .salesforce_api_version
            .as_deref()
            .map(|v| {
                salesforce_api::ApiVersion::parse(v).map_err(|_| {
                    bad(format!(
                        "SALESFORCE_API_VERSION `{v}` is not a version like 65.0"
                    ))
                })
            })
            .transpose()?;
        if self.rate_limit == 0 {
            return Err(bad("SFMCP_RATE_LIMIT must be at least 1"));
        }
        for origin in &self.allowed_origins {
            if !(origin.starts_with("https://") || origin.starts_with("http://"))
                || origin.ends_with('/')
            {
                return Err(bad(format!(
                    "SFMCP_ALLOWED_ORIGINS entry `{origin}` is not an origin like https://chatgpt.com"
                )));
            }
        }
        Ok(Settings {
            listen: self.listen,
            any_host: !self.listen.ip().is_loopback(),
            public_url,
            salesforce,
            api_version,
            read_only: self.read_only,
            allowed_origins: self.allowed_origins,
            rate_limit: self.rate_limit,
            request_timeout: Duration::from_secs(self.request_timeout.max(1)),
            shutdown_grace: Duration::from_secs(self.shutdown_grace),
            record_cache_ttl: Duration::from_secs(self.record_cache_ttl),
            stdio: self.stdio,
            auth: self.auth,
            token_key: self.token_key,
            redis_url: self.redis_url,
            redis_prefix: self.redis_prefix,
            config_dir: self.config_dir,
            org_id: self.salesforce_org_id,
            command: self.command,
            login_url: self.salesforce_login_url,
            client_id: self.salesforce_client_id,
            client_secret: self.salesforce_client_secret,
        })
    }

    fn refuse_static_token(&self, mode: &str) -> Result<(), ConfigError> {
        if self.salesforce_access_token.is_some() {
            return Err(bad(format!(
                "SALESFORCE_ACCESS_TOKEN is only used by SFMCP_AUTH=none; SFMCP_AUTH={mode} gets each user's token from their login"
            )));
        }
        Ok(())
    }

    /// `oauth`: the app users log in through, or the embedded sandbox when none is configured.
    fn oauth_source(&self, public_url: Option<&str>) -> Result<SalesforceSource, ConfigError> {
        self.refuse_static_token("oauth")?;
        if self.token_key.is_none() {
            return Err(bad(
                "SFMCP_AUTH=oauth needs SFMCP_TOKEN_KEY (32 random bytes, base64: `openssl rand -base64 32`) to encrypt stored tokens",
            ));
        }
        let Some(login_url) = self.salesforce_login_url.clone() else {
            if self.salesforce_client_id.is_some() {
                return Err(bad(
                    "SFMCP_AUTH=oauth needs SALESFORCE_LOGIN_URL with SALESFORCE_CLIENT_ID (https://login.salesforce.com, https://test.salesforce.com or your My Domain)",
                ));
            }
            // No Salesforce configured: users log in at the embedded demo org.
            return Ok(SalesforceSource::Embedded);
        };
        let Some(client_id) = self.salesforce_client_id.clone() else {
            return Err(bad(
                "SFMCP_AUTH=oauth needs SALESFORCE_CLIENT_ID (the consumer key of your External Client App)",
            ));
        };
        let Some(public_url) = public_url else {
            return Err(bad(
                "SFMCP_AUTH=oauth needs SFMCP_PUBLIC_URL (the https URL MCP clients reach this server at)",
            ));
        };
        auth::mcp_auth::McpAuthConfig::new(public_url, &format!("{public_url}/mcp")).map_err(
            |_| {
                bad(format!(
                    "SFMCP_PUBLIC_URL `{public_url}` must be https (http only on loopback) without query or fragment"
                ))
            },
        )?;
        auth::salesforce::LoginHost::parse(&login_url).map_err(|_| {
            bad(format!(
                "SALESFORCE_LOGIN_URL `{login_url}` must be an https base URL without a path"
            ))
        })?;
        let callback_url = self
            .salesforce_callback_url
            .clone()
            .unwrap_or_else(|| format!("{public_url}/oauth/salesforce/callback"));
        if url::Url::parse(&callback_url).is_err() {
            return Err(bad(format!(
                "SALESFORCE_CALLBACK_URL `{callback_url}` is not a URL"
            )));
        }
        Ok(SalesforceSource::WebServerFlow {
            login_url,
            client_id,
            client_secret: self.salesforce_client_secret.clone(),
            callback_url,
        })
    }

    /// `direct`: the Salesforce login host named as authorization server, or the embedded sandbox.
    fn direct_source(&self, public_url: Option<&str>) -> Result<SalesforceSource, ConfigError> {
        self.refuse_static_token("direct")?;
        let Some(login_url) = self.salesforce_login_url.clone() else {
            return Ok(SalesforceSource::Embedded);
        };
        let Some(public_url) = public_url else {
            return Err(bad(
                "SFMCP_AUTH=direct needs SFMCP_PUBLIC_URL (the https URL MCP clients reach this server at)",
            ));
        };
        let instance_url = self
            .salesforce_instance_url
            .clone()
            .unwrap_or_else(|| login_url.clone());
        auth::modes::direct::DirectConfig::new(
            &format!("{public_url}/mcp"),
            &login_url,
            &instance_url,
        )
        .map_err(|e| bad(format!("SFMCP_AUTH=direct: {e}")))?;
        Ok(SalesforceSource::Direct {
            login_url,
            instance_url,
        })
    }

    fn salesforce_source(&self) -> Result<SalesforceSource, ConfigError> {
        match (&self.salesforce_instance_url, &self.salesforce_access_token) {
            (Some(instance_url), Some(token)) => {
                return Ok(SalesforceSource::Static {
                    instance_url: instance_url.clone(),
                    access_token: token.clone(),
                });
            }
            (Some(_), None) => {
                return Err(bad(
                    "SALESFORCE_INSTANCE_URL is set without SALESFORCE_ACCESS_TOKEN",
                ));
            }
            (None, Some(_)) => {
                return Err(bad(
                    "SALESFORCE_ACCESS_TOKEN is set without SALESFORCE_INSTANCE_URL",
                ));
            }
            (None, None) => {}
        }
        match (
            &self.salesforce_login_url,
            &self.salesforce_client_id,
            &self.salesforce_client_secret,
        ) {
            (None, None, None) => Ok(SalesforceSource::Embedded),
            (login, Some(client_id), Some(secret)) => Ok(SalesforceSource::ClientCredentials {
                login_url: login
                    .clone()
                    .unwrap_or_else(|| "https://login.salesforce.com".to_owned()),
                client_id: client_id.clone(),
                client_secret: secret.clone(),
            }),
            (_, None, _) => Err(bad(
                "SALESFORCE_CLIENT_ID is missing (SFMCP_AUTH=none connects with the client-credentials flow of your app)",
            )),
            (_, Some(_), None) => Err(bad(
                "SALESFORCE_CLIENT_SECRET is missing (SFMCP_AUTH=none connects with the client-credentials flow of your app)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, ConfigError> {
        let mut all = vec!["sfmcp-server"];
        all.extend_from_slice(args);
        Args::try_parse_from(all).unwrap().settings()
    }

    #[test]
    fn no_configuration_is_the_embedded_demo_on_loopback() {
        let settings = parse(&[]).unwrap();
        assert!(matches!(settings.salesforce, SalesforceSource::Embedded));
        assert_eq!(settings.listen.to_string(), "127.0.0.1:3000");
        assert!(!settings.any_host);
    }

    #[test]
    fn bad_combinations_are_one_clear_line() {
        let cases: [(&[&str], &str); 6] = [
            (&["--auth", "oauth"], "needs SFMCP_TOKEN_KEY"),
            (&["--listen", "0.0.0.0:3000"], "non-loopback"),
            (
                &["--salesforce-client-id", "x"],
                "SALESFORCE_CLIENT_SECRET is missing",
            ),
            (
                &["--salesforce-access-token", "x"],
                "without SALESFORCE_INSTANCE_URL",
            ),
            (&["--salesforce-api-version", "v65"], "not a version"),
            (&["--allowed-origins", "chatgpt.com"], "not an origin"),
        ];
        for (args, expected) in cases {
            let error = parse(args).unwrap_err().to_string();
            assert!(error.contains(expected), "{args:?}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn oauth_and_direct_name_what_they_miss_in_one_line() {
        let key = "c2ZtY3AtZTJlLXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc=";
        let cases: [(&[&str], &str); 6] = [
            (
                &["--auth", "oauth", "--token-key", "short"],
                "SFMCP_TOKEN_KEY must be 32 random bytes",
            ),
            (
                &[
                    "--auth",
                    "oauth",
                    "--token-key",
                    key,
                    "--salesforce-client-id",
                    "x",
                ],
                "needs SALESFORCE_LOGIN_URL",
            ),
            (
                &[
                    "--auth",
                    "oauth",
                    "--token-key",
                    key,
                    "--salesforce-login-url",
                    "https://login.salesforce.com",
                ],
                "needs SALESFORCE_CLIENT_ID",
            ),
            (
                &[
                    "--auth",
                    "oauth",
                    "--token-key",
                    key,
                    "--salesforce-login-url",
                    "https://login.salesforce.com",
                    "--salesforce-client-id",
                    "x",
                ],
                "needs SFMCP_PUBLIC_URL",
            ),
            (
                &[
                    "--auth",
                    "direct",
                    "--salesforce-login-url",
                    "https://login.salesforce.com",
                ],
                "needs SFMCP_PUBLIC_URL",
            ),
            (
                &["--auth", "oauth", "--token-key", key, "--stdio"],
                "--stdio serves one local user",
            ),
        ];
        for (args, expected) in cases {
            let error = parse(args).unwrap_err().to_string();
            assert!(error.contains(expected), "{args:?}: {error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }

    #[test]
    fn oauth_derives_the_callback_from_the_public_url() {
        let settings = parse(&[
            "--auth",
            "oauth",
            "--listen",
            "0.0.0.0:3000",
            "--token-key",
            "c2ZtY3AtZTJlLXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc=",
            "--salesforce-login-url",
            "https://acme.my.salesforce.com",
            "--salesforce-client-id",
            "key",
            "--public-url",
            "https://mcp.example.com/",
        ])
        .unwrap();
        let SalesforceSource::WebServerFlow { callback_url, .. } = settings.salesforce else {
            panic!("expected the web-server flow");
        };
        assert_eq!(
            callback_url,
            "https://mcp.example.com/oauth/salesforce/callback"
        );
        // Without Salesforce configuration, users log in at the embedded demo org.
        let demo = parse(&[
            "--auth",
            "oauth",
            "--token-key",
            "c2ZtY3AtZTJlLXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc=",
        ])
        .unwrap();
        assert!(matches!(demo.salesforce, SalesforceSource::Embedded));
    }

    #[test]
    fn forcing_allows_none_on_a_public_address() {
        let settings = parse(&["--listen", "0.0.0.0:3000", "--force-insecure-none"]).unwrap();
        assert!(settings.any_host);
    }

    #[test]
    fn client_credentials_default_to_production_login() {
        let settings = parse(&[
            "--salesforce-client-id",
            "id",
            "--salesforce-client-secret",
            "secret",
        ])
        .unwrap();
        let SalesforceSource::ClientCredentials { login_url, .. } = settings.salesforce else {
            panic!("expected client credentials");
        };
        assert_eq!(login_url, "https://login.salesforce.com");
    }
}
