//! The widgets as served and as seen: each tool's `_meta` names its two widget resources, both
//! read back over MCP with the right MIME types and CSP metadata, and each widget, fed the real
//! tool's `structuredContent` from the sandbox, is rendered in headless Chromium through both
//! host conventions; the visible text must show the names, formatted amounts and counts of
//! that result. Malicious record text must show as text and never run.

use std::path::Path;

use chrono::NaiveDate;
use crm_tools::CrmConfig;
use crm_tools::widgets::{MCP_APP_MIME_TYPE, SKYBRIDGE_MIME_TYPE, WIDGETS, Widget};
use serde_json::{Value, json};

use crate::support::{Bench, now};
use test_support::browser::{self, Feed, Frame, Seen};

/// A bench whose analytics tools share the sandbox's fixed "now".
async fn bench() -> Bench {
    Bench::with_config(CrmConfig {
        now: Some(now()),
        ..CrmConfig::default()
    })
    .await
}

/// `1234567.5` → `1,234,568`: whole units, halves away from zero (as `Intl.NumberFormat`).
fn whole(amount: f64) -> String {
    let digits = (amount.abs().round() as u128).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if amount < 0.0 && amount.round() != 0.0 {
        out.insert(0, '-');
    }
    out
}

/// `12.25` → `12.3`, `40.0` → `40`: at most one decimal (as `Intl.NumberFormat`).
fn decimal(value: f64) -> String {
    let tenths = (value * 10.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        whole(tenths)
    } else {
        format!(
            "{}.{}",
            whole(tenths.trunc()),
            ((tenths.abs().fract() * 10.0).round()) as u8
        )
    }
}

/// `2026-11-25` or `2026-11-25T15:00:00.000+0000` → `Nov 25, 2026`.
fn day(value: &Value) -> String {
    let text = value.as_str().unwrap();
    NaiveDate::parse_from_str(&text[..10], "%Y-%m-%d")
        .unwrap()
        .format("%b %-d, %Y")
        .to_string()
}

/// `seen` shows `needle`.
#[track_caller]
fn has(seen: &Seen, needle: &str) {
    seen.assert_shows(needle);
}

/// The resource `uri` as read over MCP: (mimeType, text, _meta).
async fn read(bench: &Bench, uri: &str) -> (String, String, Value) {
    let read = bench
        .request("resources/read", json!({"uri": uri}))
        .await
        .unwrap_or_else(|e| panic!("resources/read {uri}: {e}"));
    let contents = &read["contents"][0];
    assert_eq!(contents["uri"], json!(uri));
    (
        contents["mimeType"].as_str().unwrap().to_owned(),
        contents["text"].as_str().unwrap().to_owned(),
        contents["_meta"].clone(),
    )
}

