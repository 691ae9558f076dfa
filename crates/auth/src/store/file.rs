//! A [`Backend`] in one JSON file, for the command line: `sfmcp-server login` stores the user's
//! connection here and `sfmcp-server --stdio` reads it. Values are already sealed by the
//! [`super::Store`] (the file holds only ciphertext, key ids and expiry times).
//!
//! Every operation takes an exclusive lock on a sibling `.lock` file, reads the file, applies
//! the change and replaces the file atomically (write to a temporary file, then rename), so two
//! processes (a login and a running server, or two servers) never lose each other's writes and
//! the refresh lock works across them. The file is created with mode 0600 on Unix. It is meant
//! for one user's handful of records, not for a server's traffic.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Backend;
use crate::clock::{Clock, SystemClock};
use crate::{Error, Result};

/// The largest file we read: a few connections take a few kilobytes.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Default, Serialize, Deserialize)]
struct Contents {
    #[serde(default)]
    values: BTreeMap<String, Entry>,
    #[serde(default)]
    sets: BTreeMap<String, BTreeSet<String>>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at_ms: Option<u64>,
}

impl Contents {
    fn live(&self, key: &str, now: u64) -> Option<&Entry> {
        self.values
            .get(key)
            .filter(|e| e.expires_at_ms.is_none_or(|at| at > now))
    }
}

/// A backend in the JSON file at a path.
#[derive(Clone)]
pub struct FileBackend {
    path: Arc<PathBuf>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for FileBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBackend")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn io_error(what: &str, path: &Path, error: &std::io::Error) -> Error {
    Error::Storage(format!("{what} {}: {error}", path.display()))
}

impl FileBackend {
    /// A backend in the file at `path` (created on the first write, with its directory).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: Arc::new(path.into()),
            clock: Arc::new(SystemClock),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file exists (anything was ever stored).
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Runs `change` on the contents under the lock; writes them back when it says so.
    async fn with_contents<T: Send + 'static>(
        &self,
        change: impl FnOnce(&mut Contents, u64) -> (T, bool) + Send + 'static,
    ) -> Result<T> {
        let path = self.path.clone();
        let now = self.clock.now_ms();
        tokio::task::spawn_blocking(move || locked(&path, now, change))
            .await
            .map_err(|_| Error::Storage("file store task failed".into()))?
    }
}

fn locked<T>(
    path: &Path,
    now: u64,
    change: impl FnOnce(&mut Contents, u64) -> (T, bool),
) -> Result<T> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io_error("creating", dir, &e))?;
    }
    let lock_path = path.with_extension("lock");
    let lock = private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| io_error("opening", &lock_path, &e))?;
    lock.lock()
        .map_err(|e| io_error("locking", &lock_path, &e))?;
    let mut contents = read(path)?;
    let expired: Vec<String> = contents
        .values
        .iter()
        .filter(|(_, e)| e.expires_at_ms.is_some_and(|at| at <= now))
        .map(|(k, _)| k.clone())
        .collect();
    let mut dirty = !expired.is_empty();
    for key in expired {
        contents.values.remove(&key);
    }
    let (answer, changed) = change(&mut contents, now);
    dirty |= changed;
    if dirty {
        write(path, &contents)?;
    }
    // Dropping `lock` releases it.
    Ok(answer)
}

fn read(path: &Path) -> Result<Contents> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::default()),
        Err(e) => return Err(io_error("opening", path, &e)),
    };
    let size = file
        .metadata()
        .map_err(|e| io_error("reading", path, &e))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(Error::Corrupt("token file too large"));
    }
    serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|_| Error::Corrupt("token file is not a valid store"))
}

fn write(path: &Path, contents: &Contents) -> Result<()> {
    let json = serde_json::to_vec_pretty(contents)
        .map_err(|_| Error::Corrupt("token file not serialisable"))?;
    let tmp = path.with_extension("tmp");
    let mut file = private_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| io_error("writing", &tmp, &e))?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("writing", &tmp, &e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error("replacing", path, &e))
}

/// Open options creating files readable by their owner only.
fn private_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

fn expiry(now: u64, ttl: Option<Duration>) -> Option<u64> {
    ttl.map(|t| now.saturating_add(u64::try_from(t.as_millis()).unwrap_or(u64::MAX)))
}

