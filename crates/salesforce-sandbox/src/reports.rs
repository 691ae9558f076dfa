//! The Reports API for a few built-in reports: `GET /analytics/reports` lists them and
//! `GET|POST /analytics/reports/{id}` runs one synchronously, answering with Salesforce's shape
//! (`attributes`, `reportMetadata`, `groupingsDown`, `factMap` with `rows[].dataCells[{label,
//! value}]` and `aggregates[{label, value}]`, `hasDetailRows`, `allData`).
//!
//! Each report is a fixed SOQL query run through the engine, grouped in memory. Summary reports
//! put each group's rows and aggregates under `"<n>!T"` and the grand total under `"T!T"` (no
//! rows there, as in Salesforce); tabular reports put every row under `"T!T"`. Detail rows are
//! included unless `includeDetails=false`. POST bodies (report metadata overrides) are not
//! applied: the report runs as defined.

use http::{Method, StatusCode};
use salesforce_core::id::RecordId;
use serde_json::{Map, Value as Json, json};

use crate::error::ApiFailure;
use crate::http::{Reply, form_pairs, param};
use crate::rest::Call;
use crate::soql_engine::{self, Row};
use crate::store::OrgData;
use crate::value::Value;

/// One detail column: report column name, label, SOQL field, and whether it is the record name
/// (whose cell value is the record id).
struct Column {
    name: &'static str,
    label: &'static str,
    field: &'static str,
    is_name: bool,
}

/// A built-in report.
struct Report {
    number: u64,
    name: &'static str,
    developer_name: &'static str,
    object: &'static str,
    object_label: &'static str,
    soql: &'static str,
    columns: &'static [Column],
    /// The grouping column (by report column name), `None` for tabular reports.
    group_by: Option<&'static str>,
    /// A summed currency column, by report column name.
    sum: Option<&'static str>,
}

const fn column(
    name: &'static str,
    label: &'static str,
    field: &'static str,
    is_name: bool,
) -> Column {
    Column {
        name,
        label,
        field,
        is_name,
    }
}

const OPPORTUNITY_COLUMNS: &[Column] = &[
    column("OPPORTUNITY_NAME", "Opportunity Name", "Name", true),
    column("STAGE_NAME", "Stage", "StageName", false),
    column("AMOUNT", "Amount", "Amount", false),
    column("CLOSE_DATE", "Close Date", "CloseDate", false),
];

const REPORTS: &[Report] = &[
    Report {
        number: 1,
        name: "Open Pipeline by Stage",
        developer_name: "Open_Pipeline_by_Stage",
        object: "Opportunity",
        object_label: "Opportunities",
        soql: "SELECT Name, StageName, Amount, CloseDate FROM Opportunity WHERE IsClosed = false ORDER BY StageName, Name",
        columns: OPPORTUNITY_COLUMNS,
        group_by: Some("STAGE_NAME"),
        sum: Some("AMOUNT"),
    },
    Report {
        number: 2,
        name: "Leads by Source",
        developer_name: "Leads_by_Source",
        object: "Lead",
        object_label: "Leads",
        soql: "SELECT Name, Company, LeadSource, Status FROM Lead ORDER BY LeadSource, Name",
        columns: &[
            column("LEAD_NAME", "Name", "Name", true),
            column("COMPANY", "Company", "Company", false),
            column("LEAD_SOURCE", "Lead Source", "LeadSource", false),
            column("STATUS", "Lead Status", "Status", false),
        ],
        group_by: Some("LEAD_SOURCE"),
        sum: None,
    },
    Report {
        number: 3,
        name: "Cases by Priority",
        developer_name: "Cases_by_Priority",
        object: "Case",
        object_label: "Cases",
        soql: "SELECT CaseNumber, Subject, Priority, Status FROM Case ORDER BY Priority, CaseNumber",
        columns: &[
            column("CASE_NUMBER", "Case Number", "CaseNumber", true),
            column("SUBJECT", "Subject", "Subject", false),
            column("PRIORITY", "Priority", "Priority", false),
            column("STATUS", "Status", "Status", false),
        ],
        group_by: Some("PRIORITY"),
        sum: None,
    },
    Report {
        number: 4,
        name: "Open Opportunities",
        developer_name: "Open_Opportunities",
        object: "Opportunity",
        object_label: "Opportunities",
        soql: "SELECT Name, StageName, Amount, CloseDate FROM Opportunity WHERE IsClosed = false ORDER BY CloseDate, Name",
        columns: OPPORTUNITY_COLUMNS,
        group_by: None,
        sum: Some("AMOUNT"),
    },
];

