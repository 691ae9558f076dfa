//! Relative date literals (`TODAY`, `LAST_N_DAYS:30`, `THIS_QUARTER`, …) and the calendar date
//! ranges they stand for.
//!
//! Semantics follow Salesforce's SOQL reference: weeks start on Sunday (the `en_US` locale),
//! quarters are calendar quarters (fiscal years are not modelled), `LAST_N_DAYS:n` and
//! `LAST_90_DAYS` include today and go `n` days back, `NEXT_N_DAYS:n` and `NEXT_90_DAYS` start
//! tomorrow, and `LAST_N_WEEKS/MONTHS/QUARTERS/YEARS:n` and their `NEXT_` forms exclude the current
//! period. Ranges are in whole days; the caller decides which time zone "today" is in.

use chrono::{Datelike, Days, NaiveDate};
use std::fmt;

/// A relative date literal. Variants with a number take it after a colon (`LAST_N_DAYS:30`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RelativeDate {
    /// `YESTERDAY`.
    Yesterday,
    /// `TODAY`.
    Today,
    /// `TOMORROW`.
    Tomorrow,
    /// `LAST_WEEK`: the Sunday-to-Saturday week before this one.
    LastWeek,
    /// `THIS_WEEK`: the Sunday-to-Saturday week containing today.
    ThisWeek,
    /// `NEXT_WEEK`: the Sunday-to-Saturday week after this one.
    NextWeek,
    /// `LAST_MONTH`.
    LastMonth,
    /// `THIS_MONTH`.
    ThisMonth,
    /// `NEXT_MONTH`.
    NextMonth,
    /// `LAST_QUARTER` (calendar quarters).
    LastQuarter,
    /// `THIS_QUARTER`.
    ThisQuarter,
    /// `NEXT_QUARTER`.
    NextQuarter,
    /// `LAST_YEAR`.
    LastYear,
    /// `THIS_YEAR`.
    ThisYear,
    /// `NEXT_YEAR`.
    NextYear,
    /// `LAST_90_DAYS`: today and the 90 days before it.
    Last90Days,
    /// `NEXT_90_DAYS`: the 90 days after today.
    Next90Days,
    /// `LAST_N_DAYS:n`: today and the `n` days before it.
    LastNDays(u32),
    /// `NEXT_N_DAYS:n`: the `n` days after today.
    NextNDays(u32),
    /// `LAST_N_WEEKS:n`: the `n` whole weeks before this week.
    LastNWeeks(u32),
    /// `NEXT_N_WEEKS:n`: the `n` whole weeks after this week.
    NextNWeeks(u32),
    /// `LAST_N_MONTHS:n`: the `n` whole months before this month.
    LastNMonths(u32),
    /// `NEXT_N_MONTHS:n`: the `n` whole months after this month.
    NextNMonths(u32),
    /// `LAST_N_QUARTERS:n`: the `n` whole quarters before this quarter.
    LastNQuarters(u32),
    /// `NEXT_N_QUARTERS:n`: the `n` whole quarters after this quarter.
    NextNQuarters(u32),
    /// `LAST_N_YEARS:n`: the `n` whole years before this year.
    LastNYears(u32),
    /// `NEXT_N_YEARS:n`: the `n` whole years after this year.
    NextNYears(u32),
}

/// Literal names without an argument, in a fixed order shared by parsing and printing.
const FIXED: &[(&str, RelativeDate)] = &[
    ("YESTERDAY", RelativeDate::Yesterday),
    ("TODAY", RelativeDate::Today),
    ("TOMORROW", RelativeDate::Tomorrow),
    ("LAST_WEEK", RelativeDate::LastWeek),
    ("THIS_WEEK", RelativeDate::ThisWeek),
    ("NEXT_WEEK", RelativeDate::NextWeek),
    ("LAST_MONTH", RelativeDate::LastMonth),
    ("THIS_MONTH", RelativeDate::ThisMonth),
    ("NEXT_MONTH", RelativeDate::NextMonth),
    ("LAST_QUARTER", RelativeDate::LastQuarter),
    ("THIS_QUARTER", RelativeDate::ThisQuarter),
    ("NEXT_QUARTER", RelativeDate::NextQuarter),
    ("LAST_YEAR", RelativeDate::LastYear),
    ("THIS_YEAR", RelativeDate::ThisYear),
    ("NEXT_YEAR", RelativeDate::NextYear),
    ("LAST_90_DAYS", RelativeDate::Last90Days),
    ("NEXT_90_DAYS", RelativeDate::Next90Days),
];

