//! Client ID Metadata Documents (MCP authorization): a `client_id` that is an https URL names a
//! JSON document describing the client. Which URLs and addresses may be fetched
//! ([`check_document_url`], [`is_public_ip`], [`check_resolved`]), the transport behind the
//! [`DocumentFetcher`] trait ([`PublicHttpsFetcher`]: DNS, the public-address check, a
//! connection pinned to the checked address, no redirects, [`MAX_DOCUMENT_BYTES`] and a time
//! limit), validation of the document ([`parse_document`]) and a short, bounded cache
//! ([`ClientMetadataFetcher`]). `/oauth/authorize`, `/oauth/token` and `/oauth/revoke` resolve
//! such client ids through [`super::lookup_client`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
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

/// The transport that reads a client metadata document. [`PublicHttpsFetcher`] in production;
/// tests put a local server behind their own implementation built from
/// [`document_http_client`] and [`read_document`], so only the address check differs.
#[async_trait]
pub trait DocumentFetcher: Send + Sync + 'static {
    /// The body of the document at `url` (already passed [`check_document_url`]), at most
    /// [`MAX_DOCUMENT_BYTES`]. Errors are `invalid_client`.
    async fn fetch(&self, url: &Url) -> Result<Vec<u8>>;
}

/// An HTTP client for documents: no redirects followed, `timeout` on connect and on the whole
/// exchange, and when `pin` is given, `host` resolved only to that checked address.
pub fn document_http_client(
    timeout: Duration,
    pin: Option<(&str, SocketAddr)>,
) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout);
    if let Some((host, address)) = pin {
        builder = builder.resolve(host, address);
    }
    builder
        .build()
        .map_err(|e| Error::Config(format!("HTTP client: {e}")))
}

/// GETs `url` with `http` and reads at most [`MAX_DOCUMENT_BYTES`]: anything but `200` (a
/// redirect included) is refused, and so is a larger body, whatever its `Content-Length` says.
pub async fn read_document(http: &reqwest::Client, url: &Url) -> Result<Vec<u8>> {
    let mut response = http
        .get(url.clone())
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|_| invalid("client metadata could not be fetched"))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(invalid("client metadata could not be fetched"));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_DOCUMENT_BYTES as u64)
    {
        return Err(invalid("client metadata document too large"));
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
    Ok(body)
}

/// Fetches documents from public https hosts only: the name is resolved, every address must be
/// public ([`check_resolved`]), and the connection goes to the checked address (no second
/// lookup an attacker's DNS could answer differently).
#[derive(Debug, Clone)]
pub struct PublicHttpsFetcher {
    timeout: Duration,
}

impl PublicHttpsFetcher {
    /// A fetcher giving up after `timeout` (lookup, connect and body together).
    pub fn new(timeout: Duration) -> Self {
        Self { timeout }
    }
}

impl Default for PublicHttpsFetcher {
    fn default() -> Self {
        Self::new(Duration::from_secs(5))
    }
}

#[async_trait]
impl DocumentFetcher for PublicHttpsFetcher {
    async fn fetch(&self, url: &Url) -> Result<Vec<u8>> {
        let url = check_document_url(url.as_str())?;
        let host = url
            .host_str()
            .ok_or_else(|| invalid("client_id URL has no host"))?
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let fetch = async {
            let lookup = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
                .await
                .map_err(|_| invalid("client_id host does not resolve"))?;
            let addresses: Vec<SocketAddr> = lookup.take(16).collect();
            let pinned = check_resolved(&addresses)?;
            let http = document_http_client(self.timeout, Some((&host, pinned)))?;
            read_document(&http, &url).await
        };
        tokio::time::timeout(self.timeout, fetch)
            .await
            .map_err(|_| invalid("client metadata fetch timed out"))?
    }
}

/// A cached outcome: the client, or the description of why the document was refused (kept
/// briefly so a bad client id cannot make us fetch on every request).
type Cached = std::result::Result<RegisteredClient, &'static str>;

/// Resolves https client ids to clients through a [`DocumentFetcher`], with a bounded cache
/// (successes for `ttl`, failures for a shorter time). Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct ClientMetadataFetcher {
    fetcher: Arc<dyn DocumentFetcher>,
    ttl: Duration,
    failure_ttl: Duration,
    max_cached: usize,
    clock: Arc<dyn Clock>,
    cache: Arc<Mutex<HashMap<String, (Cached, u64)>>>,
}

