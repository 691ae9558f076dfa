//! Schema discovery: `describeGlobal` and `describe(object)`, with a cache (TTL, invalidation)
//! because describes are large, slow and rarely change; and `/limits`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::client::{Client, Request};
use crate::error::Error;
use crate::names::check_object;

/// `GET /sobjects`: every object of the org.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GlobalDescribe {
    /// The most records a collection call takes.
    #[serde(default)]
    pub max_batch_size: Option<u32>,
    /// The objects.
    pub sobjects: Vec<ObjectSummary>,
}

/// One object in [`GlobalDescribe`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSummary {
    /// API name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Whether it is a custom object (`__c`).
    #[serde(default)]
    pub custom: bool,
    /// Whether it can be queried.
    #[serde(default)]
    pub queryable: bool,
    /// Whether records can be created.
    #[serde(default)]
    pub createable: bool,
    /// Whether records can be updated.
    #[serde(default)]
    pub updateable: bool,
    /// Whether records can be deleted.
    #[serde(default)]
    pub deletable: bool,
    /// The id key prefix, e.g. `001`.
    #[serde(default)]
    pub key_prefix: Option<String>,
}

/// `GET /sobjects/X/describe`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDescribe {
    /// API name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Plural label.
    #[serde(default)]
    pub label_plural: Option<String>,
    /// The id key prefix.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Whether it is a custom object.
    #[serde(default)]
    pub custom: bool,
    /// Whether records can be created.
    #[serde(default)]
    pub createable: bool,
    /// Whether records can be updated.
    #[serde(default)]
    pub updateable: bool,
    /// Whether records can be deleted.
    #[serde(default)]
    pub deletable: bool,
    /// Whether it can be queried.
    #[serde(default)]
    pub queryable: bool,
    /// Whether SOSL searches it.
    #[serde(default)]
    pub searchable: bool,
    /// The fields.
    pub fields: Vec<FieldDescribe>,
    /// Relationships from child objects.
    #[serde(default)]
    pub child_relationships: Vec<ChildRelationship>,
}

/// One field of an [`ObjectDescribe`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDescribe {
    /// API name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Salesforce's type: `string`, `picklist`, `reference`, `currency`, `date`, …
    #[serde(rename = "type")]
    pub field_type: String,
    /// Maximum length for text fields.
    #[serde(default)]
    pub length: u32,
    /// Whether it may be null.
    #[serde(default)]
    pub nillable: bool,
    /// Whether it can be set on create.
    #[serde(default)]
    pub createable: bool,
    /// Whether it can be changed.
    #[serde(default)]
    pub updateable: bool,
    /// Whether it is a custom field.
    #[serde(default)]
    pub custom: bool,
    /// Whether it is an external id (usable for upserts).
    #[serde(default)]
    pub external_id: bool,
    /// Whether it is unique.
    #[serde(default)]
    pub unique: bool,
    /// Whether it can be filtered on.
    #[serde(default)]
    pub filterable: bool,
    /// Whether Salesforce fills it on create when absent.
    #[serde(default)]
    pub defaulted_on_create: bool,
    /// Whether it is computed (formula, roll-up).
    #[serde(default)]
    pub calculated: bool,
    /// Objects a lookup points to.
    #[serde(default)]
    pub reference_to: Vec<String>,
    /// The lookup's relationship name (`Account` for `AccountId`).
    #[serde(default)]
    pub relationship_name: Option<String>,
    /// Picklist values.
    #[serde(default)]
    pub picklist_values: Vec<PicklistValue>,
}

impl FieldDescribe {
    /// Whether a create must supply this field.
    pub fn required_on_create(&self) -> bool {
        self.createable && !self.nillable && !self.defaulted_on_create
    }
}

/// One picklist value.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PicklistValue {
    /// The API value.
    pub value: String,
    /// The label.
    #[serde(default)]
    pub label: Option<String>,
    /// Whether it can be chosen.
    #[serde(default)]
    pub active: bool,
    /// Whether it is the default.
    #[serde(default)]
    pub default_value: bool,
}

/// A child relationship of an [`ObjectDescribe`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRelationship {
    /// The child object.
    pub child_s_object: String,
    /// The child's lookup field.
    pub field: String,
    /// The name used in subqueries (`Contacts`), when there is one.
    #[serde(default)]
    pub relationship_name: Option<String>,
}

