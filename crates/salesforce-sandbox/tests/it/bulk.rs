//! Bulk API 2.0 over HTTP: ingest jobs through the whole state machine with their result CSVs,
//! wrong transitions, and query jobs paged with `Sforce-Locator`.

use reqwest::{Method, StatusCode};
use salesforce_sandbox::bulk::csv;
use serde_json::{Value, json};

use crate::support::Org;

/// Creates an ingest job and returns its info.
async fn create_ingest(org: &Org, body: Value) -> Value {
    let (status, info) = org.json(Method::POST, "/jobs/ingest", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    info
}

async fn upload(org: &Org, id: &str, data: &str) -> StatusCode {
    org.client
        .put(org.api(&format!("/jobs/ingest/{id}/batches")))
        .bearer_auth(&org.token)
        .header("Content-Type", "text/csv")
        .body(data.to_owned())
        .send()
        .await
        .unwrap()
        .status()
}

async fn set_state(org: &Org, kind: &str, id: &str, state: &str) -> (StatusCode, Value) {
    org.json(
        Method::PATCH,
        &format!("/jobs/{kind}/{id}"),
        Some(json!({"state": state})),
    )
    .await
}

/// Polls a job until it reaches a final state (bounded number of polls).
async fn wait_final(org: &Org, kind: &str, id: &str) -> Value {
    for _ in 0..6_000 {
        let (status, info) = org
            .json(Method::GET, &format!("/jobs/{kind}/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{info}");
        if matches!(
            info["state"].as_str(),
            Some("JobComplete" | "Failed" | "Aborted")
        ) {
            return info;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("job {id} never finished");
}

async fn get_text(org: &Org, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = org
        .client
        .get(org.api(path))
        .bearer_auth(&org.token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

pub(crate) async fn result_rows(org: &Org, id: &str, kind: &str) -> Vec<Vec<String>> {
    let (status, headers, text) = get_text(org, &format!("/jobs/ingest/{id}/{kind}")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(headers["content-type"], "text/csv");
    csv::parse(&text, ',').unwrap()
}

/// Runs a whole ingest job and returns its final info.
pub(crate) async fn run_ingest(org: &Org, body: Value, data: &str) -> Value {
    let info = create_ingest(org, body).await;
    let id = info["id"].as_str().unwrap();
    assert_eq!(upload(org, id, data).await, StatusCode::CREATED);
    let (status, closed) = set_state(org, "ingest", id, "UploadComplete").await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["state"], "UploadComplete");
    wait_final(org, "ingest", id).await
}

pub(crate) async fn soql(org: &Org, query: &str) -> Value {
    let q: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let (status, body) = org.json(Method::GET, &format!("/query?q={q}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn job_info_has_the_documented_fields() {
    let org = Org::start().await;
    let info = create_ingest(
        &org,
        json!({"object": "Contact", "operation": "insert", "contentType": "CSV", "lineEnding": "CRLF", "columnDelimiter": "PIPE"}),
    )
    .await;
    let id = info["id"].as_str().unwrap();
    assert!(id.starts_with("750") && id.len() == 18, "{id}");
    assert_eq!(info["state"], "Open");
    assert_eq!(
        info["contentUrl"],
        format!("services/data/v62.0/jobs/ingest/{id}/batches")
    );
    assert_eq!(info["object"], "Contact");
    assert_eq!(info["operation"], "insert");
    assert_eq!(info["concurrencyMode"], "Parallel");
    assert_eq!(info["contentType"], "CSV");
    assert_eq!(info["apiVersion"], 62.0);
    assert_eq!(info["lineEnding"], "CRLF");
    assert_eq!(info["columnDelimiter"], "PIPE");
    assert!(info["createdById"].as_str().unwrap().starts_with("005"));
    assert!(info["createdDate"].is_string() && info["systemModstamp"].is_string());
    let (status, list) = org.json(Method::GET, "/jobs/ingest", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["done"], true);
    assert_eq!(list["records"][0]["id"], id);

    let (status, errors) = org
        .json(
            Method::POST,
            "/jobs/ingest",
            Some(json!({"object": "Nope__c", "operation": "insert"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors[0]["errorCode"], "INVALIDJOB");
    let (status, errors) = org
        .json(
            Method::POST,
            "/jobs/ingest",
            Some(json!({"object": "Contact", "operation": "upsert"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors[0]["errorCode"], "INVALIDJOB");
}

#[tokio::test]
async fn insert_reports_successes_and_failures_row_by_row() {
    let org = Org::start().await;
    let data = "FirstName,LastName,Description\n\
                Ada,Bulkload,\"Line one\nline two, with \"\"quotes\"\"\"\n\
                Nameless,,missing last name\n\
                Grace,Bulkload,plain\n";
    let info = run_ingest(
        &org,
        json!({"object": "Contact", "operation": "insert"}),
        data,
    )
    .await;
    let id = info["id"].as_str().unwrap();
    assert_eq!(info["state"], "JobComplete", "{info}");
    assert_eq!(info["numberRecordsProcessed"], 3);
    assert_eq!(info["numberRecordsFailed"], 1);
    assert_eq!(info["retries"], 0);
    assert!(info["totalProcessingTime"].is_u64());

    let ok = result_rows(&org, id, "successfulResults").await;
    assert_eq!(
        ok[0],
        [
            "sf__Id",
            "sf__Created",
            "FirstName",
            "LastName",
            "Description"
        ]
    );
    assert_eq!(ok.len(), 3);
    assert!(ok[1][0].starts_with("003"));
    assert_eq!(ok[1][1], "true");
    assert_eq!(ok[1][4], "Line one\nline two, with \"quotes\"");
    let failed = result_rows(&org, id, "failedResults").await;
    assert_eq!(
        failed[0],
        [
            "sf__Id",
            "sf__Error",
            "FirstName",
            "LastName",
            "Description"
        ]
    );
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[1][0], "");
    assert_eq!(
        failed[1][1],
        "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:--"
    );
    assert_eq!(failed[1][2], "Nameless");
    let unprocessed = result_rows(&org, id, "unprocessedrecords").await;
    assert_eq!(
        unprocessed,
        vec![vec!["FirstName", "LastName", "Description"]]
    );

    let stored = soql(
        &org,
        "SELECT FirstName, Description FROM Contact WHERE LastName = 'Bulkload' ORDER BY FirstName",
    )
    .await;
    assert_eq!(stored["totalSize"], 2);
    assert_eq!(
        stored["records"][0]["Description"],
        "Line one\nline two, with \"quotes\""
    );
    assert_eq!(stored["records"][1]["FirstName"], "Grace");
}

#[tokio::test]
async fn upsert_by_external_id_updates_and_creates() {
    let org = Org::start().await;
    org.admin(
        Method::POST,
        "schema",
        json!({"fields": {"Account": [{"name": "Ext_Id__c", "type": "string", "length": 40, "externalId": true, "unique": true}]}}),
    )
    .await;
    let existing = org
        .create("Account", json!({"Name": "Old Name", "Ext_Id__c": "E-1"}))
        .await;
    let info = run_ingest(
        &org,
        json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "Ext_Id__c"}),
        "Ext_Id__c,Name\nE-1,New Name\nE-2,Second\n,No Key\n",
    )
    .await;
    let id = info["id"].as_str().unwrap();
    assert_eq!(info["state"], "JobComplete", "{info}");
    assert_eq!(info["externalIdFieldName"], "Ext_Id__c");
    assert_eq!(info["numberRecordsProcessed"], 3);
    assert_eq!(info["numberRecordsFailed"], 1);
    let ok = result_rows(&org, id, "successfulResults").await;
    assert_eq!(ok[1], [existing.as_str(), "false", "E-1", "New Name"]);
    assert_eq!(ok[2][1], "true");
    assert_eq!(ok[2][3], "Second");
    let failed = result_rows(&org, id, "failedResults").await;
    assert!(failed[1][1].starts_with("MISSING_ARGUMENT:"), "{failed:?}");
    let (_, account) = org
        .json(Method::GET, &format!("/sobjects/Account/{existing}"), None)
        .await;
    assert_eq!(account["Name"], "New Name");
}

#[tokio::test]
async fn update_delete_and_hard_delete_by_id() {
    let org = Org::start().await;
    let a = org
        .create("Lead", json!({"LastName": "A", "Company": "Co"}))
        .await;
    let b = org
        .create("Lead", json!({"LastName": "B", "Company": "Co"}))
        .await;
    let c = org
        .create("Lead", json!({"LastName": "C", "Company": "Co"}))
        .await;
    let info = run_ingest(
        &org,
        json!({"object": "Lead", "operation": "update"}),
        &format!("Id,Company\n{a},Updated Co\n00Q000000000000AAA,Ghost\n"),
    )
    .await;
    assert_eq!(info["numberRecordsFailed"], 1, "{info}");
    let (_, lead) = org
        .json(Method::GET, &format!("/sobjects/Lead/{a}"), None)
        .await;
    assert_eq!(lead["Company"], "Updated Co");

    let info = run_ingest(
        &org,
        json!({"object": "Lead", "operation": "delete"}),
        &format!("Id\n{b}\n"),
    )
    .await;
    assert_eq!(info["numberRecordsFailed"], 0, "{info}");
    let info = run_ingest(
        &org,
        json!({"object": "Lead", "operation": "hardDelete"}),
        &format!("Id\n{c}\n{b}\n"),
    )
    .await;
    let id = info["id"].as_str().unwrap();
    assert_eq!(info["numberRecordsProcessed"], 2);
    assert_eq!(info["numberRecordsFailed"], 1, "b was already deleted");
    let failed = result_rows(&org, id, "failedResults").await;
    assert_eq!(failed[1][0], b);
    assert!(failed[1][1].starts_with("ENTITY_IS_DELETED:"), "{failed:?}");
    for gone in [&b, &c] {
        let (status, _) = org
            .json(Method::GET, &format!("/sobjects/Lead/{gone}"), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn aborted_job_hands_back_its_rows_unprocessed() {
    let org = Org::start().await;
    let info = create_ingest(&org, json!({"object": "Contact", "operation": "insert"})).await;
    let id = info["id"].as_str().unwrap();
    let data = "LastName\nNever One\nNever Two\n";
    assert_eq!(upload(&org, id, data).await, StatusCode::CREATED);
    let (status, aborted) = set_state(&org, "ingest", id, "Aborted").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(aborted["state"], "Aborted");
    let rows = result_rows(&org, id, "unprocessedrecords").await;
    assert_eq!(
        rows,
        vec![vec!["LastName"], vec!["Never One"], vec!["Never Two"]]
    );
    assert_eq!(result_rows(&org, id, "successfulResults").await.len(), 1);
    let found = soql(&org, "SELECT Id FROM Contact WHERE LastName LIKE 'Never%'").await;
    assert_eq!(found["totalSize"], 0);
    let (status, _) = org
        .json(Method::DELETE, &format!("/jobs/ingest/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = org
        .json(Method::GET, &format!("/jobs/ingest/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wrong_transitions_are_refused() {
    let org = Org::start().await;
    let info = create_ingest(&org, json!({"object": "Contact", "operation": "insert"})).await;
    let id = info["id"].as_str().unwrap();
    let (status, errors) = org
        .json(Method::DELETE, &format!("/jobs/ingest/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(errors[0]["errorCode"], "INVALIDJOBSTATE");
    assert_eq!(
        upload(&org, id, "LastName\nOnce\n").await,
        StatusCode::CREATED
    );
    assert_eq!(
        upload(&org, id, "LastName\nTwice\n").await,
        StatusCode::BAD_REQUEST
    );
    let (status, errors) = set_state(&org, "ingest", id, "JobComplete").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors[0]["errorCode"], "INVALIDJOB");
    let (status, _) = set_state(&org, "ingest", id, "UploadComplete").await;
    assert_eq!(status, StatusCode::OK);
    let (status, errors) = set_state(&org, "ingest", id, "UploadComplete").await;
    assert_eq!(status, StatusCode::CONFLICT, "{errors}");
    assert_eq!(
        upload(&org, id, "LastName\nLate\n").await,
        StatusCode::CONFLICT
    );
    let info = wait_final(&org, "ingest", id).await;
    assert_eq!(info["state"], "JobComplete");
    let (status, errors) = set_state(&org, "ingest", id, "Aborted").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        errors[0]["message"],
        "Aborting already Completed Job not allowed"
    );
    let (status, _) = org
        .json(Method::GET, "/jobs/ingest/750000000000000AAA", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_column_fails_the_job() {
    let org = Org::start().await;
    let info = run_ingest(
        &org,
        json!({"object": "Contact", "operation": "insert"}),
        "LastName,Shoe_Size__c\nSmith,42\n",
    )
    .await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : Field name not found : Shoe_Size__c"
    );
    assert_eq!(info["numberRecordsProcessed"], 0);
}

async fn create_query(org: &Org, body: Value) -> (StatusCode, Value) {
    org.json(Method::POST, "/jobs/query", Some(body)).await
}

#[tokio::test]
async fn query_job_pages_fifty_thousand_rows_with_locators() {
    let org = Org::start().await;
    let mut data = String::from("Name,AccountNumber\n");
    for i in 0..50_000 {
        data.push_str(&format!("Bulk Paging {i:05},N{i}\n"));
    }
    let info = run_ingest(
        &org,
        json!({"object": "Account", "operation": "insert"}),
        &data,
    )
    .await;
    assert_eq!(info["numberRecordsProcessed"], 50_000, "{info}");
    assert_eq!(info["numberRecordsFailed"], 0);

    let (status, job) = create_query(
        &org,
        json!({"operation": "query", "query": "SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk Paging%' ORDER BY Name"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["object"], "Account");
    let id = job["id"].as_str().unwrap().to_owned();
    let done = wait_final(&org, "query", &id).await;
    assert_eq!(done["state"], "JobComplete", "{done}");
    assert_eq!(done["numberRecordsProcessed"], 50_000);

    let mut locator = String::new();
    let mut pages = 0;
    let mut names = Vec::new();
    loop {
        let path = if locator.is_empty() {
            format!("/jobs/query/{id}/results?maxRecords=20000")
        } else {
            format!("/jobs/query/{id}/results?maxRecords=20000&locator={locator}")
        };
        let (status, headers, text) = get_text(&org, &path).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        pages += 1;
        let rows = csv::parse(&text, ',').unwrap();
        assert_eq!(rows[0], ["Id", "Name"], "header on every page");
        let count: usize = headers["sforce-numberofrecords"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(count, rows.len() - 1);
        names.extend(rows.into_iter().skip(1).map(|r| r[1].clone()));
        locator = headers["sforce-locator"].to_str().unwrap().to_owned();
        if locator == "null" {
            break;
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..50_000).map(|i| format!("Bulk Paging {i:05}")).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn query_job_flattens_parents_and_quotes_text() {
    let org = Org::start().await;
    let account = org
        .create("Account", json!({"Name": "Quote \"Co\", Ltd"}))
        .await;
    org.create(
        "Contact",
        json!({"LastName": "Csvtest", "FirstName": "With", "AccountId": account, "Description": "two\nlines"}),
    )
    .await;
    org.create(
        "Contact",
        json!({"LastName": "Csvtest", "FirstName": "Without"}),
    )
    .await;
    let (status, job) = create_query(
        &org,
        json!({"operation": "query", "query": "SELECT FirstName, Description, Account.Name FROM Contact WHERE LastName = 'Csvtest' ORDER BY FirstName"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let id = job["id"].as_str().unwrap();
    wait_final(&org, "query", id).await;
    let (_, headers, text) = get_text(&org, &format!("/jobs/query/{id}/results")).await;
    assert_eq!(headers["sforce-locator"], "null");
    assert_eq!(headers["sforce-numberofrecords"], "2");
    assert_eq!(
        text,
        "\"FirstName\",\"Description\",\"Account.Name\"\n\
         \"With\",\"two\nlines\",\"Quote \"\"Co\"\", Ltd\"\n\
         \"Without\",,\n"
    );
}

#[tokio::test]
async fn query_jobs_refuse_what_bulk_query_does_not_support() {
    let org = Org::start().await;
    for query in [
        "SELECT Id FROM Account OFFSET 5",
        "SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry",
        "SELECT COUNT() FROM Account",
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
    ] {
        let (status, errors) =
            create_query(&org, json!({"operation": "query", "query": query})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(errors[0]["errorCode"], "FEATURENOTENABLED", "{query}");
    }
    let (status, errors) = create_query(
        &org,
        json!({"operation": "query", "query": "SELECT Bogus FROM Account"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(errors[0]["errorCode"], "INVALID_FIELD");
}

#[tokio::test]
async fn query_all_job_sees_deleted_rows_and_finished_jobs_can_be_deleted() {
    let org = Org::start().await;
    let id = org.create("Account", json!({"Name": "Gone Bulk"})).await;
    org.json(Method::DELETE, &format!("/sobjects/Account/{id}"), None)
        .await;
    let query = "SELECT Id, IsDeleted FROM Account WHERE Name = 'Gone Bulk'";
    for (operation, expected) in [("query", 0), ("queryAll", 1)] {
        let (_, job) = create_query(&org, json!({"operation": operation, "query": query})).await;
        let job_id = job["id"].as_str().unwrap();
        let done = wait_final(&org, "query", job_id).await;
        assert_eq!(done["numberRecordsProcessed"], expected, "{operation}");
        let (status, errors) = set_state(&org, "query", job_id, "Aborted").await;
        assert_eq!(status, StatusCode::CONFLICT, "{errors}");
        let (status, _) = org
            .json(Method::DELETE, &format!("/jobs/query/{job_id}"), None)
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
}

#[tokio::test]
async fn both_job_kinds_share_the_list_and_fallback_routes() {
    let org = Org::start().await;
    let ingest = create_ingest(&org, json!({"object": "Contact", "operation": "insert"})).await;
    let (status, query) = create_query(&org, json!({"query": "SELECT Id FROM Account"})).await;
    assert_eq!(status, StatusCode::OK, "{query}");
    for (kind, job) in [("ingest", &ingest), ("query", &query)] {
        let id = job["id"].as_str().unwrap();
        let (status, list) = org.json(Method::GET, &format!("/jobs/{kind}"), None).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let listed: Vec<&str> = list["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["id"].as_str())
            .collect();
        assert_eq!(listed, [id], "{kind}");
        // Up to two segments after the kind, an unserved method is 405; deeper paths are 404.
        for (method, path, expected) in [
            (
                Method::PUT,
                format!("/jobs/{kind}"),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                Method::PUT,
                format!("/jobs/{kind}/{id}"),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                Method::POST,
                format!("/jobs/{kind}/{id}/results"),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                Method::GET,
                format!("/jobs/{kind}/{id}/a/b/c"),
                StatusCode::NOT_FOUND,
            ),
        ] {
            let (status, body) = org.json(method.clone(), &path, None).await;
            assert_eq!(status, expected, "{method} {path}: {body}");
        }
    }
}
