//! The sandbox's OAuth state: authorization codes, access and refresh tokens, kept by the
//! SHA-256 of the token (tokens themselves are never stored, logged or printed).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use salesforce_core::id::RecordId;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A token's lookup key: the SHA-256 of its text.
pub type TokenHash = [u8; 32];

/// The SHA-256 of a token.
pub fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// `n` random bytes, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `verifier` matches an S256 `challenge` (compared in constant time).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

/// Salesforce's `signature`: base64(HMAC-SHA256(client secret, id + issued_at)).
pub fn signature(secret: &str, id_url: &str, issued_at: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(id_url.as_bytes());
    mac.update(issued_at.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Constant-time string equality for secrets.
pub fn secret_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A connected app registered in the org.
#[derive(Clone)]
pub struct ConnectedApp {
    /// Consumer key.
    pub client_id: String,
    /// Consumer secret.
    pub client_secret: String,
    /// Allowed callback URLs (matched exactly).
    pub callback_urls: Vec<String>,
    /// Name shown on the consent page.
    pub name: String,
}

impl std::fmt::Debug for ConnectedApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectedApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("callback_urls", &self.callback_urls)
            .finish()
    }
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub struct CodeGrant {
    /// The app it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorize request.
    pub redirect_uri: String,
    /// The PKCE challenge, if the request had one.
    pub code_challenge: Option<String>,
    /// The user who approved.
    pub user: RecordId,
    /// Granted scope.
    pub scope: String,
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
}

/// A live access token's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user.
    pub user: RecordId,
    /// The app.
    pub client_id: String,
    /// Scope.
    pub scope: String,
    /// Issue time.
    pub issued_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: DateTime<Utc>,
    refresh: Option<TokenHash>,
}

#[derive(Debug, Clone)]
struct RefreshGrant {
    user: RecordId,
    client_id: String,
    scope: String,
}

#[derive(Debug, Default)]
struct Tables {
    codes: HashMap<TokenHash, CodeGrant>,
    access: HashMap<TokenHash, Session>,
    refresh: HashMap<TokenHash, RefreshGrant>,
}

/// Tokens issued by one grant.
#[derive(Debug)]
pub struct Issued {
    /// The access token.
    pub access_token: String,
    /// The refresh token, when one was issued.
    pub refresh_token: Option<String>,
    /// The session behind the access token.
    pub session: Session,
}

/// Why a refresh was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshError {
    /// Unknown, revoked or rotated-away token.
    Invalid,
    /// The token belongs to another app.
    WrongClient,
}

/// The org's OAuth state.
#[derive(Debug)]
pub struct TokenStore {
    tables: Mutex<Tables>,
    org_id: RecordId,
}

/// How long an authorization code lives.
pub const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(15);

