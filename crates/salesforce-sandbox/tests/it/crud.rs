//! sObject create, read, update, delete and upsert, with Salesforce's status codes and errors.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::Org;

#[tokio::test]
async fn crud_round_trip_with_salesforce_status_codes() {
    let org = Org::start().await;
    let response = org
        .call(
            Method::POST,
            "/sobjects/Account",
            Some(json!({"Name": "Acme", "Industry": "Energy"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: serde_json::Value = response.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body, json!({"id": id, "success": true, "errors": []}));
    assert_eq!(
        location,
        format!("/services/data/v62.0/sobjects/Account/{id}")
    );
    assert!(id.starts_with("001") && id.len() == 18);

    let (status, record) = org
        .json(Method::GET, &format!("/sobjects/Account/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        record["attributes"],
        json!({"type": "Account", "url": location})
    );
    assert_eq!(record["Name"], "Acme");
    assert_eq!(record["IsDeleted"], false);
    assert_eq!(record["CreatedDate"], "2026-03-04T15:30:00.000+0000");
    assert!(record["OwnerId"].as_str().unwrap().starts_with("005"));

    let (status, partial) = org
        .json(
            Method::GET,
            &format!("/sobjects/Account/{id}?fields=Name,Industry"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        partial,
        json!({"attributes": {"type": "Account", "url": location}, "Name": "Acme", "Industry": "Energy"})
    );

    // 15-character ids work too.
    let (status, _) = org
        .json(
            Method::GET,
            &format!("/sobjects/Account/{}", &id[..15]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = org
        .json(
            Method::PATCH,
            &format!("/sobjects/Account/{id}"),
            Some(json!({"Rating": "Hot"})),
        )
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::NO_CONTENT, serde_json::Value::Null)
    );
    let (_, record) = org
        .json(Method::GET, &format!("/sobjects/Account/{id}"), None)
        .await;
    assert_eq!(record["Rating"], "Hot");

    let (status, _) = org
        .json(Method::DELETE, &format!("/sobjects/Account/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = org
        .json(Method::GET, &format!("/sobjects/Account/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!([{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])
    );
    let (status, body) = org
        .json(
            Method::PATCH,
            &format!("/sobjects/Account/{id}"),
            Some(json!({"Rating": "Hot"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body[0]["errorCode"], "ENTITY_IS_DELETED");
}

#[tokio::test]
async fn validation_errors_use_salesforce_codes() {
    let org = Org::start().await;
    let cases = [
        (
            "Account",
            json!({"Industry": "Energy"}),
            "REQUIRED_FIELD_MISSING",
        ),
        (
            "Account",
            json!({"Name": "A", "Nope__c": 1}),
            "INVALID_FIELD",
        ),
        (
            "Lead",
            json!({"LastName": "L", "Company": "C", "Status": "Bogus"}),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
        (
            "Account",
            json!({"Name": "x".repeat(256)}),
            "STRING_TOO_LONG",
        ),
        (
            "Lead",
            json!({"LastName": "L", "Company": "C", "HasOptedOutOfEmail": "maybe"}),
            "JSON_PARSER_ERROR",
        ),
        (
            "Opportunity",
            json!({"Name": "O", "StageName": "Prospecting", "CloseDate": "2026-04-01", "Amount": "lots"}),
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
        ),
        (
            "Opportunity",
            json!({"Name": "O", "StageName": "Prospecting", "CloseDate": "2026-04-01", "IsWon": true}),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
        ),
        (
            "Contact",
            json!({"LastName": "C", "AccountId": "not-an-id"}),
            "MALFORMED_ID",
        ),
        (
            "Contact",
            json!({"LastName": "C", "AccountId": "001M000000qfPySIAU"}),
            "INVALID_CROSS_REFERENCE_KEY",
        ),
    ];
    for (object, body, code) in cases {
        let (status, errors) = org
            .json(
                Method::POST,
                &format!("/sobjects/{object}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{object} {body}");
        assert_eq!(errors[0]["errorCode"], code, "{object} {body}: {errors}");
    }
    let (_, errors) = org
        .json(Method::POST, "/sobjects/Account", Some(json!({})))
        .await;
    assert_eq!(
        errors,
        json!([{"message": "Required fields are missing: [Name]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Name"]}])
    );
    let (status, errors) = org.json(Method::GET, "/sobjects/Foo/describe", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(errors[0]["errorCode"], "NOT_FOUND");
    let (status, _) = org.json(Method::POST, "/sobjects/Account", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn opportunity_stage_drives_probability_and_flags() {
    let org = Org::start().await;
    let id = org
        .create("Opportunity", json!({"Name": "Deal", "StageName": "Negotiation/Review", "CloseDate": "2026-04-01", "Amount": 1000}))
        .await;
    let (_, opp) = org
        .json(Method::GET, &format!("/sobjects/Opportunity/{id}"), None)
        .await;
    assert_eq!(
        (opp["Probability"].as_f64(), opp["IsClosed"].as_bool()),
        (Some(90.0), Some(false))
    );
    assert_eq!(opp["ExpectedRevenue"].as_f64(), Some(900.0));
    org.json(
        Method::PATCH,
        &format!("/sobjects/Opportunity/{id}"),
        Some(json!({"StageName": "Closed Won"})),
    )
    .await;
    let (_, opp) = org
        .json(Method::GET, &format!("/sobjects/Opportunity/{id}"), None)
        .await;
    assert_eq!(
        (
            opp["Probability"].as_f64(),
            opp["IsClosed"].as_bool(),
            opp["IsWon"].as_bool()
        ),
        (Some(100.0), Some(true), Some(true))
    );
    let lead = org
        .create(
            "Lead",
            json!({"FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines"}),
        )
        .await;
    let (_, lead) = org
        .json(Method::GET, &format!("/sobjects/Lead/{lead}"), None)
        .await;
    assert_eq!(
        (lead["Name"].as_str(), lead["Status"].as_str()),
        (Some("Ada Lovelace"), Some("Open - Not Contacted"))
    );
}

#[tokio::test]
async fn upsert_by_external_id_creates_then_updates_and_rejects_duplicates() {
    let org = Org::start().await;
    org.admin(Method::POST, "schema", json!({"fields": {"Account": [{"name": "Ext_Id__c", "type": "string", "length": 40, "externalId": true, "unique": true}]}})).await;
    let (status, body) = org
        .json(
            Method::PATCH,
            "/sobjects/Account/Ext_Id__c/A-1",
            Some(json!({"Name": "Upserted"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["created"], true);
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, body) = org
        .json(
            Method::PATCH,
            "/sobjects/Account/Ext_Id__c/a-1",
            Some(json!({"Name": "Renamed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"id": id, "success": true, "errors": [], "created": false})
    );
    let (status, errors) = org
        .json(
            Method::POST,
            "/sobjects/Account",
            Some(json!({"Name": "Dup", "Ext_Id__c": "A-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors[0]["errorCode"], "DUPLICATE_VALUE");
    assert_eq!(
        errors[0]["message"],
        format!("duplicate value found: Ext_Id__c duplicates value on record with id: {id}")
    );
    let (status, _) = org
        .json(Method::PATCH, "/sobjects/Account/Name/x", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn flows_run_from_the_registry() {
    let org = Org::start().await;
    let lead = org
        .create("Lead", json!({"LastName": "Flow", "Company": "Co"}))
        .await;
    let (status, body) = org
        .json(
            Method::POST,
            "/actions/custom/flow/Qualify_Lead",
            Some(json!({"inputs": [{"leadId": lead, "rating": "Warm"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[0]["isSuccess"], true);
    assert_eq!(body[0]["errors"], serde_json::Value::Null);
    assert_eq!(body[0]["actionName"], "Qualify_Lead");
    let (_, record) = org
        .json(Method::GET, &format!("/sobjects/Lead/{lead}"), None)
        .await;
    assert_eq!(
        (record["Status"].as_str(), record["Rating"].as_str()),
        (Some("Working - Contacted"), Some("Warm"))
    );

    let (status, body) = org
        .json(
            Method::POST,
            "/actions/custom/flow/Create_Follow_Up_Task",
            Some(json!({"inputs": [{"recordId": lead}, {}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body[0]["isSuccess"], true);
    assert_eq!(body[1]["isSuccess"], false);
    assert_eq!(body[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    let task = body[0]["outputValues"]["taskId"].as_str().unwrap();
    let (_, task) = org
        .json(Method::GET, &format!("/sobjects/Task/{task}"), None)
        .await;
    assert_eq!(task["WhoId"], lead.as_str());
    assert_eq!(task["ActivityDate"], "2026-03-07");
    let (status, _) = org
        .json(
            Method::POST,
            "/actions/custom/flow/Nope",
            Some(json!({"inputs": []})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