impl std::fmt::Debug for ClientMetadataFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientMetadataFetcher")
            .field("ttl", &self.ttl)
            .field("max_cached", &self.max_cached)
            .finish_non_exhaustive()
    }
}

impl Default for ClientMetadataFetcher {
    fn default() -> Self {
        Self::new(Arc::new(PublicHttpsFetcher::default()))
    }
}

impl ClientMetadataFetcher {
    /// Documents read through `fetcher`, cached 5 minutes (failures 30 seconds), at most 1,000.
    pub fn new(fetcher: Arc<dyn DocumentFetcher>) -> Self {
        Self {
            fetcher,
            ttl: Duration::from_secs(5 * 60),
            failure_ttl: Duration::from_secs(30),
            max_cached: MAX_CACHED,
            clock: Arc::new(SystemClock),
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// How long a fetched document (and, capped at this, a refusal) is reused.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self.failure_ttl = self.failure_ttl.min(ttl);
        self
    }

    /// The most documents kept (at least one).
    #[must_use]
    pub fn with_max_cached(mut self, max_cached: usize) -> Self {
        self.max_cached = max_cached.max(1);
        self
    }

    /// The clock cache expiry is judged by.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many outcomes are cached now (for tests and metrics).
    pub fn cached(&self) -> usize {
        self.cache.lock().map_or(0, |cache| cache.len())
    }

    /// The client described at `client_id` (an https URL): from the cache while fresh,
    /// otherwise checked, fetched and validated.
    pub async fn client(&self, client_id: &str) -> Result<RegisteredClient> {
        let now = self.clock.now_ms();
        let hit = self.cache.lock().ok().and_then(|cache| {
            cache
                .get(client_id)
                .filter(|(_, until)| *until > now)
                .map(|(outcome, _)| outcome.clone())
        });
        if let Some(outcome) = hit {
            return outcome.map_err(invalid);
        }
        let url = check_document_url(client_id)?;
        let outcome = match self.fetcher.fetch(&url).await {
            Ok(body) => parse_document(&url, &body),
            Err(error) => Err(error),
        };
        let (cached, ttl) = match &outcome {
            Ok(client) => (Ok(client.clone()), self.ttl),
            Err(Error::OAuth { description, .. }) => (Err(*description), self.failure_ttl),
            // Not the client's fault (our configuration): nothing to remember.
            Err(_) => return outcome,
        };
        self.remember(client_id, cached, now, ttl);
        outcome
    }

    fn remember(&self, client_id: &str, outcome: Cached, now: u64, ttl: Duration) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= self.max_cached && !cache.contains_key(client_id) {
            cache.retain(|_, (_, until)| *until > now);
            // Still full of fresh entries: drop the one closest to expiry.
            if cache.len() >= self.max_cached
                && let Some(oldest) = cache
                    .iter()
                    .min_by_key(|(_, (_, until))| *until)
                    .map(|(k, _)| k.clone())
            {
                cache.remove(&oldest);
            }
        }
        let until = now.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
        cache.insert(client_id.to_owned(), (outcome, until));
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
    fn range_boundaries_are_exact() {
        let public = [
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.167.255.255",
            "192.169.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "1.0.0.0",
            "::ffff:8.8.8.8",
            "fbff:ffff::1",
            "fe00::1",
            "2a00:1450::1",
        ];
        for ip in public {
            assert!(is_public_ip(ip.parse().unwrap()), "{ip} should be public");
        }
        let private = [
            "10.0.0.0",
            "10.255.255.255",
            "172.16.0.0",
            "172.31.255.255",
            "192.168.0.0",
            "192.168.255.255",
            "169.254.0.0",
            "169.254.255.255",
            "0.0.0.0",
            "0.255.255.255",
            "::ffff:0.0.0.0",
            "::ffff:169.254.169.254",
            "::ffff:172.16.0.1",
            "::ffff:192.168.1.1",
            "fc00::",
            "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "fe80::",
            "febf:ffff::1",
            "::1",
        ];
        for ip in private {
            assert!(!is_public_ip(ip.parse().unwrap()), "{ip} should be refused");
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
        assert!(
            matches!(
                refused,
                Err(Error::OAuth {
                    description: "client_id host resolves to a non-public address",
                    ..
                })
            ),
            "{refused:?}"
        );
    }
}
