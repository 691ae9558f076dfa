//! `routeLeads`: dry run by default, `apply: true` writes, the same owners every time; the
//! expected owner of every lead worked out here from the rules and the store.

use crm_tools::CrmConfig;
use serde_json::{Value, json};

use crate::support::{Bench, Row};

/// The round robin's documented hash: FNV-1a of the lead id, modulo the number of users.
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn users(bench: &Bench) -> Vec<String> {
    let mut ids: Vec<String> = bench.rows("User").iter().map(Row::id).collect();
    ids.sort();
    ids
}

fn rules(users: &[String]) -> Value {
    json!([
        {"when": [{"field": "State", "in": ["CA", "WA", "OR"]}], "ownerId": users[0]},
        {"when": [{"field": "Industry", "equals": "Healthcare"}], "ownerId": users[1]},
        {"roundRobin": [users[2], users[3]]}
    ])
}

fn expected_owner(lead: &Row, users: &[String]) -> String {
    if matches!(lead.text("State").as_deref(), Some("CA" | "WA" | "OR")) {
        users[0].clone()
    } else if lead.text("Industry").as_deref() == Some("Healthcare") {
        users[1].clone()
    } else {
        users[2 + (fnv1a(&lead.id()) % 2) as usize].clone()
    }
}

#[tokio::test]
async fn dry_run_then_apply_then_nothing_left_to_do() {
    let bench = Bench::start().await;
    let users = users(&bench);
    assert!(users.len() >= 4);
    let before: Vec<(String, Option<String>)> = bench
        .rows("Lead")
        .iter()
        .map(|l| (l.id(), l.text("OwnerId")))
        .collect();
    let args = json!({"filters": {"status": ["Open - Not Contacted", "Working - Contacted"]}, "rules": rules(&users), "limit": 50});
    let dry = bench.call("routeLeads", args.clone()).await;
    assert_eq!(dry["applied"], json!(false));
    let open: Vec<Row> = bench
        .rows("Lead")
        .into_iter()
        .filter(|l| {
            matches!(
                l.text("Status").as_deref(),
                Some("Open - Not Contacted" | "Working - Contacted")
            )
        })
        .collect();
    assert_eq!(dry["matching"], json!(open.len()));
    assert_eq!(dry["considered"], json!(open.len().min(50)));
    let mut changes = 0;
    for a in dry["assignments"].as_array().unwrap() {
        let lead = open.iter().find(|l| l.id() == a["id"]).unwrap();
        let owner = expected_owner(lead, &users);
        assert_eq!(a["newOwnerId"], json!(owner), "{a}");
        let change = lead.text("OwnerId").as_deref() != Some(owner.as_str());
        assert_eq!(
            a["outcome"],
            json!(if change { "change" } else { "unchanged" })
        );
        changes += usize::from(change);
    }
    assert_eq!(dry["changed"], json!(changes));
    assert!(changes > 0);
    let after_dry: Vec<(String, Option<String>)> = bench
        .rows("Lead")
        .iter()
        .map(|l| (l.id(), l.text("OwnerId")))
        .collect();
    assert_eq!(before, after_dry, "a dry run changes nothing");

    let mut apply = args.clone();
    apply["apply"] = json!(true);
    let applied = bench.call("routeLeads", apply.clone()).await;
    assert_eq!(applied["applied"], json!(true));
    assert_eq!(applied["changed"], json!(changes));
    assert_eq!(applied["failed"], json!(0));
    for lead in bench
        .rows("Lead")
        .iter()
        .filter(|l| open.iter().any(|o| o.id() == l.id()))
    {
        assert_eq!(lead.text("OwnerId"), Some(expected_owner(lead, &users)));
    }
    let again = bench.call("routeLeads", apply).await;
    assert_eq!(again["changed"], json!(0), "routing again changes nothing");
    assert_eq!(again["unchanged"], dry["considered"]);
}

#[tokio::test]
async fn configured_rules_read_only_mode_and_bad_rules() {
    let probe = Bench::start().await;
    let users = users(&probe);
    let steps: Vec<crm_tools::RouteStep> = serde_json::from_value(rules(&users)).unwrap();
    let bench = Bench::with_config(CrmConfig {
        lead_routing: steps,
        ..CrmConfig::default()
    })
    .await;
    let lead = bench.rows("Lead")[0].clone();
    let result = bench.call("routeLeads", json!({"ids": [lead.id()]})).await;
    assert_eq!(
        result["assignments"][0]["newOwnerId"],
        json!(expected_owner(&lead, &users))
    );
    let message = bench
        .call_err(
            "routeLeads",
            json!({"ids": [lead.id()], "rules": [{"roundRobin": ["005000000000999AAA"]}]}),
        )
        .await;
    assert!(message.contains("not an active user"), "{message}");

    let read_only = Bench::with_config(CrmConfig {
        read_only: true,
        ..CrmConfig::default()
    })
    .await;
    assert!(!read_only.listed_tools().await.contains("routeLeads"));
    let unconfigured = Bench::start().await;
    let message = unconfigured
        .call_err("routeLeads", json!({"ids": [lead.id()]}))
        .await;
    assert!(message.contains("pass `rules`"), "{message}");
}
