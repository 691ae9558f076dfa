//! OpportunityHistory rows. Salesforce writes one when an Opportunity is created and each time
//! its StageName, Amount, Probability or CloseDate changes, holding the values after the change
//! and the amount and close date before it; the API itself can never write one. The same rule
//! builds the demo dataset's history, so generated and live history cannot drift apart.

use super::{OrgData, Record};
use crate::schema::ObjectIdx;
use crate::schema::standard::history_forecast_category;
use crate::value::Value;

/// The Opportunity fields whose change writes a history row.
pub const TRACKED: [&str; 4] = ["StageName", "Amount", "Probability", "CloseDate"];

/// The history row for `opp` (a record of `object`) after a create (`old` is `None`) or an
/// update from `old`; `None` when `object` is not Opportunity or no tracked field changed.
/// The row's id and audit fields are left for the caller to stamp.
pub(crate) fn row(
    data: &OrgData,
    object: ObjectIdx,
    opp: &Record,
    old: Option<&Record>,
) -> Option<(ObjectIdx, Record)> {
    let opp_def = data
        .schema()
        .object_at(object)
        .filter(|d| d.name == "Opportunity")?;
    let (history, def) = data.schema().object("OpportunityHistory")?;
    let get = |record: &Record, name: &str| -> Value {
        opp_def
            .field_index(name)
            .map_or(Value::Null, |i| record.get(i).clone())
    };
    if let Some(old) = old
        && TRACKED.iter().all(|name| get(opp, name) == get(old, name))
    {
        return None;
    }
    let mut row = Record::new(opp.id);
    let mut set = |name: &str, value: Value| {
        if let Some(idx) = def.field_index(name) {
            row.set(idx, value);
        }
    };
    set("OpportunityId", Value::Id(opp.id));
    for name in [
        "StageName",
        "Amount",
        "ExpectedRevenue",
        "CloseDate",
        "Probability",
    ] {
        set(name, get(opp, name));
    }
    let category = get(opp, "ForecastCategoryName");
    set(
        "ForecastCategory",
        category
            .as_text()
            .map_or(Value::Null, |c| Value::text(history_forecast_category(c))),
    );
    if let Some(old) = old {
        set("PrevAmount", get(old, "Amount"));
        set("PrevCloseDate", get(old, "CloseDate"));
    }
    Some((history, row))
}
