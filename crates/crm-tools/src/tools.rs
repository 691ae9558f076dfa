//! The tool set: [`CrmTools`] holds the connections and configuration and registers each tool
//! (one module per tool) on an [`McpServerBuilder`]. Shared helpers run SOQL built with the typed
//! builder and adapt handlers to `mcp-protocol`'s signature.

mod account_activity;
mod account_insights;
mod activity_dates;
mod analyze_pipeline;
mod create_task;
mod get_opportunity;
mod route_leads;
mod score_leads;
mod search_fetch;
mod search_leads;
mod stage_history;
mod update_contact;
// The generic catalog (querySoql … getApiUsage).
mod api_usage;
mod bulk_export;
mod bulk_import;
mod create_record;
mod delete_record;
mod describe_object;
mod get_record;
mod list_objects;
mod query_soql;
mod recent_events;
mod run_flow;
mod run_report;
mod search_records;
mod sobject;
mod update_record;

use std::future::Future;
use std::sync::Arc;

use mcp_protocol::{McpServerBuilder, ToolAnnotations, ToolContext, ToolError, ToolOutput};
use salesforce_api::soql::{Field, Select};
use salesforce_api::{QueryOptions, Record};
use serde::de::DeserializeOwned;

use crate::{Connection, Connections, CrmConfig, Error, EventSource, widgets};

/// Every tool name, in registration order.
pub const TOOL_NAMES: [&str; 25] = [
    "searchLeads",
    "getOpportunity",
    "getAccountInsights",
    "updateContact",
    "createTask",
    "search",
    "fetch",
    "scoreLeads",
    "analyzePipeline",
    "summarizeAccountActivity",
    "routeLeads",
    // The generic catalog.
    "querySoql",
    "searchRecords",
    "listObjects",
    "describeObject",
    "getRecord",
    "createRecord",
    "updateRecord",
    "deleteRecord",
    "bulkImport",
    "bulkExport",
    "runFlow",
    "runReport",
    "recentEvents",
    "getApiUsage",
];

/// The tools that change data: not listed in read-only mode.
pub const WRITE_TOOL_NAMES: [&str; 8] = [
    "updateContact",
    "createTask",
    "routeLeads",
    // The generic catalog.
    "createRecord",
    "updateRecord",
    "deleteRecord",
    "bulkImport",
    "runFlow",
];

/// What every handler shares.
pub(crate) struct Shared {
    connections: Arc<dyn Connections>,
    pub(crate) config: CrmConfig,
    /// The webhook worker's event feed, for `recentEvents`.
    pub(crate) events: Option<Arc<dyn EventSource>>,
}

impl Shared {
    pub(crate) async fn connect(
        &self,
        cx: &ToolContext,
        org: Option<&str>,
    ) -> Result<Connection, Error> {
        self.connections.connect(cx, org).await
    }

    /// Who the call runs for, for the audit log.
    pub(crate) fn principal(&self, cx: &ToolContext) -> Option<String> {
        self.connections.principal(cx)
    }
}

/// The CRM tools, ready to be registered on an MCP server.
#[derive(Clone)]
pub struct CrmTools {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CrmTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CrmTools")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl CrmTools {
    /// Tools that reach Salesforce through `connections`, configured by `config`.
    pub fn new(connections: impl Connections, config: CrmConfig) -> Self {
        CrmTools {
            shared: Arc::new(Shared {
                connections: Arc::new(connections),
                config,
                events: None,
            }),
        }
    }

    /// The same tools with `recentEvents` reading `events` (the webhook worker's feed). Without
    /// an event source `recentEvents` is not listed.
    pub fn with_events(self, events: impl EventSource) -> Self {
        CrmTools {
            shared: Arc::new(Shared {
                connections: self.shared.connections.clone(),
                config: self.shared.config.clone(),
                events: Some(Arc::new(events)),
            }),
        }
    }

