//! `querySoql`, `searchRecords`, `listObjects` and `describeObject` against the sandbox, with
//! expected figures read from the store.

use std::collections::BTreeSet;

use crm_tools::CrmConfig;
use serde_json::{Value, json};

use crate::support::{Bench, ids};

/// A custom object for the schema-discovery and record tests.
pub const INVOICE: &str = r#"{"objects":[{"name":"Invoice__c","label":"Invoice","fields":[
    {"name":"Amount__c","type":"currency","required":true},
    {"name":"Status__c","type":"picklist","picklistValues":["Draft","Sent","Paid"],"restricted":true},
    {"name":"Due__c","type":"date"},
    {"name":"Account__c","type":"reference","referenceTo":["Account"],"childRelationshipName":"Invoices__r"}]}]}"#;

pub async fn invoice_bench(config: CrmConfig) -> Bench {
    let extension = serde_json::from_str(INVOICE).unwrap();
    Bench::custom(config, |b| b.schema_extension(extension), None).await
}

#[tokio::test]
async fn a_query_without_limit_gets_the_cap_and_pages_with_a_cursor() {
    let bench = Bench::with_config(CrmConfig {
        row_cap: 15,
        ..CrmConfig::default()
    })
    .await;
    let soql = "SELECT Id, Name, Company FROM Lead ORDER BY Id";
    let first = bench.call("querySoql", json!({"soql": soql})).await;
    assert_eq!(first["limit"], "added");
    assert_eq!(first["soql"], format!("{soql} LIMIT 15"));
    assert_eq!(first["returned"], 15);
    let expected: BTreeSet<String> = bench.rows("Lead").iter().map(|r| r.id()).collect();
    let mut seen = ids(&first["records"], "Id");
    let mut cursor = first["nextCursor"].clone();
    let mut pages = 1;
    while let Some(c) = cursor.as_str() {
        let page = bench
            .call("querySoql", json!({"soql": soql, "cursor": c}))
            .await;
        let page_ids = ids(&page["records"], "Id");
        assert!(seen.is_disjoint(&page_ids), "pages overlap");
        seen.extend(page_ids);
        cursor = page["nextCursor"].clone();
        pages += 1;
        assert!(pages <= 10, "paging does not end");
    }
    assert_eq!(seen, expected, "every lead exactly once over the pages");
    let wrong = bench
        .call_err(
            "querySoql",
            json!({"soql": "SELECT Id FROM Lead", "cursor": first["nextCursor"]}),
        )
        .await;
    assert!(wrong.contains("same filters"), "{wrong}");
}

#[tokio::test]
async fn limits_are_kept_or_lowered_and_a_small_limit_is_not_paged_past() {
    let bench = Bench::start().await;
    let lowered = bench
        .call(
            "querySoql",
            json!({"soql": "SELECT Id FROM Account LIMIT 5000"}),
        )
        .await;
    assert_eq!(lowered["limit"], "lowered");
    assert!(lowered["soql"].as_str().unwrap().ends_with("LIMIT 50"));
    let kept = bench
        .call(
            "querySoql",
            json!({"soql": "SELECT Id FROM Lead ORDER BY Id LIMIT 3", "limit": 2}),
        )
        .await;
    assert_eq!(kept["returned"], 2);
    let rest = bench
        .call(
            "querySoql",
            json!({"soql": "SELECT Id FROM Lead ORDER BY Id LIMIT 3", "cursor": kept["nextCursor"]}),
        )
        .await;
    assert_eq!(
        rest["returned"], 1,
        "the query's own LIMIT 3 holds across pages"
    );
    assert_eq!(rest["nextCursor"], Value::Null);
}

