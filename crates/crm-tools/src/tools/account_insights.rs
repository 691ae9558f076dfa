//! `getAccountInsights`: one account with its open opportunities, key contacts, open cases and
//! total and weighted pipeline, the four queries running concurrently. Pipeline figures are
//! computed here, over every open opportunity (up to [`MAX_OPEN_OPPORTUNITIES`]), not only the
//! ones listed.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::Record;
use salesforce_api::soql::{Field, Select};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{NameLookup, Shared, find_by_name, org_property, query, read_only, text_property};
use crate::output::{cents, flag, money, number, respond, show, text};
use crate::{Connection, CrmConfig, Error, ids};
use salesforce_core::id::RecordId;

/// Open opportunities read for the pipeline figures.
pub(crate) const MAX_OPEN_OPPORTUNITIES: u64 = 2_000;
/// Contacts read to pick the key ones from.
const CONTACTS_READ: u64 = 200;

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

const LOOKUP: NameLookup = NameLookup {
    object: "Account",
    noun: "account",
    plural: "accounts",
    fields: &["Id", "Name", "Industry", "BillingCity", "LastModifiedDate"],
    order_by: "LastModifiedDate",
    describe: |r| {
        format!(
            "{} \"{}\" ({}, {})",
            r.id().unwrap_or_default(),
            r.get_str("Name").unwrap_or_default(),
            r.get_str("Industry").unwrap_or("no industry"),
            r.get_str("BillingCity").unwrap_or("no city"),
        )
    },
};

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    Tool::new("getAccountInsights")
        .title("Account insights")
        .description(format!(
            "Gives a one-call overview of a Salesforce account: its details, open opportunities (soonest close first, up to {cap} listed), key contacts (those in contact roles on open deals first), open cases, and pipeline figures computed over all its open opportunities: \
totalPipeline = sum of Amount, weightedPipeline = sum of Amount × Probability / 100 (opportunities without an amount count as 0). \
Pass `id` (an Account id, 001…) or `name` (exact name or text it contains; several matches fail with a list to choose from)."
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 15, "maxLength": 18, "description": "Account id (001…)."},
                "name": text_property("Account name, or text it contains."),
                "org": org_property()
            },
            "anyOf": [{"required": ["id"]}, {"required": ["name"]}],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "account": {"type": "object"},
                "pipeline": {
                    "type": "object",
                    "properties": {
                        "openOpportunities": {"type": "integer"},
                        "totalPipeline": {"type": "number"},
                        "weightedPipeline": {"type": "number"},
                        "withoutAmount": {"type": "integer"}
                    },
                    "required": ["openOpportunities", "totalPipeline", "weightedPipeline", "withoutAmount"]
                },
                "openOpportunities": {"type": "array", "items": {"type": "object"}},
                "keyContacts": {"type": "array", "items": {"type": "object"}},
                "openCases": {"type": "array", "items": {"type": "object"}},
                "openCaseCount": {"type": "integer"}
            },
            "required": ["account", "pipeline", "openOpportunities", "keyContacts", "openCases", "openCaseCount"]
        }))
        .annotations(read_only())
}

/// Sums over open opportunities: (total, weighted, without amount).
pub(crate) fn pipeline(opportunities: &[Record]) -> (f64, f64, u64) {
    opportunities
        .iter()
        .fold((0.0, 0.0, 0), |(total, weighted, missing), o| {
            match o.get("Amount").and_then(Value::as_f64) {
                Some(amount) => {
                    let probability = o.get("Probability").and_then(Value::as_f64).unwrap_or(0.0);
                    (
                        total + amount,
                        weighted + amount * probability / 100.0,
                        missing,
                    )
                }
                None => (total, weighted, missing + 1),
            }
        })
}

/// A contact as listed under `keyContacts`.
fn contact_json(record: &Record, prefix: &str, roles: Vec<String>) -> Value {
    let field = |name: &str| text(record, &format!("{prefix}{name}"));
    json!({
        "id": field("Id"),
        "name": field("Name"),
        "title": field("Title"),
        "email": field("Email"),
        "phone": field("Phone"),
        "dealRoles": roles,
    })
}

