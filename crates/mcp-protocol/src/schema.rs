//! A minimal JSON Schema 2020-12 validator for the keywords tool schemas use: `type` (also as an
//! array), `properties`, `required`, `additionalProperties`, `enum`, `const`, numeric bounds,
//! string lengths, `pattern`, `items`, item counts, `anyOf`/`oneOf` and `format` date/date-time.
//! Annotation keywords (`description`, `title`, …) are ignored. Patterns are compiled once when
//! the schema is registered.

use std::collections::HashMap;

use regex::Regex;
use serde_json::Value;

use crate::Error;

/// Deepest schema nesting accepted, so a hostile schema or value cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// A schema checked and with its patterns compiled, ready to validate values.
#[derive(Debug, Clone)]
pub struct Schema {
    root: Value,
    patterns: HashMap<String, Regex>,
}

impl Schema {
    /// Compiles a schema: every `pattern` must be a valid regular expression.
    pub fn compile(root: Value) -> Result<Self, Error> {
        let mut patterns = HashMap::new();
        collect_patterns(&root, &mut patterns, 0)?;
        Ok(Schema { root, patterns })
    }

    /// The schema as JSON.
    pub fn as_json(&self) -> &Value {
        &self.root
    }

    /// Validates `value`, returning the first violation as a readable message with a JSON
    /// pointer to the offending place (`/` is the root).
    pub fn validate(&self, value: &Value) -> Result<(), String> {
        let mut path = String::new();
        self.check(&self.root, value, &mut path, 0)
    }

    fn check(
        &self,
        schema: &Value,
        v: &Value,
        path: &mut String,
        depth: usize,
    ) -> Result<(), String> {
        let at = |path: &str| {
            if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            }
        };
        if depth > MAX_DEPTH {
            return Err(format!("{}: nesting too deep", at(path)));
        }
        let s = match schema {
            Value::Bool(true) => return Ok(()),
            Value::Bool(false) => return Err(format!("{}: no value is allowed here", at(path))),
            Value::Object(s) => s,
            _ => return Ok(()),
        };
        if let Some(t) = s.get("type") {
            let ok = match t {
                Value::String(t) => type_matches(t, v),
                Value::Array(ts) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|t| type_matches(t, v)),
                _ => true,
            };
            if !ok {
                return Err(format!(
                    "{}: expected {}, got {}",
                    at(path),
                    type_list(t),
                    type_name(v)
                ));
            }
        }
        if let Some(c) = s.get("const")
            && !json_eq(c, v)
        {
            return Err(format!("{}: must equal {c}", at(path)));
        }
        if let Some(Value::Array(options)) = s.get("enum")
            && !options.iter().any(|o| json_eq(o, v))
        {
            let list: Vec<String> = options.iter().map(Value::to_string).collect();
            return Err(format!("{}: must be one of {}", at(path), list.join(", ")));
        }
        if let Some(n) = v.as_f64() {
            let bound = |k: &str| s.get(k).and_then(Value::as_f64);
            if let Some(m) = bound("minimum")
                && n < m
            {
                return Err(format!("{}: must be >= {m}", at(path)));
            }
            if let Some(m) = bound("maximum")
                && n > m
            {
                return Err(format!("{}: must be <= {m}", at(path)));
            }
            if let Some(m) = bound("exclusiveMinimum")
                && n <= m
            {
                return Err(format!("{}: must be > {m}", at(path)));
            }
            if let Some(m) = bound("exclusiveMaximum")
                && n >= m
            {
                return Err(format!("{}: must be < {m}", at(path)));
            }
        }
        if let Value::String(text) = v {
            let len = text.chars().count() as u64;
            if let Some(m) = s.get("minLength").and_then(Value::as_u64)
                && len < m
            {
                return Err(format!("{}: must be at least {m} characters", at(path)));
            }
            if let Some(m) = s.get("maxLength").and_then(Value::as_u64)
                && len > m
            {
                return Err(format!("{}: must be at most {m} characters", at(path)));
            }
            if let Some(Value::String(p)) = s.get("pattern")
                && let Some(re) = self.patterns.get(p)
                && !re.is_match(text)
            {
                return Err(format!("{}: must match pattern {p}", at(path)));
            }
            match s.get("format").and_then(Value::as_str) {
                Some("date") if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() => {
                    return Err(format!("{}: must be a date (YYYY-MM-DD)", at(path)));
                }
                Some("date-time") if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
                    return Err(format!("{}: must be an RFC 3339 date-time", at(path)));
                }
                _ => {}
            }
        }
        if let Value::Array(items) = v {
            let count = items.len() as u64;
            if let Some(m) = s.get("minItems").and_then(Value::as_u64)
                && count < m
            {
                return Err(format!("{}: must have at least {m} items", at(path)));
            }
            if let Some(m) = s.get("maxItems").and_then(Value::as_u64)
                && count > m
            {
                return Err(format!("{}: must have at most {m} items", at(path)));
            }
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push('/');
                    path.push_str(&i.to_string());
                    self.check(item_schema, item, path, depth + 1)?;
                    path.truncate(len);
                }
            }
        }
        if let Value::Object(obj) = v {
            if let Some(Value::Array(required)) = s.get("required") {
                for name in required.iter().filter_map(Value::as_str) {
                    if !obj.contains_key(name) {
                        return Err(format!(
                            "{}: missing required property \"{name}\"",
                            at(path)
                        ));
                    }
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            let additional = s.get("additionalProperties");
            for (key, val) in obj {
                let sub = match props.and_then(|p| p.get(key)) {
                    Some(sub) => sub,
                    None => match additional {
                        Some(Value::Bool(false)) => {
                            return Err(format!("{}: unknown property \"{key}\"", at(path)));
                        }
                        Some(sub) => sub,
                        None => continue,
                    },
                };
                let len = path.len();
                path.push('/');
                path.push_str(key);
                self.check(sub, val, path, depth + 1)?;
                path.truncate(len);
            }
        }
        if let Some(Value::Array(options)) = s.get("anyOf")
            && !options
                .iter()
                .any(|o| self.check(o, v, &mut path.clone(), depth + 1).is_ok())
        {
            return Err(format!("{}: does not match any allowed shape", at(path)));
        }
        if let Some(Value::Array(options)) = s.get("oneOf") {
            let matching = options
                .iter()
                .filter(|o| self.check(o, v, &mut path.clone(), depth + 1).is_ok())
                .count();
            if matching != 1 {
                return Err(format!(
                    "{}: must match exactly one allowed shape (matched {matching})",
                    at(path)
                ));
            }
        }
        Ok(())
    }
}

