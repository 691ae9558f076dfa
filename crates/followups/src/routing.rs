//! Lead routing: an ordered list of steps, the first that applies names the owner. A step is
//! either conditional (territory: `State in [...]`, industry: `Industry equals ...`) or a
//! round robin, which picks by a stable hash of the record id rather than a counter, so that
//! a redelivered event is routed to the same owner (idempotent without shared state).

use serde::Deserialize;
use webhooks::Event;

use crate::rules::Condition;

/// One routing step.
#[derive(Debug, Clone, Deserialize)]
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

impl RouteStep {
    pub(crate) fn validate(&self) -> Result<(), String> {
        let ids: Vec<&String> = match self {
            Self::Conditional { owner_id, .. } => vec![owner_id],
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

    fn owner_for(&self, event: &Event) -> Option<&str> {
        match self {
            Self::Conditional { when, owner_id } => when
                .iter()
                .all(|c| c.holds(event))
                .then_some(owner_id.as_str()),
            Self::RoundRobin { round_robin } => {
                let key = event.record_id.as_deref().unwrap_or(&event.notification_id);
                let len = u64::try_from(round_robin.len()).ok().filter(|&n| n > 0)?;
                let index = usize::try_from(stable_hash(key) % len).ok()?;
                round_robin.get(index).map(String::as_str)
            }
        }
    }
}

/// The owner the first applicable step assigns.
pub(crate) fn route<'a>(steps: &'a [RouteStep], event: &Event) -> Option<&'a str> {
    steps.iter().find_map(|step| step.owner_for(event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use webhooks::FieldValue;

    fn lead(id: &str, state: &str) -> Event {
        Event {
            org_id: "00D000000000001AAA".into(),
            action_id: "04k000000000001AAA".into(),
            object_type: "Lead".into(),
            record_id: Some(id.into()),
            fields: vec![("State".into(), FieldValue::Text(state.to_owned().into()))],
            notification_id: "04l000000000001AAA".into(),
            received_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn first_matching_step_wins_and_round_robin_is_stable() {
        let steps: Vec<RouteStep> = serde_json::from_str(
            r#"[{"when":[{"field":"State","equals":"CA"}],"ownerId":"005000000000002AAA"},
                {"roundRobin":["005000000000004AAA","005000000000005AAA"]}]"#,
        )
        .unwrap();
        assert_eq!(
            route(&steps, &lead("00Q000000000001AAA", "CA")),
            Some("005000000000002AAA")
        );
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..20 {
            let event = lead(&format!("00Q0000000000{i:02}AAA"), "NY");
            let owner = route(&steps, &event).unwrap();
            assert_eq!(
                route(&steps, &event),
                Some(owner),
                "same record, same owner"
            );
            seen.insert(owner);
        }
        assert_eq!(seen.len(), 2, "both users get records");
    }
}
