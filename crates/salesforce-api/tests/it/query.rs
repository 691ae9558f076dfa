//! Queries over HTTP: pages with cursors, the lazy record stream across pages, typed records,
//! counts, `queryAll`, and SOQL built with the builder round-tripping through the sandbox.

use futures::TryStreamExt;
use salesforce_api::soql::{Field, Select};
use salesforce_api::{ErrorClass, QueryCursor, QueryOptions, Record};
use serde::Deserialize;
use serde_json::json;

use crate::support::Org;

async fn contacts(org: &Org, n: usize) {
    let client = org.client();
    let records: Vec<_> = (0..n)
        .map(|i| json!({"attributes": {"type": "Contact"}, "LastName": format!("Stream {i:04}"), "Title": if i % 2 == 0 { "VP" } else { "Engineer" }}))
        .collect();
    let results = client.create_records(&records, true).await.unwrap();
    assert!(results.iter().all(|r| r.success));
}

#[tokio::test]
async fn pages_resume_from_a_cursor_across_three_pages() {
    let org = Org::start().await;
    contacts(&org, 500).await;
    let client = org.client();
    let soql = Select::from("Contact")
        .fields(["Id", "LastName"])
        .filter(Field::new("LastName").unwrap().starts_with("Stream "))
        .order_by(Field::new("LastName").unwrap().asc())
        .to_soql()
        .unwrap();
    let options = QueryOptions {
        batch_size: Some(200),
        include_deleted: false,
    };
    let mut page = client.query_page::<Record>(&soql, options).await.unwrap();
    assert_eq!(page.total_size, 500);
    let mut seen: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        seen.extend(
            page.records
                .iter()
                .map(|r| r.get_str("LastName").unwrap().to_owned()),
        );
        let Some(cursor) = page.next else { break };
        // A cursor survives a trip through text (an MCP tool hands it to the model and back).
        let cursor = QueryCursor::parse(cursor.as_str()).unwrap();
        page = client.query_more(&cursor, options).await.unwrap();
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        (0..500)
            .map(|i| format!("Stream {i:04}"))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_stream_follows_pages_lazily_into_typed_records() {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Contact {
        last_name: String,
        title: Option<String>,
    }
    let org = Org::start().await;
    contacts(&org, 450).await;
    let client = org.client();
    org.clear_log().await;
    let stream = client.query_stream::<Contact>(
        "SELECT LastName, Title FROM Contact WHERE LastName LIKE 'Stream %' ORDER BY LastName",
        QueryOptions {
            batch_size: Some(200),
            include_deleted: false,
        },
    );
    let mut stream = std::pin::pin!(stream);
    let first = stream.try_next().await.unwrap().unwrap();
    assert_eq!(first.last_name, "Stream 0000");
    assert_eq!(
        org.api_requests().await.len(),
        1,
        "only the first page is fetched before it is needed"
    );
    let rest: Vec<Contact> = stream.try_collect().await.unwrap();
    assert_eq!(rest.len(), 449);
    assert_eq!(
        rest.iter()
            .filter(|c| c.title.as_deref() == Some("VP"))
            .count(),
        224
    );
    assert_eq!(org.api_requests().await.len(), 3);
}

#[tokio::test]
async fn counts_and_query_all() {
    let org = Org::start().await;
    let client = org.client();
    let id = client
        .create_record(
            "Lead",
            json!({"LastName": "Gone", "Company": "Vanishing Inc"})
                .as_object()
                .unwrap(),
        )
        .await
        .unwrap()
        .id;
    let soql = "SELECT COUNT() FROM Lead WHERE Company = 'Vanishing Inc'";
    assert_eq!(client.count(soql).await.unwrap(), 1);
    client.delete_record("Lead", &id).await.unwrap();
    assert_eq!(client.count(soql).await.unwrap(), 0);
    let all = client
        .query_page::<Record>(
            "SELECT Id FROM Lead WHERE Company = 'Vanishing Inc'",
            QueryOptions {
                batch_size: None,
                include_deleted: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.total_size, 1);
}

#[tokio::test]
async fn user_text_in_a_built_query_matches_only_itself() {
    let org = Org::start().await;
    let client = org.client();
    for company in [
        "O'Brien & Sons",
        "100% Organic_Farms",
        r"Back\slash Ltd",
        "Plain Co",
    ] {
        client
            .create_record(
                "Lead",
                json!({"LastName": "Q", "Company": company})
                    .as_object()
                    .unwrap(),
            )
            .await
            .unwrap();
    }
    for (text, expected) in [
        ("O'Brien", vec!["O'Brien & Sons"]),
        ("100%", vec!["100% Organic_Farms"]),
        ("c_F", vec!["100% Organic_Farms"]),
        (r"k\s", vec![r"Back\slash Ltd"]),
        ("' OR Name != '", vec![]),
        ("%", vec!["100% Organic_Farms"]),
    ] {
        let soql = Select::from("Lead")
            .fields(["Company"])
            .filter(Field::new("Company").unwrap().contains(text))
            .order_by(Field::new("Company").unwrap().asc())
            .to_soql()
            .unwrap();
        let page = client
            .query_page::<Record>(&soql, QueryOptions::default())
            .await
            .unwrap();
        let companies: Vec<&str> = page
            .records
            .iter()
            .map(|r| r.get_str("Company").unwrap())
            .collect();
        assert_eq!(companies, expected, "contains({text:?}) via {soql}");
    }
}

#[tokio::test]
async fn malformed_queries_are_validation_errors() {
    let org = Org::start().await;
    let error = org
        .client()
        .query_page::<Record>("SELECT Id FROM Lead WHERE", QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error.class(), ErrorClass::Validation);
    assert_eq!(error.error_code(), Some("MALFORMED_QUERY"));
    assert!(error.to_string().contains("Row:1"), "{error}");
}
