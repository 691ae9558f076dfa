//! [`CrmActions`]: the few Salesforce writes the rules need, as a trait so that the processor
//! is tested without HTTP; [`SalesforceActions`] implements it with `salesforce-api`.
//!
//! Task creation is "create if absent" by the deterministic key in an external-id field
//! (unique): look the key up, create only when absent, and when a concurrent worker won the
//! race (`DUPLICATE_VALUE`) return its Task. Unlike an upsert, a redelivery never overwrites
//! a Task a user has since edited (completed, re-prioritised).

use salesforce_api::soql::{Field, Select};
use salesforce_api::{Client, QueryOptions, QueryPage, Record};
use serde_json::{Map, Value};

use crate::{BoxFuture, Error};

/// The Salesforce writes the rules need.
pub trait CrmActions: Send + Sync {
    /// The id of the Task whose `key_field` equals `key`, creating it with `fields` (plus
    /// the key) when there is none.
    fn ensure_task<'a>(
        &'a self,
        key_field: &'a str,
        key: &'a str,
        fields: &'a Map<String, Value>,
    ) -> BoxFuture<'a, Result<String, Error>>;

    /// Sets `OwnerId` of a record.
    fn assign_owner<'a>(
        &'a self,
        object: &'a str,
        record_id: &'a str,
        owner_id: &'a str,
    ) -> BoxFuture<'a, Result<(), Error>>;
}

/// [`CrmActions`] over the Salesforce client.
#[derive(Debug, Clone)]
pub struct SalesforceActions {
    client: Client,
}

impl SalesforceActions {
    /// Acts through `client` (as the integration user it is configured for).
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    async fn find_task(&self, key_field: &str, key: &str) -> Result<Option<String>, Error> {
        let soql = Select::from("Task")
            .fields(["Id"])
            .filter(Field::new(key_field)?.eq(key))
            .limit(1)
            .to_soql()?;
        let page: QueryPage<Record> = self
            .client
            .query_page(&soql, QueryOptions::default())
            .await?;
        Ok(page.records.first().and_then(|r| r.id()).map(str::to_owned))
    }
}

impl CrmActions for SalesforceActions {
    fn ensure_task<'a>(
        &'a self,
        key_field: &'a str,
        key: &'a str,
        fields: &'a Map<String, Value>,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            if let Some(id) = self.find_task(key_field, key).await? {
                return Ok(id);
            }
            let mut body = fields.clone();
            body.insert(key_field.to_owned(), Value::String(key.to_owned()));
            match self.client.create_record("Task", &body).await {
                Ok(created) => Ok(created.id),
                Err(error) if error.error_code() == Some("DUPLICATE_VALUE") => self
                    .find_task(key_field, key)
                    .await?
                    .ok_or(Error::Salesforce(error)),
                Err(error) => Err(error.into()),
            }
        })
    }

    fn assign_owner<'a>(
        &'a self,
        object: &'a str,
        record_id: &'a str,
        owner_id: &'a str,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut fields = Map::new();
            fields.insert("OwnerId".into(), Value::String(owner_id.to_owned()));
            Ok(self
                .client
                .update_record(object, record_id, &fields)
                .await?)
        })
    }
}