impl TokenStore {
    /// Empty state for the org `org_id` (access tokens start with its 15-character id).
    pub fn new(org_id: RecordId) -> Self {
        Self {
            tables: Mutex::new(Tables::default()),
            org_id,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Issues a single-use authorization code.
    pub fn issue_code(&self, grant: CodeGrant) -> String {
        let code = format!("aPrx{}", random_token(48));
        self.lock().codes.insert(hash(&code), grant);
        code
    }

    /// Takes a code out (single use): a second call with the same code finds nothing.
    pub fn take_code(&self, code: &str) -> Option<CodeGrant> {
        self.lock().codes.remove(&hash(code))
    }

    /// Issues an access token (and a refresh token when `with_refresh`).
    pub fn issue(
        &self,
        user: RecordId,
        client_id: &str,
        scope: &str,
        now: DateTime<Utc>,
        lifetime: TimeDelta,
        with_refresh: bool,
    ) -> Issued {
        let mut tables = self.lock();
        let refresh_token = with_refresh.then(|| format!("5Aep861{}", random_token(64)));
        let refresh_hash = refresh_token.as_deref().map(hash);
        if let Some(h) = refresh_hash {
            tables.refresh.insert(
                h,
                RefreshGrant {
                    user,
                    client_id: client_id.to_owned(),
                    scope: scope.to_owned(),
                },
            );
        }
        let (access_token, session) = Self::new_access(
            &mut tables,
            self.org_id,
            user,
            client_id,
            scope,
            now,
            lifetime,
            refresh_hash,
        );
        Issued {
            access_token,
            refresh_token,
            session,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new_access(
        tables: &mut Tables,
        org_id: RecordId,
        user: RecordId,
        client_id: &str,
        scope: &str,
        now: DateTime<Utc>,
        lifetime: TimeDelta,
        refresh: Option<TokenHash>,
    ) -> (String, Session) {
        let token = format!("{}!AQ{}", org_id.to_15(), random_token(72));
        let session = Session {
            user,
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
            issued_at: now,
            expires_at: now + lifetime,
            refresh,
        };
        tables.access.insert(hash(&token), session.clone());
        (token, session)
    }

    /// Uses a refresh token: a new access token, and with `rotate` a new refresh token that
    /// replaces the old one at once (the old one stops working).
    pub fn refresh(
        &self,
        refresh_token: &str,
        client_id: &str,
        now: DateTime<Utc>,
        lifetime: TimeDelta,
        rotate: bool,
    ) -> Result<Issued, RefreshError> {
        let mut tables = self.lock();
        let old = hash(refresh_token);
        let grant = tables
            .refresh
            .get(&old)
            .cloned()
            .ok_or(RefreshError::Invalid)?;
        if !secret_eq(&grant.client_id, client_id) {
            return Err(RefreshError::WrongClient);
        }
        let (refresh_token, link) = if rotate {
            tables.refresh.remove(&old);
            // Access tokens of the old refresh token now hang off the new one, so revoking
            // the new one still revokes them.
            let new = format!("5Aep861{}", random_token(64));
            let new_hash = hash(&new);
            tables.refresh.insert(new_hash, grant.clone());
            for session in tables.access.values_mut() {
                if session.refresh == Some(old) {
                    session.refresh = Some(new_hash);
                }
            }
            (Some(new), new_hash)
        } else {
            (None, old)
        };
        let (access_token, session) = Self::new_access(
            &mut tables,
            self.org_id,
            grant.user,
            &grant.client_id,
            &grant.scope,
            now,
            lifetime,
            Some(link),
        );
        Ok(Issued {
            access_token,
            refresh_token,
            session,
        })
    }

    /// The session of a live access token.
    pub fn session(&self, access_token: &str, now: DateTime<Utc>) -> Option<Session> {
        let tables = self.lock();
        tables
            .access
            .get(&hash(access_token))
            .filter(|s| s.expires_at > now)
            .cloned()
    }

    /// Revokes a token: a refresh token with all its access tokens, or one access token.
    /// Returns whether the token was known.
    pub fn revoke(&self, token: &str) -> bool {
        let mut tables = self.lock();
        let h = hash(token);
        if tables.refresh.remove(&h).is_some() {
            tables.access.retain(|_, s| s.refresh != Some(h));
            return true;
        }
        tables.access.remove(&h).is_some()
    }

    /// Ends every access-token session (refresh tokens keep working).
    pub fn expire_all_sessions(&self) {
        self.lock().access.clear();
    }

    /// Forgets everything.
    pub fn clear(&self) {
        let mut tables = self.lock();
        *tables = Tables::default();
    }

    /// Issues a session for `user` directly (for tests and the demo), without a grant flow.
    pub fn issue_direct(
        &self,
        user: RecordId,
        client_id: &str,
        now: DateTime<Utc>,
        lifetime: TimeDelta,
    ) -> String {
        self.issue(user, client_id, "api", now, lifetime, false)
            .access_token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_reference_vector() {
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "wrong",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn signature_is_hmac_of_id_and_issued_at() {
        let sig = signature("secret", "https://x/id/00D/005", "1278448832702");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(b"https://x/id/00D/0051278448832702");
        assert_eq!(sig, STANDARD.encode(mac.finalize().into_bytes()));
    }
}
