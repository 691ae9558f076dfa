//! OpportunityHistory: written by the org on every create and on each change of StageName,
//! Amount, Probability or CloseDate, whichever API made it (REST, upsert, collections,
//! composite, Bulk); read-only to the API; describable and queryable with SOQL.

use chrono::TimeDelta;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bulk::{result_rows, run_ingest, soql};
use crate::support::Org;

/// The history of one opportunity, oldest first, with its parent's name.
async fn history(org: &Org, opportunity: &str) -> Vec<Value> {
    let query = format!(
        "SELECT Id, OpportunityId, StageName, Amount, Probability, ExpectedRevenue, CloseDate, ForecastCategory, PrevAmount, PrevCloseDate, CreatedDate, CreatedById, IsDeleted, Opportunity.Name FROM OpportunityHistory WHERE OpportunityId IN ('{opportunity}') ORDER BY CreatedDate ASC, Id ASC"
    );
    soql(org, &query).await["records"]
        .as_array()
        .unwrap()
        .clone()
}

async fn count(org: &Org) -> u64 {
    soql(org, "SELECT COUNT() FROM OpportunityHistory").await["totalSize"]
        .as_u64()
        .unwrap()
}

fn later(org: &Org) {
    org.running.sandbox().clock().advance(TimeDelta::minutes(1));
}

