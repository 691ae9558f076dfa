//! `runFlow`: runs an autolaunched Flow by API name with input variables and returns its output
//! variables. A Flow may change any object, so it counts as a write: hidden in read-only mode and
//! whenever a writable-object allow-list is set (which a Flow could not be held to), and audited.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::ErrorClass;
use salesforce_core::soql::Identifier;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::sobject::{audited, write_annotations};
use super::{Shared, org_property};
use crate::Error;
use crate::audit::Outcome;
use crate::output::respond;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    flow: String,
    #[serde(default)]
    inputs: Map<String, Value>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool() -> Tool {
    Tool::new("runFlow")
        .title("Run flow")
        .description(
            "Runs an autolaunched Salesforce Flow by its API name (e.g. Qualify_Lead) with input variables, and returns the Flow's output variables. \
Flows run the org's own automation and may change records: only run one the user asked for. \
`inputs` maps the Flow's input variable names to values, e.g. {\"leadId\": \"00Q…\", \"rating\": \"Hot\"}.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "flow": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": "^[A-Za-z][A-Za-z0-9_]*$", "description": "The Flow's API name."},
                "inputs": {
                    "type": "object",
                    "maxProperties": 50,
                    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                    "description": "Input variable name → value."
                },
                "org": org_property()
            },
            "required": ["flow"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "flow": {"type": "string"},
                "success": {"type": "boolean"},
                "outputValues": {"type": ["object", "null"]}
            },
            "required": ["flow", "success", "outputValues"]
        }))
        .annotations(write_annotations(true, false))
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    const TOOL: &str = "runFlow";
    let flow = args.flow.trim();
    if Identifier::new(flow).is_err() {
        return Err(Error::invalid(format!(
            "`flow`: `{}` is not a Flow API name (letters, digits and underscores, like Qualify_Lead)",
            flow.chars().take(80).collect::<String>()
        )));
    }
    // A Flow can write anything: it needs every object to be writable.
    if shared.config.writable_objects.is_some() || shared.config.read_only {
        audited(&shared, &cx, TOOL, flow, "", 0, Outcome::Refused);
        return Err(Error::NotAllowed(if shared.config.read_only {
            "this server is read-only, and a Flow may change data".into()
        } else {
            "this server restricts which objects may be changed, and a Flow could change any of them".into()
        }));
    }
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let result = connection
        .client
        .run_flow(flow, &[Value::Object(args.inputs.clone())])
        .await;
    let results = match result {
        Ok(results) => results,
        Err(e) => {
            audited(&shared, &cx, TOOL, flow, "", 0, Outcome::Failed);
            return Err(if e.class() == ErrorClass::NotFound {
                Error::NotFound(format!(
                    "the org has no active autolaunched Flow named `{flow}`: check the API name (not the label) with the user"
                ))
            } else {
                e.into()
            });
        }
    };
    let Some(first) = results.into_iter().next() else {
        audited(&shared, &cx, TOOL, flow, "", 0, Outcome::Failed);
        return Err(Error::invalid(format!(
            "the Flow `{flow}` returned no result"
        )));
    };
    if !first.is_success {
        audited(&shared, &cx, TOOL, flow, "", 0, Outcome::Failed);
        return Err(Error::invalid(format!(
            "the Flow `{flow}` failed: {}. Check its input variables and values",
            first
                .errors
                .as_ref()
                .map_or_else(|| "no reason given".to_owned(), Value::to_string)
        )));
    }
    audited(&shared, &cx, TOOL, flow, "", 1, Outcome::Succeeded);
    let outputs = first.output_values.unwrap_or(Value::Null);
    let summary = match &outputs {
        Value::Object(map) if !map.is_empty() => format!(
            "Flow {flow} ran: {}.",
            map.iter()
                .map(|(k, v)| format!("{k} = {}", crate::output::show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => format!("Flow {flow} ran (no output variables)."),
    };
    Ok(respond(
        summary,
        json!({"flow": flow, "success": true, "outputValues": outputs}),
    ))
}
