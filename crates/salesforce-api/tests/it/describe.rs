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

#[tokio::test]
async fn sosl_and_parameterized_search_find_records_by_name() {
    let org = Org::start().await;
    let client = org.client();
    let fields = |v: serde_json::Value| v.as_object().unwrap().clone();
    client
        .create_record(
            "Account",
            &fields(serde_json::json!({"Name": "Zyxwv Holdings"})),
        )
        .await
        .unwrap();
    client
        .create_record(
            "Lead",
            &fields(serde_json::json!({"LastName": "Zyxwv", "Company": "Other"})),
        )
        .await
        .unwrap();
    let found = client
        .parameterized_search("Zyxwv", &["Account", "Lead"], &["Id", "Name"], 10)
        .await
        .unwrap();
    let mut kinds: Vec<&str> = found.iter().filter_map(|r| r.object_type()).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["Account", "Lead"]);
    let sosl = format!(
        "FIND {{{}}} IN NAME FIELDS RETURNING Account(Id, Name)",
        salesforce_api::sosl_phrase("Zyxwv")
    );
    let accounts = client.search(&sosl).await.unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].get_str("Name"), Some("Zyxwv Holdings"));
    // Reserved characters in user text are searched literally, not as SOSL syntax.
    let none = client
        .parameterized_search("Zyxwv) OR (Acme", &["Account"], &["Id"], 10)
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    let error = client.search("FIND {unterminated").await.unwrap_err();
    assert_eq!(error.error_code(), Some("MALFORMED_SEARCH"));
}

#[tokio::test]
async fn reports_run_and_read_their_rows() {
    let org = Org::start().await;
    let client = org.client();
    let reports = client.list_reports().await.unwrap();
    let by_source = reports
        .iter()
        .find(|r| r.name == "Leads by Source")
        .expect("a built-in report");
    let run = client.run_report(&by_source.id, true).await.unwrap();
    assert_eq!(run.name, "Leads by Source");
    assert!(!run.groups.is_empty());
    // Each group's row count equals the independent COUNT() of its source.
    for group in &run.groups {
        let expected = if group.label == "-" {
            client
                .count("SELECT COUNT() FROM Lead WHERE LeadSource = null")
                .await
                .unwrap()
        } else {
            let soql = salesforce_api::soql::Select::count("Lead")
                .filter(
                    salesforce_api::soql::Field::new("LeadSource")
                        .unwrap()
                        .eq(group.label.as_str()),
                )
                .to_soql()
                .unwrap();
            client.count(&soql).await.unwrap()
        };
        assert_eq!(group.rows.len() as u64, expected, "{}", group.label);
    }
    let total: usize = run.groups.iter().map(|g| g.rows.len()).sum();
    assert_eq!(
        total as u64,
        client.count("SELECT COUNT() FROM Lead").await.unwrap()
    );
    let open = reports
        .iter()
        .find(|r| r.name == "Open Opportunities")
        .unwrap();
    let tabular = client.run_report(&open.id, true).await.unwrap();
    assert!(tabular.groups.is_empty());
    assert_eq!(
        tabular.rows.len() as u64,
        client
            .count("SELECT COUNT() FROM Opportunity WHERE IsClosed = false")
            .await
            .unwrap()
    );
    assert!(!tabular.columns.is_empty());
    assert!(
        tabular
            .rows
            .iter()
            .all(|row| row.len() == tabular.columns.len())
    );
}
