//! The stage history (OpportunityHistory) of a set of opportunities: one query per chunk of
//! ids, oldest row first, read page by page up to a fixed bound per chunk. `analyzePipeline`
//! reads it for pushed close dates, the date a deal entered its stage, and the stages closed
//! deals passed through.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use salesforce_api::soql::{Field, Select};
use salesforce_api::{QueryOptions, Record};

use crate::analytics::pipeline::HistoryRow;
use crate::output::day;
use crate::{Connection, Error};

/// Ids per `IN` list: keeps each query's URL well under Salesforce's limit.
const CHUNK: usize = 200;
/// History rows read per chunk of ids (50 changes per deal on average): a deal with a longer
/// history than its share is read only in part, which [`StageHistory::truncated`] reports.
const MAX_ROWS_PER_CHUNK: u64 = 10_000;

/// The history rows of each opportunity, oldest first.
#[derive(Debug, Default)]
pub(crate) struct StageHistory {
    pub(crate) by_deal: BTreeMap<String, Vec<HistoryRow>>,
    /// Whether some chunk hit [`MAX_ROWS_PER_CHUNK`].
    pub(crate) truncated: bool,
}

/// The history of the opportunities `ids`, ordered by `CreatedDate` then `Id` within each.
pub(crate) async fn history_of(
    connection: &Connection,
    ids: &[String],
) -> Result<StageHistory, Error> {
    let mut queries = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let select = Select::from("OpportunityHistory")
            .fields([
                "Id",
                "OpportunityId",
                "StageName",
                "CloseDate",
                "CreatedDate",
            ])
            .filter(Field::new("OpportunityId")?.is_in(chunk.iter()))
            .order_by(Field::new("CreatedDate")?.asc())
            .order_by(Field::new("Id")?.asc())
            .limit(MAX_ROWS_PER_CHUNK);
        queries.push(select.to_soql()?);
    }
    let pages = futures::future::try_join_all(queries.iter().map(|soql| {
        connection
            .client
            .query_stream::<Record>(soql, QueryOptions::default())
            .try_collect::<Vec<Record>>()
    }))
    .await?;
    let mut out = StageHistory::default();
    for rows in pages {
        out.truncated |= rows.len() as u64 >= MAX_ROWS_PER_CHUNK;
        for row in rows {
            let Some(deal) = row.get_str("OpportunityId") else {
                continue;
            };
            out.by_deal
                .entry(deal.to_owned())
                .or_default()
                .push(HistoryRow {
                    stage: row.get_str("StageName").unwrap_or_default().to_owned(),
                    close_date: day(&row, "CloseDate"),
                    at: day(&row, "CreatedDate"),
                });
        }
    }
    Ok(out)
}
