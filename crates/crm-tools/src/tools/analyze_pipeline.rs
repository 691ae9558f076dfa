//! `analyzePipeline`: the open opportunities closing in a period (optionally one owner's), with
//! risk factors per deal (pushed close dates and time in stage from the stage history), a
//! forecast weighted by stage probability and one by each stage's historical win rate, and the
//! deals most likely to close with reasons. The rules are in `analytics::pipeline`; this module
//! reads the facts and assembles the answer.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::Record;
use salesforce_api::soql::{Field, Select};
use serde::Deserialize;
use serde_json::{Value, json};

use super::activity_dates::activity_by;
use super::search_leads::owner_filter;
use super::stage_history::history_of;
use super::{Shared, count, org_property, query, read_only, text_property};
use crate::analytics::periods::{self, PERIOD_PATTERN, Period};
use crate::analytics::pipeline::{
    Deal, MIN_STAGE_SAMPLES, RISKS, Thresholds, WinRate, forecast, likelihood, percentile, pushes,
    rate_for, risks, stage_since, stage_win_rates,
};
use crate::output::{cents, day as date, money, nullable, number, respond, show, text};
use crate::{CrmConfig, Error};

/// Open opportunities analysed per call.
pub(crate) const MAX_DEALS: u64 = 2_000;
/// Closed opportunities read for the win rate.
const MAX_CLOSED: u64 = 2_000;
/// How far back activity dates are read (the latest one is reported).
const ACTIVITY_LOOKBACK_DAYS: i64 = 365;
/// Default length of the deal lists.
const DEFAULT_LIMIT: usize = 10;
/// The percentile of the period's amounts above which a deal is "large" by default.
const LARGE_PERCENTILE: f64 = 75.0;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    close_from: Option<NaiveDate>,
    #[serde(default)]
    close_to: Option<NaiveDate>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    stale_days: Option<u32>,
    #[serde(default)]
    inactive_days: Option<u32>,
    #[serde(default)]
    low_probability: Option<f64>,
    #[serde(default)]
    large_amount: Option<f64>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    org: Option<String>,
}

