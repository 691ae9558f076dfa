//! Definitions of what a server offers — tools, resources, resource templates and prompts — and
//! the type-erased async handlers behind them. Each definition is turned into its wire JSON once,
//! at registration.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use base64::Engine;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::Error;
use crate::context::ToolContext;
use crate::schema::Schema;

/// What a tool handler returns on success.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolOutput {
    /// Content blocks (`{"type":"text","text":…}` and friends).
    pub content: Vec<Value>,
    /// Structured result, checked against the output schema in debug builds.
    pub structured: Option<Value>,
    /// Result `_meta` (for instance for widgets).
    pub meta: Option<Value>,
}

impl ToolOutput {
    /// One text content block.
    pub fn text(text: impl Into<String>) -> Self {
        ToolOutput {
            content: vec![text_content(text)],
            ..Default::default()
        }
    }

    /// A structured result, also serialized as a text block as the spec recommends.
    pub fn structured(value: Value) -> Self {
        ToolOutput {
            content: vec![text_content(value.to_string())],
            structured: Some(value),
            meta: None,
        }
    }

    /// Sets the result `_meta`.
    pub fn with_meta(mut self, meta: Value) -> Self {
        self.meta = Some(meta);
        self
    }
}

/// A text content block.
pub fn text_content(text: impl Into<String>) -> Value {
    json!({"type": "text", "text": text.into()})
}

/// A tool failure reported to the model as an `isError: true` result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError {
    /// A message the model can act on.
    pub message: String,
}

impl ToolError {
    /// A failure with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            message: message.into(),
        }
    }
}

impl<E: std::fmt::Display> From<E> for ToolError {
    fn from(e: E) -> Self {
        ToolError::new(e.to_string())
    }
}

/// Behaviour hints for clients.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolAnnotations {
    /// The tool does not modify its environment.
    pub read_only: Option<bool>,
    /// The tool may perform destructive updates.
    pub destructive: Option<bool>,
    /// Repeated calls with the same arguments have no additional effect.
    pub idempotent: Option<bool>,
    /// The tool interacts with an open world of external entities.
    pub open_world: Option<bool>,
}

/// A tool's description (everything but its handler).
#[derive(Debug, Clone)]
pub struct Tool {
    name: String,
    title: Option<String>,
    description: Option<String>,
    input_schema: Value,
    output_schema: Option<Value>,
    annotations: Option<ToolAnnotations>,
    meta: Option<Value>,
    required_client_capabilities: Option<Value>,
}

impl Tool {
    /// A tool taking no arguments (`{"type":"object"}`) until [`Tool::input_schema`] is set.
    pub fn new(name: impl Into<String>) -> Self {
        Tool {
            name: name.into(),
            title: None,
            description: None,
            input_schema: json!({"type": "object"}),
            output_schema: None,
            annotations: None,
            meta: None,
            required_client_capabilities: None,
        }
    }

    /// Human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Description for the model.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// JSON Schema (2020-12) of the arguments object.
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.input_schema = schema;
        self
    }

    /// JSON Schema of `structuredContent`.
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Behaviour hints.
    pub fn annotations(mut self, a: ToolAnnotations) -> Self {
        self.annotations = Some(a);
        self
    }

    /// Tool `_meta` (for instance `openai/outputTemplate`).
    pub fn meta(mut self, meta: Value) -> Self {
        self.meta = Some(meta);
        self
    }

    /// Client capabilities a modern-era call needs (checked, answered with -32021 when absent).
    pub fn requires_client_capabilities(mut self, caps: Value) -> Self {
        self.required_client_capabilities = Some(caps);
        self
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        if let Some(t) = &self.title {
            m.insert("title".into(), json!(t));
        }
        if let Some(d) = &self.description {
            m.insert("description".into(), json!(d));
        }
        m.insert("inputSchema".into(), self.input_schema.clone());
        if let Some(o) = &self.output_schema {
            m.insert("outputSchema".into(), o.clone());
        }
        if let Some(a) = &self.annotations {
            let mut am = Map::new();
            let hints = [
                ("readOnlyHint", a.read_only),
                ("destructiveHint", a.destructive),
                ("idempotentHint", a.idempotent),
                ("openWorldHint", a.open_world),
            ];
            for (k, v) in hints {
                if let Some(v) = v {
                    am.insert(k.into(), json!(v));
                }
            }
            if let Some(t) = &self.title {
                am.insert("title".into(), json!(t));
            }
            m.insert("annotations".into(), Value::Object(am));
        }
        if let Some(meta) = &self.meta {
            m.insert("_meta".into(), meta.clone());
        }
        Value::Object(m)
    }
}

