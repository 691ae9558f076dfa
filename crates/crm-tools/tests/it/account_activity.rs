//! `summarizeAccountActivity`: "Summarize all interactions with Acme Corp in the last 6 months",
//! with the counts recomputed here from the store.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, Months, NaiveDate};
use serde_json::json;

use crate::support::{Bench, now};

/// Counts by kind and by month, from the store, by the documented rules.
fn expected(bench: &Bench, account: &str, months: u32) -> BTreeMap<(&'static str, String), u64> {
    let today = now().date_naive();
    let start = today.checked_sub_months(Months::new(months)).unwrap();
    let in_window = |d: NaiveDate| start <= d && d <= today;
    let of_account = |object: &str| -> Vec<crate::support::Row> {
        bench
            .rows(object)
            .into_iter()
            .filter(|r| r.text("AccountId").as_deref() == Some(account))
            .collect()
    };
    let opportunities = of_account("Opportunity");
    let cases = of_account("Case");
    let contacts = of_account("Contact");
    let what: BTreeSet<String> = std::iter::once(account.to_owned())
        .chain(opportunities.iter().map(|o| o.id()))
        .chain(cases.iter().map(|c| c.id()))
        .collect();
    let who: BTreeSet<String> = contacts.iter().map(|c| c.id()).collect();
    let mut out: BTreeMap<(&'static str, String), u64> = BTreeMap::new();
    let mut add = |kind: &'static str, d: NaiveDate| {
        *out.entry((kind, format!("{:04}-{:02}", d.year(), d.month())))
            .or_default() += 1;
    };
    for (object, kind) in [("Task", "tasks"), ("Event", "events")] {
        for row in bench.rows(object) {
            let linked = row.text("WhatId").is_some_and(|w| what.contains(&w))
                || row.text("WhoId").is_some_and(|w| who.contains(&w));
            if let Some(d) = row.date("ActivityDate").filter(|d| linked && in_window(*d)) {
                add(kind, d);
            }
        }
    }
    for c in &cases {
        if let Some(d) = c.date("CreatedDate").filter(|d| in_window(*d)) {
            add("cases", d);
        }
    }
    for o in &opportunities {
        if let Some(d) = o.date("CreatedDate").filter(|d| in_window(*d)) {
            add("opportunitiesOpened", d);
        }
        if let Some(d) = o
            .date("CloseDate")
            .filter(|d| o.flag("IsClosed") && in_window(*d))
        {
            add("opportunitiesClosed", d);
        }
    }
    for c in &contacts {
        if let Some(d) = c.date("CreatedDate").filter(|d| in_window(*d)) {
            add("contactsAdded", d);
        }
    }
    out
}

fn check(result: &serde_json::Value, want: &BTreeMap<(&'static str, String), u64>) {
    let kinds = [
        "tasks",
        "events",
        "cases",
        "opportunitiesOpened",
        "opportunitiesClosed",
        "contactsAdded",
    ];
    for kind in kinds {
        let total: u64 = want
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|(_, n)| n)
            .sum();
        assert_eq!(result["totals"][kind], json!(total), "{kind}");
    }
    for month in result["byMonth"].as_array().unwrap() {
        let m = month["month"].as_str().unwrap();
        for kind in kinds {
            let n = want.get(&(kind, m.to_owned())).copied().unwrap_or(0);
            assert_eq!(month[kind], json!(n), "{kind} in {m}");
        }
    }
    let all: u64 = want.values().sum();
    assert_eq!(result["totals"]["all"], json!(all));
}