impl ObjectDescribe {
    /// A field by API name, case-insensitively as Salesforce matches names.
    pub fn field(&self, name: &str) -> Option<&FieldDescribe> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// A cache of describe results, shared (`Arc`) by the clients of one org.
#[derive(Debug)]
pub struct DescribeCache {
    ttl: Duration,
    global: Mutex<Option<(Instant, Arc<GlobalDescribe>)>>,
    objects: Mutex<HashMap<String, (Instant, Arc<ObjectDescribe>)>>,
}

impl DescribeCache {
    /// A cache whose entries live `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            global: Mutex::new(None),
            objects: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets one object's describe (after a schema change, say).
    pub fn invalidate(&self, object: &str) {
        lock(&self.objects).remove(&object.to_ascii_lowercase());
    }

    /// Forgets everything.
    pub fn invalidate_all(&self) {
        lock(&self.objects).clear();
        *lock(&self.global) = None;
    }

    fn fresh<T: Clone>(&self, entry: Option<&(Instant, T)>) -> Option<T> {
        entry
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, value)| value.clone())
    }
}

impl Default for DescribeCache {
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `GET /limits`: every limit as `{"Max": n, "Remaining": n}` keyed by name.
pub type Limits = HashMap<String, LimitValue>;

/// One entry of `/limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitValue {
    /// The limit.
    #[serde(rename = "Max")]
    pub max: i64,
    /// What is left.
    #[serde(rename = "Remaining")]
    pub remaining: i64,
}

impl Client {
    /// Every object of the org, through `cache` when given.
    ///
    /// # Errors
    /// Transport and API failures.
    pub async fn describe_global(
        &self,
        cache: Option<&DescribeCache>,
    ) -> Result<Arc<GlobalDescribe>, Error> {
        if let Some(hit) = cache.and_then(|c| c.fresh(lock(&c.global).as_ref())) {
            return Ok(hit);
        }
        let described: Arc<GlobalDescribe> = Arc::new(
            self.json(&Request::get(self.data_path("sobjects")), "describeGlobal")
                .await?,
        );
        if let Some(cache) = cache {
            *lock(&cache.global) = Some((Instant::now(), described.clone()));
        }
        Ok(described)
    }

    /// One object's describe, through `cache` when given.
    ///
    /// # Errors
    /// `NOT_FOUND` for unknown objects; an invalid name fails before any call.
    pub async fn describe(
        &self,
        object: &str,
        cache: Option<&DescribeCache>,
    ) -> Result<Arc<ObjectDescribe>, Error> {
        check_object(object)?;
        let key = object.to_ascii_lowercase();
        if let Some(hit) = cache.and_then(|c| c.fresh(lock(&c.objects).get(&key))) {
            return Ok(hit);
        }
        let path = self.data_path(&format!("sobjects/{object}/describe"));
        let described: Arc<ObjectDescribe> =
            Arc::new(self.json(&Request::get(path), "describe").await?);
        if let Some(cache) = cache {
            lock(&cache.objects).insert(key, (Instant::now(), described.clone()));
        }
        Ok(described)
    }

    /// The org's limits.
    ///
    /// # Errors
    /// Transport and API failures.
    pub async fn limits(&self) -> Result<Limits, Error> {
        self.json(&Request::get(self.data_path("limits")), "limits")
            .await
    }