#[tokio::test]
async fn counts_aggregates_relationships_and_subqueries_match_the_store() {
    let bench = Bench::start().await;
    let count = bench
        .call(
            "querySoql",
            json!({"soql": "SELECT COUNT() FROM Lead WHERE Rating = 'Hot'"}),
        )
        .await;
    let hot = bench
        .rows("Lead")
        .iter()
        .filter(|r| r.text("Rating").as_deref() == Some("Hot"))
        .count();
    assert_eq!(count["count"], json!(hot));

    let grouped = bench
        .call(
            "querySoql",
            json!({"soql": "SELECT StageName, COUNT(Id) n FROM Opportunity GROUP BY StageName"}),
        )
        .await;
    let opportunities = bench.rows("Opportunity");
    for row in grouped["records"].as_array().unwrap() {
        let stage = row["StageName"].as_str().unwrap();
        let expected = opportunities
            .iter()
            .filter(|o| o.text("StageName").as_deref() == Some(stage))
            .count();
        assert_eq!(row["n"], json!(expected), "{stage}");
    }

    let related = bench
        .call(
            "querySoql",
            json!({"soql": "SELECT Id, Owner.Name, Account.Name, Account.Owner.Name FROM Opportunity WHERE AccountId != null LIMIT 3"}),
        )
        .await;
    for row in related["records"].as_array().unwrap() {
        let opportunity = bench.row("Opportunity", row["Id"].as_str().unwrap());
        let account = bench.row("Account", &opportunity.text("AccountId").unwrap());
        assert_eq!(
            row["Account"]["Name"].as_str(),
            account.text("Name").as_deref()
        );
        assert!(row["Owner"]["Name"].is_string(), "{row}");
    }

    let nested = bench
        .call(
            "querySoql",
            json!({"soql": "SELECT Id, Name, (SELECT LastName FROM Contacts) FROM Account LIMIT 5"}),
        )
        .await;
    for account in nested["records"].as_array().unwrap() {
        let id = account["Id"].as_str().unwrap();
        let expected = bench
            .rows("Contact")
            .iter()
            .filter(|c| c.text("AccountId").as_deref() == Some(id))
            .count();
        let got = account["Contacts"]["records"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(got, expected, "contacts of {id}");
    }
}

#[tokio::test]
async fn the_guard_refuses_what_is_not_one_read_only_select() {
    let bench = Bench::start().await;
    for soql in [
        "DELETE FROM Lead",
        "UPDATE Lead SET Rating = 'Hot'",
        "SELECT Id FROM Lead; SELECT Id FROM Account",
        "SELECT Id FROM Lead WHERE Name = :name",
        "SELECT Id FROM Lead WHERE Name = 'x' OR 1=1",
    ] {
        let e = bench.call_err("querySoql", json!({"soql": soql})).await;
        assert!(e.contains("read-only SOQL SELECT"), "{soql}: {e}");
    }
    let e = bench
        .call_err(
            "querySoql",
            json!({"soql": "SELECT Id, Boss.Name FROM Lead"}),
        )
        .await;
    assert!(e.contains("`Boss` is not a relationship of Lead"), "{e}");
    let e = bench
        .call_err(
            "querySoql",
            json!({"soql": "SELECT Id, (SELECT Id FROM Leads) FROM Account"}),
        )
        .await;
    assert!(e.contains("not a child relationship of Account"), "{e}");
    let e = bench
        .call_err("querySoql", json!({"soql": "SELECT Id FROM Nope__c"}))
        .await;
    assert!(e.contains("listObjects"), "{e}");
}

#[tokio::test]
async fn sosl_search_finds_records_by_name_and_takes_operators_literally() {
    let bench = Bench::start().await;
    let account = bench.rows("Account").into_iter().next().unwrap();
    let name = account.text("Name").unwrap();
    let found = bench
        .call(
            "searchRecords",
            json!({"term": name, "objects": ["Account", "Contact"]}),
        )
        .await;
    let hits = ids(&found["results"], "id");
    assert!(hits.contains(&account.id()), "{found}");
    assert!(found["counts"]["Account"].as_u64().unwrap() >= 1);
    let literal = bench
        .call(
            "searchRecords",
            json!({"term": "zz* OR \"Acme\" AND NOT x"}),
        )
        .await;
    assert_eq!(literal["results"], json!([]), "{literal}");
}

#[tokio::test]
async fn schema_discovery_includes_custom_objects() {
    let bench = invoice_bench(CrmConfig::default()).await;
    let custom = bench.call("listObjects", json!({"customOnly": true})).await;
    assert_eq!(
        ids(&custom["objects"], "name"),
        BTreeSet::from(["Invoice__c".to_owned()])
    );
    let all = bench
        .call("listObjects", json!({"nameContains": "lead"}))
        .await;
    assert!(ids(&all["objects"], "name").contains("Lead"));

    let invoice = bench
        .call("describeObject", json!({"object": "invoice__c"}))
        .await;
    assert_eq!(invoice["name"], "Invoice__c");
    assert_eq!(invoice["custom"], true);
    assert!(
        invoice["requiredOnCreate"]
            .as_array()
            .unwrap()
            .contains(&json!("Amount__c")),
        "{invoice}"
    );
    let status = invoice["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Status__c")
        .unwrap();
    assert_eq!(status["picklistValues"], json!(["Draft", "Sent", "Paid"]));
    let account = bench
        .call(
            "describeObject",
            json!({"object": "Account", "fieldContains": "industry"}),
        )
        .await;
    assert_eq!(account["fields"].as_array().unwrap().len(), 1);
    assert!(
        account["childRelationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["relationshipName"] == "Invoices__r"),
        "{account}"
    );
    let e = bench
        .call_err("describeObject", json!({"object": "Invoce__c"}))
        .await;
    assert!(e.contains("listObjects"), "{e}");
}
