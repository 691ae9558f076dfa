//! A short-lived cache of hot reference records (accounts and users by default), read by
//! `getRecord`. Entries live a few seconds to a minute: enough to spare Salesforce the same read
//! within one conversation turn, short enough that a change made elsewhere shows soon. Our own
//! writes invalidate the record at once; the server calls [`RecordCache::invalidate`] when a
//! webhook event says a record changed in Salesforce.
//!
//! Like the describe cache, what a user may read differs by user (field-level security, sharing):
//! keep one cache per (principal, org), never share one across principals. [`RecordCaches`]
//! holds them so, and drops a record from every cache of the org an event came from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use salesforce_api::Record;

/// Default time an entry lives.
pub const DEFAULT_RECORD_TTL: Duration = Duration::from_secs(60);
/// Most entries kept (the oldest go first).
const MAX_ENTRIES: usize = 2_000;

/// Key: (object, lower case), record id (18 characters), the fields read (`*` for all).
type Key = (String, String, String);

/// Hot reference records for one (principal, org).
#[derive(Debug)]
pub struct RecordCache {
    ttl: Duration,
    objects: Vec<String>,
    entries: Mutex<HashMap<Key, (Instant, Record)>>,
}

impl Default for RecordCache {
    fn default() -> Self {
        RecordCache::new(DEFAULT_RECORD_TTL, RecordCache::DEFAULT_OBJECTS)
    }
}

impl RecordCache {
    /// The objects cached by default: reference records read often and changed rarely.
    pub const DEFAULT_OBJECTS: [&str; 2] = ["Account", "User"];

    /// Caches records of `objects` for `ttl` (a zero `ttl` caches nothing).
    pub fn new<S: Into<String>>(ttl: Duration, objects: impl IntoIterator<Item = S>) -> Self {
        RecordCache {
            ttl,
            objects: objects
                .into_iter()
                .map(|o| o.into().to_ascii_lowercase())
                .collect(),
            entries: Mutex::default(),
        }
    }

