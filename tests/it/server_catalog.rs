//! The catalog beyond the core tools end to end: the official Python MCP SDK
//! (`tests/interop/catalog_client.py`, 2026-07-28 era, Streamable HTTP) calls each of the 18
//! analytics and generic tools on the embedded demo org — the product's example questions among
//! them — and every figure it got back is checked here against figures computed from the org's
//! own records through its REST API, independently of the tools' code.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{Datelike, Months, NaiveDate};
use futures::TryStreamExt;
use salesforce_api::soql::{Field, Select};
use salesforce_api::{Access, Client, QueryOptions, Record, StaticAccess};
use serde_json::{Map, Value, json};

use crate::support::{printed, run_interop, settings};
use crate::worker_harness::wait_until;

/// The core tools, which `server.rs` drives; this test drives every other tool listed.
const CORE: [&str; 7] = [
    "searchLeads",
    "getOpportunity",
    "getAccountInsights",
    "updateContact",
    "createTask",
    "search",
    "fetch",
];

/// The org read straight through its REST API.
struct Org(Client);

fn field(name: &str) -> Field {
    Field::new(name).unwrap()
}

fn number(record: &Record, name: &str) -> f64 {
    record.get(name).and_then(Value::as_f64).unwrap_or(0.0)
}

/// A date or the UTC day of a date-time field.
fn day(record: &Record, name: &str) -> Option<NaiveDate> {
    record
        .get_str(name)
        .and_then(|d| d.get(..10))
        .and_then(|d| d.parse().ok())
}

/// The element of the array `list` whose `key` is `value`.
fn entry<'a>(list: &'a Value, key: &str, value: &str) -> &'a Value {
    list.as_array()
        .and_then(|items| items.iter().find(|i| i[key] == value))
        .unwrap_or_else(|| panic!("no {key} = {value} in {list}"))
}

fn close(got: &Value, want: f64) -> bool {
    got.as_f64().is_some_and(|g| (g - want).abs() < 0.011)
}

impl Org {
    /// Every record `select` matches (all pages).
    async fn rows(&self, select: Select) -> Vec<Record> {
        self.0
            .query_stream(&select.to_soql().unwrap(), QueryOptions::default())
            .try_collect()
            .await
            .unwrap()
    }

    /// The ids of the records `select` (which selects `Id`) matches.
    async fn ids(&self, select: Select) -> Vec<String> {
        let rows = self.rows(select).await;
        rows.iter().map(|r| r.id().unwrap().to_owned()).collect()
    }

    /// Lead id → OwnerId of the leads `select` (which selects `Id` and `OwnerId`) matches.
    async fn owners(&self, select: Select) -> BTreeMap<String, String> {
        let rows = self.rows(select).await;
        rows.iter()
            .map(|r| {
                let owner = r.get_str("OwnerId").unwrap().to_owned();
                (r.id().unwrap().to_owned(), owner)
            })
            .collect()
    }

    async fn count(&self, select: Select) -> u64 {
        self.0.count(&select.to_soql().unwrap()).await.unwrap()
    }

    async fn lead(&self, id: &str, options: QueryOptions) -> Option<Record> {
        let soql = Select::from("Lead")
            .fields([
                "Id",
                "LastName",
                "Company",
                "Industry",
                "Rating",
                "Status",
                "OwnerId",
                "NumberOfEmployees",
                "AnnualRevenue",
                "IsDeleted",
            ])
            .filter(field("Id").eq(id))
            .to_soql()
            .unwrap();
        let page = self.0.query_page(&soql, options).await.unwrap();
        page.records.into_iter().next()
    }

    /// The OpportunityHistory rows of `ids` by opportunity, oldest first (ties by id).
    async fn history(&self, ids: &[&str]) -> BTreeMap<String, Vec<Record>> {
        let mut out: BTreeMap<String, Vec<Record>> = BTreeMap::new();
        for chunk in ids.chunks(200) {
            let rows = self
                .rows(
                    Select::from("OpportunityHistory")
                        .fields([
                            "Id",
                            "OpportunityId",
                            "StageName",
                            "CloseDate",
                            "CreatedDate",
                        ])
                        .filter(field("OpportunityId").is_in(chunk.iter().copied()))
                        .order_by(field("CreatedDate").asc())
                        .order_by(field("Id").asc()),
                )
                .await;
            for row in rows {
                let deal = row.get_str("OpportunityId").unwrap().to_owned();
                out.entry(deal).or_default().push(row);
            }
        }
        out
    }

