//! sObject Collections and composite: ordering, allOrNone rollback, references.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::Org;

async fn account_count(org: &Org) -> u64 {
    org.admin(Method::GET, "counts", json!({})).await["Account"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn collections_report_per_record_results_and_roll_back_all_or_none() {
    let org = Org::start().await;
    let before = account_count(&org).await;
    let records = json!([
        {"attributes": {"type": "Account"}, "Name": "One"},
        {"attributes": {"type": "Account"}, "Industry": "Energy"},
        {"attributes": {"type": "Account"}, "Name": "Three"},
    ]);
    let (status, body) = org
        .json(
            Method::POST,
            "/composite/sobjects",
            Some(json!({"allOrNone": false, "records": records})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[0]["success"], true);
    assert_eq!(
        body[1],
        json!({"success": false, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [Name]", "fields": ["Name"]}]})
    );
    assert_eq!(body[2]["success"], true);
    assert_eq!(account_count(&org).await, before + 2);

    let (_, body) = org
        .json(
            Method::POST,
            "/composite/sobjects",
            Some(json!({"allOrNone": true, "records": records})),
        )
        .await;
    assert_eq!(
        body[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(body[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(
        body[2]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(account_count(&org).await, before + 2);

    // Update and delete through collections.
    let id = org.create("Account", json!({"Name": "Upd"})).await;
    let (_, body) = org
        .json(Method::PATCH, "/composite/sobjects", Some(json!({"records": [{"attributes": {"type": "Account"}, "Id": id, "Rating": "Cold"}]})))
        .await;
    assert_eq!(body[0], json!({"id": id, "success": true, "errors": []}));
    let (_, body) = org
        .json(
            Method::DELETE,
            &format!("/composite/sobjects?ids={id}&allOrNone=false"),
            None,
        )
        .await;
    assert_eq!(body[0]["success"], true);

    let too_many: Vec<_> = (0..201)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("A{i}")}))
        .collect();
    let (status, _) = org
        .json(
            Method::POST,
            "/composite/sobjects",
            Some(json!({"records": too_many})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn composite_resolves_references_and_halts_all_or_none() {
    let org = Org::start().await;
    let request = json!({"allOrNone": false, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "acct", "body": {"Name": "Parent"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "con", "body": {"LastName": "Kid", "AccountId": "@{acct.id}"}},
        {"method": "GET", "url": "/services/data/v62.0/sobjects/Account/@{acct.id}?fields=Name", "referenceId": "read"},
    ]});
    let (status, body) = org.json(Method::POST, "/composite", Some(request)).await;
    assert_eq!(status, StatusCode::OK);
    let responses = body["compositeResponse"].as_array().unwrap();
    assert_eq!(responses[0]["httpStatusCode"], 201);
    assert_eq!(responses[0]["referenceId"], "acct");
    let account = responses[0]["body"]["id"].as_str().unwrap();
    assert!(
        responses[0]["httpHeaders"]["Location"]
            .as_str()
            .unwrap()
            .ends_with(account)
    );
    assert_eq!(responses[1]["httpStatusCode"], 201);
    assert_eq!(responses[2]["httpStatusCode"], 200);
    assert_eq!(responses[2]["body"]["Name"], "Parent");
    let contact = responses[1]["body"]["id"].as_str().unwrap();
    let (_, record) = org
        .json(Method::GET, &format!("/sobjects/Contact/{contact}"), None)
        .await;
    assert_eq!(record["AccountId"], account);

    let before = org.admin(Method::GET, "counts", json!({})).await["Account"]
        .as_u64()
        .unwrap();
    let failing = json!({"allOrNone": true, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "a", "body": {"Name": "Gone"}},
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Contact", "referenceId": "b", "body": {"AccountId": "@{a.id}"}},
        {"method": "GET", "url": "/services/data/v62.0/sobjects/Account/@{a.id}", "referenceId": "c"},
    ]});
    let (_, body) = org.json(Method::POST, "/composite", Some(failing)).await;
    let responses = body["compositeResponse"].as_array().unwrap();
    assert_eq!(responses[0]["httpStatusCode"], 400);
    assert_eq!(responses[0]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(
        responses[1]["body"][0]["errorCode"],
        "REQUIRED_FIELD_MISSING"
    );
    assert_eq!(responses[2]["body"][0]["errorCode"], "PROCESSING_HALTED");
    let after = org.admin(Method::GET, "counts", json!({})).await["Account"]
        .as_u64()
        .unwrap();
    assert_eq!(before, after);
}