impl Report {
    fn id(&self) -> RecordId {
        RecordId::mint("00O", self.number)
    }

    fn urls(&self, call: &Call<'_>) -> Map<String, Json> {
        let url = format!("{}/analytics/reports/{}", call.base(), self.id());
        let mut map = Map::new();
        map.insert("describeUrl".into(), json!(format!("{url}/describe")));
        map.insert("instancesUrl".into(), json!(format!("{url}/instances")));
        map.insert("url".into(), json!(url));
        map
    }

    fn aggregates(&self) -> Vec<String> {
        self.sum
            .map(|s| format!("s!{s}"))
            .into_iter()
            .chain(std::iter::once("RowCount".to_owned()))
            .collect()
    }

    fn metadata(&self) -> Json {
        json!({
            "aggregates": self.aggregates(),
            "detailColumns": self.columns.iter().map(|c| c.name).collect::<Vec<_>>(),
            "developerName": self.developer_name,
            "groupingsAcross": [],
            "groupingsDown": self.group_by.map(|g| vec![json!({"dateGranularity": "None", "name": g, "sortOrder": "Asc"})]).unwrap_or_default(),
            "hasDetailRows": true,
            "id": self.id().as_str(),
            "name": self.name,
            "reportFilters": [],
            "reportFormat": if self.group_by.is_some() { "SUMMARY" } else { "TABULAR" },
            "reportType": {"label": self.object_label, "type": self.object},
        })
    }
}

/// Serves `/analytics/reports[/{id}]`.
pub fn handle(call: &Call<'_>, data: &OrgData, rest: &[&str]) -> Result<Reply, ApiFailure> {
    match (call.method.clone(), rest) {
        (Method::GET, [] | [""]) => {
            let list: Vec<Json> = REPORTS
                .iter()
                .map(|r| {
                    let mut entry = r.urls(call);
                    entry.insert("id".into(), json!(r.id().as_str()));
                    entry.insert("name".into(), json!(r.name));
                    Json::Object(entry)
                })
                .collect();
            Ok(Reply::json(StatusCode::OK, &list))
        }
        (Method::GET | Method::POST, [id]) => {
            let report = REPORTS
                .iter()
                .find(|r| r.id().matches(id))
                .ok_or_else(ApiFailure::not_found)?;
            let pairs = form_pairs(call.query);
            let details = param(&pairs, "includeDetails") != Some("false");
            run(call, data, report, details).map(|body| Reply::json(StatusCode::OK, &body))
        }
        (_, [_]) => Err(crate::rest::method_not_allowed(call.method)),
        _ => Err(ApiFailure::not_found()),
    }
}

