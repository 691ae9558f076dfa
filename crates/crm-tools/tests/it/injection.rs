//! SOQL-injection attempts through every text argument: each returns only what the argument
//! literally asks for, checked against records inserted for the purpose and the store.

use std::collections::BTreeSet;

use serde_json::json;

use crate::search_fetch::expected_search;
use crate::support::{Bench, Row, contains, ids};

const ATTACKS: [&str; 10] = [
    "' OR Id != null OR Name = '",
    "x' OR Company LIKE '%",
    "\\' OR Name != '",
    "back\\slash",
    "%",
    "_",
    "100%",
    "a_c",
    "Zoë Ünïcødé 日本",
    "') LIMIT 1 --",
];

/// Companies (and names) that each contain one attack literally, plus near misses that a
/// wildcard would match.
const COMPANIES: [&str; 12] = [
    "Acme ' OR Id != null OR Name = ' Ltd",
    "x' OR Company LIKE '% Corp",
    "Slash \\' OR Name != ' Inc",
    "Back\\Slash Partners",
    "100% Organic",
    "1000 Organic",
    "Abc_Def Trading",
    "a_c Holdings",
    "abc Holdings",
    "Zoë Ünïcødé 日本 KK",
    "Quote') LIMIT 1 -- Co",
    "Plain Company",
];

async fn insert_fixtures(bench: &Bench) {
    for (i, company) in COMPANIES.iter().enumerate() {
        bench
            .insert(
                "Lead",
                json!({"LastName": format!("Probe{i} {company}"), "Company": company}),
            )
            .await;
        bench.insert("Account", json!({"Name": company})).await;
    }
}

#[tokio::test]
async fn search_leads_text_filters_are_literal() {
    let bench = Bench::start().await;
    insert_fixtures(&bench).await;
    let leads = bench.rows("Lead");
    for attack in ATTACKS {
        for (argument, field) in [("companyContains", "Company"), ("nameContains", "Name")] {
            let result = bench
                .call("searchLeads", json!({argument: attack, "limit": 50}))
                .await;
            let expected: BTreeSet<String> = leads
                .iter()
                .filter(|r| contains(r.text(field).as_deref(), attack))
                .map(Row::id)
                .collect();
            assert!(!expected.is_empty(), "{attack}: a fixture contains it");
            assert!(expected.len() < leads.len() / 2, "{attack} is selective");
            assert_eq!(ids(&result["leads"], "id"), expected, "{argument}={attack}");
        }
        // No owner's name contains these.
        let result = bench
            .call("searchLeads", json!({"owner": attack, "limit": 50}))
            .await;
        let owners: Vec<Row> = bench.rows("User");
        let expected_owner_matches = owners
            .iter()
            .filter(|u| contains(u.text("Name").as_deref(), attack))
            .count();
        if expected_owner_matches == 0 {
            assert_eq!(result["totalSize"], json!(0), "owner={attack}");
        }
        // A cursor is never SOQL.
        let message = bench
            .call_err("searchLeads", json!({"cursor": attack}))
            .await;
        assert!(message.contains("cursor"), "{message}");
    }
}

#[tokio::test]
async fn search_and_name_lookups_are_literal() {
    let bench = Bench::start().await;
    insert_fixtures(&bench).await;
    let accounts = bench.rows("Account");
    for attack in ATTACKS {
        let words: Vec<&str> = attack.split_whitespace().collect();
        let result = bench.call("search", json!({"query": attack})).await;
        let found: BTreeSet<String> = ids(&result["results"], "id");
        assert_eq!(found, expected_search(&bench, attack), "search {attack}");
        assert!(!words.is_empty());
        // Name lookups: an exact company name finds exactly that account.
        let literal: Vec<&Row> = accounts
            .iter()
            .filter(|a| contains(a.text("Name").as_deref(), attack))
            .collect();
        let result = bench
            .call_raw("getAccountInsights", json!({"name": attack}))
            .await;
        if literal.len() == 1 {
            assert_eq!(
                result["structuredContent"]["account"]["id"],
                json!(literal[0].id()),
                "{attack}"
            );
        } else {
            assert_eq!(result["isError"], json!(true), "{attack}: {result}");
            let message = result["content"][0]["text"].as_str().unwrap();
            for a in &literal {
                assert!(message.contains(&a.id()), "{attack}: {message}");
            }
        }
        let message = bench
            .call_err("getOpportunity", json!({"name": attack}))
            .await;
        assert!(message.contains("no opportunity"), "{attack}: {message}");
        // Ids are parsed, never pasted.
        for (tool, args) in [
            ("getOpportunity", json!({"id": format!("{attack:.<15.18}")})),
            (
                "getAccountInsights",
                json!({"id": format!("{attack:.<15.18}")}),
            ),
            ("fetch", json!({"id": format!("{attack:.<15.18}")})),
        ] {
            let message = bench.call_err(tool, args).await;
            assert!(
                message.contains("not a Salesforce record id"),
                "{tool}: {message}"
            );
        }
    }
}

#[tokio::test]
async fn written_text_is_stored_literally() {
    let bench = Bench::start().await;
    let contact = bench.rows("Contact")[0].id();
    let opportunity = bench.rows("Opportunity")[0].id();
    for attack in ATTACKS {
        bench
            .call(
                "updateContact",
                json!({"id": contact, "fields": {"Title": attack, "Department": attack}}),
            )
            .await;
        let stored = bench.row("Contact", &contact);
        assert_eq!(stored.text("Title").as_deref(), Some(attack));
        assert_eq!(stored.text("Department").as_deref(), Some(attack));
        let message = bench
            .call_err(
                "updateContact",
                json!({"id": contact, "fields": {attack: "x"}}),
            )
            .await;
        assert!(message.contains("Contact has no field"), "{message}");
        let task = bench
            .call(
                "createTask",
                json!({"subject": attack, "description": attack, "relatedTo": opportunity}),
            )
            .await;
        let stored = bench.row("Task", task["id"].as_str().unwrap());
        assert_eq!(stored.text("Subject").as_deref(), Some(attack));
        assert_eq!(stored.text("Description").as_deref(), Some(attack));
        let message = bench
            .call_err(
                "createTask",
                json!({"subject": "x", "relatedTo": format!("{attack:.<15.18}")}),
            )
            .await;
        assert!(message.contains("not a Salesforce record id"), "{message}");
    }
}
