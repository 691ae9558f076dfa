//! Business days: due dates skip Saturdays and Sundays (holidays are not modelled).

use chrono::{Datelike, NaiveDate, Weekday};

/// The date `days` business days after `from` (a weekend `from` counts from the next Monday).
///
/// ```
/// use chrono::NaiveDate;
/// let friday = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
/// assert_eq!(followups::add_business_days(friday, 1), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
/// ```
pub fn add_business_days(from: NaiveDate, days: u32) -> NaiveDate {
    let is_weekend = |d: NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    let mut date = from;
    while is_weekend(date) {
        date = date.succ_opt().unwrap_or(date);
    }
    let mut left = days;
    while left > 0 {
        let Some(next) = date.succ_opt() else { break };
        date = next;
        if !is_weekend(date) {
            left -= 1;
        }
    }
    date
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap_or_default()
    }

    #[test]
    fn skips_weekends() {
        // 2026-11-23 is a Monday.
        assert_eq!(add_business_days(day(23), 0), day(23));
        assert_eq!(add_business_days(day(23), 4), day(27));
        assert_eq!(add_business_days(day(23), 5), day(30));
        assert_eq!(add_business_days(day(28), 0), day(30));
        assert_eq!(
            add_business_days(day(28), 2),
            NaiveDate::from_ymd_opt(2026, 12, 2).unwrap_or_default()
        );
    }
}
