//! The test bench: a sandbox org on loopback with a fixed clock, an in-process MCP server with the
//! CRM tools connected to it over HTTP, calls through the server's dispatch API, and direct reads
//! of the sandbox's store for computing expected figures independently of the tools.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use crm_tools::{Connection, CrmConfig, CrmTools, SingleConnection};
use mcp_protocol::{McpServer, Request, RequestEnv, RequestId};
use salesforce_api::{Access, Client, StaticAccess};
use salesforce_sandbox::value::Value as Cell;
use salesforce_sandbox::{Clock, DatasetSize, RunningSandbox, Sandbox, SandboxBuilder};
use secrecy::SecretString;
use serde_json::{Map, Value, json};

/// The sandbox's "now": Wednesday 2026-11-25 15:00 UTC (this week is Sun 22 – Sat 28).
pub const NOW: &str = "2026-11-25T15:00:00Z";

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .with_timezone(&Utc)
}

pub struct Bench {
    pub sandbox: RunningSandbox,
    pub server: McpServer,
    pub client: Client,
    pub base_url: String,
}

impl Bench {
    /// A sandbox with the tiny dataset and the tools in their default configuration.
    pub async fn start() -> Bench {
        Bench::with_config(CrmConfig::default()).await
    }

    pub async fn with_config(config: CrmConfig) -> Bench {
        Bench::custom(config, |b| b, None).await
    }

    /// A bench whose sandbox is adjusted by `sandbox`, connected with `token` (default: a valid
    /// one for the demo user).
    pub async fn custom(
        config: CrmConfig,
        sandbox: impl FnOnce(SandboxBuilder) -> SandboxBuilder,
        token: Option<&str>,
    ) -> Bench {
        Bench::with_tools(config, sandbox, token, |tools| tools).await
    }

    /// As [`Bench::custom`], with the tools adjusted by `tools` before they are registered.
    pub async fn with_tools(
        mut config: CrmConfig,
        sandbox: impl FnOnce(SandboxBuilder) -> SandboxBuilder,
        token: Option<&str>,
        tools: impl FnOnce(CrmTools) -> CrmTools,
    ) -> Bench {
        // The analytics tools read "today" from the same fixed clock as the sandbox.
        config.now.get_or_insert_with(now);
        let sandbox = sandbox(
            Sandbox::builder()
                .dataset(DatasetSize::Tiny, 7)
                .clock(Clock::fixed(now()))
                .auto_approve(true),
        )
        .build()
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sandbox = sandbox.serve(listener).unwrap();
        let base_url = sandbox.base_url();
        let token = token.map_or_else(|| sandbox.sandbox().issue_access_token(), str::to_owned);
        let access = Access::new(&base_url, SecretString::from(token)).unwrap();
        let client = Client::builder(StaticAccess::new(access)).build().unwrap();
        let tools = tools(CrmTools::new(
            SingleConnection(Connection::new(client.clone(), &base_url)),
            config,
        ));
        let server = tools
            .register(McpServer::builder().name("crm-test").version("0.0.0"))
            .build()
            .unwrap();
        Bench {
            sandbox,
            server,
            client,
            base_url,
        }
    }

    /// A sandbox with the demo dataset (seed 1, about 32,000 records with the stage history).
    pub async fn demo() -> Bench {
        Bench::custom(
            CrmConfig::default(),
            |b| b.dataset(DatasetSize::Demo, 1),
            None,
        )
        .await
    }