/// The `structuredContent` shape (widgets render it).
pub(crate) fn output_schema() -> Value {
    let risk = json!({
        "type": "object",
        "properties": {
            "risk": {"type": "string", "enum": RISKS.map(|(k, _)| k)},
            "detail": {"type": "string"},
            "pushes": {"type": "integer", "description": "closeDatePushed only: how many times the close date moved later."},
            "daysPushed": {"type": "integer", "description": "closeDatePushed only: the days of those moves added up."},
            "firstCloseDate": {"type": "string", "format": "date", "description": "closeDatePushed only: the close date the stage history starts with."}
        },
        "required": ["risk", "detail"]
    });
    let stage_rate = json!({
        "type": "object",
        "properties": {
            "stage": {"type": "string"},
            "closedWon": {"type": "integer", "description": "Won deals closed in the lookback whose history passed through the stage."},
            "closedTotal": {"type": "integer", "description": "Won and lost deals closed in the lookback whose history passed through the stage."},
            "winRate": {"type": "number", "minimum": 0, "maximum": 1, "description": "closedWon / closedTotal (0 when none)."}
        },
        "required": ["stage", "closedWon", "closedTotal", "winRate"]
    });
    let deal = json!({
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": nullable("string"),
            "url": {"type": "string"},
            "account": nullable("string"),
            "owner": nullable("string"),
            "stage": nullable("string"),
            "amount": nullable("number"),
            "probability": nullable("number"),
            "closeDate": nullable("string"),
            "lastModifiedDate": nullable("string"),
            "lastActivityDate": nullable("string"),
            "risks": {"type": "array", "items": risk},
            "likelihood": {"type": "number", "minimum": 0, "maximum": 1, "description": "Stage probability less a fifth of it per risk factor."},
            "reasons": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["id", "name", "url", "stage", "amount", "probability", "closeDate", "risks", "likelihood", "reasons"]
    });
    json!({
        "type": "object",
        "properties": {
            "period": {
                "type": "object",
                "properties": {"label": {"type": "string"}, "start": {"type": "string", "format": "date"}, "end": {"type": "string", "format": "date"}},
                "required": ["label", "start", "end"]
            },
            "owner": nullable("string"),
            "asOf": {"type": "string", "format": "date"},
            "thresholds": {
                "type": "object",
                "properties": {
                    "staleDays": {"type": "integer"},
                    "inactiveDays": {"type": "integer"},
                    "lowProbability": {"type": "number"},
                    "largeAmount": {"type": "number"},
                    "largeAmountBasis": {"type": "string"}
                },
                "required": ["staleDays", "inactiveDays", "lowProbability", "largeAmount", "largeAmountBasis"]
            },
            "totals": {
                "type": "object",
                "properties": {
                    "openDeals": {"type": "integer"},
                    "analyzed": {"type": "integer"},
                    "totalAmount": {"type": "number"},
                    "withoutAmount": {"type": "integer"},
                    "atRisk": {"type": "integer", "description": "Deals with at least one risk factor."},
                    "atRiskAmount": {"type": "number"}
                },
                "required": ["openDeals", "analyzed", "totalAmount", "withoutAmount", "atRisk", "atRiskAmount"]
            },
            "forecast": {
                "type": "object",
                "properties": {
                    "weighted": {"type": "number", "description": "Σ amount × stage probability / 100."},
                    "historical": {"type": "number", "description": "Σ amount × the historical win rate of the deal's current stage (the overall win rate for a stage with fewer than minStageSamples closed deals)."},
                    "winRate": {"type": "number", "minimum": 0, "maximum": 1, "description": "Overall: won / closed in the lookback."},
                    "winRateBasis": {"type": "string"},
                    "closedWon": {"type": "integer"},
                    "closedTotal": {"type": "integer"},
                    "closedWithoutHistory": {"type": "integer", "description": "Closed deals with no stage history: counted in the overall rate only."},
                    "minStageSamples": {"type": "integer"},
                    "stageWinRates": {"type": "array", "items": stage_rate, "description": "Every stage the closed deals' histories passed through, by name."},
                    "byStage": {"type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "stage": {"type": "string"},
                            "deals": {"type": "integer"},
                            "amount": {"type": "number"},
                            "weighted": {"type": "number"},
                            "historical": {"type": "number"},
                            "winRate": {"type": "number", "description": "The rate applied to the stage's deals."},
                            "winRateBasis": {"type": "string", "enum": ["stage", "overall"], "description": "stage: its own rate; overall: fewer than minStageSamples closed deals passed through it."},
                            "stageClosedWon": {"type": "integer"},
                            "stageClosedTotal": {"type": "integer"}
                        },
                        "required": ["stage", "deals", "amount", "weighted", "historical", "winRate", "winRateBasis", "stageClosedWon", "stageClosedTotal"]
                    }}
                },
                "required": ["weighted", "historical", "winRate", "winRateBasis", "closedWon", "closedTotal", "closedWithoutHistory", "minStageSamples", "stageWinRates", "byStage"]
            },
            "pushedCloseDates": {
                "type": "object",
                "properties": {
                    "deals": {"type": "integer"},
                    "amount": {"type": "number"},
                    "pushes": {"type": "integer"},
                    "daysPushed": {"type": "integer"},
                    "largest": {"type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "name": nullable("string"),
                            "amount": nullable("number"),
                            "closeDate": {"type": "string", "format": "date"},
                            "firstCloseDate": {"type": "string", "format": "date"},
                            "pushes": {"type": "integer"},
                            "daysPushed": {"type": "integer"}
                        },
                        "required": ["id", "name", "amount", "closeDate", "firstCloseDate", "pushes", "daysPushed"]
                    }, "description": "Most days pushed first, then largest amount, then id."}
                },
                "required": ["deals", "amount", "pushes", "daysPushed", "largest"],
                "description": "The analysed deals whose close date is later than one their stage history recorded earlier."
            },
            "riskSummary": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "risk": {"type": "string", "enum": RISKS.map(|(k, _)| k)},
                    "label": {"type": "string"},
                    "deals": {"type": "integer"},
                    "amount": {"type": "number"}
                },
                "required": ["risk", "label", "deals", "amount"]
            }, "description": "Each risk factor: how many deals have it and their amount, most deals first."},
            "atRiskDeals": {"type": "array", "items": deal, "description": "Most risk factors first, then largest amount."},
            "likelyToClose": {"type": "array", "items": deal, "description": "Highest likelihood first, then largest amount."},
            "notes": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["period", "owner", "asOf", "thresholds", "totals", "forecast", "pushedCloseDates", "riskSummary", "atRiskDeals", "likelyToClose", "notes"]
    })
}

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    let p = &config.pipeline;
    Tool::new("analyzePipeline")
        .title("Analyze pipeline")
        .description(format!(
            "Analyzes the open opportunities whose close date falls in a period (optionally one owner's): risk factors per deal, a forecast, and the deals most likely to close, all computed in code from the org's records (quote the figures). \
Risks: closeDatePassed (close date before today, still open), closeDatePushed (close date later than one the stage history recorded earlier; with the number of pushes and days pushed), staleStage (stage unchanged in staleDays, default {}, from the stage history; the last modification without history), noRecentActivity (no task/event dated in inactiveDays, default {}), largeLowProbability (amount ≥ largeAmount, default the period's {LARGE_PERCENTILE}th-percentile amount, at probability ≤ lowProbability, default {}%). \
Forecast: weighted = Σ amount × stage probability; historical = Σ amount × the win rate of the deal's stage: won / (won + lost) among opportunities closed in the last {} days whose history passed through that stage (the overall win rate when fewer than {MIN_STAGE_SAMPLES} did). \
likelyToClose ranks deals by stage probability reduced by a fifth per risk factor, with reasons. \
Period: `period` (this_month, next_month, this_quarter, next_quarter, last_quarter, this_year, a fiscal quarter like \"Q1 2027\", or \"FY2027\") or `closeFrom`/`closeTo` dates. \
Examples: \"key risks for our Q1 pipeline\" → {{\"period\":\"Q1 2027\"}}; \"deals most likely to close this month\" → {{\"period\":\"this_month\"}}.",
            p.stale_days, p.inactive_days, p.low_probability, p.win_rate_lookback_days
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "period": {"type": "string", "pattern": PERIOD_PATTERN, "description": "Close-date period: this_month, next_month, last_month, this_quarter, next_quarter, last_quarter, this_year, next_year, last_year, \"Q1 2027\" (fiscal quarter) or \"FY2027\"."},
                "closeFrom": {"type": "string", "format": "date", "description": "Close date on or after (YYYY-MM-DD); with closeTo instead of period."},
                "closeTo": {"type": "string", "format": "date", "description": "Close date on or before (YYYY-MM-DD)."},
                "owner": text_property("Only this owner's deals: a User id (005…) or text the owner's name contains."),
                "staleDays": {"type": "integer", "minimum": 1, "maximum": 365, "description": format!("Not modified in this many days = stale (default {}).", p.stale_days)},
                "inactiveDays": {"type": "integer", "minimum": 1, "maximum": 365, "description": format!("No task/event in this many days = no recent activity (default {}).", p.inactive_days)},
                "lowProbability": {"type": "number", "minimum": 0, "maximum": 100, "description": format!("Probability at or below this is low (default {}).", p.low_probability)},
                "largeAmount": {"type": "number", "minimum": 0, "description": format!("Amount at or above this is large (default: the {LARGE_PERCENTILE}th percentile of the period's amounts).")},
                "limit": {"type": "integer", "minimum": 1, "maximum": cap, "description": format!("Deals per list (default {DEFAULT_LIMIT}).")},
                "org": org_property()
            },
            "oneOf": [{"required": ["period"]}, {"required": ["closeFrom", "closeTo"]}],
            "additionalProperties": false
        }))
        .output_schema(output_schema())
        .annotations(read_only())
}