fn run(
    call: &Call<'_>,
    data: &OrgData,
    report: &Report,
    details: bool,
) -> Result<Json, ApiFailure> {
    let now = call.state.clock.now();
    let result = soql_engine::snapshot(data, report.soql, false, now)?;
    let rows = result.records(data, call.version);
    let group_field = report
        .group_by
        .and_then(|g| report.columns.iter().find(|c| c.name == g))
        .map(|c| c.field);
    let mut groups: Vec<(String, Vec<&Row>)> = Vec::new();
    if let Some(field) = group_field {
        for row in &rows {
            let key = row
                .value(field)
                .and_then(Value::as_text)
                .unwrap_or("")
                .to_owned();
            match groups.last_mut() {
                Some((last, members)) if *last == key => members.push(row),
                _ => groups.push((key, vec![row])),
            }
        }
    }
    let mut fact_map = Map::new();
    let mut groupings = Vec::new();
    for (n, (key, members)) in groups.iter().enumerate() {
        let label = if key.is_empty() { "-" } else { key.as_str() };
        groupings.push(json!({"groupings": [], "key": n.to_string(), "label": label, "value": if key.is_empty() { Json::Null } else { json!(key) }}));
        fact_map.insert(
            format!("{n}!T"),
            fact(report, members.iter().copied(), details),
        );
    }
    let grand_rows = details && report.group_by.is_none();
    let mut total = fact(report, rows.iter(), grand_rows);
    if !grand_rows && let Some(obj) = total.as_object_mut() {
        obj.insert("rows".into(), json!([]));
    }
    fact_map.insert("T!T".into(), total);
    let column_info: Map<String, Json> = report
        .columns
        .iter()
        .map(|c| (c.name.to_owned(), json!({"label": c.label})))
        .collect();
    let mut attributes = report.urls(call);
    attributes.remove("url");
    attributes.insert("reportId".into(), json!(report.id().as_str()));
    attributes.insert("reportName".into(), json!(report.name));
    attributes.insert("type".into(), json!("Report"));
    Ok(json!({
        "allData": true,
        "attributes": attributes,
        "factMap": fact_map,
        "groupingsAcross": {"groupings": []},
        "groupingsDown": {"groupings": groupings},
        "hasDetailRows": details,
        "reportExtendedMetadata": {"detailColumnInfo": column_info},
        "reportMetadata": report.metadata(),
    }))
}

/// One factMap entry: aggregates in metadata order and (when asked) the detail rows.
fn fact<'r>(report: &Report, rows: impl Iterator<Item = &'r Row> + Clone, details: bool) -> Json {
    let count = rows.clone().count();
    let mut aggregates = Vec::new();
    if let Some(sum_column) = report
        .sum
        .and_then(|s| report.columns.iter().find(|c| c.name == s))
    {
        let sum: f64 = rows
            .clone()
            .filter_map(|r| r.value(sum_column.field).and_then(Value::as_f64))
            .sum();
        aggregates.push(json!({"label": money(sum), "value": sum}));
    }
    aggregates.push(json!({"label": count.to_string(), "value": count}));
    let detail_rows: Vec<Json> = if details {
        rows.map(|row| json!({"dataCells": report.columns.iter().map(|c| cell(row, c)).collect::<Vec<_>>()}))
            .collect()
    } else {
        Vec::new()
    };
    json!({"aggregates": aggregates, "rows": detail_rows})
}

fn cell(row: &Row, column: &Column) -> Json {
    let value = row.value(column.field).cloned().unwrap_or(Value::Null);
    if column.is_name {
        let label = value.as_text().unwrap_or("-").to_owned();
        let id = row.id().map(|id| id.as_str().to_owned());
        return json!({"label": label, "value": id});
    }
    match value {
        Value::Null => json!({"label": "-", "value": null}),
        Value::Number(n) => json!({"label": money(n), "value": {"amount": n, "currency": null}}),
        Value::Text(t) => json!({"label": t.as_ref(), "value": t.as_ref()}),
        other => {
            let wire = serde_json::to_value(&other).unwrap_or(Json::Null);
            let label = match &wire {
                Json::String(s) => s.clone(),
                v => v.to_string(),
            };
            json!({"label": label, "value": wire})
        }
    }
}

/// `$1,234.50`: the label Salesforce shows for a USD amount.
fn money(amount: f64) -> String {
    let cents = (amount.abs() * 100.0).round() as u64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if amount < 0.0 { "-" } else { "" };
    format!("{sign}${grouped}.{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_labels() {
        assert_eq!(money(0.0), "$0.00");
        assert_eq!(money(1234.5), "$1,234.50");
        assert_eq!(money(-1_000_000.0), "-$1,000,000.00");
    }
}
