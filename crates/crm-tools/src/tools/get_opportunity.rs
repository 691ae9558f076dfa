//! `getOpportunity`: one opportunity by id (key prefix 006) or name, with its account, owner,
//! contact roles, next step and recent activities (tasks and events on it), fetched concurrently.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::Record;
use salesforce_api::soql::{Field, Select};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{NameLookup, Shared, find_by_name, org_property, query, read_only, text_property};
use crate::output::{flag, money, nullable, number, respond, show, text};
use crate::{CrmConfig, Error, ids};

/// Activities returned per opportunity.
const RECENT_ACTIVITIES: u64 = 10;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool(_config: &CrmConfig) -> Tool {
    let person = json!({
        "type": ["object", "null"],
        "properties": {"id": nullable("string"), "name": nullable("string")}
    });
    Tool::new("getOpportunity")
        .title("Get opportunity")
        .description(
            "Gets one Salesforce opportunity with its account, owner, stage, amount, probability, close date, next step, contact roles (contact name, title, role, primary) and its 10 most recent activities (tasks and events). \
Pass `id` (an Opportunity id, starting with 006) when you have it; otherwise `name` (exact name, or text the name contains). \
If a name matches several opportunities the call fails and lists them: call again with the right id.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 15, "maxLength": 18, "description": "Opportunity id (006…)."},
                "name": text_property("Opportunity name, or text it contains."),
                "org": org_property()
            },
            "anyOf": [{"required": ["id"]}, {"required": ["name"]}],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": nullable("string"),
                "url": {"type": "string"},
                "stage": nullable("string"),
                "amount": nullable("number"),
                "probability": nullable("number"),
                "closeDate": nullable("string"),
                "type": nullable("string"),
                "nextStep": nullable("string"),
                "leadSource": nullable("string"),
                "forecastCategory": nullable("string"),
                "isClosed": {"type": "boolean"},
                "isWon": {"type": "boolean"},
                "description": nullable("string"),
                "account": {
                    "type": ["object", "null"],
                    "properties": {"id": nullable("string"), "name": nullable("string"), "industry": nullable("string")}
                },
                "owner": person,
                "contactRoles": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "contactId": nullable("string"), "name": nullable("string"), "title": nullable("string"),
                        "email": nullable("string"), "role": nullable("string"), "isPrimary": {"type": "boolean"}
                    }
                }},
                "recentActivities": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "enum": ["Task", "Event"]},
                        "id": nullable("string"), "subject": nullable("string"), "date": nullable("string"),
                        "status": nullable("string"), "who": nullable("string"), "owner": nullable("string")
                    }
                }}
            },
            "required": ["id", "name", "url", "stage", "amount", "closeDate", "contactRoles", "recentActivities"]
        }))
        .annotations(read_only())
}

const FIELDS: [&str; 21] = [
    "Id",
    "Name",
    "StageName",
    "Amount",
    "Probability",
    "CloseDate",
    "Type",
    "NextStep",
    "LeadSource",
    "ForecastCategoryName",
    "IsClosed",
    "IsWon",
    "Description",
    "AccountId",
    "Account.Name",
    "Account.Industry",
    "OwnerId",
    "Owner.Name",
    "CreatedDate",
    "LastModifiedDate",
    "LastActivityDate",
];

/// How a name finds an opportunity.
const LOOKUP: NameLookup = NameLookup {
    object: "Opportunity",
    noun: "opportunity",
    plural: "opportunities",
    fields: &["Id", "Name", "Account.Name", "StageName", "CloseDate"],
    order_by: "CloseDate",
    describe: |r| {
        format!(
            "{} \"{}\" ({}, {}, closes {})",
            r.id().unwrap_or_default(),
            r.get_str("Name").unwrap_or_default(),
            r.get_str("Account.Name").unwrap_or("no account"),
            r.get_str("StageName").unwrap_or_default(),
            r.get_str("CloseDate").unwrap_or("—"),
        )
    },
};

