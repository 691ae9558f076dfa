//! `routeLeads`: assigns lead owners by ordered territory/industry/round-robin steps (the
//! worker's routing rules, evaluated by the shared `lead-routing` crate). A dry run by default;
//! with `apply: true` it updates `OwnerId` on the leads whose owner changes (a write tool).

use std::collections::BTreeMap;
use std::sync::Arc;

use lead_routing::{RouteStep, route};
use mcp_protocol::{Tool, ToolAnnotations, ToolContext, ToolOutput};
use salesforce_api::Record;
use salesforce_api::soql::{Field, Select};
use serde::Deserialize;
use serde_json::{Value, json};

use super::search_leads::{LeadFilters, filter_properties, lead_selection};
use super::{Shared, count, org_property, query};
use crate::output::{nullable, respond, show, text};
use crate::{CrmConfig, Error};

/// Default number of leads routed per call.
const DEFAULT_LIMIT: usize = 50;
/// Most routing steps one call may pass.
const MAX_STEPS: usize = 50;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    #[serde(default)]
    ids: Option<Vec<String>>,
    #[serde(default)]
    filters: Option<LeadFilters>,
    #[serde(default)]
    rules: Option<Vec<RouteStep>>,
    #[serde(default)]
    apply: bool,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    let configured = if config.lead_routing.is_empty() {
        "No rules are configured on this server: pass `rules`.".to_owned()
    } else {
        format!(
            "Without `rules` the server's {} configured step(s) apply.",
            config.lead_routing.len()
        )
    };
    let condition = json!({
        "type": "object",
        "properties": {
            "field": {"type": "string", "pattern": "^[A-Za-z0-9_]{1,80}$", "description": "Lead field API name, e.g. State, Industry, Country, LeadSource."},
            "equals": {"type": "string", "maxLength": 255},
            "in": {"type": "array", "items": {"type": "string", "maxLength": 255}, "minItems": 1, "maxItems": 100},
            "present": {"type": "boolean"}
        },
        "required": ["field"],
        "additionalProperties": false
    });
    let user_id = json!({"type": "string", "pattern": "^005[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$"});
    Tool::new("routeLeads")
        .title("Route leads")
        .description(format!(
            "Assigns owners to Salesforce leads by ordered routing steps: the first step that applies names the owner. A step is either {{\"when\": [conditions], \"ownerId\": \"005…\"}} (territory: {{\"field\":\"State\",\"in\":[\"CA\",\"OR\"]}}; industry: {{\"field\":\"Industry\",\"equals\":\"Healthcare\"}}; all conditions must hold) or {{\"roundRobin\": [\"005…\", …]}} (spreads leads over users by a stable hash of the lead id, so the same lead always goes to the same user). {configured} \
DRY RUN by default: it returns the proposed assignments and changes nothing. Only with \"apply\": true does it update OwnerId on leads whose owner changes; confirm with the user before applying. \
Pass `ids` (Lead ids) or `filters` (searchLeads' filters; converted leads are left out unless a status is given); at most `limit` leads (default {DEFAULT_LIMIT}, at most {cap}) per call, newest first."
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "ids": {"type": "array", "items": {"type": "string", "minLength": 15, "maxLength": 18}, "minItems": 1, "maxItems": cap, "uniqueItems": true, "description": "Lead ids (00Q…) to route."},
                "filters": {"type": "object", "properties": filter_properties(config), "additionalProperties": false, "description": "searchLeads' filters: route the leads they match."},
                "rules": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_STEPS,
                    "description": "Routing steps, tried in order (default: the server's configured steps).",
                    "items": {"oneOf": [
                        {"type": "object", "properties": {"when": {"type": "array", "items": condition, "maxItems": 20}, "ownerId": user_id}, "required": ["when", "ownerId"], "additionalProperties": false},
                        {"type": "object", "properties": {"roundRobin": {"type": "array", "items": user_id, "minItems": 1, "maxItems": 100}}, "required": ["roundRobin"], "additionalProperties": false}
                    ]}
                },
                "apply": {"type": "boolean", "description": "true: update the owners. false (default): dry run."},
                "limit": {"type": "integer", "minimum": 1, "maximum": cap, "description": format!("Most leads routed (default {DEFAULT_LIMIT}).")},
                "org": org_property()
            },
            "oneOf": [{"required": ["ids"]}, {"required": ["filters"]}],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "applied": {"type": "boolean", "description": "false: a dry run, nothing changed."},
                "matching": {"type": "integer"},
                "considered": {"type": "integer"},
                "changed": {"type": "integer", "description": "Leads whose owner would change (dry run) or changed."},
                "unchanged": {"type": "integer"},
                "unrouted": {"type": "integer", "description": "Leads no step applies to (owner kept)."},
                "failed": {"type": "integer"},
                "byOwner": {"type": "array", "items": {"type": "object", "properties": {
                    "ownerId": {"type": "string"}, "ownerName": nullable("string"), "leads": {"type": "integer"}
                }, "required": ["ownerId", "ownerName", "leads"]}},
                "assignments": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"},
                    "name": nullable("string"),
                    "company": nullable("string"),
                    "currentOwnerId": nullable("string"),
                    "currentOwnerName": nullable("string"),
                    "newOwnerId": nullable("string"),
                    "newOwnerName": nullable("string"),
                    "step": {"type": ["integer", "null"], "description": "0-based index of the step that applied."},
                    "outcome": {"type": "string", "enum": ["change", "changed", "unchanged", "unrouted", "failed"]},
                    "error": nullable("string")
                }, "required": ["id", "currentOwnerId", "newOwnerId", "step", "outcome"]}}
            },
            "required": ["applied", "matching", "considered", "changed", "unchanged", "unrouted", "failed", "byOwner", "assignments"]
        }))
        .annotations(ToolAnnotations {
            read_only: Some(false),
            destructive: Some(true),
            idempotent: Some(true),
            open_world: Some(false),
        })
}

