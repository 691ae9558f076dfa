//! Turns one JSON-RPC request or notification into its answer, for both protocol eras: the era
//! is chosen per request (`_meta` protocol version → modern; `initialize` or an established
//! legacy session → legacy), then the method runs against the registries.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use base64::Engine;
use futures::FutureExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::context::{LogLevel, RequestEnv, Sampler, ToolContext};
use crate::jsonrpc::{ErrorObject, Notification, Request, RequestId, Response, error_codes};
use crate::registry::{ResourceError, text_content};
use crate::sampling::{CallBinding, Rounds};
use crate::server::{LATEST_LEGACY_VERSION, LEGACY_VERSIONS, MODERN_VERSION, McpServer};
use crate::session::SessionOwner;

/// `_meta` key carrying the modern protocol version.
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key carrying the modern client capabilities.
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// `_meta` key carrying the modern per-request log level.
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
/// `_meta` key correlating subscription messages with their `subscriptions/listen` request.
pub const META_SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
/// `_meta` key carrying the server's identity on modern results.
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// State of a legacy (initialize-based) session, kept by the transport between requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    /// The negotiated legacy protocol version.
    pub protocol_version: String,
    /// The level set by `logging/setLevel`; no log notifications until set.
    #[serde(default)]
    pub log_level: Option<LogLevel>,
    /// Whether `notifications/initialized` arrived.
    #[serde(default)]
    pub initialized: bool,
    /// The [`crate::SessionOwner`] that created the session, if the request carried one: only
    /// requests from the same owner may use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Whether the client declared the `sampling` capability at `initialize`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client_sampling: bool,
}

/// Which era served a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// Initialize-based revisions up to 2025-11-25.
    Legacy,
    /// Stateless revisions from 2026-07-28.
    Modern,
}

/// The answer to a request.
#[derive(Debug)]
pub struct Outcome {
    /// The response to send (unless `cancelled`).
    pub response: Response,
    /// The era that served it.
    pub era: Era,
    /// A new or changed legacy session state the transport must store.
    pub session: Option<SessionState>,
    /// The request was cancelled (handlers stop cooperatively, watching their token): the
    /// spec says send no response.
    pub cancelled: bool,
}

/// What a notification asks the transport to do.
#[derive(Debug, Default, PartialEq)]
pub struct NotificationEffect {
    /// A changed legacy session state to store.
    pub session: Option<SessionState>,
    /// A request to cancel.
    pub cancel: Option<RequestId>,
}

/// The modern protocol version a request declares in `params._meta`, if any. Its presence
/// selects the modern era.
pub fn modern_version(params: Option<&Value>) -> Option<&Value> {
    params?.get("_meta")?.get(META_PROTOCOL_VERSION)
}

/// Methods only the legacy era knows; modern requests naming them get -32601.
const LEGACY_ONLY: [&str; 3] = ["initialize", "ping", "logging/setLevel"];

struct Call<'a> {
    era: Era,
    progress_token: Option<Value>,
    log_level: Option<LogLevel>,
    client_caps: Option<&'a Value>,
    /// The client declared `sampling` (legacy: at initialize; modern: in this request).
    sampling: bool,
}

