//! sObject records: get, create, update, upsert by external id, delete; sObject Collections with
//! automatic chunking by 200; and composite requests with references.
//!
//! Object and field names and record ids are checked before they reach a URL.

use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Client, Idempotency, Request, segment};
use salesforce_core::wire::SaveResult;

use crate::error::Error;
use crate::names::{check_field, check_id, check_object};
use crate::query::Record;

/// The most records one sObject Collections call takes.
pub const COLLECTION_CHUNK: usize = 200;
/// The most subrequests one composite call takes.
pub const COMPOSITE_LIMIT: usize = 25;

/// The result of a create (`201 {"id","success","errors"}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreateResult {
    /// The new record's id.
    pub id: String,
}

/// The result of an upsert by external id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UpsertResult {
    /// The record's id.
    pub id: String,
    /// Whether the record was created (201) rather than updated (200).
    pub created: bool,
}

/// One subrequest of a composite call.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeSubrequest {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub method: String,
    /// The subrequest URL, e.g. `/services/data/v66.0/sobjects/Account`.
    pub url: String,
    /// A name later subrequests use in `@{name.id}`.
    pub reference_id: String,
    /// The JSON body, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// One subrequest's response in a composite call.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositeSubresponse {
    /// The subrequest's body (a record, a create result, an error array, or null).
    #[serde(default)]
    pub body: Value,
    /// The subrequest's HTTP status.
    pub http_status_code: u16,
    /// The subrequest's `referenceId`.
    pub reference_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompositeResponse {
    composite_response: Vec<CompositeSubresponse>,
}

impl Client {
    fn sobject_path(&self, object: &str) -> Result<String, Error> {
        Ok(self.data_path(&format!("sobjects/{}", check_object(object)?)))
    }

    fn record_path(&self, object: &str, id: &str) -> Result<String, Error> {
        Ok(format!("{}/{}", self.sobject_path(object)?, check_id(id)?))
    }

    /// Reads one record, with all fields or only `fields`.
    ///
    /// # Errors
    /// `NOT_FOUND`, `INVALID_FIELD`, invalid names or ids (before any call).
    pub async fn get_record(
        &self,
        object: &str,
        id: &str,
        fields: Option<&[&str]>,
    ) -> Result<Record, Error> {
        let mut request = Request::get(self.record_path(object, id)?);
        if let Some(fields) = fields {
            for field in fields {
                check_field(field)?;
            }
            request = request.query("fields", fields.join(","));
        }
        self.json(&request, "get record").await
    }

    /// Creates a record; returns its id.
    ///
    /// # Errors
    /// Salesforce's validation errors (`REQUIRED_FIELD_MISSING`, …).
    pub async fn create_record(
        &self,
        object: &str,
        fields: &Map<String, Value>,
    ) -> Result<CreateResult, Error> {
        let request = Request::new(Method::POST, self.sobject_path(object)?).json_body(fields)?;
        self.json(&request, "create record").await
    }

    /// Updates fields of a record (204 on success).
    ///
    /// # Errors
    /// Salesforce's validation errors, `NOT_FOUND`, `ENTITY_IS_DELETED`.
    pub async fn update_record(
        &self,
        object: &str,
        id: &str,
        fields: &Map<String, Value>,
    ) -> Result<(), Error> {
        let request =
            Request::new(Method::PATCH, self.record_path(object, id)?).json_body(fields)?;
        self.send(&request).await.map(drop)
    }

    /// Creates or updates the record whose external id field `ext_field` equals `ext_value`.
    ///
    /// # Errors
    /// Salesforce's validation errors; `MULTIPLE_CHOICES` (300) when several records match.
    pub async fn upsert_record(
        &self,
        object: &str,
        ext_field: &str,
        ext_value: &str,
        fields: &Map<String, Value>,
    ) -> Result<UpsertResult, Error> {
        if ext_value.is_empty() {
            return Err(Error::InvalidRequest(
                "an upsert needs a non-empty external id value".into(),
            ));
        }
        let path = format!(
            "{}/{}/{}",
            self.sobject_path(object)?,
            check_field(ext_field)?,
            segment(ext_value)
        );
        // Upsert by external id is idempotent: the same value always lands on the same record.
        let request = Request::new(Method::PATCH, path)
            .json_body(fields)?
            .idempotency(Idempotency::Idempotent);
        self.json(&request, "upsert record").await
    }

