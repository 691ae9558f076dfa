//! The server follows a real `sfmcp-worker`'s event feed on their shared Redis: an Account changed
//! in Salesforce (not through the server) reaches the worker as an outbound message, and the
//! server drops its cached copy, so the next `getRecord` reads the new value; `recentEvents`
//! lists the worker's event.

use std::time::Duration;

use salesforce_sandbox::OutboundRule;
use serde_json::{Value, json};
use test_support::TestRedis;

use crate::mcp_client::LegacySession;
use crate::scale_out::{any_port, counter, replica};
use crate::worker_harness::{
    WorkerProcess, free_addr, sandbox_client, sandbox_org, wait_until, worker_env,
};

/// `getRecord` of an Account's name through the server: (name, served from the cache).
async fn read_name(session: &mut LegacySession, url: &str, id: &str) -> (String, bool) {
    let result = session
        .call(
            url,
            "getRecord",
            json!({"id": id, "object": "Account", "fields": ["Name"]}),
        )
        .await
        .expect("getRecord");
    assert!(!result.is_error, "{}", result.text);
    let name = result.structured["record"]["Name"]
        .as_str()
        .unwrap_or_else(|| panic!("no name in {}", result.structured))
        .to_owned();
    (name, result.structured["cached"] == json!(true))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_changed_in_salesforce_is_read_afresh_after_the_workers_event() {
    let redis = TestRedis::shared();
    let org = sandbox_org().await;
    let org_id = org.sandbox().store().read().org_id().to_string();
    // No follow-up rules: the worker only records each event in its feed.
    let env = worker_env(&org, &redis, &org_id, ("server-events", "{}"));
    let worker = WorkerProcess::start(free_addr(), &env).await;
    org.sandbox()
        .add_outbound_rule(
            &OutboundRule::new("Account changes", "Account", &worker.endpoint())
                .on_update()
                .fields(&["Name"]),
        )
        .expect("rule");
    // An hour-long cache: only the event can make the server read the record again.
    let server = replica(&org, &redis, &["--record-cache-ttl", "3600"], any_port()).await;
    let url = format!("http://{}/mcp", server.local_addr);

    let client = sandbox_client(&org);
    let page: salesforce_api::QueryPage<salesforce_api::Record> = client
        .query_page(
            "SELECT Id, Name FROM Account ORDER BY Id LIMIT 1",
            salesforce_api::QueryOptions::default(),
        )
        .await
        .expect("an account");
    let account = page.records[0].get_str("Id").expect("id").to_owned();
    let old_name = page.records[0].get_str("Name").expect("name").to_owned();

    let http = reqwest::Client::new();
    let mut session = LegacySession::open(&http, &url).await.expect("session");
    assert_eq!(
        read_name(&mut session, &url, &account).await,
        (old_name.clone(), false)
    );
    assert_eq!(
        read_name(&mut session, &url, &account).await,
        (old_name.clone(), true),
        "the second read is served from the cache"
    );

    // Changed in Salesforce directly: the sandbox's outbound rule tells the worker.
    let new_name = format!("{old_name} (renamed)");
    let fields = json!({"Name": new_name})
        .as_object()
        .cloned()
        .unwrap_or_default();
    client
        .update_record("Account", &account, &fields)
        .await
        .expect("rename");
    org.sandbox().flush_outbound().await;
    wait_until(
        Duration::from_secs(30),
        "the server followed the worker's event",
        || async { counter(&server, "sfmcp_feed_events_followed_total").await >= 1 },
    )
    .await;
    assert_eq!(
        read_name(&mut session, &url, &account).await,
        (new_name.clone(), false),
        "the event dropped the cached record"
    );
    assert!(counter(&server, "sfmcp_record_cache_invalidations_total").await >= 1);

    let events = session
        .call(&url, "recentEvents", json!({"object": "Account"}))
        .await
        .expect("recentEvents");
    assert!(!events.is_error, "{}", events.text);
    let listed = events.structured["events"].as_array().expect("events");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["recordId"], Value::String(account.clone()));
    assert_eq!(listed[0]["object"], "Account");
    assert_eq!(listed[0]["fields"]["Name"], Value::String(new_name));
    assert_eq!(listed[0]["orgId"], Value::String(org_id));

    server.shutdown().await;
}
