//! The widgets as the server serves them: a client of `server::start` (the binary's composition,
//! embedded demo org) over HTTP finds every widget through `tools/list` (`_meta`), reads both of
//! its resources through `/mcp` (MIME types, CSP and domain metadata), asks the tool a realistic
//! question, and renders the fetched documents with that result in headless Chromium: the
//! ChatGPT form through `window.openai`, the MCP Apps form through its postMessage bridge. What a
//! person would see must show the names and counts of the result. One Chromium run for all;
//! the screenshot is `target/widget-screenshots/server-widgets.png`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};
use test_support::browser::{self, Feed, Frame};

use crate::mcp_client::LegacySession;
use crate::support::{OrgFacts, settings};

/// The public URL the server is started with: its origin is the ChatGPT widget domain.
const PUBLIC_URL: &str = "https://mcp.example.com";

/// A widget tool's question: the arguments a person's request would produce.
fn question(tool: &str, account: &str, opportunity: &str) -> Value {
    match tool {
        // "Which hot healthcare leads have the most revenue?"
        "searchLeads" => json!({"industry": ["Healthcare"], "rating": ["Hot"],
                                "sortBy": "AnnualRevenue", "limit": 5}),
        // "Show me our biggest open deal at this account."
        "getOpportunity" => json!({"id": opportunity}),
        // "How is this account doing?"
        "getAccountInsights" => json!({"id": account}),
        // "Which healthcare leads should we call first?"
        "scoreLeads" => json!({"filters": {"industry": ["Healthcare"]}, "limit": 5}),
        // "What does this quarter's pipeline look like?"
        "analyzePipeline" => json!({"period": "this_quarter", "limit": 5}),
        other => panic!("no question for the widget tool {other}: add one"),
    }
}

/// Texts of `data` a person must see in `tool`'s widget.
fn expected_texts(tool: &str, data: &Value) -> Vec<String> {
    let text = |v: &Value| {
        v.as_str()
            .unwrap_or_else(|| panic!("{tool}: {v}"))
            .to_owned()
    };
    let names = |list: &Value| -> Vec<String> {
        let items = list.as_array().unwrap_or_else(|| panic!("{tool}: {list}"));
        assert!(!items.is_empty(), "{tool} returned an empty list: {data}");
        items.iter().map(|i| text(&i["name"])).collect()
    };
    match tool {
        "searchLeads" => {
            let mut want = vec![format!("{} leads match", data["totalSize"])];
            for lead in data["leads"].as_array().unwrap() {
                want.push(text(&lead["company"]));
            }
            want.extend(names(&data["leads"]));
            want
        }
        "getOpportunity" => {
            let mut want = vec![
                text(&data["name"]),
                text(&data["account"]["name"]),
                text(&data["stage"]),
                text(&data["owner"]["name"]),
            ];
            want.extend(names(&data["contactRoles"]));
            want
        }
        "getAccountInsights" => {
            let mut want = vec![text(&data["account"]["name"])];
            want.extend(names(&data["openOpportunities"]));
            want
        }
        "scoreLeads" => {
            let mut want = vec![format!("of {} matching", data["matching"])];
            want.extend(names(&data["leads"]));
            want
        }
        "analyzePipeline" => {
            let mut want = vec![
                text(&data["period"]["label"]),
                format!("Open deals\n{}", data["totals"]["openDeals"]),
            ];
            want.extend(names(&data["likelyToClose"]));
            want
        }
        other => panic!("no expectations for {other}"),
    }
}

