//! `summarizeAccountActivity`: a customer-360 timeline of one account over the last N months —
//! tasks and events (on the account, its opportunities and cases, or with its contacts), cases
//! opened, opportunities opened and closed, contacts added — counted by month and type, with
//! the most recent items of each type, ready for the model to narrate.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, Months, NaiveDate};
use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::Record;
use salesforce_api::soql::{Field, Filter, Select};
use serde::Deserialize;
use serde_json::{Value, json};

use super::account_insights::{account_arg, account_missing, resolve_account};
use super::{Shared, org_property, query, read_only, text_property};
use crate::output::{day, nullable, respond, show, text};
use crate::{CrmConfig, Error};

/// Rows read per kind of record.
const MAX_ROWS: u64 = 2_000;
/// Related records (opportunities, cases, contacts) whose activities are gathered.
const MAX_RELATED: u64 = 500;
const DEFAULT_MONTHS: u32 = 6;
const DEFAULT_RECENT: usize = 5;

/// The kinds counted, in the order they are listed.
const KINDS: [&str; 6] = [
    "tasks",
    "events",
    "cases",
    "opportunitiesOpened",
    "opportunitiesClosed",
    "contactsAdded",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    months: Option<u32>,
    #[serde(default)]
    recent_items: Option<usize>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool(_config: &CrmConfig) -> Tool {
    let item = json!({
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": KINDS},
            "id": {"type": "string"},
            "date": {"type": "string", "format": "date"},
            "title": nullable("string"),
            "detail": nullable("string"),
            "who": nullable("string"),
            "owner": nullable("string")
        },
        "required": ["kind", "id", "date", "title"]
    });
    let mut counts = serde_json::Map::new();
    for kind in KINDS {
        counts.insert(kind.to_owned(), json!({"type": "integer"}));
    }
    let mut month = counts.clone();
    month.insert(
        "month".into(),
        json!({"type": "string", "description": "YYYY-MM"}),
    );
    month.insert("total".into(), json!({"type": "integer"}));
    let mut totals = counts.clone();
    totals.insert("all".into(), json!({"type": "integer"}));
    let mut recent = serde_json::Map::new();
    for kind in KINDS {
        recent.insert(kind.to_owned(), json!({"type": "array", "items": item}));
    }
    Tool::new("summarizeAccountActivity")
        .title("Summarize account activity")
        .description(format!(
            "A customer-360 timeline of one Salesforce account over the last `months` months (default {DEFAULT_MONTHS}, up to 36, ending today): tasks and events (dated by ActivityDate; on the account, its opportunities or cases, or with its contacts), cases opened, opportunities opened (CreatedDate) and closed won/lost (CloseDate), and contacts added. \
Counts by month (every month of the window, oldest first, zeros included) and by type, plus the `recentItems` (default {DEFAULT_RECENT}) most recent items of each type. Computed from the org's records: quote the counts. \
Pass `id` (Account id, 001…) or `name` (exact name or text it contains; several matches fail with a list to choose from). \
Example: \"Summarize all interactions with Acme Corp in the last 6 months\" → {{\"name\":\"Acme Corp\",\"months\":6}}."
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 15, "maxLength": 18, "description": "Account id (001…)."},
                "name": text_property("Account name, or text it contains."),
                "months": {"type": "integer", "minimum": 1, "maximum": 36, "description": format!("How many months back from today (default {DEFAULT_MONTHS}).")},
                "recentItems": {"type": "integer", "minimum": 0, "maximum": 20, "description": format!("Most recent items listed per type (default {DEFAULT_RECENT}).")},
                "org": org_property()
            },
            "anyOf": [{"required": ["id"]}, {"required": ["name"]}],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "account": {"type": "object", "properties": {
                    "id": {"type": "string"}, "name": nullable("string"), "industry": nullable("string"),
                    "type": nullable("string"), "owner": nullable("string"), "url": {"type": "string"}
                }, "required": ["id", "name", "url"]},
                "window": {"type": "object", "properties": {
                    "months": {"type": "integer"}, "start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"}
                }, "required": ["months", "start", "end"]},
                "totals": {"type": "object", "properties": totals},
                "byMonth": {"type": "array", "items": {"type": "object", "properties": month}},
                "recent": {"type": "object", "properties": recent},
                "lastInteraction": {"type": ["object", "null"], "properties": item["properties"].clone()},
                "truncated": {"type": "boolean", "description": "Some kind had more rows than were read; counts are lower bounds."}
            },
            "required": ["account", "window", "totals", "byMonth", "recent", "lastInteraction", "truncated"]
        }))
        .annotations(read_only())
}

/// One timeline entry.
struct Item {
    kind: &'static str,
    date: NaiveDate,
    value: Value,
}

