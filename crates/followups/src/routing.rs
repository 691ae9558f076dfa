//! Lead routing for events: the steps and their evaluation live in `lead-routing` (shared with
//! the `routeLeads` MCP tool); this reads an event's fields for them.

use webhooks::Event;

pub use lead_routing::RouteStep;

use crate::template::field_text;

/// The owner the first applicable step assigns to the event's record.
pub(crate) fn route<'a>(steps: &'a [RouteStep], event: &Event) -> Option<&'a str> {
    let key = event.record_id.as_deref().unwrap_or(&event.notification_id);
    lead_routing::route(steps, key, &|name| field_text(event, name)).map(|r| r.owner_id)
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
    fn events_route_by_their_fields_and_record_id() {
        let steps: Vec<RouteStep> = serde_json::from_str(
            r#"[{"when":[{"field":"State","equals":"CA"}],"ownerId":"005000000000002AAA"},
                {"roundRobin":["005000000000004AAA","005000000000005AAA"]}]"#,
        )
        .unwrap();
        assert_eq!(
            route(&steps, &lead("00Q000000000001AAA", "CA")),
            Some("005000000000002AAA")
        );
        let event = lead("00Q000000000007AAA", "NY");
        let expected = lead_routing::route(&steps, "00Q000000000007AAA", &|_| String::new())
            .map(|r| r.owner_id);
        assert_eq!(route(&steps, &event), expected);
    }
}
