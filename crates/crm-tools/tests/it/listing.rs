//! What `tools/list` shows: every tool's schemas and annotations, and the write tools hidden in
//! read-only mode or when their object is not writable.

use std::collections::BTreeSet;

use crm_tools::CrmConfig;
use serde_json::json;

use crate::support::Bench;

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn tools_are_described_for_a_model() {
    let bench = Bench::start().await;
    let list = bench.request("tools/list", json!({})).await.unwrap();
    let tools = list["tools"].as_array().unwrap();
    assert_eq!(bench.listed_tools().await, names(&crm_tools::TOOL_NAMES));
    for tool in tools {
        let name = tool["name"].as_str().unwrap();
        assert!(tool["description"].as_str().unwrap().len() > 80, "{name}");
        assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{name}");
        let annotations = &tool["annotations"];
        let writes = crm_tools::WRITE_TOOL_NAMES.contains(&name);
        assert_eq!(annotations["readOnlyHint"], json!(!writes), "{name}");
        for hint in ["destructiveHint", "idempotentHint", "openWorldHint"] {
            assert!(annotations[hint].is_boolean(), "{name} {hint}");
        }
        for (_, property) in tool["inputSchema"]["properties"].as_object().unwrap() {
            assert!(property["description"].is_string(), "{name}: {property}");
        }
    }
    let search_leads = tools.iter().find(|t| t["name"] == "searchLeads").unwrap();
    let industries = &search_leads["inputSchema"]["properties"]["industry"]["items"]["enum"];
    assert!(
        industries
            .as_array()
            .unwrap()
            .contains(&json!("Healthcare"))
    );
    assert_eq!(
        search_leads["inputSchema"]["properties"]["limit"]["maximum"],
        json!(crm_tools::DEFAULT_ROW_CAP)
    );
}

#[tokio::test]
async fn read_only_mode_hides_write_tools() {
    let bench = Bench::with_config(CrmConfig {
        read_only: true,
        ..CrmConfig::default()
    })
    .await;
    let listed = bench.listed_tools().await;
    let reads: Vec<&str> = crm_tools::TOOL_NAMES
        .into_iter()
        .filter(|n| !crm_tools::WRITE_TOOL_NAMES.contains(n))
        .collect();
    assert_eq!(listed, names(&reads));
    assert!(listed.contains("scoreLeads") && !listed.contains("routeLeads"));
    let contact = bench.rows("Contact")[0].id();
    let error = bench
        .request(
            "tools/call",
            json!({"name": "updateContact", "arguments": {"id": contact, "fields": {"Title": "x"}}}),
        )
        .await
        .unwrap_err();
    assert_eq!(error["code"], json!(-32602), "unknown tool: {error}");
}

#[tokio::test]
async fn the_writable_allow_list_and_row_cap_apply() {
    let bench = Bench::with_config(CrmConfig {
        writable_objects: Some(["Task".to_owned()].into_iter().collect()),
        row_cap: 5,
        ..CrmConfig::default()
    })
    .await;
    let listed = bench.listed_tools().await;
    assert!(listed.contains("createTask"));
    assert!(!listed.contains("updateContact"));
    assert!(!listed.contains("routeLeads"), "Lead is not writable");
    let page = bench.call("searchLeads", json!({})).await;
    assert_eq!(page["leads"].as_array().unwrap().len(), 5);
    assert!(page["nextCursor"].is_string());
}
