//! SOQL queries: a page API with an opaque cursor (for callers that stop and resume, like MCP
//! tools), a lazy `Stream` of records that follows `nextRecordsUrl`, and counts.
//!
//! Build the SOQL text with [`crate::soql`]: this module sends the text it is given.

use std::fmt;

use futures::{Stream, StreamExt, TryStreamExt, stream};
use http::HeaderValue;
use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::client::{Client, Request};
use crate::error::Error;

/// A record as Salesforce returns it: its `attributes` and its fields (parent relationships as
/// nested records, child subqueries as nested query results).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    /// The record's type and URL (absent on some aggregate rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Attributes>,
    /// Every other field, in Salesforce's order.
    #[serde(flatten)]
    pub fields: serde_json::Map<String, Value>,
}

/// A record's `attributes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attributes {
    /// The sObject type, e.g. `Lead`, or `AggregateResult`.
    #[serde(rename = "type")]
    pub object_type: String,
    /// The record's REST URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

// By hand rather than derived: `#[serde(flatten)]` buffers every record into serde's generic
// `Content` tree before building the map, a second allocation of each field on every page read.
impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RecordVisitor;

        impl<'de> Visitor<'de> for RecordVisitor {
            type Value = Record;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Salesforce record (a JSON object)")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
                let mut attributes: Option<Option<Attributes>> = None;
                let mut fields = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "attributes" {
                        if attributes.is_some() {
                            return Err(de::Error::duplicate_field("attributes"));
                        }
                        attributes = Some(map.next_value()?);
                    } else {
                        let value: Value = map.next_value()?;
                        fields.insert(key, value);
                    }
                }
                Ok(Record {
                    attributes: attributes.flatten(),
                    fields,
                })
            }
        }

        deserializer.deserialize_map(RecordVisitor)
    }
}

impl Record {
    /// The record's `Id`, when selected.
    pub fn id(&self) -> Option<&str> {
        self.fields.get("Id").and_then(Value::as_str)
    }

    /// The sObject type from `attributes`.
    pub fn object_type(&self) -> Option<&str> {
        self.attributes.as_ref().map(|a| a.object_type.as_str())
    }

    /// A field by dotted path through parent relationships (`Account.Owner.Name`); `None` when a
    /// step is missing or null.
    pub fn get(&self, path: &str) -> Option<&Value> {
        let mut steps = path.split('.');
        let mut value = self.fields.get(steps.next()?)?;
        for step in steps {
            value = value.as_object()?.get(step)?;
        }
        (!value.is_null()).then_some(value)
    }

    /// A string field by dotted path.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    /// The records of a child subquery (`Contacts`), empty when absent or null.
    pub fn children(&self, relationship: &str) -> Vec<Record> {
        self.fields
            .get(relationship)
            .and_then(|v| v.get("records"))
            .and_then(|records| serde_json::from_value(records.clone()).ok())
            .unwrap_or_default()
    }
}

/// Options for one query.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueryOptions {
    /// Records per page (Salesforce honours 200–2,000 and may return fewer; clamped to that range).
    pub batch_size: Option<u16>,
    /// Use `queryAll`: include deleted and archived records.
    pub include_deleted: bool,
}

/// Where to resume a query: opaque to callers, checked when it comes back (it may have passed
/// through a model or a user).
#[derive(Clone, PartialEq, Eq)]
pub struct QueryCursor(String);

impl QueryCursor {
    /// Reads a cursor previously obtained from [`QueryCursor::as_str`].
    ///
    /// # Errors
    /// When the text is not a query locator path.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let valid = text
            .strip_prefix("/services/data/v")
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(version, rest)| {
                version.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && rest
                        .strip_prefix("query/")
                        .or_else(|| rest.strip_prefix("queryAll/"))
                        .is_some_and(|locator| {
                            !locator.is_empty()
                                && locator
                                    .bytes()
                                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        })
            });
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(Error::InvalidRequest("not a query cursor".into()))
        }
    }

    /// The cursor's text, to hand back later.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for QueryCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("QueryCursor").field(&self.0).finish()
    }
}

/// One page of a query.
#[derive(Debug, Clone)]
pub struct QueryPage<T> {
    /// How many records the whole query matches (for `COUNT()`, the count).
    pub total_size: u64,
    /// This page's records.
    pub records: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<QueryCursor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryResponse<T> {
    total_size: u64,
    done: bool,
    #[serde(default)]
    next_records_url: Option<String>,
    records: Vec<T>,
}

impl<T> QueryResponse<T> {
    fn into_page(self) -> Result<QueryPage<T>, Error> {
        let next = match (self.done, self.next_records_url) {
            (true, _) => None,
            (false, Some(url)) => Some(QueryCursor::parse(&url)?),
            (false, None) => {
                return Err(Error::UnexpectedResponse {
                    context: "query",
                    detail: "done is false but nextRecordsUrl is missing".into(),
                });
            }
        };
        Ok(QueryPage {
            total_size: self.total_size,
            records: self.records,
            next,
        })
    }
}

fn options_header(options: QueryOptions) -> Option<HeaderValue> {
    let size = options.batch_size?.clamp(200, 2000);
    HeaderValue::from_str(&format!("batchSize={size}")).ok()
}

impl Client {
    /// Runs a query and returns its first page.
    ///
    /// # Errors
    /// Salesforce's errors (`MALFORMED_QUERY`, `INVALID_FIELD`, …) and transport failures.
    pub async fn query_page<T: DeserializeOwned>(
        &self,
        soql: &str,
        options: QueryOptions,
    ) -> Result<QueryPage<T>, Error> {
        let endpoint = if options.include_deleted {
            "queryAll"
        } else {
            "query"
        };
        let mut request = Request::get(self.data_path(endpoint)).query("q", soql);
        if let Some(header) = options_header(options) {
            request = request.header(
                http::HeaderName::from_static("sforce-query-options"),
                header,
            );
        }
        let response: QueryResponse<T> = self.json(&request, "query").await?;
        response.into_page()
    }