    /// The names of the tools [`CrmTools::register`] will list under this configuration.
    pub fn listed(&self) -> Vec<&'static str> {
        TOOL_NAMES
            .into_iter()
            .filter(|name| self.lists(name))
            .collect()
    }

    fn lists(&self, name: &str) -> bool {
        let config = &self.shared.config;
        match name {
            "updateContact" => config.may_write("Contact"),
            "createTask" => config.may_write("Task"),
            "routeLeads" => config.may_write("Lead"),
            // Generic writes check the allow-list per call; a Flow may write any object, so it
            // is offered only when every object is writable.
            "createRecord" | "updateRecord" | "deleteRecord" | "bulkImport" => !config.read_only,
            "runFlow" => !config.read_only && config.writable_objects.is_none(),
            "recentEvents" => self.shared.events.is_some(),
            _ => true,
        }
    }

    /// Registers the tools on `builder`, and the widget resources of those that have one (see
    /// [`crate::widgets`]). Write tools are left out in read-only mode and when their object is
    /// not in the writable allow-list.
    pub fn register(self, builder: McpServerBuilder) -> McpServerBuilder {
        let config = &self.shared.config;
        let builder = widgets::register(builder, &self.listed(), config.widget_domain.as_deref());
        let mut builder = builder
            .tool(
                widgets::attach(search_leads::tool(config)),
                handler(&self.shared, search_leads::run),
            )
            .tool(
                widgets::attach(get_opportunity::tool(config)),
                handler(&self.shared, get_opportunity::run),
            )
            .tool(
                widgets::attach(account_insights::tool(config)),
                handler(&self.shared, account_insights::run),
            );
        if self.lists("updateContact") {
            builder = builder.tool(
                update_contact::tool(config),
                handler(&self.shared, update_contact::run),
            );
        }
        if self.lists("createTask") {
            builder = builder.tool(
                create_task::tool(config),
                handler(&self.shared, create_task::run),
            );
        }
        builder = builder
            .tool(
                search_fetch::search_tool(),
                handler(&self.shared, search_fetch::search),
            )
            .tool(
                search_fetch::fetch_tool(),
                handler(&self.shared, search_fetch::fetch),
            )
            .tool(
                widgets::attach(score_leads::tool(config)),
                handler(&self.shared, score_leads::run),
            )
            .tool(
                widgets::attach(analyze_pipeline::tool(config)),
                handler(&self.shared, analyze_pipeline::run),
            )
            .tool(
                account_activity::tool(config),
                handler(&self.shared, account_activity::run),
            );
        if self.lists("routeLeads") {
            builder = builder.tool(
                route_leads::tool(config),
                handler(&self.shared, route_leads::run),
            );
        }
        self.register_catalog(builder)
    }

    /// The generic catalog, in [`TOOL_NAMES`] order, each only where [`CrmTools::lists`] says.
    fn register_catalog(&self, mut builder: McpServerBuilder) -> McpServerBuilder {
        let (s, config) = (&self.shared, &self.shared.config);
        // Each tool has its own argument type, hence a macro rather than a list.
        macro_rules! listed {
            ($($name:literal => $tool:expr, $run:path;)*) => {$(
                if self.lists($name) {
                    builder = builder.tool($tool, handler(s, $run));
                }
            )*};
        }
        listed! {
            "querySoql" => query_soql::tool(config), query_soql::run;
            "searchRecords" => search_records::tool(config), search_records::run;
            "listObjects" => list_objects::tool(config), list_objects::run;
            "describeObject" => describe_object::tool(), describe_object::run;
            "getRecord" => get_record::tool(), get_record::run;
            "createRecord" => create_record::tool(), create_record::run;
            "updateRecord" => update_record::tool(), update_record::run;
            "deleteRecord" => delete_record::tool(), delete_record::run;
            "bulkImport" => bulk_import::tool(config), bulk_import::run;
            "bulkExport" => bulk_export::tool(config), bulk_export::run;
            "runFlow" => run_flow::tool(), run_flow::run;
            "runReport" => run_report::tool(config), run_report::run;
            "recentEvents" => recent_events::tool(config), recent_events::run;
            "getApiUsage" => api_usage::tool(), api_usage::run;
        }
        builder
    }
}

