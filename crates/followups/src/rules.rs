//! The rules file (JSON, camelCase, unknown keys refused). Example:
//!
//! ```json
//! {
//!   "taskKeyField": "Sfmcp_Key__c",
//!   "feed": { "objects": ["*"], "maxLen": 10000 },
//!   "rules": [
//!     {
//!       "name": "lead-follow-up",
//!       "object": "Lead",
//!       "when": [{ "field": "Status", "equals": "Open - Not Contacted" }],
//!       "route": [
//!         { "when": [{ "field": "State", "in": ["CA", "OR", "WA"] }], "ownerId": "005000000000002AAA" },
//!         { "when": [{ "field": "Industry", "equals": "Healthcare" }], "ownerId": "005000000000003AAA" },
//!         { "roundRobin": ["005000000000004AAA", "005000000000005AAA"] }
//!       ],
//!       "task": {
//!         "subject": "Follow up with {FirstName} {LastName} ({Company})",
//!         "description": "New lead from {LeadSource}. Email: {Email}",
//!         "dueInBusinessDays": 2,
//!         "priority": { "field": "Rating", "map": { "Hot": "High", "Cold": "Low" }, "default": "Normal" },
//!         "whoIdField": "Id"
//!       },
//!       "once": "perRecord"
//!     },
//!     {
//!       "name": "opportunity-stage",
//!       "object": "Opportunity",
//!       "when": [{ "field": "StageName", "in": ["Negotiation/Review", "Closed Won"] }],
//!       "task": { "subject": "{Name} moved to {StageName}", "dueInBusinessDays": 1, "whatIdField": "Id" },
//!       "once": "perNotification"
//!     }
//!   ]
//! }
//! ```
//!
//! A rule matches an event of its `object` (and `actionId`, when given) whose fields satisfy
//! every `when` condition (`equals`, `in`, `present`). Which changes send a notification at all
//! (created, stage changed) is the outbound message's trigger in Salesforce. The Task's owner is
//! the routed owner, else the record's `OwnerId`; `once` decides what makes a Task unique:
//! `perRecord` (one follow-up per record and rule: the default for created records) or
//! `perNotification` (one per change).

use std::collections::BTreeMap;

use serde::Deserialize;
use webhooks::Event;

use crate::Error;
use crate::routing::RouteStep;
use crate::template::{field_text, placeholders};

/// The whole rules file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RulesFile {
    /// The Task field holding the deterministic key (an external id, text, unique).
    #[serde(default = "default_key_field")]
    pub task_key_field: String,
    /// Which events the feed records.
    #[serde(default)]
    pub feed: FeedConfig,
    /// The rules, tried in order; every matching rule acts.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

fn default_key_field() -> String {
    "Sfmcp_Key__c".to_owned()
}

/// Which events the event feed records, and how many it keeps.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeedConfig {
    /// Object names, or `"*"` for every object (the default).
    #[serde(default = "every_object")]
    pub objects: Vec<String>,
    /// About how many entries are kept (default 10,000).
    #[serde(default = "default_feed_len")]
    pub max_len: usize,
}

fn every_object() -> Vec<String> {
    vec!["*".to_owned()]
}

fn default_feed_len() -> usize {
    10_000
}

impl Default for FeedConfig {
    fn default() -> Self {
        Self {
            objects: every_object(),
            max_len: default_feed_len(),
        }
    }
}

impl FeedConfig {
    /// Whether events of `object` go to the feed.
    pub fn records(&self, object: &str) -> bool {
        self.objects
            .iter()
            .any(|o| o == "*" || o.eq_ignore_ascii_case(object))
    }
}

/// One rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// Unique name (part of Task keys: renaming a rule makes new keys).
    pub name: String,
    /// The sObject type (`Lead`, `Opportunity`, `Invoice__c`).
    pub object: String,
    /// Only events of this outbound action (18- or 15-character id).
    #[serde(default)]
    pub action_id: Option<String>,
    /// Conditions on the event's fields, all of which must hold.
    #[serde(default)]
    pub when: Vec<Condition>,
    /// Owner assignment (Leads): the first matching step wins.
    #[serde(default)]
    pub route: Vec<RouteStep>,
    /// The follow-up Task to create.
    #[serde(default)]
    pub task: Option<TaskTemplate>,
    /// What makes the Task unique.
    #[serde(default)]
    pub once: Uniqueness,
}

/// What a Task's key is derived from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    /// One Task per record and rule.
    #[default]
    PerRecord,
    /// One Task per notification and rule.
    PerNotification,
}

pub use lead_routing::Condition;

/// The follow-up Task of a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskTemplate {
    /// Subject template (`{Field}` placeholders).
    pub subject: String,
    /// Description template.
    #[serde(default)]
    pub description: Option<String>,
    /// Due date: this many business days after the event was received.
    #[serde(default)]
    pub due_in_business_days: Option<u32>,
    /// Priority (default `Normal`).
    #[serde(default)]
    pub priority: PriorityRule,
    /// Task status (default `Not Started`).
    #[serde(default = "default_status")]
    pub status: String,
    /// The event field whose value becomes `WhoId` (a Lead or Contact id), e.g. `Id`.
    #[serde(default)]
    pub who_id_field: Option<String>,
    /// The event field whose value becomes `WhatId` (an Account, Opportunity…), e.g. `Id`.
    #[serde(default)]
    pub what_id_field: Option<String>,
}

