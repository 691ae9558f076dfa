//! `searchLeads`: leads filtered by picklists, text, owner, created period, revenue and size,
//! sorted, capped at the row cap and paged with an opaque cursor.

use std::sync::Arc;

use chrono::NaiveDate;
use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::Record;
use salesforce_api::soql::{Field, Filter, MAX_OFFSET, Select};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Shared, count, org_property, query, read_only, text_property};
use crate::output::{money, nullable, respond, show, text};
use crate::period::{PERIOD_PATTERN, created_filters};
use crate::{CrmConfig, Error, cursor, ids};

/// Default page size when the model does not ask for one.
const DEFAULT_LIMIT: usize = 25;

const FIELDS: [&str; 16] = [
    "Id",
    "Name",
    "Title",
    "Company",
    "Email",
    "Phone",
    "Status",
    "Rating",
    "Industry",
    "LeadSource",
    "AnnualRevenue",
    "NumberOfEmployees",
    "OwnerId",
    "Owner.Name",
    "CreatedDate",
    "IsConverted",
];

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
enum SortField {
    #[default]
    CreatedDate,
    AnnualRevenue,
    NumberOfEmployees,
    Company,
    LastName,
}

impl SortField {
    fn api_name(self) -> &'static str {
        match self {
            SortField::CreatedDate => "CreatedDate",
            SortField::AnnualRevenue => "AnnualRevenue",
            SortField::NumberOfEmployees => "NumberOfEmployees",
            SortField::Company => "Company",
            SortField::LastName => "LastName",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Direction {
    Asc,
    #[default]
    Desc,
}

/// The lead filters, shared with `scoreLeads` and `routeLeads` (as their `filters` argument).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LeadFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    industry: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rating: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lead_source: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    company_contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name_contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_period: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_to: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_annual_revenue: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_annual_revenue: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_employees: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_employees: Option<u64>,
}

impl LeadFilters {
    /// Whether the filters name a status (else callers that skip converted leads add that).
    pub(crate) fn names_status(&self) -> bool {
        self.status.as_ref().is_some_and(|s| !s.is_empty())
    }
}

/// The arguments; everything but `limit`, `cursor` and `org` is a filter (and part of the
/// cursor's fingerprint). Unknown arguments are refused by the input schema (serde's
/// `deny_unknown_fields` does not combine with `flatten`).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Args {
    #[serde(flatten)]
    filters: LeadFilters,
    #[serde(default)]
    sort_by: SortField,
    #[serde(default)]
    sort_direction: Direction,
    #[serde(default, skip_serializing)]
    limit: Option<usize>,
    #[serde(default, skip_serializing)]
    cursor: Option<String>,
    #[serde(default, skip_serializing)]
    org: Option<String>,
}

fn picklist(values: &[String], description: &str) -> Value {
    json!({
        "type": "array",
        "items": {"type": "string", "enum": values},
        "minItems": 1,
        "maxItems": 50,
        "uniqueItems": true,
        "description": description
    })
}

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    let lead = json!({
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": nullable("string"),
            "title": nullable("string"),
            "company": nullable("string"),
            "email": nullable("string"),
            "phone": nullable("string"),
            "status": nullable("string"),
            "rating": nullable("string"),
            "industry": nullable("string"),
            "leadSource": nullable("string"),
            "annualRevenue": nullable("number"),
            "numberOfEmployees": nullable("number"),
            "ownerId": nullable("string"),
            "ownerName": nullable("string"),
            "createdDate": nullable("string"),
            "isConverted": {"type": "boolean"},
            "url": {"type": "string"}
        },
        "required": ["id", "name", "company", "status", "url"]
    });
    Tool::new("searchLeads")
        .title("Search leads")
        .description(format!(
            "Finds Salesforce leads matching filters, sorted, at most {cap} per call. All filters are optional and combine with AND; list-valued filters match any of their values. \
For 'high-value' leads use rating [\"Hot\"] and/or minAnnualRevenue; for 'this week' use createdPeriod \"this_week\" (weeks start on Sunday). \
Text filters (companyContains, nameContains, owner) match literally and case-insensitively anywhere in the field. \
The result gives totalSize (all matches) and, when more remain, nextCursor: call again with the same filters and cursor=nextCursor to get the next page. \
Example: healthcare leads rated Hot created this week → {{\"industry\":[\"Healthcare\"],\"rating\":[\"Hot\"],\"createdPeriod\":\"this_week\"}}."
        ))
        .input_schema({
            let mut properties = filter_properties(config);
            properties.extend(json!({
                "sortBy": {
                    "type": "string",
                    "enum": ["CreatedDate", "AnnualRevenue", "NumberOfEmployees", "Company", "LastName"],
                    "description": "Sort key (default CreatedDate). Leads without a value sort last."
                },
                "sortDirection": {"type": "string", "enum": ["asc", "desc"], "description": "Sort direction (default desc)."},
                "limit": {"type": "integer", "minimum": 1, "maximum": cap, "description": format!("Leads per page, 1-{cap} (default {}).", DEFAULT_LIMIT.min(cap))},
                "cursor": {"type": "string", "maxLength": 200, "description": "nextCursor from the previous call with the same filters."},
                "org": org_property()
            }).as_object().cloned().unwrap_or_default());
            json!({"type": "object", "properties": properties, "additionalProperties": false})
        })
        .output_schema(json!({
            "type": "object",
            "properties": {
                "leads": {"type": "array", "items": lead},
                "totalSize": {"type": "integer", "description": "How many leads match in all."},
                "offset": {"type": "integer"},
                "nextCursor": nullable("string")
            },
            "required": ["leads", "totalSize", "offset", "nextCursor"]
        }))
        .annotations(read_only())
}