#[tokio::test]
async fn interactions_with_acme_in_the_last_six_months() {
    let bench = Bench::start().await;
    let today = now().date_naive();
    let acme = bench
        .insert(
            "Account",
            json!({"Name": "Acme Corp", "Industry": "Manufacturing"}),
        )
        .await;
    let contact = bench
        .insert(
            "Contact",
            json!({"LastName": "Rivera", "FirstName": "Sam", "AccountId": acme, "Title": "CTO"}),
        )
        .await;
    let deal = bench
        .insert(
            "Opportunity",
            json!({"Name": "Acme expansion", "AccountId": acme, "StageName": "Proposal/Price Quote",
                   "Amount": 180000, "CloseDate": "2027-01-15"}),
        )
        .await;
    bench
        .insert(
            "Opportunity",
            json!({"Name": "Acme pilot", "AccountId": acme, "StageName": "Closed Won",
                   "Amount": 40000, "CloseDate": "2026-08-20"}),
        )
        .await;
    let case = bench
        .insert("Case", json!({"AccountId": acme, "ContactId": contact, "Subject": "Login fails", "Status": "New"}))
        .await;
    // Activities spread over the months: on the account, the deal, the case, with the contact;
    // one older than six months and one in the future, which are left out.
    for (days_ago, what, who) in [
        (2, Some(acme.as_str()), None),
        (20, Some(deal.as_str()), Some(contact.as_str())),
        (45, None, Some(contact.as_str())),
        (70, Some(case.as_str()), None),
        (130, Some(acme.as_str()), None),
        (200, Some(acme.as_str()), None),
        (-5, Some(acme.as_str()), None),
    ] {
        let mut fields = json!({"Subject": format!("Touch {days_ago}"), "ActivityDate": (today - Duration::days(days_ago)).to_string()});
        if let Some(w) = what {
            fields["WhatId"] = json!(w);
        }
        if let Some(w) = who {
            fields["WhoId"] = json!(w);
        }
        bench.insert("Task", fields.clone()).await;
        if days_ago % 2 == 0 {
            let start = (today - Duration::days(days_ago))
                .and_hms_opt(15, 0, 0)
                .unwrap()
                .and_utc();
            fields["StartDateTime"] = json!(start.to_rfc3339());
            fields["EndDateTime"] = json!((start + Duration::hours(1)).to_rfc3339());
            fields["DurationInMinutes"] = json!(60);
            bench.insert("Event", fields).await;
        }
    }

    let result = bench
        .call(
            "summarizeAccountActivity",
            json!({"name": "Acme Corp", "months": 6}),
        )
        .await;
    assert_eq!(result["account"]["id"], json!(acme));
    assert_eq!(result["window"]["start"], json!("2026-05-25"));
    assert_eq!(result["window"]["end"], json!("2026-11-25"));
    let want = expected(&bench, &acme, 6);
    check(&result, &want);
    assert_eq!(
        result["totals"]["tasks"],
        json!(5),
        "6 months hold 5 of the 7 tasks"
    );
    assert_eq!(result["totals"]["opportunitiesClosed"], json!(1));
    let months: Vec<&str> = result["byMonth"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["month"].as_str().unwrap())
        .collect();
    assert_eq!(
        months,
        [
            "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"
        ]
    );
    let recent_tasks = result["recent"]["tasks"].as_array().unwrap();
    assert_eq!(recent_tasks[0]["title"], json!("Touch 2"));
    assert_eq!(
        result["lastInteraction"]["date"],
        json!((today - Duration::days(0)).to_string())
    );

    let again = bench
        .call("summarizeAccountActivity", json!({"id": acme, "months": 6}))
        .await;
    assert_eq!(again, result, "deterministic");
}

#[tokio::test]
async fn a_generated_account_over_two_years() {
    let bench = Bench::demo().await;
    // The account with the most opportunities in the demo org.
    let mut by_account: BTreeMap<String, usize> = BTreeMap::new();
    for o in bench.rows("Opportunity") {
        if let Some(a) = o.text("AccountId") {
            *by_account.entry(a).or_default() += 1;
        }
    }
    let account = by_account.into_iter().max_by_key(|(_, n)| *n).unwrap().0;
    let result = bench
        .call(
            "summarizeAccountActivity",
            json!({"id": account, "months": 24, "recentItems": 3}),
        )
        .await;
    let want = expected(&bench, &account, 24);
    check(&result, &want);
    assert!(
        result["totals"]["all"].as_u64().unwrap() > 5,
        "{}",
        result["totals"]
    );
    assert_eq!(result["byMonth"].as_array().unwrap().len(), 25);
    let message = bench
        .call_err(
            "summarizeAccountActivity",
            json!({"name": "No Such Company Anywhere"}),
        )
        .await;
    assert!(message.contains("no account"), "{message}");
}
