//! What the generic record tools share: naming an object (checked against the org's describe),
//! finding the object of a bare record id by its key prefix, the per-call writable-object check,
//! and the audit line around a write.

use std::sync::Arc;

use mcp_protocol::{ToolAnnotations, ToolContext};
use salesforce_api::{ErrorClass, ObjectDescribe};
use salesforce_core::id::RecordId;
use salesforce_core::soql::Identifier;

use super::Shared;
use crate::audit::{self, Outcome};
use crate::{Connection, Error, ids};

/// Longest object name echoed back.
const ECHO: usize = 80;

/// The `object` argument's schema.
pub(crate) fn object_property(description: &str) -> serde_json::Value {
    serde_json::json!({
        "type": "string",
        "minLength": 1,
        "maxLength": 80,
        "pattern": "^[A-Za-z][A-Za-z0-9_]*$",
        "description": description
    })
}

/// The `id` argument's schema.
pub(crate) fn id_property(description: &str) -> serde_json::Value {
    serde_json::json!({"type": "string", "minLength": 15, "maxLength": 18, "description": description})
}

/// An object's describe, through the connection's cache; an unknown object is a
/// [`Error::NotFound`] that says how to find the right name.
pub(crate) async fn describe(
    connection: &Connection,
    object: &str,
) -> Result<Arc<ObjectDescribe>, Error> {
    let echo: String = object.chars().take(ECHO).collect();
    if Identifier::new(object).is_err() {
        return Err(Error::invalid(format!(
            "`object`: `{echo}` is not an object API name (like Account, Opportunity or Invoice__c)"
        )));
    }
    match connection
        .client
        .describe(object, Some(&connection.describe_cache))
        .await
    {
        Err(e) if e.class() == ErrorClass::NotFound => Err(Error::NotFound(format!(
            "the org has no object `{echo}` (or the user cannot see it): call listObjects to find its API name (custom objects end in __c)"
        ))),
        other => Ok(other?),
    }
}

/// The object a record id belongs to: `object` when given (checked against the id's key
/// prefix), else the object whose key prefix the id carries.
pub(crate) async fn object_of(
    connection: &Connection,
    object: Option<&str>,
    id: &RecordId,
) -> Result<Arc<ObjectDescribe>, Error> {
    let name = match object {
        Some(name) => name.to_owned(),
        None => match id.standard_object() {
            Some(standard) => standard.to_owned(),
            None => {
                let global = connection
                    .client
                    .describe_global(Some(&connection.describe_cache))
                    .await?;
                global
                    .sobjects
                    .iter()
                    .find(|o| o.key_prefix.as_deref() == Some(id.key_prefix()))
                    .map(|o| o.name.clone())
                    .ok_or_else(|| {
                        Error::NotFound(format!(
                            "no object of this org has key prefix {} (the first three characters of `{}`): check the id, or pass `object`",
                            id.key_prefix(),
                            id.as_str()
                        ))
                    })?
            }
        },
    };
    let describe = describe(connection, &name).await?;
    if let Some(prefix) = describe.key_prefix.as_deref()
        && prefix != id.key_prefix()
    {
        return Err(Error::invalid(format!(
            "`id` {} is {}, not a {} id (prefix {prefix}): pass the {} record's id, or the right `object`",
            id.as_str(),
            ids::describe_kind(id),
            describe.name,
            describe.name
        )));
    }
    Ok(describe)
}

/// The server allows writing `object`; a refusal is audited.
pub(crate) fn allow_write(
    shared: &Shared,
    cx: &ToolContext,
    tool: &str,
    object: &str,
    record_id: &str,
) -> Result<(), Error> {
    if shared.config.may_write(object) {
        return Ok(());
    }
    audited(shared, cx, tool, object, record_id, 0, Outcome::Refused);
    let allowed = shared
        .config
        .writable_objects
        .as_ref()
        .map(|set| set.iter().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    Err(Error::NotAllowed(if shared.config.read_only {
        "this server is read-only: it does not change Salesforce data".to_owned()
    } else {
        format!(
            "this server does not allow changing {} records; writable objects: {allowed}. Ask the user to make the change in Salesforce instead",
            object.chars().take(ECHO).collect::<String>()
        )
    }))
}

/// Logs the audit line of a write.
pub(crate) fn audited(
    shared: &Shared,
    cx: &ToolContext,
    tool: &str,
    object: &str,
    record_id: &str,
    records: u64,
    outcome: Outcome,
) {
    let principal = shared.principal(cx);
    audit::record(
        audit::Write {
            principal: principal.as_deref(),
            tool,
            object,
            record_id,
            records,
        },
        outcome,
    );
}

/// Audits the outcome of a single-record write and passes it on. `known_id` is the record's id
/// when the call named one; `created_id` reads it from a create's result.
pub(crate) fn audit_result<T>(
    shared: &Shared,
    cx: &ToolContext,
    tool: &str,
    object: &str,
    known_id: &str,
    result: Result<T, salesforce_api::Error>,
    created_id: impl Fn(&T) -> Option<String>,
) -> Result<T, Error> {
    match result {
        Ok(value) => {
            let id = created_id(&value).unwrap_or_else(|| known_id.to_owned());
            audited(shared, cx, tool, object, &id, 1, Outcome::Succeeded);
            Ok(value)
        }
        Err(e) => {
            audited(shared, cx, tool, object, known_id, 0, Outcome::Failed);
            Err(e.into())
        }
    }
}

/// The annotations of a tool that writes.
pub(crate) fn write_annotations(destructive: bool, idempotent: bool) -> ToolAnnotations {
    ToolAnnotations {
        read_only: Some(false),
        destructive: Some(destructive),
        idempotent: Some(idempotent),
        open_world: Some(false),
    }
}

/// The record an update or delete targets: its id parsed, the allow-list checked (by the name
/// given and by describe's exact name), the connection and the object's describe.
pub(crate) async fn write_target(
    shared: &Shared,
    cx: &ToolContext,
    tool: &str,
    id: &str,
    object: Option<&str>,
    org: Option<&str>,
) -> Result<(Connection, Arc<ObjectDescribe>, RecordId), Error> {
    let id = ids::parse("id", id)?;
    if let Some(object) = object {
        allow_write(shared, cx, tool, object, id.as_str())?;
    }
    let connection = shared.connect(cx, org).await?;
    let describe = object_of(&connection, object, &id).await?;
    allow_write(shared, cx, tool, &describe.name, id.as_str())?;
    Ok((connection, describe, id))
}
