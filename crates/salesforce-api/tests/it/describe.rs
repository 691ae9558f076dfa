//! Schema discovery with its cache, `/limits`, and API-usage tracking from `Sforce-Limit-Info`.

use std::time::Duration;

use salesforce_api::DescribeCache;

use crate::support::Org;

#[tokio::test]
async fn describe_is_cached_until_invalidated() {
    let org = Org::start().await;
    let client = org.client();
    let cache = DescribeCache::new(Duration::from_secs(600));
    org.clear_log().await;

    let lead = client.describe("Lead", Some(&cache)).await.unwrap();
    assert_eq!(lead.name, "Lead");
    assert_eq!(lead.key_prefix.as_deref(), Some("00Q"));
    let last_name = lead
        .field("lastname")
        .expect("fields match case-insensitively");
    assert!(last_name.required_on_create());
    let industry = lead.field("Industry").unwrap();
    assert!(
        industry
            .picklist_values
            .iter()
            .any(|v| v.value == "Healthcare")
    );

    client.describe("LEAD", Some(&cache)).await.unwrap();
    assert_eq!(
        org.api_requests().await.len(),
        1,
        "the second describe came from the cache"
    );
    cache.invalidate("Lead");
    client.describe("Lead", Some(&cache)).await.unwrap();
    assert_eq!(org.api_requests().await.len(), 2);

    let global = client.describe_global(Some(&cache)).await.unwrap();
    for object in [
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "Case",
        "Task",
        "Event",
        "User",
    ] {
        assert!(
            global.sobjects.iter().any(|o| o.name == object),
            "{object} missing"
        );
    }
    let unknown = client
        .describe("NoSuchObject__c", Some(&cache))
        .await
        .unwrap_err();
    assert_eq!(
        unknown.class(),
        salesforce_api::ErrorClass::NotFound,
        "{unknown}"
    );
}

#[tokio::test]
async fn usage_follows_the_limit_header_and_limits_endpoint() {
    let org = Org::start().await;
    let client = org.client();
    assert_eq!(
        client.usage().used,
        None,
        "nothing known before the first response"
    );
    let limits = client.limits().await.unwrap();
    let daily = limits["DailyApiRequests"];
    assert_eq!(daily.max, 15_000);
    let usage = client.usage();
    assert_eq!(usage.max, Some(15_000));
    assert_eq!(usage.sent_by_us, 1);
    let used = usage.used.unwrap();
    assert!(used >= 1, "the call itself counts");
    client.limits().await.unwrap();
    assert_eq!(client.usage().used, Some(used + 1));
}
