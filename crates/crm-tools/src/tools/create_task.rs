//! `createTask`: creates a Task and puts each related id where Salesforce expects it — Lead and
//! Contact ids in `WhoId`, Account, Opportunity and Case ids in `WhatId` — decided by key prefix.

use std::sync::Arc;

use chrono::NaiveDate;
use mcp_protocol::{Tool, ToolAnnotations, ToolContext, ToolOutput};
use salesforce_api::Record;
use salesforce_api::soql::{Field, Select};
use salesforce_core::id::RecordId;
use serde::Deserialize;
use serde_json::{Map, json};

use super::{Shared, org_property, query};
use crate::output::{nullable, respond, show, text};
use crate::{CrmConfig, Error, ids};

const WHO: [&str; 2] = ["Lead", "Contact"];
const WHAT: [&str; 3] = ["Account", "Opportunity", "Case"];
const PRIORITIES: [&str; 3] = ["High", "Normal", "Low"];
const STATUSES: [&str; 5] = [
    "Not Started",
    "In Progress",
    "Completed",
    "Waiting on someone else",
    "Deferred",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    subject: String,
    #[serde(default)]
    related_to: Option<String>,
    #[serde(default)]
    who_id: Option<String>,
    #[serde(default)]
    what_id: Option<String>,
    #[serde(default)]
    due_date: Option<NaiveDate>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    owner_id: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool(_config: &CrmConfig) -> Tool {
    Tool::new("createTask")
        .title("Create task")
        .description(
            "Creates a Salesforce task (a to-do or follow-up) and returns it. \
Link it with `relatedTo`: any Lead (00Q), Contact (003), Account (001), Opportunity (006) or Case (500) id — the tool puts person ids in WhoId and record ids in WhatId. \
To link both a person and a record, pass `whoId` (Lead or Contact) and `whatId` (Account, Opportunity or Case); a task on a Lead cannot also have a whatId. \
Defaults: status Not Started, priority Normal, owner = the connected user.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "subject": {"type": "string", "minLength": 1, "maxLength": 255, "description": "What to do, e.g. \"Send pricing proposal\"."},
                "relatedTo": {"type": "string", "minLength": 15, "maxLength": 18, "description": "One Lead, Contact, Account, Opportunity or Case id; placed in WhoId or WhatId by its prefix."},
                "whoId": {"type": "string", "minLength": 15, "maxLength": 18, "description": "The person: a Lead (00Q) or Contact (003) id."},
                "whatId": {"type": "string", "minLength": 15, "maxLength": 18, "description": "The record: an Account (001), Opportunity (006) or Case (500) id."},
                "dueDate": {"type": "string", "format": "date", "description": "Due date (YYYY-MM-DD)."},
                "priority": {"type": "string", "enum": PRIORITIES, "description": "Priority (default Normal)."},
                "status": {"type": "string", "enum": STATUSES, "description": "Status (default Not Started)."},
                "ownerId": {"type": "string", "minLength": 15, "maxLength": 18, "description": "Assignee: a User id (005…). Default: the connected user."},
                "description": {"type": "string", "maxLength": 32000, "description": "Details (comments)."},
                "org": org_property()
            },
            "required": ["subject"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "url": {"type": "string"},
                "subject": nullable("string"),
                "status": nullable("string"),
                "priority": nullable("string"),
                "dueDate": nullable("string"),
                "whoId": nullable("string"),
                "whoName": nullable("string"),
                "whatId": nullable("string"),
                "whatName": nullable("string"),
                "ownerId": nullable("string"),
                "ownerName": nullable("string"),
                "description": nullable("string")
            },
            "required": ["id", "url", "subject", "status", "priority", "dueDate", "whoId", "whatId", "ownerId"]
        }))
        .annotations(ToolAnnotations {
            read_only: Some(false),
            destructive: Some(false),
            idempotent: Some(false),
            open_world: Some(false),
        })
}