/// Whether `name` is 1–`max` characters of `[A-Za-z0-9_.-]` (tool names, input-request keys).
pub(crate) fn is_plain_name(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks a tool name: 1–128 characters of `[A-Za-z0-9_.-]`.
pub fn validate_tool_name(name: &str) -> Result<(), Error> {
    if is_plain_name(name, 128) {
        Ok(())
    } else {
        Err(Error::InvalidName(format!(
            "tool name {name:?} must be 1-128 characters of [A-Za-z0-9_.-]"
        )))
    }
}

pub(crate) type ToolFuture = BoxFuture<'static, Result<ToolOutput, ToolError>>;
pub(crate) type ToolHandler =
    Arc<dyn Fn(Value, ToolContext) -> Result<ToolFuture, String> + Send + Sync>;

/// A registered tool: definition, wire JSON, compiled schemas and handler.
pub(crate) struct RegisteredTool {
    pub(crate) json: Value,
    pub(crate) input: Schema,
    pub(crate) output: Option<Schema>,
    pub(crate) required_caps: Option<Value>,
    pub(crate) handler: ToolHandler,
}

impl RegisteredTool {
    pub(crate) fn new<A, F, Fut>(tool: Tool, handler: F) -> Result<(String, Self), Error>
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(A, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
    {
        validate_tool_name(&tool.name)?;
        let input = Schema::compile(tool.input_schema.clone())?;
        let output = tool
            .output_schema
            .clone()
            .map(Schema::compile)
            .transpose()?;
        let handler: ToolHandler = Arc::new(move |args: Value, cx: ToolContext| {
            let args: A = serde_json::from_value(args).map_err(|e| e.to_string())?;
            Ok(Box::pin(handler(args, cx)) as ToolFuture)
        });
        Ok((
            tool.name.clone(),
            RegisteredTool {
                json: tool.to_json(),
                input,
                output,
                required_caps: tool.required_client_capabilities.clone(),
                handler,
            },
        ))
    }
}

/// One item of a `resources/read` result.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceContents {
    json: Value,
}

impl ResourceContents {
    /// Text contents.
    pub fn text(uri: impl Into<String>, mime_type: Option<&str>, text: impl Into<String>) -> Self {
        let mut json = json!({"uri": uri.into(), "text": text.into()});
        if let Some(m) = mime_type {
            json["mimeType"] = json!(m);
        }
        ResourceContents { json }
    }

    /// Binary contents, sent base64-encoded.
    pub fn blob(uri: impl Into<String>, mime_type: Option<&str>, bytes: &[u8]) -> Self {
        let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
        let mut json = json!({"uri": uri.into(), "blob": b64});
        if let Some(m) = mime_type {
            json["mimeType"] = json!(m);
        }
        ResourceContents { json }
    }

    /// Sets `_meta` on the contents.
    pub fn with_meta(mut self, meta: Value) -> Self {
        self.json["_meta"] = meta;
        self
    }

    pub(crate) fn into_json(self) -> Value {
        self.json
    }
}

/// Why a resource could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceError {
    /// No such resource (answered with the era's not-found error).
    NotFound,
    /// Reading failed (answered with -32603 and this message).
    Failed(String),
}

/// A resource's or template's description.
#[derive(Debug, Clone)]
pub struct Resource {
    uri: String,
    name: String,
    title: Option<String>,
    description: Option<String>,
    mime_type: Option<String>,
    meta: Option<Value>,
}

impl Resource {
    /// A resource with a URI (or URI template, for templates) and a name.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Resource {
            uri: uri.into(),
            name: name.into(),
            title: None,
            description: None,
            mime_type: None,
            meta: None,
        }
    }

    /// Human-readable title.
    pub fn title(mut self, t: impl Into<String>) -> Self {
        self.title = Some(t.into());
        self
    }

    /// Description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// MIME type.
    pub fn mime_type(mut self, m: impl Into<String>) -> Self {
        self.mime_type = Some(m.into());
        self
    }

    /// `_meta`.
    pub fn meta(mut self, meta: Value) -> Self {
        self.meta = Some(meta);
        self
    }

    pub(crate) fn uri(&self) -> &str {
        &self.uri
    }

    pub(crate) fn to_json(&self, uri_key: &str) -> Value {
        let mut m = Map::new();
        m.insert(uri_key.into(), json!(self.uri));
        m.insert("name".into(), json!(self.name));
        for (k, v) in [
            ("title", &self.title),
            ("description", &self.description),
            ("mimeType", &self.mime_type),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        if let Some(meta) = &self.meta {
            m.insert("_meta".into(), meta.clone());
        }
        Value::Object(m)
    }
}

pub(crate) type ResourceFuture = BoxFuture<'static, Result<Vec<ResourceContents>, ResourceError>>;
/// Gets the requested URI and, for templates, the variables matched in it.
pub(crate) type ResourceHandler =
    Arc<dyn Fn(String, HashMap<String, String>, ToolContext) -> ResourceFuture + Send + Sync>;

pub(crate) struct RegisteredResource {
    pub(crate) json: Value,
    pub(crate) handler: ResourceHandler,
}

pub(crate) struct RegisteredTemplate {
    pub(crate) json: Value,
    pub(crate) template: UriTemplate,
    pub(crate) handler: ResourceHandler,
}

/// A level-1 RFC 6570 URI template (`file:///{path}`): each `{var}` matches one or more
/// characters other than `/`.
#[derive(Debug, Clone)]
pub(crate) struct UriTemplate {
    parts: Vec<TemplatePart>,
}