/// A field's value as routing conditions compare it (null and absent are empty).
fn field_text(record: &Record, name: &str) -> String {
    match record.get(name) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let config = &shared.config;
    let steps = match &args.rules {
        Some(steps) => steps.as_slice(),
        None if !config.lead_routing.is_empty() => config.lead_routing.as_slice(),
        None => {
            return Err(Error::invalid(
                "no routing rules are configured on this server: pass `rules`, e.g. [{\"when\":[{\"field\":\"State\",\"in\":[\"CA\"]}],\"ownerId\":\"005…\"},{\"roundRobin\":[\"005…\",\"005…\"]}]",
            ));
        }
    };
    for (i, step) in steps.iter().enumerate() {
        step.validate()
            .map_err(|m| Error::invalid(format!("`rules[{i}]`: {m}")))?;
    }
    if args.apply && !config.may_write("Lead") {
        return Err(Error::NotAllowed(
            "this server does not allow changing leads: run routeLeads without `apply`".into(),
        ));
    }
    let limit = args
        .limit
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, config.row_cap());
    let mut fields: Vec<&str> = vec!["Id", "Name", "Company", "OwnerId", "Owner.Name"];
    for f in steps.iter().flat_map(RouteStep::fields) {
        if !fields.iter().any(|known| known.eq_ignore_ascii_case(f)) {
            fields.push(f);
        }
    }
    let conditions = lead_selection(args.ids.as_deref(), args.filters.as_ref(), config.row_cap())?;
    let select = conditions
        .iter()
        .cloned()
        .fold(Select::from("Lead").fields(&fields), Select::filter)
        .order_by(Field::new("CreatedDate")?.desc())
        .order_by(Field::new("Id")?.asc())
        .limit(limit as u64);
    let total = conditions
        .into_iter()
        .fold(Select::count("Lead"), Select::filter);
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let (leads, matching) =
        futures::try_join!(query(&connection, select), count(&connection, total))?;

    let mut owner_ids: Vec<&str> = steps
        .iter()
        .flat_map(|s| match s {
            RouteStep::Conditional { owner_id, .. } => vec![owner_id.as_str()],
            RouteStep::RoundRobin { round_robin } => {
                round_robin.iter().map(String::as_str).collect()
            }
        })
        .collect();
    owner_ids.sort_unstable();
    owner_ids.dedup();
    let users = query(
        &connection,
        Select::from("User")
            .fields(["Id", "Name", "IsActive"])
            .filter(Field::new("Id")?.is_in(owner_ids.iter().copied()))
            .limit(owner_ids.len() as u64),
    )
    .await?;
    let same_id = |a: &str, b: &str| a.get(..15) == b.get(..15);
    let user = |id: &str| {
        users
            .iter()
            .find(|u| u.id().is_some_and(|u| same_id(u, id)))
    };
    if let Some(bad) = owner_ids.iter().find(|id| {
        user(id).is_none_or(|u| u.get("IsActive").and_then(Value::as_bool) == Some(false))
    }) {
        return Err(Error::invalid(format!(
            "`rules` names {bad}, which is not an active user of this org: use an active User id (005…)"
        )));
    }

    let mut assignments: Vec<Value> = Vec::with_capacity(leads.len());
    let mut updates: Vec<Value> = Vec::new();
    for lead in &leads {
        let id = lead.id().unwrap_or_default();
        let routed = route(steps, id, &|name| field_text(lead, name));
        let current = lead.get_str("OwnerId");
        let (new_owner, step, outcome) = match routed {
            None => (None, None, "unrouted"),
            Some(r) if current.is_some_and(|c| same_id(c, r.owner_id)) => {
                (Some(r.owner_id), Some(r.step), "unchanged")
            }
            Some(r) => {
                updates
                    .push(json!({"attributes": {"type": "Lead"}, "Id": id, "OwnerId": r.owner_id}));
                (
                    Some(r.owner_id),
                    Some(r.step),
                    if args.apply { "changed" } else { "change" },
                )
            }
        };
        assignments.push(json!({
            "id": id,
            "name": text(lead, "Name"),
            "company": text(lead, "Company"),
            "currentOwnerId": current,
            "currentOwnerName": text(lead, "Owner.Name"),
            "newOwnerId": new_owner,
            "newOwnerName": new_owner.and_then(user).and_then(|u| u.get_str("Name")),
            "step": step,
            "outcome": outcome,
            "error": Value::Null,
        }));
    }
    let mut failed = 0;
    if args.apply && !updates.is_empty() {
        let results = connection.client.update_records(&updates, false).await?;
        for (update, result) in updates.iter().zip(&results) {
            let id = update["Id"].as_str().unwrap_or_default();
            if result.success {
                tracing::info!(tool = "routeLeads", object = "Lead", record = %id, owner = %update["OwnerId"], "CRM write");
                continue;
            }
            failed += 1;
            if let Some(a) = assignments.iter_mut().find(|a| a["id"] == json!(id)) {
                a["outcome"] = json!("failed");
                a["error"] = json!(
                    result
                        .errors
                        .iter()
                        .map(|e| format!("{}: {}", e.status_code, e.message))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
        }
    }
    let tally = |outcome: &str| {
        assignments
            .iter()
            .filter(|a| a["outcome"] == json!(outcome))
            .count()
    };
    let mut by_owner: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &assignments {
        if let Some(owner) = a["newOwnerId"].as_str() {
            *by_owner.entry(owner).or_default() += 1;
        }
    }
    let by_owner: Vec<Value> = by_owner
        .into_iter()
        .map(|(id, n)| json!({"ownerId": id, "ownerName": user(id).and_then(|u| u.get_str("Name")), "leads": n}))
        .collect();
    let structured = json!({
        "applied": args.apply,
        "matching": matching,
        "considered": leads.len(),
        "changed": tally("change") + tally("changed"),
        "unchanged": tally("unchanged"),
        "unrouted": tally("unrouted"),
        "failed": failed,
        "byOwner": by_owner,
        "assignments": assignments,
    });
    Ok(respond(summarize(&structured), structured))
}

fn summarize(s: &Value) -> String {
    let applied = s["applied"] == json!(true);
    let mut out = format!(
        "{} {} of {} matching lead(s): {} owner change(s){}, {} already with the routed owner, {} matched no step{}.\n",
        if applied {
            "Routed"
        } else {
            "Dry run (nothing changed) for"
        },
        show(&s["considered"]),
        show(&s["matching"]),
        show(&s["changed"]),
        if applied { " applied" } else { " proposed" },
        show(&s["unchanged"]),
        show(&s["unrouted"]),
        if s["failed"].as_u64().unwrap_or(0) > 0 {
            format!(", {} failed", show(&s["failed"]))
        } else {
            String::new()
        },
    );
    for o in s["byOwner"].as_array().map_or(&[][..], Vec::as_slice) {
        out.push_str(&format!(
            "- {} ({}): {} lead(s)\n",
            show(&o["ownerName"]),
            show(&o["ownerId"]),
            show(&o["leads"])
        ));
    }
    if !applied && s["changed"].as_u64().unwrap_or(0) > 0 {
        out.push_str("Call again with \"apply\": true (same arguments) to make these changes.");
    }
    out
}
