//! Checking record writes against the object's describe before anything is sent: field names,
//! createable/updateable, required fields on create, value types, text lengths and picklist
//! values. Every problem is collected, so one `isError` result names all of them and what the
//! object accepts.

use chrono::{DateTime, NaiveDate};
use salesforce_api::{FieldDescribe, ObjectDescribe};
use serde_json::{Map, Value};

use crate::Error;

/// Fields listed in a "these are accepted" hint.
const LISTED_FIELDS: usize = 40;
/// Picklist values listed in a message.
const LISTED_VALUES: usize = 25;
/// Longest name echoed back.
const ECHO: usize = 80;

/// Which write is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    Create,
    Update,
}

impl Write {
    fn allows(self, field: &FieldDescribe) -> bool {
        match self {
            Write::Create => field.createable,
            Write::Update => field.updateable,
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Write::Create => "created",
            Write::Update => "changed",
        }
    }

    fn adjective(self) -> &'static str {
        match self {
            Write::Create => "createable",
            Write::Update => "updateable",
        }
    }
}

fn echo(text: &str) -> String {
    text.chars().take(ECHO).collect()
}

/// The object itself allows the write.
pub(crate) fn check_object(describe: &ObjectDescribe, write: Write) -> Result<(), Error> {
    let allowed = match write {
        Write::Create => describe.createable,
        Write::Update => describe.updateable,
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::NotAllowed(format!(
            "{} records cannot be {} by the connected user (the object is not {})",
            describe.name,
            write.verb(),
            write.adjective()
        )))
    }
}

/// Checks `fields` for a create or an update of `describe`'s object and returns them keyed by
/// the fields' exact API names.
pub(crate) fn check_fields(
    describe: &ObjectDescribe,
    fields: &Map<String, Value>,
    write: Write,
) -> Result<Map<String, Value>, Error> {
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    let mut refused = Vec::new();
    let mut checked = Map::new();
    for (name, value) in fields {
        let Some(field) = describe.field(name) else {
            unknown.push(format!("`{}`", echo(name)));
            continue;
        };
        if !write.allows(field) {
            refused.push(field.name.clone());
            continue;
        }
        if let Err(problem) = check_value(field, value) {
            problems.push(problem);
        }
        checked.insert(field.name.clone(), value.clone());
    }
    if !unknown.is_empty() {
        problems.insert(
            0,
            format!("{} has no field {}", describe.name, unknown.join(", ")),
        );
    }
    if !refused.is_empty() {
        problems.push(format!(
            "{} cannot be {} (not {})",
            refused.join(", "),
            match write {
                Write::Create => "set on create",
                Write::Update => "updated",
            },
            write.adjective()
        ));
    }
    if write == Write::Create {
        let missing: Vec<&str> = describe
            .fields
            .iter()
            .filter(|f| f.required_on_create())
            .filter(|f| checked.get(&f.name).is_none_or(Value::is_null))
            .map(|f| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            problems.push(format!("required field(s) missing: {}", missing.join(", ")));
        }
    }
    if problems.is_empty() {
        return Ok(checked);
    }
    Err(Error::invalid(format!(
        "nothing was {}: {}. {}",
        write.verb(),
        problems.join("; "),
        accepted_fields(describe, write)
    )))
}

