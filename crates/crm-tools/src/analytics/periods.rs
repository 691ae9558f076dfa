//! Close-date periods as the model names them: `this_month`, `next_quarter`, `last_year`, a
//! fiscal quarter such as `Q1 2027`, or explicit dates; resolved against "today" into inclusive
//! day ranges. Quarters and years are fiscal: the fiscal year starts in a configured month
//! (January by default, when fiscal and calendar quarters coincide) and is named by the
//! calendar year it ends in, as Salesforce's standard fiscal years are.

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

use crate::Error;

/// The pattern the input schema gives for a period name.
pub(crate) const PERIOD_PATTERN: &str =
    "^((this|next|last)_(month|quarter|year)|Q[1-4] [0-9]{4}|FY ?[0-9]{4})$";

/// An inclusive range of days and how it was named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Period {
    pub(crate) label: String,
    pub(crate) start: NaiveDate,
    pub(crate) end: NaiveDate,
}

fn first_of(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// `months` months from `start`, minus one day: the inclusive end.
fn span(label: String, start: NaiveDate, months: u32) -> Option<Period> {
    let end = start.checked_add_months(Months::new(months))?.pred_opt()?;
    Some(Period { label, start, end })
}

/// The first day of the fiscal year named `year`.
fn fiscal_year_start(year: i32, first_month: u32) -> Option<NaiveDate> {
    if first_month == 1 {
        first_of(year, 1)
    } else {
        first_of(year - 1, first_month)
    }
}

/// The fiscal year (by name) and quarter (1–4) `day` falls in.
fn fiscal_quarter_of(day: NaiveDate, first_month: u32) -> (i32, u32) {
    let months_in = (day.month() + 12 - first_month) % 12;
    let year = if first_month == 1 || day.month() < first_month {
        day.year()
    } else {
        day.year() + 1
    };
    (year, months_in / 3 + 1)
}

fn quarter(year: i32, q: u32, first_month: u32) -> Option<Period> {
    let start =
        fiscal_year_start(year, first_month)?.checked_add_months(Months::new(3 * (q - 1)))?;
    span(format!("Q{q} {year}"), start, 3)
}

fn fiscal_year(year: i32, first_month: u32) -> Option<Period> {
    span(
        format!("FY{year}"),
        fiscal_year_start(year, first_month)?,
        12,
    )
}

/// Resolves a period name against `today`.
pub(crate) fn resolve(name: &str, today: NaiveDate, first_month: u32) -> Result<Period, Error> {
    let first_month = first_month.clamp(1, 12);
    let bad = || {
        Error::invalid(format!(
            "`period` must be this_month, next_month, last_month, this_quarter, next_quarter, last_quarter, this_year, next_year, last_year, a fiscal quarter like \"Q1 2027\" or a fiscal year like \"FY2027\"; got `{}`",
            name.chars().take(40).collect::<String>()
        ))
    };
    let name = name.trim();
    if let Some(rest) = name.strip_prefix('Q') {
        let (q, year) = rest.split_once(' ').ok_or_else(bad)?;
        let q: u32 = q
            .parse()
            .ok()
            .filter(|q| (1..=4).contains(q))
            .ok_or_else(bad)?;
        let year: i32 = year
            .parse()
            .ok()
            .filter(|y| (1900..=9998).contains(y))
            .ok_or_else(bad)?;
        return quarter(year, q, first_month).ok_or_else(bad);
    }
    if let Some(rest) = name.strip_prefix("FY") {
        let year: i32 = rest
            .trim()
            .parse()
            .ok()
            .filter(|y| (1900..=9998).contains(y))
            .ok_or_else(bad)?;
        return fiscal_year(year, first_month).ok_or_else(bad);
    }
    let (which, unit) = name.split_once('_').ok_or_else(bad)?;
    let step: i32 = match which {
        "this" => 0,
        "next" => 1,
        "last" => -1,
        _ => return Err(bad()),
    };
    let resolved = match unit {
        "month" => {
            let this = first_of(today.year(), today.month()).ok_or_else(bad)?;
            let start = if step >= 0 {
                this.checked_add_months(Months::new(step as u32))
            } else {
                this.checked_sub_months(Months::new(1))
            }
            .ok_or_else(bad)?;
            span(format!("{} ({})", name, start.format("%B %Y")), start, 1)
        }
        "quarter" => {
            let (year, q) = fiscal_quarter_of(today, first_month);
            let index = year * 4 + q as i32 - 1 + step;
            quarter(
                index.div_euclid(4),
                index.rem_euclid(4) as u32 + 1,
                first_month,
            )
            .map(|p| Period {
                label: format!("{name} ({})", p.label),
                ..p
            })
        }
        "year" => {
            let (year, _) = fiscal_quarter_of(today, first_month);
            fiscal_year(year + step, first_month).map(|p| Period {
                label: format!("{name} ({})", p.label),
                ..p
            })
        }
        _ => return Err(bad()),
    };
    resolved.ok_or_else(bad)
}

/// An explicit range; `from` after `to` is refused.
pub(crate) fn explicit(from: NaiveDate, to: NaiveDate) -> Result<Period, Error> {
    if from > to {
        return Err(Error::invalid(format!(
            "`closeFrom` ({from}) is after `closeTo` ({to}): swap them"
        )));
    }
    Ok(Period {
        label: format!("{from} to {to}"),
        start: from,
        end: to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn range(name: &str, first_month: u32) -> (String, String) {
        let p = resolve(name, day("2026-11-25"), first_month).unwrap();
        (p.start.to_string(), p.end.to_string())
    }

    #[test]
    fn calendar_periods() {
        let r = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(range("this_month", 1), r("2026-11-01", "2026-11-30"));
        assert_eq!(range("next_month", 1), r("2026-12-01", "2026-12-31"));
        assert_eq!(range("last_month", 1), r("2026-10-01", "2026-10-31"));
        assert_eq!(range("this_quarter", 1), r("2026-10-01", "2026-12-31"));
        assert_eq!(range("next_quarter", 1), r("2027-01-01", "2027-03-31"));
        assert_eq!(range("last_quarter", 1), r("2026-07-01", "2026-09-30"));
        assert_eq!(range("Q1 2027", 1), r("2027-01-01", "2027-03-31"));
        assert_eq!(range("FY2026", 1), r("2026-01-01", "2026-12-31"));
        assert_eq!(range("next_year", 1), r("2027-01-01", "2027-12-31"));
    }

    #[test]
    fn fiscal_years_starting_in_february_are_named_by_their_end() {
        let r = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        // FY2027 runs Feb 2026 – Jan 2027; 25 Nov 2026 is in its Q4 (Nov–Jan).
        assert_eq!(range("this_quarter", 2), r("2026-11-01", "2027-01-31"));
        assert_eq!(range("Q1 2027", 2), r("2026-02-01", "2026-04-30"));
        assert_eq!(range("next_quarter", 2), r("2027-02-01", "2027-04-30"));
        assert_eq!(range("this_year", 2), r("2026-02-01", "2027-01-31"));
        assert!(resolve("Q5 2027", day("2026-11-25"), 1).is_err());
        assert!(resolve("this_week", day("2026-11-25"), 1).is_err());
        assert!(explicit(day("2026-02-01"), day("2026-01-01")).is_err());
    }
}