/// The JSON Schema properties of the lead filters (for `searchLeads` and the `filters` object
/// of the tools that reuse them).
pub(crate) fn filter_properties(config: &CrmConfig) -> serde_json::Map<String, Value> {
    let p = &config.lead_picklists;
    let properties = json!({
                "industry": picklist(&p.industry, "Lead.Industry values to match."),
                "status": picklist(&p.status, "Lead.Status values to match."),
                "rating": picklist(&p.rating, "Lead.Rating values to match (Hot is the highest)."),
                "leadSource": picklist(&p.lead_source, "Lead.LeadSource values to match."),
                "companyContains": text_property("Text the company name contains (literal, case-insensitive)."),
                "nameContains": text_property("Text the lead's full name contains (literal, case-insensitive)."),
                "owner": text_property("The owner: a User id (005…) or text the owner's name contains."),
                "createdPeriod": {
                    "type": "string",
                    "pattern": PERIOD_PATTERN,
                    "description": "When the lead was created, relative to today (UTC): today, yesterday, this_week, last_week, this_month, last_month, this_quarter, last_quarter, this_year, last_year, or last_n_days:N (today and the N days before)."
                },
                "createdFrom": {"type": "string", "format": "date", "description": "Created on or after this date (YYYY-MM-DD, UTC)."},
                "createdTo": {"type": "string", "format": "date", "description": "Created on or before this date (YYYY-MM-DD, UTC)."},
                "minAnnualRevenue": {"type": "number", "minimum": 0, "description": "Annual revenue at least this much (org currency)."},
                "maxAnnualRevenue": {"type": "number", "minimum": 0, "description": "Annual revenue at most this much."},
                "minEmployees": {"type": "integer", "minimum": 0, "description": "At least this many employees."},
                "maxEmployees": {"type": "integer", "minimum": 0, "description": "At most this many employees."}
    });
    properties.as_object().cloned().unwrap_or_default()
}