fn item(
    kind: &'static str,
    date: NaiveDate,
    r: &Record,
    title: &str,
    detail: Value,
    who: &str,
) -> Item {
    Item {
        kind,
        date,
        value: json!({
            "kind": kind,
            "id": text(r, "Id"),
            "date": date.to_string(),
            "title": text(r, title),
            "detail": detail,
            "who": if who.is_empty() { Value::Null } else { text(r, who) },
            "owner": text(r, "Owner.Name"),
        }),
    }
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let given = account_arg(args.id.as_deref(), args.name.as_deref())?;
    let months = args.months.unwrap_or(DEFAULT_MONTHS);
    if !(1..=36).contains(&months) {
        return Err(Error::invalid("`months` must be from 1 to 36"));
    }
    let recent_items = args.recent_items.unwrap_or(DEFAULT_RECENT).min(20);
    let today = shared.config.now().date_naive();
    let start = today
        .checked_sub_months(Months::new(months))
        .ok_or_else(|| Error::invalid("`months` reaches before year 0"))?;
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let id = resolve_account(&connection, given, args.name.as_deref()).await?;
    let id = id.as_str();
    let of_account = || Field::new("AccountId").map(|f| f.eq(id));
    let account = Select::from("Account")
        .fields(["Id", "Name", "Industry", "Type", "Owner.Name"])
        .filter(Field::new("Id")?.eq(id))
        .limit(1);
    let opportunities = Select::from("Opportunity")
        .fields([
            "Id",
            "Name",
            "StageName",
            "Amount",
            "IsClosed",
            "IsWon",
            "CloseDate",
            "CreatedDate",
            "Owner.Name",
        ])
        .filter(of_account()?)
        .order_by(Field::new("CreatedDate")?.desc())
        .order_by(Field::new("Id")?.asc())
        .limit(MAX_RELATED);
    let cases = Select::from("Case")
        .fields([
            "Id",
            "CaseNumber",
            "Subject",
            "Status",
            "Priority",
            "CreatedDate",
            "Contact.Name",
            "Owner.Name",
        ])
        .filter(of_account()?)
        .order_by(Field::new("CreatedDate")?.desc())
        .order_by(Field::new("Id")?.asc())
        .limit(MAX_RELATED);
    let contacts = Select::from("Contact")
        .fields(["Id", "Name", "Title", "CreatedDate", "Owner.Name"])
        .filter(of_account()?)
        .order_by(Field::new("CreatedDate")?.desc())
        .order_by(Field::new("Id")?.asc())
        .limit(MAX_RELATED);
    let (mut accounts, opportunities, cases, contacts) = futures::try_join!(
        query(&connection, account),
        query(&connection, opportunities),
        query(&connection, cases),
        query(&connection, contacts),
    )?;
    let account = accounts.pop().ok_or_else(|| account_missing(id))?;
    let mut related_what: Vec<&str> = vec![id];
    related_what.extend(opportunities.iter().filter_map(Record::id));
    related_what.extend(cases.iter().filter_map(Record::id));
    let related_who: Vec<&str> = contacts.iter().filter_map(Record::id).collect();
    let activities = |object: &str, fields: &[&str]| -> Result<Select, Error> {
        let mut linked = Field::new("WhatId")?.is_in(related_what.iter().copied());
        if !related_who.is_empty() {
            linked = Filter::any([
                linked,
                Field::new("WhoId")?.is_in(related_who.iter().copied()),
            ]);
        }
        Ok(Select::from(object)
            .fields(fields)
            .filter(linked)
            .filter(Field::new("ActivityDate")?.ge(start))
            .filter(Field::new("ActivityDate")?.le(today))
            .order_by(Field::new("ActivityDate")?.desc())
            .order_by(Field::new("Id")?.asc())
            .limit(MAX_ROWS))
    };
    let tasks = activities(
        "Task",
        &[
            "Id",
            "Subject",
            "Status",
            "Type",
            "ActivityDate",
            "Who.Name",
            "Owner.Name",
        ],
    )?;
    let events = activities(
        "Event",
        &[
            "Id",
            "Subject",
            "Type",
            "Location",
            "ActivityDate",
            "Who.Name",
            "Owner.Name",
        ],
    )?;
    let (tasks, events) =
        futures::try_join!(query(&connection, tasks), query(&connection, events))?;
    let truncated = [&tasks, &events].iter().any(|r| r.len() as u64 >= MAX_ROWS)
        || [&opportunities, &cases, &contacts]
            .iter()
            .any(|r| r.len() as u64 >= MAX_RELATED);

    let in_window = |d: NaiveDate| start <= d && d <= today;
    let mut items: Vec<Item> = Vec::new();
    for t in &tasks {
        if let Some(d) = day(t, "ActivityDate") {
            items.push(item(
                "tasks",
                d,
                t,
                "Subject",
                json!(format!(
                    "{} ({})",
                    show(&text(t, "Type")),
                    show(&text(t, "Status"))
                )),
                "Who.Name",
            ));
        }
    }
    for e in &events {
        if let Some(d) = day(e, "ActivityDate") {
            items.push(item(
                "events",
                d,
                e,
                "Subject",
                json!(format!(
                    "{} at {}",
                    show(&text(e, "Type")),
                    show(&text(e, "Location"))
                )),
                "Who.Name",
            ));
        }
    }
    for c in &cases {
        if let Some(d) = day(c, "CreatedDate").filter(|d| in_window(*d)) {
            items.push(item(
                "cases",
                d,
                c,
                "Subject",
                json!(format!(
                    "case {}: {}, {} priority",
                    show(&text(c, "CaseNumber")),
                    show(&text(c, "Status")),
                    show(&text(c, "Priority"))
                )),
                "Contact.Name",
            ));
        }
    }
    for o in &opportunities {
        let amount = o
            .get("Amount")
            .and_then(Value::as_f64)
            .map_or_else(|| "no amount".to_owned(), crate::output::money);
        if let Some(d) = day(o, "CreatedDate").filter(|d| in_window(*d)) {
            items.push(item(
                "opportunitiesOpened",
                d,
                o,
                "Name",
                json!(format!("opened: {}, {amount}", show(&text(o, "StageName")))),
                "",
            ));
        }
        let closed = o.get("IsClosed").and_then(Value::as_bool) == Some(true);
        if closed && let Some(d) = day(o, "CloseDate").filter(|d| in_window(*d)) {
            let won = o.get("IsWon").and_then(Value::as_bool) == Some(true);
            items.push(item(
                "opportunitiesClosed",
                d,
                o,
                "Name",
                json!(format!("{}: {amount}", if won { "won" } else { "lost" })),
                "",
            ));
        }
    }
    for c in &contacts {
        if let Some(d) = day(c, "CreatedDate").filter(|d| in_window(*d)) {
            items.push(item("contactsAdded", d, c, "Name", text(c, "Title"), ""));
        }
    }
    // Newest first; the id breaks ties so the order never depends on the order rows arrived in.
    items.sort_by(|a, b| {
        b.date
            .cmp(&a.date)
            .then_with(|| a.value["id"].as_str().cmp(&b.value["id"].as_str()))
    });

    let mut by_month: BTreeMap<String, BTreeMap<&str, u64>> = BTreeMap::new();
    let mut cursor = NaiveDate::from_ymd_opt(start.year(), start.month(), 1).unwrap_or(start);
    while cursor <= today {
        by_month.insert(cursor.format("%Y-%m").to_string(), BTreeMap::new());
        cursor = match cursor.checked_add_months(Months::new(1)) {
            Some(next) => next,
            None => break,
        };
    }
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for i in &items {
        *by_month
            .entry(i.date.format("%Y-%m").to_string())
            .or_default()
            .entry(i.kind)
            .or_default() += 1;
        *totals.entry(i.kind).or_default() += 1;
    }
    let count_object = |counts: &BTreeMap<&str, u64>| {
        let mut m = serde_json::Map::new();
        for kind in KINDS {
            m.insert(
                kind.to_owned(),
                json!(counts.get(kind).copied().unwrap_or(0)),
            );
        }
        m
    };
    let months_json: Vec<Value> = by_month
        .iter()
        .map(|(month, counts)| {
            let mut m = count_object(counts);
            m.insert("month".into(), json!(month));
            m.insert("total".into(), json!(counts.values().sum::<u64>()));
            Value::Object(m)
        })
        .collect();
    let mut totals_json = count_object(&totals);
    totals_json.insert("all".into(), json!(items.len()));
    let mut recent = serde_json::Map::new();
    for kind in KINDS {
        let list: Vec<&Value> = items
            .iter()
            .filter(|i| i.kind == kind)
            .take(recent_items)
            .map(|i| &i.value)
            .collect();
        recent.insert(kind.to_owned(), json!(list));
    }
    let structured = json!({
        "account": {
            "id": id,
            "name": text(&account, "Name"),
            "industry": text(&account, "Industry"),
            "type": text(&account, "Type"),
            "owner": text(&account, "Owner.Name"),
            "url": connection.record_url("Account", id),
        },
        "window": {"months": months, "start": start.to_string(), "end": today.to_string()},
        "totals": totals_json,
        "byMonth": months_json,
        "recent": recent,
        "lastInteraction": items.first().map(|i| i.value.clone()),
        "truncated": truncated,
    });
    Ok(respond(summarize(&structured), structured))
}

fn summarize(s: &Value) -> String {
    let t = &s["totals"];
    let mut out = format!(
        "{} ({}) from {} to {}: {} interactions — {} tasks, {} events, {} cases opened, {} opportunities opened, {} closed, {} contacts added.\n",
        show(&s["account"]["name"]),
        show(&s["account"]["id"]),
        show(&s["window"]["start"]),
        show(&s["window"]["end"]),
        show(&t["all"]),
        show(&t["tasks"]),
        show(&t["events"]),
        show(&t["cases"]),
        show(&t["opportunitiesOpened"]),
        show(&t["opportunitiesClosed"]),
        show(&t["contactsAdded"]),
    );
    out.push_str("By month: ");
    let months: Vec<String> = s["byMonth"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|m| format!("{} {}", show(&m["month"]), show(&m["total"])))
        .collect();
    out.push_str(&months.join(", "));
    out.push('\n');
    if let Some(last) = s["lastInteraction"].as_object() {
        out.push_str(&format!(
            "Last interaction: {} on {}: {}.",
            show(&last["kind"]),
            show(&last["date"]),
            show(&last["title"])
        ));
    } else {
        out.push_str("No interactions in this window.");
    }
    out
}