/// Where the task's related ids go.
#[derive(Debug, Default, PartialEq)]
struct Links {
    who: Option<(RecordId, &'static str)>,
    what: Option<(RecordId, &'static str)>,
}

/// Decides `WhoId` and `WhatId` from the arguments, refusing ids in the wrong place with a
/// message that says where they belong.
fn place(
    related_to: Option<&str>,
    who_id: Option<&str>,
    what_id: Option<&str>,
) -> Result<Links, Error> {
    let mut links = Links::default();
    if let Some(text) = who_id {
        let id = ids::parse("whoId", text)?;
        match id.standard_object() {
            Some(o) if WHO.contains(&o) => links.who = Some((id, o)),
            Some(o) if WHAT.contains(&o) => {
                return Err(Error::invalid(format!(
                    "`whoId` takes a Lead (00Q) or Contact (003) id; `{}` is {}: pass it as `whatId` (or `relatedTo`)",
                    id.as_str(),
                    ids::describe_kind(&id),
                )));
            }
            _ => {
                return Err(Error::invalid(format!(
                    "`whoId` takes a Lead (00Q) or Contact (003) id; `{}` is {}",
                    id.as_str(),
                    ids::describe_kind(&id)
                )));
            }
        }
    }
    if let Some(text) = what_id {
        let id = ids::parse("whatId", text)?;
        match id.standard_object() {
            Some(o) if WHAT.contains(&o) => links.what = Some((id, o)),
            Some(o) if WHO.contains(&o) => {
                return Err(Error::invalid(format!(
                    "`whatId` takes an Account (001), Opportunity (006) or Case (500) id; `{}` is {}: pass it as `whoId` (or `relatedTo`)",
                    id.as_str(),
                    ids::describe_kind(&id),
                )));
            }
            _ => {
                return Err(Error::invalid(format!(
                    "`whatId` takes an Account (001), Opportunity (006) or Case (500) id; `{}` is {}",
                    id.as_str(),
                    ids::describe_kind(&id)
                )));
            }
        }
    }
    if let Some(text) = related_to {
        let mut all = WHO.to_vec();
        all.extend(WHAT);
        let (id, object) = ids::expect("relatedTo", text, &all)?;
        let slot = if WHO.contains(&object) {
            &mut links.who
        } else {
            &mut links.what
        };
        if let Some((existing, _)) = slot
            && *existing != id
        {
            return Err(Error::invalid(format!(
                "`relatedTo` ({}) and `{}` ({}) both name the task's {}; pass only one of them",
                id.as_str(),
                if WHO.contains(&object) {
                    "whoId"
                } else {
                    "whatId"
                },
                existing.as_str(),
                if WHO.contains(&object) {
                    "person"
                } else {
                    "record"
                },
            )));
        }
        *slot = Some((id, object));
    }
    if let (Some((lead, "Lead")), Some((what, _))) = (&links.who, &links.what) {
        return Err(Error::invalid(format!(
            "a task on a Lead ({}) cannot also be related to {} (Salesforce allows WhatId only with a Contact): drop the whatId, or use a Contact",
            lead.as_str(),
            what.as_str()
        )));
    }
    Ok(links)
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    super::sobject::allow_write(&shared, &cx, "createTask", "Task", "")?;
    if args.subject.trim().is_empty() {
        return Err(Error::invalid("`subject` is empty: say what the task is"));
    }
    let links = place(
        args.related_to.as_deref(),
        args.who_id.as_deref(),
        args.what_id.as_deref(),
    )?;
    let owner = args
        .owner_id
        .as_deref()
        .map(|o| ids::expect("ownerId", o, &["User"]))
        .transpose()?;
    let mut fields = Map::new();
    fields.insert("Subject".into(), json!(args.subject.trim()));
    if let Some((id, _)) = &links.who {
        fields.insert("WhoId".into(), json!(id.as_str()));
    }
    if let Some((id, _)) = &links.what {
        fields.insert("WhatId".into(), json!(id.as_str()));
    }
    if let Some(due) = args.due_date {
        fields.insert(
            "ActivityDate".into(),
            json!(due.format("%Y-%m-%d").to_string()),
        );
    }
    if let Some(p) = &args.priority {
        fields.insert("Priority".into(), json!(p));
    }
    if let Some(s) = &args.status {
        fields.insert("Status".into(), json!(s));
    }
    if let Some((id, _)) = &owner {
        fields.insert("OwnerId".into(), json!(id.as_str()));
    }
    if let Some(d) = &args.description {
        fields.insert("Description".into(), json!(d));
    }
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let result = connection.client.create_record("Task", &fields).await;
    let created =
        super::sobject::audit_result(&shared, &cx, "createTask", "Task", "", result, |c| {
            Some(c.id.clone())
        })?;
    let id = ids::parse("id", &created.id)?;
    // The task exists now: a failed read-back must not look like a failed create (the model
    // would create it again), so it falls back to what was sent.
    let read_back = query(
        &connection,
        Select::from("Task")
            .fields([
                "Id",
                "Subject",
                "Status",
                "Priority",
                "ActivityDate",
                "WhoId",
                "Who.Name",
                "WhatId",
                "What.Name",
                "OwnerId",
                "Owner.Name",
                "Description",
            ])
            .filter(Field::new("Id")?.eq(id.as_str()))
            .limit(1),
    )
    .await;
    let task = match read_back {
        Ok(mut found) => found.pop(),
        Err(e) => {
            tracing::warn!(error = %e, "created a task but could not read it back");
            None
        }
    }
    .unwrap_or_else(|| Record {
        attributes: None,
        fields: fields.clone(),
    });
    let structured = json!({
        "id": id.as_str(),
        "url": connection.record_url("Task", id.as_str()),
        "subject": text(&task, "Subject"),
        "status": text(&task, "Status"),
        "priority": text(&task, "Priority"),
        "dueDate": text(&task, "ActivityDate"),
        "whoId": text(&task, "WhoId"),
        "whoName": text(&task, "Who.Name"),
        "whatId": text(&task, "WhatId"),
        "whatName": text(&task, "What.Name"),
        "ownerId": text(&task, "OwnerId"),
        "ownerName": text(&task, "Owner.Name"),
        "description": text(&task, "Description"),
    });
    let summary = format!(
        "Created task \"{}\" ({}), due {}, {} priority, {}; who: {}; related to: {}; owner {}.",
        show(&structured["subject"]),
        id.as_str(),
        show(&structured["dueDate"]),
        show(&structured["priority"]),
        show(&structured["status"]),
        show(&structured["whoName"]),
        show(&structured["whatName"]),
        show(&structured["ownerName"]),
    );
    Ok(respond(summary, structured))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(prefix: &str) -> RecordId {
        RecordId::mint(prefix, 42)
    }

    #[test]
    fn related_ids_go_where_salesforce_expects_them() {
        let (lead, contact, account, opp, case, user) = (
            id("00Q"),
            id("003"),
            id("001"),
            id("006"),
            id("500"),
            id("005"),
        );
        let placed = |r: Option<&RecordId>, who: Option<&RecordId>, what: Option<&RecordId>| {
            place(
                r.map(RecordId::as_str),
                who.map(RecordId::as_str),
                what.map(RecordId::as_str),
            )
        };
        assert_eq!(
            placed(Some(&lead), None, None).unwrap(),
            Links {
                who: Some((lead, "Lead")),
                what: None
            }
        );
        for what in [&account, &opp, &case] {
            let links = placed(Some(what), None, None).unwrap();
            assert_eq!(links.who, None);
            assert_eq!(links.what.map(|(i, _)| i), Some(*what));
        }
        let both = placed(Some(&opp), Some(&contact), None).unwrap();
        assert_eq!(both.who.map(|(i, _)| i), Some(contact));
        assert_eq!(both.what.map(|(i, _)| i), Some(opp));
        let misplaced = placed(None, Some(&account), None).unwrap_err().to_string();
        assert!(misplaced.contains("pass it as `whatId`"), "{misplaced}");
        let misplaced = placed(None, None, Some(&contact)).unwrap_err().to_string();
        assert!(misplaced.contains("pass it as `whoId`"), "{misplaced}");
        assert!(placed(Some(&user), None, None).is_err());
        assert!(
            placed(None, Some(&lead), Some(&opp)).is_err(),
            "Lead + WhatId"
        );
        assert!(
            placed(Some(&account), None, Some(&opp)).is_err(),
            "two records"
        );
        assert!(
            placed(Some(&opp), None, Some(&opp)).is_ok(),
            "the same id twice is fine"
        );
        assert!(place(Some("' OR Id != null"), None, None).is_err());
    }
}
