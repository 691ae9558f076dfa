//! How the client gets its credentials: a small trait, so that this crate never knows where tokens
//! are stored or how they are refreshed.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::Error;

/// An instance URL and the access token valid for it.
#[derive(Clone)]
pub struct Access {
    instance_url: Url,
    token: SecretString,
}

impl Access {
    /// Access to the org at `instance_url` (e.g. `https://acme.my.salesforce.com`) with `token`.
    ///
    /// # Errors
    /// When the URL is not an absolute `http`/`https` URL without credentials, query or fragment.
    pub fn new(instance_url: &str, token: SecretString) -> Result<Self, Error> {
        let url = Url::parse(instance_url).map_err(|e| {
            Error::InvalidRequest(format!("instance URL `{instance_url}` is not a URL: {e}"))
        })?;
        // Plain http only to this machine (a local sandbox): anywhere else the token would travel
        // in clear text.
        let loopback = match url.host() {
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let acceptable = (url.scheme() == "https" || (url.scheme() == "http" && loopback))
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none();
        if !acceptable {
            return Err(Error::InvalidRequest(format!(
                "instance URL `{instance_url}` must be an https origin (http only for loopback) without credentials, query or fragment"
            )));
        }
        Ok(Self {
            instance_url: url,
            token,
        })
    }

    /// The org's instance URL.
    pub fn instance_url(&self) -> &Url {
        &self.instance_url
    }

    /// The bearer token, for building the `Authorization` header only.
    pub(crate) fn bearer(&self) -> &str {
        self.token.expose_secret()
    }

    /// Whether two accesses carry the same token (to tell a refreshed token from a stale one).
    pub fn same_token(&self, other: &Access) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(
            self.token
                .expose_secret()
                .as_bytes()
                .ct_eq(other.token.expose_secret().as_bytes()),
        )
    }
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Access")
            .field("instance_url", &self.instance_url.as_str())
            .field("token", &"[redacted]")
            .finish()
    }
}

/// Supplies access to one org connection.
///
/// `current` is called before every request; `refresh` once after Salesforce answers
/// `INVALID_SESSION_ID`, with the access it refused, so that an implementation shared by many
/// callers refreshes once (it can compare the rejected token with the one it now holds).
pub trait AccessProvider: Send + Sync {
    /// The access to use now.
    fn current(&self) -> BoxFuture<'_, Result<Access, Error>>;

    /// A fresh access after `rejected` was refused. Return [`Error::Access`] with
    /// `reauthorize: true` when only the user can fix it.
    fn refresh<'a>(&'a self, rejected: &'a Access) -> BoxFuture<'a, Result<Access, Error>>;
}

/// A fixed token (development, tests, or a token obtained elsewhere): it cannot be refreshed.
#[derive(Debug, Clone)]
pub struct StaticAccess(Access);

impl StaticAccess {
    /// Wraps a fixed access.
    pub fn new(access: Access) -> Arc<Self> {
        Arc::new(Self(access))
    }
}

impl AccessProvider for StaticAccess {
    fn current(&self) -> BoxFuture<'_, Result<Access, Error>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }

    fn refresh<'a>(&'a self, _rejected: &'a Access) -> BoxFuture<'a, Result<Access, Error>> {
        Box::pin(async move {
            Err(Error::Access {
                reason: "the configured static access token was refused and cannot be refreshed"
                    .into(),
                reauthorize: true,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let access = Access::new(
            "https://acme.my.salesforce.com",
            SecretString::from("00Dx!secret"),
        )
        .unwrap();
        let shown = format!("{access:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn instance_urls_must_be_plain_origins() {
        for bad in [
            "http://acme.my.salesforce.com",
            "http://10.0.0.7:8443",
            "ftp://x.example",
            "https://user:pw@x.example",
            "https://x.example/?a=1",
            "not a url",
            "https://x.example/#f",
        ] {
            assert!(
                Access::new(bad, SecretString::from("t")).is_err(),
                "{bad} accepted"
            );
        }
        assert!(Access::new("http://127.0.0.1:8443", SecretString::from("t")).is_ok());
        assert!(Access::new("http://localhost:8443", SecretString::from("t")).is_ok());
        assert!(Access::new("http://[::1]:8443", SecretString::from("t")).is_ok());
        assert!(Access::new("https://acme.my.salesforce.com", SecretString::from("t")).is_ok());
    }
}
