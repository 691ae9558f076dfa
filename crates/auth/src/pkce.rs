//! PKCE (RFC 7636), S256 only: verifier generation and checking, challenge derivation and
//! constant-time verification. `plain` is refused everywhere.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::secret::{PkceVerifier, ct_eq_str};
use crate::{Error, Result};

/// The only challenge method we speak.
pub const S256: &str = "S256";

/// A new verifier: 256 random bits, base64url, 43 characters of the unreserved set.
pub fn generate_verifier() -> PkceVerifier {
    PkceVerifier::new(crate::random::random_token())
}

/// Checks a verifier received on the wire: 43–128 characters of `[A-Za-z0-9-._~]`.
pub fn parse_verifier(value: &str) -> Result<PkceVerifier> {
    if !(43..=128).contains(&value.len()) {
        return Err(Error::Pkce("code_verifier must be 43 to 128 characters"));
    }
    if !value.bytes().all(is_unreserved) {
        return Err(Error::Pkce(
            "code_verifier must use only unreserved characters",
        ));
    }
    Ok(PkceVerifier::new(value))
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// An S256 code challenge (public: it is sent in the authorization URL).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// `BASE64URL(SHA256(verifier))`.
    pub fn from_verifier(verifier: &PkceVerifier) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.secret().as_bytes())))
    }

    /// A challenge received in an authorization request. The method must be `S256`; an absent
    /// method means `plain` (RFC 7636 §4.3) and is refused like `plain` itself.
    pub fn from_request(challenge: &str, method: Option<&str>) -> Result<Self> {
        match method {
            Some(S256) => {}
            Some("plain") | None => {
                return Err(Error::Pkce("code_challenge_method must be S256"));
            }
            Some(_) => return Err(Error::Pkce("unsupported code_challenge_method")),
        }
        let decoded_len_ok = challenge.len() == 43
            && URL_SAFE_NO_PAD
                .decode(challenge)
                .is_ok_and(|bytes| bytes.len() == 32);
        if !decoded_len_ok {
            return Err(Error::Pkce(
                "code_challenge must be a base64url SHA-256 digest",
            ));
        }
        Ok(Self(challenge.to_owned()))
    }

    /// The challenge string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` produces this challenge, compared in constant time.
    pub fn verify(&self, verifier: &PkceVerifier) -> bool {
        ct_eq_str(Self::from_verifier(verifier).as_str(), &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = parse_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let challenge = PkceChallenge::from_verifier(&verifier);
        assert_eq!(
            challenge.as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(challenge.verify(&verifier));
    }

    #[test]
    fn generated_verifiers_are_valid_and_verify() {
        let verifier = generate_verifier();
        assert_eq!(verifier.secret().len(), 43);
        assert!(parse_verifier(verifier.secret()).is_ok());
        let challenge = PkceChallenge::from_verifier(&verifier);
        assert!(challenge.verify(&verifier));
        assert!(!challenge.verify(&generate_verifier()));
    }

    #[test]
    fn plain_and_missing_methods_are_refused() {
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(PkceChallenge::from_request(c, Some("S256")).is_ok());
        assert!(PkceChallenge::from_request(c, Some("plain")).is_err());
        assert!(PkceChallenge::from_request(c, None).is_err());
        assert!(PkceChallenge::from_request(c, Some("s256")).is_err());
        assert!(PkceChallenge::from_request("short", Some("S256")).is_err());
    }

    #[test]
    fn verifier_bounds() {
        assert!(parse_verifier(&"a".repeat(42)).is_err());
        assert!(parse_verifier(&"a".repeat(43)).is_ok());
        assert!(parse_verifier(&"a".repeat(128)).is_ok());
        assert!(parse_verifier(&"a".repeat(129)).is_err());
        assert!(parse_verifier(&format!("{}+", "a".repeat(43))).is_err());
    }

    proptest! {
        #[test]
        fn any_valid_verifier_verifies_only_itself(v in "[A-Za-z0-9._~-]{43,128}", w in "[A-Za-z0-9._~-]{43,128}") {
            let verifier = parse_verifier(&v).unwrap();
            let challenge = PkceChallenge::from_verifier(&verifier);
            prop_assert!(challenge.verify(&verifier));
            prop_assert_eq!(challenge.verify(&parse_verifier(&w).unwrap()), v == w);
        }
    }
}
