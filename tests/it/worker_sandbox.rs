//! The sandbox's outbound rules deliver real SOAP messages to the worker process, which creates
//! exactly one follow-up Task per new Lead, as the integration user (client credentials),
//! visible through SOQL, with the templated subject and the priority by rating.

use std::time::Duration;

use salesforce_sandbox::OutboundRule;
use serde_json::{Map, Value, json};
use test_support::TestRedis;

use crate::worker_harness::{
    LEAD_RULES, WorkerProcess, free_addr, keyed_tasks, sandbox_client, sandbox_org, worker_env,
};

#[tokio::test]
async fn new_leads_get_exactly_one_follow_up_task_each() {
    let redis = TestRedis::shared();
    let org = sandbox_org().await;
    let org_id = org.sandbox().store().read().org_id().to_string();
    let env = worker_env(&org, &redis, &org_id, ("sandbox", LEAD_RULES));
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

/// Concurrent attempts to create the same follow-up (two workers processing one redelivered
/// event) end with one Task: the loser of the race gets `DUPLICATE_VALUE` and returns the
/// winner's Task.
#[tokio::test]
async fn concurrent_ensure_task_creates_one_task() {
    use followups::CrmActions as _;

    let org = sandbox_org().await;
    let client = sandbox_client(&org);
    let actions = std::sync::Arc::new(followups::SalesforceActions::new(client.clone()));
    let fields: Map<String, Value> =
        json!({"Subject": "Race", "Status": "Not Started", "Priority": "Normal"})
            .as_object()
            .cloned()
            .unwrap_or_default();
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (actions, fields) = (actions.clone(), fields.clone());
        attempts.spawn(async move {
            actions
                .ensure_task(
                    "Sfmcp_Key__c",
                    "00D000000000001:race:00Q000000000001",
                    &fields,
                )
                .await
                .expect("ensure task")
        });
    }
    let ids: std::collections::BTreeSet<String> = attempts.join_all().await.into_iter().collect();
    assert_eq!(ids.len(), 1, "every attempt returns the same task: {ids:?}");
    assert_eq!(keyed_tasks(&client).await, 1);
}

/// An event whose side effect keeps failing is retried (reclaimed after the idle time) and then
/// dead-lettered with Salesforce's error; the other events are unaffected.
#[tokio::test]
async fn a_failing_event_is_dead_lettered_with_its_error() {
    let redis = TestRedis::shared();
    let org = sandbox_org().await;
    // `WhoId` from the Company field: not an id, so Salesforce refuses every attempt.
    let rules = r#"{"rules":[{"name":"bad-who","object":"Lead",
        "when":[{"field":"LastName","equals":"Broken"}],
        "task":{"subject":"Follow up","whoIdField":"Company"}}]}"#;
    let mut env = worker_env(
        &org,
        &redis,
        crate::worker_harness::ORG,
        ("deadletter", rules),
    );
    env.extend([
        ("SFMCP_WORKER_MAX_DELIVERIES", "2".to_owned()),
        ("SFMCP_WORKER_CLAIM_IDLE_SECS", "1".to_owned()),
    ]);
    let worker = WorkerProcess::start(free_addr(), &env).await;
    let mut broken = crate::worker_harness::lead_note(1);
    broken.2 = "Broken".to_owned();
    let fine = crate::worker_harness::lead_note(2);
    let message = crate::worker_harness::soap_message(crate::worker_harness::ORG, &[broken, fine]);
    let (status, text) =
        crate::worker_harness::post(&reqwest::Client::new(), &worker.endpoint(), message).await;
    assert_eq!(status, 200, "{text}");
    crate::worker_harness::wait_until(
        Duration::from_secs(30),
        "the event is dead-lettered",
        || async { worker.metric("dead_lettered").await == 1 },
    )
    .await;
    assert_eq!(
        worker.metric("processed").await,
        1,
        "the other event went through"
    );
    assert_eq!(worker.metric("failed").await, 2);
    let dead: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{}events:dead", redis.prefix()))
        .arg("-")
        .arg("+")
        .query(&mut crate::worker_harness::redis_connection(redis.url()))
        .expect("XRANGE");
    assert_eq!(dead.ids.len(), 1);
    let letter: Value =
        serde_json::from_str(&dead.ids[0].get::<String>("dead").expect("dead field"))
            .expect("dead letter JSON");
    assert_eq!(letter["event"]["notification_id"], "04l000000000001");
    assert_eq!(letter["delivery_count"], 2);
    let error = letter["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("salesforce:"),
        "the error is kept: {error}"
    );
    assert_eq!(keyed_tasks(&sandbox_client(&org)).await, 0);
}