    /// Sends one modern-era request and returns its result (panics on a JSON-RPC error).
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, Value> {
        let mut params = params;
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}
        });
        let outcome = self
            .server
            .handle_request(
                Request {
                    id: RequestId::Number(1),
                    method: method.into(),
                    params: Some(params),
                },
                None,
                RequestEnv::default(),
            )
            .await;
        outcome
            .response
            .payload
            .map_err(|e| serde_json::to_value(e).unwrap())
    }

    /// `tools/call`; returns the whole result (content, structuredContent, isError).
    pub async fn call_raw(&self, tool: &str, args: Value) -> Value {
        self.request("tools/call", json!({"name": tool, "arguments": args}))
            .await
            .unwrap_or_else(|e| panic!("{tool} answered a JSON-RPC error: {e}"))
    }

    /// A successful call's `structuredContent`.
    pub async fn call(&self, tool: &str, args: Value) -> Value {
        let result = self.call_raw(tool, args.clone()).await;
        assert_ne!(
            result["isError"],
            json!(true),
            "{tool}({args}) failed: {result}"
        );
        result["structuredContent"].clone()
    }

    /// A failing call's message.
    pub async fn call_err(&self, tool: &str, args: Value) -> String {
        let result = self.call_raw(tool, args.clone()).await;
        assert_eq!(
            result["isError"],
            json!(true),
            "{tool}({args}) succeeded: {result}"
        );
        result["content"][0]["text"].as_str().unwrap().to_owned()
    }

    /// The names `tools/list` shows.
    pub async fn listed_tools(&self) -> BTreeSet<String> {
        let list = self.request("tools/list", json!({})).await.unwrap();
        list["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Creates a record through the REST API; returns its id.
    pub async fn insert(&self, object: &str, fields: Value) -> String {
        let fields: Map<String, Value> = fields.as_object().unwrap().clone();
        self.client.create_record(object, &fields).await.unwrap().id
    }

    /// Every live record of `object`, as field name → value, read straight from the store.
    pub fn rows(&self, object: &str) -> Vec<Row> {
        let data = self.sandbox.sandbox().store().read();
        let (idx, def, table) = data.object(object).unwrap();
        let names: Vec<String> = def.fields().iter().map(|f| f.name.clone()).collect();
        table
            .rows()
            .iter()
            .filter(|r| !data.is_deleted(idx, r))
            .map(|r| Row {
                cells: names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        let value = if n == "Id" {
                            Cell::Id(r.id)
                        } else {
                            r.get(i).clone()
                        };
                        (n.clone(), value)
                    })
                    .collect(),
            })
            .collect()
    }

    /// The record with this id.
    pub fn row(&self, object: &str, id: &str) -> Row {
        self.rows(object)
            .into_iter()
            .find(|r| r.id() == id)
            .unwrap_or_else(|| panic!("no {object} {id}"))
    }
}

/// One record from the store.
#[derive(Debug, Clone)]
pub struct Row {
    cells: Vec<(String, Cell)>,
}

impl Row {
    pub fn get(&self, field: &str) -> &Cell {
        self.cells
            .iter()
            .find(|(n, _)| n == field)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no field {field}"))
    }

    pub fn id(&self) -> String {
        self.get("Id").as_id().unwrap().as_str().to_owned()
    }

    pub fn text(&self, field: &str) -> Option<String> {
        match self.get(field) {
            Cell::Text(s) => Some(s.to_string()),
            Cell::Id(id) => Some(id.as_str().to_owned()),
            _ => None,
        }
    }

    pub fn number(&self, field: &str) -> Option<f64> {
        self.get(field).as_f64()
    }

    /// A date field, or the day (UTC) of a datetime field.
    pub fn date(&self, field: &str) -> Option<NaiveDate> {
        match self.get(field) {
            Cell::Date(d) => Some(*d),
            Cell::DateTime(t) => Some(t.date_naive()),
            _ => None,
        }
    }

    pub fn flag(&self, field: &str) -> bool {
        matches!(self.get(field), Cell::Bool(true))
    }

    pub fn datetime(&self, field: &str) -> Option<DateTime<Utc>> {
        match self.get(field) {
            Cell::DateTime(t) => Some(*t),
            _ => None,
        }
    }
}

/// Literal, case-insensitive "contains", as the tools promise.
pub fn contains(haystack: Option<&str>, needle: &str) -> bool {
    haystack.is_some_and(|h| h.to_lowercase().contains(&needle.to_lowercase()))
}

/// The ids in a list of result objects.
pub fn ids(items: &Value, key: &str) -> BTreeSet<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}
