//! The widgets ChatGPT and MCP Apps hosts draw under a tool's result: small self-contained HTML
//! documents (inline CSS and JavaScript from `crates/crm-tools/widgets/`, nothing fetched) that
//! render the tool's `structuredContent`.
//!
//! Each widget is served twice, with the same HTML, because the two conventions differ in URI,
//! MIME type and metadata:
//! - ChatGPT Apps SDK: `ui://widget/<name>.html`, `text/html+skybridge`, named by the tool's
//!   `_meta["openai/outputTemplate"]`, with `openai/widgetCSP`, `openai/widgetDescription`,
//!   `openai/widgetPrefersBorder` and (when configured) `openai/widgetDomain`;
//! - MCP Apps (`io.modelcontextprotocol/ui`): `ui://sfmcp/<name>.html`,
//!   `text/html;profile=mcp-app`, named by the tool's `_meta.ui.resourceUri` (and the older flat
//!   `ui/resourceUri`), with `_meta.ui.csp` and `prefersBorder`.
//!
//! Both CSPs declare no domains at all: a widget makes no requests and loads nothing, so hosts
//! give it their most restrictive policy. `ui.domain` is left out because its format is
//! host-specific (ChatGPT and Claude expect different sandbox host names); without it the host
//! uses its default per-conversation sandbox origin.
//!
//! The page script (`widgets/runtime.js`) takes the data from `window.openai.toolOutput`
//! (ChatGPT), from the MCP Apps `ui/notifications/tool-result` message (after the
//! `ui/initialize` handshake with the parent frame), or from `window.sfmcpWidget.render(data)`
//! (previews and tests), and writes every value with `textContent`.

use std::sync::Arc;

use mcp_protocol::{McpServerBuilder, Resource, ResourceContents, Tool};
use serde_json::{Value, json};

/// MIME type of the ChatGPT Apps SDK form.
pub const SKYBRIDGE_MIME_TYPE: &str = "text/html+skybridge";
/// MIME type of the MCP Apps form.
pub const MCP_APP_MIME_TYPE: &str = "text/html;profile=mcp-app";

const STYLE: &str = include_str!("../widgets/widget.css");
const RUNTIME: &str = include_str!("../widgets/runtime.js");

/// One widget and the tool whose result it draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Widget {
    /// File-like name: the URIs end in `<name>.html`.
    pub name: &'static str,
    /// The tool it is attached to.
    pub tool: &'static str,
    /// Human title (the page's `<title>` and the resource's title).
    pub title: &'static str,
    /// What the widget shows, for the model (`openai/widgetDescription`) and resource lists.
    pub description: &'static str,
    /// Status line while the tool runs (`openai/toolInvocation/invoking`, ≤ 64 characters).
    pub invoking: &'static str,
    /// Status line once it ran (`openai/toolInvocation/invoked`, ≤ 64 characters).
    pub invoked: &'static str,
    /// The widget's own script: one `sfmcp.mount(render)` call.
    script: &'static str,
}

/// Every widget, in a fixed order.
pub const WIDGETS: [Widget; 5] = [
    Widget {
        name: "lead-cards",
        tool: "searchLeads",
        title: "Lead cards",
        description: "Cards for the leads found: name, title and company, rating and status, revenue, size, owner and creation date, with the match count. The user sees these cards; do not repeat every field.",
        invoking: "Searching leads…",
        invoked: "Leads found",
        script: include_str!("../widgets/lead-cards.js"),
    },
    Widget {
        name: "opportunity-card",
        tool: "getOpportunity",
        title: "Opportunity",
        description: "A card for one opportunity: stage, amount, probability, close date, owner, next step, contact roles and recent activities. The user sees this card; summarise rather than repeat it.",
        invoking: "Opening the opportunity…",
        invoked: "Opportunity loaded",
        script: include_str!("../widgets/opportunity-card.js"),
    },
    Widget {
        name: "account-insights",
        tool: "getAccountInsights",
        title: "Account insights",
        description: "An account overview: details, total and weighted pipeline, open opportunities, key contacts and open cases. The user sees these figures; focus on what they mean.",
        invoking: "Gathering account insights…",
        invoked: "Account insights ready",
        script: include_str!("../widgets/account-insights.js"),
    },
    Widget {
        name: "lead-scores",
        tool: "scoreLeads",
        title: "Lead scores",
        description: "Ranked lead cards: score 0-100 with grade and a bar, and each factor's points out of its maximum with the reason. The user sees the breakdown; explain the top drivers.",
        invoking: "Scoring leads…",
        invoked: "Leads scored",
        script: include_str!("../widgets/lead-scores.js"),
    },
    Widget {
        name: "pipeline",
        tool: "analyzePipeline",
        title: "Pipeline analysis",
        description: "The period's pipeline: totals, weighted and historical forecasts, risk factors with deal counts and amounts, deals most likely to close and deals at risk. The user sees these tables; focus on conclusions.",
        invoking: "Analyzing the pipeline…",
        invoked: "Pipeline analyzed",
        script: include_str!("../widgets/pipeline.js"),
    },
];

