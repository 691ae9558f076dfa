//! Client ID Metadata Documents (MCP authorization): a `client_id` that is an https URL names a
//! JSON document describing the client. The pieces are here — which URLs and addresses may be
//! fetched ([`check_document_url`], [`is_public_ip`]), the fetch with size and time limits over a
//! connection pinned to the checked address ([`ClientMetadataFetcher`]), validation of the
//! document ([`parse_document`]) and a short cache.
//!
//! Not yet wired into `/oauth/authorize` and `/oauth/token` (they look clients up in the store
//! only), so `client_id_metadata_document_supported` stays false until that is done and tested.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::registration::{RegisteredClient, TokenEndpointAuthMethod, validate_redirect_uri};
use crate::clock::{Clock, SystemClock};
use crate::{Error, OAuthErrorCode, Result};

/// The largest document we read.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
const MAX_CACHED: usize = 1_000;
const MAX_REDIRECT_URIS: usize = 16;

fn invalid(description: &'static str) -> Error {
    Error::oauth(OAuthErrorCode::InvalidClient, description)
}

/// Whether `ip` is a public unicast address: not loopback, private, link-local, shared (CGNAT),
/// unique-local, multicast, broadcast, unspecified, documentation or benchmarking space, and for
/// IPv6 not an IPv4-mapped or -compatible form of one of those.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = v6.segments();
            let first = segments.first().copied().unwrap_or(0);
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
                || first == 0x2001 && segments.get(1) == Some(&0x0db8) // documentation
                || first == 0x0064 && segments.get(1) == Some(&0xff9b) // NAT64
                || segments.iter().take(6).all(|s| *s == 0)) // IPv4-compatible
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// Checks a `client_id` URL: https, a host, a path other than `/`, no query parts that hide
/// credentials, no fragment, no user info, no dot segments.
pub fn check_document_url(client_id: &str) -> Result<Url> {
    let url = Url::parse(client_id).map_err(|_| invalid("client_id is not a URL"))?;
    let path_ok = url.path() != "/" && !url.path().is_empty();
    let no_dots = !client_id.contains("/./") && !client_id.contains("/../");
    if url.scheme() != "https"
        || url.host().is_none()
        || !path_ok
        || !no_dots
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.as_str() != client_id
    {
        return Err(invalid(
            "client_id URL must be https with a path, without fragment or credentials",
        ));
    }
    if let Some(url::Host::Ipv4(ip)) = url.host()
        && !is_public_ip(IpAddr::V4(ip))
    {
        return Err(invalid("client_id URL names a non-public address"));
    }
    if let Some(url::Host::Ipv6(ip)) = url.host()
        && !is_public_ip(IpAddr::V6(ip))
    {
        return Err(invalid("client_id URL names a non-public address"));
    }
    Ok(url)
}

/// Refuses `addresses` unless every one is public (a name that resolves to any private address
/// is refused whole, so the connection cannot be steered to one).
pub fn check_resolved(addresses: &[SocketAddr]) -> Result<SocketAddr> {
    match addresses.first() {
        Some(first) if addresses.iter().all(|a| is_public_ip(a.ip())) => Ok(*first),
        Some(_) => Err(invalid("client_id host resolves to a non-public address")),
        None => Err(invalid("client_id host does not resolve")),
    }
}

#[derive(Deserialize)]
struct Document {
    client_id: String,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
}

/// Validates a fetched document for `url`: `client_id` equal to the URL, 1–16 acceptable
/// redirect URIs, a public client (`token_endpoint_auth_method` `none`: there is no secret to
/// share with a document), grant types within ours.
pub fn parse_document(url: &Url, body: &[u8]) -> Result<RegisteredClient> {
    let document: Document =
        serde_json::from_slice(body).map_err(|_| invalid("client metadata is not valid JSON"))?;
    if document.client_id != url.as_str() {
        return Err(invalid("client metadata client_id differs from its URL"));
    }
    if document.redirect_uris.is_empty() || document.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(invalid("client metadata needs 1 to 16 redirect_uris"));
    }
    for uri in &document.redirect_uris {
        validate_redirect_uri(uri).map_err(|_| invalid("client metadata redirect_uri refused"))?;
    }
    if document
        .token_endpoint_auth_method
        .as_deref()
        .is_some_and(|m| m != "none")
    {
        return Err(invalid("client metadata must describe a public client"));
    }
    let grant_types = document
        .grant_types
        .unwrap_or_else(|| vec!["authorization_code".into()]);
    if grant_types
        .iter()
        .any(|g| g != "authorization_code" && g != "refresh_token")
    {
        return Err(invalid(
            "client metadata asks for an unsupported grant type",
        ));
    }
    Ok(RegisteredClient {
        client_id: document.client_id,
        client_name: document
            .client_name
            .filter(|n| n.len() <= 200)
            .map(|n| n.chars().filter(|c| !c.is_control()).collect()),
        redirect_uris: document.redirect_uris,
        token_endpoint_auth_method: TokenEndpointAuthMethod::None,
        secret_hash: None,
        grant_types,
        client_id_issued_at: 0,
    })
}

