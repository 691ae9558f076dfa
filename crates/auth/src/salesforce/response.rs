//! Salesforce token responses and error bodies. There is no `expires_in`: `issued_at` (epoch
//! milliseconds as a string) plus the configured lifetime tells when a token is stale. When a
//! consumer secret is configured the `signature` (base64 HMAC-SHA256 over `id + issued_at`) must
//! match, compared in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use serde::Deserialize;
use sha2::Sha256;
use url::Url;

use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::{Error, Result, SalesforceErrorKind};

/// A parsed, checked token response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SalesforceTokens {
    /// The access token.
    pub access_token: AccessToken,
    /// The refresh token: on a code exchange when `refresh_token` scope was granted, on a refresh
    /// only when rotation is enabled.
    pub refresh_token: Option<RefreshToken>,
    /// Where API calls go.
    pub instance_url: String,
    /// The identity URL.
    pub id_url: String,
    /// The org id, from the identity URL.
    pub org_id: String,
    /// The user id, from the identity URL.
    pub user_id: String,
    /// Epoch milliseconds.
    pub issued_at_ms: u64,
    /// Granted scopes.
    pub scope: String,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    refresh_token: Option<String>,
    instance_url: String,
    id: String,
    issued_at: String,
    #[serde(default)]
    scope: String,
    signature: Option<String>,
    token_type: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

/// Parses a 200 token response; with `client_secret`, the signature must be present and match.
pub fn parse_token_response(
    body: &[u8],
    client_secret: Option<&ClientSecret>,
) -> Result<SalesforceTokens> {
    let body: TokenBody = serde_json::from_slice(body)
        .map_err(|_| Error::InvalidResponse("token response is not the documented JSON"))?;
    if body
        .token_type
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(Error::InvalidResponse("token_type is not Bearer"));
    }
    if body.access_token.is_empty() {
        return Err(Error::InvalidResponse("empty access_token"));
    }
    let issued_at_ms: u64 = body
        .issued_at
        .parse()
        .map_err(|_| Error::InvalidResponse("issued_at is not epoch milliseconds"))?;
    if let Some(secret) = client_secret {
        let signature = body
            .signature
            .as_deref()
            .ok_or(Error::InvalidResponse("signature missing"))?;
        verify_signature(secret, &body.id, &body.issued_at, signature)?;
    }
    let instance = Url::parse(&body.instance_url)
        .map_err(|_| Error::InvalidResponse("instance_url is not a URL"))?;
    super::check_base_url(&instance, "instance_url")
        .map_err(|_| Error::InvalidResponse("instance_url must be an https origin"))?;
    let (org_id, user_id) = parse_identity_url(&body.id)?;
    Ok(SalesforceTokens {
        access_token: AccessToken::new(body.access_token),
        refresh_token: body.refresh_token.map(RefreshToken::new),
        instance_url: instance.as_str().trim_end_matches('/').to_owned(),
        id_url: body.id,
        org_id,
        user_id,
        issued_at_ms,
        scope: body.scope,
    })
}

/// `…/id/<org id>/<user id>` → (org id, user id).
fn parse_identity_url(id: &str) -> Result<(String, String)> {
    let url = Url::parse(id).map_err(|_| Error::InvalidResponse("id is not a URL"))?;
    let segments: Vec<&str> = url
        .path_segments()
        .map(Iterator::collect)
        .unwrap_or_default();
    let [.., "id", org, user] = segments.as_slice() else {
        return Err(Error::InvalidResponse("id is not an identity URL"));
    };
    let is_id =
        |s: &str| matches!(s.len(), 15 | 18) && s.bytes().all(|c| c.is_ascii_alphanumeric());
    if !is_id(org) || !is_id(user) {
        return Err(Error::InvalidResponse("id does not name an org and a user"));
    }
    Ok(((*org).to_owned(), (*user).to_owned()))
}

/// Checks `signature = base64(HMAC-SHA256(consumer secret, id + issued_at))` in constant time.
pub fn verify_signature(
    client_secret: &ClientSecret,
    id: &str,
    issued_at: &str,
    signature: &str,
) -> Result<()> {
    let expected = STANDARD
        .decode(signature)
        .map_err(|_| Error::SignatureMismatch)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.secret().as_bytes())
        .map_err(|_| Error::SignatureMismatch)?;
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| Error::SignatureMismatch)
}