impl McpServer {
    /// Answers one request. `session` is the caller's legacy session, if it has one.
    pub async fn handle_request(
        &self,
        req: Request,
        session: Option<&SessionState>,
        env: RequestEnv,
    ) -> Outcome {
        let Request {
            id,
            method,
            mut params,
        } = req;
        // Moved out rather than cloned: arguments can be large and are needed by value.
        let tool_args = if method == "tools/call" {
            params
                .as_mut()
                .and_then(Value::as_object_mut)
                .and_then(|o| o.remove("arguments"))
        } else {
            None
        };
        let outcome = |era, payload: Result<Value, ErrorObject>| Outcome {
            response: Response {
                id: Some(id.clone()),
                payload,
            },
            era,
            session: None,
            cancelled: false,
        };
        if let Some(version) = modern_version(params.as_ref()) {
            let meta = match check_modern_meta(version, params.as_ref()) {
                Ok(m) => m,
                Err(e) => return outcome(Era::Modern, Err(e)),
            };
            if LEGACY_ONLY.contains(&method.as_str()) {
                return outcome(Era::Modern, Err(ErrorObject::method_not_found(&method)));
            }
            let call = Call {
                era: Era::Modern,
                progress_token: progress_token(params.as_ref()),
                log_level: meta.1,
                client_caps: meta.0,
                sampling: meta
                    .0
                    .and_then(|c| c.get("sampling"))
                    .is_some_and(Value::is_object),
            };
            let (payload, cancelled) = if method == "subscriptions/listen" {
                self.listen(&id, params.as_ref(), &env).await
            } else {
                self.run(&method, params.as_ref(), tool_args, &call, &env)
                    .await
            };
            let mut o = outcome(
                Era::Modern,
                payload.map(|r| self.decorate_modern(&method, r)),
            );
            o.cancelled = cancelled;
            return o;
        }
        match (method.as_str(), session) {
            ("initialize", _) => {
                let (result, state) = self.initialize(params.as_ref());
                let mut o = outcome(Era::Legacy, result);
                o.session = state;
                o
            }
            ("ping", _) => outcome(Era::Legacy, Ok(json!({}))),
            ("logging/setLevel", Some(s)) => {
                let level = params
                    .as_ref()
                    .and_then(|p| p.get("level"))
                    .and_then(Value::as_str)
                    .and_then(LogLevel::parse);
                match level {
                    Some(level) => {
                        let mut o = outcome(Era::Legacy, Ok(json!({})));
                        o.session = Some(SessionState {
                            log_level: Some(level),
                            ..s.clone()
                        });
                        o
                    }
                    None => outcome(
                        Era::Legacy,
                        Err(ErrorObject::invalid_params(
                            "level must be a log level name",
                        )),
                    ),
                }
            }
            ("server/discover", None) | (_, None) => outcome(
                Era::Modern,
                Err(ErrorObject::invalid_params(format!(
                    "missing params._meta[\"{META_PROTOCOL_VERSION}\"] (or initialize a legacy session first)"
                ))),
            ),
            (_, Some(s)) => {
                let call = Call {
                    era: Era::Legacy,
                    progress_token: progress_token(params.as_ref()),
                    log_level: s.log_level,
                    client_caps: None,
                    sampling: s.client_sampling,
                };
                let (payload, cancelled) = self
                    .run(&method, params.as_ref(), tool_args, &call, &env)
                    .await;
                let mut o = outcome(Era::Legacy, payload);
                o.cancelled = cancelled;
                o
            }
        }
    }

    /// Handles a notification from the client (never answered).
    pub fn handle_notification(
        &self,
        n: &Notification,
        session: Option<&SessionState>,
    ) -> NotificationEffect {
        match n.method.as_str() {
            "notifications/initialized" => NotificationEffect {
                session: session.filter(|s| !s.initialized).map(|s| SessionState {
                    initialized: true,
                    ..s.clone()
                }),
                cancel: None,
            },
            "notifications/cancelled" => NotificationEffect {
                session: None,
                cancel: n
                    .params
                    .as_ref()
                    .and_then(|p| p.get("requestId"))
                    .and_then(|id| serde_json::from_value(id.clone()).ok()),
            },
            _ => NotificationEffect::default(),
        }
    }

    fn initialize(
        &self,
        params: Option<&Value>,
    ) -> (Result<Value, ErrorObject>, Option<SessionState>) {
        let Some(requested) = params
            .and_then(|p| p.get("protocolVersion"))
            .and_then(Value::as_str)
        else {
            return (
                Err(ErrorObject::invalid_params(
                    "initialize needs params.protocolVersion",
                )),
                None,
            );
        };
        let version = if LEGACY_VERSIONS.contains(&requested) {
            requested
        } else {
            LATEST_LEGACY_VERSION
        };
        let mut result = json!({
            "protocolVersion": version,
            "capabilities": self.capabilities(Era::Legacy),
            "serverInfo": self.server_info(),
        });
        if let Some(i) = &self.inner.instructions {
            result["instructions"] = json!(i);
        }
        let client_sampling = params
            .and_then(|p| p.get("capabilities"))
            .and_then(|c| c.get("sampling"))
            .is_some_and(Value::is_object);
        let state = SessionState {
            protocol_version: version.to_owned(),
            log_level: None,
            initialized: false,
            owner: None,
            client_sampling,
        };
        (Ok(result), Some(state))
    }

