//! Fields the org computes rather than the caller: compound names, Opportunity probability and
//! closed/won flags from the stage, closed flags of cases and tasks, checkbox defaults.

use chrono::{DateTime, Utc};

use super::record::Record;
use crate::schema::standard::opportunity_stage;
use crate::schema::{FieldIdx, FieldType, ObjectDef};
use crate::value::Value;

/// Field positions the derivations of one object need, looked up once per object.
#[derive(Debug, Clone, Default)]
pub(crate) struct Derivation {
    booleans: Vec<FieldIdx>,
    compound_name: Option<(FieldIdx, FieldIdx, FieldIdx)>,
    stage: Option<StageFields>,
    closed_by_status: Option<(FieldIdx, FieldIdx, &'static str, Option<FieldIdx>)>,
}

#[derive(Debug, Clone, Copy)]
struct StageFields {
    stage: FieldIdx,
    probability: FieldIdx,
    is_closed: FieldIdx,
    is_won: FieldIdx,
    forecast: FieldIdx,
    amount: FieldIdx,
    expected: FieldIdx,
}

impl Derivation {
    /// Looks up the fields of `object` that derivations touch.
    pub(crate) fn for_object(object: &ObjectDef) -> Self {
        let idx = |name: &str| object.field_index(name);
        let booleans = object
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.field_type == FieldType::Boolean)
            .map(|(i, _)| i)
            .collect();
        let compound_name = match (idx("Name"), idx("FirstName"), idx("LastName")) {
            (Some(n), Some(first), Some(last))
                if object.field_at(n).is_some_and(|f| f.calculated) =>
            {
                Some((n, first, last))
            }
            _ => None,
        };
        let stage = (object.name == "Opportunity")
            .then(|| {
                Some(StageFields {
                    stage: idx("StageName")?,
                    probability: idx("Probability")?,
                    is_closed: idx("IsClosed")?,
                    is_won: idx("IsWon")?,
                    forecast: idx("ForecastCategoryName")?,
                    amount: idx("Amount")?,
                    expected: idx("ExpectedRevenue")?,
                })
            })
            .flatten();
        let closed_by_status = match object.name.as_str() {
            "Case" => Some((idx("Status"), idx("IsClosed"), "Closed", idx("ClosedDate"))),
            "Task" => Some((idx("Status"), idx("IsClosed"), "Completed", None)),
            _ => None,
        }
        .and_then(|(s, c, value, date)| Some((s?, c?, value, date)));
        Self {
            booleans,
            compound_name,
            stage,
            closed_by_status,
        }
    }

    /// Recomputes derived fields of `record`. `explicit` says whether the caller set a field in
    /// this operation; `old` is the record before an update (None on insert).
    pub(crate) fn apply(
        &self,
        record: &mut Record,
        old: Option<&Record>,
        explicit: impl Fn(FieldIdx) -> bool,
        now: DateTime<Utc>,
    ) {
        for &b in &self.booleans {
            if record.get(b).is_null() {
                record.set(b, Value::Bool(false));
            }
        }
        if let Some((name, first, last)) = self.compound_name {
            let full = [record.get(first), record.get(last)]
                .iter()
                .filter_map(|v| v.as_text())
                .collect::<Vec<_>>()
                .join(" ");
            record.set(
                name,
                if full.is_empty() {
                    Value::Null
                } else {
                    Value::text(&full)
                },
            );
        }
        if let Some(s) = self.stage {
            let stage_changed = old.is_none_or(|o| o.get(s.stage) != record.get(s.stage));
            if let Some(stage) = record.get(s.stage).as_text().and_then(opportunity_stage) {
                record.set(s.is_closed, Value::Bool(stage.closed));
                record.set(s.is_won, Value::Bool(stage.won));
                if stage_changed && !explicit(s.probability) {
                    record.set(s.probability, Value::Number(f64::from(stage.probability)));
                }
                if stage_changed && !explicit(s.forecast) {
                    record.set(s.forecast, Value::text(stage.forecast));
                }
            }
            let expected = match (
                record.get(s.amount).as_f64(),
                record.get(s.probability).as_f64(),
            ) {
                (Some(a), Some(p)) => Value::Number((a * p).round() / 100.0),
                _ => Value::Null,
            };
            record.set(s.expected, expected);
        }
        if let Some((status, is_closed, closed_value, closed_date)) = self.closed_by_status {
            let closed = record
                .get(status)
                .as_text()
                .is_some_and(|v| v.eq_ignore_ascii_case(closed_value));
            record.set(is_closed, Value::Bool(closed));
            if let Some(date) = closed_date {
                if closed && record.get(date).is_null() {
                    record.set(date, Value::DateTime(now));
                } else if !closed {
                    record.set(date, Value::Null);
                }
            }
        }
    }
}
