//! Secret newtypes on top of `secrecy`: their `Debug` and `Display` print `[redacted]`, equality
//! is constant-time, and the memory is zeroized on drop (by `SecretString`). The value is only
//! reachable through [`secret`](AccessToken::secret), which makes every exposure greppable.

use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;

/// Constant-time equality of two strings (length is not hidden, content is).
pub fn ct_eq_str(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// The secret value. Call only where it must go on the wire or into a cipher.
            pub fn secret(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("[redacted]")
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                ct_eq_str(self.secret(), other.secret())
            }
        }

        impl Eq for $name {}
    };
}

secret_type!(
    /// An OAuth access token (Salesforce's or ours).
    AccessToken
);
secret_type!(
    /// An OAuth refresh token (Salesforce's or ours).
    RefreshToken
);
secret_type!(
    /// An OAuth authorization code.
    AuthorizationCode
);
secret_type!(
    /// A PKCE code verifier. Generate with [`crate::pkce::generate_verifier`].
    PkceVerifier
);
secret_type!(
    /// An OAuth client secret (Salesforce consumer secret or a registered client's secret).
    ClientSecret
);
secret_type!(
    /// The `state` of a pending authorization flow: 256 random bits, single use.
    OAuthState
);
secret_type!(
    /// Base64 key material from configuration.
    KeyMaterial
);

impl OAuthState {
    /// A fresh state: 256 random bits, base64url (never derived from the user).
    pub fn generate() -> Self {
        Self::new(crate::random::random_token())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let token = AccessToken::new("00Dx!supersecret");
        assert_eq!(format!("{token:?}"), "AccessToken([redacted])");
        assert_eq!(format!("{token}"), "[redacted]");
        let verifier = PkceVerifier::new("verifier-value");
        assert!(!format!("{verifier:?}{verifier}").contains("verifier-value"));
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(RefreshToken::new("abc"), RefreshToken::new("abc"));
        assert_ne!(RefreshToken::new("abc"), RefreshToken::new("abd"));
        assert_ne!(RefreshToken::new("abc"), RefreshToken::new("abcd"));
    }

    #[test]
    fn generated_states_are_distinct_and_long() {
        let a = OAuthState::generate();
        let b = OAuthState::generate();
        assert_ne!(a, b);
        assert_eq!(a.secret().len(), 43);
    }
}
