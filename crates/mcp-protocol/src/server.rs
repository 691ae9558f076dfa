//! The server: a builder that registers tools, resources, templates and prompts, and the
//! registries (kept in registration order, looked up by name) that dispatch reads from.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Error;
use crate::context::ToolContext;
use crate::registry::{
    Prompt, PromptMessages, RegisteredPrompt, RegisteredResource, RegisteredTemplate,
    RegisteredTool, Resource, ResourceContents, ResourceError, Tool, ToolError, ToolOutput,
    UriTemplate,
};

/// The modern protocol revision.
pub const MODERN_VERSION: &str = "2026-07-28";
/// Legacy revisions accepted by `initialize`, oldest first.
pub const LEGACY_VERSIONS: [&str; 3] = ["2025-03-26", "2025-06-18", "2025-11-25"];
/// The legacy revision offered when a client asks for one we do not speak.
pub const LATEST_LEGACY_VERSION: &str = "2025-11-25";

/// Default number of items per list page.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// `cacheScope` of cacheable modern-era results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheScope {
    /// Shared caches may serve the result to anyone.
    Public,
    /// Only the same authorization context may reuse the result.
    Private,
}

impl CacheScope {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CacheScope::Public => "public",
            CacheScope::Private => "private",
        }
    }
}

/// An MCP server: what it offers and how it describes itself. Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct McpServer {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) title: Option<String>,
    pub(crate) version: String,
    /// `serverInfo` as JSON, computed once at build time.
    pub(crate) server_info: Value,
    /// Fires when the server ends its subscription streams.
    pub(crate) subscriptions_closed: tokio_util::sync::CancellationToken,
    pub(crate) instructions: Option<String>,
    pub(crate) page_size: usize,
    pub(crate) ttl_ms: u64,
    pub(crate) cache_scope: CacheScope,
    pub(crate) tools: Vec<RegisteredTool>,
    pub(crate) tool_index: HashMap<String, usize>,
    pub(crate) resources: Vec<RegisteredResource>,
    pub(crate) resource_index: HashMap<String, usize>,
    pub(crate) templates: Vec<RegisteredTemplate>,
    pub(crate) prompts: Vec<RegisteredPrompt>,
    pub(crate) prompt_index: HashMap<String, usize>,
    /// Seals modern `requestState`s.
    pub(crate) state_key: crate::sampling::StateKey,
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("name", &self.inner.name)
            .field("version", &self.inner.version)
            .field("tools", &self.inner.tools.len())
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// Starts building a server.
    pub fn builder() -> McpServerBuilder {
        McpServerBuilder {
            inner: Inner {
                name: "mcp-server".into(),
                title: None,
                version: "0.0.0".into(),
                server_info: Value::Null,
                subscriptions_closed: tokio_util::sync::CancellationToken::new(),
                instructions: None,
                page_size: DEFAULT_PAGE_SIZE,
                ttl_ms: 0,
                cache_scope: CacheScope::Private,
                tools: Vec::new(),
                tool_index: HashMap::new(),
                resources: Vec::new(),
                resource_index: HashMap::new(),
                templates: Vec::new(),
                prompts: Vec::new(),
                prompt_index: HashMap::new(),
                state_key: crate::sampling::StateKey::random(),
            },
            error: None,
            observer: None,
        }
    }

    pub(crate) fn server_info(&self) -> Value {
        self.inner.server_info.clone()
    }
}

/// Builds an [`McpServer`]. Registration errors are kept and reported by [`McpServerBuilder::build`].
pub struct McpServerBuilder {
    inner: Inner,
    error: Option<Error>,
    observer: Option<Arc<dyn crate::observe::ToolObserver>>,
}

