//! describeGlobal and describe shapes, snapshot-tested.

use expect_test::expect;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::Org;

#[tokio::test]
async fn describe_global_lists_objects() {
    let org = Org::start().await;
    let (status, body) = org.json(Method::GET, "/sobjects", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["encoding"], "UTF-8");
    assert_eq!(body["maxBatchSize"], 200);
    let lead = body["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Lead")
        .unwrap();
    assert_eq!(lead["keyPrefix"], "00Q");
    assert_eq!(
        lead["urls"]["describe"],
        "/services/data/v62.0/sobjects/Lead/describe"
    );
}

#[tokio::test]
async fn describe_snapshot() {
    let org = Org::start().await;
    let (status, mut body) = org
        .json(Method::GET, "/sobjects/Opportunity/describe", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let fields = body.as_object_mut().unwrap().remove("fields").unwrap();
    let stage = fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "StageName")
        .unwrap()
        .clone();
    let account = fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "AccountId")
        .unwrap()
        .clone();
    let names: Vec<&str> = fields
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    let snapshot =
        json!({"object": body, "fieldNames": names, "StageName": stage, "AccountId": account});
    expect![[r#"
        {
          "AccountId": {
            "aggregatable": true,
            "autoNumber": false,
            "byteLength": 54,
            "calculated": false,
            "cascadeDelete": false,
            "caseSensitive": false,
            "createable": true,
            "custom": false,
            "defaultValue": null,
            "defaultedOnCreate": false,
            "dependentPicklist": false,
            "digits": 0,
            "externalId": false,
            "filterable": true,
            "groupable": true,
            "htmlFormatted": false,
            "idLookup": false,
            "label": "Account ID",
            "length": 18,
            "name": "AccountId",
            "nameField": false,
            "nillable": true,
            "picklistValues": [],
            "polymorphicForeignKey": false,
            "precision": 0,
            "referenceTo": [
              "Account"
            ],
            "relationshipName": "Account",
            "restrictedPicklist": false,
            "scale": 0,
            "soapType": "tns:ID",
            "sortable": true,
            "type": "reference",
            "unique": false,
            "updateable": true
          },
          "StageName": {
            "aggregatable": true,
            "autoNumber": false,
            "byteLength": 765,
            "calculated": false,
            "cascadeDelete": false,
            "caseSensitive": false,
            "createable": true,
            "custom": false,
            "defaultValue": null,
            "defaultedOnCreate": false,
            "dependentPicklist": false,
            "digits": 0,
            "externalId": false,
            "filterable": true,
            "groupable": true,
            "htmlFormatted": false,
            "idLookup": false,
            "label": "Stage",
            "length": 255,
            "name": "StageName",
            "nameField": false,
            "nillable": false,
            "picklistValues": [
              {
                "active": true,
                "defaultValue": false,
                "label": "Prospecting",
                "validFor": null,
                "value": "Prospecting"
              },
              {
                "active": true,
                "defaultValue": false,
                "label": "Qualification",
                "validFor": null,
                "value": "Qualification"
              },
              {
                "active": true,
                "defaultValue": false,
                "label": "Needs Analysis",
                "validFor": null,
                "value": "Needs Analysis"
              },
              {
                "active": true,
                "defaultValue": false,
                "label": "Value Proposition",
                "validFor": null,
                "value": "Value Proposition"
              },
              {
                "active": true,
                "defaultValue": false,
                "label": "Id. Decision Makers",
                "validFor": null,
                "value": "Id. Decision Makers"
              },
              {
                "active": true,
                "defaultValue": false,
                "label": "Perception Analysis",
                "validFor": null,
                "value": "Perception Analysis"
              },
              {
                "active": true,
                "defaultValue": false,
                "label": "Proposal/Price Quote",
                "validFor": null,
                "value": "Proposal/Price Quote"
              },
              {
                "active": true,
                "defaultValue": false,
                "label": "Negotiation/Review",
                "validFor": null,
                "value": "Negotiation/Review"
              },
              {
                "active": true,
                "defaultValue": false,
                "label": "Closed Won",
                "validFor": null,
                "value": "Closed Won"
              },
              {
                "active": true,
                "defaultValue": false,
                "label": "Closed Lost",
                "validFor": null,
                "value": "Closed Lost"
              }
            ],
            "polymorphicForeignKey": false,
            "precision": 0,
            "referenceTo": [],
            "relationshipName": null,
            "restrictedPicklist": true,
            "scale": 0,
            "soapType": "xsd:string",
            "sortable": true,
            "type": "picklist",
            "unique": false,
            "updateable": true
          },
          "fieldNames": [
            "Id",
            "AccountId",
            "Name",
            "Description",
            "StageName",
            "Amount",
            "Probability",
            "ExpectedRevenue",
            "CloseDate",
            "Type",
            "NextStep",
            "LeadSource",
            "IsClosed",
            "IsWon",
            "ForecastCategoryName",
            "OwnerId",
            "LastActivityDate",
            "IsDeleted",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp"
          ],
          "object": {
            "activateable": false,
            "childRelationships": [
              {
                "cascadeDelete": false,
                "childSObject": "Lead",
                "deprecatedAndHidden": false,
                "field": "ConvertedOpportunityId",
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": null,
                "restrictedDelete": false
              },
              {
                "cascadeDelete": true,
                "childSObject": "OpportunityContactRole",
                "deprecatedAndHidden": false,
                "field": "OpportunityId",
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": "OpportunityContactRoles",
                "restrictedDelete": false
              },
              {
                "cascadeDelete": true,
                "childSObject": "OpportunityHistory",
                "deprecatedAndHidden": false,
                "field": "OpportunityId",
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": "OpportunityHistories",
                "restrictedDelete": false
              },
              {
                "cascadeDelete": false,
                "childSObject": "Task",
                "deprecatedAndHidden": false,
                "field": "WhatId",
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": "Tasks",
                "restrictedDelete": false
              },
              {
                "cascadeDelete": false,
                "childSObject": "Event",
                "deprecatedAndHidden": false,
                "field": "WhatId",
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": "Events",
                "restrictedDelete": false
              }
            ],
            "createable": true,
            "custom": false,
            "customSetting": false,
            "deletable": true,
            "deprecatedAndHidden": false,
            "feedEnabled": false,
            "keyPrefix": "006",
            "label": "Opportunity",
            "labelPlural": "Opportunities",
            "layoutable": true,
            "mergeable": false,
            "mruEnabled": true,
            "name": "Opportunity",
            "queryable": true,
            "recordTypeInfos": [
              {
                "active": true,
                "available": true,
                "defaultRecordTypeMapping": true,
                "developerName": "Master",
                "master": true,
                "name": "Master",
                "recordTypeId": "012000000000000AAA"
              }
            ],
            "replicateable": true,
            "retrieveable": true,
            "searchable": true,
            "triggerable": true,
            "undeletable": true,
            "updateable": true,
            "urls": {
              "describe": "/services/data/v62.0/sobjects/Opportunity/describe",
              "rowTemplate": "/services/data/v62.0/sobjects/Opportunity/{ID}",
              "sobject": "/services/data/v62.0/sobjects/Opportunity"
            }
          }
        }"#]]
    .assert_eq(&serde_json::to_string_pretty(&snapshot).unwrap());
}

#[tokio::test]
async fn custom_objects_defined_at_runtime_are_described_and_writable() {
    let org = Org::start().await;
    org.admin(
        Method::POST,
        "schema",
        json!({"objects": [{"name": "Invoice__c", "label": "Invoice", "fields": [
            {"name": "Amount__c", "type": "currency", "required": true},
            {"name": "Account__c", "type": "reference", "referenceTo": ["Account"], "childRelationshipName": "Invoices__r"}
        ]}]}),
    )
    .await;
    let (status, body) = org
        .json(Method::GET, "/sobjects/Invoice__c/describe", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["custom"].as_bool(), body["keyPrefix"].as_str()),
        (Some(true), Some("a00"))
    );
    let (_, account) = org
        .json(Method::GET, "/sobjects/Account/describe", None)
        .await;
    assert!(
        account["childRelationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["relationshipName"] == "Invoices__r")
    );
    let (status, errors) = org
        .json(
            Method::POST,
            "/sobjects/Invoice__c",
            Some(json!({"Name": "INV-1"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors[0]["fields"], json!(["Amount__c"]));
    let id = org
        .create("Invoice__c", json!({"Name": "INV-1", "Amount__c": 12.5}))
        .await;
    assert!(id.starts_with("a00"));
}
