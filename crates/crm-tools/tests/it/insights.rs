//! `getAccountInsights`: pipeline figures, open opportunities and cases against the store.

use std::collections::BTreeSet;

use serde_json::json;

use crate::support::{Bench, ids};

fn open_stage(stage: Option<&str>) -> bool {
    !matches!(stage, Some("Closed Won" | "Closed Lost"))
}

#[tokio::test]
async fn pipeline_totals_match_the_store() {
    let bench = Bench::start().await;
    let opportunities = bench.rows("Opportunity");
    // The account with the most open opportunities.
    let account_id = {
        let mut counts = std::collections::BTreeMap::new();
        for o in &opportunities {
            if let Some(a) = o.text("AccountId")
                && open_stage(o.text("StageName").as_deref())
            {
                *counts.entry(a).or_insert(0) += 1;
            }
        }
        counts.into_iter().max_by_key(|(_, n)| *n).unwrap().0
    };
    // One more open deal with a known amount and probability, one without an amount.
    bench
        .insert(
            "Opportunity",
            json!({"Name": "Expansion 2027", "AccountId": account_id, "StageName": "Value Proposition",
                   "Amount": 120000, "Probability": 50, "CloseDate": "2027-01-31"}),
        )
        .await;
    bench
        .insert(
            "Opportunity",
            json!({"Name": "Pilot (unpriced)", "AccountId": account_id, "StageName": "Prospecting", "CloseDate": "2027-02-28"}),
        )
        .await;
    let open: Vec<_> = bench
        .rows("Opportunity")
        .into_iter()
        .filter(|o| {
            o.text("AccountId").as_deref() == Some(account_id.as_str())
                && open_stage(o.text("StageName").as_deref())
        })
        .collect();
    let total: f64 = open.iter().filter_map(|o| o.number("Amount")).sum();
    let weighted: f64 = open
        .iter()
        .filter_map(|o| Some(o.number("Amount")? * o.number("Probability").unwrap_or(0.0) / 100.0))
        .sum();
    let without_amount = open.iter().filter(|o| o.number("Amount").is_none()).count();

    let result = bench
        .call("getAccountInsights", json!({"id": account_id}))
        .await;
    let account = bench.row("Account", &account_id);
    assert_eq!(result["account"]["name"], json!(account.text("Name")));
    let pipeline = &result["pipeline"];
    assert_eq!(pipeline["openOpportunities"], json!(open.len()));
    assert!((pipeline["totalPipeline"].as_f64().unwrap() - total).abs() < 0.006);
    assert!((pipeline["weightedPipeline"].as_f64().unwrap() - weighted).abs() < 0.006);
    assert_eq!(pipeline["withoutAmount"], json!(without_amount));
    let expected_ids: BTreeSet<String> = open.iter().map(|o| o.id()).collect();
    assert_eq!(ids(&result["openOpportunities"], "id"), expected_ids);
    let closes: Vec<&str> = result["openOpportunities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["closeDate"].as_str().unwrap())
        .collect();
    assert!(closes.windows(2).all(|w| w[0] <= w[1]), "soonest first");

    let open_cases: BTreeSet<String> = bench
        .rows("Case")
        .into_iter()
        .filter(|c| {
            c.text("AccountId").as_deref() == Some(account_id.as_str())
                && c.text("Status").as_deref() != Some("Closed")
        })
        .map(|c| c.id())
        .collect();
    assert_eq!(result["openCaseCount"], json!(open_cases.len()));
    assert_eq!(ids(&result["openCases"], "id"), open_cases);
    // Key contacts: people in roles on the open deals first, then the account's contacts.
    let in_roles: BTreeSet<String> = bench
        .rows("OpportunityContactRole")
        .into_iter()
        .filter(|r| expected_ids.contains(&r.text("OpportunityId").unwrap()))
        .map(|r| r.text("ContactId").unwrap())
        .collect();
    let of_account: BTreeSet<String> = bench
        .rows("Contact")
        .into_iter()
        .filter(|c| c.text("AccountId").as_deref() == Some(account_id.as_str()))
        .map(|c| c.id())
        .collect();
    let listed = ids(&result["keyContacts"], "id");
    let candidates: BTreeSet<String> = in_roles.union(&of_account).cloned().collect();
    assert!(listed.is_subset(&candidates));
    assert_eq!(listed.len(), candidates.len().min(10));
    if in_roles.len() <= 10 {
        assert!(in_roles.is_subset(&listed));
    }
    for contact in result["keyContacts"].as_array().unwrap() {
        let id = contact["id"].as_str().unwrap();
        assert_eq!(
            !contact["dealRoles"].as_array().unwrap().is_empty(),
            in_roles.contains(id),
            "{contact}"
        );
        assert_eq!(
            contact["name"],
            json!(bench.row("Contact", id).text("Name"))
        );
    }

    // By name, the same account.
    let by_name = bench
        .call(
            "getAccountInsights",
            json!({"name": account.text("Name").unwrap()}),
        )
        .await;
    assert_eq!(by_name["account"]["id"], json!(account_id));
    let message = bench
        .call_err("getAccountInsights", json!({"id": open[0].id()}))
        .await;
    assert!(message.contains("takes an Account (001) id"), "{message}");
}
