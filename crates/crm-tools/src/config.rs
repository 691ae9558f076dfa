//! What the operator configures: read-only mode, which objects may be written, how many rows a
//! tool hands the model, the describe cache, the Lead picklist values offered as enums, and the
//! analytics settings (lead scoring weights, pipeline thresholds, lead routing rules, the clock).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use salesforce_api::ObjectDescribe;

pub use crate::analytics::{LeadScoring, PipelineSettings, ScoreWeights};
pub use lead_routing::RouteStep;

/// Default cap on rows returned to the model by one call.
pub const DEFAULT_ROW_CAP: usize = 50;
/// The largest row cap accepted (SOQL's `OFFSET` cannot page beyond 2,000 rows anyway).
pub const MAX_ROW_CAP: usize = 200;

/// Configuration of [`crate::CrmTools`].
#[derive(Debug, Clone)]
pub struct CrmConfig {
    /// Read-only mode: write tools are not listed at all.
    pub read_only: bool,
    /// Objects write tools may change (`Contact` for `updateContact`, `Task` for `createTask`);
    /// `None` allows every object. A write tool whose object is not allowed is not listed.
    pub writable_objects: Option<BTreeSet<String>>,
    /// Most rows one call returns to the model (clamped to 1..=[`MAX_ROW_CAP`]); a cursor
    /// continues where it stopped.
    pub row_cap: usize,
    /// Lead picklist values offered as enums in `searchLeads`' schema.
    pub lead_picklists: LeadPicklists,
    /// `scoreLeads`: factor weights, target industries and windows.
    pub lead_scoring: LeadScoring,
    /// `analyzePipeline`: default thresholds and the fiscal year's first month.
    pub pipeline: PipelineSettings,
    /// `routeLeads`: the ordered routing steps (the worker's rules format); a call may pass its
    /// own. Empty: a call must pass rules.
    pub lead_routing: Vec<RouteStep>,
    /// A fixed "now" for the analytics tools (reproducible reports, tests); `None` reads the
    /// system clock on every call.
    pub now: Option<DateTime<Utc>>,
    /// The server's public origin (`https://mcp.example.com`), given to ChatGPT as the widgets'
    /// `openai/widgetDomain`; `None` leaves ChatGPT's default sandbox domain.
    pub widget_domain: Option<String>,
}

impl Default for CrmConfig {
    fn default() -> Self {
        CrmConfig {
            read_only: false,
            writable_objects: None,
            row_cap: DEFAULT_ROW_CAP,
            lead_picklists: LeadPicklists::default(),
            lead_scoring: LeadScoring::default(),
            pipeline: PipelineSettings::default(),
            lead_routing: Vec::new(),
            now: None,
            widget_domain: None,
        }
    }
}

impl CrmConfig {
    /// Whether write tools may change `object` (case-insensitive).
    pub fn may_write(&self, object: &str) -> bool {
        !self.read_only
            && self
                .writable_objects
                .as_ref()
                .is_none_or(|allowed| allowed.iter().any(|o| o.eq_ignore_ascii_case(object)))
    }

    /// The row cap within its bounds.
    pub fn row_cap(&self) -> usize {
        self.row_cap.clamp(1, MAX_ROW_CAP)
    }

    /// "Now" for the analytics tools: the fixed instant, else the system clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }
}

/// The values of Lead's picklists, for `searchLeads`' enums. The default is Salesforce's
/// standard values; [`LeadPicklists::from_describe`] reads an org's own (active values only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadPicklists {
    /// `Industry`.
    pub industry: Vec<String>,
    /// `Status`.
    pub status: Vec<String>,
    /// `Rating`.
    pub rating: Vec<String>,
    /// `LeadSource`.
    pub lead_source: Vec<String>,
}

fn owned(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

impl Default for LeadPicklists {
    fn default() -> Self {
        LeadPicklists {
            industry: owned(&[
                "Agriculture",
                "Apparel",
                "Banking",
                "Biotechnology",
                "Chemicals",
                "Communications",
                "Construction",
                "Consulting",
                "Education",
                "Electronics",
                "Energy",
                "Engineering",
                "Entertainment",
                "Environmental",
                "Finance",
                "Food & Beverage",
                "Government",
                "Healthcare",
                "Hospitality",
                "Insurance",
                "Machinery",
                "Manufacturing",
                "Media",
                "Not For Profit",
                "Recreation",
                "Retail",
                "Shipping",
                "Technology",
                "Telecommunications",
                "Transportation",
                "Utilities",
                "Other",
            ]),
            status: owned(&[
                "Open - Not Contacted",
                "Working - Contacted",
                "Closed - Converted",
                "Closed - Not Converted",
            ]),
            rating: owned(&["Hot", "Warm", "Cold"]),
            lead_source: owned(&[
                "Web",
                "Phone Inquiry",
                "Partner Referral",
                "Purchased List",
                "Other",
            ]),
        }
    }
}

impl LeadPicklists {
    /// The active values of an org's Lead describe; a picklist missing from it keeps the
    /// standard values.
    pub fn from_describe(lead: &ObjectDescribe) -> Self {
        let standard = LeadPicklists::default();
        let read = |name: &str, fallback: Vec<String>| {
            let values: Vec<String> = lead
                .field(name)
                .map(|f| {
                    f.picklist_values
                        .iter()
                        .filter(|v| v.active)
                        .map(|v| v.value.clone())
                        .collect()
                })
                .unwrap_or_default();
            if values.is_empty() { fallback } else { values }
        };
        LeadPicklists {
            industry: read("Industry", standard.industry),
            status: read("Status", standard.status),
            rating: read("Rating", standard.rating),
            lead_source: read("LeadSource", standard.lead_source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picklists_come_from_an_orgs_describe() {
        let lead: ObjectDescribe = serde_json::from_value(serde_json::json!({
            "name": "Lead", "label": "Lead",
            "fields": [
                {"name": "Industry", "label": "Industry", "type": "picklist", "picklistValues": [
                    {"value": "Healthcare", "active": true},
                    {"value": "Retired", "active": false},
                    {"value": "Space", "active": true}
                ]},
                {"name": "Rating", "label": "Rating", "type": "picklist", "picklistValues": []}
            ]
        }))
        .unwrap();
        let picklists = LeadPicklists::from_describe(&lead);
        assert_eq!(picklists.industry, ["Healthcare", "Space"]);
        assert_eq!(picklists.rating, LeadPicklists::default().rating);
        assert_eq!(picklists.status, LeadPicklists::default().status);
    }

    #[test]
    fn writes_follow_read_only_and_the_allow_list() {
        let mut config = CrmConfig::default();
        assert!(config.may_write("Contact"));
        config.writable_objects = Some(["task".to_owned()].into_iter().collect());
        assert!(config.may_write("Task"));
        assert!(!config.may_write("Contact"));
        config.read_only = true;
        assert!(!config.may_write("Task"));
        config.row_cap = 0;
        assert_eq!(config.row_cap(), 1);
        config.row_cap = 10_000;
        assert_eq!(config.row_cap(), MAX_ROW_CAP);
    }
}