    /// Whether records of `object` are cached at all.
    pub fn caches(&self, object: &str) -> bool {
        !self.ttl.is_zero() && self.objects.contains(&object.to_ascii_lowercase())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (Instant, Record)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(object: &str, id: &str, fields: &str) -> Key {
        (object.to_ascii_lowercase(), id18(id), fields.to_owned())
    }

    /// A fresh cached read of `id` with `fields` (`*` for all fields).
    pub(crate) fn get(&self, object: &str, id: &str, fields: &str) -> Option<Record> {
        if !self.caches(object) {
            return None;
        }
        let entries = self.lock();
        entries
            .get(&Self::key(object, id, fields))
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, record)| record.clone())
    }

    /// Remembers a read.
    pub(crate) fn put(&self, object: &str, id: &str, fields: &str, record: &Record) {
        if !self.caches(object) {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        if entries.len() >= MAX_ENTRIES
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(
            Self::key(object, id, fields),
            (Instant::now(), record.clone()),
        );
    }

    /// Forgets every cached read of one record (after a write, or a webhook event about it);
    /// how many entries went.
    pub fn invalidate(&self, object: &str, id: &str) -> usize {
        if !self.caches(object) {
            return 0;
        }
        let (object, id) = (object.to_ascii_lowercase(), id18(id));
        Self::forget(&mut self.lock(), |(o, i, _)| *o == object && *i == id)
    }

    /// Forgets every cached record of `object` (after a bulk write to it); how many entries
    /// went.
    pub fn invalidate_object(&self, object: &str) -> usize {
        let object = object.to_ascii_lowercase();
        Self::forget(&mut self.lock(), |(o, _, _)| *o == object)
    }

    fn forget(entries: &mut HashMap<Key, (Instant, Record)>, gone: impl Fn(&Key) -> bool) -> usize {
        let before = entries.len();
        entries.retain(|key, _| !gone(key));
        before - entries.len()
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many entries are held (fresh or not).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The most (principal, org) caches a [`RecordCaches`] keeps; past it, it starts again empty.
const MAX_CACHES: usize = 10_000;

/// Who a cache is for: (principal, the org's 15-character id, or `None` when the connection's
/// org is not known).
type Owner = (String, Option<String>);

/// The record caches of a server, one per (principal, org), each found again by its connection
/// and invalidated by webhook events of its org.
#[derive(Debug)]
pub struct RecordCaches {
    ttl: Duration,
    caches: Mutex<HashMap<Owner, Arc<RecordCache>>>,
}

impl Default for RecordCaches {
    fn default() -> Self {
        RecordCaches::new(DEFAULT_RECORD_TTL)
    }
}

impl RecordCaches {
    /// Caches whose entries live `ttl` (a zero `ttl` caches nothing).
    pub fn new(ttl: Duration) -> Self {
        RecordCaches {
            ttl,
            caches: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Owner, Arc<RecordCache>>> {
        self.caches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cache of `principal` on the org `org_id` (15 or 18 characters; `None` when unknown,
    /// which every event then invalidates), created on first use.
    pub fn cache(&self, principal: &str, org_id: Option<&str>) -> Arc<RecordCache> {
        let owner = (principal.to_owned(), org_id.map(org15));
        let mut caches = self.lock();
        if caches.len() >= MAX_CACHES && !caches.contains_key(&owner) {
            caches.clear();
        }
        caches
            .entry(owner)
            .or_insert_with(|| Arc::new(RecordCache::new(self.ttl, RecordCache::DEFAULT_OBJECTS)))
            .clone()
    }

    /// Forgets the record `id` of `object` (every record of `object` when the event carried no
    /// id) in every cache of the org `org_id`, and in those whose org is unknown; how many
    /// entries went.
    pub fn invalidate(&self, org_id: &str, object: &str, id: Option<&str>) -> usize {
        let org = org15(org_id);
        let caches: Vec<Arc<RecordCache>> = self
            .lock()
            .iter()
            .filter(|((_, of), _)| of.as_ref().is_none_or(|of| *of == org))
            .map(|(_, cache)| cache.clone())
            .collect();
        caches
            .iter()
            .map(|cache| match id {
                Some(id) => cache.invalidate(object, id),
                None if cache.caches(object) => cache.invalidate_object(object),
                None => 0,
            })
            .sum()
    }

    /// Forgets every cached record (events went by unread).
    pub fn clear(&self) {
        for cache in self.lock().values() {
            cache.clear();
        }
    }
}

/// An org id's case-sensitive 15-character form (what Salesforce's two spellings share).
fn org15(org_id: &str) -> String {
    let org_id = org_id.trim();
    org_id.get(..15).unwrap_or(org_id).to_owned()
}

/// The 18-character form, so that 15- and 18-character spellings of one id meet.
fn id18(id: &str) -> String {
    salesforce_core::id::RecordId::parse_lenient(id.trim())
        .map_or_else(|_| id.to_owned(), |id| id.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesforce_core::id::RecordId;

    fn record(name: &str) -> Record {
        serde_json::from_value(serde_json::json!({"Id": "x", "Name": name})).unwrap()
    }

    #[test]
    fn entries_are_per_record_and_fields_and_invalidated_by_either_spelling() {
        let cache = RecordCache::default();
        let account = RecordId::mint("001", 9);
        let id15 = &account.as_str()[..15];
        cache.put("Account", id15, "*", &record("Acme"));
        cache.put("Account", account.as_str(), "Id,Name", &record("Acme"));
        assert_eq!(
            cache.get("account", account.as_str(), "*"),
            Some(record("Acme"))
        );
        assert_eq!(cache.len(), 2);
        cache.put("Lead", "00Q000000000001", "*", &record("not cached"));
        assert_eq!(cache.len(), 2, "only accounts and users are cached");
        cache.invalidate("ACCOUNT", id15);
        assert!(cache.is_empty());
        cache.put(
            "User",
            RecordId::mint("005", 1).as_str(),
            "*",
            &record("Ann"),
        );
        cache.invalidate_object("user");
        assert!(cache.is_empty());
    }

    #[test]
    fn events_invalidate_the_caches_of_their_org_and_of_unknown_orgs_only() {
        let caches = RecordCaches::default();
        let account = RecordId::mint("001", 3);
        let (org_x, org_y) = ("00D000000000001EAA", "00D000000000002EAA");
        let ann_x = caches.cache("ann", Some(org_x));
        assert!(Arc::ptr_eq(
            &ann_x,
            &caches.cache("ann", Some(&org_x[..15]))
        ));
        let bob_x = caches.cache("bob", Some(org_x));
        let ann_y = caches.cache("ann", Some(org_y));
        let local = caches.cache("local", None);
        for cache in [&ann_x, &bob_x, &ann_y, &local] {
            cache.put("Account", account.as_str(), "*", &record("Acme"));
            cache.put("Account", account.as_str(), "Id,Name", &record("Acme"));
        }
        assert_eq!(
            caches.invalidate(&org_x[..15], "Account", Some(&account.as_str()[..15])),
            6
        );
        assert!(ann_x.is_empty() && bob_x.is_empty() && local.is_empty());
        assert_eq!(ann_y.len(), 2, "another org's cache is kept");
        assert_eq!(caches.invalidate(org_y, "Lead", None), 0);
        assert_eq!(caches.invalidate(org_y, "account", None), 2);
        assert!(ann_y.is_empty());
    }

    #[test]
    fn expired_entries_are_not_served_and_a_zero_ttl_caches_nothing() {
        let cache = RecordCache::new(Duration::from_nanos(1), ["Account"]);
        let id = RecordId::mint("001", 1);
        cache.put("Account", id.as_str(), "*", &record("Acme"));
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(cache.get("Account", id.as_str(), "*"), None);
        let off = RecordCache::new(Duration::ZERO, ["Account"]);
        off.put("Account", id.as_str(), "*", &record("Acme"));
        assert!(off.is_empty());
    }
}