/// Contacts in deal roles first (primary ones before others, each once with all its roles),
/// then the account's other contacts, at most `max`.
fn key_contacts(roles: &[Record], contacts: &[Record], max: usize) -> Vec<Value> {
    let mut ordered: Vec<&Record> = roles.iter().filter(|r| flag(r, "IsPrimary")).collect();
    ordered.extend(roles.iter().filter(|r| !flag(r, "IsPrimary")));
    let mut out: Vec<Value> = Vec::new();
    for role in ordered {
        let Some(id) = role.get_str("ContactId") else {
            continue;
        };
        let name = role.get_str("Role").map(str::to_owned);
        match out.iter_mut().find(|c| c["id"] == json!(id)) {
            Some(existing) => {
                if let (Some(name), Some(list)) = (name, existing["dealRoles"].as_array_mut())
                    && !list.contains(&json!(name))
                {
                    list.push(json!(name));
                }
            }
            None => {
                let mut contact = contact_json(role, "Contact.", name.into_iter().collect());
                contact["id"] = json!(id);
                out.push(contact);
            }
        }
    }
    for contact in contacts {
        if out.len() >= max {
            break;
        }
        if !out.iter().any(|c| c["id"].as_str() == contact.id()) {
            out.push(contact_json(contact, "", Vec::new()));
        }
    }
    out.truncate(max);
    out
}

/// The `id` argument checked before any call (`None`: look `name` up once connected).
pub(crate) fn account_arg(id: Option<&str>, name: Option<&str>) -> Result<Option<RecordId>, Error> {
    match (id, name) {
        (Some(id), _) => Ok(Some(ids::expect("id", id, &["Account"])?.0)),
        (None, Some(_)) => Ok(None),
        (None, None) => Err(Error::invalid("pass `id` (001…) or `name`")),
    }
}

/// The account's id: the one given, else the one `name` names.
pub(crate) async fn resolve_account(
    connection: &Connection,
    given: Option<RecordId>,
    name: Option<&str>,
) -> Result<RecordId, Error> {
    match given {
        Some(id) => Ok(id),
        None => find_by_name(connection, &LOOKUP, name.unwrap_or_default().trim()).await,
    }
}