    /// Open opportunities closing in `[start, end]`, or all open ones.
    async fn open_deals(&self, range: Option<(NaiveDate, NaiveDate)>) -> Vec<Record> {
        let mut select = Select::from("Opportunity")
            .fields([
                "Id",
                "Name",
                "StageName",
                "Amount",
                "Probability",
                "CloseDate",
            ])
            .filter(field("IsClosed").eq(false));
        if let Some((start, end)) = range {
            select = select
                .filter(field("CloseDate").ge(start))
                .filter(field("CloseDate").le(end));
        }
        self.rows(select).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_drives_every_catalog_tool_and_the_figures_match_the_org() {
    let running = server::start(settings(&[])).await.unwrap();
    let sandbox = running.sandbox().unwrap();
    let feed = running.event_feed().expect("the demo has an event feed");
    let access = Access::new(
        &running.sandbox_url.clone().unwrap(),
        sandbox.issue_access_token().into(),
    )
    .unwrap();
    let org = Org(Client::builder(StaticAccess::new(access)).build().unwrap());
    let today = sandbox.clock().now().date_naive();

    // A new Lead through the REST API reaches the event feed through the demo's outbound
    // message; runFlow later qualifies it.
    let fields: Map<String, Value> = json!({"FirstName": "Ada", "LastName": "Lindgren",
        "Company": "Catalog Retail AB", "Industry": "Retail", "Rating": "Cold"})
    .as_object()
    .cloned()
    .unwrap();
    let lead = org.0.create_record("Lead", &fields).await.unwrap().id;
    wait_until(
        Duration::from_secs(30),
        "the new lead is in the event feed",
        || async { !feed.recent(10, Some("Lead")).await.unwrap().is_empty() },
    )
    .await;
    let owners = org
        .ids(
            Select::from("User")
                .field("Id")
                .filter(field("IsActive").eq(true))
                .order_by(field("Id").asc())
                .limit(3),
        )
        .await;
    assert_eq!(owners.len(), 3);
    let acme = org
        .ids(
            Select::from("Account")
                .field("Id")
                .filter(field("Name").eq("Acme Corp")),
        )
        .await;
    assert_eq!(acme.len(), 1, "the demo's showcase account");
    let acme = &acme[0];
    // "Our Q1": the next first quarter (fiscal year = calendar year in the demo org).
    let q1_year = if today.month() <= 3 {
        today.year()
    } else {
        today.year() + 1
    };
    let q1 = (
        NaiveDate::from_ymd_opt(q1_year, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(q1_year, 3, 31).unwrap(),
    );

    // Lead figures the writes below would change are counted before the run.
    let healthcare_leads = org
        .count(
            Select::count("Lead")
                .filter(field("Industry").eq("Healthcare"))
                .filter(field("IsConverted").eq(false)),
        )
        .await;
    let new_leads = org
        .owners(
            Select::from("Lead")
                .fields(["Id", "OwnerId"])
                .filter(field("Status").eq("Open - Not Contacted"))
                .filter(field("Industry").is_in(["Healthcare", "Retail"])),
        )
        .await;

    let inputs = json!({"q1": format!("Q1 {q1_year}"), "leadId": lead, "owners": owners});
    let (stdout, _) = run_interop(
        "catalog_client.py",
        &[
            format!("http://{}/mcp", running.local_addr),
            inputs.to_string(),
        ],
        None,
    )
    .await;
    let result = |label: &str| printed(&stdout, label);

    let listed: BTreeSet<String> = serde_json::from_value(result("tools")).unwrap();
    let called: BTreeSet<String> = serde_json::from_value(result("called")).unwrap();
    let others: BTreeSet<String> = listed
        .into_iter()
        .filter(|t| !CORE.contains(&t.as_str()))
        .collect();
    assert_eq!(
        called, others,
        "every listed tool beyond the core is called"
    );
    assert_eq!(called.len(), 18);

    check_events(&result("recentEvents"), &lead);
    check_pipeline(&org, &result("pipelineQ1"), q1, today).await;
    let month_start = today.with_day(1).unwrap();
    let month_end = (month_start + Months::new(1)).pred_opt().unwrap();
    let month = result("pipelineMonth");
    check_pipeline(&org, &month, (month_start, month_end), today).await;
    check_likely_to_close(&org, &month, (month_start, month_end)).await;
    check_acme(&org, &result("acme"), acme, today).await;
    check_scores(&org, &result("scoreLeads"), healthcare_leads).await;
    let routed = check_routing(&org, &result("routeLeads"), &new_leads, &owners).await;
    check_routing_applied(
        &org,
        &routed,
        &result("routeLeadsApplied"),
        &result("routeLeadsAgain"),
        &new_leads,
    )
    .await;
    check_stages(&org, &result("querySoql"), &result("runReport")).await;
    check_schema(&org, &result("listObjects"), &result("describeObject")).await;
    check_search_and_export(&org, &result("searchRecords"), acme, &stdout).await;
    check_record_round_trip(&org, &stdout).await;
    check_bulk_import(&org, &stdout).await;

    assert_eq!(result("runFlow")["success"], true);
    let qualified = org.lead(&lead, QueryOptions::default()).await.unwrap();
    assert_eq!(qualified.get_str("Status"), Some("Working - Contacted"));
    assert_eq!(qualified.get_str("Rating"), Some("Warm"));

    let usage = result("getApiUsage");
    let limits = org.0.limits().await.unwrap();
    assert_eq!(
        usage["dailyApiRequests"]["max"],
        json!(limits["DailyApiRequests"].max),
        "{usage}"
    );
    assert!(
        usage["sfmcp"]["requestsSent"].as_u64().unwrap() > 0,
        "{usage}"
    );
    running.shutdown().await;
}

/// Exactly the lead created before the run, with the demo's follow-up rule.
fn check_events(events: &Value, lead: &str) {
    assert_eq!(events["returned"], 1, "{events}");
    assert_eq!(events["events"][0]["recordId"], lead, "{events}");
    assert_eq!(events["events"][0]["rules"], json!(["lead-follow-up"]));
}

/// Open deals, amounts, both forecasts (the historical one by each stage's win rate among the
/// deals closed in the last 365 days that passed through it), the deals past their close date
/// and the deals whose close date was pushed out, for a period.
async fn check_pipeline(
    org: &Org,
    analysis: &Value,
    (start, end): (NaiveDate, NaiveDate),
    today: NaiveDate,
) {
    assert_eq!(analysis["period"]["start"], start.to_string(), "{analysis}");
    assert_eq!(analysis["period"]["end"], end.to_string());
    assert_eq!(analysis["asOf"], today.to_string());
    let deals = org.open_deals(Some((start, end))).await;
    assert!(
        !deals.is_empty(),
        "the demo org has deals in {start}..{end}"
    );
    let totals = &analysis["totals"];
    assert_eq!(totals["openDeals"], json!(deals.len()), "{totals}");
    let total: f64 = deals.iter().map(|d| number(d, "Amount")).sum();
    assert!(close(&totals["totalAmount"], total), "{totals} vs {total}");
    let weighted: f64 = deals
        .iter()
        .map(|d| number(d, "Amount") * number(d, "Probability") / 100.0)
        .sum();
    let forecast = &analysis["forecast"];
    assert!(
        close(&forecast["weighted"], weighted),
        "{forecast} vs {weighted}"
    );
    // The win rate: won / closed among the deals that closed in the last 365 days.
    let closed = org
        .rows(
            Select::from("Opportunity")
                .fields(["Id", "IsWon"])
                .filter(field("IsClosed").eq(true))
                .filter(field("CloseDate").ge(today - chrono::Duration::days(365)))
                .filter(field("CloseDate").le(today)),
        )
        .await;
    let is_won = |o: &Record| o.get("IsWon") == Some(&json!(true));
    let won = closed.iter().filter(|o| is_won(o)).count();
    let win_rate = won as f64 / closed.len() as f64;
    assert_eq!(forecast["closedWon"], json!(won), "{forecast}");
    assert_eq!(forecast["closedTotal"], json!(closed.len()));
    assert!((forecast["winRate"].as_f64().unwrap() - win_rate).abs() < 0.0001);
    // Per stage: each closed deal counts once for every distinct stage its history shows.
    let closed_ids: Vec<&str> = closed.iter().map(|o| o.id().unwrap()).collect();
    let closed_history = org.history(&closed_ids).await;
    let mut stage_counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for deal in &closed {
        let Some(rows) = closed_history.get(deal.id().unwrap()) else {
            continue;
        };
        let stages: BTreeSet<&str> = rows
            .iter()
            .map(|r| r.get_str("StageName").unwrap())
            .collect();
        for stage in stages {
            let e = stage_counts.entry(stage.to_owned()).or_default();
            e.0 += u64::from(is_won(deal));
            e.1 += 1;
        }
    }
    assert_eq!(
        forecast["closedWithoutHistory"],
        json!(closed.len() - closed_history.len()),
        "{forecast}"
    );
    let listed = forecast["stageWinRates"].as_array().unwrap();
    assert_eq!(listed.len(), stage_counts.len(), "{forecast}");
    for (stage, (won, total)) in &stage_counts {
        let got = entry(&forecast["stageWinRates"], "stage", stage);
        assert_eq!(got["closedWon"], json!(won), "{got}");
        assert_eq!(got["closedTotal"], json!(total), "{got}");
        let want = *won as f64 / *total as f64;
        assert!(
            (got["winRate"].as_f64().unwrap() - want).abs() < 0.0001,
            "{got}"
        );
    }
    // The documented minimum sample: below it a stage's deals get the overall rate.
    assert_eq!(forecast["minStageSamples"], 10);
    let rate_of = |stage: &str| match stage_counts.get(stage) {
        Some((won, total)) if *total >= 10 => (*won as f64 / *total as f64, "stage"),
        _ => (win_rate, "overall"),
    };
    let historical: f64 = deals
        .iter()
        .map(|d| number(d, "Amount") * rate_of(d.get_str("StageName").unwrap()).0)
        .sum();
    assert!(
        close(&forecast["historical"], historical),
        "{forecast} vs {historical}"
    );
    for row in forecast["byStage"].as_array().unwrap() {
        let (rate, basis) = rate_of(row["stage"].as_str().unwrap());
        assert_eq!(row["winRateBasis"], basis, "{row}");
        assert!(
            (row["winRate"].as_f64().unwrap() - rate).abs() < 0.0001,
            "{row}"
        );
    }
    assert!(
        forecast["byStage"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["winRateBasis"] == "stage"),
        "the demo's history is enough for some stage's own rate: {forecast}"
    );
    let slipped: Vec<&Record> = deals
        .iter()
        .filter(|d| day(d, "CloseDate").unwrap() < today)
        .collect();
    let passed = entry(&analysis["riskSummary"], "risk", "closeDatePassed");
    assert_eq!(passed["deals"], json!(slipped.len()), "{passed}");
    let slipped_amount: f64 = slipped.iter().map(|d| number(d, "Amount")).sum();
    assert!(close(&passed["amount"], slipped_amount), "{passed}");

    // Pushed: the current close date is later than one the history recorded; each later move
    // along the recorded dates (then the current one) is a push with its days.
    let ids: Vec<&str> = deals.iter().map(|d| d.id().unwrap()).collect();
    let open_history = org.history(&ids).await;
    let mut pushed: Vec<(i64, f64, String, u64, NaiveDate)> = Vec::new();
    for deal in &deals {
        let current = day(deal, "CloseDate").unwrap();
        let Some(rows) = open_history.get(deal.id().unwrap()) else {
            continue;
        };
        let recorded: Vec<NaiveDate> = rows.iter().filter_map(|r| day(r, "CloseDate")).collect();
        if !recorded.iter().any(|d| *d < current) {
            continue;
        }
        let mut dates = recorded.clone();
        dates.push(current);
        let moves: Vec<i64> = dates
            .windows(2)
            .map(|w| (w[1] - w[0]).num_days())
            .filter(|d| *d > 0)
            .collect();
        pushed.push((
            moves.iter().sum(),
            number(deal, "Amount"),
            deal.id().unwrap().to_owned(),
            moves.len() as u64,
            recorded[0],
        ));
    }
    assert!(
        !pushed.is_empty(),
        "the demo has pushed deals in {start}..{end}"
    );
    let summary = entry(&analysis["riskSummary"], "risk", "closeDatePushed");
    assert_eq!(summary["deals"], json!(pushed.len()), "{summary}");
    let pushed_amount: f64 = pushed.iter().map(|p| p.1).sum();
    assert!(close(&summary["amount"], pushed_amount), "{summary}");
    let report = &analysis["pushedCloseDates"];
    assert_eq!(report["deals"], json!(pushed.len()), "{report}");
    assert!(close(&report["amount"], pushed_amount), "{report}");
    assert_eq!(
        report["pushes"],
        json!(pushed.iter().map(|p| p.3).sum::<u64>())
    );
    assert_eq!(
        report["daysPushed"],
        json!(pushed.iter().map(|p| p.0).sum::<i64>())
    );
    pushed.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
    let largest = report["largest"].as_array().unwrap();
    assert_eq!(largest.len(), pushed.len().min(5), "{report}");
    for (got, (days, _, id, pushes, first)) in largest.iter().zip(&pushed) {
        assert_eq!(got["id"], json!(id), "{report}");
        assert_eq!(got["daysPushed"], json!(days), "{got}");
        assert_eq!(got["pushes"], json!(pushes), "{got}");
        assert_eq!(got["firstCloseDate"], first.to_string(), "{got}");
    }
    // Every listed deal carries the risk exactly when it was pushed, with the same figures.
    let by_id: BTreeMap<&str, &(i64, f64, String, u64, NaiveDate)> =
        pushed.iter().map(|p| (p.2.as_str(), p)).collect();
    for list in ["atRiskDeals", "likelyToClose"] {
        for deal in analysis[list].as_array().unwrap() {
            let risk = deal["risks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["risk"] == "closeDatePushed");
            match (risk, by_id.get(deal["id"].as_str().unwrap())) {
                (None, None) => {}
                (Some(risk), Some((days, _, _, pushes, _))) => {
                    assert_eq!(risk["daysPushed"], json!(days), "{deal}");
                    assert_eq!(risk["pushes"], json!(pushes), "{deal}");
                }
                _ => panic!("closeDatePushed does not match the history: {deal}"),
            }
        }
    }
}

/// "Which deals are most likely to close this month?": open deals of the month, ranked by
/// likelihood = probability × (1 − 0.2 × risk factors).
async fn check_likely_to_close(org: &Org, analysis: &Value, month: (NaiveDate, NaiveDate)) {
    let deals: BTreeMap<String, Record> = org
        .open_deals(Some(month))
        .await
        .into_iter()
        .map(|d| (d.id().unwrap().to_owned(), d))
        .collect();
    let likely = analysis["likelyToClose"].as_array().unwrap();
    assert_eq!(likely.len(), 5.min(deals.len()), "{analysis}");
    let mut previous = f64::INFINITY;
    for entry in likely {
        let deal = &deals[entry["id"].as_str().unwrap()];
        let risks = entry["risks"].as_array().unwrap().len() as f64;
        let want = number(deal, "Probability") / 100.0 * (1.0 - 0.2 * risks).max(0.0);
        let got = entry["likelihood"].as_f64().unwrap();
        assert!(
            (got - (want * 1000.0).round() / 1000.0).abs() < 1e-9,
            "{entry}"
        );
        assert!(got <= previous, "ranked by likelihood: {likely:?}");
        previous = got;
    }
}

/// "Summarize all interactions with Acme Corp in the last 6 months": each kind counted over the
/// window by the documented rules.
async fn check_acme(org: &Org, summary: &Value, acme: &str, today: NaiveDate) {
    assert_eq!(summary["account"]["id"], acme, "{summary}");
    let start = today.checked_sub_months(Months::new(6)).unwrap();
    assert_eq!(summary["window"]["start"], start.to_string());
    assert_eq!(summary["window"]["end"], today.to_string());
    let in_window = |d: Option<NaiveDate>| d.is_some_and(|d| start <= d && d <= today);
    let of_acme = |object: &str, fields: &[&str]| {
        Select::from(object)
            .fields(fields)
            .filter(field("AccountId").eq(acme))
    };
    let opportunities = org
        .rows(of_acme(
            "Opportunity",
            &["Id", "CreatedDate", "CloseDate", "IsClosed"],
        ))
        .await;
    let cases = org.rows(of_acme("Case", &["Id", "CreatedDate"])).await;
    let contacts = org.rows(of_acme("Contact", &["Id", "CreatedDate"])).await;
    let created = |rows: &[Record]| {
        rows.iter()
            .filter(|r| in_window(day(r, "CreatedDate")))
            .count()
    };
    let what: Vec<&str> = std::iter::once(acme)
        .chain(opportunities.iter().chain(&cases).filter_map(Record::id))
        .collect();
    let who: Vec<&str> = contacts.iter().filter_map(Record::id).collect();
    let mut linked = field("WhatId").is_in(what.iter().copied());
    if !who.is_empty() {
        linked = linked.or(field("WhoId").is_in(who.iter().copied()));
    }
    let mut want = BTreeMap::from([
        ("cases", created(&cases)),
        ("opportunitiesOpened", created(&opportunities)),
        ("contactsAdded", created(&contacts)),
        (
            "opportunitiesClosed",
            opportunities
                .iter()
                .filter(|o| {
                    o.get("IsClosed") == Some(&json!(true)) && in_window(day(o, "CloseDate"))
                })
                .count(),
        ),
    ]);
    for (object, kind) in [("Task", "tasks"), ("Event", "events")] {
        let activities = org
            .rows(
                Select::from(object)
                    .fields(["Id", "ActivityDate"])
                    .filter(linked.clone()),
            )
            .await;
        let n = activities
            .iter()
            .filter(|a| in_window(day(a, "ActivityDate")))
            .count();
        want.insert(kind, n);
    }
    let totals = &summary["totals"];
    for (kind, n) in &want {
        assert_eq!(totals[kind], json!(n), "{kind}: {totals}");
    }
    assert_eq!(totals["all"], json!(want.values().sum::<usize>()));
    assert!(want["tasks"] > 0, "Acme Corp has a history: {totals}");
}

/// The healthcare leads scored: how many matched, the ranking, and the fit and rating factors
/// recomputed from each lead's fields by the documented tables.
async fn check_scores(org: &Org, scores: &Value, matching: u64) {
    assert_eq!(scores["matching"], matching, "{scores}");
    assert_eq!(scores["scored"], matching.min(1000));
    let leads = scores["leads"].as_array().unwrap();
    assert_eq!(leads.len() as u64, matching.min(5));
    let mut previous = f64::INFINITY;
    for scored in leads {
        let lead = org
            .lead(scored["id"].as_str().unwrap(), QueryOptions::default())
            .await
            .unwrap();
        assert_eq!(lead.get_str("Industry"), Some("Healthcare"));
        let factors: BTreeMap<&str, f64> = scored["factors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["factor"].as_str().unwrap(), f["points"].as_f64().unwrap()))
            .collect();
        let score = scored["score"].as_f64().unwrap();
        assert!(
            (factors.values().sum::<f64>() - score).abs() < 0.051,
            "{scored}"
        );
        assert!(score <= previous, "ranked by score");
        previous = score;
        let rating = match lead.get_str("Rating") {
            Some("Hot") => 1.0,
            Some("Warm") => 0.6,
            Some("Cold") => 0.2,
            _ => 0.0,
        };
        let employees = number(&lead, "NumberOfEmployees");
        let size = [(1000.0, 1.0), (200.0, 0.75), (50.0, 0.5), (10.0, 0.25)]
            .iter()
            .find(|(at_least, _)| employees >= *at_least)
            .map_or(0.1, |(_, f)| *f);
        let revenue = match lead.get("AnnualRevenue").and_then(Value::as_f64) {
            None => 0.0,
            Some(r) if r >= 50e6 => 1.0,
            Some(r) if r >= 10e6 => 0.75,
            Some(r) if r >= 1e6 => 0.5,
            Some(_) => 0.25,
        };
        let size = if lead.get("NumberOfEmployees").is_none() {
            0.0
        } else {
            size
        };
        for (factor, fraction, weight) in [
            ("industry", 1.0, 10.0),
            ("rating", rating, 15.0),
            ("companySize", size, 10.0),
            ("annualRevenue", revenue, 10.0),
        ] {
            let want = (fraction * weight * 10.0_f64).round() / 10.0;
            assert!((factors[factor] - want).abs() < 1e-9, "{factor}: {scored}");
        }
    }
}

/// A dry run: who each lead would go to by the rules (`before`: the matching leads' owners before
/// the run); the proposed owner of each lead routed.
async fn check_routing(
    org: &Org,
    routing: &Value,
    before: &BTreeMap<String, String>,
    owners: &[String],
) -> BTreeMap<String, String> {
    assert_eq!(routing["applied"], false, "{routing}");
    assert_eq!(routing["matching"], json!(before.len()));
    let assignments = routing["assignments"].as_array().unwrap();
    assert_eq!(assignments.len(), before.len().min(10));
    let (mut changes, mut healthcare) = (0, 0);
    let mut proposed = BTreeMap::new();
    for assignment in assignments {
        let id = assignment["id"].as_str().unwrap();
        let lead = org.lead(id, QueryOptions::default()).await.unwrap();
        let new_owner = assignment["newOwnerId"].as_str().unwrap();
        if lead.get_str("Industry") == Some("Healthcare") {
            assert_eq!(new_owner, owners[0], "{assignment}");
            healthcare += 1;
        } else {
            assert!(owners[1..].iter().any(|o| o == new_owner), "{assignment}");
        }
        let current = &before[id];
        assert_eq!(assignment["currentOwnerId"], json!(current), "{assignment}");
        changes += usize::from(current != new_owner);
        proposed.insert(id.to_owned(), new_owner.to_owned());
    }
    assert_eq!(routing["changed"], json!(changes));
    assert!(changes > 0, "the rules move some leads: {routing}");
    // The lead created for this run is Retail; the newest others include Healthcare ones.
    assert!(
        (1..assignments.len()).contains(&healthcare),
        "both steps apply: {routing}"
    );
    proposed
}

/// The routing applied after the dry run: it found every owner as it was before the run (the
/// dry run changed nothing), set exactly the proposed owners and touched no other lead; applied
/// again, it changes nothing further.
async fn check_routing_applied(
    org: &Org,
    proposed: &BTreeMap<String, String>,
    applied: &Value,
    again: &Value,
    before: &BTreeMap<String, String>,
) {
    let by_lead = |routing: &Value| -> BTreeMap<String, (String, String, String)> {
        routing["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let text = |key: &str| a[key].as_str().unwrap().to_owned();
                (
                    text("id"),
                    (text("currentOwnerId"), text("newOwnerId"), text("outcome")),
                )
            })
            .collect()
    };
    assert_eq!(applied["applied"], true, "{applied}");
    assert_eq!(applied["failed"], 0, "{applied}");
    let first = by_lead(applied);
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        proposed.keys().collect::<Vec<_>>(),
        "the same leads as the dry run"
    );
    let mut changed = 0;
    for (id, (current, new, outcome)) in &first {
        assert_eq!(current, &before[id], "the dry run changed {id}");
        assert_eq!(new, &proposed[id], "{id}");
        let moves = current != new;
        assert_eq!(outcome, if moves { "changed" } else { "unchanged" }, "{id}");
        changed += usize::from(moves);
    }
    assert_eq!(applied["changed"], json!(changed));

    // The org's owners now: the proposed ones for the routed leads, the old ones for the rest.
    let now = org
        .owners(
            Select::from("Lead")
                .fields(["Id", "OwnerId"])
                .filter(field("Id").is_in(before.keys().map(String::as_str))),
        )
        .await;
    let mut want = before.clone();
    want.extend(proposed.clone());
    assert_eq!(now, want, "exactly the proposed owners were set");

    assert_eq!(again["applied"], true, "{again}");
    assert_eq!(again["changed"], 0, "{again}");
    for (id, (current, new, outcome)) in by_lead(again) {
        assert_eq!(current, proposed[&id], "{id}");
        assert_eq!(new, proposed[&id], "{id}");
        assert_eq!(outcome, "unchanged", "{id}");
    }
}

/// The open pipeline by stage, as `querySoql`'s GROUP BY and as the report.
async fn check_stages(org: &Org, grouped: &Value, report: &Value) {
    let mut stages: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for deal in org.open_deals(None).await {
        let entry = stages
            .entry(deal.get_str("StageName").unwrap().to_owned())
            .or_default();
        entry.0 += 1;
        entry.1 += number(&deal, "Amount");
    }
    let records = grouped["records"].as_array().unwrap();
    assert_eq!(records.len(), stages.len(), "{grouped}");
    assert_eq!(grouped["limit"], "added");
    for record in records {
        let (n, total) = stages[record["StageName"].as_str().unwrap()];
        assert_eq!(record["n"], n, "{record}");
        assert!(close(&record["total"], total), "{record}");
    }
    let deals: u64 = stages.values().map(|s| s.0).sum();
    let amount: f64 = stages.values().map(|s| s.1).sum();
    assert!(
        close(&report["totals"][0]["value"], amount),
        "{}",
        report["totals"]
    );
    assert_eq!(report["totals"][1]["value"], deals);
    let groups = report["groups"].as_array().unwrap();
    assert_eq!(groups.len(), stages.len());
    for group in groups {
        let (n, total) = stages[group["label"].as_str().unwrap()];
        assert!(close(&group["aggregates"][0]["value"], total), "{group}");
        assert_eq!(group["aggregates"][1]["value"], n, "{group}");
    }
}

/// `listObjects` and `describeObject` against describeGlobal and the Lead describe.
async fn check_schema(org: &Org, objects: &Value, described: &Value) {
    let global = org.0.describe_global(None).await.unwrap();
    let want: BTreeSet<&str> = global
        .sobjects
        .iter()
        .filter(|o| {
            o.name.to_lowercase().contains("opportunity")
                || o.label.to_lowercase().contains("opportunity")
        })
        .map(|o| o.name.as_str())
        .collect();
    let got: BTreeSet<&str> = objects["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(got, want);
    assert_eq!(objects["totalSize"], json!(want.len()));
    let lead = org.0.describe("Lead", None).await.unwrap();
    let rating = lead.fields.iter().find(|f| f.name == "Rating").unwrap();
    let values: Vec<&str> = rating
        .picklist_values
        .iter()
        .filter(|v| v.active)
        .map(|v| v.value.as_str())
        .collect();
    let field = entry(&described["fields"], "name", "Rating");
    assert_eq!(field["picklistValues"], json!(values), "{described}");
}

/// SOSL finds Acme Corp; the bulk export holds exactly the healthcare accounts.
async fn check_search_and_export(org: &Org, found: &Value, acme: &str, stdout: &str) {
    assert!(
        found["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["object"] == "Account" && r["id"] == acme),
        "{found}"
    );
    let healthcare: BTreeSet<String> = org
        .ids(
            Select::from("Account")
                .field("Id")
                .filter(field("Industry").eq("Healthcare")),
        )
        .await
        .into_iter()
        .collect();
    let export = printed(stdout, "bulkExport");
    assert_eq!(export["totalRows"], json!(healthcare.len()), "{export}");
    assert_eq!(export["truncated"], false);
    let csv = printed(stdout, "bulkExport.csv");
    let csv = csv[0].as_str().expect("the CSV is embedded");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("Id,Name,Industry"));
    let exported: BTreeSet<String> = lines
        .map(|l| l.split(',').next().unwrap().trim_matches('"').to_owned())
        .collect();
    assert_eq!(exported, healthcare);
}

/// The Lead created, read, updated and deleted through the tools is in the org's recycle bin
/// with the updated values.
async fn check_record_round_trip(org: &Org, stdout: &str) {
    let created = printed(stdout, "createRecord");
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("00Q"), "{created}");
    let read = printed(stdout, "getRecord");
    assert_eq!(
        read["record"],
        json!({"LastName": "Okonjo", "Company": "Catalog Clinic", "Industry": "Healthcare", "Rating": "Hot"}),
        "{read}"
    );
    assert_eq!(printed(stdout, "updateRecord")["record"]["Rating"], "Warm");
    assert_eq!(printed(stdout, "deleteRecord")["deleted"], true);
    assert!(org.lead(id, QueryOptions::default()).await.is_none());
    let binned = org
        .lead(
            id,
            QueryOptions {
                include_deleted: true,
                ..QueryOptions::default()
            },
        )
        .await
        .expect("in the recycle bin");
    assert_eq!(binned.get("IsDeleted"), Some(&json!(true)));
    assert_eq!(binned.get_str("LastName"), Some("Okonjo"));
    assert_eq!(binned.get_str("Rating"), Some("Warm"));
    assert_eq!(binned.get_str("Status"), Some("Working - Contacted"));
}

/// Two of three CSV rows imported (one lacks LastName), with progress reported to the client.
async fn check_bulk_import(org: &Org, stdout: &str) {
    let import = printed(stdout, "bulkImport");
    for (key, n) in [
        ("submitted", 3),
        ("successful", 2),
        ("created", 2),
        ("failed", 1),
    ] {
        assert_eq!(import[key], n, "{key}: {import}");
    }
    let error = import["failedRows"][0]["error"].as_str().unwrap();
    assert!(error.contains("REQUIRED_FIELD_MISSING"), "{error}");
    let mut names = Vec::new();
    for id in import["successfulIds"].as_array().unwrap() {
        let lead = org
            .lead(id.as_str().unwrap(), QueryOptions::default())
            .await
            .unwrap();
        assert_eq!(lead.get_str("Company"), Some("Bulk Catalog AB"));
        names.push(lead.get_str("LastName").unwrap().to_owned());
    }
    names.sort();
    assert_eq!(names, ["Lindqvist", "Mensah"]);
    let progress = printed(stdout, "bulkImport.progress");
    let last = progress
        .as_array()
        .unwrap()
        .last()
        .expect("progress notifications over HTTP");
    assert_eq!(last["progress"].as_f64(), Some(3.0), "{progress}");
    assert_eq!(last["total"].as_f64(), Some(3.0), "{progress}");
}
