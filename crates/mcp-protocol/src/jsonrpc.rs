//! JSON-RPC 2.0 messages modelled by hand: ids, requests, notifications, responses and error
//! objects, the error codes MCP uses, and a parser that tells parse errors from invalid requests
//! and refuses batches.

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// Largest JSON-RPC message accepted by [`parse_message`] (4 MiB).
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Standard and MCP-specific JSON-RPC error codes.
pub mod error_codes {
    /// Invalid JSON was received.
    pub const PARSE_ERROR: i64 = -32700;
    /// The JSON sent is not a valid request object (also: batches).
    pub const INVALID_REQUEST: i64 = -32600;
    /// The method does not exist or is not available.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Invalid method parameters.
    pub const INVALID_PARAMS: i64 = -32602;
    /// Internal error (for instance a handler that panicked).
    pub const INTERNAL_ERROR: i64 = -32603;
    /// Resource not found (legacy era).
    pub const RESOURCE_NOT_FOUND: i64 = -32002;
    /// HTTP headers do not match the message body (modern era).
    pub const HEADER_MISMATCH: i64 = -32020;
    /// The request needs a client capability the client did not declare (modern era).
    pub const MISSING_CLIENT_CAPABILITY: i64 = -32021;
    /// The requested protocol version is not supported (modern era).
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
}

/// A request id: a number or a string (never null for requests).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A numeric id.
    Number(i64),
    /// A string id.
    String(String),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        RequestId::Number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        RequestId::String(s.to_owned())
    }
}

/// A JSON-RPC request: expects a response.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id the response will carry.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// The parameters (an object or array), if any.
    pub params: Option<Value>,
}

/// A JSON-RPC notification: no id, no response.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The method name.
    pub method: String,
    /// The parameters, if any.
    pub params: Option<Value>,
}

impl Notification {
    /// A notification with the given method and parameters.
    pub fn new(method: impl Into<String>, params: Value) -> Self {
        Notification {
            method: method.into(),
            params: Some(params),
        }
    }
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// One of [`error_codes`] or an application code.
    pub code: i64,
    /// A short description.
    pub message: String,
    /// Extra structured information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error with a code and message and no data.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches structured data.
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// -32700.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(error_codes::PARSE_ERROR, message)
    }

    /// -32600.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(error_codes::INVALID_REQUEST, message)
    }

    /// -32601 naming the method.
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            error_codes::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
        )
    }

    /// -32602.
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(error_codes::INVALID_PARAMS, message)
    }

    /// -32603.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(error_codes::INTERNAL_ERROR, message)
    }
}

/// A JSON-RPC response: a result or an error. `id` is `None` only when the request's id could
/// not be read (parse errors and some invalid requests), which serializes as `"id":null`.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The id of the request answered.
    pub id: Option<RequestId>,
    /// The result or the error.
    pub payload: Result<Value, ErrorObject>,
}

impl Response {
    /// A successful response.
    pub fn ok(id: RequestId, result: Value) -> Self {
        Response {
            id: Some(id),
            payload: Ok(result),
        }
    }

    /// An error response.
    pub fn error(id: Option<RequestId>, error: ErrorObject) -> Self {
        Response {
            id,
            payload: Err(error),
        }
    }

    /// The error, if this is an error response.
    pub fn error_object(&self) -> Option<&ErrorObject> {
        self.payload.as_ref().err()
    }
}

/// Any JSON-RPC message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A response (clients send these to answer server requests).
    Response(Response),
}

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("jsonrpc", "2.0")?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("method", &self.method)?;
        if let Some(p) = &self.params {
            m.serialize_entry("params", p)?;
        }
        m.end()
    }
}

impl Serialize for Notification {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("jsonrpc", "2.0")?;
        m.serialize_entry("method", &self.method)?;
        if let Some(p) = &self.params {
            m.serialize_entry("params", p)?;
        }
        m.end()
    }
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("jsonrpc", "2.0")?;
        m.serialize_entry("id", &self.id)?;
        match &self.payload {
            Ok(r) => m.serialize_entry("result", r)?,
            Err(e) => m.serialize_entry("error", e)?,
        }
        m.end()
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Message::Request(r) => r.serialize(s),
            Message::Notification(n) => n.serialize(s),
            Message::Response(r) => r.serialize(s),
        }
    }
}

impl Message {
    /// The message as compact JSON bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_json_bytes(self)
    }
}

/// Serializes any message type to compact JSON. Serializing these types cannot fail (all map
/// keys are strings), so a failure is reported as an internal-error response instead of a panic.
pub fn to_json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| {
        br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"serialization failed"}}"#
            .to_vec()
    })
}

/// Parses one JSON-RPC message. On failure returns the error response to send back: -32700
/// with `id: null` for bytes that are not JSON, -32600 for JSON that is not a single valid
/// message (batches included), carrying the id when it could be read.
pub fn parse_message(bytes: &[u8]) -> Result<Message, Box<Response>> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(Box::new(Response::error(
            None,
            ErrorObject::invalid_request(format!("message larger than {MAX_MESSAGE_BYTES} bytes")),
        )));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        Box::new(Response::error(
            None,
            ErrorObject::parse_error(format!("Parse error: {e}")),
        ))
    })?;
    parse_value(value)
}

