//! Field conditions and lead routing, evaluated over any record through a field accessor, so
//! that the worker (over outbound-message events) and the `routeLeads` MCP tool (over queried
//! Lead records) route with the same rules and the same results. No I/O, no HTTP.
//!
//! Routing is an ordered list of steps; the first that applies names the owner. A step is
//! either conditional (territory: `State in [...]`, industry: `Industry equals ...`) or a round
//! robin, which picks by a stable hash of the record id rather than a counter, so that a
//! redelivered event, or a dry run followed by the real run, routes to the same owner
//! (idempotent without shared state).
//!
//! ```
//! use lead_routing::{RouteStep, route};
//!
//! let steps: Vec<RouteStep> = serde_json::from_str(
//!     r#"[{"when":[{"field":"State","in":["CA","OR"]}],"ownerId":"005000000000002AAA"},
//!         {"roundRobin":["005000000000004AAA","005000000000005AAA"]}]"#,
//! ).unwrap();
//! let field = |name: &str| if name == "State" { "CA".to_owned() } else { String::new() };
//! let routed = route(&steps, "00Q000000000001AAA", &field).unwrap();
//! assert_eq!(routed.owner_id, "005000000000002AAA");
//! assert_eq!(routed.step, 0);
//! ```

use serde::{Deserialize, Serialize};

/// A condition on one field, read as text (null and absent are the empty text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Condition {
    /// The field name.
    pub field: String,
    /// Holds when the field equals this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// Holds when the field equals one of these.
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<String>>,
    /// `true`: holds when the field has a non-empty value; `false`: when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
}

impl Condition {
    /// Whether the record whose fields `field` reads satisfies the condition.
    pub fn holds(&self, field: &dyn Fn(&str) -> String) -> bool {
        let value = field(&self.field);
        self.equals.as_ref().is_none_or(|e| *e == value)
            && self.one_of.as_ref().is_none_or(|set| set.contains(&value))
            && self.present.is_none_or(|p| p != value.is_empty())
    }
}

/// One routing step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum RouteStep {
    /// Assign `owner_id` when every condition holds.
    Conditional {
        /// The conditions (territory, industry…).
        when: Vec<Condition>,
        /// The user id (`005…`) to assign.
        #[serde(rename = "ownerId")]
        owner_id: String,
    },
    /// Spread records over these users.
    RoundRobin {
        /// The user ids.
        #[serde(rename = "roundRobin")]
        round_robin: Vec<String>,
    },
}

/// FNV-1a: stable across Rust versions and processes (unlike `DefaultHasher`).
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn is_user_id(id: &str) -> bool {
    (id.len() == 15 || id.len() == 18)
        && id.starts_with("005")
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_field_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 80
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl RouteStep {
    /// Checks the user ids and field names; the message names the first problem.
    ///
    /// # Errors
    /// A description of what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let ids: Vec<&String> = match self {
            Self::Conditional { owner_id, when } => {
                if let Some(c) = when.iter().find(|c| !is_field_name(&c.field)) {
                    return Err(format!("`{}` is not a field name", c.field));
                }
                vec![owner_id]
            }
            Self::RoundRobin { round_robin } if round_robin.is_empty() => {
                return Err("a roundRobin step needs at least one user".into());
            }
            Self::RoundRobin { round_robin } => round_robin.iter().collect(),
        };
        match ids.into_iter().find(|id| !is_user_id(id)) {
            Some(id) => Err(format!("`{id}` is not a user id")),
            None => Ok(()),
        }
    }

    /// The fields the step's conditions read.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        let when: &[Condition] = match self {
            Self::Conditional { when, .. } => when,
            Self::RoundRobin { .. } => &[],
        };
        when.iter().map(|c| c.field.as_str())
    }

    /// The owner this step assigns to the record `key` (its id), if it applies.
    pub fn owner_for(&self, key: &str, field: &dyn Fn(&str) -> String) -> Option<&str> {
        match self {
            Self::Conditional { when, owner_id } => when
                .iter()
                .all(|c| c.holds(field))
                .then_some(owner_id.as_str()),
            Self::RoundRobin { round_robin } => {
                let len = u64::try_from(round_robin.len()).ok().filter(|&n| n > 0)?;
                let index = usize::try_from(stable_hash(key) % len).ok()?;
                round_robin.get(index).map(String::as_str)
            }
        }
    }
}

/// The owner routing chose and the step (0-based) that chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Routed<'a> {
    /// The user id to assign.
    pub owner_id: &'a str,
    /// Which step applied.
    pub step: usize,
}

/// The owner the first applicable step assigns to the record `key` (its id; the round robin
/// hashes it), reading fields through `field`.
pub fn route<'a>(
    steps: &'a [RouteStep],
    key: &str,
    field: &dyn Fn(&str) -> String,
) -> Option<Routed<'a>> {
    steps.iter().enumerate().find_map(|(step, s)| {
        s.owner_for(key, field)
            .map(|owner_id| Routed { owner_id, step })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_step_wins_and_round_robin_is_stable() {
        let steps: Vec<RouteStep> = serde_json::from_str(
            r#"[{"when":[{"field":"State","equals":"CA"}],"ownerId":"005000000000002AAA"},
                {"roundRobin":["005000000000004AAA","005000000000005AAA"]}]"#,
        )
        .unwrap();
        let state = |value: &'static str| {
            move |name: &str| {
                if name == "State" {
                    value.to_owned()
                } else {
                    String::new()
                }
            }
        };
        let ca = route(&steps, "00Q000000000001AAA", &state("CA")).unwrap();
        assert_eq!((ca.owner_id, ca.step), ("005000000000002AAA", 0));
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..20 {
            let key = format!("00Q0000000000{i:02}AAA");
            let owner = route(&steps, &key, &state("NY")).unwrap();
            assert_eq!(owner.step, 1);
            assert_eq!(
                route(&steps, &key, &state("NY")),
                Some(owner),
                "same record, same owner"
            );
            seen.insert(owner.owner_id);
        }
        assert_eq!(seen.len(), 2, "both users get records");
    }

    #[test]
    fn conditions_and_validation() {
        let c: Condition =
            serde_json::from_str(r#"{"field":"Industry","in":["Healthcare","Biotechnology"]}"#)
                .unwrap();
        assert!(c.holds(&|_| "Healthcare".to_owned()));
        assert!(!c.holds(&|_| String::new()));
        let present: Condition =
            serde_json::from_str(r#"{"field":"Email","present":false}"#).unwrap();
        assert!(present.holds(&|_| String::new()));
        let bad: RouteStep =
            serde_json::from_str(r#"{"when":[],"ownerId":"00Q000000000002AAA"}"#).unwrap();
        assert!(bad.validate().unwrap_err().contains("not a user id"));
        let empty: RouteStep = serde_json::from_str(r#"{"roundRobin":[]}"#).unwrap();
        assert!(empty.validate().is_err());
        let field: RouteStep = serde_json::from_str(
            r#"{"when":[{"field":"State; DROP","equals":"x"}],"ownerId":"005000000000002AAA"}"#,
        )
        .unwrap();
        assert!(field.validate().unwrap_err().contains("field name"));
    }
}