/// Builds a `…_N_…:n` literal from its `n`.
type WithN = fn(u32) -> RelativeDate;

/// Literal names that take `:n`.
const WITH_N: &[(&str, WithN)] = &[
    ("LAST_N_DAYS", RelativeDate::LastNDays),
    ("NEXT_N_DAYS", RelativeDate::NextNDays),
    ("LAST_N_WEEKS", RelativeDate::LastNWeeks),
    ("NEXT_N_WEEKS", RelativeDate::NextNWeeks),
    ("LAST_N_MONTHS", RelativeDate::LastNMonths),
    ("NEXT_N_MONTHS", RelativeDate::NextNMonths),
    ("LAST_N_QUARTERS", RelativeDate::LastNQuarters),
    ("NEXT_N_QUARTERS", RelativeDate::NextNQuarters),
    ("LAST_N_YEARS", RelativeDate::LastNYears),
    ("NEXT_N_YEARS", RelativeDate::NextNYears),
];

/// How a literal name is used: on its own, or with `:n`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LiteralName {
    Fixed(RelativeDate),
    WithN(WithN),
}

/// Looks up a literal name case-insensitively.
pub(crate) fn lookup(name: &str) -> Option<LiteralName> {
    FIXED
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, d)| LiteralName::Fixed(*d))
        .or_else(|| {
            WITH_N
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, f)| LiteralName::WithN(*f))
        })
}

impl RelativeDate {
    /// The literal's keyword, without the `:n` part (`LAST_N_DAYS`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::LastNDays(_) => "LAST_N_DAYS",
            Self::NextNDays(_) => "NEXT_N_DAYS",
            Self::LastNWeeks(_) => "LAST_N_WEEKS",
            Self::NextNWeeks(_) => "NEXT_N_WEEKS",
            Self::LastNMonths(_) => "LAST_N_MONTHS",
            Self::NextNMonths(_) => "NEXT_N_MONTHS",
            Self::LastNQuarters(_) => "LAST_N_QUARTERS",
            Self::NextNQuarters(_) => "NEXT_N_QUARTERS",
            Self::LastNYears(_) => "LAST_N_YEARS",
            Self::NextNYears(_) => "NEXT_N_YEARS",
            fixed => FIXED
                .iter()
                .find(|(_, d)| d == fixed)
                .map_or("TODAY", |(n, _)| n),
        }
    }

    /// The `n` of a `…_N_…:n` literal.
    pub fn n(&self) -> Option<u32> {
        match *self {
            Self::LastNDays(n)
            | Self::NextNDays(n)
            | Self::LastNWeeks(n)
            | Self::NextNWeeks(n)
            | Self::LastNMonths(n)
            | Self::NextNMonths(n)
            | Self::LastNQuarters(n)
            | Self::NextNQuarters(n)
            | Self::LastNYears(n)
            | Self::NextNYears(n) => Some(n),
            _ => None,
        }
    }

    /// The whole days the literal covers when today is `today`, as `(first, last)`, both inclusive.
    /// Dates beyond chrono's range saturate at [`NaiveDate::MIN`]/[`NaiveDate::MAX`].
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use salesforce_core::soql::RelativeDate;
    /// let today = NaiveDate::from_ymd_opt(2024, 5, 29).unwrap(); // a Wednesday
    /// let d = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
    /// assert_eq!(RelativeDate::LastNDays(7).range(today), (d(5, 22), d(5, 29)));
    /// assert_eq!(RelativeDate::ThisWeek.range(today), (d(5, 26), d(6, 1)));
    /// ```
    pub fn range(&self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let n = i64::from(self.n().unwrap_or(0));
        let week_start = add_days(today, -i64::from(today.weekday().num_days_from_sunday()));
        let week = |offset: i64, count: i64| {
            let start = add_days(week_start, offset.saturating_mul(7));
            (start, add_days(start, count.saturating_mul(7) - 1))
        };
        let month = month_index(today);
        let quarter_start = month - month.rem_euclid(3);
        let year_start = month - month.rem_euclid(12);
        // Whole months from `first` (a month index) for `count` months.
        let months = |first: i64, count: i64| {
            let end = match checked_month_start(first.saturating_add(count)) {
                Some(next) => add_days(next, -1),
                None => saturated(first.saturating_add(count)),
            };
            (month_start(first), end)
        };
        match self {
            Self::Yesterday => day(add_days(today, -1)),
            Self::Today => day(today),
            Self::Tomorrow => day(add_days(today, 1)),
            Self::LastWeek => week(-1, 1),
            Self::ThisWeek => week(0, 1),
            Self::NextWeek => week(1, 1),
            Self::LastMonth => months(month - 1, 1),
            Self::ThisMonth => months(month, 1),
            Self::NextMonth => months(month + 1, 1),
            Self::LastQuarter => months(quarter_start - 3, 3),
            Self::ThisQuarter => months(quarter_start, 3),
            Self::NextQuarter => months(quarter_start + 3, 3),
            Self::LastYear => months(year_start - 12, 12),
            Self::ThisYear => months(year_start, 12),
            Self::NextYear => months(year_start + 12, 12),
            Self::Last90Days => (add_days(today, -90), today),
            Self::Next90Days => (add_days(today, 1), add_days(today, 90)),
            Self::LastNDays(_) => (add_days(today, -n), today),
            Self::NextNDays(_) => (add_days(today, 1), add_days(today, n)),
            Self::LastNWeeks(_) => week(-n, n),
            Self::NextNWeeks(_) => week(1, n),
            Self::LastNMonths(_) => months(month - n, n),
            Self::NextNMonths(_) => months(month + 1, n),
            Self::LastNQuarters(_) => months(quarter_start - 3 * n, 3 * n),
            Self::NextNQuarters(_) => months(quarter_start + 3, 3 * n),
            Self::LastNYears(_) => months(year_start - 12 * n, 12 * n),
            Self::NextNYears(_) => months(year_start + 12, 12 * n),
        }
    }
}

