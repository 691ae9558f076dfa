//! [`FieldValue`]: one sObject field's value, typed only where the XML says so.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::Error;

/// A field value. Serialises as plain JSON: `null`, `true`, `42`, `1.5` or `"text"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue<'a> {
    /// `xsi:nil="true"`.
    Null,
    /// A field typed `xsd:boolean`.
    Bool(bool),
    /// A field typed as an XML Schema integer type (`xsd:int`, `xsd:long`, …).
    Int(i64),
    /// A field typed `xsd:double` or `xsd:float` with a finite value.
    Float(f64),
    /// Anything else, as sent (entities decoded).
    Text(Cow<'a, str>),
}

impl FieldValue<'_> {
    /// Detaches the value from the body it was parsed from.
    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            Self::Null => FieldValue::Null,
            Self::Bool(b) => FieldValue::Bool(b),
            Self::Int(i) => FieldValue::Int(i),
            Self::Float(f) => FieldValue::Float(f),
            Self::Text(t) => FieldValue::Text(Cow::Owned(t.into_owned())),
        }
    }

    /// The text, for a [`FieldValue::Text`].
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }
}

/// Types `text` by the local name of its `xsi:type` in the XML Schema namespace.
pub(crate) fn typed<'a>(xsd_type: &str, text: Cow<'a, str>) -> Result<FieldValue<'a>, Error> {
    let invalid = || Error::InvalidValue {
        element: "sObject field",
        reason: format!("not a valid xsd:{}", crate::error::quote(xsd_type)),
    };
    let value = match xsd_type {
        "boolean" => match text.trim() {
            "true" | "1" => FieldValue::Bool(true),
            "false" | "0" => FieldValue::Bool(false),
            _ => return Err(invalid()),
        },
        "int" | "long" | "short" | "byte" | "integer" | "unsignedInt" | "unsignedShort"
        | "unsignedByte" | "nonNegativeInteger" | "positiveInteger" | "negativeInteger"
        | "nonPositiveInteger" => FieldValue::Int(text.trim().parse().map_err(|_| invalid())?),
        "double" | "float" => {
            let number: f64 = text.trim().parse().map_err(|_| invalid())?;
            // JSON has no INF or NaN: keep those as the text that was sent.
            if number.is_finite() {
                FieldValue::Float(number)
            } else {
                FieldValue::Text(text)
            }
        }
        _ => FieldValue::Text(text),
    };
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_only_schema_numbers_and_booleans() {
        assert_eq!(
            typed("boolean", "true".into()).unwrap(),
            FieldValue::Bool(true)
        );
        assert_eq!(typed("int", " 42 ".into()).unwrap(), FieldValue::Int(42));
        assert_eq!(
            typed("double", "1.5".into()).unwrap(),
            FieldValue::Float(1.5)
        );
        assert_eq!(
            typed("double", "INF".into()).unwrap(),
            FieldValue::Text("INF".into())
        );
        assert_eq!(
            typed("dateTime", "2026-01-01T00:00:00Z".into()).unwrap(),
            FieldValue::Text("2026-01-01T00:00:00Z".into())
        );
        assert!(typed("int", "4x".into()).is_err());
    }

    #[test]
    fn json_round_trip() {
        let values = vec![
            FieldValue::Null,
            FieldValue::Bool(false),
            FieldValue::Int(-3),
            FieldValue::Float(2.5),
            FieldValue::Text("x".into()),
        ];
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(json, r#"[null,false,-3,2.5,"x"]"#);
        let back: Vec<FieldValue<'static>> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, values);
    }
}
