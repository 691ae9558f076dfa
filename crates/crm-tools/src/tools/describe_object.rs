//! `describeObject`: one object's schema (custom objects and fields included) as the model needs
//! it to write SOQL or records: each field's type, whether it is required, createable or
//! updateable, its length, active picklist values and lookup targets; and the child
//! relationships usable in subqueries.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::FieldDescribe;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::sobject::{describe, object_property};
use super::{Shared, org_property, read_only, text_property};
use crate::Error;
use crate::output::respond;

/// Child relationships listed.
const MAX_CHILDREN: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    object: String,
    #[serde(default)]
    field_contains: Option<String>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool() -> Tool {
    Tool::new("describeObject")
        .title("Describe object")
        .description(
            "Describes one Salesforce object, standard or custom (e.g. Opportunity, Invoice__c): its fields with type, label, whether required on create, createable, updateable, length, active picklist values and lookup targets (with the relationship name to use in SOQL, e.g. Owner.Name), and its child relationships for subqueries. \
Call it before writing SOQL or creating/updating records of an unfamiliar object. fieldContains narrows the fields by API name or label.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "object": object_property("The object's API name (listObjects gives them)."),
                "fieldContains": text_property("Only fields whose API name or label contains this text (case-insensitive)."),
                "org": org_property()
            },
            "required": ["object"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "label": {"type": "string"},
                "custom": {"type": "boolean"},
                "keyPrefix": {"type": ["string", "null"]},
                "createable": {"type": "boolean"},
                "updateable": {"type": "boolean"},
                "deletable": {"type": "boolean"},
                "queryable": {"type": "boolean"},
                "fields": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"},
                    "label": {"type": "string"},
                    "type": {"type": "string"}
                }, "required": ["name", "label", "type"]}},
                "requiredOnCreate": {"type": "array", "items": {"type": "string"}},
                "childRelationships": {"type": "array", "items": {"type": "object"}}
            },
            "required": ["name", "label", "custom", "fields", "requiredOnCreate", "childRelationships"]
        }))
        .annotations(read_only())
}

fn field_json(field: &FieldDescribe) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(field.name));
    out.insert("label".into(), json!(field.label));
    out.insert("type".into(), json!(field.field_type));
    if field.length > 0 {
        out.insert("length".into(), json!(field.length));
    }
    out.insert("requiredOnCreate".into(), json!(field.required_on_create()));
    out.insert("createable".into(), json!(field.createable));
    out.insert("updateable".into(), json!(field.updateable));
    out.insert("nillable".into(), json!(field.nillable));
    for (flag, set) in [
        ("custom", field.custom),
        ("externalId", field.external_id),
        ("unique", field.unique),
        ("calculated", field.calculated),
    ] {
        if set {
            out.insert(flag.into(), json!(true));
        }
    }
    if !field.reference_to.is_empty() {
        out.insert("referenceTo".into(), json!(field.reference_to));
        out.insert("relationshipName".into(), json!(field.relationship_name));
    }
    let values: Vec<&str> = field
        .picklist_values
        .iter()
        .filter(|v| v.active)
        .map(|v| v.value.as_str())
        .collect();
    if !values.is_empty() {
        out.insert("picklistValues".into(), json!(values));
    }
    Value::Object(out)
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let d = describe(&connection, &args.object).await?;
    let needle = args.field_contains.as_deref().map(str::to_lowercase);
    let fields: Vec<Value> = d
        .fields
        .iter()
        .filter(|f| {
            needle.as_deref().is_none_or(|n| {
                f.name.to_lowercase().contains(n) || f.label.to_lowercase().contains(n)
            })
        })
        .map(field_json)
        .collect();
    let required: Vec<&str> = d
        .fields
        .iter()
        .filter(|f| f.required_on_create())
        .map(|f| f.name.as_str())
        .collect();
    let children: Vec<Value> = d
        .child_relationships
        .iter()
        .filter_map(|c| {
            let name = c.relationship_name.as_ref()?;
            Some(json!({"relationshipName": name, "childObject": c.child_s_object, "field": c.field}))
        })
        .take(MAX_CHILDREN)
        .collect();
    let can: Vec<&str> = [
        ("create", d.createable),
        ("update", d.updateable),
        ("delete", d.deletable),
        ("query", d.queryable),
    ]
    .iter()
    .filter(|(_, yes)| *yes)
    .map(|(verb, _)| *verb)
    .collect();
    let summary = format!(
        "{} ({}{}): {} field(s){}; required on create: {}; the user can {}.",
        d.name,
        d.label,
        if d.custom { ", custom" } else { "" },
        fields.len(),
        if needle.is_some() { " matching" } else { "" },
        if required.is_empty() {
            "none".to_owned()
        } else {
            required.join(", ")
        },
        if can.is_empty() {
            "nothing".to_owned()
        } else {
            can.join(", ")
        }
    );
    Ok(respond(
        summary,
        json!({
            "name": d.name,
            "label": d.label,
            "custom": d.custom,
            "keyPrefix": d.key_prefix,
            "createable": d.createable,
            "updateable": d.updateable,
            "deletable": d.deletable,
            "queryable": d.queryable,
            "fields": fields,
            "requiredOnCreate": required,
            "childRelationships": children,
        }),
    ))
}
