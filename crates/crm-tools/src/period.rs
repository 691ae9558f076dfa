//! Created-date periods as the model names them (`today`, `this_week`, `last_n_days:30`, or
//! explicit dates) turned into typed SOQL filters on a datetime field.

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use salesforce_api::soql::{Field, Filter, RelativeDate};

use crate::Error;

/// The pattern the input schema gives for a period name.
pub(crate) const PERIOD_PATTERN: &str = "^(today|yesterday|this_week|last_week|this_month|last_month|this_quarter|last_quarter|this_year|last_year|last_n_days:[0-9]{1,4})$";

/// Reads a period name; the schema's pattern has already checked its shape.
pub(crate) fn parse_period(text: &str) -> Result<RelativeDate, Error> {
    let fixed = match text {
        "today" => Some(RelativeDate::Today),
        "yesterday" => Some(RelativeDate::Yesterday),
        "this_week" => Some(RelativeDate::ThisWeek),
        "last_week" => Some(RelativeDate::LastWeek),
        "this_month" => Some(RelativeDate::ThisMonth),
        "last_month" => Some(RelativeDate::LastMonth),
        "this_quarter" => Some(RelativeDate::ThisQuarter),
        "last_quarter" => Some(RelativeDate::LastQuarter),
        "this_year" => Some(RelativeDate::ThisYear),
        "last_year" => Some(RelativeDate::LastYear),
        _ => None,
    };
    if let Some(fixed) = fixed {
        return Ok(fixed);
    }
    text.strip_prefix("last_n_days:")
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| (1..=3650).contains(n))
        .map(RelativeDate::LastNDays)
        .ok_or_else(|| {
            Error::invalid(format!(
                "`createdPeriod` must be one of today, yesterday, this_week, last_week, this_month, last_month, this_quarter, last_quarter, this_year, last_year or last_n_days:N with N from 1 to 3650; got `{}`",
                text.chars().take(40).collect::<String>()
            ))
        })
}

/// Filters on `field` (a datetime) for a period and/or an inclusive date range (whole UTC days).
pub(crate) fn created_filters(
    field: &str,
    period: Option<&str>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<Filter>, Error> {
    let f = Field::new(field)?;
    let mut filters = Vec::new();
    if let Some(period) = period {
        filters.push(f.eq(parse_period(period)?));
    }
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(Error::invalid(format!(
            "`createdFrom` ({from}) is after `createdTo` ({to}): swap them"
        )));
    }
    if let Some(from) = from {
        filters.push(f.ge(Utc.from_utc_datetime(&from.and_time(NaiveTime::MIN))));
    }
    if let Some(to) = to {
        let next = to
            .succ_opt()
            .ok_or_else(|| Error::invalid("`createdTo` is out of range"))?;
        filters.push(f.lt(Utc.from_utc_datetime(&next.and_time(NaiveTime::MIN))));
    }
    Ok(filters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use salesforce_api::soql::Select;

    fn soql(filters: Vec<Filter>) -> String {
        filters
            .into_iter()
            .fold(Select::from("Lead").field("Id"), Select::filter)
            .to_soql()
            .unwrap()
    }

    #[test]
    fn periods_and_ranges() {
        assert_eq!(
            soql(created_filters("CreatedDate", Some("this_week"), None, None).unwrap()),
            "SELECT Id FROM Lead WHERE CreatedDate = THIS_WEEK"
        );
        assert_eq!(
            soql(created_filters("CreatedDate", Some("last_n_days:30"), None, None).unwrap()),
            "SELECT Id FROM Lead WHERE CreatedDate = LAST_N_DAYS:30"
        );
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day);
        assert_eq!(
            soql(created_filters("CreatedDate", None, d(11, 1), d(11, 30)).unwrap()),
            "SELECT Id FROM Lead WHERE CreatedDate >= 2026-11-01T00:00:00Z AND CreatedDate < 2026-12-01T00:00:00Z"
        );
        assert!(created_filters("CreatedDate", None, d(11, 30), d(11, 1)).is_err());
        assert!(parse_period("last_n_days:0").is_err());
        assert!(parse_period("next_week").is_err());
    }
}