/// Interprets an already-parsed JSON value as one JSON-RPC message (see [`parse_message`]).
pub fn parse_value(value: Value) -> Result<Message, Box<Response>> {
    let invalid = |id: Option<RequestId>, msg: &str| {
        Box::new(Response::error(
            id,
            ErrorObject::invalid_request(format!("Invalid Request: {msg}")),
        ))
    };
    let mut obj: Map<String, Value> = match value {
        Value::Object(o) => o,
        Value::Array(_) => return Err(invalid(None, "batches are not supported")),
        _ => return Err(invalid(None, "expected a JSON object")),
    };
    // Read the id first so an invalid request can still be answered with its id.
    let id = match obj.remove("id") {
        None => None,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Some(Some(RequestId::Number(i))),
            None => return Err(invalid(None, "id must be an integer or a string")),
        },
        Some(Value::String(s)) => Some(Some(RequestId::String(s))),
        Some(Value::Null) => Some(None),
        Some(_) => return Err(invalid(None, "id must be an integer or a string")),
    };
    let known_id = id.clone().flatten();
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid(known_id, "jsonrpc must be \"2.0\""));
    }
    match obj.remove("method") {
        Some(Value::String(method)) => {
            let params = match obj.remove("params") {
                None => None,
                Some(p @ (Value::Object(_) | Value::Array(_))) => Some(p),
                Some(_) => return Err(invalid(known_id, "params must be an object or array")),
            };
            match id {
                None => Ok(Message::Notification(Notification { method, params })),
                Some(Some(id)) => Ok(Message::Request(Request { id, method, params })),
                Some(None) => Err(invalid(None, "request id must not be null")),
            }
        }
        Some(_) => Err(invalid(known_id, "method must be a string")),
        None => {
            let Some(id) = id else {
                return Err(invalid(None, "missing method"));
            };
            let payload = match (obj.remove("result"), obj.remove("error")) {
                (Some(r), None) => Ok(r),
                (None, Some(e)) => Err(serde_json::from_value::<ErrorObject>(e)
                    .map_err(|_| invalid(id.clone(), "malformed error object"))?),
                _ => return Err(invalid(id, "response needs exactly one of result/error")),
            };
            Ok(Message::Response(Response { id, payload }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_code(bytes: &[u8]) -> (i64, Option<RequestId>) {
        let r = parse_message(bytes).unwrap_err();
        (r.error_object().map(|e| e.code).unwrap_or(0), r.id)
    }

    #[test]
    fn parses_each_kind() {
        let m = parse_message(br#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#).unwrap();
        assert_eq!(
            m,
            Message::Request(Request {
                id: "a".into(),
                method: "ping".into(),
                params: None
            })
        );
        let m = parse_message(br#"{"jsonrpc":"2.0","method":"x","params":{}}"#).unwrap();
        assert!(matches!(m, Message::Notification(_)));
        let m = parse_message(br#"{"jsonrpc":"2.0","id":3,"result":{}}"#).unwrap();
        assert!(matches!(
            m,
            Message::Response(Response { payload: Ok(_), .. })
        ));
    }

    #[test]
    fn distinguishes_parse_error_from_invalid_request() {
        assert_eq!(err_code(b"{not json"), (error_codes::PARSE_ERROR, None));
        assert_eq!(err_code(b"[]"), (error_codes::INVALID_REQUEST, None));
        assert_eq!(
            err_code(br#"{"jsonrpc":"1.0","id":7,"method":"m"}"#),
            (error_codes::INVALID_REQUEST, Some(RequestId::Number(7)))
        );
        assert_eq!(
            err_code(br#"{"jsonrpc":"2.0","id":1.5,"method":"m"}"#).0,
            error_codes::INVALID_REQUEST
        );
        assert_eq!(
            err_code(br#"{"jsonrpc":"2.0","id":1,"method":"m","params":3}"#).0,
            error_codes::INVALID_REQUEST
        );
    }

    #[test]
    fn serializes_exact_bytes() {
        let r = Response::error(None, ErrorObject::parse_error("bad"));
        assert_eq!(
            String::from_utf8(to_json_bytes(&r)).unwrap(),
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}"#
        );
        let r = Response::ok(RequestId::String("x".into()), serde_json::json!({}));
        assert_eq!(
            String::from_utf8(to_json_bytes(&r)).unwrap(),
            r#"{"jsonrpc":"2.0","id":"x","result":{}}"#
        );
    }

    #[test]
    fn refuses_oversized_input() {
        let big = vec![b' '; MAX_MESSAGE_BYTES + 1];
        assert_eq!(err_code(&big).0, error_codes::INVALID_REQUEST);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse_message(&bytes);
        }

        #[test]
        fn requests_round_trip(id in proptest::prelude::any::<i64>(), method in "[a-z/]{1,20}", text in ".{0,40}") {
            let req = Request { id: RequestId::Number(id), method, params: Some(serde_json::json!({"t": text})) };
            let parsed = parse_message(&to_json_bytes(&req)).unwrap();
            proptest::prop_assert_eq!(parsed, Message::Request(req));
        }
    }
}
