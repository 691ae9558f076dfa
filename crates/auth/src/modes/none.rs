//! Mode `none`: loopback development with one pre-configured Salesforce connection and no
//! authentication of MCP callers. Everyone who can reach the port acts as that connection, so
//! [`check_bind_address`] refuses anything but a loopback address unless the operator forces it.
//!
//! The connection is stored under the principal [`LOCAL_PRINCIPAL`] like any other, so the rest
//! of the server (the [`crate::refresh::TokenManager`], the tools) works unchanged; the server
//! attaches [`local_principal`] to each request instead of running the bearer layer.

use std::net::SocketAddr;

use crate::mcp_auth::bearer::AuthenticatedPrincipal;
use crate::salesforce::{SalesforceOAuthClient, SalesforceTokens};
use crate::secret::AccessToken;
use crate::store::{Connection, ConnectionKey, ConnectionStatus, TokenStore};
use crate::{Error, Result};

/// The principal of the single connection.
pub const LOCAL_PRINCIPAL: &str = "local";

/// Where the single connection comes from.
#[derive(Debug, Clone)]
pub enum StaticCredentials {
    /// A fixed access token for an instance (development). It cannot be renewed: when
    /// Salesforce stops accepting it, configure a new one.
    AccessToken {
        /// `https://acme.my.salesforce.com`.
        instance_url: String,
        /// The token.
        access_token: AccessToken,
    },
    /// The client-credentials flow of the [`SalesforceOAuthClient`] (consumer secret and a My
    /// Domain login host); renewed by running the flow again.
    ClientCredentials,
}

/// Refuses a non-loopback `addr` unless `force` is set: in mode `none` anyone who reaches the
/// port uses the configured Salesforce connection.
pub fn check_bind_address(addr: SocketAddr, force: bool) -> Result<()> {
    if addr.ip().is_loopback() || force {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "auth mode `none` serves without authentication: refusing to bind {addr}, which is \
             not a loopback address (bind 127.0.0.1 or ::1, or force it explicitly)"
        )))
    }
}

/// Obtains the connection described by `credentials` and stores it under
/// ([`LOCAL_PRINCIPAL`], org id). A static token is checked (and its org and user found) with
/// `userinfo`; client credentials are exchanged at the login host. The key to use afterwards.
pub async fn provision_connection(
    store: &dyn TokenStore,
    salesforce: &SalesforceOAuthClient,
    credentials: &StaticCredentials,
    now_ms: u64,
) -> Result<ConnectionKey> {
    let (connection, org_id) = match credentials {
        StaticCredentials::AccessToken {
            instance_url,
            access_token,
        } => {
            let user = salesforce.userinfo(instance_url, access_token).await?;
            let connection = Connection {
                instance_url: instance_url.trim_end_matches('/').to_owned(),
                access_token: access_token.clone(),
                refresh_token: None,
                issued_at_ms: now_ms,
                scope: String::new(),
                id_url: user.sub,
                user_id: user.user_id,
                status: ConnectionStatus::Active,
            };
            (connection, user.organization_id)
        }
        StaticCredentials::ClientCredentials => {
            let tokens: SalesforceTokens = salesforce.client_credentials().await?;
            let org_id = tokens.org_id.clone();
            let connection = Connection {
                instance_url: tokens.instance_url,
                access_token: tokens.access_token,
                refresh_token: None,
                issued_at_ms: tokens.issued_at_ms,
                scope: tokens.scope,
                id_url: tokens.id_url,
                user_id: tokens.user_id,
                status: ConnectionStatus::Active,
            };
            (connection, org_id)
        }
    };
    let key = ConnectionKey::new(LOCAL_PRINCIPAL, &org_id)?;
    store.upsert(&key, &connection).await?;
    tracing::info!(connection = %key.label(), "local Salesforce connection provisioned");
    Ok(key)
}

/// The principal the server attaches to every request in mode `none`.
pub fn local_principal(key: &ConnectionKey) -> AuthenticatedPrincipal {
    AuthenticatedPrincipal {
        principal: key.principal().to_owned(),
        org_id: Some(key.org_id().to_owned()),
        client_id: "local".into(),
        scopes: vec!["mcp".into()],
        expires_at_ms: u64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_binds_unless_forced() {
        for ok in ["127.0.0.1:8080", "127.8.9.1:1", "[::1]:8080"] {
            assert!(
                check_bind_address(ok.parse().unwrap(), false).is_ok(),
                "{ok}"
            );
        }
        for refused in [
            "0.0.0.0:8080",
            "[::]:8080",
            "192.168.1.10:8080",
            "10.0.0.1:80",
        ] {
            let addr: SocketAddr = refused.parse().unwrap();
            assert!(
                matches!(check_bind_address(addr, false), Err(Error::Config(_))),
                "{refused}"
            );
            assert!(check_bind_address(addr, true).is_ok(), "{refused} forced");
        }
    }
}
