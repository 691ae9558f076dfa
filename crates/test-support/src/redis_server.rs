//! [`TestRedis`]: a Redis that no other test can see into.
//!
//! Two kinds of isolation. [`TestRedis::shared`] hands out a unique key prefix on the Redis at
//! `REDIS_URL` (default `redis://127.0.0.1:6379`) and deletes its keys when dropped: cheap, and
//! what most store tests need. [`TestRedis::private`] starts a `redis-server` of its own on a free
//! loopback port, for tests that restart or stop Redis: without persistence (a restart loses
//! everything), or with [`TestRedis::private_persistent`] an append-only file synced on every
//! write (a restart, even after SIGKILL, keeps every write that was answered). Neither ever
//! skips: if no Redis can be had, the test fails with a message naming what to install.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const DEFAULT_URL: &str = "redis://127.0.0.1:6379";
const HOW_TO_GET_REDIS: &str = "Redis is required by this test. Install it (`apt-get install redis-server`) \
     and start it (`redis-server --daemonize yes --port 6379 --save ''`), or set REDIS_URL to a \
     reachable server. `.ci/run` does both.";

/// An isolated Redis for one test. Hand [`url`](Self::url) and [`prefix`](Self::prefix) to the
/// code under test; every key it writes must start with the prefix.
#[derive(Debug)]
pub struct TestRedis {
    url: String,
    prefix: String,
    server: Option<PrivateServer>,
}

#[derive(Debug)]
struct PrivateServer {
    child: Child,
    port: u16,
    dir: PathBuf,
    persistent: bool,
}

impl TestRedis {
    /// A unique key prefix on the shared server at `REDIS_URL`.
    ///
    /// # Panics
    /// When that server does not answer `PING`: the message says how to get one.
    pub fn shared() -> Self {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
        if let Err(error) = ping(&url) {
            panic!("cannot reach Redis at {url}: {error}. {HOW_TO_GET_REDIS}");
        }
        Self {
            url,
            prefix: unique_prefix(),
            server: None,
        }
    }

    /// A `redis-server` of this test's own on a free loopback port, keeping nothing on disk,
    /// stopped when dropped.
    ///
    /// # Panics
    /// When `redis-server` cannot be started: the message says how to get it.
    pub fn private() -> Self {
        Self::private_server(false)
    }

    /// Like [`private`](Self::private), but with an append-only file fsynced on every write
    /// (`appendfsync always`, as a production queue needs): [`stop`](Self::stop) and
    /// [`start`](Self::start) keep every write Redis answered, streams and consumer groups
    /// included.
    ///
    /// # Panics
    /// When `redis-server` cannot be started: the message says how to get it.
    pub fn private_persistent() -> Self {
        Self::private_server(true)
    }

