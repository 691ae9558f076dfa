//! SOQL injection through `sfmcp-server`: every text argument of `searchLeads`,
//! `getAccountInsights`, `getOpportunity`, `search` and `fetch` is given quotes, backslashes,
//! `' OR Id != null`, LIKE wildcards and unicode, and the answer holds only what the argument
//! literally asks for. Expectations come from the sandbox's own REST API with a query escaped
//! here, independently of the server's builder; a record and a look-alike decoy make the
//! wildcard cases able to fail.

use serde_json::{Value, json};

use crate::support::{OrgFacts, settings};

/// Quotes, a backslash, both LIKE wildcards and non-ASCII letters in one name.
const REAL: &str = "Qu'ote\\Back_50%Ünï";
/// What `Back_50%` matches when `_` and `%` act as wildcards.
const DECOY: &str = "Qu'ote\\BackX50XÜnï";

const PAYLOADS: [&str; 10] = [
    "'",
    "\\",
    "\\'",
    "' OR Id != null",
    "' OR Name LIKE '%",
    "%",
    "_",
    "Back_50%",
    "Ünï",
    "Qu'ote\\Back",
];

/// A SOQL string literal for a LIKE pattern matching `text` anywhere, escaped per Salesforce's
/// documented rules (written here on purpose rather than borrowed from the code under test).
fn contains_pattern(text: &str) -> String {
    let mut out = String::from("'%");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '%' => out.push_str("\\%"),
            '_' => out.push_str("\\_"),
            c => out.push(c),
        }
    }
    out.push_str("%'");
    out
}

/// `tools/call` in the stateless era; the `result` object.
async fn call_tool(url: &str, name: &str, arguments: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": name,
        "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "e2e", "version": "1"}
        }
    }});
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", name)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    answer["result"].clone()
}

async fn create(facts: &OrgFacts, object: &str, fields: Value) -> String {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/services/data/v66.0/sobjects/{object}",
            facts.base
        ))
        .bearer_auth(&facts.token)
        .json(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

fn ids(values: &[Value], key: &str) -> Vec<String> {
    let mut out: Vec<String> = values
        .iter()
        .map(|v| v[key].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_arguments_are_literals_in_every_tool() {
    let running = server::start(settings(&[])).await.unwrap();
    let url = format!("http://{}/mcp", running.local_addr);
    let facts = OrgFacts {
        base: running.sandbox_url.clone().unwrap(),
        token: running.sandbox().unwrap().issue_access_token(),
    };
    let real_lead = create(
        &facts,
        "Lead",
        json!({"LastName": "Inject", "Company": REAL}),
    )
    .await;
    let decoy_lead = create(
        &facts,
        "Lead",
        json!({"LastName": "Inject", "Company": DECOY}),
    )
    .await;
    let real_account = create(&facts, "Account", json!({"Name": REAL})).await;
    let decoy_account = create(&facts, "Account", json!({"Name": DECOY})).await;

    let mut matched_somewhere = 0;
    for payload in PAYLOADS {
        // searchLeads: company and name "contains" filters.
        for (argument, field) in [("companyContains", "Company"), ("nameContains", "Name")] {
            let expected = ids(
                &facts
                    .query(&format!(
                        "SELECT Id FROM Lead WHERE {field} LIKE {} LIMIT 2000",
                        contains_pattern(payload)
                    ))
                    .await,
                "Id",
            );
            let result =
                call_tool(&url, "searchLeads", json!({argument: payload, "limit": 50})).await;
            assert_ne!(result["isError"], true, "{argument}={payload:?}: {result}");
            let got = ids(
                result["structuredContent"]["leads"].as_array().unwrap(),
                "id",
            );
            assert_eq!(
                result["structuredContent"]["totalSize"],
                expected.len(),
                "{argument}={payload:?}"
            );
            if expected.len() <= 50 {
                assert_eq!(got, expected, "searchLeads {argument}={payload:?}");
            } else {
                assert!(
                    got.iter().all(|id| expected.contains(id)),
                    "searchLeads {argument}={payload:?}"
                );
            }
            matched_somewhere += usize::from(!got.is_empty());
        }

        // getAccountInsights and getOpportunity by name: a match must literally contain it.
        for (tool, object) in [
            ("getAccountInsights", "Account"),
            ("getOpportunity", "Opportunity"),
        ] {
            let expected = ids(
                &facts
                    .query(&format!(
                        "SELECT Id FROM {object} WHERE Name LIKE {} LIMIT 20",
                        contains_pattern(payload)
                    ))
                    .await,
                "Id",
            );
            let result = call_tool(&url, tool, json!({"name": payload})).await;
            let found = if tool == "getAccountInsights" {
                result["structuredContent"]["account"]["id"].clone()
            } else {
                result["structuredContent"]["id"].clone()
            };
            match expected.as_slice() {
                [] => assert_eq!(result["isError"], true, "{tool} {payload:?}: {result}"),
                [only] => assert_eq!(found, only.as_str(), "{tool} {payload:?}: {result}"),
                // Several matches: the tool asks which one instead of picking.
                _ => assert_eq!(result["isError"], true, "{tool} {payload:?}: {result}"),
            }
        }

        // search: every result literally contains the words; fetch refuses a non-id.
        let result = call_tool(&url, "search", json!({"query": payload})).await;
        assert_ne!(result["isError"], true, "search {payload:?}: {result}");
        let found: Value =
            serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
        let found_ids = ids(found["results"].as_array().unwrap(), "id");
        let expected_leads = ids(
            &facts
                .query(&format!(
                    "SELECT Id FROM Lead WHERE Name LIKE {p} OR Company LIKE {p} OR Email LIKE {p} LIMIT 200",
                    p = contains_pattern(payload)
                ))
                .await,
            "Id",
        );
        for id in found_ids.iter().filter(|id| id.starts_with("00Q")) {
            assert!(expected_leads.contains(id), "search {payload:?} found {id}");
        }
        let fetched = call_tool(&url, "fetch", json!({"id": format!("{payload: <15}")})).await;
        assert_eq!(fetched["isError"], true, "fetch {payload:?}: {fetched}");
    }
    assert!(matched_somewhere > 0, "no payload matched anything");

    // The wildcard cases against the decoy, spelled out.
    let result = call_tool(&url, "searchLeads", json!({"companyContains": "Back_50%"})).await;
    let got = ids(
        result["structuredContent"]["leads"].as_array().unwrap(),
        "id",
    );
    assert_eq!(got, vec![real_lead.clone()]);
    assert!(!got.contains(&decoy_lead));
    let result = call_tool(&url, "getAccountInsights", json!({"name": "Back_50%"})).await;
    assert_eq!(
        result["structuredContent"]["account"]["id"],
        real_account.as_str(),
        "{result}"
    );
    let result = call_tool(&url, "search", json!({"query": "Back_50%Ünï"})).await;
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains(&real_lead) && text.contains(&real_account),
        "{text}"
    );
    assert!(
        !text.contains(&decoy_lead) && !text.contains(&decoy_account),
        "{text}"
    );
    running.shutdown().await;
}
