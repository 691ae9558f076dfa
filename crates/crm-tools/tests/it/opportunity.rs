//! `getOpportunity` by id and by name, checked against the store.

use std::collections::BTreeSet;

use serde_json::json;

use crate::support::{Bench, ids};

#[tokio::test]
async fn opportunity_with_account_owner_roles_and_activities() {
    let bench = Bench::start().await;
    let roles = bench.rows("OpportunityContactRole");
    // The opportunity with the most contact roles.
    let opp_id = {
        let mut counts = std::collections::BTreeMap::new();
        for r in &roles {
            *counts.entry(r.text("OpportunityId").unwrap()).or_insert(0) += 1;
        }
        counts.into_iter().max_by_key(|(_, n)| *n).unwrap().0
    };
    let opp = bench.row("Opportunity", &opp_id);
    let task = bench
        .insert(
            "Task",
            json!({"Subject": "Send revised quote", "WhatId": opp_id, "ActivityDate": "2026-11-30"}),
        )
        .await;
    let result = bench.call("getOpportunity", json!({"id": opp_id})).await;
    assert_eq!(result["id"], json!(opp_id));
    assert_eq!(result["name"], json!(opp.text("Name")));
    assert_eq!(result["stage"], json!(opp.text("StageName")));
    assert_eq!(result["amount"], json!(opp.number("Amount")));
    assert_eq!(result["nextStep"], json!(opp.text("NextStep")));
    let account_id = opp.text("AccountId").unwrap();
    let account = bench.row("Account", &account_id);
    assert_eq!(result["account"]["id"], json!(account_id));
    assert_eq!(result["account"]["name"], json!(account.text("Name")));
    let owner = bench.row("User", &opp.text("OwnerId").unwrap());
    assert_eq!(result["owner"]["name"], json!(owner.text("Name")));

    let expected_roles: Vec<_> = roles
        .iter()
        .filter(|r| r.text("OpportunityId").as_deref() == Some(opp_id.as_str()))
        .collect();
    let expected_contacts: BTreeSet<String> = expected_roles
        .iter()
        .map(|r| r.text("ContactId").unwrap())
        .collect();
    assert_eq!(ids(&result["contactRoles"], "contactId"), expected_contacts);
    for role in result["contactRoles"].as_array().unwrap() {
        let contact = bench.row("Contact", role["contactId"].as_str().unwrap());
        assert_eq!(role["name"], json!(contact.text("Name")));
        assert_eq!(role["title"], json!(contact.text("Title")));
    }
    let expected_activities = bench
        .rows("Task")
        .iter()
        .filter(|t| t.text("WhatId").as_deref() == Some(opp_id.as_str()))
        .count()
        + bench
            .rows("Event")
            .iter()
            .filter(|e| e.text("WhatId").as_deref() == Some(opp_id.as_str()))
            .count();
    let activities = result["recentActivities"].as_array().unwrap();
    assert_eq!(activities.len(), expected_activities.min(10));
    assert!(
        activities
            .iter()
            .any(|a| a["id"] == json!(task) && a["subject"] == "Send revised quote"),
        "{activities:?}"
    );

    // The same opportunity by its exact name, or the list to choose from when the name is shared.
    let name = opp.text("Name").unwrap();
    let namesakes: Vec<String> = bench
        .rows("Opportunity")
        .into_iter()
        .filter(|o| {
            o.text("Name")
                .is_some_and(|n| n.eq_ignore_ascii_case(&name))
        })
        .map(|o| o.id())
        .collect();
    let by_name = bench
        .call_raw("getOpportunity", json!({"name": name}))
        .await;
    if namesakes.len() == 1 {
        assert_eq!(by_name["structuredContent"]["id"], json!(opp_id));
    } else {
        let message = by_name["content"][0]["text"].as_str().unwrap();
        assert!(namesakes.iter().all(|id| message.contains(id)), "{message}");
    }
}

#[tokio::test]
async fn wrong_ids_and_ambiguous_names_are_explained() {
    let bench = Bench::start().await;
    let account = bench.rows("Account")[0].id();
    let message = bench
        .call_err("getOpportunity", json!({"id": account}))
        .await;
    assert!(
        message.contains("takes an Opportunity (006) id") && message.contains("Account id"),
        "{message}"
    );
    let account_id = account.clone();
    let a = bench
        .insert(
            "Opportunity",
            json!({"Name": "Zephyr Renewal North", "StageName": "Prospecting", "CloseDate": "2026-12-15", "AccountId": account_id}),
        )
        .await;
    let b = bench
        .insert(
            "Opportunity",
            json!({"Name": "Zephyr Renewal South", "StageName": "Prospecting", "CloseDate": "2026-12-20"}),
        )
        .await;
    let message = bench
        .call_err("getOpportunity", json!({"name": "Zephyr Renewal"}))
        .await;
    assert!(
        message.contains(&a) && message.contains(&b) && message.contains("`id`"),
        "{message}"
    );
    let message = bench
        .call_err("getOpportunity", json!({"name": "No Such Deal Anywhere"}))
        .await;
    assert!(message.contains("no opportunity"), "{message}");
    let deleted = bench
        .insert(
            "Opportunity",
            json!({"Name": "Short-lived", "StageName": "Prospecting", "CloseDate": "2026-12-20"}),
        )
        .await;
    bench
        .client
        .delete_record("Opportunity", &deleted)
        .await
        .unwrap();
    let message = bench
        .call_err("getOpportunity", json!({"id": deleted}))
        .await;
    assert!(message.contains("no opportunity has id"), "{message}");
}