/// The widget HTML for `tool`, found the way a host finds it: through the tool's `_meta` in
/// `tools/list`, then `resources/read` of both forms, which must carry the same document.
async fn widget_html(bench: &Bench, tool: &str) -> String {
    let list = bench.request("tools/list", json!({})).await.unwrap();
    let listed = list["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == json!(tool))
        .unwrap_or_else(|| panic!("{tool} is not listed"));
    let meta = &listed["_meta"];
    let skybridge_uri = meta["openai/outputTemplate"].as_str().unwrap();
    let app_uri = meta["ui"]["resourceUri"].as_str().unwrap();
    assert_eq!(meta["ui/resourceUri"].as_str(), Some(app_uri));
    assert!(skybridge_uri.starts_with("ui://widget/") && app_uri.starts_with("ui://"));
    for key in [
        "openai/toolInvocation/invoking",
        "openai/toolInvocation/invoked",
    ] {
        let line = meta[key].as_str().unwrap();
        assert!(
            !line.is_empty() && line.chars().count() <= 64,
            "{tool} {key}"
        );
    }

    let (mime, skybridge_html, skybridge_meta) = read(bench, skybridge_uri).await;
    assert_eq!(mime, SKYBRIDGE_MIME_TYPE);
    assert_eq!(
        skybridge_meta["openai/widgetCSP"],
        json!({"connect_domains": [], "resource_domains": []})
    );
    assert!(skybridge_meta["openai/widgetDescription"].is_string());
    let (mime, app_html, app_meta) = read(bench, app_uri).await;
    assert_eq!(mime, MCP_APP_MIME_TYPE);
    assert_eq!(
        app_meta["ui"]["csp"],
        json!({"connectDomains": [], "resourceDomains": []})
    );
    assert_eq!(skybridge_html, app_html);
    skybridge_html
}

/// Renders `tool`'s widget with the result of calling it with `args`, through ChatGPT's and the
/// MCP Apps feed, and returns the ChatGPT frame after checking both show the same.
async fn render(bench: &Bench, tool: &str, args: Value) -> (Value, Seen) {
    let html = widget_html(bench, tool).await;
    let result = bench.call_raw(tool, args.clone()).await;
    assert_ne!(result["isError"], json!(true), "{tool}: {result}");
    let name = Widget::for_tool(tool).unwrap().name;
    let frames: Vec<Frame> = [Feed::OpenAi, Feed::McpApps]
        .into_iter()
        .map(|feed| Frame {
            label: format!("{name} — {}", feed.label()),
            html: html.clone(),
            feed,
            result: result.clone(),
            arguments: args.clone(),
        })
        .collect();
    let mut seen = browser::render(Path::new(env!("CARGO_TARGET_TMPDIR")), name, &frames).await;
    for frame in &seen {
        assert_eq!(frame.state, "rendered", "{}: {}", frame.label, frame.text);
        assert_eq!(frame.foreign_elements, 0, "{}", frame.label);
    }
    let apps = seen.pop().unwrap();
    let openai = seen.pop().unwrap();
    assert_eq!(
        apps.sent.get(..2),
        Some(
            &[
                "ui/initialize".to_owned(),
                "ui/notifications/initialized".to_owned()
            ][..]
        ),
        "the MCP Apps handshake"
    );
    assert_eq!(openai.text, apps.text, "both feeds show the same");
    (result["structuredContent"].clone(), openai)
}

#[tokio::test]
async fn lead_cards_show_each_lead_with_revenue_and_the_match_count() {
    let bench = bench().await;
    let (data, seen) = render(
        &bench,
        "searchLeads",
        json!({"sortBy": "AnnualRevenue", "limit": 6}),
    )
    .await;
    let leads = data["leads"].as_array().unwrap();
    let total = data["totalSize"].as_u64().unwrap();
    assert_eq!(leads.len(), 6);
    assert!(
        total > 6 && data["nextCursor"].is_string(),
        "a second page exists"
    );
    has(&seen, &format!("{total} leads match"));
    has(&seen, &format!("Showing 1–6 of {total}"));
    has(&seen, "More leads match");
    for lead in leads {
        has(&seen, lead["name"].as_str().unwrap());
        has(&seen, lead["company"].as_str().unwrap());
        has(&seen, lead["status"].as_str().unwrap());
        if let Some(revenue) = lead["annualRevenue"].as_f64() {
            has(&seen, &whole(revenue));
        }
        has(&seen, &day(&lead["createdDate"]));
    }
    let first_revenue = leads[0]["annualRevenue"].as_f64().unwrap();
    assert!(
        first_revenue >= 1_000.0,
        "sorted by revenue: {first_revenue}"
    );
    assert_eq!(
        seen.hrefs,
        leads
            .iter()
            .map(|l| l["url"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_opportunity_card_shows_amount_roles_and_activities() {
    let bench = bench().await;
    // The opportunity with the most contact roles, with one more activity on it.
    let opp_id = {
        let mut counts = std::collections::BTreeMap::new();
        for r in bench.rows("OpportunityContactRole") {
            *counts.entry(r.text("OpportunityId").unwrap()).or_insert(0) += 1;
        }
        counts.into_iter().max_by_key(|(_, n)| *n).unwrap().0
    };
    bench
        .insert(
            "Task",
            json!({"Subject": "Send revised quote", "WhatId": opp_id, "ActivityDate": "2026-11-30"}),
        )
        .await;
    let (data, seen) = render(&bench, "getOpportunity", json!({"id": opp_id})).await;
    has(&seen, data["name"].as_str().unwrap());
    has(&seen, data["account"]["name"].as_str().unwrap());
    has(&seen, data["stage"].as_str().unwrap());
    has(&seen, &whole(data["amount"].as_f64().unwrap()));
    has(
        &seen,
        &format!("{}%", data["probability"].as_f64().unwrap()),
    );
    has(&seen, &day(&data["closeDate"]));
    has(&seen, data["owner"]["name"].as_str().unwrap());
    let roles = data["contactRoles"].as_array().unwrap();
    assert!(!roles.is_empty());
    has(&seen, &format!("Contact roles ({})", roles.len()));
    for role in roles {
        has(&seen, role["name"].as_str().unwrap());
    }
    let activities = data["recentActivities"].as_array().unwrap();
    has(&seen, &format!("Recent activities ({})", activities.len()));
    has(&seen, "Send revised quote");
    has(&seen, "Nov 30, 2026");
}

#[tokio::test]
async fn account_insights_show_pipeline_figures_deals_contacts_and_cases() {
    let bench = bench().await;
    // The account with the most open opportunities.
    let account_id = {
        let mut counts = std::collections::BTreeMap::new();
        for o in bench.rows("Opportunity") {
            let stage = o.text("StageName").unwrap_or_default();
            if let Some(account) = o.text("AccountId")
                && !stage.starts_with("Closed")
            {
                *counts.entry(account).or_insert(0) += 1;
            }
        }
        counts.into_iter().max_by_key(|(_, n)| *n).unwrap().0
    };
    let (data, seen) = render(&bench, "getAccountInsights", json!({"id": account_id})).await;
    let pipeline = &data["pipeline"];
    has(&seen, data["account"]["name"].as_str().unwrap());
    has(
        &seen,
        &format!(
            "Open opportunities\n{}",
            pipeline["openOpportunities"].as_u64().unwrap()
        ),
    );
    has(
        &seen,
        &format!(
            "Total pipeline\n{}",
            whole(pipeline["totalPipeline"].as_f64().unwrap())
        ),
    );
    has(
        &seen,
        &format!(
            "Weighted pipeline\n{}",
            whole(pipeline["weightedPipeline"].as_f64().unwrap())
        ),
    );
    has(
        &seen,
        &format!("Open cases\n{}", data["openCaseCount"].as_u64().unwrap()),
    );
    let deals = data["openOpportunities"].as_array().unwrap();
    assert!(deals.len() >= 2);
    for deal in deals {
        has(&seen, deal["name"].as_str().unwrap());
        if let Some(amount) = deal["amount"].as_f64() {
            has(&seen, &whole(amount));
        }
    }
    for contact in data["keyContacts"].as_array().unwrap() {
        has(&seen, contact["name"].as_str().unwrap());
    }
}

#[tokio::test]
async fn lead_scores_show_rank_score_grade_and_every_factor() {
    let bench = bench().await;
    let (data, seen) = render(
        &bench,
        "scoreLeads",
        json!({"filters": {"rating": ["Hot", "Warm"]}, "limit": 4}),
    )
    .await;
    let leads = data["leads"].as_array().unwrap();
    assert!(leads.len() >= 2, "{data}");
    has(
        &seen,
        &format!(
            "{} leads scored\nof {} matching · best {} shown",
            data["scored"].as_u64().unwrap(),
            data["matching"].as_u64().unwrap(),
            leads.len()
        ),
    );
    has(&seen, &day(&data["asOf"]));
    for lead in leads {
        has(&seen, &format!("#{}", lead["rank"].as_u64().unwrap()));
        has(&seen, lead["name"].as_str().unwrap());
        has(
            &seen,
            &format!(
                "{}\n{}",
                decimal(lead["score"].as_f64().unwrap()),
                lead["grade"].as_str().unwrap()
            ),
        );
        let factors = lead["factors"].as_array().unwrap();
        assert!(!factors.is_empty());
        for factor in factors {
            has(
                &seen,
                &format!(
                    "{} / {}\t{}",
                    decimal(factor["points"].as_f64().unwrap()),
                    decimal(factor["maxPoints"].as_f64().unwrap()),
                    factor["reason"].as_str().unwrap()
                ),
            );
        }
    }
}

#[tokio::test]
async fn the_pipeline_view_shows_totals_forecasts_risks_and_likely_deals() {
    let bench = bench().await;
    let (data, seen) = render(
        &bench,
        "analyzePipeline",
        json!({"period": "this_year", "limit": 5}),
    )
    .await;
    let totals = &data["totals"];
    let forecast = &data["forecast"];
    has(&seen, data["period"]["label"].as_str().unwrap());
    has(
        &seen,
        &format!("Open deals\n{}", totals["openDeals"].as_u64().unwrap()),
    );
    has(
        &seen,
        &format!(
            "Total amount\n{}",
            whole(totals["totalAmount"].as_f64().unwrap())
        ),
    );
    has(
        &seen,
        &format!(
            "Weighted forecast\n{}",
            whole(forecast["weighted"].as_f64().unwrap())
        ),
    );
    has(
        &seen,
        &format!(
            "Historical forecast\n{}",
            whole(forecast["historical"].as_f64().unwrap())
        ),
    );
    has(
        &seen,
        &format!(
            "At risk\n{} · {}",
            totals["atRisk"].as_u64().unwrap(),
            whole(totals["atRiskAmount"].as_f64().unwrap())
        ),
    );
    has(
        &seen,
        &format!(
            "Historical win rate {}%",
            decimal(forecast["winRate"].as_f64().unwrap() * 100.0)
        ),
    );
    let risks = data["riskSummary"].as_array().unwrap();
    assert!(!risks.is_empty(), "{data}");
    for risk in risks {
        has(
            &seen,
            &format!(
                "{}\t{}\t{}",
                risk["label"].as_str().unwrap(),
                risk["deals"].as_u64().unwrap(),
                whole(risk["amount"].as_f64().unwrap())
            ),
        );
    }
    let likely = data["likelyToClose"].as_array().unwrap();
    assert!(!likely.is_empty(), "{data}");
    for deal in likely.iter().chain(data["atRiskDeals"].as_array().unwrap()) {
        has(&seen, deal["name"].as_str().unwrap());
        has(&seen, &day(&deal["closeDate"]));
    }
}

/// Every string of a real result turned hostile: links become `javascript:` URLs, other text
/// gains markup that would run if it were ever parsed as HTML.
fn poison(value: &mut Value, key: &str) {
    const MARKUP: &str =
        "<img src=x onerror=\"window.__sfmcpXss=true\"><script>window.__sfmcpXss=true</script>";
    match value {
        Value::String(s) if key == "url" => *s = "javascript:window.__sfmcpXss=true".into(),
        Value::String(s) => s.push_str(MARKUP),
        Value::Array(items) => items.iter_mut().for_each(|v| poison(v, key)),
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| poison(v, k)),
        _ => {}
    }
}

#[tokio::test]
async fn hostile_record_text_shows_as_text_and_never_runs() {
    let bench = bench().await;
    let opportunity = bench.rows("OpportunityContactRole")[0]
        .text("OpportunityId")
        .unwrap();
    let account = bench
        .row("Opportunity", &opportunity)
        .text("AccountId")
        .unwrap();
    let calls = [
        ("searchLeads", json!({"limit": 3})),
        ("getOpportunity", json!({"id": opportunity})),
        ("getAccountInsights", json!({"id": account})),
        ("scoreLeads", json!({"filters": {}, "limit": 2})),
        (
            "analyzePipeline",
            json!({"period": "this_year", "limit": 3}),
        ),
    ];
    assert_eq!(calls.len(), WIDGETS.len(), "every widget is covered");
    let mut frames = Vec::new();
    for (tool, args) in calls {
        let html = widget_html(&bench, tool).await;
        let mut result = bench.call_raw(tool, args.clone()).await;
        poison(&mut result["structuredContent"], "");
        for feed in [Feed::OpenAi, Feed::McpApps, Feed::Hook] {
            frames.push(Frame {
                label: format!("{tool} — {}", feed.label()),
                html: html.clone(),
                feed,
                result: result.clone(),
                arguments: args.clone(),
            });
        }
    }
    let seen = browser::render(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        "hostile-data",
        &frames,
    )
    .await;
    assert_eq!(seen.len(), frames.len());
    for frame in &seen {
        assert_eq!(frame.state, "rendered", "{}: {}", frame.label, frame.text);
        assert!(!frame.script_ran, "{}: injected code ran", frame.label);
        assert_eq!(
            frame.foreign_elements, 0,
            "{}: markup became elements",
            frame.label
        );
        assert!(
            frame.hrefs.is_empty(),
            "{}: links {:?}",
            frame.label,
            frame.hrefs
        );
        has(frame, "<img src=x onerror=\"window.__sfmcpXss=true\">");
        has(frame, "<script>window.__sfmcpXss=true</script>");
    }
}
