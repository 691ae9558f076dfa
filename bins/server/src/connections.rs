//! Which Salesforce connection serves a tool call (`crm_tools::Connections`), per auth mode:
//!
//! - [`StoredConnections`] (`oauth`, and a connection stored by `sfmcp-server login`): the
//!   principal the bearer layer attached (or the fixed local one) names connections in the token
//!   store, keyed by (principal, org id); the optional `org` argument picks among several. Access
//!   tokens come from `auth`'s `TokenManager` (single-flight refresh); a connection that needs
//!   re-authorization is a clear tool error. One `salesforce_api::Client` and one describe cache
//!   per (principal, org), kept between calls. The MCP client's own token never gets here.
//! - [`DirectConnections`] (`direct`): the Salesforce token the caller presented, validated by
//!   `auth`'s direct layer, for its own calls; describe caches per (principal, org).
//!
//! Record caches come from the server's [`RecordCaches`], per (principal, org), so that webhook
//! events of an org reach the caches of that org.
//! - `SingleConnection` (`none` with a static token, client credentials or the embedded demo).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use auth::mcp_auth::bearer::AuthenticatedPrincipal;
use auth::modes::direct::SalesforcePrincipal;
use auth::refresh::{FreshToken, TokenManager};
use auth::secret::AccessToken;
use auth::store::{ConnectionKey, TokenStore};
use crm_tools::{Connection, Connections, Error, RecordCaches, SingleConnection};
use futures::future::BoxFuture;
use mcp_protocol::ToolContext;
use salesforce_api::{
    Access, AccessProvider, ApiUsage, ApiVersion, CircuitBreaker, Client, DescribeCache,
    StaticAccess,
};
use secrecy::SecretString;

/// The most (principal, org) entries kept; past it the cache starts again empty.
const MAX_CACHED: usize = 10_000;

/// What every client built here shares: one HTTP pool, the org's API usage and breaker.
#[derive(Clone)]
pub struct ClientParts {
    /// The pooled HTTP client.
    pub http: reqwest::Client,
    /// API usage as Salesforce reports it.
    pub usage: Arc<ApiUsage>,
    /// The circuit breaker.
    pub breaker: Arc<CircuitBreaker>,
    /// The REST API version, when configured.
    pub api_version: Option<ApiVersion>,
}

impl ClientParts {
    /// A client over `access` sharing these parts.
    pub fn client(&self, access: Arc<dyn AccessProvider>) -> Result<Client, salesforce_api::Error> {
        let mut builder = Client::builder(access)
            .http_client(self.http.clone())
            .usage(self.usage.clone())
            .circuit_breaker(self.breaker.clone());
        if let Some(version) = &self.api_version {
            builder = builder.api_version(version.clone());
        }
        builder.build()
    }
}

/// The server's connections, whichever the mode.
pub enum ServerConnections {
    /// One fixed connection.
    Single(SingleConnection),
    /// From the token store.
    Stored(StoredConnections),
    /// The caller's own Salesforce token.
    Direct(DirectConnections),
}

impl Connections for ServerConnections {
    fn connect<'a>(
        &'a self,
        cx: &'a ToolContext,
        org: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Connection, Error>> {
        match self {
            ServerConnections::Single(single) => single.connect(cx, org),
            ServerConnections::Stored(stored) => Box::pin(stored.connect(cx, org)),
            ServerConnections::Direct(direct) => Box::pin(async move { direct.connect(cx, org) }),
        }
    }

    fn principal(&self, cx: &ToolContext) -> Option<String> {
        match self {
            ServerConnections::Single(_) => None,
            ServerConnections::Stored(stored) => stored.fixed_principal.clone().or_else(|| {
                cx.extensions()
                    .get::<AuthenticatedPrincipal>()
                    .map(|p| p.principal.clone())
            }),
            ServerConnections::Direct(_) => cx
                .extensions()
                .get::<SalesforcePrincipal>()
                .map(|p| p.principal.clone()),
        }
    }
}

/// Connections from the token store (see the module documentation).
pub struct StoredConnections {
    store: Arc<dyn TokenStore>,
    tokens: TokenManager,
    /// The principal of every call (a stored command-line login), instead of the request's.
    fixed_principal: Option<String>,
    parts: ClientParts,
    cache: Mutex<HashMap<ConnectionKey, Connection>>,
    records: Arc<RecordCaches>,
}

fn not_connected(reason: impl Into<String>, reauthorize: bool) -> Error {
    Error::NotConnected {
        reason: reason.into(),
        reauthorize,
    }
}

