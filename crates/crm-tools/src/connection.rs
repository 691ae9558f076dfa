//! How tools reach Salesforce: the server implements [`Connections`] to hand each call a
//! [`Connection`] (a client and its instance URL) for the calling principal and, optionally, one
//! of their orgs. This crate never sees tokens or knows how they were obtained.

use futures::future::BoxFuture;
use mcp_protocol::ToolContext;
use std::sync::Arc;

use salesforce_api::{Client, DescribeCache};

use crate::{Error, RecordCache};

/// One org connection for one call.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The client, already carrying the principal's access.
    pub client: Client,
    /// The org's instance URL without a trailing slash (`https://acme.my.salesforce.com`), used
    /// for links such as `{instance}/lightning/r/Lead/00Q…/view`.
    pub instance_url: String,
    /// Describe results for this connection. Describes differ between orgs and, through field
    /// permissions, between users: share one cache per (principal, org), never across them.
    pub describe_cache: Arc<DescribeCache>,
    /// Hot reference records (accounts, users) read by `getRecord`; per (principal, org) like
    /// the describe cache. Keep the `Arc` to invalidate entries on webhook events.
    pub record_cache: Arc<RecordCache>,
}

impl Connection {
    /// A connection to the org at `instance_url` (a trailing `/` is dropped), with a cache of its
    /// own.
    pub fn new(client: Client, instance_url: &str) -> Self {
        Connection {
            client,
            instance_url: instance_url.trim_end_matches('/').to_owned(),
            describe_cache: Arc::new(DescribeCache::default()),
            record_cache: Arc::new(RecordCache::default()),
        }
    }

    /// The same connection using `cache` for hot records, kept by the caller for this
    /// (principal, org) across calls.
    pub fn with_record_cache(mut self, cache: Arc<RecordCache>) -> Self {
        self.record_cache = cache;
        self
    }

    /// The same connection using `cache`, kept by the caller for this (principal, org) across
    /// calls.
    pub fn with_describe_cache(mut self, cache: Arc<DescribeCache>) -> Self {
        self.describe_cache = cache;
        self
    }

    /// The record's Lightning Experience URL.
    pub fn record_url(&self, object: &str, id: &str) -> String {
        format!("{}/lightning/r/{object}/{id}/view", self.instance_url)
    }
}

/// Supplies a [`Connection`] for the principal behind a tool call. The server implements it (from
/// its authenticated request context and token store); tests use [`SingleConnection`].
///
/// The principal must be recoverable from `cx`: the server's transport puts the authenticated
/// caller into the request context `mcp-protocol` hands to handlers.
pub trait Connections: Send + Sync + 'static {
    /// The connection for this call. `org` is the optional org name or id the model passed;
    /// `None` means the principal's default org.
    ///
    /// Return [`Error::NotConnected`] (with `reauthorize: true` when only the user can fix it) or
    /// [`Error::NotFound`] for an unknown org.
    fn connect<'a>(
        &'a self,
        cx: &'a ToolContext,
        org: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Connection, Error>>;

    /// Who the call runs for, as the audit log names them (a principal id, never a token).
    /// `None` (the default) logs `-`.
    fn principal(&self, _cx: &ToolContext) -> Option<String> {
        None
    }
}

/// One fixed connection for every call (single-user deployments, stdio, tests). A call naming an
/// `org` is refused, since there is only one.
#[derive(Debug, Clone)]
pub struct SingleConnection(pub Connection);

impl Connections for SingleConnection {
    fn connect<'a>(
        &'a self,
        _cx: &'a ToolContext,
        org: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Connection, Error>> {
        Box::pin(async move {
            match org {
                None => Ok(self.0.clone()),
                Some(org) => Err(Error::NotFound(format!(
                    "unknown org `{}`: this server has a single Salesforce connection; call the tool without `org`",
                    org.chars().take(80).collect::<String>()
                ))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesforce_api::{Access, StaticAccess};

    #[tokio::test]
    async fn a_single_connection_serves_calls_without_an_org_only() {
        let access = Access::new("https://acme.my.salesforce.com", "t".to_owned().into()).unwrap();
        let client = Client::builder(StaticAccess::new(access)).build().unwrap();
        let single = SingleConnection(Connection::new(client, "https://acme.my.salesforce.com/"));
        let cx = ToolContext::detached();
        let connection = single.connect(&cx, None).await.unwrap();
        assert_eq!(
            connection.record_url("Lead", "00Q000000000001AAA"),
            "https://acme.my.salesforce.com/lightning/r/Lead/00Q000000000001AAA/view"
        );
        let refused = single.connect(&cx, Some("other-org")).await.unwrap_err();
        assert!(matches!(refused, Error::NotFound(_)), "{refused}");
        assert!(refused.to_string().contains("without `org`"));
    }
}
