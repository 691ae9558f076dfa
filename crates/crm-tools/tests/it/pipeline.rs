//! `analyzePipeline` on the demo org: "What are the key risk factors for our Q1 pipeline?" and
//! "Which deals are most likely to close this month?", with every figure recomputed here from
//! the store (its opportunities, activities and OpportunityHistory) by the documented rules,
//! independently of the tool's code.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

use crate::support::{Bench, Row, now};

struct Expected {
    deals: Vec<Row>,
    risks: BTreeMap<String, Vec<&'static str>>,
    weighted: f64,
    historical: f64,
    win_rate: f64,
    /// Per stage: (won, closed) among the closed deals whose history passed through it.
    stage_rates: BTreeMap<String, (u64, u64)>,
    /// Pushed deals: id → (pushes, days pushed).
    pushed: BTreeMap<String, (u64, i64)>,
}

/// The documented minimum sample for a stage's own win rate.
const MIN_STAGE_SAMPLES: u64 = 10;

/// Each opportunity's history rows, oldest first (ties by id).
fn histories(bench: &Bench) -> BTreeMap<String, Vec<Row>> {
    let mut rows = bench.rows("OpportunityHistory");
    rows.sort_by_key(|r| (r.datetime("CreatedDate"), r.id()));
    let mut out: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for row in rows {
        out.entry(row.text("OpportunityId").unwrap())
            .or_default()
            .push(row);
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.011
}

/// The documented rules: open deals closing in [start, end], stale after 30 days without a
/// change, no activity in 21 days, large = 75th-percentile (nearest rank) amount at ≤ 20%.
fn expected(bench: &Bench, start: NaiveDate, end: NaiveDate, owner: Option<&str>) -> Expected {
    let today = now().date_naive();
    let opportunities = bench.rows("Opportunity");
    let deals: Vec<Row> = opportunities
        .iter()
        .filter(|o| {
            !o.flag("IsClosed")
                && o.date("CloseDate").is_some_and(|d| start <= d && d <= end)
                && owner.is_none_or(|w| o.text("OwnerId").as_deref() == Some(w))
        })
        .cloned()
        .collect();
    let mut last_activity: BTreeMap<String, NaiveDate> = BTreeMap::new();
    for object in ["Task", "Event"] {
        for row in bench.rows(object) {
            if let (Some(what), Some(d)) = (row.text("WhatId"), row.date("ActivityDate"))
                && d <= today
            {
                let e = last_activity.entry(what).or_insert(d);
                *e = (*e).max(d);
            }
        }
    }
    let mut amounts: Vec<f64> = deals.iter().filter_map(|d| d.number("Amount")).collect();
    amounts.sort_by(f64::total_cmp);
    let large = if amounts.is_empty() {
        0.0
    } else {
        amounts[((0.75 * amounts.len() as f64).ceil() as usize).max(1) - 1]
    };
    let history = histories(bench);
    let none = Vec::new();
    let mut risks = BTreeMap::new();
    let mut pushed = BTreeMap::new();
    for d in &deals {
        let past = history.get(&d.id()).unwrap_or(&none);
        let mut found = Vec::new();
        let close = d.date("CloseDate").unwrap();
        if close < today {
            found.push("closeDatePassed");
        }
        // Pushed: later than a close date recorded before; each later move counts.
        let recorded: Vec<NaiveDate> = past.iter().filter_map(|r| r.date("CloseDate")).collect();
        if recorded.iter().any(|r| *r < close) {
            let mut dates = recorded.clone();
            dates.push(close);
            let moves: Vec<i64> = dates
                .windows(2)
                .map(|w| (w[1] - w[0]).num_days())
                .filter(|d| *d > 0)
                .collect();
            pushed.insert(d.id(), (moves.len() as u64, moves.iter().sum()));
            found.push("closeDatePushed");
        }
        // Stale: the day the deal entered its current stage (the start of the latest run of
        // that stage in its history), else its last modification.
        let stage = d.text("StageName").unwrap();
        let since = past
            .iter()
            .rev()
            .take_while(|r| r.text("StageName").as_deref() == Some(stage.as_str()))
            .last()
            .map(|r| r.date("CreatedDate").unwrap())
            .unwrap_or_else(|| d.date("LastModifiedDate").unwrap());
        if (today - since).num_days() > 30 {
            found.push("staleStage");
        }
        if last_activity
            .get(&d.id())
            .is_none_or(|last| (today - *last).num_days() > 21)
        {
            found.push("noRecentActivity");
        }
        if d.number("Amount").is_some_and(|a| a >= large)
            && d.number("Probability").unwrap_or(0.0) <= 20.0
        {
            found.push("largeLowProbability");
        }
        risks.insert(d.id(), found);
    }
    let closed: Vec<&Row> = opportunities
        .iter()
        .filter(|o| {
            o.flag("IsClosed")
                && o.date("CloseDate")
                    .is_some_and(|d| d >= today - Duration::days(365) && d <= today)
        })
        .collect();
    let won = closed.iter().filter(|o| o.flag("IsWon")).count();
    let win_rate = won as f64 / closed.len() as f64;
    let weighted = deals
        .iter()
        .map(|d| d.number("Amount").unwrap_or(0.0) * d.number("Probability").unwrap_or(0.0) / 100.0)
        .sum();
    let mut stage_rates: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for deal in &closed {
        let stages: BTreeSet<String> = history
            .get(&deal.id())
            .unwrap_or(&none)
            .iter()
            .filter_map(|r| r.text("StageName"))
            .collect();
        for stage in stages {
            let e = stage_rates.entry(stage).or_default();
            e.0 += u64::from(deal.flag("IsWon"));
            e.1 += 1;
        }
    }
    let historical = deals
        .iter()
        .map(|d| {
            let rate = match stage_rates.get(&d.text("StageName").unwrap()) {
                Some((won, total)) if *total >= MIN_STAGE_SAMPLES => *won as f64 / *total as f64,
                _ => win_rate,
            };
            d.number("Amount").unwrap_or(0.0) * rate
        })
        .sum();
    Expected {
        deals,
        risks,
        weighted,
        historical,
        win_rate,
        stage_rates,
        pushed,
    }
}

#[tokio::test]
async fn key_risk_factors_of_the_q1_pipeline() {
    let bench = Bench::demo().await;
    // Q1 2027 is Jan–Mar 2027 (fiscal year = calendar year by default).
    let (start, end) = (
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
    );
    let result = bench
        .call("analyzePipeline", json!({"period": "Q1 2027", "limit": 50}))
        .await;
    let e = expected(&bench, start, end, None);
    assert!(e.deals.len() > 100, "the demo org has a Q1 pipeline");
    assert_eq!(result["period"]["start"], json!("2027-01-01"));
    assert_eq!(result["period"]["end"], json!("2027-03-31"));
    assert_eq!(result["totals"]["openDeals"], json!(e.deals.len()));
    let total: f64 = e.deals.iter().filter_map(|d| d.number("Amount")).sum();
    assert!(close(
        result["totals"]["totalAmount"].as_f64().unwrap(),
        total
    ));
    assert!(close(
        result["forecast"]["weighted"].as_f64().unwrap(),
        e.weighted
    ));
    assert!(close(
        result["forecast"]["historical"].as_f64().unwrap(),
        e.historical
    ));
    assert!((result["forecast"]["winRate"].as_f64().unwrap() - e.win_rate).abs() < 0.0001);
    // Per-stage win rates, and which stages had enough closed deals for their own rate.
    let listed: BTreeMap<String, (u64, u64)> = result["forecast"]["stageWinRates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["stage"].as_str().unwrap().to_owned(),
                (
                    r["closedWon"].as_u64().unwrap(),
                    r["closedTotal"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(listed, e.stage_rates);
    assert_eq!(
        result["forecast"]["minStageSamples"],
        json!(MIN_STAGE_SAMPLES)
    );
    for row in result["forecast"]["byStage"].as_array().unwrap() {
        let own = e.stage_rates.get(row["stage"].as_str().unwrap());
        let basis = if own.is_some_and(|(_, n)| *n >= MIN_STAGE_SAMPLES) {
            "stage"
        } else {
            "overall"
        };
        assert_eq!(row["winRateBasis"], basis, "{row}");
    }
    // Pushed close dates: which deals, how many pushes and days.
    let report = &result["pushedCloseDates"];
    assert!(!e.pushed.is_empty(), "the demo has pushed deals in Q1");
    assert_eq!(report["deals"], json!(e.pushed.len()));
    assert_eq!(
        report["pushes"],
        json!(e.pushed.values().map(|p| p.0).sum::<u64>())
    );
    assert_eq!(
        report["daysPushed"],
        json!(e.pushed.values().map(|p| p.1).sum::<i64>())
    );
    for deal in report["largest"].as_array().unwrap() {
        let (pushes, days) = e.pushed[deal["id"].as_str().unwrap()];
        assert_eq!(
            (deal["pushes"].clone(), deal["daysPushed"].clone()),
            (json!(pushes), json!(days))
        );
    }
    // Each risk factor: the deals that have it and their amount.
    for summary in result["riskSummary"].as_array().unwrap() {
        let risk = summary["risk"].as_str().unwrap();
        let with: Vec<&Row> = e
            .deals
            .iter()
            .filter(|d| e.risks[&d.id()].contains(&risk))
            .collect();
        assert_eq!(summary["deals"], json!(with.len()), "{risk}");
        let amount: f64 = with.iter().filter_map(|d| d.number("Amount")).sum();
        assert!(close(summary["amount"].as_f64().unwrap(), amount), "{risk}");
    }
    let counts: Vec<u64> = result["riskSummary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["deals"].as_u64().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "most common risk first"
    );
    let at_risk = e.risks.values().filter(|r| !r.is_empty()).count();
    assert_eq!(result["totals"]["atRisk"], json!(at_risk));
    // The at-risk list: most risk factors first, then largest amount, then id.
    let mut ranked: Vec<(usize, f64, String)> = e
        .deals
        .iter()
        .filter(|d| !e.risks[&d.id()].is_empty())
        .map(|d| {
            (
                e.risks[&d.id()].len(),
                d.number("Amount").unwrap_or(0.0),
                d.id(),
            )
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| b.1.total_cmp(&a.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    let listed: Vec<&str> = result["atRiskDeals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = ranked.iter().take(50).map(|r| r.2.as_str()).collect();
    assert_eq!(listed, want);
    for deal in result["atRiskDeals"].as_array().unwrap() {
        let kinds: Vec<&str> = deal["risks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["risk"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, e.risks[deal["id"].as_str().unwrap()]);
    }
    let again = bench
        .call("analyzePipeline", json!({"period": "Q1 2027", "limit": 50}))
        .await;
    assert_eq!(again, result, "same data, same analysis");
}

#[tokio::test]
async fn deals_most_likely_to_close_this_month() {
    let bench = Bench::demo().await;
    let today = now().date_naive();
    // A deal that slipped: closing earlier this month, still open.
    let account = bench.rows("Account")[0].id();
    let slipped = bench
        .insert(
            "Opportunity",
            json!({"Name": "Slipped renewal", "AccountId": account, "StageName": "Negotiation/Review",
                   "Amount": 250000, "CloseDate": "2026-11-10"}),
        )
        .await;
    let (start, end) = (
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
    );
    let result = bench
        .call(
            "analyzePipeline",
            json!({"period": "this_month", "limit": 10}),
        )
        .await;
    let e = expected(&bench, start, end, None);
    assert!(
        e.deals.len() > 10,
        "{} deals close this month",
        e.deals.len()
    );
    let overdue = e
        .risks
        .values()
        .filter(|r| r.contains(&"closeDatePassed"))
        .count();
    assert!(overdue > 5, "the demo org has slipped deals: {overdue}");
    assert_eq!(result["totals"]["openDeals"], json!(e.deals.len()));
    // likelihood = probability / 100 × (1 − 0.2 × risk factors); ties by amount, then id.
    let mut ranked: Vec<(f64, f64, String)> = e
        .deals
        .iter()
        .map(|d| {
            let p = d.number("Probability").unwrap_or(0.0) / 100.0;
            let penalty = (1.0 - 0.2 * e.risks[&d.id()].len() as f64).max(0.0);
            (
                (p * penalty * 1000.0).round() / 1000.0,
                d.number("Amount").unwrap_or(0.0),
                d.id(),
            )
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| b.1.total_cmp(&a.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    let likely = result["likelyToClose"].as_array().unwrap();
    let got: Vec<(f64, String)> = likely
        .iter()
        .map(|d| {
            (
                d["likelihood"].as_f64().unwrap(),
                d["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(f64, String)> = ranked.iter().take(10).map(|r| (r.0, r.2.clone())).collect();
    assert_eq!(got, want);
    for deal in likely {
        let reasons: Vec<&str> = deal["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(reasons[0].starts_with("stage "), "{reasons:?}");
    }
    // The slipped deal carries its passed close date.
    assert!(e.risks[&slipped].contains(&"closeDatePassed"));
    let all = bench
        .call(
            "analyzePipeline",
            json!({"period": "this_month", "limit": 50}),
        )
        .await;
    let entry: &Value = all["atRiskDeals"]
        .as_array()
        .unwrap()
        .iter()
        .chain(all["likelyToClose"].as_array().unwrap())
        .find(|d| d["id"] == json!(slipped))
        .expect("the slipped deal is listed");
    assert!(
        entry["risks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("15 day(s) ago")
    );
    assert_eq!(today.to_string(), all["asOf"]);
}

#[tokio::test]
async fn one_owners_pipeline_and_explicit_dates() {
    let bench = Bench::demo().await;
    let owner = bench
        .rows("Opportunity")
        .iter()
        .find(|o| !o.flag("IsClosed"))
        .and_then(|o| o.text("OwnerId"))
        .unwrap();
    let (start, end) = (
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        NaiveDate::from_ymd_opt(2027, 2, 15).unwrap(),
    );
    let result = bench
        .call(
            "analyzePipeline",
            json!({"closeFrom": "2026-12-01", "closeTo": "2027-02-15", "owner": owner, "staleDays": 60}),
        )
        .await;
    let e = expected(&bench, start, end, Some(&owner));
    assert_eq!(result["totals"]["openDeals"], json!(e.deals.len()));
    assert!(close(
        result["forecast"]["weighted"].as_f64().unwrap(),
        e.weighted
    ));
    assert_eq!(result["thresholds"]["staleDays"], json!(60));
    let message = bench
        .call_err(
            "analyzePipeline",
            json!({"closeFrom": "2027-02-01", "closeTo": "2027-01-01"}),
        )
        .await;
    assert!(message.contains("swap them"), "{message}");
}