/// Maps an error answer (`{"error": …, "error_description": …}`) to [`Error::Salesforce`]; a
/// body without that shape is an [`Error::Http`] naming the status only.
pub fn parse_error_body(status: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(body) => Error::Salesforce {
            kind: SalesforceErrorKind::from_code(&body.error),
            status,
        },
        Err(_) => Error::Http(format!("Salesforce answered HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "consumer-secret";
    const ID: &str = "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P";

    fn sign(id: &str, issued_at: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(id.as_bytes());
        mac.update(issued_at.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }

    fn body(signature: &str) -> String {
        format!(
            r#"{{"access_token":"00Dx0000000BV7z!AR8AQ","refresh_token":"5Aep861","signature":"{signature}",
            "scope":"refresh_token api","instance_url":"https://MyDomain.my.salesforce.com",
            "id":"{ID}","token_type":"Bearer","issued_at":"1278448832702"}}"#
        )
    }

    #[test]
    fn parses_the_documented_response() {
        let tokens = parse_token_response(body("x").as_bytes(), None).unwrap();
        assert_eq!(tokens.access_token.secret(), "00Dx0000000BV7z!AR8AQ");
        assert_eq!(tokens.refresh_token.unwrap().secret(), "5Aep861");
        assert_eq!(tokens.issued_at_ms, 1_278_448_832_702);
        assert_eq!(tokens.org_id, "00Dx0000000BV7z");
        assert_eq!(tokens.user_id, "005x00000012Q9P");
        assert_eq!(tokens.instance_url, "https://mydomain.my.salesforce.com");
        assert_eq!(tokens.scope, "refresh_token api");
    }

    #[test]
    fn signature_is_checked_when_a_secret_is_configured() {
        let secret = ClientSecret::new(SECRET);
        let good = sign(ID, "1278448832702");
        assert!(parse_token_response(body(&good).as_bytes(), Some(&secret)).is_ok());
        let other = sign(ID, "1278448832703");
        assert!(matches!(
            parse_token_response(body(&other).as_bytes(), Some(&secret)),
            Err(Error::SignatureMismatch)
        ));
        assert!(matches!(
            parse_token_response(body("not base64!").as_bytes(), Some(&secret)),
            Err(Error::SignatureMismatch)
        ));
        assert!(matches!(
            verify_signature(&ClientSecret::new("wrong"), ID, "1278448832702", &good),
            Err(Error::SignatureMismatch)
        ));
    }

    #[test]
    fn malformed_responses_are_errors() {
        for bad in [
            "",
            "{}",
            r#"{"access_token":"a","instance_url":"https://x.my.salesforce.com","id":"https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P","issued_at":"soon"}"#,
            r#"{"access_token":"a","instance_url":"http://evil.example","id":"https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P","issued_at":"1"}"#,
            r#"{"access_token":"a","instance_url":"https://x.my.salesforce.com","id":"https://login.salesforce.com/me","issued_at":"1"}"#,
            r#"{"access_token":"a","token_type":"mac","instance_url":"https://x.my.salesforce.com","id":"https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P","issued_at":"1"}"#,
        ] {
            assert!(parse_token_response(bad.as_bytes(), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn error_bodies_map_to_kinds() {
        let e = parse_error_body(
            400,
            br#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
        );
        assert!(matches!(
            &e,
            Error::Salesforce {
                kind: SalesforceErrorKind::InvalidGrant,
                status: 400
            }
        ));
        assert!(e.to_string().contains("re-authorization required"));
        for (code, kind) in [
            ("invalid_client_id", SalesforceErrorKind::InvalidClientId),
            ("invalid_client", SalesforceErrorKind::InvalidClient),
            (
                "redirect_uri_mismatch",
                SalesforceErrorKind::RedirectUriMismatch,
            ),
            (
                "unsupported_grant_type",
                SalesforceErrorKind::UnsupportedGrantType,
            ),
            ("inactive_user", SalesforceErrorKind::InactiveUser),
            ("invalid_request", SalesforceErrorKind::InvalidRequest),
        ] {
            let body = format!(r#"{{"error":"{code}"}}"#);
            assert!(matches!(
                parse_error_body(400, body.as_bytes()),
                Error::Salesforce { kind: k, .. } if k == kind
            ));
        }
        assert!(matches!(parse_error_body(502, b"<html>"), Error::Http(_)));
    }
}
