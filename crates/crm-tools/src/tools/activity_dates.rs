//! How many tasks and events a set of records has in a date window, and the latest date among
//! them: one aggregate query per object and chunk of ids (`WhoId` for leads and contacts,
//! `WhatId` for opportunities and accounts), shared by the analytics tools.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use salesforce_api::soql::{AggregateFunction, Field, Select};

use super::query;
use crate::{Connection, Error};

/// Ids per `IN` list: keeps each query's URL well under Salesforce's limit.
const CHUNK: usize = 200;

/// Tasks plus events of one record in the window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Activity {
    pub(crate) count: u64,
    pub(crate) latest: Option<NaiveDate>,
}

/// Tasks and events whose `field` is one of `ids` and whose `ActivityDate` is within
/// `from..=to`, by record id (records without any are absent).
pub(crate) async fn activity_by(
    connection: &Connection,
    field: &str,
    ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<String, Activity>, Error> {
    let mut queries = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        for object in ["Task", "Event"] {
            queries.push(
                Select::from(object)
                    .field(field)
                    .aggregate(AggregateFunction::Count, "Id", Some("n"))
                    .aggregate(AggregateFunction::Max, "ActivityDate", Some("latest"))
                    .filter(Field::new(field)?.is_in(chunk.iter()))
                    .filter(Field::new("ActivityDate")?.ge(from))
                    .filter(Field::new("ActivityDate")?.le(to))
                    .group_by(field)
                    .limit(CHUNK as u64),
            );
        }
    }
    let pages =
        futures::future::try_join_all(queries.into_iter().map(|q| query(connection, q))).await?;
    let mut out: BTreeMap<String, Activity> = BTreeMap::new();
    for row in pages.iter().flatten() {
        let Some(id) = row.get_str(field) else {
            continue;
        };
        let entry = out.entry(id.to_owned()).or_default();
        entry.count += row
            .get("n")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        let latest = row
            .get_str("latest")
            .and_then(|d| d.parse::<NaiveDate>().ok());
        entry.latest = entry.latest.max(latest);
    }
    Ok(out)
}
