//! Bulk API 2.0 through the client against the sandbox: an ingest with mixed successes and
//! failures through the whole state machine, progress reports, splitting into several jobs at the
//! upload limit, results larger than one page counted and streamed in full while only a bounded
//! few are kept, and a 50,000-row query read page by page.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt, stream};
use salesforce_api::{
    IngestOperation, IngestRequest, JobKind, JobState, KeepRows, PollPolicy, RESULT_PAGE_BYTES,
};

use crate::support::Org;

fn fast_poll() -> PollPolicy {
    PollPolicy {
        first: Duration::from_millis(20),
        max: Duration::from_millis(100),
        timeout: Duration::from_secs(120),
    }
}

#[tokio::test]
async fn ingest_reports_successes_and_failures_row_by_row() {
    let org = Org::start().await;
    let client = org.client();
    let request = IngestRequest::new(
        "Lead",
        IngestOperation::Insert,
        vec!["LastName".into(), "Company".into(), "Industry".into()],
    );
    let rows = vec![
        vec![
            "Ada".into(),
            "Analytical, Engines".into(),
            "Technology".into(),
        ],
        vec!["".into(), "No Last Name Ltd".into(), "Energy".into()],
        vec!["Grace".into(), "Say \"COBOL\"".into(), "Healthcare".into()],
        vec![
            "L".repeat(81),
            "Kernel\nHackers".into(),
            "Technology".into(),
        ],
    ];
    let progress = Arc::new(AtomicU64::new(0));
    let seen = progress.clone();
    let outcome = client
        .bulk_ingest(&request, stream::iter(rows), fast_poll(), move |p| {
            assert!(p.total == Some(4));
            seen.store(p.processed, Ordering::SeqCst);
        })
        .await
        .unwrap();
    assert_eq!(outcome.jobs.len(), 1);
    assert_eq!(outcome.jobs[0].state, JobState::JobComplete);
    assert_eq!(
        (
            outcome.successful,
            outcome.created,
            outcome.failed,
            outcome.unprocessed
        ),
        (2, 2, 2, 0)
    );
    assert_eq!(
        progress.load(Ordering::SeqCst),
        4,
        "progress reached every processed row"
    );
    let mut created: Vec<&str> = outcome
        .successful_rows
        .iter()
        .map(|r| r.fields[1].1.as_str())
        .collect();
    created.sort();
    assert_eq!(created, vec!["Analytical, Engines", "Say \"COBOL\""]);
    assert!(
        outcome
            .successful_rows
            .iter()
            .all(|r| r.created && r.id.starts_with("00Q"))
    );
    let mut failed: Vec<(&str, &str)> = outcome
        .failed_rows
        .iter()
        .map(|r| (r.fields[1].1.as_str(), r.error.split(':').next().unwrap()))
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        vec![
            ("Kernel\nHackers", "STRING_TOO_LONG"),
            ("No Last Name Ltd", "REQUIRED_FIELD_MISSING")
        ]
    );
    let count = client
        .count("SELECT COUNT() FROM Lead WHERE Company IN ('Analytical, Engines', 'Say \"COBOL\"')")
        .await
        .unwrap();
    assert_eq!(count, 2);
}

#[tokio::test]
async fn a_large_ingest_is_split_into_several_jobs() {
    let org = Org::start().await;
    let client = org.client();
    let mut request =
        IngestRequest::new("Contact", IngestOperation::Insert, vec!["LastName".into()]);
    request.max_job_bytes = 4_000; // ~300 rows a job, to exercise the split without 100 MB of data
    request.keep = KeepRows::first(100);
    let rows = stream::iter((0..1_000).map(|i| vec![format!("Split {i:05}")]));
    let outcome = client
        .bulk_ingest(&request, rows, fast_poll(), |_| {})
        .await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => panic!("{e}: {:#?}", org.api_requests().await),
    };
    assert!(outcome.jobs.len() >= 3, "{} jobs", outcome.jobs.len());
    assert_eq!((outcome.successful, outcome.failed), (1_000, 0));
    assert_eq!(outcome.successful_rows.len(), 100, "kept up to the bound");
    assert_eq!(
        outcome.successful_rows[0].fields,
        vec![("LastName".to_owned(), "Split 00000".to_owned())],
        "the first rows are kept"
    );
    assert_eq!(
        client
            .count("SELECT COUNT() FROM Contact WHERE LastName LIKE 'Split %'")
            .await
            .unwrap(),
        1_000
    );
}