#[tokio::test]
async fn every_kind_of_write_records_history_and_only_tracked_changes_do() {
    let org = Org::start().await;
    let opp = org
        .create(
            "Opportunity",
            json!({"Name": "History Deal", "StageName": "Prospecting", "Amount": 1000, "CloseDate": "2026-04-30"}),
        )
        .await;
    let rows = history(&org, &opp).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let first = &rows[0];
    assert_eq!(first["StageName"], "Prospecting");
    assert_eq!(first["Probability"], 10.0);
    assert_eq!(first["Amount"], 1000.0);
    assert_eq!(first["ExpectedRevenue"], 100.0);
    assert_eq!(first["CloseDate"], "2026-04-30");
    assert_eq!(first["ForecastCategory"], "Pipeline");
    assert_eq!(first["PrevAmount"], Value::Null);
    assert_eq!(first["IsDeleted"], false);
    assert_eq!(first["Opportunity"]["Name"], "History Deal");
    assert!(first["Id"].as_str().unwrap().starts_with("008"));

    // An untracked field writes nothing.
    later(&org);
    let (status, _) = org
        .json(
            Method::PATCH,
            &format!("/sobjects/Opportunity/{opp}"),
            Some(json!({"Description": "notes only"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(history(&org, &opp).await.len(), 1);

    // REST update: the close date pushed out.
    later(&org);
    org.json(
        Method::PATCH,
        &format!("/sobjects/Opportunity/{opp}"),
        Some(json!({"CloseDate": "2026-05-31"})),
    )
    .await;
    // Collections update: a stage change derives probability and forecast category.
    later(&org);
    let (_, body) = org
        .json(
            Method::PATCH,
            "/composite/sobjects",
            Some(json!({"records": [{"attributes": {"type": "Opportunity"}, "Id": opp, "StageName": "Negotiation/Review"}]})),
        )
        .await;
    assert_eq!(body[0]["success"], true, "{body}");
    // Composite update: the amount.
    later(&org);
    let (status, body) = org
        .json(
            Method::POST,
            "/composite",
            Some(json!({"compositeRequest": [{"method": "PATCH", "url": format!("/services/data/v62.0/sobjects/Opportunity/{opp}"), "referenceId": "amount", "body": {"Amount": 2000}}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["compositeResponse"][0]["httpStatusCode"], 204,
        "{body}"
    );
    // Bulk update: the probability.
    later(&org);
    let info = run_ingest(
        &org,
        json!({"object": "Opportunity", "operation": "update"}),
        &format!("Id,Probability\n{opp},95\n"),
    )
    .await;
    assert_eq!(info["numberRecordsProcessed"], 1, "{info}");
    assert_eq!(info["numberRecordsFailed"], 0, "{info}");

    let rows = history(&org, &opp).await;
    let summary: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!([
                r["StageName"],
                r["CloseDate"],
                r["Amount"],
                r["Probability"],
                r["ForecastCategory"],
                r["PrevAmount"],
                r["PrevCloseDate"]
            ])
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            json!([
                "Prospecting",
                "2026-04-30",
                1000.0,
                10.0,
                "Pipeline",
                null,
                null
            ]),
            json!([
                "Prospecting",
                "2026-05-31",
                1000.0,
                10.0,
                "Pipeline",
                1000.0,
                "2026-04-30"
            ]),
            json!([
                "Negotiation/Review",
                "2026-05-31",
                1000.0,
                90.0,
                "Forecast",
                1000.0,
                "2026-05-31"
            ]),
            json!([
                "Negotiation/Review",
                "2026-05-31",
                2000.0,
                90.0,
                "Forecast",
                1000.0,
                "2026-05-31"
            ]),
            json!([
                "Negotiation/Review",
                "2026-05-31",
                2000.0,
                95.0,
                "Forecast",
                2000.0,
                "2026-05-31"
            ]),
        ]
    );
    let times: Vec<&str> = rows
        .iter()
        .map(|r| r["CreatedDate"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");

    // Upsert through the Id: the stage again. A parent relationship filter and a child
    // subquery see the same rows.
    later(&org);
    let (status, _) = org
        .json(
            Method::PATCH,
            &format!("/sobjects/Opportunity/Id/{opp}"),
            Some(json!({"StageName": "Closed Won"})),
        )
        .await;
    assert!(status.is_success(), "{status}");
    let by_parent = soql(
        &org,
        "SELECT StageName FROM OpportunityHistory WHERE Opportunity.Name = 'History Deal' ORDER BY CreatedDate DESC LIMIT 1",
    )
    .await;
    assert_eq!(by_parent["records"][0]["StageName"], "Closed Won");
    let nested = soql(
        &org,
        &format!("SELECT Id, (SELECT StageName FROM OpportunityHistories ORDER BY CreatedDate ASC) FROM Opportunity WHERE Id = '{opp}'"),
    )
    .await;
    assert_eq!(nested["records"][0]["OpportunityHistories"]["totalSize"], 6);

    // A rolled-back insert leaves no history behind.
    let before = count(&org).await;
    let (_, body) = org
        .json(
            Method::POST,
            "/composite/sobjects",
            Some(json!({"allOrNone": true, "records": [
                {"attributes": {"type": "Opportunity"}, "Name": "Kept?", "StageName": "Prospecting", "CloseDate": "2026-06-30"},
                {"attributes": {"type": "Opportunity"}, "Name": "Broken"},
            ]})),
        )
        .await;
    assert_eq!(body[1]["success"], false, "{body}");
    assert_eq!(count(&org).await, before);
    // A bulk insert writes one row per created opportunity.
    run_ingest(
        &org,
        json!({"object": "Opportunity", "operation": "insert"}),
        "Name,StageName,CloseDate\nBulk A,Qualification,2026-07-01\nBulk B,Prospecting,2026-07-02\n",
    )
    .await;
    assert_eq!(count(&org).await, before + 2);

    // Deleting the opportunity deletes its history.
    let (status, _) = org
        .json(
            Method::DELETE,
            &format!("/sobjects/Opportunity/{opp}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(history(&org, &opp).await.is_empty());
}

#[tokio::test]
async fn opportunity_history_is_describable_and_read_only() {
    let org = Org::start().await;
    let (status, describe) = org
        .json(Method::GET, "/sobjects/OpportunityHistory/describe", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    for flag in ["createable", "updateable", "deletable"] {
        assert_eq!(describe[flag], false, "{flag}");
    }
    assert_eq!(describe["queryable"], true);
    assert_eq!(describe["keyPrefix"], "008");
    let fields: Vec<&str> = describe["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for name in [
        "Id",
        "OpportunityId",
        "StageName",
        "Amount",
        "Probability",
        "CloseDate",
        "ExpectedRevenue",
        "ForecastCategory",
        "PrevAmount",
        "PrevCloseDate",
        "CreatedDate",
        "CreatedById",
        "IsDeleted",
        "SystemModstamp",
    ] {
        assert!(fields.contains(&name), "{name} in {fields:?}");
    }
    assert!(
        describe["fields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["createable"] == false && f["updateable"] == false)
    );
    let parent = describe["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "OpportunityId")
        .unwrap();
    assert_eq!(parent["relationshipName"], "Opportunity");
    assert_eq!(parent["referenceTo"], json!(["Opportunity"]));
    let (_, opportunity) = org
        .json(Method::GET, "/sobjects/Opportunity/describe", None)
        .await;
    assert!(
        opportunity["childRelationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["relationshipName"] == "OpportunityHistories"
                && c["childSObject"] == "OpportunityHistory"),
        "{}",
        opportunity["childRelationships"]
    );

    let opp = org
        .create(
            "Opportunity",
            json!({"Name": "Read Only", "StageName": "Prospecting", "CloseDate": "2026-04-30"}),
        )
        .await;
    let row = history(&org, &opp).await[0]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = |verb: &str, body: &Value| {
        assert_eq!(
            body,
            &json!([{"message": format!("entity type cannot be {verb}: Opportunity History"), "errorCode": "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"}]),
        );
    };
    let (status, body) = org
        .json(
            Method::POST,
            "/sobjects/OpportunityHistory",
            Some(json!({"OpportunityId": opp, "StageName": "Prospecting"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    refused("inserted", &body);
    let (status, body) = org
        .json(
            Method::PATCH,
            &format!("/sobjects/OpportunityHistory/{row}"),
            Some(json!({"StageName": "Closed Won"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    refused("updated", &body);
    let (status, body) = org
        .json(
            Method::DELETE,
            &format!("/sobjects/OpportunityHistory/{row}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    refused("deleted", &body);
    let (_, body) = org
        .json(
            Method::POST,
            "/composite/sobjects",
            Some(json!({"records": [{"attributes": {"type": "OpportunityHistory"}, "OpportunityId": opp}]})),
        )
        .await;
    assert_eq!(
        body[0]["errors"][0]["statusCode"], "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        "{body}"
    );
    let info = run_ingest(
        &org,
        json!({"object": "OpportunityHistory", "operation": "insert"}),
        &format!("OpportunityId,StageName\n{opp},Prospecting\n"),
    )
    .await;
    assert_eq!(info["numberRecordsFailed"], 1, "{info}");
    let id = info["id"].as_str().unwrap();
    let failed = result_rows(&org, id, "failedResults").await;
    assert!(
        failed[1][1].starts_with("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY:entity type cannot be inserted: Opportunity History"),
        "{failed:?}"
    );
    // Still exactly the one row the create wrote.
    assert_eq!(history(&org, &opp).await.len(), 1);
}