    /// Runs a SOSL search (`FIND {…} RETURNING …`) and returns the matching records.
    ///
    /// Build the SOSL with escaped terms; this sends the text it is given.
    ///
    /// # Errors
    /// `MALFORMED_SEARCH` and transport failures.
    pub async fn search(&self, sosl: &str) -> Result<Vec<crate::Record>, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct SearchResponse {
            search_records: Vec<crate::Record>,
        }
        let request = Request::get(self.data_path("search")).query("q", sosl);
        Ok(self
            .json::<SearchResponse>(&request, "search")
            .await?
            .search_records)
    }

    /// Searches `term` (plain text, searched as one literal phrase) in the name
    /// fields of `objects` with `parameterizedSearch`, returning up to `limit` records per object
    /// with `fields`.
    ///
    /// # Errors
    /// Invalid object or field names (before any call), `MALFORMED_SEARCH`, transport failures.
    pub async fn parameterized_search(
        &self,
        term: &str,
        objects: &[&str],
        fields: &[&str],
        limit: u32,
    ) -> Result<Vec<crate::Record>, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct SearchResponse {
            search_records: Vec<crate::Record>,
        }
        if term.trim().chars().count() < 2 {
            return Err(Error::InvalidRequest(
                "a search term needs at least two characters".into(),
            ));
        }
        for object in objects {
            check_object(object)?;
        }
        for field in fields {
            crate::names::check_field(field)?;
        }
        let sobjects: Vec<Value> = objects
            .iter()
            .map(|name| serde_json::json!({ "name": name, "fields": fields, "limit": limit }))
            .collect();
        let body =
            serde_json::json!({ "q": sosl_phrase(term), "in": "NAME", "sobjects": sobjects });
        let request = Request::new(http::Method::POST, self.data_path("parameterizedSearch"))
            .json_body(&body)?;
        // A search changes nothing: safe to repeat.
        let request = request.idempotency(crate::client::Idempotency::Idempotent);
        Ok(self
            .json::<SearchResponse>(&request, "search")
            .await?
            .search_records)
    }

    /// Runs an autolaunched Flow by API name with `inputs`, returning Salesforce's per-interview
    /// results (`actionName`, `isSuccess`, `errors`, `outputValues`).
    ///
    /// # Errors
    /// An invalid flow name fails before any call; `NOT_FOUND` for unknown flows.
    pub async fn run_flow(&self, flow: &str, inputs: &[Value]) -> Result<Vec<FlowResult>, Error> {
        check_object(flow)?;
        let body = serde_json::json!({ "inputs": inputs });
        let request = Request::new(
            http::Method::POST,
            self.data_path(&format!("actions/custom/flow/{flow}")),
        )
        .json_body(&body)?;
        self.json(&request, "flow").await
    }
}

/// User text as a literal SOSL phrase: reserved characters (`? & | ! { } [ ] ( ) ^ ~ * : \ " ' +
/// -`) escaped and the whole wrapped in double quotes, so that neither wildcards nor `AND`/`OR`/
/// `AND NOT` in the text act as operators.
pub fn sosl_phrase(term: &str) -> String {
    let mut escaped = String::with_capacity(term.len() + 2);
    escaped.push('"');
    for c in term.chars() {
        if "?&|!{}[]()^~*:\\\"'+-".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('"');
    escaped
}

/// One interview's result from [`Client::run_flow`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowResult {
    /// The flow's API name.
    pub action_name: String,
    /// Whether it succeeded.
    pub is_success: bool,
    /// Errors, when it failed.
    #[serde(default)]
    pub errors: Option<Value>,
    /// The flow's output variables.
    #[serde(default)]
    pub output_values: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_on_create_follows_describe_flags() {
        let field: FieldDescribe = serde_json::from_value(serde_json::json!({
            "name": "LastName", "label": "Last Name", "type": "string", "length": 80,
            "nillable": false, "createable": true, "updateable": true, "defaultedOnCreate": false
        }))
        .unwrap();
        assert!(field.required_on_create());
        let defaulted: FieldDescribe = serde_json::from_value(serde_json::json!({
            "name": "OwnerId", "label": "Owner", "type": "reference",
            "nillable": false, "createable": true, "defaultedOnCreate": true
        }))
        .unwrap();
        assert!(!defaulted.required_on_create());
    }

    #[test]
    fn user_text_becomes_one_literal_sosl_phrase() {
        assert_eq!(sosl_phrase("Acme"), r#""Acme""#);
        assert_eq!(
            sosl_phrase("O'Brien & Sons (UK)"),
            r#""O\'Brien \& Sons \(UK\)""#
        );
        assert_eq!(sosl_phrase("a*b?c"), r#""a\*b\?c""#);
        assert_eq!(
            sosl_phrase(r#"back\slash "quoted""#),
            r#""back\\slash \"quoted\"""#
        );
    }

    #[test]
    fn limits_read_the_documented_shape() {
        let limits: Limits = serde_json::from_str(
            r#"{"DailyApiRequests":{"Max":15000,"Remaining":14937},"DailyBulkV2QueryJobs":{"Max":10000,"Remaining":10000}}"#,
        )
        .unwrap();
        assert_eq!(
            limits["DailyApiRequests"],
            LimitValue {
                max: 15000,
                remaining: 14937
            }
        );
    }
}