fn collect_patterns(
    schema: &Value,
    out: &mut HashMap<String, Regex>,
    depth: usize,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::InvalidSchema("schema nested too deeply".into()));
    }
    match schema {
        Value::Object(s) => {
            if let Some(Value::String(p)) = s.get("pattern")
                && !out.contains_key(p)
            {
                let re = Regex::new(p)
                    .map_err(|e| Error::InvalidSchema(format!("bad pattern {p:?}: {e}")))?;
                out.insert(p.clone(), re);
            }
            for (k, sub) in s {
                if k == "const" || k == "enum" {
                    continue;
                }
                collect_patterns(sub, out, depth + 1)?;
            }
        }
        Value::Array(a) => {
            for sub in a {
                collect_patterns(sub, out, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => {
            v.as_i64().is_some()
                || v.as_u64().is_some()
                || v.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_list(t: &Value) -> String {
    match t {
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// JSON equality where 1 and 1.0 are the same number, as JSON Schema requires.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        Schema::compile(json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]+$"},
                "n": {"type": ["integer", "null"], "minimum": 0, "exclusiveMaximum": 10},
                "kind": {"enum": ["a", "b"]},
                "fixed": {"const": 1},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
                "when": {"type": "string", "format": "date"},
                "at": {"type": "string", "format": "date-time"},
                "either": {"anyOf": [{"type": "string"}, {"type": "number"}]},
                "one": {"oneOf": [{"type": "integer"}, {"type": "number"}]}
            },
            "required": ["name"],
            "additionalProperties": false
        }))
        .unwrap()
    }

    #[test]
    fn accepts_valid() {
        let v = json!({"name": "abc", "n": null, "kind": "a", "fixed": 1.0, "tags": ["x"],
            "when": "2024-02-29", "at": "2024-01-01T00:00:00Z", "either": 3, "one": 1.5});
        assert_eq!(schema().validate(&v), Ok(()));
    }

    #[test]
    fn reports_each_violation() {
        let s = schema();
        let cases = [
            (json!({}), "/: missing required property \"name\""),
            (json!({"name": ""}), "/name: must be at least 1 characters"),
            (
                json!({"name": "abcdef"}),
                "/name: must be at most 5 characters",
            ),
            (json!({"name": "AB"}), "/name: must match pattern ^[a-z]+$"),
            (
                json!({"name": "a", "n": 1.5}),
                "/n: expected integer or null, got number",
            ),
            (json!({"name": "a", "n": -1}), "/n: must be >= 0"),
            (json!({"name": "a", "n": 10}), "/n: must be < 10"),
            (
                json!({"name": "a", "kind": "c"}),
                "/kind: must be one of \"a\", \"b\"",
            ),
            (json!({"name": "a", "fixed": 2}), "/fixed: must equal 1"),
            (
                json!({"name": "a", "tags": []}),
                "/tags: must have at least 1 items",
            ),
            (
                json!({"name": "a", "tags": ["a", "b", "c"]}),
                "/tags: must have at most 2 items",
            ),
            (
                json!({"name": "a", "tags": [1]}),
                "/tags/0: expected string, got number",
            ),
            (
                json!({"name": "a", "when": "2023-02-29"}),
                "/when: must be a date (YYYY-MM-DD)",
            ),
            (
                json!({"name": "a", "at": "yesterday"}),
                "/at: must be an RFC 3339 date-time",
            ),
            (
                json!({"name": "a", "either": true}),
                "/either: does not match any allowed shape",
            ),
            (
                json!({"name": "a", "one": 1}),
                "/one: must match exactly one allowed shape (matched 2)",
            ),
            (
                json!({"name": "a", "extra": 1}),
                "/: unknown property \"extra\"",
            ),
            (json!([]), "/: expected object, got array"),
        ];
        for (value, message) in cases {
            assert_eq!(s.validate(&value), Err(message.to_owned()), "{value}");
        }
    }

    #[test]
    fn rejects_bad_pattern() {
        assert!(Schema::compile(json!({"pattern": "("})).is_err());
    }
}
