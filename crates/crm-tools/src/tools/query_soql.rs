//! `querySoql`: a SOQL query the model wrote, run read-only through `salesforce-api`'s guard.
//!
//! SOQL has no DML and the shared parser accepts exactly one `SELECT` with nothing after it, so a
//! query that parses is read-only. The guard then allows only the queried object and the
//! relationships that describe says exist along each field path (resolved hop by hop through the
//! describe cache), and caps `LIMIT` at the page size: added when absent, lowered when above.
//! More rows come page by page with an opaque cursor (an `OFFSET` bound to the query's text),
//! up to the query's own `LIMIT` and SOQL's `OFFSET` ceiling of 2,000.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::soql::{
    FieldPath, LimitAdjustment, MAX_OFFSET, Query, QueryGuard, own_field_paths, parse,
};
use salesforce_api::{QueryOptions, Record};
use salesforce_core::soql::SelectItem;
use serde::Deserialize;
use serde_json::{Value, json};

use super::sobject::describe;
use super::{Shared, org_property, read_only};
use crate::output::{clean, respond};
use crate::{Connection, CrmConfig, Error, cursor};

/// Longest SOQL text accepted.
const MAX_SOQL: usize = 20_000;
/// Relationship hops SOQL allows in one path.
const MAX_HOPS: usize = 5;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    soql: String,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    Tool::new("querySoql")
        .title("Query with SOQL")
        .description(format!(
            "Runs one read-only SOQL SELECT query and returns its rows, at most {cap} per call. \
Write exactly one SELECT statement: no semicolons, no DML (SOQL cannot change data), no bind variables (:x). \
Relationship paths (Owner.Name, Account.Industry) and child subqueries (SELECT Name, (SELECT Email FROM Contacts) FROM Account) must be real relationships of the object: describeObject lists them. \
A missing LIMIT is added and a larger one lowered to the page size; when more rows remain, the result has nextCursor: call again with the same soql and cursor=nextCursor. \
Aggregates work too: SELECT StageName, COUNT(Id), SUM(Amount) FROM Opportunity GROUP BY StageName. Put literal values in quotes as SOQL requires ('Hot', dates as 2026-11-25, date literals like THIS_QUARTER)."
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "soql": {"type": "string", "minLength": 1, "maxLength": MAX_SOQL, "description": "One SOQL SELECT statement."},
                "limit": {"type": "integer", "minimum": 1, "maximum": cap, "description": format!("Rows per page, 1-{cap} (default {cap}).")},
                "cursor": {"type": "string", "maxLength": 200, "description": "nextCursor from the previous call with the same soql."},
                "org": org_property()
            },
            "required": ["soql"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "records": {"type": "array", "items": {"type": "object"}},
                "returned": {"type": "integer"},
                "count": {"type": ["integer", "null"], "description": "The count of a SELECT COUNT() query."},
                "soql": {"type": "string", "description": "The query as sent, with the LIMIT and OFFSET applied."},
                "limit": {"type": "string", "enum": ["kept", "added", "lowered"], "description": "What happened to the query's LIMIT."},
                "offset": {"type": "integer"},
                "nextCursor": {"type": ["string", "null"]}
            },
            "required": ["records", "returned", "count", "soql", "limit", "offset", "nextCursor"]
        }))
        .annotations(read_only())
}

/// A parse failure, in terms the model can act on.
pub(crate) fn unparsable(e: &salesforce_api::soql::SoqlError) -> Error {
    Error::invalid(format!(
        "`soql` is not one valid, read-only SOQL SELECT statement ({e}). Write a single SELECT … FROM … query: no semicolons, no INSERT/UPDATE/DELETE (use the record tools to change data), no bind variables"
    ))
}

/// The relationships each field path of `query` (against `object`) follows, as describe knows
/// them; a segment describe does not know is left out, so the guard refuses it.
async fn resolve_relationships(
    connection: &Connection,
    query: &Query,
    object: &str,
    allowed: &mut Vec<String>,
) -> Result<(), Error> {
    let alias = query.from.alias.as_ref().map(|a| a.as_str().to_owned());
    for path in own_field_paths(query) {
        resolve_path(connection, &path, object, alias.as_deref(), allowed).await?;
    }
    Ok(())
}

async fn resolve_path(
    connection: &Connection,
    path: &FieldPath,
    object: &str,
    alias: Option<&str>,
    allowed: &mut Vec<String>,
) -> Result<(), Error> {
    let mut current = object.to_owned();
    for (hop, relationship) in path.relationships().iter().enumerate().take(MAX_HOPS) {
        let name = relationship.as_str();
        if hop == 0
            && (name.eq_ignore_ascii_case(object)
                || alias.is_some_and(|a| a.eq_ignore_ascii_case(name)))
        {
            continue;
        }
        let d = describe(connection, &current).await?;
        let Some(field) = d.fields.iter().find(|f| {
            f.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(name))
        }) else {
            return Ok(());
        };
        allowed.push(name.to_owned());
        match field.reference_to.first() {
            Some(target) => current = target.clone(),
            None => return Ok(()),
        }
    }
    Ok(())
}

