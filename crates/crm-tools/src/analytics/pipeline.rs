//! Pipeline analysis over plain data: risk factors per open deal, the two forecasts (stage
//! probability and historical win rate) and the likelihood ranking of deals closing in a
//! period. Every rule is a fixed threshold documented in `docs/tools.md`; ties are broken by
//! amount and then id, so the same data always gives the same lists.

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

/// One risk factor on one deal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Risk {
    pub(crate) risk: &'static str,
    pub(crate) detail: String,
}

/// The risk kinds, in the order they are listed.
pub(crate) const RISKS: [(&str, &str); 4] = [
    ("closeDatePassed", "close date passed while still open"),
    ("staleStage", "no change in the stale window"),
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
        out.push(Risk {
            risk: "closeDatePassed",
            detail: format!(
                "close date {close} passed {} day(s) ago and the deal is still open",
                (today - close).num_days()
            ),
        });
    }
    match deal.last_modified {
        Some(modified) if (today - modified).num_days() > i64::from(t.stale_days) => {
            out.push(Risk {
                risk: "staleStage",
                detail: format!(
                    "not modified since {modified} ({} days; stale after {})",
                    (today - modified).num_days(),
                    t.stale_days
                ),
            })
        }
        _ => {}
    }
    match deal.last_activity {
        Some(last) if (today - last).num_days() <= i64::from(t.inactive_days) => {}
        Some(last) => out.push(Risk {
            risk: "noRecentActivity",
            detail: format!(
                "last task/event on {last}, {} days ago (window {} days)",
                (today - last).num_days(),
                t.inactive_days
            ),
        }),
        None => out.push(Risk {
            risk: "noRecentActivity",
            detail: format!(
                "no task or event dated in the last {} days",
                t.inactive_days
            ),
        }),
    }
    if let Some(amount) = deal.amount
        && amount >= t.large_amount
        && deal.probability <= t.low_probability
    {
        out.push(Risk {
            risk: "largeLowProbability",
            detail: format!(
                "amount {} is at least {} but probability is {}% (≤ {}%)",
                crate::output::money(amount),
                crate::output::money(t.large_amount),
                deal.probability,
                t.low_probability
            ),
        });
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
/// historical win rate.
pub(crate) fn forecast(deals: &[Deal], win_rate: f64) -> (f64, f64) {
    deals.iter().fold((0.0, 0.0), |(weighted, historical), d| {
        let amount = d.amount.unwrap_or(0.0);
        (
            weighted + amount * d.probability / 100.0,
            historical + amount * win_rate,
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
        let found: Vec<&str> = risks(&deal(), &t, today).iter().map(|r| r.risk).collect();
        assert_eq!(
            found,
            [
                "closeDatePassed",
                "staleStage",
                "noRecentActivity",
                "largeLowProbability"
            ]
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
        assert_eq!(forecast(&deals, 0.25), (80.0, 100.0));
        assert_eq!(percentile(&[5.0, 1.0, 4.0, 2.0, 3.0], 75.0), 4.0);
        assert_eq!(percentile(&[], 75.0), 0.0);
        assert_eq!(WinRate { won: 1, closed: 4 }.rate(), 0.25);
    }
}
