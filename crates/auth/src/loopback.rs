//! The command-line login (`sfmcp-server login`): listen on 127.0.0.1 for Salesforce's redirect,
//! hand the authorization URL (PKCE S256 + single-use state) to the caller to print or open,
//! wait for the redirect, exchange the code and store the connection.
//!
//! The listener answers one HTTP/1.1 request per connection, reading at most
//! [`MAX_REQUEST_HEAD`] bytes of it. A request for another path, or with a state that is not the
//! pending one, is refused and the wait goes on, so a stray request cannot end the login; the
//! wait ends at the deadline.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::login::{CallbackParams, finish_login, start_login, take_pending_flow};
use crate::salesforce::{SalesforceOAuthClient, SalesforceOAuthConfig, SalesforceTokens};
use crate::store::{ConnectionKey, Store};
use crate::{Error, Result};

/// The largest request head we read from the browser.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// The callback path on the loopback listener.
pub const CALLBACK_PATH: &str = "/callback";

/// A bound loopback listener waiting to run one login.
#[derive(Debug)]
pub struct LoopbackLogin {
    listener: TcpListener,
    redirect_uri: Url,
}

impl LoopbackLogin {
    /// Binds `127.0.0.1:port` (`0` for any free port; Salesforce matches callback URLs exactly,
    /// so the connected app needs the resulting [`redirect_uri`](Self::redirect_uri)).
    pub async fn bind(port: u16) -> Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .await
            .map_err(|e| Error::Config(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Config(format!("listener address: {e}")))?;
        let redirect_uri = Url::parse(&format!("http://{addr}{CALLBACK_PATH}"))
            .map_err(|_| Error::Config("loopback redirect URI".into()))?;
        Ok(Self {
            listener,
            redirect_uri,
        })
    }

    /// `http://127.0.0.1:PORT/callback`.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// `config` with this listener's redirect URI, for building the client passed to
    /// [`run`](Self::run).
    pub fn client_config(&self, mut config: SalesforceOAuthConfig) -> SalesforceOAuthConfig {
        config.redirect_uri = self.redirect_uri.clone();
        config
    }

    /// Runs the login: `announce` gets the authorization URL (print it, open a browser), then
    /// the redirect is awaited until `timeout`, the code exchanged and the connection stored
    /// under the principal `principal` chooses (usually [`crate::login::salesforce_principal`]).
    pub async fn run(
        self,
        store: &Store,
        salesforce: &SalesforceOAuthClient,
        announce: impl FnOnce(&Url),
        timeout: Duration,
        principal: impl FnOnce(&SalesforceTokens) -> String + Send,
    ) -> Result<ConnectionKey> {
        if salesforce.config().redirect_uri != self.redirect_uri {
            return Err(Error::Config(
                "the Salesforce client must use the loopback redirect URI".into(),
            ));
        }
        let url = start_login(store, salesforce, None, store.clock().now_ms()).await?;
        announce(&url);
        tokio::time::timeout(timeout, self.wait(store, salesforce, principal))
            .await
            .map_err(|_| Error::Config("timed out waiting for the Salesforce login".into()))?
    }

    async fn wait(
        self,
        store: &Store,
        salesforce: &SalesforceOAuthClient,
        principal: impl FnOnce(&SalesforceTokens) -> String + Send,
    ) -> Result<ConnectionKey> {
        loop {
            let (mut stream, _) = self
                .listener
                .accept()
                .await
                .map_err(|e| Error::Http(format!("accept: {e}")))?;
            let Some(target) = read_request_target(&mut stream).await else {
                respond(&mut stream, 400, "Bad request.").await;
                continue;
            };
            let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
            if path != CALLBACK_PATH {
                respond(&mut stream, 404, "Not found.").await;
                continue;
            }
            let Ok(params) = serde_urlencoded::from_str::<CallbackParams>(query) else {
                respond(&mut stream, 400, "Malformed callback.").await;
                continue;
            };
            // Only the pending state can end the wait; anything else is a stray request.
            let flow = match take_pending_flow(store, &params).await {
                Ok(flow) => flow,
                Err(Error::OAuth { .. }) => {
                    respond(&mut stream, 400, "Unknown or expired login; keep waiting.").await;
                    continue;
                }
                Err(error) => {
                    respond(&mut stream, 500, "Login failed.").await;
                    return Err(error);
                }
            };
            let finished = finish_login(store, salesforce, &flow, &params, principal).await;
            match &finished {
                Ok(_) => {
                    respond(
                        &mut stream,
                        200,
                        "Connected to Salesforce. You can close this window.",
                    )
                    .await;
                }
                Err(_) => respond(&mut stream, 400, "Salesforce login failed.").await,
            }
            return finished;
        }
    }
}

/// The request target of a `GET` request, reading at most [`MAX_REQUEST_HEAD`] bytes.
async fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0_u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if read == 0 || head.len() + read > MAX_REQUEST_HEAD {
            return None;
        }
        head.extend_from_slice(chunk.get(..read)?);
    }
    let line = head.split(|b| *b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    (method == "GET" && version.starts_with("HTTP/1.") && parts.next().is_none())
        .then(|| target.to_owned())
}

async fn respond(stream: &mut TcpStream, status: u16, text: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Bad Request",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n\
         cache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    // The browser may have gone; the login result does not depend on this answer.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
