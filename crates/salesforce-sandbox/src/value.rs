//! Typed field values as the store keeps them, their JSON form on the wire and Salesforce's
//! date and datetime formats.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use salesforce_core::id::RecordId;
use serde::{Serialize, Serializer};

/// One field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// A checkbox.
    Bool(bool),
    /// An `int` field.
    Int(i64),
    /// A `double`, `currency` or `percent` field.
    Number(f64),
    /// Any text type (string, textarea, picklist, `;`-joined multipicklist, email, phone, url).
    Text(Arc<str>),
    /// A date.
    Date(NaiveDate),
    /// A datetime (UTC, millisecond precision).
    DateTime(DateTime<Utc>),
    /// A record id (the `Id` field and lookups).
    Id(RecordId),
}

/// A shared null, so lookups of absent fields can return a reference.
pub static NULL: Value = Value::Null;

impl Value {
    /// Text value from a string slice.
    pub fn text(s: &str) -> Self {
        Self::Text(Arc::from(s))
    }

    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// The text, for text values.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The id, for id values.
    pub fn as_id(&self) -> Option<RecordId> {
        match self {
            Self::Id(id) => Some(*id),
            _ => None,
        }
    }

    /// The number, for numeric values.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Int(i) => Some(*i as f64),
            Self::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The boolean, for checkbox values.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Calls `f` with the index key of this value (see [`Value::index_key`]) without allocating
    /// for ids, booleans and short ASCII text. Returns `None` for null.
    pub fn with_index_key<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        match self {
            Self::Null => None,
            Self::Id(id) => Some(f(id.as_str())),
            Self::Bool(b) => Some(f(if *b { "true" } else { "false" })),
            Self::Text(s) if s.len() <= 128 && s.is_ascii() => {
                let mut buf = [0u8; 128];
                let out = buf.get_mut(..s.len())?;
                out.copy_from_slice(s.as_bytes());
                out.make_ascii_lowercase();
                std::str::from_utf8(out).ok().map(f)
            }
            _ => self.index_key().map(|k| f(&k)),
        }
    }

    /// The key under which an equality index files this value: text compared case-insensitively
    /// (as SOQL `=` does), everything else by its wire form. Null is not indexed.
    pub fn index_key(&self) -> Option<Box<str>> {
        match self {
            Self::Null => None,
            Self::Text(s) => Some(s.to_lowercase().into_boxed_str()),
            Self::Id(id) => Some(id.as_str().into()),
            Self::Bool(b) => Some(if *b { "true".into() } else { "false".into() }),
            Self::Int(i) => Some(i.to_string().into_boxed_str()),
            Self::Number(n) => Some(n.to_string().into_boxed_str()),
            Self::Date(d) => Some(format_date(*d).into_boxed_str()),
            Self::DateTime(t) => Some(format_datetime(*t).into_boxed_str()),
        }
    }
}

/// Formats a date as Salesforce does: `2013-05-20`.
pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Formats a datetime as Salesforce does: `2013-05-20T20:49:32.000+0000`.
pub fn format_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Parses the datetime forms Salesforce accepts: RFC 3339 (`Z` or `±hh:mm`) and `±hhmm` offsets,
/// with or without fractional seconds.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"]
        .iter()
        .find_map(|fmt| DateTime::parse_from_str(s, fmt).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Parses a date `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_none(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Int(i) => serializer.serialize_i64(*i),
            // Salesforce prints numbers of decimal fields with a fraction (`50000.0`).
            Self::Number(n) => serializer.serialize_f64(*n),
            Self::Text(s) => serializer.serialize_str(s),
            Self::Date(d) => serializer.serialize_str(&format_date(*d)),
            Self::DateTime(t) => serializer.serialize_str(&format_datetime(*t)),
            Self::Id(id) => serializer.serialize_str(id.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_wire_format_round_trips() {
        let t = parse_datetime("2013-05-20T20:49:32.000+0000").unwrap();
        assert_eq!(format_datetime(t), "2013-05-20T20:49:32.000+0000");
        assert_eq!(parse_datetime("2013-05-20T22:49:32+02:00"), Some(t));
        assert_eq!(parse_datetime("2013-05-20T20:49:32Z"), Some(t));
        assert!(parse_datetime("yesterday").is_none());
    }
}