/// Org ids compare on their case-sensitive 15-character form.
fn same_org(a: &str, b: &str) -> bool {
    match (a.get(..15), b.get(..15)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Whether `wanted` (an org id, or the first label of the instance host such as `acme`) names
/// the connection `key` at `instance_url`.
fn names_org(wanted: &str, key: &ConnectionKey, instance_url: &str) -> bool {
    if same_org(wanted, key.org_id()) {
        return true;
    }
    let host = url::Url::parse(instance_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    !wanted.is_empty()
        && (host.eq_ignore_ascii_case(wanted)
            || host
                .split('.')
                .next()
                .is_some_and(|label| label.eq_ignore_ascii_case(wanted)))
}

fn org_list(connections: &[(ConnectionKey, String)]) -> String {
    connections
        .iter()
        .map(|(key, instance)| format!("{} ({instance})", key.org_id()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn short(text: &str) -> String {
    text.chars().take(80).collect()
}

impl StoredConnections {
    /// Connections of the request's principal (`fixed_principal: None`) or of one fixed principal,
    /// their record caches in `records`.
    pub fn new(
        store: Arc<dyn TokenStore>,
        tokens: TokenManager,
        fixed_principal: Option<String>,
        parts: ClientParts,
        records: Arc<RecordCaches>,
    ) -> Self {
        Self {
            store,
            tokens,
            fixed_principal,
            parts,
            cache: Mutex::new(HashMap::new()),
            records,
        }
    }

    async fn connect(&self, cx: &ToolContext, org: Option<&str>) -> Result<Connection, Error> {
        let principal = match &self.fixed_principal {
            Some(fixed) => fixed.clone(),
            None => cx
                .extensions()
                .get::<AuthenticatedPrincipal>()
                .map(|p| p.principal.clone())
                .ok_or_else(|| not_connected("the request carries no signed-in user", true))?,
        };
        let granted_org = cx
            .extensions()
            .get::<AuthenticatedPrincipal>()
            .and_then(|p| p.org_id.clone());
        let key = self.choose(&principal, granted_org, org).await?;
        let fresh = self.tokens.access_token(&key).await.map_err(|e| match e {
            auth::Error::ReauthorizationRequired | auth::Error::NotFound => {
                not_connected("Salesforce no longer accepts this user's login", true)
            }
            other => {
                tracing::warn!(connection = %key.label(), error = %other, "no Salesforce token");
                not_connected("the Salesforce token could not be renewed", false)
            }
        })?;
        self.connection(key, &fresh)
    }

    /// The connection a call means: the `org` it names, else the org of the grant, else the
    /// principal's only one.
    async fn choose(
        &self,
        principal: &str,
        granted_org: Option<String>,
        org: Option<&str>,
    ) -> Result<ConnectionKey, Error> {
        if org.is_none()
            && let Some(granted) = granted_org
        {
            return ConnectionKey::new(principal, &granted)
                .map_err(|_| not_connected("the grant names no valid org", true));
        }
        let listed: Vec<(ConnectionKey, String)> = self
            .store
            .list(principal)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "token store unavailable");
                not_connected("the token store is unavailable", false)
            })?
            .into_iter()
            .map(|(key, stored)| (key, stored.connection.instance_url))
            .collect();
        match org {
            Some(wanted) => listed
                .iter()
                .find(|(key, instance)| names_org(wanted, key, instance))
                .map(|(key, _)| key.clone())
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "unknown org `{}`: this user is connected to {}; pass one of those org ids as `org`, or leave it out",
                        short(wanted),
                        if listed.is_empty() { "no org".to_owned() } else { org_list(&listed) }
                    ))
                }),
            None => match listed.as_slice() {
                [] => Err(not_connected("this user has not connected a Salesforce org", true)),
                [(key, _)] => Ok(key.clone()),
                _ => Err(Error::invalid(format!(
                    "this user is connected to several orgs: {}; pass the org id as `org`",
                    org_list(&listed)
                ))),
            },
        }
    }

    fn connection(&self, key: ConnectionKey, fresh: &FreshToken) -> Result<Connection, Error> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(connection) = cache.get(&key)
            && connection.instance_url == fresh.instance_url.trim_end_matches('/')
        {
            return Ok(connection.clone());
        }
        let access = Arc::new(ManagedAccess {
            tokens: self.tokens.clone(),
            key: key.clone(),
            last: Mutex::new(None),
        });
        let client = self.parts.client(access)?;
        let describe = cache
            .get(&key)
            .map(|c| c.describe_cache.clone())
            .unwrap_or_else(|| Arc::new(DescribeCache::default()));
        let records = self.records.cache(key.principal(), Some(key.org_id()));
        let connection = Connection::new(client, &fresh.instance_url)
            .with_describe_cache(describe)
            .with_record_cache(records);
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(key, connection.clone());
        Ok(connection)
    }
}

