//! Turning Salesforce records into what the model reads: clean JSON (no `attributes`), money
//! rounded to cents, and a tool result carrying `structuredContent`, a concise text rendering and
//! the same JSON as text (for clients that only read text).

use mcp_protocol::ToolOutput;
use mcp_protocol::registry::text_content;
use salesforce_api::Record;
use serde_json::{Map, Value};

/// The result of a tool with an output schema.
pub(crate) fn respond(summary: String, structured: Value) -> ToolOutput {
    ToolOutput {
        content: vec![text_content(summary), text_content(structured.to_string())],
        structured: Some(structured),
        meta: None,
    }
}

/// A record's fields without the `attributes` objects Salesforce nests everywhere.
pub(crate) fn clean(record: &Record) -> Value {
    strip_attributes(&Value::Object(record.fields.clone()))
}

fn strip_attributes(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "attributes")
                .map(|(k, v)| (k.clone(), strip_attributes(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_attributes).collect()),
        other => other.clone(),
    }
}

/// A text field by path, as JSON (`null` when absent).
pub(crate) fn text(record: &Record, path: &str) -> Value {
    record
        .get_str(path)
        .map_or(Value::Null, |s| Value::String(s.to_owned()))
}

/// A number field by path, as Salesforce sent it (`null` when absent).
pub(crate) fn number(record: &Record, path: &str) -> Value {
    record
        .get(path)
        .filter(|v| v.is_number())
        .cloned()
        .unwrap_or(Value::Null)
}

/// A date field, or the (UTC) day of a date-time field, by path (`None` when absent).
pub(crate) fn day(record: &Record, path: &str) -> Option<chrono::NaiveDate> {
    record
        .get_str(path)
        .and_then(|d| d.get(..10))
        .and_then(|d| d.parse().ok())
}

/// A boolean field by path (`false` when absent).
pub(crate) fn flag(record: &Record, path: &str) -> bool {
    record.get(path).and_then(Value::as_bool).unwrap_or(false)
}

/// Rounds to cents (an empty sum's `-0.0` becomes `0.0`).
pub(crate) fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0 + 0.0
}

/// `1234567.5` → `1,234,567.50`.
pub(crate) fn money(amount: f64) -> String {
    let cents_total = (amount.abs() * 100.0).round() as u128;
    let whole = (cents_total / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if amount < 0.0 { "-" } else { "" };
    format!("{sign}{grouped}.{:02}", cents_total % 100)
}

/// A JSON value shown in a summary line (`—` for null).
pub(crate) fn show(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), trim_number),
        other => other.to_string(),
    }
}

fn trim_number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// JSON Schema for a value that may be null.
pub(crate) fn nullable(ty: &str) -> Value {
    serde_json::json!({"type": [ty, "null"]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_and_cleaning() {
        assert_eq!(money(1_234_567.5), "1,234,567.50");
        assert_eq!(money(0.0), "0.00");
        assert_eq!(money(-999.999), "-1,000.00");
        assert_eq!(cents(10.005_1), 10.01);
        assert!(cents(std::iter::empty::<f64>().sum()).is_sign_positive());
        let record: Record = serde_json::from_value(json!({
            "attributes": {"type": "Contact"},
            "Id": "003",
            "Account": {"attributes": {"type": "Account"}, "Name": "Acme"}
        }))
        .unwrap();
        assert_eq!(
            clean(&record),
            json!({"Id": "003", "Account": {"Name": "Acme"}})
        );
        assert_eq!(show(&json!(5.0)), "5");
        assert_eq!(show(&Value::Null), "—");
    }
}
