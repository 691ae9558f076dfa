//! Outbound-message rules: which changes of which object are sent, with which fields, where.

use salesforce_core::id::RecordId;
use serde::{Deserialize, Serialize};

use crate::schema::{ObjectDef, Schema};
use crate::store::Change;
use crate::value::Value;

/// The most rules an org holds (the admin API refuses more).
pub const MAX_RULES: usize = 1_000;
/// The most fields a rule sends.
pub const MAX_FIELDS: usize = 500;

/// One outbound-message rule (Salesforce's record-triggered flow with an Outbound Message
/// action). The JSON form (camelCase) is what `POST /__sandbox/outbound/rules` and the
/// binary's `--outbound-rules` file take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutboundRule {
    /// Unique name; adding a rule with an existing name replaces it.
    pub name: String,
    /// The object whose records trigger it (`Lead`, `Invoice__c`).
    pub object: String,
    /// Fires when a record is created.
    #[serde(default)]
    pub on_create: bool,
    /// Fires when a record is updated (subject to `when_changed`).
    #[serde(default)]
    pub on_update: bool,
    /// On update, fire only when one of these fields changed (empty: any update).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when_changed: Vec<String>,
    /// With `when_changed`, fire only when a listed field changed to this value (compared as
    /// text, case-sensitively; `null` is not expressible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_to: Option<String>,
    /// Fields to send; `Id` is always sent first.
    pub fields: Vec<String>,
    /// Where the SOAP message is POSTed (`http://` or `https://`).
    pub endpoint: String,
    /// Sends a session id of `user_id` instead of `xsi:nil`.
    #[serde(default)]
    pub send_session_id: bool,
    /// The outbound action's id (`04k…`); generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
    /// The user whose session is sent (`005…`); the demo user when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl OutboundRule {
    /// A rule with no triggers, no condition and only `Id` sent; set the rest with the
    /// chainable methods below.
    pub fn new(name: &str, object: &str, endpoint: &str) -> Self {
        Self {
            name: name.to_owned(),
            object: object.to_owned(),
            on_create: false,
            on_update: false,
            when_changed: Vec::new(),
            changed_to: None,
            fields: Vec::new(),
            endpoint: endpoint.to_owned(),
            send_session_id: false,
            action_id: None,
            user_id: None,
        }
    }

    /// Fires on create.
    pub fn on_create(mut self) -> Self {
        self.on_create = true;
        self
    }

    /// Fires on update (see [`OutboundRule::when_changed`]).
    pub fn on_update(mut self) -> Self {
        self.on_update = true;
        self
    }

    /// On update, fires only when one of `fields` changed.
    pub fn when_changed(mut self, fields: &[&str]) -> Self {
        self.when_changed = fields.iter().map(|f| (*f).to_owned()).collect();
        self
    }

    /// With [`OutboundRule::when_changed`], fires only when the field changed to `value`.
    pub fn changed_to(mut self, value: &str) -> Self {
        self.changed_to = Some(value.to_owned());
        self
    }

    /// The fields to send (besides `Id`).
    pub fn fields(mut self, fields: &[&str]) -> Self {
        self.fields = fields.iter().map(|f| (*f).to_owned()).collect();
        self
    }

    /// Sends a session id instead of `xsi:nil`.
    pub fn send_session_id(mut self, on: bool) -> Self {
        self.send_session_id = on;
        self
    }

    /// Uses this action id (`04k…`).
    pub fn action_id(mut self, id: &str) -> Self {
        self.action_id = Some(id.to_owned());
        self
    }

    /// Checks the rule against the schema and returns it with canonical object and field
    /// names, `Id` first in the fields, and the action id filled in from `mint_action`.
    pub(crate) fn validated(
        &self,
        schema: &Schema,
        users: &[RecordId],
        mint_action: impl FnOnce() -> RecordId,
    ) -> Result<Self, String> {
        if self.name.trim().is_empty() || self.name.len() > 80 {
            return Err("name must be 1 to 80 characters".into());
        }
        let Some((_, def)) = schema.object(&self.object) else {
            return Err(format!("unknown object {}", self.object));
        };
        if !self.on_create && !self.on_update {
            return Err("a rule needs onCreate, onUpdate or both".into());
        }
        if self.fields.len() > MAX_FIELDS || self.when_changed.len() > MAX_FIELDS {
            return Err(format!("at most {MAX_FIELDS} fields"));
        }
        if self.changed_to.is_some() && self.when_changed.is_empty() {
            return Err("changedTo needs whenChanged".into());
        }
        let canonical = |names: &[String]| -> Result<Vec<String>, String> {
            names
                .iter()
                .map(|n| field_name(def, n))
                .collect::<Result<Vec<_>, _>>()
        };
        let mut fields = vec!["Id".to_owned()];
        for name in canonical(&self.fields)? {
            if !fields.contains(&name) {
                fields.push(name);
            }
        }
        let when_changed = canonical(&self.when_changed)?;
        let endpoint = url::Url::parse(&self.endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| format!("endpoint must be an http(s) URL: {}", self.endpoint))?;
        let action_id = match &self.action_id {
            Some(given) => {
                let id = RecordId::parse_lenient(given)
                    .ok()
                    .filter(|id| id.key_prefix() == "04k")
                    .ok_or_else(|| format!("actionId must be an id with prefix 04k: {given}"))?;
                id.to_string()
            }
            None => mint_action().to_string(),
        };
        let user_id = match &self.user_id {
            Some(given) => {
                let id = RecordId::parse_lenient(given)
                    .ok()
                    .filter(|id| users.contains(id))
                    .ok_or_else(|| format!("userId is not a user of the org: {given}"))?;
                Some(id.to_string())
            }
            None => None,
        };
        Ok(Self {
            name: self.name.clone(),
            object: def.name.clone(),
            on_create: self.on_create,
            on_update: self.on_update,
            when_changed,
            changed_to: self.changed_to.clone(),
            fields,
            endpoint: endpoint.to_string(),
            send_session_id: self.send_session_id,
            action_id: Some(action_id),
            user_id,
        })
    }

    /// Whether a committed change of a record of `def` triggers this (validated) rule.
    pub(crate) fn matches(&self, def: &ObjectDef, change: &Change) -> bool {
        if !def.name.eq_ignore_ascii_case(&self.object) {
            return false;
        }
        let Some(before) = &change.before else {
            return self.on_create;
        };
        if !self.on_update {
            return false;
        }
        if self.when_changed.is_empty() {
            return true;
        }
        self.when_changed.iter().any(|name| {
            let Some(idx) = def.field_index(name) else {
                return false;
            };
            let new = change.after.get(idx);
            if before.get(idx) == new {
                return false;
            }
            match &self.changed_to {
                None => true,
                Some(wanted) => value_text(new).is_some_and(|text| text == *wanted),
            }
        })
    }
}

