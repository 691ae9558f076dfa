//! Record calls: CRUD status codes, validation errors, upsert, collections chunking, composite.

use salesforce_api::{CompositeSubrequest, ErrorClass};
use serde_json::{Map, Value, json};

use crate::support::Org;

fn fields(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[tokio::test]
async fn create_get_update_delete_round_trip() {
    let org = Org::start().await;
    let client = org.client();

    let created = client
        .create_record(
            "Lead",
            &fields(
                json!({"LastName": "Flores", "Company": "NovoPayment", "Industry": "Healthcare"}),
            ),
        )
        .await
        .unwrap();
    assert!(
        created.id.starts_with("00Q") && created.id.len() == 18,
        "{}",
        created.id
    );

    let record = client
        .get_record(
            "Lead",
            &created.id,
            Some(&["LastName", "Company", "Industry"]),
        )
        .await
        .unwrap();
    assert_eq!(record.object_type(), Some("Lead"));
    assert_eq!(record.get_str("Company"), Some("NovoPayment"));

    client
        .update_record(
            "Lead",
            &created.id,
            &fields(json!({"Company": "Novo Payment SA"})),
        )
        .await
        .unwrap();
    let record = client.get_record("Lead", &created.id, None).await.unwrap();
    assert_eq!(record.get_str("Company"), Some("Novo Payment SA"));
    assert_eq!(
        record.get_str("LastName"),
        Some("Flores"),
        "all fields come back without ?fields"
    );

    client.delete_record("Lead", &created.id).await.unwrap();
    let gone = client
        .get_record("Lead", &created.id, None)
        .await
        .unwrap_err();
    assert_eq!(gone.class(), ErrorClass::NotFound, "{gone}");

    let statuses: Vec<(String, u16)> = org
        .api_requests()
        .await
        .into_iter()
        .map(|(m, _, s)| (m, s))
        .collect();
    let expected: Vec<(String, u16)> = [
        ("POST", 201),
        ("GET", 200),
        ("PATCH", 204),
        ("GET", 200),
        ("DELETE", 204),
        ("GET", 404),
    ]
    .into_iter()
    .map(|(m, s)| (m.to_owned(), s))
    .collect();
    assert_eq!(statuses, expected);
}

#[tokio::test]
async fn validation_errors_keep_salesforce_codes_and_fields() {
    let org = Org::start().await;
    let client = org.client();
    let error = client
        .create_record("Lead", &fields(json!({"Company": "No Name Inc"})))
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Validation);
    assert_eq!(error.error_code(), Some("REQUIRED_FIELD_MISSING"));
    assert_eq!(error.status(), Some(400));
    assert!(error.to_string().contains("LastName"), "{error}");

    let error = client
        .create_record(
            "Lead",
            &fields(json!({"LastName": "X", "Company": "Y", "Nope__c": 1})),
        )
        .await
        .unwrap_err();
    assert_eq!(error.error_code(), Some("INVALID_FIELD"), "{error}");
}

#[tokio::test]
async fn names_and_ids_are_refused_before_any_call() {
    let org = Org::start().await;
    let client = org.client();
    org.clear_log().await;
    for object in ["Lead/../../oauth2", "Lead?x=1", "", "Lead Name"] {
        let error = client
            .get_record(object, "00Q000000000001", None)
            .await
            .unwrap_err();
        assert_eq!(error.class(), ErrorClass::Validation, "{object}: {error}");
    }
    for id in [
        "00Q",
        "00Q000000000001AAAX",
        "00Q00000000000'",
        "../../limits",
    ] {
        let error = client.delete_record("Lead", id).await.unwrap_err();
        assert_eq!(error.class(), ErrorClass::Validation, "{id}: {error}");
    }
    let error = client
        .get_record(
            "Lead",
            "00Q000000000001",
            Some(&["Name, (SELECT Id FROM Tasks)"]),
        )
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Validation);
    assert!(
        org.api_requests().await.is_empty(),
        "nothing reached the org"
    );
}

#[tokio::test]
async fn upsert_by_external_id_creates_then_updates() {
    let org = Org::start().await;
    org.admin(
        reqwest::Method::POST,
        "schema",
        json!({"fields": {"Account": [{"name": "Ext_Id__c", "type": "string", "length": 40, "externalId": true, "unique": true}]}}),
    )
    .await;
    let client = org.client();
    // A value that needs escaping in a URL path segment.
    let key = "ACME/42 #1";
    let first = client
        .upsert_record(
            "Account",
            "Ext_Id__c",
            key,
            &fields(json!({"Name": "Acme"})),
        )
        .await
        .unwrap();
    assert!(first.created);
    let second = client
        .upsert_record(
            "Account",
            "Ext_Id__c",
            key,
            &fields(json!({"Name": "Acme Corp"})),
        )
        .await
        .unwrap();
    assert!(!second.created);
    assert_eq!(first.id, second.id);
    let record = client
        .get_record("Account", &first.id, Some(&["Name", "Ext_Id__c"]))
        .await
        .unwrap();
    assert_eq!(record.get_str("Name"), Some("Acme Corp"));
    assert_eq!(record.get_str("Ext_Id__c"), Some(key));
}

