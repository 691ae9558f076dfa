//! Subject and description templates: `{Field}` is replaced by the event's value of `Field`
//! (empty when absent or null), `{{` and `}}` are literal braces. Rendering is bounded by the
//! template and the event, both already bounded.

use webhooks::{Event, FieldValue};

/// The text of a field value (`""` for null or absent).
pub(crate) fn field_text(event: &Event, name: &str) -> String {
    if let (true, Some(id)) = (name == "Id", &event.record_id) {
        return id.clone();
    }
    match event.field(name) {
        None | Some(FieldValue::Null) => String::new(),
        Some(FieldValue::Bool(b)) => b.to_string(),
        Some(FieldValue::Int(i)) => i.to_string(),
        Some(FieldValue::Float(f)) => f.to_string(),
        Some(FieldValue::Text(t)) => t.to_string(),
    }
}

/// Renders `template` with the fields of `event`.
///
/// ```
/// # use webhooks::{Event, FieldValue};
/// let event = Event {
///     org_id: "00D000000000001AAA".into(), action_id: "04k000000000001AAA".into(),
///     object_type: "Lead".into(), record_id: Some("00Q000000000001AAA".into()),
///     fields: vec![("Company".into(), FieldValue::Text("Acme".into()))],
///     notification_id: "04l000000000001AAA".into(), received_at: chrono::Utc::now(),
/// };
/// assert_eq!(followups::render("Call {Company} {{now}} {Missing}", &event), "Call Acme {now} ");
/// ```
pub fn render(template: &str, event: &Event) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}']) {
        let (before, after) = rest.split_at(pos);
        out.push_str(before);
        if let Some(tail) = after.strip_prefix("{{") {
            out.push('{');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("}}") {
            out.push('}');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            match tail.find('}') {
                Some(end) => {
                    out.push_str(&field_text(event, tail.get(..end).unwrap_or_default()));
                    rest = tail.get(end + 1..).unwrap_or_default();
                }
                None => {
                    out.push_str(after);
                    rest = "";
                }
            }
        } else {
            out.push('}');
            rest = after.get(1..).unwrap_or_default();
        }
    }
    out.push_str(rest);
    out
}

/// The `{Field}` names a template uses (to validate them when loading the rules).
pub(crate) fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(pos) = rest.find('{') {
        let after = rest.get(pos + 1..).unwrap_or_default();
        if let Some(tail) = after.strip_prefix('{') {
            rest = tail;
            continue;
        }
        match after.find('}') {
            Some(end) => {
                names.push(after.get(..end).unwrap_or_default());
                rest = after.get(end + 1..).unwrap_or_default();
            }
            None => break,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead() -> Event {
        Event {
            org_id: "00D000000000001AAA".into(),
            action_id: "04k000000000001AAA".into(),
            object_type: "Lead".into(),
            record_id: Some("00Q000000000001AAA".into()),
            fields: vec![
                ("FirstName".into(), FieldValue::Text("Ada".into())),
                ("AnnualRevenue".into(), FieldValue::Float(2.5)),
                ("Phone".into(), FieldValue::Null),
            ],
            notification_id: "04l000000000001AAA".into(),
            received_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn renders_fields_braces_and_missing_values() {
        let event = lead();
        assert_eq!(
            render(
                "{FirstName} ({Id}) {AnnualRevenue} [{Phone}] {{x}} }",
                &event
            ),
            "Ada (00Q000000000001AAA) 2.5 [] {x} }"
        );
        assert_eq!(render("open {FirstName", &event), "open {FirstName");
    }

    #[test]
    fn lists_placeholders() {
        assert_eq!(placeholders("a {B} {{c}} {D}"), vec!["B", "D"]);
    }
}