/// The `WHERE` conditions for the filters.
pub(crate) fn filters(args: &LeadFilters) -> Result<Vec<Filter>, Error> {
    let mut filters = Vec::new();
    let picklists = [
        ("Industry", &args.industry),
        ("Status", &args.status),
        ("Rating", &args.rating),
        ("LeadSource", &args.lead_source),
    ];
    for (field, values) in picklists {
        if let Some(values) = values.as_ref().filter(|v| !v.is_empty()) {
            filters.push(Field::new(field)?.is_in(values.iter()));
        }
    }
    if let Some(text) = &args.company_contains {
        filters.push(Field::new("Company")?.contains(text));
    }
    if let Some(text) = &args.name_contains {
        filters.push(Field::new("Name")?.contains(text));
    }
    if let Some(owner) = &args.owner {
        filters.push(owner_filter(owner)?);
    }
    filters.extend(created_filters(
        "CreatedDate",
        args.created_period.as_deref(),
        args.created_from,
        args.created_to,
    )?);
    let ranges = [
        (
            "AnnualRevenue",
            args.min_annual_revenue,
            args.max_annual_revenue,
        ),
        (
            "NumberOfEmployees",
            args.min_employees.map(|n| n as f64),
            args.max_employees.map(|n| n as f64),
        ),
    ];
    for (field, min, max) in ranges {
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            return Err(Error::invalid(format!(
                "the {field} range is empty: the minimum ({lo}) is above the maximum ({hi})"
            )));
        }
        if let Some(lo) = min {
            filters.push(Field::new(field)?.ge(lo));
        }
        if let Some(hi) = max {
            filters.push(Field::new(field)?.le(hi));
        }
    }
    Ok(filters)
}

