//! `search` and `fetch`, the pair ChatGPT's deep research and company knowledge require:
//! `search {query}` answers one text content holding `{"results":[{"id","title","url"}]}` and
//! `fetch {id}` one holding `{"id","title","text","url","metadata"}`, over leads, contacts,
//! accounts, opportunities and cases.
//!
//! Search runs one SOQL query per object, concurrently: a record matches when every word of the
//! query appears (literally, case-insensitively) in one of the object's name fields. SOQL rather
//! than SOSL so that it behaves the same on every org and on the sandbox.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::Record;
use salesforce_api::soql::{Field, Filter, Select};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Shared, query, read_only};
use crate::output::{money, show};
use crate::{Connection, Error, ids};

/// Results per object.
const PER_OBJECT: u64 = 5;
/// Words of a query that are matched (the rest are ignored).
const MAX_WORDS: usize = 8;

/// How one object is searched and shown.
struct Searchable {
    object: &'static str,
    /// Fields a query word may appear in.
    matched: &'static [&'static str],
    /// Fields read for the title.
    listed: &'static [&'static str],
    /// Fields read by `fetch`, in display order.
    fetched: &'static [&'static str],
    title: fn(&Record) -> String,
}

fn s<'a>(r: &'a Record, path: &str) -> &'a str {
    r.get_str(path).unwrap_or("")
}

fn with_details(head: String, details: &[&str]) -> String {
    let details: Vec<&str> = details.iter().copied().filter(|d| !d.is_empty()).collect();
    if details.is_empty() {
        head
    } else {
        format!("{head} ({})", details.join(", "))
    }
}

const SEARCHABLE: [Searchable; 5] = [
    Searchable {
        object: "Lead",
        matched: &["Name", "Company", "Email"],
        listed: &["Id", "Name", "Company", "Status"],
        fetched: &[
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
            "City",
            "Country",
            "Owner.Name",
            "CreatedDate",
            "Description",
        ],
        title: |r| {
            with_details(
                format!("Lead: {}", s(r, "Name")),
                &[s(r, "Company"), s(r, "Status")],
            )
        },
    },
    Searchable {
        object: "Contact",
        matched: &["Name", "Email"],
        listed: &["Id", "Name", "Title", "Account.Name"],
        fetched: &[
            "Id",
            "Name",
            "Title",
            "Department",
            "Email",
            "Phone",
            "Account.Name",
            "MailingCity",
            "MailingCountry",
            "LeadSource",
            "Owner.Name",
            "CreatedDate",
            "Description",
        ],
        title: |r| {
            with_details(
                format!("Contact: {}", s(r, "Name")),
                &[s(r, "Title"), s(r, "Account.Name")],
            )
        },
    },
    Searchable {
        object: "Account",
        matched: &["Name"],
        listed: &["Id", "Name", "Industry", "BillingCity"],
        fetched: &[
            "Id",
            "Name",
            "Type",
            "Industry",
            "Rating",
            "AnnualRevenue",
            "NumberOfEmployees",
            "Website",
            "Phone",
            "BillingCity",
            "BillingCountry",
            "Owner.Name",
            "CreatedDate",
            "Description",
        ],
        title: |r| {
            with_details(
                format!("Account: {}", s(r, "Name")),
                &[s(r, "Industry"), s(r, "BillingCity")],
            )
        },
    },
    Searchable {
        object: "Opportunity",
        matched: &["Name"],
        listed: &["Id", "Name", "StageName", "Account.Name"],
        fetched: &[
            "Id",
            "Name",
            "Account.Name",
            "StageName",
            "Amount",
            "Probability",
            "CloseDate",
            "Type",
            "NextStep",
            "LeadSource",
            "Owner.Name",
            "CreatedDate",
            "Description",
        ],
        title: |r| {
            with_details(
                format!("Opportunity: {}", s(r, "Name")),
                &[s(r, "Account.Name"), s(r, "StageName")],
            )
        },
    },
    Searchable {
        object: "Case",
        matched: &["Subject", "CaseNumber"],
        listed: &["Id", "CaseNumber", "Subject", "Status"],
        fetched: &[
            "Id",
            "CaseNumber",
            "Subject",
            "Status",
            "Priority",
            "Origin",
            "Type",
            "Account.Name",
            "Contact.Name",
            "Owner.Name",
            "CreatedDate",
            "Description",
        ],
        title: |r| {
            with_details(
                format!("Case {}: {}", s(r, "CaseNumber"), s(r, "Subject")),
                &[s(r, "Status")],
            )
        },
    },
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchArgs {
    query: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FetchArgs {
    id: String,
}

pub(crate) fn search_tool() -> Tool {
    Tool::new("search")
        .title("Search CRM records")
        .description(
            "Searches Salesforce leads, contacts, accounts, opportunities and cases by name (leads also by company and email, contacts by email, cases by subject and number). \
A record matches when every word of the query appears in one of those fields (literal text, case-insensitive), so use names, not questions: \"Acme\", \"Jane Smith\", \"renewal 2026\". \
Returns up to 5 results per object, each with an id to pass to `fetch`.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Words to look for in record names."}
            },
            "required": ["query"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "results": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "url": {"type": "string"}},
                    "required": ["id", "title", "url"]
                }}
            },
            "required": ["results"]
        }))
        .annotations(read_only())
}

