//! Lead scoring: a score from 0 to 100 as the sum of eight factor contributions. Each factor
//! turns one fact about the lead into a fraction from 0 to 1 by a fixed table (documented in
//! `docs/tools.md`); its contribution is `fraction × weight × 100 / sum of weights`, rounded to
//! one decimal, and the score is the sum of the rounded contributions. Nothing depends on the
//! order leads are read in or on anything but the lead's facts, the weights and "today".

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::tenths;

/// The weight of each factor (relative: they are scaled to sum to 100). Each is 0–100.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScoreWeights {
    /// Fit: the lead's industry is one of the target industries.
    pub industry: f64,
    /// Fit: company size by number of employees.
    pub company_size: f64,
    /// Fit: annual revenue.
    pub annual_revenue: f64,
    /// Fit: seniority of the lead's title.
    pub title: f64,
    /// Engagement: tasks and events on the lead in the engagement window.
    pub engagement: f64,
    /// The lead's rating (Hot, Warm, Cold).
    pub rating: f64,
    /// Recency: days since the lead was created or last had an activity.
    pub recency: f64,
    /// The lead source.
    pub lead_source: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        ScoreWeights {
            industry: 10.0,
            company_size: 10.0,
            annual_revenue: 10.0,
            title: 10.0,
            engagement: 20.0,
            rating: 15.0,
            recency: 15.0,
            lead_source: 10.0,
        }
    }
}

/// The largest weight one factor may have.
pub(crate) const MAX_WEIGHT: f64 = 100.0;

impl ScoreWeights {
    /// The weights by factor key, in the order factors are listed.
    pub(crate) fn by_factor(&self) -> [(&'static str, f64); 8] {
        [
            ("industry", self.industry),
            ("companySize", self.company_size),
            ("annualRevenue", self.annual_revenue),
            ("title", self.title),
            ("engagement", self.engagement),
            ("rating", self.rating),
            ("recency", self.recency),
            ("leadSource", self.lead_source),
        ]
    }

    /// Every weight within 0–100 and at least one above zero.
    pub(crate) fn check(&self) -> Result<(), String> {
        let weights = self.by_factor();
        if let Some((name, w)) = weights
            .iter()
            .find(|(_, w)| !w.is_finite() || *w < 0.0 || *w > MAX_WEIGHT)
        {
            return Err(format!(
                "weight `{name}` is {w}: each weight must be from 0 to {MAX_WEIGHT}"
            ));
        }
        if weights.iter().all(|(_, w)| *w == 0.0) {
            return Err("at least one weight must be above 0".into());
        }
        Ok(())
    }
}

/// How `scoreLeads` scores, as configured by the operator.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadScoring {
    /// Factor weights (a call may override any of them).
    pub weights: ScoreWeights,
    /// Industries that count as a full fit.
    pub target_industries: Vec<String>,
    /// Default engagement window: activities in the last N days count (1–365).
    pub engagement_days: u32,
    /// Recency reaches zero after this many days without being created or touched.
    pub recency_days: u32,
}

impl Default for LeadScoring {
    fn default() -> Self {
        LeadScoring {
            weights: ScoreWeights::default(),
            target_industries: [
                "Technology",
                "Finance",
                "Banking",
                "Healthcare",
                "Insurance",
                "Telecommunications",
            ]
            .map(str::to_owned)
            .to_vec(),
            engagement_days: 30,
            recency_days: 180,
        }
    }
}

/// What scoring reads about one lead.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LeadFacts {
    pub(crate) industry: Option<String>,
    pub(crate) employees: Option<f64>,
    pub(crate) annual_revenue: Option<f64>,
    pub(crate) title: Option<String>,
    pub(crate) rating: Option<String>,
    pub(crate) lead_source: Option<String>,
    /// The day the lead was created (UTC).
    pub(crate) created: Option<NaiveDate>,
    /// Tasks and events on the lead dated within the engagement window.
    pub(crate) recent_activities: u64,
    /// The latest task or event date on the lead, not after today.
    pub(crate) last_activity: Option<NaiveDate>,
}

/// One factor's share of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Contribution {
    pub(crate) factor: &'static str,
    pub(crate) group: &'static str,
    /// The factor's weight scaled so that all weights sum to 100: its most possible points.
    pub(crate) max_points: f64,
    /// 0–1: how fully the lead meets the factor.
    pub(crate) fraction: f64,
    /// `fraction × max_points`, rounded to one decimal.
    pub(crate) points: f64,
    /// What was read and how it was judged.
    pub(crate) reason: String,
}

/// A lead's score and its factors (the points sum to the score).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Score {
    pub(crate) score: f64,
    pub(crate) factors: Vec<Contribution>,
}