/// The resource `uri` read through the server: (mimeType, text, _meta).
async fn read(session: &mut LegacySession, url: &str, uri: &str) -> (String, String, Value) {
    let read = session
        .request(url, "resources/read", json!({"uri": uri}))
        .await
        .unwrap_or_else(|e| panic!("resources/read {uri}: {e:#}"));
    let contents = &read["contents"][0];
    assert_eq!(contents["uri"], uri, "{read}");
    (
        contents["mimeType"].as_str().unwrap().to_owned(),
        contents["text"].as_str().unwrap().to_owned(),
        contents["_meta"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_widget_fetched_from_the_server_shows_its_tools_result_in_chromium() {
    let running = server::start(settings(&["--public-url", PUBLIC_URL]))
        .await
        .expect("server starts");
    let url = format!("http://{}/mcp", running.local_addr);
    let facts = OrgFacts {
        base: running.sandbox_url.clone().expect("embedded org"),
        token: running.sandbox().expect("sandbox").issue_access_token(),
    };
    let (account, ..) = facts.account_pipeline().await;
    let biggest = facts
        .query(&format!(
            "SELECT Id FROM Opportunity WHERE IsClosed = false AND AccountId = '{account}' ORDER BY Amount DESC LIMIT 1"
        ))
        .await;
    let opportunity = biggest[0]["Id"].as_str().unwrap();
    let mut session = LegacySession::open(&reqwest::Client::new(), &url)
        .await
        .expect("session");

    let listed = session
        .request(&url, "tools/list", json!({}))
        .await
        .expect("tools/list");
    let mut frames = Vec::new();
    let mut expected = Vec::new();
    for tool in listed["tools"].as_array().unwrap() {
        let meta = &tool["_meta"];
        let Some(skybridge_uri) = meta["openai/outputTemplate"].as_str() else {
            continue;
        };
        let name = tool["name"].as_str().unwrap();
        let app_uri = meta["ui"]["resourceUri"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no MCP Apps resource: {meta}"));

        let (mime, skybridge_html, skybridge_meta) = read(&mut session, &url, skybridge_uri).await;
        assert_eq!(mime, "text/html+skybridge", "{skybridge_uri}");
        assert_eq!(
            skybridge_meta["openai/widgetCSP"],
            json!({"connect_domains": [], "resource_domains": []}),
            "{skybridge_uri}"
        );
        assert_eq!(skybridge_meta["openai/widgetDomain"], PUBLIC_URL);
        let (mime, app_html, app_meta) = read(&mut session, &url, app_uri).await;
        assert_eq!(mime, "text/html;profile=mcp-app", "{app_uri}");
        assert_eq!(
            app_meta["ui"]["csp"],
            json!({"connectDomains": [], "resourceDomains": []}),
            "{app_uri}"
        );

        let arguments = question(name, &account, opportunity);
        let result = session
            .request(
                &url,
                "tools/call",
                json!({"name": name, "arguments": arguments}),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        assert_ne!(result["isError"], true, "{name}: {result}");
        expected.push((
            name.to_owned(),
            expected_texts(name, &result["structuredContent"]),
        ));
        for (feed, html) in [(Feed::OpenAi, skybridge_html), (Feed::McpApps, app_html)] {
            frames.push(Frame {
                label: format!("{name} — {}", feed.label()),
                html,
                feed,
                result: result.clone(),
                arguments: arguments.clone(),
            });
        }
    }
    let tools: BTreeSet<&str> = expected.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        tools,
        BTreeSet::from([
            "searchLeads",
            "getOpportunity",
            "getAccountInsights",
            "scoreLeads",
            "analyzePipeline"
        ]),
        "the widget tools"
    );

    let seen = browser::render(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        "server-widgets",
        &frames,
    )
    .await;
    assert_eq!(seen.len(), frames.len());
    for ((tool, texts), pair) in expected.iter().zip(seen.chunks(2)) {
        let [openai, apps] = pair else {
            panic!("two frames per widget");
        };
        for frame in pair {
            assert_eq!(frame.state, "rendered", "{}: {}", frame.label, frame.text);
            assert_eq!(frame.foreign_elements, 0, "{}", frame.label);
            assert!(!frame.script_ran, "{}", frame.label);
            for text in texts {
                frame.assert_shows(text);
            }
        }
        assert_eq!(
            apps.sent.first().map(String::as_str),
            Some("ui/initialize"),
            "{tool}: the MCP Apps handshake"
        );
        assert_eq!(openai.text, apps.text, "{tool}: both forms show the same");
    }
    running.shutdown().await;
}