    pub(crate) fn capabilities(&self, era: Era) -> Value {
        let mut caps = Map::new();
        if !self.inner.tools.is_empty() {
            caps.insert("tools".into(), json!({"listChanged": false}));
        }
        if !self.inner.resources.is_empty() || !self.inner.templates.is_empty() {
            caps.insert(
                "resources".into(),
                json!({"subscribe": false, "listChanged": false}),
            );
        }
        if !self.inner.prompts.is_empty() {
            caps.insert("prompts".into(), json!({"listChanged": false}));
        }
        if era == Era::Legacy {
            caps.insert("logging".into(), json!({}));
        }
        Value::Object(caps)
    }

    /// `subscriptions/listen`: acknowledges the filter and holds the stream open until the
    /// client cancels it or the server shuts subscriptions down (then answers gracefully).
    /// Registries never change after build, so no change notifications exist to honour: the
    /// acknowledged filter is empty, as the spec asks for unsupported types.
    async fn listen(
        &self,
        id: &RequestId,
        params: Option<&Value>,
        env: &RequestEnv,
    ) -> (Result<Value, ErrorObject>, bool) {
        if !params
            .and_then(|p| p.get("notifications"))
            .is_some_and(Value::is_object)
        {
            return (
                Err(ErrorObject::invalid_params(
                    "subscriptions/listen needs params.notifications (an object)",
                )),
                false,
            );
        }
        let sub_meta = json!({META_SUBSCRIPTION_ID: id});
        if let Some(sink) = &env.sink {
            let ack = Notification::new(
                "notifications/subscriptions/acknowledged",
                json!({"_meta": sub_meta, "notifications": {}}),
            );
            let _ = sink.send(crate::jsonrpc::Message::Notification(ack)).await;
        }
        tokio::select! {
            () = env.cancel.cancelled() => (Err(ErrorObject::internal("Request cancelled")), true),
            () = self.inner.subscriptions_closed.cancelled() => (Ok(json!({"_meta": sub_meta})), false),
        }
    }

    /// Ends every open `subscriptions/listen` stream with a graceful final response (for
    /// shutdown).
    pub fn close_subscriptions(&self) {
        self.inner.subscriptions_closed.cancel();
    }

    /// Adds `resultType`, server identity and (for cacheable results) caching hints.
    fn decorate_modern(&self, method: &str, mut result: Value) -> Value {
        if let Value::Object(m) = &mut result {
            // An `input_required` result keeps its type.
            m.entry("resultType").or_insert_with(|| json!("complete"));
            let meta = m.entry("_meta").or_insert_with(|| json!({}));
            if let Value::Object(meta) = meta {
                meta.insert(META_SERVER_INFO.into(), self.inner.server_info.clone());
            }
            if matches!(
                method,
                "tools/list"
                    | "prompts/list"
                    | "resources/list"
                    | "resources/read"
                    | "resources/templates/list"
                    | "server/discover"
            ) {
                m.insert("ttlMs".into(), json!(self.inner.ttl_ms));
                m.insert("cacheScope".into(), json!(self.inner.cache_scope.as_str()));
            }
        }
        result
    }

    /// Runs a method common to both eras. Returns the payload and whether it was cancelled.
    async fn run(
        &self,
        method: &str,
        params: Option<&Value>,
        tool_args: Option<Value>,
        call: &Call<'_>,
        env: &RequestEnv,
    ) -> (Result<Value, ErrorObject>, bool) {
        let inner = &self.inner;
        let cursor = || params.and_then(|p| p.get("cursor"));
        let result = match method {
            "server/discover" if call.era == Era::Modern => {
                let mut supported = vec![MODERN_VERSION];
                supported.extend(LEGACY_VERSIONS.iter().rev());
                let mut r = json!({
                    "supportedVersions": supported,
                    "capabilities": self.capabilities(Era::Modern),
                });
                if let Some(i) = &inner.instructions {
                    r["instructions"] = json!(i);
                }
                Ok(r)
            }
            "tools/list" => self.list(&inner.tools, |t| &t.json, cursor(), "tools"),
            "resources/list" => self.list(&inner.resources, |r| &r.json, cursor(), "resources"),
            "resources/templates/list" => {
                self.list(&inner.templates, |t| &t.json, cursor(), "resourceTemplates")
            }
            "prompts/list" => self.list(&inner.prompts, |p| &p.json, cursor(), "prompts"),
            "tools/call" => return self.call_tool(params, tool_args, call, env).await,
            "resources/read" => self.read_resource(params, call, env).await,
            "prompts/get" => self.get_prompt(params, call, env).await,
            _ => Err(ErrorObject::method_not_found(method)),
        };
        (result, false)
    }

