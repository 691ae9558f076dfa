//! The stdio transport: newline-delimited JSON-RPC on stdin/stdout (stdout carries only MCP
//! messages; logs belong on stderr), requests served concurrently, exit on end of input. A
//! legacy client's answers to our sampling requests come back on stdin like anything else.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::context::{NOTIFICATION_BUFFER, RequestEnv};
use crate::dispatch::SessionState;
use crate::inflight::InFlight;
use crate::jsonrpc::{
    ErrorObject, MAX_MESSAGE_BYTES, Message, Response, parse_message, to_json_bytes,
};
use crate::sampling::{
    DEFAULT_MAX_PENDING_PER_SESSION, DEFAULT_SAMPLING_TIMEOUT, Peer, PendingRequests,
};
use crate::server::McpServer;

/// Lines waiting for stdout before readers wait.
const OUTPUT_BUFFER: usize = 256;
/// The in-flight scope of the (single) stdio connection.
const SCOPE: &str = "stdio";

/// Serves `server` on the process's stdin and stdout until stdin ends.
pub async fn serve_stdio(server: McpServer) -> Result<(), Error> {
    serve_lines(
        server,
        BufReader::new(tokio::io::stdin()),
        tokio::io::stdout(),
    )
    .await
}

/// Serves `server` over any line-oriented byte streams (stdio, or pipes in tests). Returns when
/// `input` ends; requests still running then are cancelled.
pub async fn serve_lines<R, W>(server: McpServer, mut input: R, output: W) -> Result<(), Error>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, out_rx) = mpsc::channel::<Vec<u8>>(OUTPUT_BUFFER);
    let writer = tokio::spawn(write_lines(output, out_rx));
    let session: Arc<Mutex<Option<SessionState>>> = Arc::new(Mutex::new(None));
    let inflight = InFlight::new();
    let pending = PendingRequests::new(DEFAULT_MAX_PENDING_PER_SESSION);
    let connection = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match read_line_bounded(&mut input, &mut line).await? {
            LineRead::Eof => break,
            LineRead::TooLong => {
                let r = Response::error(
                    None,
                    ErrorObject::invalid_request(format!(
                        "message larger than {MAX_MESSAGE_BYTES} bytes"
                    )),
                );
                let _ = out_tx.send(to_json_bytes(&r)).await;
                continue;
            }
            LineRead::Line => {}
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let msg = match parse_message(&line) {
            Ok(m) => m,
            Err(resp) => {
                let _ = out_tx.send(to_json_bytes(&resp)).await;
                continue;
            }
        };
        match msg {
            Message::Request(req) => {
                let server = server.clone();
                let session = session.clone();
                let out_tx = out_tx.clone();
                let (tx, mut rx) = mpsc::channel(NOTIFICATION_BUFFER);
                let env = RequestEnv {
                    cancel: connection.child_token(),
                    sink: Some(tx),
                    extensions: Default::default(),
                    peer: Some(Peer::new(SCOPE, pending.clone(), DEFAULT_SAMPLING_TIMEOUT)),
                };
                let guard = inflight.register(SCOPE, req.id.clone(), env.cancel.clone());
                tasks.spawn(async move {
                    let _guard = guard;
                    let state = session.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    let fut = server.handle_request(req, state.as_ref(), env);
                    tokio::pin!(fut);
                    let out = loop {
                        tokio::select! {
                            biased;
                            Some(n) = rx.recv() => {
                                let _ = out_tx.send(to_json_bytes(&n)).await;
                            }
                            out = &mut fut => break out,
                        }
                    };
                    while let Ok(n) = rx.try_recv() {
                        let _ = out_tx.send(to_json_bytes(&n)).await;
                    }
                    if let Some(new) = out.session {
                        *session.lock().unwrap_or_else(|p| p.into_inner()) = Some(new);
                    }
                    if !out.cancelled {
                        let _ = out_tx.send(to_json_bytes(&out.response)).await;
                    }
                });
            }
            Message::Notification(n) => {
                let state = session.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let effect = server.handle_notification(&n, state.as_ref());
                if let Some(id) = &effect.cancel {
                    inflight.cancel(SCOPE, id);
                }
                if let Some(new) = effect.session {
                    *session.lock().unwrap_or_else(|p| p.into_inner()) = Some(new);
                }
            }
            // An answer to one of our sampling requests; anything else is dropped.
            Message::Response(resp) => {
                pending.resolve(SCOPE, resp);
            }
        }
        // Reap finished tasks so the set stays bounded by running requests.
        while tasks.try_join_next().is_some() {}
    }
    connection.cancel();
    while tasks.join_next().await.is_some() {}
    drop(out_tx);
    writer
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))??;
    Ok(())
}

async fn write_lines<W: AsyncWrite + Unpin>(
    mut output: W,
    mut lines: mpsc::Receiver<Vec<u8>>,
) -> Result<(), Error> {
    while let Some(mut line) = lines.recv().await {
        line.push(b'\n');
        output.write_all(&line).await?;
        output.flush().await?;
    }
    Ok(())
}

enum LineRead {
    Line,
    TooLong,
    Eof,
}

/// Reads one line (without its newline) into `buf`, never buffering more than
/// [`MAX_MESSAGE_BYTES`]: an overlong line is skipped to its end and reported.
async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    input: &mut R,
    buf: &mut Vec<u8>,
) -> Result<LineRead, Error> {
    let mut too_long = false;
    loop {
        let available = input.fill_buf().await?;
        if available.is_empty() {
            return Ok(if too_long {
                LineRead::TooLong
            } else if buf.is_empty() {
                LineRead::Eof
            } else {
                LineRead::Line
            });
        }
        let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if !too_long {
            if buf.len() + chunk.len() > MAX_MESSAGE_BYTES {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        input.consume(used);
        if done {
            return Ok(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
    }
}