#[tokio::test]
async fn results_larger_than_a_page_are_all_accounted_for() {
    let org = Org::start().await;
    let client = org.client();
    let mut request = IngestRequest::new(
        "Lead",
        IngestOperation::Insert,
        vec!["LastName".into(), "Company".into()],
    );
    request.keep = KeepRows {
        successful: 5,
        failed: 3,
        unprocessed: 0,
    };
    let total = 30_000u64;
    // Every seventh row has no LastName, which Salesforce refuses.
    let row = |i: u64| {
        let last = if i.is_multiple_of(7) {
            String::new()
        } else {
            format!("Paged {i:06}")
        };
        vec![last, format!("Company {i:06} {}", "c".repeat(40))]
    };
    let rows = stream::iter((0..total).map(row));
    let outcome = client
        .bulk_ingest(&request, rows, fast_poll(), |_| {})
        .await
        .unwrap();
    let failing = (0..total).filter(|i| i.is_multiple_of(7)).count() as u64;
    assert_eq!(outcome.jobs.len(), 1);
    assert_eq!(
        (outcome.successful, outcome.created, outcome.failed),
        (total - failing, total - failing, failing)
    );
    assert_eq!(
        (outcome.successful_rows.len(), outcome.failed_rows.len()),
        (5, 3),
        "only the bound is kept"
    );

    // Each result CSV is several pages long; streamed, every row is there exactly once.
    let job = &outcome.jobs[0].id;
    let companies = |fields: &[(String, String)]| fields[1].1.clone();
    let mut succeeded: Vec<String> = client
        .successful_results(job)
        .map_ok(|r| companies(&r.fields))
        .try_collect()
        .await
        .unwrap();
    // Each row is at least the 18-character id, `true`, the LastName and the Company.
    let result_bytes = succeeded.iter().map(|c| c.len() + 30).sum::<usize>();
    assert!(
        result_bytes > 2 * RESULT_PAGE_BYTES,
        "{result_bytes} bytes of results is more than two pages"
    );
    let mut failed: Vec<String> = client
        .failed_results(job)
        .map_ok(|r| companies(&r.fields))
        .try_collect()
        .await
        .unwrap();
    succeeded.sort();
    succeeded.dedup();
    failed.sort();
    failed.dedup();
    let expected = |fails: bool| -> Vec<String> {
        (0..total)
            .filter(|i| i.is_multiple_of(7) == fails)
            .map(|i| row(i)[1].clone())
            .collect()
    };
    assert_eq!(succeeded, expected(false));
    assert_eq!(failed, expected(true));
}

#[tokio::test]
async fn a_fifty_thousand_row_query_streams_page_by_page() {
    let org = Org::start().await;
    let client = org.client();
    let request = IngestRequest::new(
        "Account",
        IngestOperation::Insert,
        vec!["Name".into(), "Industry".into()],
    );
    let rows =
        stream::iter((0..50_000).map(|i| vec![format!("Bulk Account {i:05}"), "Energy".into()]));
    let outcome = client
        .bulk_ingest(&request, rows, fast_poll(), |_| {})
        .await
        .unwrap();
    assert_eq!(outcome.successful, 50_000);

    let job = client
        .create_query_job(
            "SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk Account %'",
            false,
        )
        .await
        .unwrap();
    let done = client
        .wait_for_job(&job.id, JobKind::Query, fast_poll(), |_| {})
        .await
        .unwrap();
    assert_eq!(done.state, JobState::JobComplete);
    assert_eq!(done.number_records_processed, 50_000);

    org.clear_log().await;
    let mut rows = std::pin::pin!(client.query_results_stream(&job.id, 10_000));
    let first = rows.next().await.unwrap().unwrap();
    assert_eq!(first.0.as_slice(), ["Id", "Name"]);
    let pages_before_reading_on = org.api_requests().await.len();
    assert_eq!(
        pages_before_reading_on, 1,
        "only one page is held before it is consumed"
    );
    let rest: Vec<_> = rows.try_collect().await.unwrap();
    assert_eq!(rest.len() + 1, 50_000);
    let mut names: Vec<String> = rest.into_iter().map(|(_, row)| row[1].clone()).collect();
    names.push(first.1[1].clone());
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 50_000, "every row exactly once");
    assert_eq!(org.api_requests().await.len(), 5, "five pages of 10,000");
}

#[tokio::test]
async fn an_open_job_can_be_aborted_and_a_final_job_deleted() {
    let org = Org::start().await;
    let client = org.client();
    let request = IngestRequest::new("Contact", IngestOperation::Insert, vec!["LastName".into()]);
    let job = client.create_ingest_job(&request).await.unwrap();
    assert_eq!(job.state, JobState::Open);
    client
        .upload_job_data(
            &job.id,
            bytes::Bytes::from_static(b"LastName\nNever Sent\n"),
        )
        .await
        .unwrap();
    let aborted = client.abort_ingest_job(&job.id).await.unwrap();
    assert_eq!(aborted.state, JobState::Aborted);
    let unprocessed: Vec<_> = client
        .unprocessed_records(&job.id)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        unprocessed,
        vec![vec![("LastName".to_owned(), "Never Sent".to_owned())]]
    );
    assert_eq!(
        client.ingest_job(&job.id).await.unwrap().state,
        JobState::Aborted
    );
    assert_eq!(
        client
            .count("SELECT COUNT() FROM Contact WHERE LastName = 'Never Sent'")
            .await
            .unwrap(),
        0
    );
    client.delete_ingest_job(&job.id).await.unwrap();
    let gone = client.ingest_job(&job.id).await.unwrap_err();
    assert_eq!(gone.class(), salesforce_api::ErrorClass::NotFound, "{gone}");
}

#[test]
fn record_ids_are_checked_and_converted() {
    use salesforce_api::id;
    assert_eq!(id::to_18("001M000000qfPyS").unwrap(), "001M000000qfPySIAU");
    assert!(id::is_valid("a0RE000000IJmcNMAT"));
    assert!(!id::is_valid("a0RE000000IJmcNMAX"));
    assert_eq!(id::object_for_prefix("00Q"), Some("Lead"));
}
