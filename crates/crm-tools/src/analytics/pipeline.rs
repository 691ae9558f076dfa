//! Pipeline analysis over plain data: risk factors per open deal (pushed close dates and the
//! time in the current stage read from the stage history), the two forecasts (stage
//! probability, and the historical win rate of each stage) and the likelihood ranking of deals
//! closing in a period. Every rule is a fixed threshold documented in `docs/tools.md`; ties are
//! broken by amount and then id, so the same data always gives the same lists.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;

/// Default thresholds of `analyzePipeline` (a call may override each).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    /// A deal whose stage (or, without stage history, the record) has not changed in this many
    /// days is stale.
    pub stale_days: u32,
    /// A deal with no task or event dated in this many days lacks activity.
    pub inactive_days: u32,
    /// "Low probability": at or below this percentage.
    pub low_probability: f64,
    /// Closed opportunities whose close date falls in this many days before today make the
    /// historical win rate.
    pub win_rate_lookback_days: u32,
    /// The first month (1–12) of the fiscal year.
    pub fiscal_year_start_month: u32,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            stale_days: 30,
            inactive_days: 21,
            low_probability: 20.0,
            win_rate_lookback_days: 365,
            fiscal_year_start_month: 1,
        }
    }
}

/// The fewest closed deals (in the lookback) that must have passed through a stage for that
/// stage's own win rate to weight the historical forecast; below it the overall rate is used.
pub(crate) const MIN_STAGE_SAMPLES: u64 = 10;

/// One OpportunityHistory row as the analysis reads it (rows of a deal are oldest first).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistoryRow {
    pub(crate) stage: String,
    pub(crate) close_date: Option<NaiveDate>,
    /// The UTC day the row was written.
    pub(crate) at: Option<NaiveDate>,
}

/// How far an open deal's close date was pushed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pushes {
    /// How many times the close date moved later.
    pub(crate) pushes: u32,
    /// The days of those moves added up.
    pub(crate) days: i64,
    /// The close date the history starts with.
    pub(crate) first: NaiveDate,
}

/// The pushes of a deal whose close date is now `current`, when it is later than a close date
/// its history recorded earlier: each step of the recorded close dates (then `current`) that
/// moved later counts once, with its days. `None` when the deal was never pushed past an
/// earlier date (no history, or only pulled in).
pub(crate) fn pushes(history: &[HistoryRow], current: Option<NaiveDate>) -> Option<Pushes> {
    let current = current?;
    let recorded: Vec<NaiveDate> = history.iter().filter_map(|h| h.close_date).collect();
    let first = *recorded.first()?;
    if recorded.iter().all(|d| current <= *d) {
        return None;
    }
    let dates: Vec<NaiveDate> = recorded.into_iter().chain([current]).collect();
    let (pushes, days) = dates
        .windows(2)
        .filter_map(|w| match w {
            [from, to] if to > from => Some((*to - *from).num_days()),
            _ => None,
        })
        .fold((0, 0), |(n, total), days| (n + 1, total + days));
    Some(Pushes {
        pushes,
        days,
        first,
    })
}

/// The day a deal entered `stage` for the last time: the first row of the trailing run of
/// history rows in that stage. `None` without history, or when the latest row is another stage.
pub(crate) fn stage_since(history: &[HistoryRow], stage: &str) -> Option<NaiveDate> {
    let run = history.iter().rev().take_while(|h| h.stage == stage);
    run.last().and_then(|h| h.at)
}

/// Won and closed counts per stage: each closed deal counts once for every distinct stage its
/// history passed through.
pub(crate) fn stage_win_rates<'a>(
    closed: impl IntoIterator<Item = (bool, &'a [HistoryRow])>,
) -> BTreeMap<String, WinRate> {
    let mut out: BTreeMap<String, WinRate> = BTreeMap::new();
    for (won, history) in closed {
        let stages: BTreeSet<&str> = history.iter().map(|h| h.stage.as_str()).collect();
        for stage in stages {
            let e = out.entry(stage.to_owned()).or_default();
            e.closed += 1;
            e.won += u64::from(won);
        }
    }
    out
}

/// The win rate that weights a deal in `stage`, and whether it is the stage's own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StageRate {
    pub(crate) rate: f64,
    /// The stage's own sample (zero counts when no closed deal passed through it).
    pub(crate) sample: WinRate,
    /// True when the sample has at least [`MIN_STAGE_SAMPLES`] deals and its rate is used.
    pub(crate) from_stage: bool,
}

/// The stage's own win rate when its sample is large enough, else the overall one.
pub(crate) fn rate_for(
    stage: &str,
    by_stage: &BTreeMap<String, WinRate>,
    overall: WinRate,
) -> StageRate {
    let sample = by_stage.get(stage).copied().unwrap_or_default();
    let from_stage = sample.closed >= MIN_STAGE_SAMPLES;
    StageRate {
        rate: if from_stage {
            sample.rate()
        } else {
            overall.rate()
        },
        sample,
        from_stage,
    }
}