/// The hint listing what the object accepts.
pub(crate) fn accepted_fields(describe: &ObjectDescribe, write: Write) -> String {
    let accepted: Vec<&str> = describe
        .fields
        .iter()
        .filter(|f| write.allows(f))
        .map(|f| f.name.as_str())
        .collect();
    let shown = accepted.len().min(LISTED_FIELDS);
    let more = if accepted.len() > shown {
        format!(" and {} more (see describeObject)", accepted.len() - shown)
    } else {
        String::new()
    };
    let required: Vec<&str> = describe
        .fields
        .iter()
        .filter(|f| f.required_on_create())
        .map(|f| f.name.as_str())
        .collect();
    let mut hint = format!(
        "{} fields of {}: {}{more}.",
        capitalize(write.adjective()),
        describe.name,
        accepted[..shown].join(", ")
    );
    if write == Write::Create && !required.is_empty() {
        hint.push_str(&format!(" Required on create: {}.", required.join(", ")));
    }
    hint
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Checks one value against its field's type, length and picklist.
pub(crate) fn check_value(field: &FieldDescribe, value: &Value) -> Result<(), String> {
    let name = &field.name;
    let kind = field.field_type.as_str();
    if value.is_null() {
        return if field.nillable || field.defaulted_on_create {
            Ok(())
        } else {
            Err(format!("{name} cannot be empty"))
        };
    }
    let wrong = |expected: &str| {
        Err(format!(
            "{name} is a {kind} field and takes {expected}, not {}",
            shown(value)
        ))
    };
    match kind {
        "boolean" => match value {
            Value::Bool(_) => Ok(()),
            _ => wrong("true or false"),
        },
        "int" => match value.as_f64() {
            Some(n) if n.fract() == 0.0 => Ok(()),
            _ => wrong("a whole number"),
        },
        "double" | "currency" | "percent" => match value {
            Value::Number(_) => Ok(()),
            _ => wrong("a number"),
        },
        "date" => match value
            .as_str()
            .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        {
            Some(Ok(_)) => Ok(()),
            _ => wrong("a date as YYYY-MM-DD"),
        },
        "datetime" => match value.as_str().map(DateTime::parse_from_rfc3339) {
            Some(Ok(_)) => Ok(()),
            _ => wrong("a date-time such as 2026-11-25T15:00:00Z"),
        },
        "reference" => match value.as_str() {
            Some(id) if salesforce_core::id::is_valid(id.trim()) => Ok(()),
            _ => wrong(&format!(
                "a record id{}",
                if field.reference_to.is_empty() {
                    String::new()
                } else {
                    format!(" of {}", field.reference_to.join(" or "))
                }
            )),
        },
        "picklist" => match value.as_str() {
            Some(text) => check_picklist(field, [text]),
            None => wrong("one of its picklist values as text"),
        },
        "multipicklist" => match value.as_str() {
            Some(text) => check_picklist(field, text.split(';').map(str::trim)),
            None => wrong("picklist values joined with ;"),
        },
        _ => match value {
            Value::String(text)
                if field.length > 0 && text.chars().count() > field.length as usize =>
            {
                Err(format!(
                    "{name} takes at most {} characters ({} given)",
                    field.length,
                    text.chars().count()
                ))
            }
            Value::String(_) => Ok(()),
            _ => wrong("text"),
        },
    }
}

fn check_picklist<'a>(
    field: &FieldDescribe,
    chosen: impl IntoIterator<Item = &'a str>,
) -> Result<(), String> {
    let active: Vec<&str> = field
        .picklist_values
        .iter()
        .filter(|v| v.active)
        .map(|v| v.value.as_str())
        .collect();
    if active.is_empty() {
        return Ok(());
    }
    let bad: Vec<String> = chosen
        .into_iter()
        .filter(|c| !active.contains(c))
        .map(|c| format!("`{}`", echo(c)))
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    let listed = &active[..active.len().min(LISTED_VALUES)];
    Err(format!(
        "{} is not a value of the {} picklist (values: {}{})",
        bad.join(", "),
        field.name,
        listed.join(", "),
        if active.len() > listed.len() {
            ", …"
        } else {
            ""
        }
    ))
}

fn shown(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > ECHO {
        format!("{}…", echo(&text))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn describe() -> ObjectDescribe {
        serde_json::from_value(json!({
            "name": "Invoice__c", "label": "Invoice", "createable": true, "updateable": true,
            "fields": [
                {"name": "Id", "label": "Id", "type": "id", "nillable": false, "defaultedOnCreate": true},
                {"name": "Name", "label": "Name", "type": "string", "length": 10, "createable": true, "updateable": true, "nillable": true},
                {"name": "Amount__c", "label": "Amount", "type": "currency", "createable": true, "updateable": true, "nillable": false},
                {"name": "Paid__c", "label": "Paid", "type": "boolean", "createable": true, "updateable": true, "nillable": false, "defaultedOnCreate": true},
                {"name": "Due__c", "label": "Due", "type": "date", "createable": true, "updateable": true, "nillable": true},
                {"name": "Status__c", "label": "Status", "type": "picklist", "createable": true, "updateable": true, "nillable": true,
                 "picklistValues": [{"value": "Draft", "active": true}, {"value": "Sent", "active": true}, {"value": "Old", "active": false}]},
                {"name": "Account__c", "label": "Account", "type": "reference", "referenceTo": ["Account"], "createable": true, "updateable": false, "nillable": true},
                {"name": "CreatedDate", "label": "Created", "type": "datetime", "nillable": false, "defaultedOnCreate": true}
            ]
        }))
        .unwrap()
    }

    fn fields(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_valid_create_passes_with_exact_names() {
        let checked = check_fields(
            &describe(),
            &fields(json!({"amount__c": 12.5, "Status__c": "Sent", "Due__c": "2026-12-01"})),
            Write::Create,
        )
        .unwrap();
        assert_eq!(
            checked.keys().collect::<Vec<_>>(),
            ["Amount__c", "Due__c", "Status__c"]
        );
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let e = check_fields(
            &describe(),
            &fields(json!({
                "Nope__c": 1, "CreatedDate": "2026-01-01T00:00:00Z", "Paid__c": "yes",
                "Due__c": "12/01/2026", "Status__c": "Old", "Name": "far too long a name"
            })),
            Write::Create,
        )
        .unwrap_err()
        .to_string();
        for expected in [
            "nothing was created",
            "Invoice__c has no field `Nope__c`",
            "CreatedDate cannot be set on create",
            "Paid__c is a boolean field and takes true or false, not \"yes\"",
            "Due__c is a date field and takes a date as YYYY-MM-DD",
            "`Old` is not a value of the Status__c picklist (values: Draft, Sent)",
            "Name takes at most 10 characters",
            "required field(s) missing: Amount__c",
            "Required on create: Amount__c",
        ] {
            assert!(e.contains(expected), "{expected} in {e}");
        }
        let update = check_fields(
            &describe(),
            &fields(json!({"Account__c": "001000000000001AAA", "Amount__c": null})),
            Write::Update,
        )
        .unwrap_err()
        .to_string();
        assert!(update.contains("Account__c cannot be updated"), "{update}");
        assert!(update.contains("Amount__c cannot be empty"), "{update}");
        assert!(!update.contains("required field"), "{update}");
    }
}