/// Fetches and caches client metadata documents. Cheap to clone.
#[derive(Clone)]
pub struct ClientMetadataFetcher {
    timeout: Duration,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    cache: Arc<Mutex<HashMap<String, (RegisteredClient, u64)>>>,
}

impl std::fmt::Debug for ClientMetadataFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientMetadataFetcher")
            .field("timeout", &self.timeout)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Default for ClientMetadataFetcher {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            ttl: Duration::from_secs(5 * 60),
            clock: Arc::new(SystemClock),
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }
}

impl ClientMetadataFetcher {
    /// The client described at `client_id` (an https URL): from the cache while fresh,
    /// otherwise resolved, checked and fetched (no redirects, [`MAX_DOCUMENT_BYTES`], the
    /// timeout), over a connection pinned to the address that was checked.
    pub async fn client(&self, client_id: &str) -> Result<RegisteredClient> {
        let now = self.clock.now_ms();
        if let Some(hit) = self.cache.lock().ok().and_then(|cache| {
            cache
                .get(client_id)
                .filter(|(_, until)| *until > now)
                .map(|(c, _)| c.clone())
        }) {
            return Ok(hit);
        }
        let url = check_document_url(client_id)?;
        let host = url
            .host_str()
            .ok_or_else(|| invalid("client_id URL has no host"))?
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let lookup = tokio::time::timeout(
            self.timeout,
            tokio::net::lookup_host((host.trim_matches(['[', ']']), port)),
        )
        .await
        .map_err(|_| invalid("client_id host lookup timed out"))?
        .map_err(|_| invalid("client_id host does not resolve"))?;
        let addresses: Vec<SocketAddr> = lookup.take(16).collect();
        let pinned = check_resolved(&addresses)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .resolve(&host, pinned)
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let mut response = http
            .get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|_| invalid("client metadata could not be fetched"))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(invalid("client metadata could not be fetched"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|_| invalid("client metadata could not be read"))?
        {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(invalid("client metadata document too large"));
            }
            body.extend_from_slice(&chunk);
        }
        let client = parse_document(&url, &body)?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                cache.retain(|_, (_, until)| *until > now);
            }
            if cache.len() < MAX_CACHED {
                let until =
                    now.saturating_add(u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX));
                cache.insert(client_id.to_owned(), (client.clone(), until));
            }
        }
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "151.101.1.69"] {
            assert!(is_public_ip(public.parse().unwrap()), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public_ip(private.parse().unwrap()), "{private}");
        }
    }

    #[test]
    fn resolution_with_any_private_address_is_refused() {
        let public: SocketAddr = "8.8.8.8:443".parse().unwrap();
        let private: SocketAddr = "10.0.0.1:443".parse().unwrap();
        assert_eq!(check_resolved(&[public]).unwrap(), public);
        assert!(check_resolved(&[public, private]).is_err());
        assert!(check_resolved(&[]).is_err());
    }

    #[test]
    fn document_urls_are_checked() {
        assert!(check_document_url("https://app.example.com/oauth/client.json").is_ok());
        for refused in [
            "http://app.example.com/client.json",
            "https://app.example.com/",
            "https://app.example.com",
            "https://app.example.com/c.json#frag",
            "https://user:pw@app.example.com/c.json",
            "https://app.example.com/a/../c.json",
            "https://127.0.0.1/c.json",
            "https://[::1]/c.json",
            "https://10.0.0.1/c.json",
            "not a url",
        ] {
            assert!(check_document_url(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn documents_are_validated() {
        let url = Url::parse("https://app.example.com/client.json").unwrap();
        let ok = br#"{"client_id":"https://app.example.com/client.json","client_name":"App",
            "redirect_uris":["https://app.example.com/cb","http://127.0.0.1:5000/cb"],
            "token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}"#;
        let client = parse_document(&url, ok).unwrap();
        assert_eq!(client.client_id, url.as_str());
        assert!(client.has_redirect_uri("https://app.example.com/cb"));
        assert!(client.secret_hash.is_none());
        for refused in [
            r#"{"client_id":"https://app.example.com/other.json","redirect_uris":["https://app.example.com/cb"]}"#,
            r#"{"client_id":"https://app.example.com/client.json","redirect_uris":[]}"#,
            r#"{"client_id":"https://app.example.com/client.json","redirect_uris":["http://app.example.com/cb"]}"#,
            r#"{"client_id":"https://app.example.com/client.json","redirect_uris":["https://app.example.com/cb"],"token_endpoint_auth_method":"client_secret_basic"}"#,
            r#"{"client_id":"https://app.example.com/client.json","redirect_uris":["https://app.example.com/cb"],"grant_types":["password"]}"#,
            "not json",
        ] {
            assert!(
                parse_document(&url, refused.as_bytes()).is_err(),
                "{refused}"
            );
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_not_fetched() {
        let fetcher = ClientMetadataFetcher::default();
        let refused = fetcher.client("https://localhost/client.json").await;
        assert!(matches!(refused, Err(Error::OAuth { .. })), "{refused:?}");
    }
}