#[tokio::test]
async fn collections_chunk_by_200_and_report_each_record() {
    let org = Org::start().await;
    let client = org.client();
    let mut records: Vec<Value> = (0..450)
        .map(|i| json!({"attributes": {"type": "Contact"}, "LastName": format!("Bulk {i}")}))
        .collect();
    records[17] = json!({"attributes": {"type": "Contact"}, "FirstName": "No last name"});
    org.clear_log().await;

    let results = client.create_records(&records, false).await.unwrap();
    assert_eq!(results.len(), 450);
    assert_eq!(results.iter().filter(|r| r.success).count(), 449);
    let failed = &results[17];
    assert!(!failed.success && failed.id.is_none());
    assert_eq!(failed.errors[0].status_code, "REQUIRED_FIELD_MISSING");
    let calls = org.api_requests().await;
    assert_eq!(
        calls.len(),
        3,
        "450 records take 3 calls of at most 200: {calls:?}"
    );
    assert!(
        calls
            .iter()
            .all(|(m, p, s)| m == "POST" && p.ends_with("/composite/sobjects") && *s == 200)
    );

    let ids: Vec<&str> = results
        .iter()
        .filter_map(|r| r.id.as_deref())
        .take(250)
        .collect();
    let deleted = client.delete_records(&ids, true).await.unwrap();
    assert_eq!(deleted.len(), 250);
    assert!(deleted.iter().all(|r| r.success));
}

#[tokio::test]
async fn all_or_none_rolls_back_the_chunk() {
    let org = Org::start().await;
    let client = org.client();
    let records = vec![
        json!({"attributes": {"type": "Account"}, "Name": "Kept only if all succeed"}),
        json!({"attributes": {"type": "Account"}}),
    ];
    let results = client.create_records(&records, true).await.unwrap();
    assert!(results.iter().all(|r| !r.success));
    assert_eq!(
        results[0].errors[0].status_code,
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(results[1].errors[0].status_code, "REQUIRED_FIELD_MISSING");
}

#[tokio::test]
async fn composite_passes_references_between_subrequests() {
    let org = Org::start().await;
    let client = org.client();
    let base = format!("/services/data/v{}", client.api_version());
    let subrequests = vec![
        CompositeSubrequest {
            method: "POST".into(),
            url: format!("{base}/sobjects/Account"),
            reference_id: "acct".into(),
            body: Some(json!({"Name": "Composite Co"})),
        },
        CompositeSubrequest {
            method: "POST".into(),
            url: format!("{base}/sobjects/Contact"),
            reference_id: "contact".into(),
            body: Some(json!({"LastName": "Ref", "AccountId": "@{acct.id}"})),
        },
        CompositeSubrequest {
            method: "GET".into(),
            url: format!("{base}/sobjects/Contact/@{{contact.id}}?fields=AccountId"),
            reference_id: "read".into(),
            body: None,
        },
    ];
    let responses = client.composite(&subrequests, true).await.unwrap();
    assert_eq!(
        responses
            .iter()
            .map(|r| r.http_status_code)
            .collect::<Vec<_>>(),
        vec![201, 201, 200]
    );
    assert_eq!(responses[2].body["AccountId"], responses[0].body["id"]);

    let too_many = vec![subrequests[0].clone(); 26];
    assert_eq!(
        client
            .composite(&too_many, false)
            .await
            .unwrap_err()
            .class(),
        ErrorClass::Validation
    );
}

#[tokio::test]
async fn flows_run_with_salesforce_response_shape() {
    let org = Org::start().await;
    let client = org.client();
    let lead = client
        .create_record("Lead", &fields(json!({"LastName": "Flow", "Company": "Flow Inc", "Status": "Open - Not Contacted"})))
        .await
        .unwrap();
    let results = client
        .run_flow(
            "Qualify_Lead",
            &[json!({"leadId": lead.id, "rating": "Warm"})],
        )
        .await
        .unwrap();
    assert_eq!(results.len(), 1);
    assert!(results[0].is_success, "{results:?}");
    assert_eq!(results[0].action_name, "Qualify_Lead");
    let record = client
        .get_record("Lead", &lead.id, Some(&["Status", "Rating"]))
        .await
        .unwrap();
    assert_eq!(record.get_str("Rating"), Some("Warm"));
    let unknown = client
        .run_flow("No_Such_Flow", &[json!({})])
        .await
        .unwrap_err();
    assert_eq!(unknown.class(), ErrorClass::NotFound, "{unknown}");
}
