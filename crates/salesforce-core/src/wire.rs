//! Shapes of Salesforce REST wire bodies shared by the client and the sandbox: the REST error
//! body, save results with the collections error entry, and the `Sforce-Limit-Info` header.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The name of the header Salesforce puts on every REST response with the org's API usage.
pub const LIMIT_INFO_HEADER: &str = "Sforce-Limit-Info";

/// Salesforce's error codes used across the REST API, as they appear on the wire.
pub mod error_code {
    /// The session or access token is invalid or expired (401).
    pub const INVALID_SESSION_ID: &str = "INVALID_SESSION_ID";
    /// The SOQL query does not parse (400).
    pub const MALFORMED_QUERY: &str = "MALFORMED_QUERY";
    /// A field does not exist on the object (400).
    pub const INVALID_FIELD: &str = "INVALID_FIELD";
    /// The sObject type does not exist (400).
    pub const INVALID_TYPE: &str = "INVALID_TYPE";
    /// The resource does not exist (404).
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// The record was deleted (404).
    pub const ENTITY_IS_DELETED: &str = "ENTITY_IS_DELETED";
    /// The org's daily API request limit is used up (403).
    pub const REQUEST_LIMIT_EXCEEDED: &str = "REQUEST_LIMIT_EXCEEDED";
    /// The caller lacks access (403).
    pub const INSUFFICIENT_ACCESS: &str = "INSUFFICIENT_ACCESS";
    /// A unique field already holds the value (400).
    pub const DUPLICATE_VALUE: &str = "DUPLICATE_VALUE";
    /// A required field has no value (400).
    pub const REQUIRED_FIELD_MISSING: &str = "REQUIRED_FIELD_MISSING";
    /// A number is out of range, e.g. OFFSET above 2000 (400).
    pub const NUMBER_OUTSIDE_VALID_RANGE: &str = "NUMBER_OUTSIDE_VALID_RANGE";
    /// The server is temporarily unavailable (503).
    pub const SERVER_UNAVAILABLE: &str = "SERVER_UNAVAILABLE";
    /// A restricted picklist got a value outside its list (400).
    pub const INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST: &str =
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST";
    /// A text value exceeds the field's length (400).
    pub const STRING_TOO_LONG: &str = "STRING_TOO_LONG";
    /// A value cannot be converted to the field's type (400).
    pub const INVALID_TYPE_ON_FIELD_IN_RECORD: &str = "INVALID_TYPE_ON_FIELD_IN_RECORD";
    /// The request body is not the JSON the endpoint expects (400).
    pub const JSON_PARSER_ERROR: &str = "JSON_PARSER_ERROR";
    /// A field that cannot be set on insert or update was given (400).
    pub const INVALID_FIELD_FOR_INSERT_UPDATE: &str = "INVALID_FIELD_FOR_INSERT_UPDATE";
    /// An id is not a well-formed id (400).
    pub const MALFORMED_ID: &str = "MALFORMED_ID";
    /// A lookup points at a record that does not exist or has the wrong type (400).
    pub const INVALID_CROSS_REFERENCE_KEY: &str = "INVALID_CROSS_REFERENCE_KEY";
    /// A sibling failed in an all-or-none collection request.
    pub const ALL_OR_NONE_OPERATION_ROLLED_BACK: &str = "ALL_OR_NONE_OPERATION_ROLLED_BACK";
    /// A sibling failed in an all-or-none composite request.
    pub const PROCESSING_HALTED: &str = "PROCESSING_HALTED";
    /// The HTTP method is not allowed on the resource (405).
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
    /// A request-level problem such as too many records in one call (400).
    pub const INVALID_BATCH_REQUEST: &str = "INVALID_BATCH_REQUEST";
    /// An upsert by external id matched more than one record (300).
    pub const MULTIPLE_CHOICES: &str = "MULTIPLE_CHOICES";
    /// The object cannot be created, updated or deleted through the API at all, e.g.
    /// `entity type cannot be inserted: Opportunity History` (400).
    pub const CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY: &str = "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY";
}

/// One entry of a REST error body, which is a JSON array of these:
/// `[{"message":"…","errorCode":"…","fields":["…"]}]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Human-readable message.
    pub message: String,
    /// Machine-readable code such as `INVALID_FIELD`.
    #[serde(rename = "errorCode")]
    pub error_code: String,
    /// The fields concerned, when Salesforce names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
}

impl ApiError {
    /// An error entry without fields.
    pub fn new(error_code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            error_code: error_code.into(),
            fields: None,
        }
    }

    /// The same error naming the fields concerned.
    pub fn with_fields(mut self, fields: Vec<String>) -> Self {
        self.fields = Some(fields);
        self
    }
}

/// The error entry inside save results (sObject Collections, composite batches): the code is
/// under `statusCode`, not `errorCode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveError {
    /// Machine-readable code such as `REQUIRED_FIELD_MISSING`.
    #[serde(rename = "statusCode")]
    pub status_code: String,
    /// Human-readable message.
    pub message: String,
    /// The fields concerned (empty when none).
    #[serde(default)]
    pub fields: Vec<String>,
}

impl From<ApiError> for SaveError {
    fn from(e: ApiError) -> Self {
        Self {
            status_code: e.error_code,
            message: e.message,
            fields: e.fields.unwrap_or_default(),
        }
    }
}

impl From<SaveError> for ApiError {
    fn from(e: SaveError) -> Self {
        Self {
            message: e.message,
            error_code: e.status_code,
            fields: Some(e.fields),
        }
    }
}