/// What the analysis reads about one open deal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Deal {
    pub(crate) id: String,
    pub(crate) stage: String,
    pub(crate) amount: Option<f64>,
    pub(crate) probability: f64,
    pub(crate) close_date: Option<NaiveDate>,
    pub(crate) last_modified: Option<NaiveDate>,
    /// The latest task or event date on the deal, not after today.
    pub(crate) last_activity: Option<NaiveDate>,
    /// The day the deal entered its current stage, from its history ([`stage_since`]).
    pub(crate) stage_since: Option<NaiveDate>,
    /// Its close-date pushes, from its history ([`pushes`]).
    pub(crate) pushes: Option<Pushes>,
}

/// The thresholds in force for one call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Thresholds {
    pub(crate) stale_days: u32,
    pub(crate) inactive_days: u32,
    pub(crate) low_probability: f64,
    pub(crate) large_amount: f64,
}

/// One risk factor on one deal; a pushed close date carries its figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Risk {
    pub(crate) risk: &'static str,
    pub(crate) detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pushes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) days_pushed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) first_close_date: Option<String>,
}

impl Risk {
    fn new(risk: &'static str, detail: String) -> Self {
        Risk {
            risk,
            detail,
            pushes: None,
            days_pushed: None,
            first_close_date: None,
        }
    }
}

/// The risk kinds, in the order they are listed.
pub(crate) const RISKS: [(&str, &str); 5] = [
    ("closeDatePassed", "close date passed while still open"),
    ("closeDatePushed", "close date pushed out"),
    ("staleStage", "no stage change in the stale window"),
    (
        "noRecentActivity",
        "no task or event in the activity window",
    ),
    ("largeLowProbability", "large amount at low probability"),
];

/// The risk factors of one deal.
pub(crate) fn risks(deal: &Deal, t: &Thresholds, today: NaiveDate) -> Vec<Risk> {
    let mut out = Vec::new();
    if let Some(close) = deal.close_date.filter(|c| *c < today) {
        out.push(Risk::new(
            "closeDatePassed",
            format!(
                "close date {close} passed {} day(s) ago and the deal is still open",
                (today - close).num_days()
            ),
        ));
    }
    if let (Some(p), Some(close)) = (deal.pushes, deal.close_date) {
        out.push(Risk {
            pushes: Some(p.pushes),
            days_pushed: Some(p.days),
            first_close_date: Some(p.first.to_string()),
            ..Risk::new(
                "closeDatePushed",
                format!(
                    "close date pushed out {} time(s), {} day(s) in all: first {}, now {close}",
                    p.pushes, p.days, p.first
                ),
            )
        });
    }
    // The day the deal entered its stage when the history says; else its last modification.
    let (since, what) = match deal.stage_since {
        Some(since) => (Some(since), "in stage since"),
        None => (deal.last_modified, "not modified since"),
    };
    match since {
        Some(since) if (today - since).num_days() > i64::from(t.stale_days) => out.push(Risk::new(
            "staleStage",
            format!(
                "{what} {since} ({} days; stale after {})",
                (today - since).num_days(),
                t.stale_days
            ),
        )),
        _ => {}
    }
    match deal.last_activity {
        Some(last) if (today - last).num_days() <= i64::from(t.inactive_days) => {}
        Some(last) => out.push(Risk::new(
            "noRecentActivity",
            format!(
                "last task/event on {last}, {} days ago (window {} days)",
                (today - last).num_days(),
                t.inactive_days
            ),
        )),
        None => out.push(Risk::new(
            "noRecentActivity",
            format!(
                "no task or event dated in the last {} days",
                t.inactive_days
            ),
        )),
    }
    if let Some(amount) = deal.amount
        && amount >= t.large_amount
        && deal.probability <= t.low_probability
    {
        out.push(Risk::new(
            "largeLowProbability",
            format!(
                "amount {} is at least {} but probability is {}% (≤ {}%)",
                crate::output::money(amount),
                crate::output::money(t.large_amount),
                deal.probability,
                t.low_probability
            ),
        ));
    }
    out
}

