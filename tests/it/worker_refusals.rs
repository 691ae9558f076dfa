//! The worker refuses what it must, with the right status and without side effects: malformed
//! XML (400), XXE (400), 101 notifications (400), an unknown org (403), an oversized body (413),
//! a wrong secret path token (403) and none (403) leave no stream entry, no dedupe mark and no
//! processed event; a valid message after them is stored, which shows that the checks look at
//! the right place.

use test_support::TestRedis;

use crate::worker_harness::{
    ORG, SECRET, WorkerProcess, free_addr, lead_note, post, soap_message, xlen,
};

#[tokio::test]
async fn bad_messages_are_refused_without_side_effects() {
    let redis = TestRedis::shared();
    let worker = WorkerProcess::start(
        free_addr(),
        &[
            ("REDIS_URL", redis.url().to_owned()),
            ("SFMCP_REDIS_PREFIX", redis.prefix().to_owned()),
            ("SFMCP_ALLOWED_ORGS", ORG.to_owned()),
            ("SFMCP_WORKER_MAX_BODY_BYTES", "65536".to_owned()),
        ],
    )
    .await;
    // A refusal before the body is read closes the connection: never reuse one.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let url = worker.endpoint();
    let one = soap_message(ORG, &[lead_note(1)]);
    let hundred_one: Vec<_> = (0..101).map(lead_note).collect();
    let xxe = one.replacen(
        "<soapenv:Envelope",
        r#"<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><soapenv:Envelope"#,
        1,
    );
    let oversized = one.replacen("Acme &amp; Sons", &"x".repeat(70_000), 1);
    let cases = [
        ("malformed XML", one.replace("</notifications>", ""), 400),
        ("XXE", xxe, 400),
        ("101 notifications", soap_message(ORG, &hundred_one), 400),
        (
            "unknown org",
            soap_message("00D000000000009AAA", &[lead_note(2)]),
            403,
        ),
        ("oversized body", oversized, 413),
    ];
    let wrong_secret = url.replace(SECRET, &"x".repeat(SECRET.len()));
    let no_secret = url.replace(&format!("/{SECRET}"), "");
    let cases = cases
        .into_iter()
        .map(|(what, body, status)| (what, &url, body, status));
    let unauthenticated = [
        ("wrong secret", &wrong_secret, one.clone(), 403),
        ("no secret", &no_secret, one.clone(), 403),
    ];
    for (what, url, body, expected) in cases.chain(unauthenticated) {
        let (status, text) = post(&client, url, body).await;
        assert_eq!(status, expected, "{what}: {text}");
        assert!(
            text.contains("soapenv:Fault"),
            "{what} gets a SOAP fault: {text}"
        );
        assert!(
            !text.contains("/etc/passwd") && !text.contains("root:"),
            "{what}: {text}"
        );
    }
    let stream = format!("{}events", redis.prefix());
    assert_eq!(xlen(redis.url(), &stream), 0, "no stream entries");
    assert!(
        !redis.keys().iter().any(|k| k.contains("dedupe:")),
        "no dedupe marks: {:?}",
        redis.keys()
    );
    assert_eq!(worker.metric("refused").await, 7);
    assert_eq!(worker.metric("enqueued").await, 0);
    assert_eq!(worker.metric("processed").await, 0);

    // The control: a valid message is stored and processed (feed only: no rules).
    let (status, text) = post(&client, &url, one).await;
    assert_eq!(status, 200, "{text}");
    // Stored before the Ack (processed entries leave the stream, so count what was enqueued).
    assert_eq!(worker.metric("enqueued").await, 1);
    crate::worker_harness::wait_until(std::time::Duration::from_secs(10), "processed", || async {
        worker.metric("processed").await == 1
    })
    .await;
    assert_eq!(xlen(redis.url(), &format!("{}feed", redis.prefix())), 1);
}