    /// Deletes a record (204 on success).
    ///
    /// # Errors
    /// `NOT_FOUND`, `ENTITY_IS_DELETED`, `DELETE_FAILED`.
    pub async fn delete_record(&self, object: &str, id: &str) -> Result<(), Error> {
        let request = Request::new(Method::DELETE, self.record_path(object, id)?);
        self.send(&request).await.map(drop)
    }

    /// Creates many records through sObject Collections, 200 per call, and returns one result per
    /// record in order (failed entries carry Salesforce's `statusCode`). Each record must carry `attributes.type`. With `all_or_none`, a failure
    /// rolls back its own chunk only: earlier chunks are already committed.
    ///
    /// # Errors
    /// Whole-call failures; per-record failures are in the results.
    pub async fn create_records(
        &self,
        records: &[Value],
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, Error> {
        self.collections(Method::POST, records, all_or_none).await
    }

    /// Updates many records (each with `attributes.type` and `Id`), 200 per call.
    ///
    /// # Errors
    /// As [`Client::create_records`].
    pub async fn update_records(
        &self,
        records: &[Value],
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, Error> {
        self.collections(Method::PATCH, records, all_or_none).await
    }

    /// Deletes many records by id, 200 per call.
    ///
    /// # Errors
    /// As [`Client::create_records`]; an invalid id fails before any call.
    pub async fn delete_records(
        &self,
        ids: &[&str],
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, Error> {
        let mut results = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(COLLECTION_CHUNK) {
            let checked = chunk
                .iter()
                .map(|id| check_id(id))
                .collect::<Result<Vec<_>, _>>()?;
            let request = Request::new(Method::DELETE, self.data_path("composite/sobjects"))
                .query("ids", checked.join(","))
                .query("allOrNone", all_or_none.to_string());
            results.extend(
                self.json::<Vec<SaveResult>>(&request, "delete records")
                    .await?,
            );
        }
        Ok(results)
    }

    async fn collections(
        &self,
        method: Method,
        records: &[Value],
        all_or_none: bool,
    ) -> Result<Vec<SaveResult>, Error> {
        let mut results = Vec::with_capacity(records.len());
        for chunk in records.chunks(COLLECTION_CHUNK) {
            for record in chunk {
                let object = record
                    .pointer("/attributes/type")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        Error::InvalidRequest(
                            "every record of a collection needs attributes.type".into(),
                        )
                    })?;
                check_object(object)?;
            }
            let body = serde_json::json!({ "allOrNone": all_or_none, "records": chunk });
            let request = Request::new(method.clone(), self.data_path("composite/sobjects"))
                .json_body(&body)?;
            let chunk_results: Vec<SaveResult> = self.json(&request, "sObject collection").await?;
            if chunk_results.len() != chunk.len() {
                return Err(Error::UnexpectedResponse {
                    context: "sObject collection",
                    detail: format!(
                        "{} results for {} records",
                        chunk_results.len(),
                        chunk.len()
                    ),
                });
            }
            results.extend(chunk_results);
        }
        Ok(results)
    }

    /// Runs up to 25 subrequests in one call; later ones may use `@{ref.id}` of earlier ones.
    ///
    /// # Errors
    /// More than 25 subrequests (before any call); whole-call failures.
    pub async fn composite(
        &self,
        subrequests: &[CompositeSubrequest],
        all_or_none: bool,
    ) -> Result<Vec<CompositeSubresponse>, Error> {
        if subrequests.is_empty() || subrequests.len() > COMPOSITE_LIMIT {
            return Err(Error::InvalidRequest(format!(
                "a composite request takes 1 to {COMPOSITE_LIMIT} subrequests, not {}",
                subrequests.len()
            )));
        }
        let body = serde_json::json!({ "allOrNone": all_or_none, "compositeRequest": subrequests });
        let request = Request::new(Method::POST, self.data_path("composite")).json_body(&body)?;
        let response: CompositeResponse = self.json(&request, "composite").await?;
        Ok(response.composite_response)
    }
}
