//! `searchLeads` with realistic filters, checked against the store.

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::json;

use crate::support::{Bench, Row, contains, ids, now};

fn created_this_week(row: &Row) -> bool {
    let today = now().date_naive();
    let sunday = today - Duration::days(i64::from(today.weekday().num_days_from_sunday()));
    row.datetime("CreatedDate").is_some_and(|t| {
        let d = t.date_naive();
        d >= sunday && d < sunday + Duration::days(7)
    })
}

#[tokio::test]
async fn high_value_healthcare_leads_created_this_week() {
    let bench = Bench::start().await;
    let hot = bench
        .insert(
            "Lead",
            json!({"LastName": "Okafor", "FirstName": "Ada", "Company": "Mercy Health Partners",
                   "Industry": "Healthcare", "Rating": "Hot", "AnnualRevenue": 8_000_000}),
        )
        .await;
    let warm = bench
        .insert(
            "Lead",
            json!({"LastName": "Lind", "Company": "Valley Clinics", "Industry": "Healthcare", "Rating": "Warm"}),
        )
        .await;
    // "Show me high-value leads from the healthcare industry created this week"
    let result = bench
        .call(
            "searchLeads",
            json!({"industry": ["Healthcare"], "rating": ["Hot"], "createdPeriod": "this_week", "limit": 50}),
        )
        .await;
    let expected: BTreeSet<String> = bench
        .rows("Lead")
        .into_iter()
        .filter(|r| {
            r.text("Industry").as_deref() == Some("Healthcare")
                && r.text("Rating").as_deref() == Some("Hot")
                && created_this_week(r)
        })
        .map(|r| r.id())
        .collect();
    assert!(expected.contains(&hot));
    assert!(!expected.contains(&warm));
    assert_eq!(ids(&result["leads"], "id"), expected);
    assert_eq!(result["totalSize"], json!(expected.len()));
    assert_eq!(result["nextCursor"], json!(null));
    let ours = result["leads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == json!(hot))
        .unwrap();
    assert_eq!(ours["company"], "Mercy Health Partners");
    assert_eq!(ours["annualRevenue"], json!(8_000_000.0));
    assert_eq!(
        ours["url"],
        json!(format!("{}/lightning/r/Lead/{hot}/view", bench.base_url))
    );
    // Newest first by default.
    let dates: Vec<&str> = result["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["createdDate"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
}

#[tokio::test]
async fn cursor_pages_through_every_match_once() {
    let bench = Bench::start().await;
    let all: BTreeSet<String> = bench.rows("Lead").into_iter().map(|r| r.id()).collect();
    assert!(all.len() > 14, "the tiny dataset has enough leads to page");
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut companies = Vec::new();
    for _ in 0..100 {
        let mut args = json!({"sortBy": "Company", "sortDirection": "asc", "limit": 7});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = bench.call("searchLeads", args).await;
        assert_eq!(page["totalSize"], json!(all.len()));
        assert!(page["leads"].as_array().unwrap().len() <= 7);
        for lead in page["leads"].as_array().unwrap() {
            seen.push(lead["id"].as_str().unwrap().to_owned());
            companies.push(lead["company"].as_str().unwrap_or("").to_lowercase());
        }
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), all.len(), "no lead twice, none missing");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), all);
    assert!(companies.windows(2).all(|w| w[0] <= w[1]));
}

#[tokio::test]
async fn ranges_owner_text_and_dates_match_the_store() {
    let bench = Bench::start().await;
    let leads = bench.rows("Lead");
    let result = bench
        .call(
            "searchLeads",
            json!({"minAnnualRevenue": 1_000_000, "maxEmployees": 5000, "limit": 50}),
        )
        .await;
    let expected: BTreeSet<String> = leads
        .iter()
        .filter(|r| {
            r.number("AnnualRevenue").is_some_and(|v| v >= 1_000_000.0)
                && r.number("NumberOfEmployees").is_some_and(|v| v <= 5000.0)
        })
        .map(Row::id)
        .collect();
    assert_eq!(ids(&result["leads"], "id"), expected);

    let owner = leads[0].text("OwnerId").unwrap();
    let result = bench
        .call("searchLeads", json!({"owner": owner, "limit": 50}))
        .await;
    let expected: BTreeSet<String> = leads
        .iter()
        .filter(|r| r.text("OwnerId").as_deref() == Some(owner.as_str()))
        .map(Row::id)
        .collect();
    assert_eq!(ids(&result["leads"], "id"), expected);

    let some_company = leads[1].text("Company").unwrap();
    let needle: String = some_company.chars().skip(1).take(4).collect();
    let result = bench
        .call(
            "searchLeads",
            json!({"companyContains": needle, "limit": 50}),
        )
        .await;
    let expected: BTreeSet<String> = leads
        .iter()
        .filter(|r| contains(r.text("Company").as_deref(), &needle))
        .map(Row::id)
        .collect();
    assert_eq!(ids(&result["leads"], "id"), expected);

    let from = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let result = bench
        .call(
            "searchLeads",
            json!({"createdFrom": "2026-11-01", "createdTo": "2026-11-24", "limit": 50}),
        )
        .await;
    let expected: BTreeSet<String> = leads
        .iter()
        .filter(|r| {
            r.datetime("CreatedDate")
                .is_some_and(|t| t.date_naive() >= from && t.date_naive() <= to)
        })
        .map(Row::id)
        .collect();
    assert_eq!(
        result["totalSize"],
        json!(expected.len()),
        "{}",
        result["leads"]
    );
}

#[tokio::test]
async fn bad_arguments_say_what_to_fix() {
    let bench = Bench::start().await;
    let page = bench
        .call(
            "searchLeads",
            json!({"rating": ["Hot", "Warm", "Cold"], "limit": 1}),
        )
        .await;
    let cursor = page["nextCursor"].as_str().unwrap().to_owned();
    let message = bench
        .call_err("searchLeads", json!({"rating": ["Hot"], "cursor": cursor}))
        .await;
    assert!(message.contains("same filters"), "{message}");
    let message = bench
        .call_err(
            "searchLeads",
            json!({"createdFrom": "2026-11-20", "createdTo": "2026-11-01"}),
        )
        .await;
    assert!(message.contains("swap them"), "{message}");
    let message = bench
        .call_err(
            "searchLeads",
            json!({"minEmployees": 100, "maxEmployees": 10}),
        )
        .await;
    assert!(message.contains("range is empty"), "{message}");
    // Schema violations are protocol errors naming the argument.
    for bad in [
        json!({"industry": ["Healthcare' OR Name != '"]}),
        json!({"createdPeriod": "this_week' OR Id != null"}),
        json!({"limit": 10_000}),
        json!({"sortBy": "Name DESC, Id"}),
        json!({"unknown": 1}),
    ] {
        let error = bench
            .request(
                "tools/call",
                json!({"name": "searchLeads", "arguments": bad}),
            )
            .await
            .unwrap_err();
        assert_eq!(error["code"], json!(-32602), "{bad}: {error}");
    }
}