    fn list<T>(
        &self,
        items: &[T],
        json_of: impl Fn(&T) -> &Value,
        cursor: Option<&Value>,
        key: &str,
    ) -> Result<Value, ErrorObject> {
        let start = match cursor {
            None | Some(Value::Null) => 0,
            Some(Value::String(c)) => decode_cursor(c)
                .filter(|&o| o <= items.len())
                .ok_or_else(|| ErrorObject::invalid_params("invalid cursor"))?,
            Some(_) => return Err(ErrorObject::invalid_params("cursor must be a string")),
        };
        let end = start.saturating_add(self.inner.page_size).min(items.len());
        let page: Vec<Value> = items
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .map(|i| json_of(i).clone())
            .collect();
        let mut result = Map::new();
        result.insert(key.into(), Value::Array(page));
        if end < items.len() {
            result.insert("nextCursor".into(), json!(encode_cursor(end)));
        }
        Ok(Value::Object(result))
    }

    async fn call_tool(
        &self,
        params: Option<&Value>,
        args: Option<Value>,
        call: &Call<'_>,
        env: &RequestEnv,
    ) -> (Result<Value, ErrorObject>, bool) {
        let Some(name) = params.and_then(|p| p.get("name")).and_then(Value::as_str) else {
            return (
                Err(ErrorObject::invalid_params("tools/call needs params.name")),
                false,
            );
        };
        let Some(tool) = self
            .inner
            .tool_index
            .get(name)
            .and_then(|&i| self.inner.tools.get(i))
        else {
            return (
                Err(ErrorObject::invalid_params(format!("Unknown tool: {name}"))),
                false,
            );
        };
        if let (Some(required), Era::Modern) = (&tool.required_caps, call.era) {
            let declared = call.client_caps.cloned().unwrap_or_else(|| json!({}));
            if let Some(missing) = missing_capabilities(required, &declared) {
                let e = ErrorObject::new(
                    error_codes::MISSING_CLIENT_CAPABILITY,
                    "Missing required client capability",
                )
                .with_data(json!({"requiredCapabilities": missing}));
                return (Err(e), false);
            }
        }
        let args = match args {
            None | Some(Value::Null) => json!({}),
            Some(a @ Value::Object(_)) => a,
            Some(_) => {
                return (
                    Err(ErrorObject::invalid_params("arguments must be an object")),
                    false,
                );
            }
        };
        if let Err(msg) = tool.input.validate(&args) {
            return (
                Err(ErrorObject::invalid_params(format!(
                    "Invalid arguments for tool {name}: {msg}"
                ))),
                false,
            );
        }
        // Modern calls are bound to their tool, arguments and owner, so a requestState cannot
        // be replayed on another call or by another principal.
        let mut rounds = None;
        let sampler = match call.era {
            _ if !call.sampling => Sampler::Off,
            Era::Legacy => env.peer.clone().map_or(Sampler::Off, Sampler::Live),
            Era::Modern => {
                let binding = CallBinding::new(
                    name,
                    &args,
                    env.extensions.get::<SessionOwner>().map(|o| o.0.as_str()),
                );
                let retry = Rounds::from_retry(
                    &self.inner.state_key,
                    &binding,
                    params.and_then(|p| p.get("requestState")),
                    params.and_then(|p| p.get("inputResponses")),
                );
                match retry {
                    Ok(r) => {
                        let r = Arc::new(Mutex::new(r));
                        rounds = Some((r.clone(), binding));
                        Sampler::Rounds(r)
                    }
                    Err(e) => return (Err(e), false),
                }
            }
        };
        let cx = ToolContext::new(env, call.progress_token.clone(), call.log_level)
            .with_sampler(sampler);
        let started = std::panic::catch_unwind(AssertUnwindSafe(|| (tool.handler)(args, cx)));
        let fut = match started {
            Ok(Ok(fut)) => fut,
            Ok(Err(msg)) => {
                return (
                    Err(ErrorObject::invalid_params(format!(
                        "Invalid arguments for tool {name}: {msg}"
                    ))),
                    false,
                );
            }
            Err(_) => return (Err(panicked(name)), false),
        };
        // Cancellation is cooperative: the handler watches its token and returns early, so it
        // can clean up; a cancelled request then gets no response.
        let outcome = AssertUnwindSafe(fut).catch_unwind().await;
        if env.cancel.is_cancelled() {
            return (Err(ErrorObject::internal("Request cancelled")), true);
        }
        // Something is still to be asked of the client: that, not the handler's interim
        // result, is the answer.
        let asked = rounds.and_then(|(r, binding)| {
            r.lock()
                .unwrap_or_else(|p| p.into_inner())
                .input_required(&self.inner.state_key, &binding)
        });
        if let (Some(asked), Ok(_)) = (asked, &outcome) {
            return (Ok(asked), false);
        }
        let result = match outcome {
            Err(_) => return (Err(panicked(name)), false),
            Ok(Err(e)) => json!({"content": [text_content(e.message)], "isError": true}),
            Ok(Ok(out)) => {
                if cfg!(debug_assertions)
                    && let Some(schema) = &tool.output
                {
                    let checked = match &out.structured {
                        Some(s) => schema.validate(s),
                        None => Err(
                            "tool has an output schema but returned no structured content".into(),
                        ),
                    };
                    if let Err(msg) = checked {
                        return (
                            Err(ErrorObject::internal(format!(
                                "tool {name} returned output that does not match its output schema: {msg}"
                            ))),
                            false,
                        );
                    }
                }
                let mut r = Map::new();
                r.insert("content".into(), Value::Array(out.content));
                if let Some(s) = out.structured {
                    r.insert("structuredContent".into(), s);
                }
                if let Some(m) = out.meta {
                    r.insert("_meta".into(), m);
                }
                Value::Object(r)
            }
        };
        (Ok(result), false)
    }