/// The leads a tool taking `ids` or `filters` (scoreLeads, routeLeads) works on, as `WHERE`
/// conditions: the ids (Lead ids only), or the filters and, unless they name a status, only
/// unconverted leads.
pub(crate) fn lead_selection(
    ids: Option<&[String]>,
    lead_filters: Option<&LeadFilters>,
    max_ids: usize,
) -> Result<Vec<Filter>, Error> {
    match (ids, lead_filters) {
        (Some(list), None) => {
            if list.len() > max_ids {
                return Err(Error::invalid(format!("pass at most {max_ids} ids")));
            }
            let parsed = list
                .iter()
                .map(|id| ids::expect("ids", id, &["Lead"]).map(|(id, _)| id.as_str().to_owned()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(vec![Field::new("Id")?.is_in(parsed.iter())])
        }
        (None, Some(lead_filters)) => {
            let mut conditions = filters(lead_filters)?;
            if !lead_filters.names_status() {
                conditions.push(Field::new("IsConverted")?.eq(false));
            }
            Ok(conditions)
        }
        _ => Err(Error::invalid(
            "pass either `ids` (Lead ids) or `filters` (searchLeads' filters), not both",
        )),
    }
}

/// `OwnerId` equal to a User id (005…), else the owner's name containing the text.
pub(crate) fn owner_filter(owner: &str) -> Result<Filter, Error> {
    let trimmed = owner.trim();
    let as_user_id = ids::parse("owner", trimmed)
        .ok()
        .filter(|id| id.key_prefix() == "005");
    Ok(match as_user_id {
        Some(id) => Field::new("OwnerId")?.eq(id.as_str()),
        None => Field::new("Owner.Name")?.contains(trimmed),
    })
}

fn lead_json(record: &Record, url: String) -> Value {
    json!({
        "id": text(record, "Id"),
        "name": text(record, "Name"),
        "title": text(record, "Title"),
        "company": text(record, "Company"),
        "email": text(record, "Email"),
        "phone": text(record, "Phone"),
        "status": text(record, "Status"),
        "rating": text(record, "Rating"),
        "industry": text(record, "Industry"),
        "leadSource": text(record, "LeadSource"),
        "annualRevenue": crate::output::number(record, "AnnualRevenue"),
        "numberOfEmployees": crate::output::number(record, "NumberOfEmployees"),
        "ownerId": text(record, "OwnerId"),
        "ownerName": text(record, "Owner.Name"),
        "createdDate": text(record, "CreatedDate"),
        "isConverted": crate::output::flag(record, "IsConverted"),
        "url": url
    })
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let cap = shared.config.row_cap();
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, cap);
    let fingerprint = cursor::fingerprint(
        "searchLeads",
        &serde_json::to_value(&args).map_err(|e| Error::invalid(e.to_string()))?,
    );
    let offset = match &args.cursor {
        Some(c) => cursor::decode(c, &fingerprint)?,
        None => 0,
    };
    let conditions = filters(&args.filters)?;
    let sort = Field::new(args.sort_by.api_name())?;
    let order = match args.sort_direction {
        Direction::Asc => sort.asc(),
        Direction::Desc => sort.desc(),
    };
    let page = conditions
        .iter()
        .cloned()
        .fold(Select::from("Lead").fields(FIELDS), Select::filter)
        .order_by(order.nulls_last())
        .order_by(Field::new("Id")?.asc())
        .limit(limit as u64)
        .offset(offset);
    let total = conditions
        .into_iter()
        .fold(Select::count("Lead"), Select::filter);
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let (records, total) = futures::try_join!(query(&connection, page), count(&connection, total))?;
    let next_offset = offset + records.len() as u64;
    let next_cursor = if next_offset < total && !records.is_empty() {
        if next_offset > MAX_OFFSET {
            None
        } else {
            Some(cursor::encode(&fingerprint, next_offset))
        }
    } else {
        None
    };
    let leads: Vec<Value> = records
        .iter()
        .map(|r| lead_json(r, connection.record_url("Lead", r.id().unwrap_or_default())))
        .collect();
    let mut summary = summarize(&leads, total, offset, next_cursor.is_some());
    if next_cursor.is_none() && next_offset < total {
        summary.push_str(&format!(
            "Only the first {next_offset} of {total} matches can be listed: add filters to narrow the search."
        ));
    }
    Ok(respond(
        summary,
        json!({
            "leads": leads,
            "totalSize": total,
            "offset": offset,
            "nextCursor": next_cursor
        }),
    ))
}

fn summarize(leads: &[Value], total: u64, offset: u64, more: bool) -> String {
    if leads.is_empty() {
        return if total == 0 {
            "No leads match these filters.".into()
        } else {
            format!("No more leads: all {total} matches were already returned.")
        };
    }
    let first = offset + 1;
    let last = offset + leads.len() as u64;
    let mut out = if total == 1 {
        "1 lead matches:\n".to_owned()
    } else {
        format!("{total} leads match; showing {first}-{last}:\n")
    };
    for lead in leads {
        let revenue = lead["annualRevenue"].as_f64().map_or_else(
            || "revenue —".to_owned(),
            |r| format!("revenue {}", money(r)),
        );
        out.push_str(&format!(
            "- {} — {} ({}, {}, {}, {}) {}\n",
            show(&lead["name"]),
            show(&lead["company"]),
            show(&lead["industry"]),
            show(&lead["rating"]),
            show(&lead["status"]),
            revenue,
            show(&lead["id"]),
        ));
    }
    if more {
        out.push_str("More leads match: call again with the same filters and cursor=nextCursor.");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soql(args: Value) -> String {
        let args: LeadFilters = serde_json::from_value(args).unwrap();
        filters(&args)
            .unwrap()
            .into_iter()
            .fold(Select::from("Lead").field("Id"), Select::filter)
            .to_soql()
            .unwrap()
    }

    #[test]
    fn filters_become_typed_conditions() {
        assert_eq!(
            soql(
                json!({"industry": ["Healthcare"], "rating": ["Hot", "Warm"], "createdPeriod": "this_week"})
            ),
            "SELECT Id FROM Lead WHERE Industry IN ('Healthcare') AND Rating IN ('Hot', 'Warm') AND CreatedDate = THIS_WEEK"
        );
        assert_eq!(
            soql(json!({"companyContains": "50%_O'Brien\\", "owner": "Jane"})),
            r"SELECT Id FROM Lead WHERE Company LIKE '%50\%\_O\'Brien\\%' AND Owner.Name LIKE '%Jane%'"
        );
        assert_eq!(
            soql(json!({"minAnnualRevenue": 1000000, "maxEmployees": 50})),
            "SELECT Id FROM Lead WHERE AnnualRevenue >= 1000000 AND NumberOfEmployees <= 50"
        );
        let user = salesforce_core::id::RecordId::mint("005", 3);
        assert_eq!(
            soql(json!({"owner": user.as_str()})),
            format!("SELECT Id FROM Lead WHERE OwnerId = '{}'", user.as_str())
        );
        let inverted: LeadFilters =
            serde_json::from_value(json!({"minEmployees": 10, "maxEmployees": 5})).unwrap();
        assert!(filters(&inverted).is_err());
    }

    #[test]
    fn the_fingerprint_ignores_paging_arguments() {
        let a: Args = serde_json::from_value(json!({"industry": ["Banking"], "limit": 5})).unwrap();
        let b: Args = serde_json::from_value(
            json!({"industry": ["Banking"], "limit": 9, "cursor": "x", "org": "o"}),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&b).unwrap()
        );
    }
}