const FIELDS: [&str; 12] = [
    "Id",
    "Name",
    "StageName",
    "Amount",
    "Probability",
    "CloseDate",
    "LastModifiedDate",
    "CreatedDate",
    "AccountId",
    "Account.Name",
    "OwnerId",
    "Owner.Name",
];

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let config = &shared.config;
    let settings = &config.pipeline;
    let today = config.now().date_naive();
    let period: Period = match (&args.period, args.close_from, args.close_to) {
        (Some(name), None, None) => {
            periods::resolve(name, today, settings.fiscal_year_start_month)?
        }
        (None, Some(from), Some(to)) => periods::explicit(from, to)?,
        _ => {
            return Err(Error::invalid(
                "pass either `period` (e.g. \"this_quarter\" or \"Q1 2027\") or both `closeFrom` and `closeTo`",
            ));
        }
    };
    let limit = args
        .limit
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, config.row_cap());
    let in_period = |s: Select| -> Result<Select, Error> {
        let mut s = s
            .filter(Field::new("IsClosed")?.eq(false))
            .filter(Field::new("CloseDate")?.ge(period.start))
            .filter(Field::new("CloseDate")?.le(period.end));
        if let Some(owner) = &args.owner {
            s = s.filter(owner_filter(owner)?);
        }
        Ok(s)
    };
    let open = in_period(Select::from("Opportunity").fields(FIELDS))?
        .order_by(Field::new("CloseDate")?.asc())
        .order_by(Field::new("Id")?.asc())
        .limit(MAX_DEALS);
    let open_count = in_period(Select::count("Opportunity"))?;
    let lookback_from = today - Duration::days(i64::from(settings.win_rate_lookback_days));
    let closed = Select::from("Opportunity")
        .fields(["Id", "IsWon"])
        .filter(Field::new("IsClosed")?.eq(true))
        .filter(Field::new("CloseDate")?.ge(lookback_from))
        .filter(Field::new("CloseDate")?.le(today))
        .order_by(Field::new("CloseDate")?.desc())
        .order_by(Field::new("Id")?.asc())
        .limit(MAX_CLOSED);
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let (records, open_count, closed) = futures::try_join!(
        query(&connection, open),
        count(&connection, open_count),
        query(&connection, closed),
    )?;
    let ids: Vec<String> = records
        .iter()
        .filter_map(|r| r.id().map(str::to_owned))
        .collect();
    let closed_ids: Vec<String> = closed
        .iter()
        .filter_map(|r| r.id().map(str::to_owned))
        .collect();
    let (activity, history, closed_history) = futures::try_join!(
        activity_by(
            &connection,
            "WhatId",
            &ids,
            today - Duration::days(ACTIVITY_LOOKBACK_DAYS),
            today,
        ),
        history_of(&connection, &ids),
        history_of(&connection, &closed_ids),
    )?;
    let no_history = Vec::new();
    let history_for = |id: &str| history.by_deal.get(id).unwrap_or(&no_history);

    let deals: Vec<Deal> = records
        .iter()
        .map(|r| {
            let id = r.id().unwrap_or_default().to_owned();
            let stage = r.get_str("StageName").unwrap_or_default().to_owned();
            let close_date = date(r, "CloseDate");
            let past = history_for(&id);
            Deal {
                last_activity: activity.get(&id).and_then(|a| a.latest),
                stage_since: stage_since(past, &stage),
                pushes: pushes(past, close_date),
                id,
                stage,
                amount: r.get("Amount").and_then(Value::as_f64),
                probability: r.get("Probability").and_then(Value::as_f64).unwrap_or(0.0),
                close_date,
                last_modified: date(r, "LastModifiedDate"),
            }
        })
        .collect();
    let amounts: Vec<f64> = deals.iter().filter_map(|d| d.amount).collect();
    let (large_amount, large_basis) = match args.large_amount {
        Some(a) => (a, "given".to_owned()),
        None => (
            percentile(&amounts, LARGE_PERCENTILE),
            format!("{LARGE_PERCENTILE}th percentile of the period's amounts"),
        ),
    };
    let thresholds = Thresholds {
        stale_days: args.stale_days.unwrap_or(settings.stale_days),
        inactive_days: args.inactive_days.unwrap_or(settings.inactive_days),
        low_probability: args.low_probability.unwrap_or(settings.low_probability),
        large_amount,
    };
    let win = WinRate {
        won: closed
            .iter()
            .filter(|r| r.get("IsWon").and_then(Value::as_bool) == Some(true))
            .count() as u64,
        closed: closed.len() as u64,
    };
    let win_rate = win.rate();
    let is_won = |r: &Record| r.get("IsWon").and_then(Value::as_bool) == Some(true);
    let stage_rates = stage_win_rates(closed.iter().filter_map(|r| {
        let past = closed_history.by_deal.get(r.id()?)?;
        Some((is_won(r), past.as_slice()))
    }));
    let closed_without_history = closed
        .iter()
        .filter(|r| {
            r.id()
                .is_none_or(|id| !closed_history.by_deal.contains_key(id))
        })
        .count();
    let (weighted, historical) = forecast(&deals, |d| rate_for(&d.stage, &stage_rates, win).rate);

    let analysed: Vec<(&Record, &Deal, Vec<_>)> = records
        .iter()
        .zip(&deals)
        .map(|(r, d)| (r, d, risks(d, &thresholds, today)))
        .collect();
    let deal_json = |r: &Record, d: &Deal, found: &[crate::analytics::pipeline::Risk]| {
        let (l, reasons) = likelihood(d, found, period.end, today);
        json!({
            "id": d.id,
            "name": text(r, "Name"),
            "url": connection.record_url("Opportunity", &d.id),
            "account": text(r, "Account.Name"),
            "owner": text(r, "Owner.Name"),
            "stage": text(r, "StageName"),
            "amount": number(r, "Amount"),
            "probability": number(r, "Probability"),
            "closeDate": text(r, "CloseDate"),
            "lastModifiedDate": d.last_modified.map(|d| d.to_string()),
            "lastActivityDate": d.last_activity.map(|d| d.to_string()),
            "risks": found,
            "likelihood": l,
            "reasons": reasons,
        })
    };
    let amount_of = |d: &Deal| d.amount.unwrap_or(0.0);
    let mut at_risk: Vec<&(&Record, &Deal, Vec<_>)> =
        analysed.iter().filter(|(_, _, r)| !r.is_empty()).collect();
    let at_risk_amount: f64 = at_risk.iter().map(|(_, d, _)| amount_of(d)).sum();
    let at_risk_count = at_risk.len();
    at_risk.sort_by(|a, b| {
        b.2.len()
            .cmp(&a.2.len())
            .then_with(|| amount_of(b.1).total_cmp(&amount_of(a.1)))
            .then_with(|| a.1.id.cmp(&b.1.id))
    });
    let mut likely: Vec<(f64, &(&Record, &Deal, Vec<_>))> = analysed
        .iter()
        .map(|entry| (likelihood(entry.1, &entry.2, period.end, today).0, entry))
        .collect();
    likely.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| amount_of(b.1.1).total_cmp(&amount_of(a.1.1)))
            .then_with(|| a.1.1.id.cmp(&b.1.1.id))
    });
    let risk_summary: Vec<Value> = {
        let mut rows: Vec<(usize, f64, &str, &str)> = RISKS
            .iter()
            .map(|(key, label)| {
                let with: Vec<&Deal> = analysed
                    .iter()
                    .filter(|(_, _, r)| r.iter().any(|r| r.risk == *key))
                    .map(|(_, d, _)| *d)
                    .collect();
                (
                    with.len(),
                    with.iter().map(|d| amount_of(d)).sum(),
                    *key,
                    *label,
                )
            })
            .collect();
        rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.total_cmp(&a.1)));
        rows.into_iter()
            .map(|(n, amount, key, label)| {
                json!({"risk": key, "label": label, "deals": n, "amount": cents(amount)})
            })
            .collect()
    };
    let mut by_stage: BTreeMap<&str, (u64, f64, f64)> = BTreeMap::new();
    for d in &deals {
        let e = by_stage.entry(d.stage.as_str()).or_default();
        e.0 += 1;
        e.1 += amount_of(d);
        e.2 += amount_of(d) * d.probability / 100.0;
    }
    let mut by_stage: Vec<(&str, (u64, f64, f64))> = by_stage.into_iter().collect();
    by_stage.sort_by(|a, b| b.1.1.total_cmp(&a.1.1).then_with(|| a.0.cmp(b.0)));
    let mut notes = Vec::new();
    let by_stage: Vec<Value> = by_stage
        .into_iter()
        .map(|(stage, (n, amount, w))| {
            let rate = rate_for(stage, &stage_rates, win);
            if !rate.from_stage {
                notes.push(format!(
                    "Stage {stage}: {} closed deal(s) in the lookback passed through it, fewer than {MIN_STAGE_SAMPLES}: its deals are weighted by the overall win rate.",
                    rate.sample.closed
                ));
            }
            json!({
                "stage": stage,
                "deals": n,
                "amount": cents(amount),
                "weighted": cents(w),
                "historical": cents(amount * rate.rate),
                "winRate": ratio(rate.rate),
                "winRateBasis": if rate.from_stage { "stage" } else { "overall" },
                "stageClosedWon": rate.sample.won,
                "stageClosedTotal": rate.sample.closed,
            })
        })
        .collect();
    let stage_win_rates: Vec<Value> = stage_rates
        .iter()
        .map(|(stage, w)| {
            json!({"stage": stage, "closedWon": w.won, "closedTotal": w.closed, "winRate": ratio(w.rate())})
        })
        .collect();
    let mut pushed: Vec<(&Record, &Deal)> = records
        .iter()
        .zip(&deals)
        .filter(|(_, d)| d.pushes.is_some())
        .collect();
    pushed.sort_by(|a, b| {
        let days = |d: &Deal| d.pushes.map_or(0, |p| p.days);
        days(b.1)
            .cmp(&days(a.1))
            .then_with(|| amount_of(b.1).total_cmp(&amount_of(a.1)))
            .then_with(|| a.1.id.cmp(&b.1.id))
    });
    let pushed_close_dates = json!({
        "deals": pushed.len(),
        "amount": cents(pushed.iter().map(|(_, d)| amount_of(d)).sum()),
        "pushes": pushed.iter().filter_map(|(_, d)| d.pushes).map(|p| u64::from(p.pushes)).sum::<u64>(),
        "daysPushed": pushed.iter().filter_map(|(_, d)| d.pushes).map(|p| p.days).sum::<i64>(),
        "largest": pushed.iter().take(limit).filter_map(|(r, d)| {
            let p = d.pushes?;
            Some(json!({
                "id": d.id,
                "name": text(r, "Name"),
                "amount": number(r, "Amount"),
                "closeDate": d.close_date.map(|c| c.to_string()),
                "firstCloseDate": p.first.to_string(),
                "pushes": p.pushes,
                "daysPushed": p.days,
            }))
        }).collect::<Vec<_>>(),
    });
    notes.push(format!(
        "Stage history (OpportunityHistory) gives pushed close dates, the day each deal entered its stage (staleStage; LastModifiedDate for a deal without history) and the stages closed deals passed through; {closed_without_history} closed deal(s) without history count in the overall win rate only."
    ));
    if history.truncated || closed_history.truncated {
        notes.push("Some deals have more stage history than is read per call: their pushes and stages may be incomplete.".to_owned());
    }
    if open_count > records.len() as u64 {
        notes.push(format!(
            "Only the first {} of {open_count} open deals (soonest close first) were analysed: narrow the period or pass an owner.",
            records.len()
        ));
    }
    if win.closed == 0 {
        notes.push(format!(
            "No opportunity closed in the last {} days: the historical forecast is 0.",
            settings.win_rate_lookback_days
        ));
    }
    let total_amount: f64 = deals.iter().map(amount_of).sum();
    let structured = json!({
        "period": {"label": period.label, "start": period.start.to_string(), "end": period.end.to_string()},
        "owner": args.owner,
        "asOf": today.to_string(),
        "thresholds": {
            "staleDays": thresholds.stale_days,
            "inactiveDays": thresholds.inactive_days,
            "lowProbability": thresholds.low_probability,
            "largeAmount": cents(thresholds.large_amount),
            "largeAmountBasis": large_basis,
        },
        "totals": {
            "openDeals": open_count,
            "analyzed": deals.len(),
            "totalAmount": cents(total_amount),
            "withoutAmount": deals.iter().filter(|d| d.amount.is_none()).count(),
            "atRisk": at_risk_count,
            "atRiskAmount": cents(at_risk_amount),
        },
        "forecast": {
            "weighted": cents(weighted),
            "historical": cents(historical),
            "winRate": ratio(win_rate),
            "winRateBasis": format!(
                "{} won of {} opportunities closed {} to {}",
                win.won, win.closed, lookback_from, today
            ),
            "closedWon": win.won,
            "closedTotal": win.closed,
            "closedWithoutHistory": closed_without_history,
            "minStageSamples": MIN_STAGE_SAMPLES,
            "stageWinRates": stage_win_rates,
            "byStage": by_stage,
        },
        "pushedCloseDates": pushed_close_dates,
        "riskSummary": risk_summary,
        "atRiskDeals": at_risk.iter().take(limit).map(|(r, d, found)| deal_json(r, d, found)).collect::<Vec<_>>(),
        "likelyToClose": likely.iter().take(limit).map(|(_, (r, d, found))| deal_json(r, d, found)).collect::<Vec<_>>(),
        "notes": notes,
    });
    Ok(respond(summarize(&structured), structured))
}

