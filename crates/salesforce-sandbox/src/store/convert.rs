//! Converting JSON field values from request bodies into typed values, with Salesforce's error
//! codes and messages for wrong types, lengths and picklist values.

use salesforce_core::id::RecordId;
use salesforce_core::wire::{ApiError, error_code};
use serde_json::Value as Json;

use crate::schema::{FieldDef, FieldType};
use crate::value::{Value, parse_date, parse_datetime};

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "VALUE_NULL",
        Json::Bool(true) => "VALUE_TRUE",
        Json::Bool(false) => "VALUE_FALSE",
        Json::Number(n) if n.is_f64() => "VALUE_NUMBER_FLOAT",
        Json::Number(_) => "VALUE_NUMBER_INT",
        Json::String(_) => "VALUE_STRING",
        Json::Array(_) => "START_ARRAY",
        Json::Object(_) => "START_OBJECT",
    }
}

fn parser_error(type_name: &str, v: &Json) -> ApiError {
    ApiError::new(
        error_code::JSON_PARSER_ERROR,
        format!(
            "Cannot deserialize instance of {type_name} from {} value {} or request may be missing a required field",
            json_kind(v),
            truncate(&v.to_string())
        ),
    )
}

fn truncate(s: &str) -> String {
    s.chars().take(100).collect()
}

fn wrong_type(field: &FieldDef, v: &str) -> ApiError {
    ApiError::new(
        error_code::INVALID_TYPE_ON_FIELD_IN_RECORD,
        format!(
            "{}: value not of required type: {}",
            field.label,
            truncate(v)
        ),
    )
    .with_fields(vec![field.name.clone()])
}

fn text_of(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number_of(field: &FieldDef, v: &Json) -> Result<f64, ApiError> {
    match v {
        Json::Number(n) => n.as_f64().ok_or_else(|| parser_error("double", v)),
        Json::String(s) => s.trim().parse().map_err(|_| wrong_type(field, s)),
        _ => Err(parser_error("double", v)),
    }
}

fn check_number_range(field: &FieldDef, n: f64) -> Result<(), ApiError> {
    let integer_digits = field.precision.saturating_sub(field.scale).clamp(1, 18);
    let limit = 10f64.powi(integer_digits as i32);
    if n.is_finite() && n.abs() < limit {
        Ok(())
    } else {
        Err(ApiError::new(
            error_code::NUMBER_OUTSIDE_VALID_RANGE,
            format!(
                "{}: value outside of valid range on numeric field: {n}",
                field.label
            ),
        )
        .with_fields(vec![field.name.clone()]))
    }
}

/// Converts the JSON value for `field` to a typed value. Lookups are only checked for shape
/// here; whether the target exists is the store's business.
pub fn to_value(field: &FieldDef, v: &Json) -> Result<Value, ApiError> {
    if v.is_null() {
        return Ok(Value::Null);
    }
    let ty = field.field_type;
    match ty {
        FieldType::Boolean => match v {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(parser_error("boolean", v)),
        },
        FieldType::Int => {
            let n = number_of(field, v)?;
            if n.fract() != 0.0 {
                return Err(wrong_type(field, &v.to_string()));
            }
            check_number_range(field, n)?;
            Ok(Value::Int(n as i64))
        }
        FieldType::Currency | FieldType::Double | FieldType::Percent => {
            let n = number_of(field, v)?;
            check_number_range(field, n)?;
            let factor = 10f64.powi(field.scale.min(17) as i32);
            Ok(Value::Number((n * factor).round() / factor))
        }
        FieldType::Date => {
            let Json::String(s) = v else {
                return Err(parser_error("date", v));
            };
            parse_date(s)
                .or_else(|| parse_datetime(s).map(|t| t.date_naive()))
                .map(Value::Date)
                .ok_or_else(|| parser_error("date", v))
        }
        FieldType::Datetime => {
            let Json::String(s) = v else {
                return Err(parser_error("datetime", v));
            };
            parse_datetime(s)
                .or_else(|| {
                    parse_date(s)
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| t.and_utc())
                })
                .map(Value::DateTime)
                .ok_or_else(|| parser_error("datetime", v))
        }
        FieldType::Id | FieldType::Reference => {
            let Json::String(s) = v else {
                return Err(parser_error("id", v));
            };
            if s.is_empty() {
                return Ok(Value::Null);
            }
            RecordId::parse_lenient(s).map(Value::Id).map_err(|_| {
                ApiError::new(
                    error_code::MALFORMED_ID,
                    format!(
                        "{}: id value of incorrect type: {}",
                        field.label,
                        truncate(s)
                    ),
                )
                .with_fields(vec![field.name.clone()])
            })
        }
        _ => {
            let s = text_of(v).ok_or_else(|| parser_error("string", v))?;
            if s.is_empty() {
                return Ok(Value::Null);
            }
            if s.chars().count() > field.length as usize {
                return Err(ApiError::new(
                    error_code::STRING_TOO_LONG,
                    format!(
                        "{}: data value too large: {} (max length={})",
                        field.label,
                        truncate(&s),
                        field.length
                    ),
                )
                .with_fields(vec![field.name.clone()]));
            }
            match ty {
                FieldType::Picklist => picklist(field, &s).map(|p| Value::text(&p)),
                FieldType::Multipicklist => {
                    let mut parts = Vec::new();
                    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                        parts.push(picklist(field, part)?);
                    }
                    Ok(Value::text(&parts.join(";")))
                }
                _ => Ok(Value::text(&s)),
            }
        }
    }
}

fn picklist(field: &FieldDef, s: &str) -> Result<String, ApiError> {
    match field.picklist_contains(s) {
        Some(canonical) => Ok(canonical.to_owned()),
        None if !field.restricted_picklist => Ok(s.to_owned()),
        None => Err(ApiError::new(
            error_code::INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
            format!(
                "{}: bad value for restricted picklist field: {}",
                field.label,
                truncate(s)
            ),
        )
        .with_fields(vec![field.name.clone()])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conversions_and_errors() {
        let text = FieldDef::new("Name", "Name", FieldType::String).len(5);
        assert_eq!(to_value(&text, &json!("abc")).unwrap(), Value::text("abc"));
        assert_eq!(
            to_value(&text, &json!("abcdef")).unwrap_err().error_code,
            "STRING_TOO_LONG"
        );
        let flag = FieldDef::new("F", "F", FieldType::Boolean);
        assert_eq!(
            to_value(&flag, &json!("maybe")).unwrap_err().error_code,
            "JSON_PARSER_ERROR"
        );
        let amount = FieldDef::new("Amount", "Amount", FieldType::Currency);
        assert_eq!(
            to_value(&amount, &json!("abc")).unwrap_err().error_code,
            "INVALID_TYPE_ON_FIELD_IN_RECORD"
        );
        assert_eq!(
            to_value(&amount, &json!("12.345")).unwrap(),
            Value::Number(12.35)
        );
        let status = FieldDef::new("Status", "Status", FieldType::Picklist)
            .values(&["Open", "Closed"], None)
            .restricted();
        assert_eq!(
            to_value(&status, &json!("open")).unwrap(),
            Value::text("Open")
        );
        assert_eq!(
            to_value(&status, &json!("Nope")).unwrap_err().error_code,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        );
        let lookup = FieldDef::new("AccountId", "Account ID", FieldType::Reference);
        assert_eq!(
            to_value(&lookup, &json!("xyz")).unwrap_err().error_code,
            "MALFORMED_ID"
        );
    }
}
