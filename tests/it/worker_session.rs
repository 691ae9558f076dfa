//! "Send Session ID" checked: with `SFMCP_VERIFY_SESSION_ID`, the worker acknowledges a message
//! only when its session id is a live session of the message's org at the configured Salesforce
//! (here the sandbox's `userinfo`); a forged, missing or revoked-looking session id gets 403 and
//! stores nothing.

use test_support::TestRedis;

use crate::worker_harness::{
    WorkerProcess, free_addr, lead_note, post, salesforce_env, sandbox_org, soap_message, xlen,
};

/// `message` with `session` in place of the nil session id.
fn with_session(message: &str, session: &str) -> String {
    message.replacen(
        r#"<SessionId xsi:nil="true"/>"#,
        &format!("<SessionId>{session}</SessionId>"),
        1,
    )
}

#[tokio::test]
async fn only_messages_carrying_a_live_session_of_their_org_are_acknowledged() {
    let org = sandbox_org().await;
    let org_id = org.sandbox().store().read().org_id().to_string();
    let redis = TestRedis::shared();
    let mut env = salesforce_env(&org);
    env.extend([
        ("REDIS_URL", redis.url().to_owned()),
        ("SFMCP_REDIS_PREFIX", redis.prefix().to_owned()),
        ("SFMCP_ALLOWED_ORGS", org_id.clone()),
        ("SFMCP_VERIFY_SESSION_ID", "true".to_owned()),
    ]);
    let worker = WorkerProcess::start(free_addr(), &env).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let url = worker.endpoint();
    let stream = format!("{}events", redis.prefix());

    let refused = [
        ("no session id", soap_message(&org_id, &[lead_note(1)])),
        (
            "forged session id",
            with_session(
                &soap_message(&org_id, &[lead_note(2)]),
                "00Dxx0000000001!AQ4AQForgedSessionIdThatSalesforceNeverIssued",
            ),
        ),
    ];
    for (what, body) in refused {
        let (status, text) = post(&client, &url, body).await;
        assert_eq!(status, 403, "{what}: {text}");
        assert!(text.contains("soapenv:Fault"), "{what}: {text}");
        assert!(
            !text.contains("Forged"),
            "the session id is never echoed: {text}"
        );
    }
    assert_eq!(
        xlen(redis.url(), &stream),
        0,
        "nothing stored for refused messages"
    );
    assert_eq!(worker.metric("refused").await, 2);
    assert_eq!(worker.metric("enqueued").await, 0);

    let live = org.sandbox().issue_access_token();
    let (status, text) = post(
        &client,
        &url,
        with_session(&soap_message(&org_id, &[lead_note(3)]), &live),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("<Ack>true</Ack>"), "{text}");
    // Stored before the Ack (processed entries leave the stream, so count what was enqueued).
    assert_eq!(
        worker.metric("enqueued").await,
        1,
        "the authentic message is stored"
    );
}