    async fn read_resource(
        &self,
        params: Option<&Value>,
        call: &Call<'_>,
        env: &RequestEnv,
    ) -> Result<Value, ErrorObject> {
        let Some(uri) = params.and_then(|p| p.get("uri")).and_then(Value::as_str) else {
            return Err(ErrorObject::invalid_params(
                "resources/read needs params.uri",
            ));
        };
        let not_found = || {
            let code = match call.era {
                Era::Legacy => error_codes::RESOURCE_NOT_FOUND,
                Era::Modern => error_codes::INVALID_PARAMS,
            };
            ErrorObject::new(code, "Resource not found").with_data(json!({"uri": uri}))
        };
        let cx = ToolContext::new(env, call.progress_token.clone(), call.log_level);
        let fut = if let Some(r) = self
            .inner
            .resource_index
            .get(uri)
            .and_then(|&i| self.inner.resources.get(i))
        {
            (r.handler)(uri.to_owned(), HashMap::new(), cx)
        } else {
            let found = self
                .inner
                .templates
                .iter()
                .find_map(|t| t.template.matches(uri).map(|vars| (t, vars)));
            match found {
                Some((t, vars)) => (t.handler)(uri.to_owned(), vars, cx),
                None => return Err(not_found()),
            }
        };
        match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(Ok(contents)) => Ok(json!({
                "contents": contents.into_iter().map(|c| c.into_json()).collect::<Vec<_>>()
            })),
            Ok(Err(ResourceError::NotFound)) => Err(not_found()),
            Ok(Err(ResourceError::Failed(msg))) => Err(ErrorObject::internal(msg)),
            Err(_) => Err(ErrorObject::internal("resource handler panicked")),
        }
    }

    async fn get_prompt(
        &self,
        params: Option<&Value>,
        call: &Call<'_>,
        env: &RequestEnv,
    ) -> Result<Value, ErrorObject> {
        let Some(name) = params.and_then(|p| p.get("name")).and_then(Value::as_str) else {
            return Err(ErrorObject::invalid_params("prompts/get needs params.name"));
        };
        let Some(prompt) = self
            .inner
            .prompt_index
            .get(name)
            .and_then(|&i| self.inner.prompts.get(i))
        else {
            return Err(ErrorObject::invalid_params(format!(
                "Unknown prompt: {name}"
            )));
        };
        let mut args = HashMap::new();
        if let Some(Value::Object(given)) = params.and_then(|p| p.get("arguments")) {
            for (k, v) in given {
                let Value::String(s) = v else {
                    return Err(ErrorObject::invalid_params(format!(
                        "prompt argument {k} must be a string"
                    )));
                };
                args.insert(k.clone(), s.clone());
            }
        }
        if let Some(missing) = prompt.required.iter().find(|r| !args.contains_key(*r)) {
            return Err(ErrorObject::invalid_params(format!(
                "missing required argument {missing}"
            )));
        }
        let cx = ToolContext::new(env, call.progress_token.clone(), call.log_level);
        match AssertUnwindSafe((prompt.handler)(args, cx))
            .catch_unwind()
            .await
        {
            Ok(Ok(p)) => {
                let mut r = json!({"messages": p.messages});
                if let Some(d) = p.description {
                    r["description"] = json!(d);
                }
                Ok(r)
            }
            Ok(Err(msg)) => Err(ErrorObject::internal(msg)),
            Err(_) => Err(ErrorObject::internal("prompt handler panicked")),
        }
    }
}