/// Adapts `run(shared, args, cx)` to `mcp-protocol`'s handler signature; an [`Error`] becomes an
/// `isError` result with its model-facing message.
fn handler<A, F, Fut>(
    shared: &Arc<Shared>,
    run: F,
) -> impl Fn(A, ToolContext) -> futures::future::BoxFuture<'static, Result<ToolOutput, ToolError>>
+ Send
+ Sync
+ 'static
where
    A: DeserializeOwned + Send + 'static,
    F: Fn(Arc<Shared>, A, ToolContext) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Result<ToolOutput, Error>> + Send + 'static,
{
    let shared = shared.clone();
    move |args, cx| {
        let fut = run(shared.clone(), args, cx);
        Box::pin(async move {
            fut.await.map_err(|e| {
                tracing::debug!(error = %e, "CRM tool call failed");
                ToolError::new(e.to_string())
            })
        })
    }
}

/// Annotations of a tool that only reads.
pub(crate) fn read_only() -> ToolAnnotations {
    ToolAnnotations {
        read_only: Some(true),
        destructive: Some(false),
        idempotent: Some(true),
        open_world: Some(false),
    }
}

/// Runs a built query and returns its first page's records (the query carries its own `LIMIT`).
pub(crate) async fn query(connection: &Connection, select: Select) -> Result<Vec<Record>, Error> {
    let soql = select.to_soql()?;
    let page = connection
        .client
        .query_page::<Record>(&soql, QueryOptions::default())
        .await?;
    Ok(page.records)
}

/// Runs a `SELECT COUNT()` query.
pub(crate) async fn count(connection: &Connection, select: Select) -> Result<u64, Error> {
    let soql = select.to_soql()?;
    Ok(connection.client.count(&soql).await?)
}

/// The `org` argument every tool except `search`/`fetch` takes.
pub(crate) fn org_property() -> serde_json::Value {
    serde_json::json!({
        "type": "string",
        "maxLength": 80,
        "description": "Which of the user's connected Salesforce orgs to use (name or org id). Omit for the default org."
    })
}

/// A `maxLength`-bounded search text property.
pub(crate) fn text_property(description: &str) -> serde_json::Value {
    serde_json::json!({"type": "string", "minLength": 1, "maxLength": 255, "description": description})
}

/// Candidates listed when a name matches several records.
const CANDIDATES: u64 = 10;

/// How a tool finds one record by its name.
pub(crate) struct NameLookup {
    pub(crate) object: &'static str,
    pub(crate) noun: &'static str,
    pub(crate) plural: &'static str,
    /// Fields read for the candidate list (`Id` and `Name` first).
    pub(crate) fields: &'static [&'static str],
    /// Newest (descending) first by this field.
    pub(crate) order_by: &'static str,
    /// One candidate, for the "several match" message.
    pub(crate) describe: fn(&Record) -> String,
}

/// The one record `name` means: an exact (case-insensitive) match first, else the records whose
/// name contains it. Several matches are an error listing them, so the model can pick an id.
pub(crate) async fn find_by_name(
    connection: &Connection,
    lookup: &NameLookup,
    name: &str,
) -> Result<salesforce_core::id::RecordId, Error> {
    let base = || -> Result<Select, Error> {
        Ok(Select::from(lookup.object)
            .fields(lookup.fields)
            .order_by(Field::new(lookup.order_by)?.desc())
            .limit(CANDIDATES))
    };
    let mut found = query(connection, base()?.filter(Field::new("Name")?.eq(name))).await?;
    if found.is_empty() {
        found = query(
            connection,
            base()?.filter(Field::new("Name")?.contains(name)),
        )
        .await?;
    }
    match found.as_slice() {
        [] => Err(Error::NotFound(format!(
            "no {} is named or contains `{}`: check the spelling, or use `search` to find it",
            lookup.noun,
            name.chars().take(80).collect::<String>()
        ))),
        [one] => crate::ids::parse("id", one.id().unwrap_or_default()),
        many => {
            let list: Vec<String> = many.iter().map(lookup.describe).collect();
            Err(Error::invalid(format!(
                "`name` matches {}{} {}; call again with `id` set to one of: {}",
                if many.len() as u64 >= CANDIDATES {
                    "at least "
                } else {
                    ""
                },
                many.len(),
                lookup.plural,
                list.join("; ")
            )))
        }
    }
}