fn default_status() -> String {
    "Not Started".to_owned()
}

/// The Task priority, looked up from a field (`Rating`: Hot → High).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriorityRule {
    /// The field to look up (e.g. `Rating`).
    #[serde(default)]
    pub field: Option<String>,
    /// Field value → priority.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// When the field is absent or unmapped.
    #[serde(default = "default_priority")]
    pub default: String,
}

fn default_priority() -> String {
    "Normal".to_owned()
}

impl Default for PriorityRule {
    fn default() -> Self {
        Self {
            field: None,
            map: BTreeMap::new(),
            default: default_priority(),
        }
    }
}

impl PriorityRule {
    /// The priority for `event`.
    pub fn for_event(&self, event: &Event) -> String {
        self.field
            .as_ref()
            .and_then(|f| self.map.get(&field_text(event, f)))
            .unwrap_or(&self.default)
            .clone()
    }
}

impl Rule {
    /// Whether the rule applies to `event`.
    pub fn matches(&self, event: &Event) -> bool {
        let same_action = |id: &str| {
            let a = id.get(..15).unwrap_or(id);
            let b = event.action_id.get(..15).unwrap_or(&event.action_id);
            a == b
        };
        self.object.eq_ignore_ascii_case(&event.object_type)
            && self.action_id.as_deref().is_none_or(same_action)
            && self
                .when
                .iter()
                .all(|c| c.holds(&|name| field_text(event, name)))
    }
}

/// The longest name or template accepted.
const MAX_TEXT: usize = 4096;

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 80
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl RulesFile {
    /// Parses and validates a rules file.
    ///
    /// # Errors
    /// [`Error::InvalidRules`] naming the first problem.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let rules: Self =
            serde_json::from_str(text).map_err(|e| Error::InvalidRules(e.to_string()))?;
        rules.validate()?;
        Ok(rules)
    }

    fn validate(&self) -> Result<(), Error> {
        let bad = |msg: String| Err(Error::InvalidRules(msg));
        if !is_name(&self.task_key_field) {
            return bad(format!(
                "taskKeyField `{}` is not a field name",
                self.task_key_field
            ));
        }
        if self.feed.max_len == 0 {
            return bad("feed.maxLen must be at least 1".into());
        }
        let mut names = std::collections::BTreeSet::new();
        for rule in &self.rules {
            let name = &rule.name;
            if name.is_empty() || name.len() > 80 || name.contains(':') {
                return bad(format!(
                    "rule name `{name}` must be 1–80 characters without `:`"
                ));
            }
            if !names.insert(name.as_str()) {
                return bad(format!("rule name `{name}` is used twice"));
            }
            if !is_name(&rule.object) {
                return bad(format!(
                    "rule `{name}`: `{}` is not an object name",
                    rule.object
                ));
            }
            for field in rule.when.iter().map(|c| c.field.as_str()) {
                if !is_name(field) {
                    return bad(format!("rule `{name}`: `{field}` is not a field name"));
                }
            }
            for step in &rule.route {
                step.validate()
                    .map_err(|m| Error::InvalidRules(format!("rule `{name}`: {m}")))?;
            }
            if let Some(task) = &rule.task {
                let templates = std::iter::once(&task.subject).chain(task.description.as_ref());
                for template in templates {
                    if template.len() > MAX_TEXT {
                        return bad(format!("rule `{name}`: template longer than {MAX_TEXT}"));
                    }
                    if let Some(field) = placeholders(template).into_iter().find(|f| !is_name(f)) {
                        return bad(format!(
                            "rule `{name}`: placeholder `{{{field}}}` is not a field name"
                        ));
                    }
                }
                let fields = [
                    &task.who_id_field,
                    &task.what_id_field,
                    &task.priority.field,
                ];
                if let Some(field) = fields.into_iter().flatten().find(|f| !is_name(f)) {
                    return bad(format!("rule `{name}`: `{field}` is not a field name"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../rules.example.json");

    #[test]
    fn the_example_file_is_valid() {
        let rules = RulesFile::from_json(EXAMPLE).unwrap();
        assert_eq!(rules.rules.len(), 2);
        assert_eq!(rules.task_key_field, "Sfmcp_Key__c");
    }

    #[test]
    fn refuses_bad_files() {
        for (text, needle) in [
            (
                r#"{"rules":[{"name":"a","object":"Lead"},{"name":"a","object":"Lead"}]}"#,
                "twice",
            ),
            (
                r#"{"rules":[{"name":"a","object":"Le ad"}]}"#,
                "object name",
            ),
            (
                r#"{"rules":[{"name":"a","object":"Lead","task":{"subject":"{Bad Field}"}}]}"#,
                "placeholder",
            ),
            (r#"{"rules":[],"extra":1}"#, "unknown field"),
            (
                r#"{"rules":[{"name":"a","object":"Lead","route":[{"roundRobin":[]}]}]}"#,
                "round",
            ),
        ] {
            let error = RulesFile::from_json(text).unwrap_err().to_string();
            assert!(error.contains(needle), "{error}");
        }
    }
}
