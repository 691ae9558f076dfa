//! [`SessionId`]: the session id an outbound message may carry, kept as a secret.

use std::fmt;

use subtle::ConstantTimeEq;

/// A Salesforce session id. It grants API access as the action's user, so it never prints
/// (`Debug` and `Display` show `[redacted]`) and compares in constant time.
#[derive(Clone)]
pub struct SessionId(String);

impl SessionId {
    /// Wraps a session id.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself, for the one place that needs it (a [`crate::SessionVerifier`]).
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SessionId {}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_and_compares_by_value() {
        let id = SessionId::new("00Dxx!AQ0AQ.secret".to_owned());
        assert_eq!(format!("{id:?} {id}"), "[redacted] [redacted]");
        assert_eq!(id, SessionId::new("00Dxx!AQ0AQ.secret".to_owned()));
        assert_ne!(id, SessionId::new("00Dxx!AQ0AQ.other!".to_owned()));
        assert_ne!(id, SessionId::new("short".to_owned()));
    }
}
