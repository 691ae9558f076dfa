//! Where state lives. Without `REDIS_URL` everything is in memory (one replica); with it the
//! token store, the OAuth stores (pending flows, codes, clients, refresh tokens) and the MCP
//! session store all live in Redis under `SFMCP_REDIS_PREFIX`, so replicas share them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use auth::crypto::{EncryptionKey, Keyring};
use auth::secret::KeyMaterial;
use auth::store::Store;
use auth::store::redis::RedisBackend;
use mcp_protocol::{InMemorySessionStore, RedisSessionStore, SessionStore};
use secrecy::ExposeSecret as _;

use crate::config::Settings;

/// How long an idle legacy MCP session is kept.
const SESSION_TTL: Duration = Duration::from_secs(60 * 60);

/// The stores of one server.
pub struct Stores {
    /// The Redis pool, when configured.
    pub redis: Option<deadpool_redis::Pool>,
    /// MCP sessions.
    pub sessions: Arc<dyn SessionStore>,
    prefix: String,
}

impl Stores {
    /// Opens the configured stores (no connection is made yet: pools connect on first use).
    pub fn open(settings: &Settings) -> anyhow::Result<Self> {
        let Some(url) = &settings.redis_url else {
            return Ok(Self {
                redis: None,
                sessions: Arc::new(InMemorySessionStore::new(SESSION_TTL)),
                prefix: settings.redis_prefix.clone(),
            });
        };
        let pool = deadpool_redis::Config::from_url(url.expose_secret())
            .create_pool(Some(deadpool_redis::Runtime::Tokio1))
            .map_err(|_| anyhow::anyhow!("REDIS_URL is not a usable Redis URL"))?;
        let sessions = RedisSessionStore::new(
            pool.clone(),
            format!("{}session:", settings.redis_prefix),
            SESSION_TTL,
        );
        Ok(Self {
            redis: Some(pool),
            sessions: Arc::new(sessions),
            prefix: settings.redis_prefix.clone(),
        })
    }

    /// The token and OAuth store: in Redis when configured, otherwise in memory.
    pub fn auth_store(&self, keyring: Arc<Keyring>) -> Store {
        match &self.redis {
            Some(pool) => Store::new(
                Arc::new(RedisBackend::from_pool(
                    pool.clone(),
                    &format!("{}auth:", self.prefix),
                )),
                keyring,
            ),
            None => Store::memory(keyring),
        }
    }

    /// `PING` answered by Redis within 2 s (readiness); `Ok` without Redis.
    pub async fn ping(&self) -> Result<(), String> {
        let Some(pool) = &self.redis else {
            return Ok(());
        };
        let ping = async {
            let mut connection = pool.get().await.map_err(|e| e.to_string())?;
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(Duration::from_secs(2), ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("redis: {e}")),
            Err(_) => Err("redis: no answer within 2 s".to_owned()),
        }
    }
}

/// The keyring of `SFMCP_TOKEN_KEY` (checked by the configuration), if set.
pub fn keyring(settings: &Settings) -> anyhow::Result<Option<Arc<Keyring>>> {
    settings
        .token_key
        .as_ref()
        .map(|key| {
            EncryptionKey::from_base64("k1", &KeyMaterial::new(key.expose_secret()))
                .map(|key| Arc::new(Keyring::new(key)))
                .context("SFMCP_TOKEN_KEY")
        })
        .transpose()
}
