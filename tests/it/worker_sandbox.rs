//! The sandbox's outbound rules deliver real SOAP messages to the worker process, which creates
//! exactly one follow-up Task per new Lead, as the integration user (client credentials),
//! visible through SOQL, with the templated subject and the priority by rating.

use std::time::Duration;

use salesforce_sandbox::OutboundRule;
use serde_json::{Map, Value, json};
use test_support::TestRedis;

use crate::worker_harness::{
    LEAD_RULES, WorkerProcess, free_addr, keyed_tasks, rules_file, salesforce_env, sandbox_client,
    sandbox_org,
};

#[tokio::test]
async fn new_leads_get_exactly_one_follow_up_task_each() {
    let redis = TestRedis::shared();
    let org = sandbox_org().await;
    let org_id = org.sandbox().store().read().org_id().to_string();
    let mut env = salesforce_env(&org);
    env.extend([
        ("REDIS_URL", redis.url().to_owned()),
        ("SFMCP_REDIS_PREFIX", redis.prefix().to_owned()),
        ("SFMCP_ALLOWED_ORGS", org_id),
        (
            "SFMCP_RULES",
            rules_file("sandbox", LEAD_RULES).display().to_string(),
        ),
    ]);
    let worker = WorkerProcess::start(free_addr(), &env).await;
    org.sandbox()
        .add_outbound_rule(
            &OutboundRule::new("New leads", "Lead", &worker.endpoint())
                .on_create()
                .fields(&["LastName", "Company", "Rating", "OwnerId"]),
        )
        .expect("rule");

    let client = sandbox_client(&org);
    let before = keyed_tasks(&client).await;
    assert_eq!(before, 0);
    let mut lead_ids = Vec::new();
    for (name, rating) in [("Ng", "Hot"), ("Okafor", "Cold"), ("Lind", "Warm")] {
        let fields: Map<String, Value> =
            json!({"LastName": name, "Company": "Initech", "Rating": rating})
                .as_object()
                .cloned()
                .unwrap_or_default();
        lead_ids.push(
            client
                .create_record("Lead", &fields)
                .await
                .expect("create lead")
                .id,
        );
    }
    org.sandbox().flush_outbound().await;
    crate::worker_harness::wait_until(Duration::from_secs(30), "three tasks exist", || async {
        keyed_tasks(&client).await >= 3
    })
    .await;
    crate::worker_harness::wait_until(
        Duration::from_secs(10),
        "three events processed",
        || async { worker.metric("processed").await >= 3 },
    )
    .await;

    let page: salesforce_api::QueryPage<salesforce_api::Record> = client
        .query_page(
            "SELECT Id, Subject, Priority, Description, Sfmcp_Key__c FROM Task WHERE Sfmcp_Key__c != null",
            salesforce_api::QueryOptions::default(),
        )
        .await
        .expect("query tasks");
    assert_eq!(page.records.len(), 3, "exactly one task per lead");
    for (lead, (name, priority)) in
        lead_ids
            .iter()
            .zip([("Ng", "High"), ("Okafor", "Low"), ("Lind", "Normal")])
    {
        let task = page
            .records
            .iter()
            .find(|t| t.get_str("Description") == Some(&format!("Lead {lead}")))
            .unwrap_or_else(|| panic!("no task for {lead}"));
        assert_eq!(
            task.get_str("Subject"),
            Some(format!("Follow up with {name} (Initech)").as_str())
        );
        assert_eq!(task.get_str("Priority"), Some(priority));
    }
    assert_eq!(worker.metric("dead_lettered").await, 0);
}