/// The error for an account id that reads nothing.
pub(crate) fn account_missing(id: &str) -> Error {
    Error::NotFound(format!(
        "no account has id {id} (it may have been deleted): use `search` to find it"
    ))
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let given = account_arg(args.id.as_deref(), args.name.as_deref())?;
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let id = resolve_account(&connection, given, args.name.as_deref()).await?;
    let id = id.as_str();
    let cap = shared.config.row_cap();
    let account = Select::from("Account")
        .fields([
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
            "BillingState",
            "BillingCountry",
            "OwnerId",
            "Owner.Name",
            "Description",
        ])
        .filter(Field::new("Id")?.eq(id))
        .limit(1);
    let opportunities = Select::from("Opportunity")
        .fields([
            "Id",
            "Name",
            "StageName",
            "Amount",
            "Probability",
            "CloseDate",
            "Owner.Name",
        ])
        .filter(Field::new("AccountId")?.eq(id))
        .filter(Field::new("IsClosed")?.eq(false))
        .order_by(Field::new("CloseDate")?.asc())
        .order_by(Field::new("Id")?.asc())
        .limit(MAX_OPEN_OPPORTUNITIES);
    let contacts = Select::from("Contact")
        .fields(["Id", "Name", "Title", "Email", "Phone"])
        .filter(Field::new("AccountId")?.eq(id))
        .order_by(Field::new("CreatedDate")?.asc())
        .limit(CONTACTS_READ);
    let cases = Select::from("Case")
        .fields([
            "Id",
            "CaseNumber",
            "Subject",
            "Status",
            "Priority",
            "CreatedDate",
            "Contact.Name",
        ])
        .filter(Field::new("AccountId")?.eq(id))
        .filter(Field::new("IsClosed")?.eq(false))
        .order_by(Field::new("CreatedDate")?.desc())
        .limit(MAX_OPEN_OPPORTUNITIES);
    let (mut accounts, opportunities, contacts, cases) = futures::try_join!(
        query(&connection, account),
        query(&connection, opportunities),
        query(&connection, contacts),
        query(&connection, cases),
    )?;
    let account = accounts.pop().ok_or_else(|| account_missing(id))?;
    // People in contact roles on the listed open deals come first (they may belong to another
    // account), then the account's own contacts.
    let listed: Vec<&str> = opportunities
        .iter()
        .take(cap)
        .filter_map(Record::id)
        .collect();
    let roles = if listed.is_empty() {
        Vec::new()
    } else {
        query(
            &connection,
            Select::from("OpportunityContactRole")
                .fields([
                    "ContactId",
                    "Contact.Name",
                    "Contact.Title",
                    "Contact.Email",
                    "Contact.Phone",
                    "Role",
                    "IsPrimary",
                ])
                .filter(Field::new("OpportunityId")?.is_in(listed.iter().copied()))
                .order_by(Field::new("CreatedDate")?.asc())
                .limit(2_000),
        )
        .await?
    };
    let key_contacts = key_contacts(&roles, &contacts, cap.min(10));
    let (total, weighted, without_amount) = pipeline(&opportunities);
    let opportunity_rows: Vec<Value> = opportunities
        .iter()
        .take(cap)
        .map(|o| {
            json!({
                "id": text(o, "Id"),
                "name": text(o, "Name"),
                "stage": text(o, "StageName"),
                "amount": number(o, "Amount"),
                "probability": number(o, "Probability"),
                "closeDate": text(o, "CloseDate"),
                "owner": text(o, "Owner.Name"),
                "url": connection.record_url("Opportunity", o.id().unwrap_or_default()),
            })
        })
        .collect();
    let case_rows: Vec<Value> = cases
        .iter()
        .take(cap)
        .map(|c| {
            json!({
                "id": text(c, "Id"),
                "caseNumber": text(c, "CaseNumber"),
                "subject": text(c, "Subject"),
                "status": text(c, "Status"),
                "priority": text(c, "Priority"),
                "createdDate": text(c, "CreatedDate"),
                "contact": text(c, "Contact.Name"),
            })
        })
        .collect();
    let structured = json!({
        "account": {
            "id": id,
            "name": text(&account, "Name"),
            "url": connection.record_url("Account", id),
            "type": text(&account, "Type"),
            "industry": text(&account, "Industry"),
            "rating": text(&account, "Rating"),
            "annualRevenue": number(&account, "AnnualRevenue"),
            "numberOfEmployees": number(&account, "NumberOfEmployees"),
            "website": text(&account, "Website"),
            "phone": text(&account, "Phone"),
            "billingCity": text(&account, "BillingCity"),
            "billingState": text(&account, "BillingState"),
            "billingCountry": text(&account, "BillingCountry"),
            "owner": text(&account, "Owner.Name"),
            "description": text(&account, "Description"),
        },
        "pipeline": {
            "openOpportunities": opportunities.len(),
            "totalPipeline": cents(total),
            "weightedPipeline": cents(weighted),
            "withoutAmount": without_amount,
        },
        "openOpportunities": opportunity_rows,
        "keyContacts": key_contacts,
        "openCases": case_rows,
        "openCaseCount": cases.len(),
    });
    Ok(respond(summarize(&structured), structured))
}

fn summarize(s: &Value) -> String {
    let a = &s["account"];
    let p = &s["pipeline"];
    let mut out = format!(
        "{} ({}) — {}, {}, owner {}.\nPipeline: {} open opportunities, total {}, weighted {}.\n",
        show(&a["name"]),
        show(&a["id"]),
        show(&a["industry"]),
        show(&a["type"]),
        show(&a["owner"]),
        show(&p["openOpportunities"]),
        money(p["totalPipeline"].as_f64().unwrap_or(0.0)),
        money(p["weightedPipeline"].as_f64().unwrap_or(0.0)),
    );
    for o in s["openOpportunities"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
    {
        out.push_str(&format!(
            "- {}: {}, {} at {}%, closes {}\n",
            show(&o["name"]),
            show(&o["stage"]),
            o["amount"]
                .as_f64()
                .map_or_else(|| "no amount".into(), money),
            show(&o["probability"]),
            show(&o["closeDate"]),
        ));
    }
    let contacts: Vec<String> = s["keyContacts"]
        .as_array()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|c| format!("{} ({})", show(&c["name"]), show(&c["title"])))
        .collect();
    out.push_str(&format!(
        "Key contacts: {}.\nOpen cases: {}.",
        if contacts.is_empty() {
            "none".into()
        } else {
            contacts.join(", ")
        },
        show(&s["openCaseCount"]),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_pipeline_is_amount_times_probability() {
        let records: Vec<Record> = serde_json::from_value(json!([
            {"Amount": 100000.0, "Probability": 50.0},
            {"Amount": 20000.0, "Probability": 10.0},
            {"Amount": null, "Probability": 90.0},
            {"Amount": 5000.0}
        ]))
        .unwrap();
        assert_eq!(pipeline(&records), (125_000.0, 52_000.0, 1));
    }
}