/// The guard for this query: its object, the relationships describe confirms, `page` rows.
pub(crate) async fn guard_for(
    connection: &Connection,
    query: &Query,
    page: u64,
) -> Result<QueryGuard, Error> {
    let object = describe(connection, query.from.object.as_str()).await?;
    if !object.queryable {
        return Err(Error::NotAllowed(format!(
            "{} cannot be queried by the connected user",
            object.name
        )));
    }
    let mut allowed = Vec::new();
    resolve_relationships(connection, query, &object.name, &mut allowed).await?;
    for sub in query.subqueries() {
        let child = object.child_relationships.iter().find(|c| {
            c.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(sub.from.object.as_str()))
        });
        if let Some(child) = child {
            allowed.push(sub.from.object.as_str().to_owned());
            resolve_relationships(connection, sub, &child.child_s_object, &mut allowed).await?;
        }
    }
    Ok(QueryGuard::new(page)?
        .allow_objects([object.name.as_str()])?
        .allow_relationships(allowed)?)
}

/// The guard's refusals, in terms the model can act on.
pub(crate) fn refused(e: salesforce_api::Error, object: &str) -> Error {
    match e {
        salesforce_api::Error::RelationshipNotAllowed { relationship } => Error::invalid(format!(
            "`{relationship}` is not a relationship of {object} or of the objects its path goes through: describeObject lists each lookup's relationshipName (e.g. Owner for OwnerId, Account for AccountId; custom lookups end in __r)"
        )),
        salesforce_api::Error::ObjectNotAllowed { object: child } => Error::invalid(format!(
            "`{child}` in a subquery is not a child relationship of {object}: describeObject lists its childRelationships (e.g. Contacts on Account)"
        )),
        other => other.into(),
    }
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let cap = shared.config.row_cap() as u64;
    let page_size = args.limit.unwrap_or(cap).clamp(1, cap);
    let mut query = parse(args.soql.trim()).map_err(|e| unparsable(&e))?;
    let fingerprint = cursor::fingerprint("querySoql", &json!(query.to_string()));
    let page_offset = match &args.cursor {
        Some(c) => cursor::decode(c, &fingerprint)?,
        None => 0,
    };
    let is_count = query.select == [SelectItem::CountAll];
    let own_limit = query.limit;
    let own_offset = query.offset.unwrap_or(0);
    if !is_count {
        if let Some(limit) = own_limit {
            query.limit = Some(limit.saturating_sub(page_offset));
        }
        let offset = own_offset + page_offset;
        if offset > MAX_OFFSET {
            return Err(cursor::too_deep());
        }
        query.offset = (offset > 0).then_some(offset);
    }
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let object = query.from.object.as_str().to_owned();
    let guard = guard_for(&connection, &query, page_size).await?;
    let checked = guard.check_query(query).map_err(|e| refused(e, &object))?;
    let sent_limit = checked.query().limit;
    let soql = checked.to_soql();
    let records = if sent_limit == Some(0) {
        Vec::new()
    } else {
        let page = connection
            .client
            .query_page::<Record>(&soql, QueryOptions::default())
            .await?;
        if is_count {
            return Ok(count_output(&soql, page.total_size));
        }
        page.records
    };
    let returned = records.len() as u64;
    let reached = page_offset + returned;
    let more =
        sent_limit.is_some_and(|l| l > 0 && returned == l) && own_limit.is_none_or(|l| reached < l);
    let next_cursor =
        (more && own_offset + reached <= MAX_OFFSET).then(|| cursor::encode(&fingerprint, reached));
    let adjustment = match checked.limit_adjustment() {
        LimitAdjustment::Kept => "kept",
        LimitAdjustment::Added => "added",
        LimitAdjustment::Lowered { .. } => "lowered",
    };
    let rows: Vec<Value> = records.iter().map(clean).collect();
    let mut summary = format!(
        "{returned} row(s) from {object} (rows {}-{reached}).",
        page_offset + returned.min(1)
    );
    if next_cursor.is_some() {
        summary.push_str(" More rows remain: call again with cursor=nextCursor.");
    } else if more {
        summary.push_str(" More rows remain beyond SOQL's OFFSET limit: narrow the WHERE clause.");
    }
    if adjustment != "kept" {
        summary.push_str(&format!(" LIMIT {adjustment}: sent as `{soql}`."));
    }
    Ok(respond(
        summary,
        json!({
            "records": rows,
            "returned": returned,
            "count": null,
            "soql": soql,
            "limit": adjustment,
            "offset": page_offset,
            "nextCursor": next_cursor,
        }),
    ))
}

fn count_output(soql: &str, count: u64) -> ToolOutput {
    respond(
        format!("COUNT() = {count}."),
        json!({
            "records": [],
            "returned": 0,
            "count": count,
            "soql": soql,
            "limit": "kept",
            "offset": 0,
            "nextCursor": null,
        }),
    )
}
