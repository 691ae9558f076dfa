//! SOSL `/search` and `/parameterizedSearch` over HTTP: matching, scopes, wildcards, escapes,
//! `RETURNING` clauses, and `MALFORMED_SEARCH` errors.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::Org;

async fn sosl(org: &Org, q: &str) -> (StatusCode, Value) {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    org.json(Method::GET, &format!("/search?q={q}"), None).await
}

fn names(body: &Value) -> Vec<String> {
    body["searchRecords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["attributes"]["type"].as_str().unwrap(),
                r["Name"].as_str().or(r["LastName"].as_str()).unwrap_or("")
            )
        })
        .collect()
}

async fn seed(org: &Org) {
    org.create(
        "Account",
        json!({"Name": "Zyxwidget Holdings", "Industry": "Technology"}),
    )
    .await;
    org.create(
        "Account",
        json!({"Name": "Zyxwidget Labs", "Industry": "Energy"}),
    )
    .await;
    org.create(
        "Account",
        json!({"Name": "Plain Co", "Description": "we resell zyxwidget parts"}),
    )
    .await;
    org.create(
        "Contact",
        json!({"LastName": "O'Zyxwidget", "Email": "ops@zyxwidget.example"}),
    )
    .await;
}

#[tokio::test]
async fn finds_records_across_objects_with_fields_and_clauses() {
    let org = Org::start().await;
    seed(&org).await;
    let (status, body) = sosl(
        &org,
        "FIND {zyxwidget} RETURNING Account(Id, Name ORDER BY Name), Contact(LastName, Email)",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        names(&body),
        [
            "Account:Plain Co",
            "Account:Zyxwidget Holdings",
            "Account:Zyxwidget Labs",
            "Contact:O'Zyxwidget",
        ]
    );
    let first = &body["searchRecords"][0];
    assert!(
        first["attributes"]["url"]
            .as_str()
            .unwrap()
            .starts_with("/services/data/v62.0/sobjects/Account/")
    );
    assert!(first["Id"].as_str().unwrap().starts_with("001"));
    assert_eq!(body["searchRecords"][3]["Email"], "ops@zyxwidget.example");

    let (_, body) = sosl(
        &org,
        "FIND {zyxwidget} IN NAME FIELDS RETURNING Account(Name WHERE Industry = 'Energy')",
    )
    .await;
    assert_eq!(names(&body), ["Account:Zyxwidget Labs"]);
    let (_, body) = sosl(
        &org,
        "FIND {zyxwidget} IN NAME FIELDS RETURNING Account(Name ORDER BY Name DESC LIMIT 1)",
    )
    .await;
    assert_eq!(names(&body), ["Account:Zyxwidget Labs"]);
    let (_, body) = sosl(
        &org,
        "FIND {zyxwidget} RETURNING Account(Name), Contact LIMIT 2",
    )
    .await;
    assert_eq!(body["searchRecords"].as_array().unwrap().len(), 2);
    let (_, body) = sosl(
        &org,
        "FIND {zyxwidget} IN EMAIL FIELDS RETURNING Contact(LastName)",
    )
    .await;
    assert_eq!(names(&body), ["Contact:O'Zyxwidget"]);
}

#[tokio::test]
async fn wildcards_escapes_and_default_objects() {
    let org = Org::start().await;
    seed(&org).await;
    let (_, body) = sosl(
        &org,
        "FIND {zyxw*} IN NAME FIELDS RETURNING Account(Name ORDER BY Name)",
    )
    .await;
    assert_eq!(body["searchRecords"].as_array().unwrap().len(), 2);
    let (_, body) = sosl(
        &org,
        "FIND {zyxwidge?} IN NAME FIELDS RETURNING Account(Name)",
    )
    .await;
    assert_eq!(body["searchRecords"].as_array().unwrap().len(), 2);
    let (_, body) = sosl(&org, "FIND {zyxw} RETURNING Account(Name)").await;
    assert_eq!(
        body["searchRecords"].as_array().unwrap().len(),
        0,
        "whole words only"
    );
    let (status, body) = sosl(&org, r"FIND {O\'Zyxwidget} RETURNING Contact(LastName)").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body), ["Contact:O'Zyxwidget"]);
    let (_, body) = sosl(&org, "FIND {\"zyxwidget labs\"}").await;
    let records = body["searchRecords"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["attributes"]["type"], "Account");
    assert_eq!(
        records[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["Id", "attributes"]
    );
}

#[tokio::test]
async fn malformed_and_invalid_searches_are_errors() {
    let org = Org::start().await;
    for (q, code) in [
        ("FIND zyxwidget", "MALFORMED_SEARCH"),
        ("FIND {O'Brien}", "MALFORMED_SEARCH"),
        ("FIND {zyxwidget", "MALFORMED_SEARCH"),
        ("FIND {zyxwidget} RETURNING", "MALFORMED_SEARCH"),
        ("FIND {zyxwidget} RETURNING Nope__c", "INVALID_TYPE"),
        ("FIND {zyxwidget} RETURNING Account(Bogus)", "INVALID_FIELD"),
    ] {
        let (status, body) = sosl(&org, q).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
        assert_eq!(body[0]["errorCode"], code, "{q}");
    }
    let (status, body) = org.json(Method::GET, "/search", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body[0]["errorCode"], "MALFORMED_SEARCH");
}

#[tokio::test]
async fn parameterized_search_by_get_and_post() {
    let org = Org::start().await;
    seed(&org).await;
    let (status, body) = org
        .json(
            Method::GET,
            "/parameterizedSearch?q=zyxwidget&sobject=Account&Account.fields=Id,Name&in=NAME",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut found = names(&body);
    found.sort();
    assert_eq!(
        found,
        ["Account:Zyxwidget Holdings", "Account:Zyxwidget Labs"]
    );

    let (status, body) = org
        .json(
            Method::POST,
            "/parameterizedSearch",
            Some(json!({
                "q": "zyxwidget",
                "sobjects": [{"name": "Contact", "fields": ["LastName"]}, {"name": "Account", "limit": 1}],
                "overallLimit": 5,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(names(&body)[0], "Contact:O'Zyxwidget");
    assert_eq!(body["searchRecords"].as_array().unwrap().len(), 2);

    let (status, body) = org
        .json(Method::GET, "/parameterizedSearch?sobject=Account", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body[0]["errorCode"], "MALFORMED_SEARCH");
}