pub(crate) fn fetch_tool() -> Tool {
    Tool::new("fetch")
        .title("Fetch CRM record")
        .description(
            "Fetches one Salesforce lead, contact, account, opportunity or case by the id `search` returned, as readable text with its main fields, a link, and the fields as metadata.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 15, "maxLength": 18, "description": "A record id from `search`."}
            },
            "required": ["id"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "text": {"type": "string"},
                "url": {"type": "string"},
                "metadata": {"type": "object"}
            },
            "required": ["id", "title", "text", "url", "metadata"]
        }))
        .annotations(read_only())
}

/// The query's words (at most [`MAX_WORDS`]).
fn words(query: &str) -> Vec<&str> {
    query.split_whitespace().take(MAX_WORDS).collect()
}

/// Every word in one of the object's matched fields.
fn search_filter(searchable: &Searchable, words: &[&str]) -> Result<Filter, Error> {
    let mut all = Vec::new();
    for word in words {
        let mut any = Vec::new();
        for field in searchable.matched {
            any.push(Field::new(field)?.contains(word));
        }
        all.push(Filter::any(any));
    }
    Ok(Filter::all(all))
}

async fn search_object(
    connection: &Connection,
    searchable: &Searchable,
    words: &[&str],
) -> Result<Vec<Value>, Error> {
    let select = Select::from(searchable.object)
        .fields(searchable.listed)
        .filter(search_filter(searchable, words)?)
        .order_by(Field::new(searchable.listed.get(1).copied().unwrap_or("Id"))?.asc())
        .limit(PER_OBJECT);
    let records = query(connection, select).await?;
    Ok(records
        .iter()
        .filter_map(|r| {
            let id = r.id()?;
            Some(json!({
                "id": id,
                "title": (searchable.title)(r),
                "url": connection.record_url(searchable.object, id),
            }))
        })
        .collect())
}

pub(crate) async fn search(
    shared: Arc<Shared>,
    args: SearchArgs,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let words = words(&args.query);
    if words.is_empty() {
        return Err(Error::invalid(
            "`query` is blank: give a name or words to look for",
        ));
    }
    let connection = shared.connect(&cx, None).await?;
    let [lead, contact, account, opportunity, case] = &SEARCHABLE;
    let found = futures::try_join!(
        search_object(&connection, lead, &words),
        search_object(&connection, contact, &words),
        search_object(&connection, account, &words),
        search_object(&connection, opportunity, &words),
        search_object(&connection, case, &words),
    )?;
    let results: Vec<Value> = [found.0, found.1, found.2, found.3, found.4]
        .into_iter()
        .flatten()
        .collect();
    Ok(ToolOutput::structured(json!({ "results": results })))
}

/// A field value for the fetched text, or `None` when empty.
fn display(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        other => Some(show(other)),
    }
}

pub(crate) async fn fetch(
    shared: Arc<Shared>,
    args: FetchArgs,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let objects: Vec<&'static str> = SEARCHABLE.iter().map(|s| s.object).collect();
    let (id, object) = ids::expect("id", &args.id, &objects)?;
    let searchable = SEARCHABLE
        .iter()
        .find(|s| s.object == object)
        .ok_or_else(|| Error::invalid("unsupported object"))?;
    let connection = shared.connect(&cx, None).await?;
    let mut found = query(
        &connection,
        Select::from(object)
            .fields(searchable.fetched)
            .filter(Field::new("Id")?.eq(id.as_str()))
            .limit(1),
    )
    .await?;
    let record = found.pop().ok_or_else(|| {
        Error::NotFound(format!(
            "no {object} has id {} (it may have been deleted): search again",
            id.as_str()
        ))
    })?;
    let title = (searchable.title)(&record);
    let mut lines = vec![title.clone(), String::new()];
    let mut metadata = Map::new();
    metadata.insert("object".into(), json!(object));
    let mut description = None;
    for path in searchable.fetched.iter().filter(|p| **p != "Id") {
        let value = record.get(path).cloned().unwrap_or(Value::Null);
        let Some(shown) = display(&value) else {
            continue;
        };
        if *path == "Description" {
            description = Some(shown);
            continue;
        }
        let shown = match (*path, value.as_f64()) {
            ("Amount" | "AnnualRevenue", Some(n)) => money(n),
            _ => shown,
        };
        lines.push(format!("{}: {shown}", label(path)));
        metadata.insert((*path).to_owned(), value);
    }
    if let Some(d) = description {
        lines.push(String::new());
        lines.push(d);
    }
    Ok(ToolOutput::structured(json!({
        "id": id.as_str(),
        "title": title,
        "text": lines.join("\n"),
        "url": connection.record_url(object, id.as_str()),
        "metadata": metadata,
    })))
}

/// `Owner.Name` → `Owner`, `StageName` → `Stage Name`.
fn label(path: &str) -> String {
    let path = path.strip_suffix(".Name").unwrap_or(path);
    let mut out = String::new();
    for (i, c) in path.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_must_match_some_name_field() {
        let [lead, ..] = &SEARCHABLE;
        let soql = Select::from("Lead")
            .field("Id")
            .filter(search_filter(lead, &words("O'Brien  50%")).unwrap())
            .to_soql()
            .unwrap();
        assert_eq!(
            soql,
            r"SELECT Id FROM Lead WHERE (Name LIKE '%O\'Brien%' OR Company LIKE '%O\'Brien%' OR Email LIKE '%O\'Brien%') AND (Name LIKE '%50\%%' OR Company LIKE '%50\%%' OR Email LIKE '%50\%%')"
        );
        assert_eq!(words(&"w ".repeat(20)).len(), MAX_WORDS);
        assert_eq!(label("Owner.Name"), "Owner");
        assert_eq!(label("NumberOfEmployees"), "Number Of Employees");
    }
}