/// A rate rounded to four decimals, as the output reports rates.
fn ratio(rate: f64) -> f64 {
    (rate * 10_000.0).round() / 10_000.0
}

fn summarize(s: &Value) -> String {
    let t = &s["totals"];
    let f = &s["forecast"];
    let amount = |v: &Value| money(v.as_f64().unwrap_or(0.0));
    let mut out = format!(
        "Pipeline {} ({} to {}){}: {} open deals, total {}; weighted forecast {}, historical forecast {} (by stage win rate; overall {:.1}%). {} deals ({}) have at least one risk; {} had their close date pushed out ({} days in all).\n",
        show(&s["period"]["label"]),
        show(&s["period"]["start"]),
        show(&s["period"]["end"]),
        s["owner"]
            .as_str()
            .map_or_else(String::new, |o| format!(" for owner {o}")),
        show(&t["openDeals"]),
        amount(&t["totalAmount"]),
        amount(&f["weighted"]),
        amount(&f["historical"]),
        f["winRate"].as_f64().unwrap_or(0.0) * 100.0,
        show(&t["atRisk"]),
        amount(&t["atRiskAmount"]),
        show(&s["pushedCloseDates"]["deals"]),
        show(&s["pushedCloseDates"]["daysPushed"]),
    );
    out.push_str("Risk factors:\n");
    for r in s["riskSummary"].as_array().map_or(&[][..], Vec::as_slice) {
        out.push_str(&format!(
            "- {}: {} deals, {}\n",
            show(&r["label"]),
            show(&r["deals"]),
            amount(&r["amount"])
        ));
    }
    out.push_str("Most likely to close:\n");
    for d in s["likelyToClose"].as_array().map_or(&[][..], Vec::as_slice) {
        out.push_str(&format!(
            "- {} ({}): {}, {} at {}%, closes {}, likelihood {:.0}% {}\n",
            show(&d["name"]),
            show(&d["account"]),
            show(&d["stage"]),
            d["amount"]
                .as_f64()
                .map_or_else(|| "no amount".into(), money),
            show(&d["probability"]),
            show(&d["closeDate"]),
            d["likelihood"].as_f64().unwrap_or(0.0) * 100.0,
            show(&d["id"]),
        ));
    }
    out
}