/// The nearest-rank percentile (`p` in 0–100) of the amounts; 0 when there are none.
pub(crate) fn percentile(amounts: &[f64], p: f64) -> f64 {
    let mut sorted: Vec<f64> = amounts.iter().copied().filter(|a| a.is_finite()).collect();
    if sorted.is_empty() {
        return 0.0;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Won and closed counts of the closed sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(crate) struct WinRate {
    pub(crate) won: u64,
    pub(crate) closed: u64,
}

impl WinRate {
    pub(crate) fn rate(&self) -> f64 {
        if self.closed == 0 {
            0.0
        } else {
            self.won as f64 / self.closed as f64
        }
    }
}

/// The two forecasts over the open deals: Σ amount × probability / 100, and Σ amount × the
/// historical win rate of the deal's stage (`win_rate`).
pub(crate) fn forecast(deals: &[Deal], win_rate: impl Fn(&Deal) -> f64) -> (f64, f64) {
    deals.iter().fold((0.0, 0.0), |(weighted, historical), d| {
        let amount = d.amount.unwrap_or(0.0);
        (
            weighted + amount * d.probability / 100.0,
            historical + amount * win_rate(d),
        )
    })
}

/// How likely a deal is to close in the period: its stage probability, less a fifth of it for
/// each risk factor; with the reasons for and against.
pub(crate) fn likelihood(
    deal: &Deal,
    risks: &[Risk],
    period_end: NaiveDate,
    today: NaiveDate,
) -> (f64, Vec<String>) {
    let mut reasons = vec![format!(
        "stage {} at {}% probability",
        deal.stage, deal.probability
    )];
    if let Some(close) = deal.close_date
        && close >= today
        && close <= period_end
    {
        reasons.push(format!("close date {close} is within the period"));
    }
    match deal.last_activity {
        Some(last) if !risks.iter().any(|r| r.risk == "noRecentActivity") => {
            reasons.push(format!("recent activity on {last}"))
        }
        _ => {}
    }
    for r in risks {
        reasons.push(format!("risk: {}", r.detail));
    }
    let penalty = 1.0 - 0.2 * risks.len() as f64;
    let value = (deal.probability / 100.0 * penalty.max(0.0) * 1000.0).round() / 1000.0;
    (value, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn deal() -> Deal {
        Deal {
            id: "006A".into(),
            stage: "Prospecting".into(),
            amount: Some(500_000.0),
            probability: 10.0,
            close_date: Some(day("2026-11-20")),
            last_modified: Some(day("2026-09-01")),
            last_activity: Some(day("2026-10-01")),
            stage_since: None,
            pushes: None,
        }
    }

    fn row(stage: &str, close: &str, at: &str) -> HistoryRow {
        HistoryRow {
            stage: stage.into(),
            close_date: Some(day(close)),
            at: Some(day(at)),
        }
    }

    #[test]
    fn every_risk_fires_on_a_bad_deal_and_none_on_a_good_one() {
        let t = Thresholds {
            stale_days: 30,
            inactive_days: 21,
            low_probability: 20.0,
            large_amount: 100_000.0,
        };
        let today = day("2026-11-25");
        let pushed = Deal {
            pushes: Some(Pushes {
                pushes: 2,
                days: 40,
                first: day("2026-10-11"),
            }),
            ..deal()
        };
        let found = risks(&pushed, &t, today);
        let kinds: Vec<&str> = found.iter().map(|r| r.risk).collect();
        assert_eq!(
            kinds,
            [
                "closeDatePassed",
                "closeDatePushed",
                "staleStage",
                "noRecentActivity",
                "largeLowProbability"
            ]
        );
        assert_eq!(found[1].pushes, Some(2));
        assert_eq!(found[1].days_pushed, Some(40));
        let json = serde_json::to_value(&found[1]).unwrap();
        assert_eq!(json["firstCloseDate"], "2026-10-11");
        assert!(
            serde_json::to_value(&found[0])
                .unwrap()
                .get("pushes")
                .is_none()
        );
        // With stage history, staleness counts from the day the deal entered its stage.
        let fresh_stage = Deal {
            stage_since: Some(day("2026-11-10")),
            ..deal()
        };
        assert!(
            !risks(&fresh_stage, &t, today)
                .iter()
                .any(|r| r.risk == "staleStage")
        );
        let old_stage = Deal {
            stage_since: Some(day("2026-08-01")),
            last_modified: Some(day("2026-11-24")),
            ..deal()
        };
        let stale = risks(&old_stage, &t, today);
        let stale = stale.iter().find(|r| r.risk == "staleStage").unwrap();
        assert!(
            stale
                .detail
                .starts_with("in stage since 2026-08-01 (116 days"),
            "{}",
            stale.detail
        );
        let good = Deal {
            probability: 90.0,
            close_date: Some(day("2026-12-10")),
            last_modified: Some(day("2026-11-20")),
            last_activity: Some(day("2026-11-24")),
            ..deal()
        };
        assert!(risks(&good, &t, today).is_empty());
        let (l, reasons) = likelihood(&good, &[], day("2026-12-31"), today);
        assert_eq!(l, 0.9);
        assert_eq!(reasons.len(), 3);
        let bad = deal();
        let r = risks(&bad, &t, today);
        assert_eq!(likelihood(&bad, &r, day("2026-12-31"), today).0, 0.02);
    }

    #[test]
    fn forecasts_and_percentiles() {
        let deals = [
            Deal {
                amount: Some(100.0),
                probability: 50.0,
                ..deal()
            },
            Deal {
                amount: None,
                probability: 90.0,
                ..deal()
            },
            Deal {
                amount: Some(300.0),
                probability: 10.0,
                ..deal()
            },
        ];
        assert_eq!(forecast(&deals, |_| 0.25), (80.0, 100.0));
        let by_probability = |d: &Deal| if d.probability > 20.0 { 0.5 } else { 0.1 };
        assert_eq!(forecast(&deals, by_probability), (80.0, 80.0));
        assert_eq!(percentile(&[5.0, 1.0, 4.0, 2.0, 3.0], 75.0), 4.0);
        assert_eq!(percentile(&[], 75.0), 0.0);
        assert_eq!(WinRate { won: 1, closed: 4 }.rate(), 0.25);
    }

    #[test]
    fn pushes_count_each_later_move_and_fire_only_past_an_earlier_date() {
        let history = [
            row("Prospecting", "2026-10-01", "2026-06-01"),
            row("Qualification", "2026-10-01", "2026-07-01"),
            row("Qualification", "2026-10-31", "2026-08-01"),
            row("Qualification", "2026-10-21", "2026-09-01"),
            row("Needs Analysis", "2026-11-15", "2026-09-15"),
        ];
        // Moves: +30, -10, +25, then the current date +5.
        let p = pushes(&history, Some(day("2026-11-20"))).unwrap();
        assert_eq!(
            p,
            Pushes {
                pushes: 3,
                days: 60,
                first: day("2026-10-01")
            }
        );
        // Pulled back to the first date: not pushed, whatever happened in between.
        assert_eq!(pushes(&history, Some(day("2026-10-01"))), None);
        assert_eq!(pushes(&history[..2], Some(day("2026-10-01"))), None);
        assert_eq!(pushes(&[], Some(day("2026-10-01"))), None);
        assert_eq!(pushes(&history, None), None);
        // A current date later than the history's last one is a push of its own.
        let p = pushes(&history[..1], Some(day("2026-10-08"))).unwrap();
        assert_eq!((p.pushes, p.days), (1, 7));
    }

    #[test]
    fn stage_since_is_the_start_of_the_latest_run_of_the_stage() {
        let history = [
            row("Prospecting", "2026-10-01", "2026-06-01"),
            row("Qualification", "2026-10-01", "2026-07-01"),
            row("Prospecting", "2026-10-01", "2026-08-01"),
            row("Prospecting", "2026-11-01", "2026-09-01"),
        ];
        assert_eq!(
            stage_since(&history, "Prospecting"),
            Some(day("2026-08-01"))
        );
        assert_eq!(stage_since(&history, "Qualification"), None);
        assert_eq!(stage_since(&[], "Prospecting"), None);
    }

    #[test]
    fn stage_win_rates_count_each_closed_deal_once_per_stage_it_passed() {
        let won = [
            row("Prospecting", "2026-10-01", "2026-06-01"),
            row("Qualification", "2026-10-01", "2026-07-01"),
            row("Prospecting", "2026-10-01", "2026-07-02"),
            row("Closed Won", "2026-10-01", "2026-08-01"),
        ];
        let lost = [
            row("Qualification", "2026-10-01", "2026-06-01"),
            row("Closed Lost", "2026-10-01", "2026-08-01"),
        ];
        let rates = stage_win_rates([(true, &won[..]), (false, &lost[..]), (false, &[][..])]);
        assert_eq!(rates["Prospecting"], WinRate { won: 1, closed: 1 });
        assert_eq!(rates["Qualification"], WinRate { won: 1, closed: 2 });
        assert_eq!(rates["Closed Lost"], WinRate { won: 0, closed: 1 });
        assert_eq!(rates.len(), 4);

        let overall = WinRate { won: 3, closed: 12 };
        let many: BTreeMap<String, WinRate> = [
            (
                "Big".to_owned(),
                WinRate {
                    won: 6,
                    closed: MIN_STAGE_SAMPLES,
                },
            ),
            (
                "Small".to_owned(),
                WinRate {
                    won: 1,
                    closed: MIN_STAGE_SAMPLES - 1,
                },
            ),
        ]
        .into();
        let big = rate_for("Big", &many, overall);
        assert!(big.from_stage);
        assert_eq!(big.rate, 6.0 / MIN_STAGE_SAMPLES as f64);
        let small = rate_for("Small", &many, overall);
        assert!(!small.from_stage);
        assert_eq!(small.rate, 0.25);
        assert_eq!(small.sample.closed, MIN_STAGE_SAMPLES - 1);
        let none = rate_for("Unseen", &many, overall);
        assert_eq!((none.rate, none.sample), (0.25, WinRate::default()));
    }
}