    fn private_server(persistent: bool) -> Self {
        // The append-only file goes to memory (`/dev/shm`) where there is one: a test kills the
        // Redis process, not the machine, and what a killed process wrote survives it there,
        // without the disk's fsync per write that would double the run time of a chaos test.
        let shm = std::path::Path::new("/dev/shm");
        let base = if persistent && shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!(
            "sfmcp-redis-{}",
            unique_prefix().trim_end_matches(':')
        ));
        if let Err(error) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {error}", dir.display());
        }
        let port = free_port();
        let child = start_server(port, &dir, persistent);
        let url = format!("redis://127.0.0.1:{port}");
        let mut redis = Self {
            url,
            prefix: unique_prefix(),
            server: Some(PrivateServer {
                child,
                port,
                dir,
                persistent,
            }),
        };
        redis.wait_until_up();
        redis
    }

    /// The connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The key prefix reserved for this test, ending in `:`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// All keys under this test's prefix, sorted (for tests that inspect what was stored).
    ///
    /// # Panics
    /// When Redis does not answer.
    pub fn keys(&self) -> Vec<String> {
        let mut connection =
            connect(&self.url).unwrap_or_else(|e| panic!("Redis at {}: {e}", self.url));
        let mut keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut connection)
            .unwrap_or_else(|e| panic!("KEYS on {}: {e}", self.url));
        keys.sort();
        keys
    }

    /// Stops the private server with SIGKILL (the data is gone unless it is
    /// [persistent](Self::private_persistent)).
    ///
    /// # Panics
    /// On a shared Redis, which a test must never stop.
    pub fn stop(&mut self) {
        let server = self
            .server
            .as_mut()
            .expect("only a private Redis can be stopped");
        let _ = server.child.kill();
        let _ = server.child.wait();
    }

    /// Starts the private server again on the same port, after [`stop`](Self::stop).
    ///
    /// # Panics
    /// On a shared Redis, or when the server cannot be started.
    pub fn start(&mut self) {
        let server = self
            .server
            .as_mut()
            .expect("only a private Redis can be started");
        server.child = start_server(server.port, &server.dir, server.persistent);
        self.wait_until_up();
    }

    fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match ping(&self.url) {
                Ok(()) => return,
                Err(error) if Instant::now() > deadline => {
                    panic!("redis-server on {} did not come up: {error}", self.url)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        match &mut self.server {
            Some(server) => {
                let _ = server.child.kill();
                let _ = server.child.wait();
                let _ = std::fs::remove_dir_all(&server.dir);
            }
            None => {
                // Best effort: a failed clean-up must not hide the test's own result.
                if let Ok(mut connection) = connect(&self.url) {
                    let keys: Vec<String> = redis::cmd("KEYS")
                        .arg(format!("{}*", self.prefix))
                        .query(&mut connection)
                        .unwrap_or_default();
                    if !keys.is_empty() {
                        let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut connection);
                    }
                }
            }
        }
    }
}

fn start_server(port: u16, dir: &PathBuf, persistent: bool) -> Child {
    let persistence: &[&str] = if persistent {
        &["--appendonly", "yes", "--appendfsync", "always"]
    } else {
        &["--appendonly", "no"]
    };
    Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(persistence)
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start redis-server: {error}. {HOW_TO_GET_REDIS}"))
}

fn connect(url: &str) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(2))
}

fn ping(url: &str) -> redis::RedisResult<()> {
    let mut connection = connect(url)?;
    redis::cmd("PING")
        .query::<String>(&mut connection)
        .map(drop)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener.local_addr().expect("local address").port()
}

/// Unique across processes (pid, time) and within one (counter).
fn unique_prefix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("test:{}:{nanos:x}:{n}:", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(url: &str, key: &str) {
        let mut connection = connect(url).unwrap();
        redis::cmd("SET")
            .arg(key)
            .arg("1")
            .query::<()>(&mut connection)
            .unwrap();
    }

    #[test]
    fn shared_prefixes_are_unique_and_cleaned_up() {
        let (url, prefix) = {
            let a = TestRedis::shared();
            let b = TestRedis::shared();
            assert_ne!(a.prefix(), b.prefix());
            set(a.url(), &format!("{}k", a.prefix()));
            assert_eq!(a.keys(), vec![format!("{}k", a.prefix())]);
            assert!(b.keys().is_empty(), "b sees nothing of a");
            (a.url().to_owned(), a.prefix().to_owned())
        };
        let mut connection = connect(&url).unwrap();
        let left: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query(&mut connection)
            .unwrap();
        assert!(left.is_empty(), "keys left after drop: {left:?}");
    }

    #[test]
    fn private_server_restarts_empty() {
        let mut redis = TestRedis::private();
        set(redis.url(), &format!("{}k", redis.prefix()));
        assert_eq!(redis.keys().len(), 1);
        redis.stop();
        assert!(ping(redis.url()).is_err(), "stopped server still answers");
        redis.start();
        assert!(
            redis.keys().is_empty(),
            "a restarted private server keeps nothing"
        );
    }

    #[test]
    fn a_persistent_private_server_keeps_its_data_across_sigkill() {
        let mut redis = TestRedis::private_persistent();
        set(redis.url(), &format!("{}k", redis.prefix()));
        redis.stop();
        redis.start();
        assert_eq!(redis.keys(), vec![format!("{}k", redis.prefix())]);
    }
}
