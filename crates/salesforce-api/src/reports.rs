//! The Analytics (Reports) API: list reports and run one by id, reading its rows as Salesforce
//! returns them in the `factMap` (`T!T` for a tabular report; one `N!T` per grouping of a summary
//! report, whose `T!T` holds the grand total).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::{Client, Request};
use crate::error::Error;
use crate::names::check_id;

/// A report in the org's list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReportSummary {
    /// The report id (`00O…`).
    pub id: String,
    /// Its name.
    pub name: String,
}

/// One cell of a report row or aggregate.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReportCell {
    /// The formatted value, as a person reads it.
    #[serde(default)]
    pub label: Option<String>,
    /// The raw value (a number, a string, an object for currencies, or null).
    #[serde(default)]
    pub value: Value,
}

/// A grouping of a summary report and its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportGroup {
    /// The grouping's label (`-` for an empty value).
    pub label: String,
    /// Its aggregates, in the report's order.
    pub aggregates: Vec<ReportCell>,
    /// Its detail rows (empty when details were not asked for).
    pub rows: Vec<Vec<ReportCell>>,
}

/// The result of running a report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRun {
    /// The report's name.
    pub name: String,
    /// The detail columns' API names, in cell order.
    pub columns: Vec<String>,
    /// Groupings (summary reports), in order; empty for a tabular report.
    pub groups: Vec<ReportGroup>,
    /// Rows of a tabular report (`T!T`).
    pub rows: Vec<Vec<ReportCell>>,
    /// The grand total's aggregates.
    pub totals: Vec<ReportCell>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRun {
    report_metadata: RawMetadata,
    fact_map: Map<String, Value>,
    #[serde(default)]
    groupings_down: RawGroupings,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetadata {
    name: String,
    #[serde(default)]
    detail_columns: Vec<String>,
}

#[derive(Default, Deserialize)]
struct RawGroupings {
    #[serde(default)]
    groupings: Vec<RawGrouping>,
}

#[derive(Deserialize)]
struct RawGrouping {
    key: String,
    #[serde(default)]
    label: String,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFact {
    #[serde(default)]
    aggregates: Vec<ReportCell>,
    #[serde(default)]
    rows: Vec<RawRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRow {
    data_cells: Vec<ReportCell>,
}

fn fact(fact_map: &Map<String, Value>, key: &str) -> Result<RawFact, Error> {
    fact_map.get(key).map_or(Ok(RawFact::default()), |value| {
        serde_json::from_value(value.clone()).map_err(|e| Error::UnexpectedResponse {
            context: "report factMap",
            detail: e.to_string(),
        })
    })
}

impl Client {
    /// The reports the user can run.
    ///
    /// # Errors
    /// Transport and API failures.
    pub async fn list_reports(&self) -> Result<Vec<ReportSummary>, Error> {
        self.json(
            &Request::get(self.data_path("analytics/reports")),
            "list reports",
        )
        .await
    }

    /// Runs a report synchronously and reads its rows, with detail rows when `include_details`.
    ///
    /// # Errors
    /// An invalid id (before any call), `NOT_FOUND`, transport and API failures.
    pub async fn run_report(
        &self,
        report_id: &str,
        include_details: bool,
    ) -> Result<ReportRun, Error> {
        let path = self.data_path(&format!("analytics/reports/{}", check_id(report_id)?));
        let request = Request::get(path).query("includeDetails", include_details.to_string());
        let raw: RawRun = self.json(&request, "run report").await?;
        let groups = raw
            .groupings_down
            .groupings
            .iter()
            .map(|grouping| {
                let facts = fact(&raw.fact_map, &format!("{}!T", grouping.key))?;
                Ok(ReportGroup {
                    label: grouping.label.clone(),
                    aggregates: facts.aggregates,
                    rows: facts.rows.into_iter().map(|r| r.data_cells).collect(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let total = fact(&raw.fact_map, "T!T")?;
        Ok(ReportRun {
            name: raw.report_metadata.name,
            columns: raw.report_metadata.detail_columns,
            groups,
            rows: total.rows.into_iter().map(|r| r.data_cells).collect(),
            totals: total.aggregates,
        })
    }
}