/// `salesforce-api`'s access over `auth`'s token manager for one connection.
struct ManagedAccess {
    tokens: TokenManager,
    key: ConnectionKey,
    /// The last token handed out, to name it when Salesforce rejects it.
    last: Mutex<Option<(Access, AccessToken)>>,
}

fn access_error(error: &auth::Error) -> salesforce_api::Error {
    let reauthorize = matches!(
        error,
        auth::Error::ReauthorizationRequired | auth::Error::NotFound
    );
    salesforce_api::Error::Access {
        reason: if reauthorize {
            "the user must sign in to Salesforce again".to_owned()
        } else {
            format!("the token could not be renewed: {error}")
        },
        reauthorize,
    }
}

impl ManagedAccess {
    fn remember(&self, fresh: FreshToken) -> Result<Access, salesforce_api::Error> {
        let access = Access::new(
            &fresh.instance_url,
            SecretString::from(fresh.access_token.secret()),
        )?;
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((access.clone(), fresh.access_token));
        Ok(access)
    }
}

impl AccessProvider for ManagedAccess {
    fn current(&self) -> BoxFuture<'_, Result<Access, salesforce_api::Error>> {
        Box::pin(async move {
            let fresh = self
                .tokens
                .access_token(&self.key)
                .await
                .map_err(|e| access_error(&e))?;
            self.remember(fresh)
        })
    }

    fn refresh<'a>(
        &'a self,
        rejected: &'a Access,
    ) -> BoxFuture<'a, Result<Access, salesforce_api::Error>> {
        Box::pin(async move {
            let rejected_token = self
                .last
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .filter(|(access, _)| access.same_token(rejected))
                .map(|(_, token)| token.clone());
            let fresh = match rejected_token {
                Some(token) => self.tokens.refresh_after_rejection(&self.key, &token).await,
                // An older token was rejected: the current one is already another.
                None => self.tokens.access_token(&self.key).await,
            }
            .map_err(|e| access_error(&e))?;
            self.remember(fresh)
        })
    }
}

/// `direct` mode: the caller's validated Salesforce token serves its own calls.
pub struct DirectConnections {
    parts: ClientParts,
    describe: Mutex<HashMap<(String, String), Arc<DescribeCache>>>,
    records: Arc<RecordCaches>,
}

impl DirectConnections {
    /// Connections building clients from `parts`, their record caches in `records`.
    pub fn new(parts: ClientParts, records: Arc<RecordCaches>) -> Self {
        Self {
            parts,
            describe: Mutex::new(HashMap::new()),
            records,
        }
    }

    fn connect(&self, cx: &ToolContext, org: Option<&str>) -> Result<Connection, Error> {
        let caller = cx
            .extensions()
            .get::<SalesforcePrincipal>()
            .ok_or_else(|| not_connected("the request carries no Salesforce token", true))?;
        if let Some(wanted) = org
            && !names_org_of_direct(wanted, caller)
        {
            return Err(Error::NotFound(format!(
                "unknown org `{}`: this token is for org {}; leave `org` out",
                short(wanted),
                caller.org_id
            )));
        }
        let access = Access::new(
            &caller.instance_url,
            SecretString::from(caller.access_token.secret()),
        )?;
        // No refresh here: when Salesforce refuses the token the client must get a new one.
        let client = self.parts.client(StaticAccess::new(access))?;
        let describe = {
            let mut caches = self.describe.lock().unwrap_or_else(|e| e.into_inner());
            if caches.len() >= MAX_CACHED {
                caches.clear();
            }
            caches
                .entry((caller.principal.clone(), caller.org_id.clone()))
                .or_default()
                .clone()
        };
        let records = self.records.cache(&caller.principal, Some(&caller.org_id));
        Ok(Connection::new(client, &caller.instance_url)
            .with_describe_cache(describe)
            .with_record_cache(records))
    }
}

fn names_org_of_direct(wanted: &str, caller: &SalesforcePrincipal) -> bool {
    same_org(wanted, &caller.org_id)
        || ConnectionKey::new(&caller.principal, &caller.org_id)
            .is_ok_and(|key| names_org(wanted, &key, &caller.instance_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_org_is_named_by_id_or_instance_label() {
        let key = ConnectionKey::new("sf:005000000000001AAA", "00D000000000001EAA").unwrap();
        let instance = "https://acme.my.salesforce.com";
        assert!(names_org("00D000000000001", &key, instance));
        assert!(names_org("00D000000000001EAA", &key, instance));
        assert!(names_org("ACME", &key, instance));
        assert!(names_org("acme.my.salesforce.com", &key, instance));
        assert!(!names_org("00D000000000002", &key, instance));
        assert!(!names_org("acm", &key, instance));
        assert!(!names_org("", &key, instance));
        assert!(!names_org("' OR Id != null", &key, instance));
    }
}
