//! The embedded demo runs the webhook pipeline in-process: the demo org's outbound rules
//! deliver to it through a random secret path, a new Lead gets exactly one automated follow-up
//! Task (visible through SOQL), an Opportunity stage change gets its own, and both events are
//! in the server's in-memory event feed, which the `recentEvents` tool reads.

use std::time::Duration;

use salesforce_api::soql::{Field, Select};
use salesforce_api::{Access, Client, QueryOptions, QueryPage, Record, StaticAccess};
use serde_json::{Map, Value, json};

use crate::mcp_client::LegacySession;
use crate::support::settings;
use crate::worker_harness::wait_until;

fn fields(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Tasks whose `field` is `id`.
async fn tasks_on(client: &Client, field: &str, id: &str) -> Vec<Record> {
    let soql = Select::from("Task")
        .fields(["Id", "Subject", "Priority", "OwnerId", "Sfmcp_Key__c"])
        .filter(Field::new(field).unwrap().eq(id))
        .to_soql()
        .unwrap();
    let page: QueryPage<Record> = client
        .query_page(&soql, QueryOptions::default())
        .await
        .unwrap();
    page.records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_demo_lead_gets_one_follow_up_task_and_a_feed_event() {
    let running = server::start(settings(&[])).await.unwrap();
    let sandbox = running.sandbox().unwrap();
    let feed = running.event_feed().expect("the demo has an event feed");

    // The demo rules post to a loopback intake behind a random secret path segment.
    let rules = sandbox.outbound().rules();
    assert_eq!(rules.len(), 2, "{rules:?}");
    let endpoint = rules[0].endpoint.clone();
    let secret = endpoint.rsplit('/').next().unwrap_or_default().to_owned();
    assert!(
        endpoint.starts_with("http://127.0.0.1:")
            && endpoint.contains("/webhooks/salesforce/outbound/")
            && secret.len() >= 32,
        "{endpoint}"
    );
    let without_secret = endpoint.trim_end_matches(&secret).trim_end_matches('/');
    let http = reqwest::Client::new();
    for (url, status) in [
        (without_secret.to_owned(), 403),
        (
            format!("{without_secret}/{}", "x".repeat(secret.len())),
            403,
        ),
    ] {
        let response = http
            .post(&url)
            .header("content-type", "text/xml; charset=utf-8")
            .body("<x/>")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{url}");
    }

    let token = sandbox.issue_access_token();
    let access = Access::new(&running.sandbox_url.clone().unwrap(), token.into()).unwrap();
    let client = Client::builder(StaticAccess::new(access)).build().unwrap();
    let lead = client
        .create_record(
            "Lead",
            &fields(
                json!({"FirstName": "Ada", "LastName": "Okafor", "Company": "Initech",
                "Rating": "Hot", "Industry": "Healthcare"}),
            ),
        )
        .await
        .unwrap()
        .id;
    wait_until(
        Duration::from_secs(30),
        "the lead's follow-up task exists",
        || async { !tasks_on(&client, "WhoId", &lead).await.is_empty() },
    )
    .await;
    let tasks = tasks_on(&client, "WhoId", &lead).await;
    assert_eq!(tasks.len(), 1, "exactly one follow-up: {tasks:?}");
    assert_eq!(
        tasks[0].get_str("Subject"),
        Some("Follow up with Ada Okafor (Initech)")
    );
    assert_eq!(tasks[0].get_str("Priority"), Some("High"));
    assert!(tasks[0].get_str("Sfmcp_Key__c").is_some());

    let opportunity: QueryPage<Record> = client
        .query_page(
            "SELECT Id, StageName FROM Opportunity WHERE IsClosed = false LIMIT 1",
            QueryOptions::default(),
        )
        .await
        .unwrap();
    let opportunity = &opportunity.records[0];
    let opportunity_id = opportunity.get_str("Id").unwrap().to_owned();
    let stage = if opportunity.get_str("StageName") == Some("Closed Won") {
        "Negotiation/Review"
    } else {
        "Closed Won"
    };
    client
        .update_record(
            "Opportunity",
            &opportunity_id,
            &fields(json!({"StageName": stage})),
        )
        .await
        .unwrap();
    wait_until(
        Duration::from_secs(30),
        "the stage change's task exists",
        || async {
            !tasks_on(&client, "WhatId", &opportunity_id)
                .await
                .iter()
                .all(|t| t.get_str("Sfmcp_Key__c").is_none())
        },
    )
    .await;

    let leads = feed.recent(10, Some("Lead")).await.unwrap();
    assert_eq!(leads.len(), 1, "{leads:?}");
    assert_eq!(leads[0].event.record_id.as_deref(), Some(lead.as_str()));
    assert_eq!(leads[0].rules, ["lead-follow-up"]);
    let opportunities = feed.recent(10, Some("Opportunity")).await.unwrap();
    assert_eq!(opportunities.len(), 1, "{opportunities:?}");
    assert_eq!(opportunities[0].rules, ["opportunity-stage"]);

    // The model sees the same events through `recentEvents` on the server's MCP endpoint.
    let url = format!("http://{}/mcp", running.local_addr);
    let mut session = LegacySession::open(&http, &url).await.unwrap();
    let answer = session
        .call(&url, "recentEvents", json!({"object": "Lead"}))
        .await
        .unwrap();
    assert!(!answer.is_error, "{}", answer.text);
    let events = answer.structured["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["recordId"], json!(lead));
    assert_eq!(events[0]["rules"], json!(["lead-follow-up"]));
    running.shutdown().await;
}
