//! The query endpoints over HTTP: Salesforce's paging contract (`done`, `nextRecordsUrl`,
//! `Sforce-Query-Options`), `queryAll`, errors with their codes, and queries inside composite.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::Org;

async fn get(org: &Org, url_path: &str, options: Option<&str>) -> (StatusCode, Value) {
    let mut request = org
        .client
        .get(format!("{}{url_path}", org.base()))
        .bearer_auth(&org.token);
    if let Some(options) = options {
        request = request.header("Sforce-Query-Options", options);
    }
    let response = request.send().await.unwrap();
    assert!(response.headers().contains_key("sforce-limit-info"));
    (response.status(), response.json().await.unwrap())
}

fn query_path(soql: &str, all: bool) -> String {
    let endpoint = if all { "queryAll" } else { "query" };
    let q: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
    format!("/services/data/v62.0/{endpoint}?q={q}")
}

#[tokio::test]
async fn pages_follow_next_records_url_until_done() {
    let org = Org::start().await;
    for i in 0..450 {
        org.create("Contact", json!({"LastName": format!("Pager {i:03}")}))
            .await;
    }
    let soql = "SELECT Id, LastName FROM Contact WHERE LastName LIKE 'Pager%' ORDER BY LastName";
    let (status, first) = get(&org, &query_path(soql, false), Some("batchSize=200")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["totalSize"], 450);
    assert_eq!(first["done"], false);
    let mut names: Vec<String> = Vec::new();
    let mut page = first;
    let mut pages = 1;
    loop {
        for record in page["records"].as_array().unwrap() {
            assert_eq!(record["attributes"]["type"], "Contact");
            names.push(record["LastName"].as_str().unwrap().to_owned());
        }
        if page["done"] == true {
            assert!(page.get("nextRecordsUrl").is_none_or(Value::is_null));
            break;
        }
        let next = page["nextRecordsUrl"].as_str().unwrap().to_owned();
        assert!(next.starts_with("/services/data/v62.0/query/"), "{next}");
        let (status, body) = get(&org, &next, Some("batchSize=200")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        page = body;
        pages += 1;
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..450).map(|i| format!("Pager {i:03}")).collect();
    assert_eq!(names, expected, "every record once, in order");
}

#[tokio::test]
async fn query_all_sees_deleted_records_and_query_does_not() {
    let org = Org::start().await;
    let id = org
        .create("Account", json!({"Name": "Deleted Dynamics"}))
        .await;
    let (status, _) = org
        .json(Method::DELETE, &format!("/sobjects/Account/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let soql = "SELECT Id, IsDeleted FROM Account WHERE Name = 'Deleted Dynamics'";
    let (_, live) = get(&org, &query_path(soql, false), None).await;
    assert_eq!(live["totalSize"], 0);
    let (_, all) = get(&org, &query_path(soql, true), None).await;
    assert_eq!(all["totalSize"], 1);
    assert_eq!(all["records"][0]["IsDeleted"], true);
}

#[tokio::test]
async fn errors_carry_salesforce_codes() {
    let org = Org::start().await;
    let cases = [
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM NoSuchThing", "INVALID_TYPE"),
        ("SELECT Nope FROM Lead", "INVALID_FIELD"),
        (
            "SELECT Id FROM Lead LIMIT 10 OFFSET 2001",
            "NUMBER_OUTSIDE_VALID_RANGE",
        ),
    ];
    for (soql, code) in cases {
        let (status, body) = get(&org, &query_path(soql, false), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{soql}");
        assert_eq!(body[0]["errorCode"], code, "{soql}: {body}");
    }
    let (status, body) = get(
        &org,
        "/services/data/v62.0/query/01gDOESNOTEXIST-2000",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body[0]["errorCode"], "INVALID_QUERY_LOCATOR");
    let (status, body) = get(&org, "/services/data/v62.0/query", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body[0]["errorCode"], "MALFORMED_QUERY");
}

#[tokio::test]
async fn count_and_relationship_shapes_match_the_reference() {
    let org = Org::start().await;
    let account = org.create("Account", json!({"Name": "Acme"})).await;
    org.create(
        "Contact",
        json!({"LastName": "Smith", "FirstName": "John", "AccountId": account}),
    )
    .await;
    let (_, count) = get(
        &org,
        &query_path(
            "SELECT COUNT() FROM Contact WHERE Account.Name = 'Acme'",
            false,
        ),
        None,
    )
    .await;
    assert_eq!(count["totalSize"], 1);
    assert_eq!(count["records"], json!([]));

    let soql = "SELECT Id, Name, Account.Name FROM Contact WHERE Account.Name = 'Acme'";
    let (_, body) = get(&org, &query_path(soql, false), None).await;
    let record = &body["records"][0];
    assert_eq!(record["Name"], "John Smith");
    assert_eq!(record["Account"]["attributes"]["type"], "Account");
    assert_eq!(
        record["Account"]["attributes"]["url"],
        format!("/services/data/v62.0/sobjects/Account/{account}")
    );
    assert_eq!(record["Account"]["Name"], "Acme");
}

#[tokio::test]
async fn composite_subrequests_can_query() {
    let org = Org::start().await;
    let body = json!({"allOrNone": true, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v62.0/sobjects/Account", "referenceId": "acct", "body": {"Name": "Composite Query Co"}},
        {"method": "GET", "url": "/services/data/v62.0/query?q=SELECT+Id+FROM+Account+WHERE+Name+%3D+%27Composite+Query+Co%27", "referenceId": "find"}
    ]});
    let (status, response) = org.json(Method::POST, "/composite", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    let find = &response["compositeResponse"][1];
    assert_eq!(find["httpStatusCode"], 200, "{find}");
    assert_eq!(find["body"]["totalSize"], 1);
    assert_eq!(
        find["body"]["records"][0]["Id"],
        response["compositeResponse"][0]["body"]["id"]
    );
}