impl fmt::Display for RelativeDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.n() {
            Some(n) => write!(f, "{}:{n}", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

fn day(d: NaiveDate) -> (NaiveDate, NaiveDate) {
    (d, d)
}

/// `d` moved by `delta` days, saturating at chrono's date range.
fn add_days(d: NaiveDate, delta: i64) -> NaiveDate {
    let moved = if delta >= 0 {
        d.checked_add_days(Days::new(delta.unsigned_abs()))
    } else {
        d.checked_sub_days(Days::new(delta.unsigned_abs()))
    };
    moved.unwrap_or(if delta >= 0 {
        NaiveDate::MAX
    } else {
        NaiveDate::MIN
    })
}

/// Months since year 0: `year * 12 + month0`.
fn month_index(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

/// The first day of the month with the given index, saturating at chrono's date range.
fn month_start(index: i64) -> NaiveDate {
    checked_month_start(index).unwrap_or_else(|| saturated(index))
}

/// The first day of the month with the given index, if chrono can represent it.
fn checked_month_start(index: i64) -> Option<NaiveDate> {
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12) + 1).ok()?;
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// The end of chrono's range in the direction of an out-of-range month index.
fn saturated(index: i64) -> NaiveDate {
    if index < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn ranges_from_the_documented_semantics() {
        // 2024-05-29 is a Wednesday in Q2 of a leap year.
        let today = d("2024-05-29");
        let table: &[(RelativeDate, &str, &str)] = &[
            (RelativeDate::Yesterday, "2024-05-28", "2024-05-28"),
            (RelativeDate::Today, "2024-05-29", "2024-05-29"),
            (RelativeDate::Tomorrow, "2024-05-30", "2024-05-30"),
            (RelativeDate::LastWeek, "2024-05-19", "2024-05-25"),
            (RelativeDate::ThisWeek, "2024-05-26", "2024-06-01"),
            (RelativeDate::NextWeek, "2024-06-02", "2024-06-08"),
            (RelativeDate::LastMonth, "2024-04-01", "2024-04-30"),
            (RelativeDate::ThisMonth, "2024-05-01", "2024-05-31"),
            (RelativeDate::NextMonth, "2024-06-01", "2024-06-30"),
            (RelativeDate::LastQuarter, "2024-01-01", "2024-03-31"),
            (RelativeDate::ThisQuarter, "2024-04-01", "2024-06-30"),
            (RelativeDate::NextQuarter, "2024-07-01", "2024-09-30"),
            (RelativeDate::LastYear, "2023-01-01", "2023-12-31"),
            (RelativeDate::ThisYear, "2024-01-01", "2024-12-31"),
            (RelativeDate::NextYear, "2025-01-01", "2025-12-31"),
            // "includes the current day … so it includes 91 days in total"
            (RelativeDate::Last90Days, "2024-02-29", "2024-05-29"),
            (RelativeDate::Next90Days, "2024-05-30", "2024-08-27"),
            // "LAST_N_DAYS:1 includes yesterday and today"
            (RelativeDate::LastNDays(1), "2024-05-28", "2024-05-29"),
            (RelativeDate::LastNDays(7), "2024-05-22", "2024-05-29"),
            (RelativeDate::LastNDays(0), "2024-05-29", "2024-05-29"),
            (RelativeDate::NextNDays(1), "2024-05-30", "2024-05-30"),
            (RelativeDate::NextNDays(7), "2024-05-30", "2024-06-05"),
            (RelativeDate::LastNWeeks(2), "2024-05-12", "2024-05-25"),
            (RelativeDate::NextNWeeks(2), "2024-06-02", "2024-06-15"),
            (RelativeDate::LastNMonths(2), "2024-03-01", "2024-04-30"),
            (RelativeDate::LastNMonths(6), "2023-11-01", "2024-04-30"),
            (RelativeDate::NextNMonths(2), "2024-06-01", "2024-07-31"),
            (RelativeDate::LastNQuarters(2), "2023-10-01", "2024-03-31"),
            (RelativeDate::NextNQuarters(2), "2024-07-01", "2024-12-31"),
            (RelativeDate::LastNYears(2), "2022-01-01", "2023-12-31"),
            (RelativeDate::NextNYears(1), "2025-01-01", "2025-12-31"),
        ];
        for (literal, start, end) in table {
            assert_eq!(literal.range(today), (d(start), d(end)), "{literal}");
        }
    }

    #[test]
    fn boundaries() {
        // Sunday starts its own week; Saturday ends it.
        assert_eq!(
            RelativeDate::ThisWeek.range(d("2024-06-02")),
            (d("2024-06-02"), d("2024-06-08"))
        );
        assert_eq!(
            RelativeDate::ThisWeek.range(d("2024-06-08")),
            (d("2024-06-02"), d("2024-06-08"))
        );
        // Months and quarters across a year end; February in a leap year.
        assert_eq!(
            RelativeDate::LastMonth.range(d("2024-01-15")),
            (d("2023-12-01"), d("2023-12-31"))
        );
        assert_eq!(
            RelativeDate::NextMonth.range(d("2024-01-31")),
            (d("2024-02-01"), d("2024-02-29"))
        );
        assert_eq!(
            RelativeDate::LastQuarter.range(d("2024-02-10")),
            (d("2023-10-01"), d("2023-12-31"))
        );
        assert_eq!(
            RelativeDate::NextQuarter.range(d("2024-12-31")),
            (d("2025-01-01"), d("2025-03-31"))
        );
        assert_eq!(
            RelativeDate::ThisWeek.range(d("2024-12-31")),
            (d("2024-12-29"), d("2025-01-04"))
        );
    }

    #[test]
    fn huge_n_saturates_instead_of_panicking() {
        let today = d("2024-05-29");
        assert_eq!(RelativeDate::LastNDays(u32::MAX).range(today).1, today);
        assert_eq!(
            RelativeDate::NextNYears(u32::MAX).range(today).1,
            NaiveDate::MAX
        );
        assert_eq!(
            RelativeDate::LastNYears(u32::MAX).range(today).0,
            NaiveDate::MIN
        );
        assert_eq!(
            RelativeDate::LastNWeeks(u32::MAX).range(today).0,
            NaiveDate::MIN
        );
        assert_eq!(
            RelativeDate::Tomorrow.range(NaiveDate::MAX),
            (NaiveDate::MAX, NaiveDate::MAX)
        );
    }

    #[test]
    fn names_round_trip() {
        for (name, literal) in FIXED {
            assert_eq!(literal.name(), *name);
            assert!(
                matches!(lookup(&name.to_lowercase()), Some(LiteralName::Fixed(l)) if l == *literal)
            );
        }
        for (name, make) in WITH_N {
            assert_eq!(make(3).name(), *name);
            assert_eq!(make(3).to_string(), format!("{name}:3"));
        }
        assert!(lookup("LAST_N_FORTNIGHTS").is_none());
    }
}
