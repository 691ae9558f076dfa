//! Authenticity checks: the organization allow-list (15- or 18-character ids), the secret path
//! token (constant-time; required unless [`Verifier::without_path_token`] says otherwise, since
//! an org id is no secret), and an optional hook to check the session id with
//! Salesforce. This crate never calls Salesforce itself: a [`SessionVerifier`] is supplied by
//! whoever composes the intake.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::error::quote;
use crate::{Error, OutboundMessage, SessionId};

/// The organizations whose messages are accepted, compared on the case-sensitive 15-character
/// form so that either form matches either form.
#[derive(Debug, Clone, Default)]
pub struct OrgAllowList {
    orgs: HashSet<String>,
}

impl OrgAllowList {
    /// An allow-list from 15- or 18-character organization ids.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for an id that is neither, or whose 18-character checksum is wrong.
    pub fn new<I, S>(ids: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let orgs = ids
            .into_iter()
            .map(|id| {
                canonical_id(id.as_ref())
                    .map(str::to_owned)
                    .ok_or_else(|| Error::InvalidValue {
                        element: "allowed organization",
                        reason: format!(
                            "{:?} is not a valid 15- or 18-character id",
                            quote(id.as_ref())
                        ),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { orgs })
    }

    /// Whether the org may send messages (an invalid id or checksum is never allowed).
    pub fn allows(&self, organization_id: &str) -> bool {
        canonical_id(organization_id).is_some_and(|id| self.orgs.contains(id))
    }

    /// Number of organizations allowed.
    pub fn len(&self) -> usize {
        self.orgs.len()
    }

    /// True when nothing is allowed (every message is refused).
    pub fn is_empty(&self) -> bool {
        self.orgs.is_empty()
    }
}

/// The 15-character form of a valid id: 15 alphanumerics, or 18 whose last 3 are the checksum
/// (checked by `salesforce-core`'s id rules).
fn canonical_id(id: &str) -> Option<&str> {
    salesforce_core::id::is_valid(id)
        .then(|| id.get(..15))
        .flatten()
}

/// A secret path segment (`/webhooks/salesforce/outbound/{action}/{token}`) compared in constant
/// time. It never prints.
#[derive(Clone)]
pub struct PathToken(String);

impl PathToken {
    /// Wraps the configured token.
    pub fn new(token: String) -> Self {
        Self(token)
    }

    /// Constant-time comparison with a presented token.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl fmt::Debug for PathToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PathToken([redacted])")
    }
}

/// The future a [`SessionVerifier`] returns.
pub type VerifyFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// Checks a message's session id with Salesforce (for actions that "send session id"), e.g. by
/// calling the partner URL's userinfo with it and comparing the organization. Implemented
/// outside this crate, which never calls Salesforce.
pub trait SessionVerifier: Send + Sync {
    /// `Ok(())` when `session_id` is a live session of `organization_id`; otherwise
    /// [`Error::SessionRefused`] (or [`Error::StoreUnavailable`] when Salesforce could not be
    /// asked, so that the message is retried rather than refused).
    fn verify<'a>(
        &'a self,
        organization_id: &'a str,
        partner_url: &'a str,
        session_id: Option<&'a SessionId>,
    ) -> VerifyFuture<'a>;
}

/// Everything that decides whether a message is authentic.
#[derive(Clone)]
pub struct Verifier {
    allow_list: OrgAllowList,
    path_token: Option<PathToken>,
    session: Option<Arc<dyn SessionVerifier>>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("allow_list", &self.allow_list)
            .field("path_token", &self.path_token)
            .field("session", &self.session.is_some())
            .finish()
    }
}

impl Verifier {
    /// A verifier requiring the org allow-list and the secret path token: the default, since
    /// an organization id is no secret and alone does not show who sent a message.
    pub fn new(allow_list: OrgAllowList, path_token: PathToken) -> Self {
        Self {
            allow_list,
            path_token: Some(path_token),
            session: None,
        }
    }

    /// The explicit opt-out: a verifier with the allow-list alone, for a receiver nobody else
    /// can reach (anyone who knows an allowed org id is believed).
    pub fn without_path_token(allow_list: OrgAllowList) -> Self {
        Self {
            allow_list,
            path_token: None,
            session: None,
        }
    }

    /// Checks each message's session id with this hook.
    pub fn with_session_verifier(mut self, verifier: Arc<dyn SessionVerifier>) -> Self {
        self.session = Some(verifier);
        self
    }

    /// Whether a path token is required.
    pub fn requires_path_token(&self) -> bool {
        self.path_token.is_some()
    }

    /// Checks the token presented in the path (if one is configured).
    ///
    /// # Errors
    /// [`Error::BadPathToken`] when one is required and missing or wrong.
    pub fn check_path_token(&self, presented: Option<&str>) -> Result<(), Error> {
        match (&self.path_token, presented) {
            (None, _) => Ok(()),
            (Some(token), Some(presented)) if token.matches(presented) => Ok(()),
            (Some(_), _) => Err(Error::BadPathToken),
        }
    }

    /// Checks the organization, then (if configured) the session id.
    ///
    /// # Errors
    /// [`Error::OrganizationNotAllowed`], or what the [`SessionVerifier`] returns.
    pub async fn check_message(&self, message: &OutboundMessage<'_>) -> Result<(), Error> {
        if !self.allow_list.allows(&message.organization_id) {
            return Err(Error::OrganizationNotAllowed(quote(
                &message.organization_id,
            )));
        }
        if let Some(session) = &self.session {
            session
                .verify(
                    &message.organization_id,
                    &message.partner_url,
                    message.session_id.as_ref(),
                )
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form() {
        assert_eq!(canonical_id("001M000000qfPySIAU"), Some("001M000000qfPyS"));
        assert_eq!(canonical_id("001M000000qfPyS"), Some("001M000000qfPyS"));
        assert_eq!(canonical_id("001M000000qfPySIAV"), None);
        assert_eq!(canonical_id("001M000000qfPy"), None);
        assert_eq!(canonical_id("001M000000qfPy!"), None);
        assert_eq!(canonical_id("é01M000000qfPyS"), None);
    }

    #[test]
    fn token_never_prints() {
        assert_eq!(
            format!("{:?}", PathToken::new("s3cret".into())),
            "PathToken([redacted])"
        );
    }
}