#[async_trait]
impl Backend for FileBackend {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_owned();
        self.with_contents(move |c, now| (c.live(&key, now).map(|e| e.value.clone()), false))
            .await
    }

    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<()> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.with_contents(move |c, now| {
            let expires_at_ms = expiry(now, ttl);
            c.values.insert(
                key,
                Entry {
                    value,
                    expires_at_ms,
                },
            );
            ((), true)
        })
        .await
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<bool> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.with_contents(move |c, now| {
            if c.live(&key, now).is_some() {
                return (false, false);
            }
            let expires_at_ms = expiry(now, ttl);
            c.values.insert(
                key,
                Entry {
                    value,
                    expires_at_ms,
                },
            );
            (true, true)
        })
        .await
    }

    async fn compare_and_set(&self, key: &str, expected: &str, value: &str) -> Result<bool> {
        let (key, expected, value) = (key.to_owned(), expected.to_owned(), value.to_owned());
        self.with_contents(move |c, now| {
            if c.live(&key, now).is_none_or(|e| e.value != expected) {
                return (false, false);
            }
            // Like Redis `SET`: the new value has no expiry.
            c.values.insert(
                key,
                Entry {
                    value,
                    expires_at_ms: None,
                },
            );
            (true, true)
        })
        .await
    }

    async fn take(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_owned();
        self.with_contents(move |c, now| {
            if c.live(&key, now).is_none() {
                return (None, false);
            }
            (c.values.remove(&key).map(|e| e.value), true)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let key = key.to_owned();
        self.with_contents(move |c, now| {
            let existed = c.live(&key, now).is_some();
            let removed = c.values.remove(&key).is_some();
            (existed, removed)
        })
        .await
    }

    async fn delete_if_equals(&self, key: &str, expected: &str) -> Result<bool> {
        let (key, expected) = (key.to_owned(), expected.to_owned());
        self.with_contents(move |c, now| {
            if c.live(&key, now).is_none_or(|e| e.value != expected) {
                return (false, false);
            }
            c.values.remove(&key);
            (true, true)
        })
        .await
    }

    async fn index_add(&self, index: &str, member: &str) -> Result<()> {
        let (index, member) = (index.to_owned(), member.to_owned());
        self.with_contents(move |c, _| {
            let added = c.sets.entry(index).or_default().insert(member);
            ((), added)
        })
        .await
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<()> {
        let (index, member) = (index.to_owned(), member.to_owned());
        self.with_contents(move |c, _| {
            let removed = c.sets.get_mut(&index).is_some_and(|s| s.remove(&member));
            if c.sets.get(&index).is_some_and(BTreeSet::is_empty) {
                c.sets.remove(&index);
            }
            ((), removed)
        })
        .await
    }

    async fn index_members(&self, index: &str) -> Result<Vec<String>> {
        let index = index.to_owned();
        self.with_contents(move |c, _| {
            (
                c.sets
                    .get(&index)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default(),
                false,
            )
        })
        .await
    }

    async fn increment(&self, key: &str, window: Duration) -> Result<u64> {
        let key = key.to_owned();
        self.with_contents(move |c, now| {
            let (count, expires_at_ms) = match c.live(&key, now) {
                Some(entry) => (
                    entry.value.parse::<u64>().unwrap_or(0).saturating_add(1),
                    entry.expires_at_ms,
                ),
                None => (1, expiry(now, Some(window))),
            };
            c.values.insert(
                key,
                Entry {
                    value: count.to_string(),
                    expires_at_ms,
                },
            );
            (count, true)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{EncryptionKey, Keyring};
    use crate::secret::AccessToken;
    use crate::store::{Connection, ConnectionKey, ConnectionStatus, Store, TokenStore as _};

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir()
            .join(format!("sfmcp-file-backend-{}-{name}", std::process::id()))
            .join("tokens.json")
    }

    #[tokio::test]
    async fn values_expire_are_taken_once_and_compare_and_set() {
        let path = temp_path("ops");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
        let backend = FileBackend::new(&path);
        assert!(!backend.exists());
        assert!(
            backend
                .set_if_absent("a", "1", Some(Duration::from_secs(60)))
                .await
                .unwrap()
        );
        assert!(!backend.set_if_absent("a", "2", None).await.unwrap());
        assert!(!backend.compare_and_set("a", "2", "3").await.unwrap());
        assert!(backend.compare_and_set("a", "1", "3").await.unwrap());
        assert_eq!(backend.take("a").await.unwrap().as_deref(), Some("3"));
        assert_eq!(backend.take("a").await.unwrap(), None);
        backend
            .set("gone", "x", Some(Duration::from_millis(0)))
            .await
            .unwrap();
        assert_eq!(backend.get("gone").await.unwrap(), None);
        backend.index_add("i", "m").await.unwrap();
        assert_eq!(backend.index_members("i").await.unwrap(), vec!["m"]);
        backend.index_remove("i", "m").await.unwrap();
        assert!(backend.index_members("i").await.unwrap().is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[tokio::test]
    async fn a_connection_survives_a_new_store_and_holds_no_clear_token() {
        let path = temp_path("store");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
        let key_bytes = [7_u8; 32];
        let open = || {
            Store::new(
                Arc::new(FileBackend::new(&path)),
                Arc::new(Keyring::new(
                    EncryptionKey::from_bytes("k1", &key_bytes).unwrap(),
                )),
            )
        };
        let key = ConnectionKey::new("local", "00D000000000001EAA").unwrap();
        let connection = Connection {
            instance_url: "https://acme.my.salesforce.com".into(),
            access_token: AccessToken::new("00D!secret-access-token"),
            refresh_token: None,
            issued_at_ms: 1,
            scope: "api".into(),
            id_url: String::new(),
            user_id: "005000000000001AAA".into(),
            status: ConnectionStatus::Active,
        };
        open().upsert(&key, &connection).await.unwrap();
        let again = open().list("local").await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].1.connection, connection);
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(!raw.contains("secret-access-token"), "{raw}");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