    /// Fetches the page a cursor points at.
    ///
    /// # Errors
    /// An expired locator (`INVALID_QUERY_LOCATOR`) and transport failures.
    pub async fn query_more<T: DeserializeOwned>(
        &self,
        cursor: &QueryCursor,
        options: QueryOptions,
    ) -> Result<QueryPage<T>, Error> {
        let mut request = Request::get(cursor.as_str().to_owned());
        if let Some(header) = options_header(options) {
            request = request.header(
                http::HeaderName::from_static("sforce-query-options"),
                header,
            );
        }
        let response: QueryResponse<T> = self.json(&request, "query").await?;
        response.into_page()
    }

    /// All records of a query as a stream that fetches the next page only when the previous one
    /// is consumed, so memory stays at one page whatever the result size.
    pub fn query_stream<T>(
        &self,
        soql: &str,
        options: QueryOptions,
    ) -> impl Stream<Item = Result<T, Error>> + Send + 'static
    where
        T: DeserializeOwned + Send + 'static,
    {
        enum Next {
            First(String),
            More(QueryCursor),
            Done,
        }
        let client = self.clone();
        stream::try_unfold(Next::First(soql.to_owned()), move |next| {
            let client = client.clone();
            async move {
                let page: QueryPage<T> = match next {
                    Next::First(soql) => client.query_page(&soql, options).await?,
                    Next::More(cursor) => client.query_more(&cursor, options).await?,
                    Next::Done => return Ok::<_, Error>(None),
                };
                let following = page.next.map_or(Next::Done, Next::More);
                Ok(Some((
                    stream::iter(page.records.into_iter().map(Ok)),
                    following,
                )))
            }
        })
        .try_flatten()
        .boxed()
    }

    /// Runs a `SELECT COUNT() FROM …` query and returns the count.
    ///
    /// # Errors
    /// As [`Client::query_page`].
    pub async fn count(&self, soql: &str) -> Result<u64, Error> {
        let page: QueryPage<Record> = self.query_page(soql, QueryOptions::default()).await?;
        Ok(page.total_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The query sample of the wire reference.
    const SAMPLE: &str = r#"{"totalSize":3222,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gRO0000016PIAYA2-2000",
 "records":[{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/003RO0000035WQgYAM"},
   "Id":"003RO0000035WQgYAM","Name":"John Smith",
   "Account":{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001RO000001abcdYAA"},"Name":"Acme"}}]}"#;

    #[test]
    fn reads_the_reference_page() {
        let response: QueryResponse<Record> = serde_json::from_str(SAMPLE).unwrap();
        let page = response.into_page().unwrap();
        assert_eq!(page.total_size, 3222);
        assert_eq!(
            page.next.as_ref().map(QueryCursor::as_str),
            Some("/services/data/v62.0/query/01gRO0000016PIAYA2-2000")
        );
        let record = &page.records[0];
        assert_eq!(record.id(), Some("003RO0000035WQgYAM"));
        assert_eq!(record.object_type(), Some("Contact"));
        assert_eq!(record.get_str("Account.Name"), Some("Acme"));
        assert_eq!(record.get("Account.Owner.Name"), None);
        let round_trip = serde_json::to_value(record).unwrap();
        assert_eq!(
            round_trip["attributes"]["type"], "Contact",
            "attributes are kept"
        );
    }

    #[test]
    fn typed_records_deserialize_from_the_same_page() {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Contact {
            id: String,
            name: String,
        }
        let response: QueryResponse<Contact> = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(response.records[0].name, "John Smith");
        assert_eq!(response.records[0].id, "003RO0000035WQgYAM");
    }

    #[test]
    fn last_page_has_no_cursor_and_a_broken_page_is_an_error() {
        let done: QueryResponse<Record> =
            serde_json::from_str(r#"{"totalSize":0,"done":true,"records":[]}"#).unwrap();
        assert!(done.into_page().unwrap().next.is_none());
        let broken: QueryResponse<Record> =
            serde_json::from_str(r#"{"totalSize":9,"done":false,"records":[]}"#).unwrap();
        assert!(broken.into_page().is_err());
    }

    #[test]
    fn cursors_are_checked_when_they_come_back() {
        assert!(QueryCursor::parse("/services/data/v62.0/query/01gRO0000016PIAYA2-2000").is_ok());
        assert!(
            QueryCursor::parse("/services/data/v62.0/queryAll/01gRO0000016PIAYA2-4000").is_ok()
        );
        for bad in [
            "https://evil.example/services/data/v62.0/query/01g-2000",
            "/services/data/v62.0/sobjects/Account",
            "/services/data/v62.0/query/",
            "/services/data/v62.0/query/01g?x=1",
            "/services/data/v62.0/query/../../oauth2",
        ] {
            assert!(QueryCursor::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn batch_size_is_clamped_to_what_salesforce_honours() {
        let header = |n| {
            options_header(QueryOptions {
                batch_size: Some(n),
                include_deleted: false,
            })
            .unwrap()
        };
        assert_eq!(header(50), "batchSize=200");
        assert_eq!(header(500), "batchSize=500");
        assert_eq!(header(9000), "batchSize=2000");
        assert!(options_header(QueryOptions::default()).is_none());
    }
}