#[derive(Debug, Clone)]
enum TemplatePart {
    Literal(String),
    Var(String),
}

impl UriTemplate {
    pub(crate) fn parse(t: &str) -> Result<Self, Error> {
        let mut parts = Vec::new();
        let mut rest = t;
        while let Some(start) = rest.find('{') {
            if start > 0 {
                parts.push(TemplatePart::Literal(rest[..start].to_owned()));
            }
            let after = &rest[start + 1..];
            let end = after
                .find('}')
                .ok_or_else(|| Error::InvalidName(format!("unclosed '{{' in template {t:?}")))?;
            let name = &after[..end];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(Error::InvalidName(format!(
                    "unsupported template variable {name:?}"
                )));
            }
            if matches!(parts.last(), Some(TemplatePart::Var(_))) {
                return Err(Error::InvalidName(format!("adjacent variables in {t:?}")));
            }
            parts.push(TemplatePart::Var(name.to_owned()));
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(TemplatePart::Literal(rest.to_owned()));
        }
        Ok(UriTemplate { parts })
    }

    pub(crate) fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        let mut vars = HashMap::new();
        let mut rest = uri;
        let mut iter = self.parts.iter().peekable();
        while let Some(part) = iter.next() {
            match part {
                TemplatePart::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
                TemplatePart::Var(name) => {
                    let end = match iter.peek() {
                        Some(TemplatePart::Literal(next)) => rest.find(next.as_str())?,
                        _ => rest.len(),
                    };
                    let value = &rest[..end];
                    if value.is_empty() || value.contains('/') {
                        return None;
                    }
                    vars.insert(name.clone(), value.to_owned());
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(vars)
    }
}

/// A prompt argument.
#[derive(Debug, Clone)]
pub struct PromptArgument {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Whether the argument must be given.
    pub required: bool,
}

/// A prompt's description.
#[derive(Debug, Clone)]
pub struct Prompt {
    name: String,
    title: Option<String>,
    description: Option<String>,
    arguments: Vec<PromptArgument>,
}

impl Prompt {
    /// A prompt without arguments.
    pub fn new(name: impl Into<String>) -> Self {
        Prompt {
            name: name.into(),
            title: None,
            description: None,
            arguments: Vec::new(),
        }
    }

    /// Human-readable title.
    pub fn title(mut self, t: impl Into<String>) -> Self {
        self.title = Some(t.into());
        self
    }

    /// Description.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Adds an argument.
    pub fn argument(
        mut self,
        name: impl Into<String>,
        description: Option<&str>,
        required: bool,
    ) -> Self {
        self.arguments.push(PromptArgument {
            name: name.into(),
            description: description.map(str::to_owned),
            required,
        });
        self
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn required_arguments(&self) -> Vec<String> {
        self.arguments
            .iter()
            .filter(|a| a.required)
            .map(|a| a.name.clone())
            .collect()
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        if let Some(t) = &self.title {
            m.insert("title".into(), json!(t));
        }
        if let Some(d) = &self.description {
            m.insert("description".into(), json!(d));
        }
        if !self.arguments.is_empty() {
            let args: Vec<Value> = self
                .arguments
                .iter()
                .map(|a| {
                    let mut o = json!({"name": a.name, "required": a.required});
                    if let Some(d) = &a.description {
                        o["description"] = json!(d);
                    }
                    o
                })
                .collect();
            m.insert("arguments".into(), Value::Array(args));
        }
        Value::Object(m)
    }
}

/// A `prompts/get` result.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptMessages {
    /// Optional description.
    pub description: Option<String>,
    /// Messages: `{"role":"user"|"assistant","content":{…}}`.
    pub messages: Vec<Value>,
}

impl PromptMessages {
    /// One user message with text content.
    pub fn user_text(text: impl Into<String>) -> Self {
        PromptMessages {
            description: None,
            messages: vec![json!({"role": "user", "content": text_content(text)})],
        }
    }
}

pub(crate) type PromptFuture = BoxFuture<'static, Result<PromptMessages, String>>;
pub(crate) type PromptHandler =
    Arc<dyn Fn(HashMap<String, String>, ToolContext) -> PromptFuture + Send + Sync>;

pub(crate) struct RegisteredPrompt {
    pub(crate) json: Value,
    pub(crate) required: Vec<String>,
    pub(crate) handler: PromptHandler,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names() {
        assert!(validate_tool_name("a.b-c_D9").is_ok());
        assert!(validate_tool_name("").is_err());
        assert!(validate_tool_name("has space").is_err());
        assert!(validate_tool_name(&"x".repeat(129)).is_err());
        assert!(validate_tool_name(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn templates_match() {
        let t = UriTemplate::parse("mem://notes/{id}/v{version}").unwrap();
        let vars = t.matches("mem://notes/42/v3").unwrap();
        assert_eq!(vars["id"], "42");
        assert_eq!(vars["version"], "3");
        assert!(t.matches("mem://notes/4/2/v3").is_none());
        assert!(t.matches("mem://notes//v3").is_none());
        assert!(UriTemplate::parse("x://{a}{b}").is_err());
        assert!(UriTemplate::parse("x://{a").is_err());
    }
}