impl McpServerBuilder {
    /// The server's name (`serverInfo.name`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.inner.name = name.into();
        self
    }

    /// The server's display title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.inner.title = Some(title.into());
        self
    }

    /// The server's version (`serverInfo.version`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.inner.version = version.into();
        self
    }

    /// Guidance for the model on how to use the server.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.inner.instructions = Some(instructions.into());
        self
    }

    /// Items per list page (at least 1).
    pub fn page_size(mut self, size: usize) -> Self {
        self.inner.page_size = size.max(1);
        self
    }

    /// Caching hints put on modern-era list, read and discover results.
    pub fn cache_hints(mut self, ttl_ms: u64, scope: CacheScope) -> Self {
        self.inner.ttl_ms = ttl_ms;
        self.inner.cache_scope = scope;
        self
    }

    /// Secret material the key sealing modern `requestState`s is derived from. Replicas serving
    /// one endpoint must share it, since a client's retry may reach any of them; without it each
    /// process uses a random key of its own.
    pub fn request_state_secret(mut self, secret: &[u8]) -> Self {
        self.inner.state_key = crate::sampling::StateKey::derive(secret);
        self
    }

    fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// Registers a tool whose handler receives its arguments deserialized into `A`, after they
    /// were validated against the tool's input schema.
    pub fn tool<A, F, Fut>(mut self, tool: Tool, handler: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(A, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolOutput, ToolError>> + Send + 'static,
    {
        match RegisteredTool::new(tool, handler) {
            Ok((name, reg)) => {
                if self.inner.tool_index.contains_key(&name) {
                    self.fail(Error::Duplicate(format!("tool {name}")));
                } else {
                    self.inner.tool_index.insert(name, self.inner.tools.len());
                    self.inner.tools.push(reg);
                }
            }
            Err(e) => self.fail(e),
        }
        self
    }

    /// Registers a resource with a fixed URI.
    pub fn resource<F, Fut>(mut self, resource: Resource, handler: F) -> Self
    where
        F: Fn(String, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, ResourceError>> + Send + 'static,
    {
        let uri = resource.uri().to_owned();
        if uri.is_empty() {
            self.fail(Error::InvalidName("empty resource URI".into()));
            return self;
        }
        if self.inner.resource_index.contains_key(&uri) {
            self.fail(Error::Duplicate(format!("resource {uri}")));
            return self;
        }
        let handler = Arc::new(move |uri: String, _vars: HashMap<String, String>, cx| {
            Box::pin(handler(uri, cx)) as crate::registry::ResourceFuture
        });
        self.inner
            .resource_index
            .insert(uri, self.inner.resources.len());
        self.inner.resources.push(RegisteredResource {
            json: resource.to_json("uri"),
            handler,
        });
        self
    }

    /// Registers a resource template (`{var}` placeholders); the handler gets the matched
    /// variables. Templates are tried in registration order after exact resources.
    pub fn resource_template<F, Fut>(mut self, template: Resource, handler: F) -> Self
    where
        F: Fn(String, HashMap<String, String>, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<ResourceContents>, ResourceError>> + Send + 'static,
    {
        match UriTemplate::parse(template.uri()) {
            Ok(parsed) => {
                let handler = Arc::new(move |uri, vars, cx| {
                    Box::pin(handler(uri, vars, cx)) as crate::registry::ResourceFuture
                });
                self.inner.templates.push(RegisteredTemplate {
                    json: template.to_json("uriTemplate"),
                    template: parsed,
                    handler,
                });
            }
            Err(e) => self.fail(e),
        }
        self
    }

    /// Registers a prompt; the handler gets the string arguments (required ones checked first).
    pub fn prompt<F, Fut>(mut self, prompt: Prompt, handler: F) -> Self
    where
        F: Fn(HashMap<String, String>, ToolContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<PromptMessages, String>> + Send + 'static,
    {
        let name = prompt.name().to_owned();
        if name.is_empty() {
            self.fail(Error::InvalidName("empty prompt name".into()));
            return self;
        }
        if self.inner.prompt_index.contains_key(&name) {
            self.fail(Error::Duplicate(format!("prompt {name}")));
            return self;
        }
        let handler =
            Arc::new(move |args, cx| Box::pin(handler(args, cx)) as crate::registry::PromptFuture);
        self.inner
            .prompt_index
            .insert(name, self.inner.prompts.len());
        self.inner.prompts.push(RegisteredPrompt {
            json: prompt.to_json(),
            required: prompt.required_arguments(),
            handler,
        });
        self
    }

    /// Reports every tool call that reaches a handler to `observer` (metrics, audit), whenever
    /// the tool was registered.
    pub fn observe_tools(mut self, observer: Arc<dyn crate::observe::ToolObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Finishes the server, or reports the first registration error.
    pub fn build(self) -> Result<McpServer, Error> {
        match self.error {
            Some(e) => Err(e),
            None => {
                let mut inner = self.inner;
                if let Some(observer) = self.observer {
                    for (name, &i) in &inner.tool_index {
                        if let Some(tool) = inner.tools.get_mut(i) {
                            tool.handler = crate::observe::observed(
                                Arc::from(name.as_str()),
                                tool.handler.clone(),
                                observer.clone(),
                            );
                        }
                    }
                }
                let mut info = json!({"name": inner.name, "version": inner.version});
                if let Some(t) = &inner.title {
                    info["title"] = json!(t);
                }
                inner.server_info = info;
                Ok(McpServer {
                    inner: Arc::new(inner),
                })
            }
        }
    }
}