fn activity(kind: &str, record: &Record, date_field: &str) -> Value {
    json!({
        "kind": kind,
        "id": text(record, "Id"),
        "subject": text(record, "Subject"),
        "date": text(record, date_field),
        "status": text(record, "Status"),
        "who": text(record, "Who.Name"),
        "owner": text(record, "Owner.Name"),
    })
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let id = match (&args.id, &args.name) {
        (Some(id), _) => Some(ids::expect("id", id, &["Opportunity"])?.0),
        (None, Some(_)) => None,
        (None, None) => return Err(Error::invalid("pass `id` (006…) or `name`")),
    };
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let id = match (id, &args.name) {
        (Some(id), _) => id,
        (None, Some(name)) => find_by_name(&connection, &LOOKUP, name.trim()).await?,
        (None, None) => return Err(Error::invalid("pass `id` (006…) or `name`")),
    };
    let id = id.as_str();
    let opportunity = Select::from("Opportunity")
        .fields(FIELDS)
        .filter(Field::new("Id")?.eq(id))
        .limit(1);
    let roles = Select::from("OpportunityContactRole")
        .fields([
            "Id",
            "Role",
            "IsPrimary",
            "ContactId",
            "Contact.Name",
            "Contact.Title",
            "Contact.Email",
        ])
        .filter(Field::new("OpportunityId")?.eq(id))
        .order_by(Field::new("CreatedDate")?.asc())
        .limit(shared.config.row_cap() as u64);
    let tasks = Select::from("Task")
        .fields([
            "Id",
            "Subject",
            "Status",
            "ActivityDate",
            "Who.Name",
            "Owner.Name",
        ])
        .filter(Field::new("WhatId")?.eq(id))
        .order_by(Field::new("ActivityDate")?.desc().nulls_last())
        .order_by(Field::new("CreatedDate")?.desc())
        .limit(RECENT_ACTIVITIES);
    let events = Select::from("Event")
        .fields(["Id", "Subject", "StartDateTime", "Who.Name", "Owner.Name"])
        .filter(Field::new("WhatId")?.eq(id))
        .order_by(Field::new("StartDateTime")?.desc().nulls_last())
        .limit(RECENT_ACTIVITIES);
    let (mut found, roles, tasks, events) = futures::try_join!(
        query(&connection, opportunity),
        query(&connection, roles),
        query(&connection, tasks),
        query(&connection, events),
    )?;
    let record = found.pop().ok_or_else(|| {
        Error::NotFound(format!(
            "no opportunity has id {id} (it may have been deleted): use `search` to find it"
        ))
    })?;
    let mut roles: Vec<Value> = roles
        .iter()
        .map(|r| {
            json!({
                "contactId": text(r, "ContactId"),
                "name": text(r, "Contact.Name"),
                "title": text(r, "Contact.Title"),
                "email": text(r, "Contact.Email"),
                "role": text(r, "Role"),
                "isPrimary": flag(r, "IsPrimary"),
            })
        })
        .collect();
    // Primary contact first; the sort is stable, so the rest keep their creation order.
    roles.sort_by_key(|r| !r["isPrimary"].as_bool().unwrap_or(false));
    let mut activities: Vec<Value> = tasks
        .iter()
        .map(|t| activity("Task", t, "ActivityDate"))
        .chain(events.iter().map(|e| activity("Event", e, "StartDateTime")))
        .collect();
    // Newest first; dates and datetimes compare correctly as ISO text. Undated ones last.
    activities.sort_by(|a, b| {
        let key = |v: &Value| v["date"].as_str().map(|d| d.to_owned());
        match (key(a), key(b)) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    });
    activities.truncate(RECENT_ACTIVITIES as usize);
    let account = record.get("AccountId").map(|_| {
        json!({
            "id": text(&record, "AccountId"),
            "name": text(&record, "Account.Name"),
            "industry": text(&record, "Account.Industry"),
        })
    });
    let owner = json!({"id": text(&record, "OwnerId"), "name": text(&record, "Owner.Name")});
    let structured = json!({
        "id": id,
        "name": text(&record, "Name"),
        "url": connection.record_url("Opportunity", id),
        "stage": text(&record, "StageName"),
        "amount": number(&record, "Amount"),
        "probability": number(&record, "Probability"),
        "closeDate": text(&record, "CloseDate"),
        "type": text(&record, "Type"),
        "nextStep": text(&record, "NextStep"),
        "leadSource": text(&record, "LeadSource"),
        "forecastCategory": text(&record, "ForecastCategoryName"),
        "isClosed": flag(&record, "IsClosed"),
        "isWon": flag(&record, "IsWon"),
        "description": text(&record, "Description"),
        "account": account,
        "owner": owner,
        "contactRoles": roles,
        "recentActivities": activities,
    });
    Ok(respond(summarize(&structured), structured))
}

fn summarize(o: &Value) -> String {
    let amount = o["amount"]
        .as_f64()
        .map_or_else(|| "no amount".to_owned(), money);
    let mut out = format!(
        "{} ({}) — {}, {} at {}%, closes {}; account {}; owner {}.\nNext step: {}.\n",
        show(&o["name"]),
        show(&o["id"]),
        show(&o["stage"]),
        amount,
        show(&o["probability"]),
        show(&o["closeDate"]),
        show(&o["account"]["name"]),
        show(&o["owner"]["name"]),
        show(&o["nextStep"]),
    );
    let roles = o["contactRoles"].as_array().map_or(&[][..], Vec::as_slice);
    if roles.is_empty() {
        out.push_str("No contact roles.\n");
    } else {
        out.push_str("Contact roles:\n");
        for r in roles {
            out.push_str(&format!(
                "- {} ({}): {}{}\n",
                show(&r["name"]),
                show(&r["title"]),
                show(&r["role"]),
                if r["isPrimary"].as_bool() == Some(true) {
                    ", primary"
                } else {
                    ""
                }
            ));
        }
    }
    let activities = o["recentActivities"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    if activities.is_empty() {
        out.push_str("No activities.");
    } else {
        out.push_str("Recent activities:\n");
        for a in activities {
            out.push_str(&format!(
                "- {} {}: {} ({})\n",
                show(&a["kind"]),
                show(&a["date"]),
                show(&a["subject"]),
                show(&a["who"]),
            ));
        }
    }
    out
}
