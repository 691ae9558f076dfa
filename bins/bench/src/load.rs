//! The closed-loop load generator: N connections (HTTP/1.1 keep-alive, hyper client), each sending
//! its next request as soon as the previous answer is read, for a warm-up and then a measured
//! window. Only requests that start inside the window count, so the rate is not flattered by the
//! warm-up and the latencies are those of a loaded server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

/// One open client connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
}

/// A whole answer, read to its end.
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Conn {
    /// Opens a connection to `addr`.
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
        tokio::spawn(connection);
        Ok(Self { sender })
    }

    /// Sends one request and reads the whole answer.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<Answer> {
        self.sender.ready().await.context("connection closed")?;
        let response = self.sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// What one figure sends: per-connection set-up (a legacy session, say), the request, and what
/// counts as a good answer.
pub trait Scenario: Send + Sync + 'static {
    /// Headers every later request of this connection carries; by default none.
    fn setup<'a>(&'a self, _conn: &'a mut Conn) -> BoxFuture<'a, anyhow::Result<HeaderMap>> {
        Box::pin(async { Ok(HeaderMap::new()) })
    }
    /// Requests one call sends at once, each on its own connection (by default 1); the call's
    /// latency is that of the slowest.
    fn parallel(&self) -> usize {
        1
    }
    /// Part `part` of the `seq`-th call of connection group `conn_index`.
    fn request(
        &self,
        conn_index: usize,
        seq: u64,
        part: usize,
        extra: &HeaderMap,
    ) -> Request<Full<Bytes>>;
    /// Whether the answer is a success (by default any 2xx).
    fn accept(&self, answer: &Answer) -> bool {
        answer.status.is_success()
    }
}

/// How much load, for how long.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Concurrent connections, each with one request in flight.
    pub connections: usize,
    /// Load before measuring starts.
    pub warmup: Duration,
    /// The measured window.
    pub measure: Duration,
}

/// The outcome of one run.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Good answers to requests started inside the window.
    pub ok: u64,
    /// Failed requests or refused answers (any time).
    pub errors: u64,
    /// The first refused answer, for the report.
    pub first_error: Option<String>,
    /// Measured window in seconds.
    pub seconds: f64,
    /// Latencies of the good answers, sorted, in microseconds.
    latencies_us: Vec<u32>,
}

impl Stats {
    /// Good answers per second.
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ok as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The `q` quantile (0..=1) of the latency, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let index = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

/// Runs `scenario` against `addr` with `plan`.
///
/// # Errors
/// When no connection can be opened or set up at all.
pub async fn run(
    addr: SocketAddr,
    plan: Plan,
    scenario: Arc<dyn Scenario>,
) -> anyhow::Result<Stats> {
    let start = Instant::now();
    let window_start = start + plan.warmup;
    let end = window_start + plan.measure;
    let mut tasks = Vec::with_capacity(plan.connections);
    for index in 0..plan.connections {
        let scenario = scenario.clone();
        tasks.push(tokio::spawn(async move {
            connection_loop(addr, index, scenario, window_start, end).await
        }));
    }
    let mut stats = Stats {
        seconds: plan.measure.as_secs_f64(),
        ..Stats::default()
    };
    let mut failed_setups = 0;
    for task in tasks {
        match task.await? {
            Ok(part) => {
                stats.ok += part.ok;
                stats.errors += part.errors;
                if stats.first_error.is_none() {
                    stats.first_error = part.first_error;
                }
                stats.latencies_us.extend(part.latencies_us);
            }
            Err(e) => {
                failed_setups += 1;
                stats.errors += 1;
                stats.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    if failed_setups == plan.connections {
        bail!(
            "no connection to {addr} could be set up: {}",
            stats.first_error.unwrap_or_default()
        );
    }
    stats.latencies_us.sort_unstable();
    Ok(stats)
}

async fn connection_loop(
    addr: SocketAddr,
    index: usize,
    scenario: Arc<dyn Scenario>,
    window_start: Instant,
    end: Instant,
) -> anyhow::Result<Stats> {
    let mut conns = Vec::new();
    for _ in 0..scenario.parallel() {
        let mut conn = Conn::open(addr).await?;
        let extra = scenario.setup(&mut conn).await?;
        conns.push((conn, extra));
    }
    let mut stats = Stats::default();
    let mut seq = 0u64;
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        let scenario_ref = &scenario;
        let outcomes =
            futures::future::join_all(conns.iter_mut().enumerate().map(|(part, (conn, extra))| {
                let request = scenario_ref.request(index, seq, part, extra);
                conn.send(request)
            }))
            .await;
        seq += 1;
        let took = sent.elapsed();
        let mut good = true;
        let mut broken = false;
        for outcome in outcomes {
            match outcome {
                Ok(answer) if scenario.accept(&answer) => {}
                Ok(answer) => {
                    good = false;
                    stats.first_error.get_or_insert_with(|| {
                        format!(
                            "{} {}",
                            answer.status,
                            String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
                        )
                    });
                }
                Err(e) => {
                    good = false;
                    broken = true;
                    stats.first_error.get_or_insert_with(|| format!("{e:#}"));
                }
            }
        }
        if !good {
            stats.errors += 1;
        } else if sent >= window_start {
            stats.ok += 1;
            stats
                .latencies_us
                .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
        }
        if broken {
            // A connection may be gone: open them again and carry on.
            tokio::time::sleep(Duration::from_millis(10)).await;
            for (conn, _) in &mut conns {
                *conn = Conn::open(addr).await?;
            }
        }
    }
    Ok(stats)
}

/// A POST with a body and the given headers (plus `host`).
pub fn post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    extra: &HeaderMap,
    body: impl Into<Bytes>,
) -> Request<Full<Bytes>> {
    let mut builder = Request::post(path).header("host", addr.to_string());
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if let Some(map) = builder.headers_mut() {
        map.extend(extra.clone());
    }
    builder
        .body(Full::new(body.into()))
        .unwrap_or_else(|e| panic!("benchmark request is malformed: {e}"))
}

/// A GET with the given headers (plus `host`).
pub fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut builder = Request::get(path).header("host", addr.to_string());
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Full::new(Bytes::new()))
        .unwrap_or_else(|e| panic!("benchmark request is malformed: {e}"))
}