impl Widget {
    /// The widget for `tool`, if it has one.
    pub fn for_tool(tool: &str) -> Option<&'static Widget> {
        WIDGETS.iter().find(|w| w.tool == tool)
    }

    /// The ChatGPT Apps SDK resource URI (`openai/outputTemplate`).
    pub fn skybridge_uri(&self) -> String {
        format!("ui://widget/{}.html", self.name)
    }

    /// The MCP Apps resource URI (`_meta.ui.resourceUri`).
    pub fn mcp_app_uri(&self) -> String {
        format!("ui://sfmcp/{}.html", self.name)
    }

    /// The whole HTML document: one file, styles and scripts inline.
    pub fn html(&self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n\
<style>\n{STYLE}</style>\n</head>\n<body>\n\
<main id=\"root\" data-state=\"waiting\" aria-live=\"polite\"><p class=\"notice\">Waiting for the result…</p></main>\n\
<script>\n{RUNTIME}</script>\n<script>\n{script}</script>\n</body>\n</html>\n",
            title = self.title,
            script = self.script,
        )
    }

    /// The tool `_meta` that attaches this widget in both conventions.
    pub fn tool_meta(&self) -> Value {
        json!({
            "openai/outputTemplate": self.skybridge_uri(),
            "openai/toolInvocation/invoking": self.invoking,
            "openai/toolInvocation/invoked": self.invoked,
            "ui": {"resourceUri": self.mcp_app_uri()},
            "ui/resourceUri": self.mcp_app_uri(),
        })
    }

    /// Resource `_meta` of the ChatGPT form.
    fn skybridge_meta(&self, domain: Option<&str>) -> Value {
        let mut meta = json!({
            "openai/widgetDescription": self.description,
            "openai/widgetPrefersBorder": true,
            "openai/widgetCSP": {"connect_domains": [], "resource_domains": []},
        });
        if let Some(domain) = domain {
            meta["openai/widgetDomain"] = json!(domain);
        }
        meta
    }

    /// Resource `_meta` of the MCP Apps form.
    fn mcp_app_meta(&self) -> Value {
        json!({
            "ui": {
                "csp": {"connectDomains": [], "resourceDomains": []},
                "prefersBorder": true,
            }
        })
    }
}

/// Sets `tool`'s `_meta` to its widget's, when it has one.
pub(crate) fn attach(tool: Tool) -> Tool {
    match Widget::for_tool(tool.name()) {
        Some(widget) => tool.meta(widget.tool_meta()),
        None => tool,
    }
}

/// Registers both resources of every widget whose tool is in `tools`.
pub(crate) fn register(
    mut builder: McpServerBuilder,
    tools: &[&str],
    domain: Option<&str>,
) -> McpServerBuilder {
    for widget in WIDGETS.iter().filter(|w| tools.contains(&w.tool)) {
        let html: Arc<str> = widget.html().into();
        let forms = [
            (
                widget.skybridge_uri(),
                SKYBRIDGE_MIME_TYPE,
                widget.skybridge_meta(domain),
            ),
            (
                widget.mcp_app_uri(),
                MCP_APP_MIME_TYPE,
                widget.mcp_app_meta(),
            ),
        ];
        for (uri, mime_type, meta) in forms {
            let resource = Resource::new(uri.clone(), widget.name)
                .title(widget.title)
                .description(widget.description)
                .mime_type(mime_type)
                .meta(meta.clone());
            let html = html.clone();
            builder = builder.resource(resource, move |_uri, _cx| {
                let contents = ResourceContents::text(uri.clone(), Some(mime_type), &*html)
                    .with_meta(meta.clone());
                async move { Ok(vec![contents]) }
            });
        }
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_cannot_end_their_script_element_early() {
        for source in [RUNTIME, STYLE]
            .into_iter()
            .chain(WIDGETS.iter().map(|w| w.script))
        {
            let lower = source.to_ascii_lowercase();
            assert!(
                !lower.contains("</script"),
                "a widget source contains </script"
            );
            assert!(
                !lower.contains("</style"),
                "a widget source contains </style"
            );
            assert!(!lower.contains("<!--"), "a widget source contains <!--");
        }
    }

    #[test]
    fn widget_sources_never_write_markup() {
        for source in [RUNTIME]
            .into_iter()
            .chain(WIDGETS.iter().map(|w| w.script))
        {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
            ] {
                assert!(!source.contains(sink), "a widget source uses {sink}");
            }
        }
    }

    #[test]
    fn invocation_lines_fit_chatgpts_limit() {
        for widget in WIDGETS {
            assert!(widget.invoking.chars().count() <= 64, "{}", widget.name);
            assert!(widget.invoked.chars().count() <= 64, "{}", widget.name);
        }
    }

    #[test]
    fn the_widget_domain_is_given_to_chatgpt_only_when_configured() {
        let widget = Widget::for_tool("searchLeads").unwrap();
        let with = widget.skybridge_meta(Some("https://mcp.example.com"));
        assert_eq!(
            with["openai/widgetDomain"],
            json!("https://mcp.example.com")
        );
        assert!(
            widget
                .skybridge_meta(None)
                .get("openai/widgetDomain")
                .is_none()
        );
        assert!(widget.mcp_app_meta()["ui"].get("domain").is_none());
    }

    #[test]
    fn each_widget_tool_names_both_resources() {
        assert!(Widget::for_tool("createTask").is_none());
        let meta = Widget::for_tool("analyzePipeline").unwrap().tool_meta();
        assert_eq!(
            meta["openai/outputTemplate"],
            json!("ui://widget/pipeline.html")
        );
        assert_eq!(meta["ui"]["resourceUri"], json!("ui://sfmcp/pipeline.html"));
        let names: std::collections::BTreeSet<_> = WIDGETS.iter().map(|w| w.name).collect();
        let tools: std::collections::BTreeSet<_> = WIDGETS.iter().map(|w| w.tool).collect();
        assert_eq!((names.len(), tools.len()), (WIDGETS.len(), WIDGETS.len()));
    }

    #[test]
    fn the_document_is_self_contained() {
        for widget in WIDGETS {
            let html = widget.html();
            assert!(html.starts_with("<!DOCTYPE html>"));
            assert!(html.contains("sfmcp.mount("), "{}", widget.name);
            for external in ["src=", "href=\"http", "@import", "url(http"] {
                assert!(!html.contains(external), "{} has {external}", widget.name);
            }
        }
    }
}