/// The result of creating, updating, upserting or deleting one record:
/// `{"id":"001…","success":true,"errors":[]}` (plus `created` for upserts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveResult {
    /// The record's id (absent when a create failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Whether the operation succeeded.
    pub success: bool,
    /// Why it failed.
    #[serde(default)]
    pub errors: Vec<SaveError>,
    /// For upserts: whether a record was created rather than updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
}

impl SaveResult {
    /// A success for the record `id`.
    pub fn ok(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            success: true,
            errors: Vec::new(),
            created: None,
        }
    }

    /// A failure with the given errors.
    pub fn failed(errors: Vec<SaveError>) -> Self {
        Self {
            id: None,
            success: false,
            errors,
            created: None,
        }
    }
}

/// The `Sforce-Limit-Info` header: `api-usage=18/15000`, optionally followed by
/// `; per-app-api-usage=17/250(appName=x)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitInfo {
    /// Requests used in the org's rolling 24 hours.
    pub used: u64,
    /// The org's daily limit.
    pub max: u64,
    /// The per-app usage, when Salesforce sends it.
    pub per_app: Option<PerAppUsage>,
}

/// The optional per-connected-app part of [`LimitInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerAppUsage {
    /// Requests the app used.
    pub used: u64,
    /// The app's limit.
    pub max: u64,
    /// The connected app's name.
    pub app_name: String,
}

/// Why a `Sforce-Limit-Info` header value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed Sforce-Limit-Info header: {0}")]
pub struct LimitInfoParseError(&'static str);

fn parse_ratio(s: &str) -> Result<(u64, u64), LimitInfoParseError> {
    let (used, max) = s
        .split_once('/')
        .ok_or(LimitInfoParseError("expected used/max"))?;
    let used = used
        .trim()
        .parse()
        .map_err(|_| LimitInfoParseError("used is not a number"))?;
    let max = max
        .trim()
        .parse()
        .map_err(|_| LimitInfoParseError("max is not a number"))?;
    Ok((used, max))
}

impl FromStr for LimitInfo {
    type Err = LimitInfoParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut usage = None;
        let mut per_app = None;
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            if let Some(rest) = part.strip_prefix("api-usage=") {
                usage = Some(parse_ratio(rest)?);
            } else if let Some(rest) = part.strip_prefix("per-app-api-usage=") {
                let (ratio, app) = match rest.split_once('(') {
                    Some((ratio, app)) => (ratio, Some(app)),
                    None => (rest, None),
                };
                let (used, max) = parse_ratio(ratio)?;
                let app_name = app
                    .and_then(|a| a.strip_suffix(')'))
                    .and_then(|a| a.strip_prefix("appName="))
                    .unwrap_or_default()
                    .to_owned();
                per_app = Some(PerAppUsage {
                    used,
                    max,
                    app_name,
                });
            }
        }
        let (used, max) = usage.ok_or(LimitInfoParseError("no api-usage part"))?;
        Ok(Self { used, max, per_app })
    }
}

impl fmt::Display for LimitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "api-usage={}/{}", self.used, self.max)?;
        if let Some(app) = &self.per_app {
            write!(
                f,
                "; per-app-api-usage={}/{}(appName={})",
                app.used, app.max, app.app_name
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn rest_error_body_shape() {
        let body = vec![
            ApiError::new(error_code::INVALID_SESSION_ID, "Session expired or invalid"),
            ApiError::new(
                error_code::REQUIRED_FIELD_MISSING,
                "Required fields are missing: [Name]",
            )
            .with_fields(vec!["Name".into()]),
        ];
        expect![[r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"},{"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]"#]]
        .assert_eq(&serde_json::to_string(&body).unwrap());
        let parsed: Vec<ApiError> =
            serde_json::from_str(r#"[{"message":"m","errorCode":"NOT_FOUND"}]"#).unwrap();
        assert_eq!(parsed[0].error_code, "NOT_FOUND");
    }

    #[test]
    fn collections_result_shape() {
        let results = vec![
            SaveResult::ok("001M000000qfPySIAU"),
            SaveResult::failed(vec![
                ApiError::new(
                    error_code::REQUIRED_FIELD_MISSING,
                    "Required fields are missing: [Name]",
                )
                .with_fields(vec!["Name".into()])
                .into(),
            ]),
        ];
        expect![[r#"[{"id":"001M000000qfPySIAU","success":true,"errors":[]},{"success":false,"errors":[{"statusCode":"REQUIRED_FIELD_MISSING","message":"Required fields are missing: [Name]","fields":["Name"]}]}]"#]]
        .assert_eq(&serde_json::to_string(&results).unwrap());
    }

    #[test]
    fn limit_info_round_trip() {
        let info: LimitInfo = "api-usage=18/15000".parse().unwrap();
        assert_eq!(
            (info.used, info.max, info.per_app.clone()),
            (18, 15000, None)
        );
        assert_eq!(info.to_string(), "api-usage=18/15000");
        let full = "api-usage=18/15000; per-app-api-usage=17/250(appName=x)";
        let info: LimitInfo = full.parse().unwrap();
        assert_eq!(
            info.per_app.as_ref().map(|a| a.app_name.as_str()),
            Some("x")
        );
        assert_eq!(info.to_string(), full);
        assert!("api-usage=abc/1".parse::<LimitInfo>().is_err());
        assert!("per-app-api-usage=1/2".parse::<LimitInfo>().is_err());
    }
}