/// Employees → fraction: 1,000+ full, 200+ 0.75, 50+ 0.5, 10+ 0.25, fewer 0.1.
const SIZE_TIERS: [(f64, f64, &str); 5] = [
    (1_000.0, 1.0, "1,000 or more employees"),
    (200.0, 0.75, "200–999 employees"),
    (50.0, 0.5, "50–199 employees"),
    (10.0, 0.25, "10–49 employees"),
    (0.0, 0.1, "fewer than 10 employees"),
];

/// Annual revenue → fraction: 50M+ full, 10M+ 0.75, 1M+ 0.5, less 0.25.
const REVENUE_TIERS: [(f64, f64, &str); 4] = [
    (50_000_000.0, 1.0, "50M or more"),
    (10_000_000.0, 0.75, "10M–50M"),
    (1_000_000.0, 0.5, "1M–10M"),
    (0.0, 0.25, "under 1M"),
];

fn tier(value: f64, tiers: &[(f64, f64, &'static str)]) -> (f64, &'static str) {
    tiers
        .iter()
        .find(|(floor, _, _)| value >= *floor)
        .map_or((0.0, "unknown"), |(_, f, label)| (*f, label))
}

/// Title → (fraction, level). Words are matched whole, case-insensitively, most senior first.
pub(crate) fn seniority(title: &str) -> (f64, &'static str) {
    let lower = title.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
    if has(&[
        "chief",
        "ceo",
        "cfo",
        "cto",
        "cio",
        "coo",
        "cmo",
        "president",
        "founder",
        "owner",
    ]) && !lower.contains("vice president")
    {
        (1.0, "C-level/owner")
    } else if has(&["vp", "svp", "evp"])
        || lower.contains("vice president")
        || lower.contains("head of")
    {
        (0.8, "VP/head")
    } else if has(&["director"]) {
        (0.6, "director")
    } else if has(&["manager", "lead", "supervisor"]) {
        (0.4, "manager")
    } else {
        (0.2, "individual contributor")
    }
}

/// Rating → fraction.
fn rating(value: &str) -> f64 {
    match value {
        "Hot" => 1.0,
        "Warm" => 0.6,
        "Cold" => 0.2,
        _ => 0.0,
    }
}

/// Lead source → fraction: referrals and inbound calls convert best, bought lists worst.
fn source(value: &str) -> f64 {
    match value {
        "Partner Referral" => 1.0,
        "Phone Inquiry" => 0.8,
        "Web" => 0.6,
        "Other" => 0.3,
        "Purchased List" => 0.2,
        _ => 0.3,
    }
}

/// Activities in the window that earn full engagement points.
pub(crate) const FULL_ENGAGEMENT: u64 = 5;

/// Scores one lead.
pub(crate) fn score(
    facts: &LeadFacts,
    weights: &ScoreWeights,
    scoring: &LeadScoring,
    engagement_days: u32,
    today: NaiveDate,
) -> Score {
    let total_weight: f64 = weights.by_factor().iter().map(|(_, w)| w).sum();
    let mut factors = Vec::with_capacity(8);
    for (factor, weight) in weights.by_factor() {
        let (group, fraction, reason) = judge(factor, facts, scoring, engagement_days, today);
        let max_points = if total_weight > 0.0 {
            weight * 100.0 / total_weight
        } else {
            0.0
        };
        factors.push(Contribution {
            factor,
            group,
            max_points: tenths(max_points),
            fraction,
            points: tenths(fraction * max_points),
            reason,
        });
    }
    let score = tenths(factors.iter().map(|f| f.points).sum::<f64>());
    Score { score, factors }
}

fn judge(
    factor: &str,
    facts: &LeadFacts,
    scoring: &LeadScoring,
    engagement_days: u32,
    today: NaiveDate,
) -> (&'static str, f64, String) {
    let (group, (fraction, reason)) = match factor {
        "industry" => (
            "fit",
            match &facts.industry {
                None => (0.0, "no industry".to_owned()),
                Some(i)
                    if scoring
                        .target_industries
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(i)) =>
                {
                    (1.0, format!("{i} is a target industry"))
                }
                Some(i) => (0.3, format!("{i} is not a target industry")),
            },
        ),
        "companySize" => (
            "fit",
            match facts.employees {
                None => (0.0, "no employee count".to_owned()),
                Some(n) => {
                    let (f, label) = tier(n, &SIZE_TIERS);
                    (f, format!("{n} employees ({label})"))
                }
            },
        ),
        "annualRevenue" => (
            "fit",
            match facts.annual_revenue {
                None => (0.0, "no annual revenue".to_owned()),
                Some(r) => {
                    let (f, label) = tier(r, &REVENUE_TIERS);
                    (
                        f,
                        format!("annual revenue {} ({label})", crate::output::money(r)),
                    )
                }
            },
        ),
        "title" => (
            "fit",
            match &facts.title {
                None => (0.0, "no title".to_owned()),
                Some(t) => {
                    let (f, level) = seniority(t);
                    (f, format!("\"{t}\" reads as {level}"))
                }
            },
        ),
        "engagement" => {
            let n = facts.recent_activities;
            let f = n.min(FULL_ENGAGEMENT) as f64 / FULL_ENGAGEMENT as f64;
            (
                "engagement",
                (
                    f,
                    format!(
                        "{n} task(s)/event(s) in the last {engagement_days} days ({FULL_ENGAGEMENT} or more earn full points)"
                    ),
                ),
            )
        }
        "rating" => (
            "rating",
            match &facts.rating {
                None => (0.0, "no rating".to_owned()),
                Some(r) => (rating(r), format!("rated {r}")),
            },
        ),
        "recency" => {
            let last = match (facts.created, facts.last_activity) {
                (Some(c), Some(a)) => {
                    Some((c.max(a), if a > c { "last activity" } else { "created" }))
                }
                (Some(c), None) => Some((c, "created")),
                (None, Some(a)) => Some((a, "last activity")),
                (None, None) => None,
            };
            (
                "recency",
                match last {
                    None => (0.0, "no creation or activity date".to_owned()),
                    Some((day, what)) => {
                        let days = (today - day).num_days().max(0);
                        let window = f64::from(scoring.recency_days.max(1));
                        let f = (1.0 - days as f64 / window).max(0.0);
                        (
                            f,
                            format!(
                                "{what} {days} day(s) ago on {day} (zero after {} days)",
                                scoring.recency_days
                            ),
                        )
                    }
                },
            )
        }
        _ => (
            "source",
            match &facts.lead_source {
                None => (0.0, "no lead source".to_owned()),
                Some(s) => (source(s), format!("source {s}")),
            },
        ),
    };
    (group, fraction, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_full_lead_scores_100_and_contributions_sum_to_the_score() {
        let scoring = LeadScoring::default();
        let today = day("2026-11-25");
        let facts = LeadFacts {
            industry: Some("Healthcare".into()),
            employees: Some(5_000.0),
            annual_revenue: Some(80_000_000.0),
            title: Some("Chief Operating Officer".into()),
            rating: Some("Hot".into()),
            lead_source: Some("Partner Referral".into()),
            created: Some(day("2026-10-01")),
            recent_activities: 7,
            last_activity: Some(today),
        };
        let s = score(&facts, &scoring.weights, &scoring, 30, today);
        assert_eq!(s.score, 100.0);
        let weak = LeadFacts {
            industry: Some("Retail".into()),
            employees: Some(60.0),
            annual_revenue: Some(2_000_000.0),
            title: Some("Sales Manager".into()),
            rating: Some("Warm".into()),
            lead_source: Some("Web".into()),
            created: Some(day("2026-08-27")),
            recent_activities: 2,
            last_activity: None,
        };
        let s = score(&weak, &scoring.weights, &scoring, 30, today);
        // industry 0.3×10, size 0.5×10, revenue 0.5×10, title 0.4×10, engagement 0.4×20,
        // rating 0.6×15, recency (1 − 90/180)×15, source 0.6×10.
        assert_eq!(s.score, 3.0 + 5.0 + 5.0 + 4.0 + 8.0 + 9.0 + 7.5 + 6.0);
        let sum: f64 = s.factors.iter().map(|f| f.points).sum();
        assert!((sum - s.score).abs() < 1e-9);
    }

    #[test]
    fn weights_are_scaled_to_100_and_checked() {
        let scoring = LeadScoring::default();
        let only_rating = ScoreWeights {
            industry: 0.0,
            company_size: 0.0,
            annual_revenue: 0.0,
            title: 0.0,
            engagement: 0.0,
            rating: 5.0,
            recency: 0.0,
            lead_source: 0.0,
        };
        let facts = LeadFacts {
            rating: Some("Warm".into()),
            ..LeadFacts::default()
        };
        let s = score(&facts, &only_rating, &scoring, 30, day("2026-11-25"));
        assert_eq!(s.score, 60.0);
        assert!(only_rating.check().is_ok());
        let zero = ScoreWeights {
            rating: 0.0,
            ..only_rating
        };
        assert!(zero.check().is_err());
        let big = ScoreWeights {
            rating: 101.0,
            ..only_rating
        };
        assert!(big.check().unwrap_err().contains("rating"));
    }

    #[test]
    fn titles_by_seniority() {
        assert_eq!(seniority("CEO").0, 1.0);
        assert_eq!(seniority("Vice President, Sales").0, 0.8);
        assert_eq!(seniority("VP Marketing").0, 0.8);
        assert_eq!(seniority("Director of IT").0, 0.6);
        assert_eq!(seniority("Office Manager").0, 0.4);
        assert_eq!(seniority("Analyst").0, 0.2);
        // "cto" inside another word is not a match.
        assert_eq!(seniority("Doctoral Researcher").0, 0.2);
    }
}