fn panicked(tool: &str) -> ErrorObject {
    ErrorObject::internal(format!("tool {tool} failed unexpectedly (panic)"))
}

fn progress_token(params: Option<&Value>) -> Option<Value> {
    params?
        .get("_meta")?
        .get("progressToken")
        .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
        .cloned()
}

/// Checks the modern per-request `_meta`: returns client capabilities and log level.
fn check_modern_meta<'a>(
    version: &Value,
    params: Option<&'a Value>,
) -> Result<(Option<&'a Value>, Option<LogLevel>), ErrorObject> {
    let Some(version) = version.as_str() else {
        return Err(ErrorObject::invalid_params(format!(
            "_meta[\"{META_PROTOCOL_VERSION}\"] must be a string"
        )));
    };
    if version != MODERN_VERSION {
        let mut supported = vec![MODERN_VERSION];
        supported.extend(LEGACY_VERSIONS.iter().rev());
        return Err(ErrorObject::new(
            error_codes::UNSUPPORTED_PROTOCOL_VERSION,
            "Unsupported protocol version",
        )
        .with_data(json!({"supported": supported, "requested": version})));
    }
    let meta = params.and_then(|p| p.get("_meta"));
    let caps = meta.and_then(|m| m.get(META_CLIENT_CAPABILITIES));
    if !caps.is_some_and(Value::is_object) {
        return Err(ErrorObject::invalid_params(format!(
            "missing params._meta[\"{META_CLIENT_CAPABILITIES}\"]"
        )));
    }
    let level = match meta.and_then(|m| m.get(META_LOG_LEVEL)) {
        None => None,
        Some(v) => Some(v.as_str().and_then(LogLevel::parse).ok_or_else(|| {
            ErrorObject::invalid_params(format!("_meta[\"{META_LOG_LEVEL}\"] is not a log level"))
        })?),
    };
    Ok((caps, level))
}

/// The part of `required` (a capabilities object) that `declared` lacks, or `None`.
fn missing_capabilities(required: &Value, declared: &Value) -> Option<Value> {
    let (Value::Object(req), Value::Object(dec)) = (required, declared) else {
        return None;
    };
    let missing: Map<String, Value> = req
        .iter()
        .filter(|(k, v)| match dec.get(*k) {
            None => true,
            Some(d) => v.is_object() && missing_capabilities(v, d).is_some(),
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!missing.is_empty()).then_some(Value::Object(missing))
}

fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix('o')?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor("garbage!"), None);
    }

    #[test]
    fn capability_diff() {
        let req = json!({"elicitation": {"form": {}}, "sampling": {}});
        assert_eq!(
            missing_capabilities(&req, &json!({"sampling": {}})),
            Some(json!({"elicitation": {"form": {}}}))
        );
        assert_eq!(
            missing_capabilities(&req, &json!({"sampling": {}, "elicitation": {"form": {}}})),
            None
        );
    }
}