fn field_name(def: &ObjectDef, name: &str) -> Result<String, String> {
    def.field(name)
        .map(|(_, f)| f.name.clone())
        .ok_or_else(|| format!("no field {name} on {}", def.name))
}

/// A value as the text of a SOAP element (`None` for null).
pub(crate) fn value_text(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Number(n) => {
            serde_json::Number::from_f64(*n).map_or_else(|| n.to_string(), |n| n.to_string())
        }
        Value::Text(s) => s.to_string(),
        Value::Date(d) => crate::value::format_date(*d),
        Value::DateTime(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Value::Id(id) => id.to_string(),
    })
}

/// The demo rules the server's embedded demo uses: new Leads and Opportunity stage changes,
/// sent to `endpoint`.
pub fn demo_outbound_rules(endpoint: &str) -> Vec<OutboundRule> {
    vec![
        OutboundRule::new("Lead created", "Lead", endpoint)
            .on_create()
            .fields(&[
                "FirstName",
                "LastName",
                "Company",
                "Email",
                "Industry",
                "Rating",
                "Status",
                "LeadSource",
                "OwnerId",
            ]),
        OutboundRule::new("Opportunity stage changed", "Opportunity", endpoint)
            .on_update()
            .when_changed(&["StageName"])
            .fields(&[
                "Name",
                "StageName",
                "Amount",
                "CloseDate",
                "AccountId",
                "OwnerId",
            ]),
    ]
}
