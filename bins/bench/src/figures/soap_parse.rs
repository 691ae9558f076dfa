//! Figure 4: SOAP parsing throughput. `webhooks::parse` (namespace-aware, validating, typed)
//! against a bare quick-xml event scan of the same bytes, which is the most any parser on
//! quick-xml can do; in this process, in release, a timed loop each.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::figures::webhook::Outbound;
use crate::{RunArgs, verdict};

const GOAL_SHARE: f64 = 0.5;

/// Runs figure 4.
///
/// # Errors
/// When the parser refuses the benchmark's message (it must not).
pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let (warmup, measure) = args.window();
    for per_message in [1usize, 100] {
        let body = Outbound::envelope(per_message, 1).into_bytes();
        let limits = webhooks::Limits::default();
        let parsed = webhooks::parse(&body, &limits).context("the benchmark message must parse")?;
        anyhow::ensure!(
            parsed.notifications.len() == per_message,
            "parsed the wrong count"
        );
        let parser = timed(warmup, measure, body.len(), || {
            black_box(webhooks::parse(black_box(&body), &limits).is_ok());
        });
        let scan = timed(warmup, measure, body.len(), || {
            black_box(scan_events(black_box(&body)));
        });
        let share = parser / scan;
        println!(
            "4. SOAP parsing, {per_message}-notification message ({} bytes): webhooks parser {parser:.0} MB/s vs bare quick-xml scan {scan:.0} MB/s ({:.0} % of the scan) — goal ≥ {:.0} % {}",
            body.len(),
            share * 100.0,
            GOAL_SHARE * 100.0,
            verdict(share >= GOAL_SHARE),
        );
    }
    Ok(())
}

/// Counts quick-xml events to the end (or the first error).
fn scan_events(body: &[u8]) -> usize {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut events = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) | Err(_) => return events,
            Ok(_) => events += 1,
        }
    }
}

/// MB/s of `work` over `bytes` bytes, after `warmup`.
fn timed(warmup: Duration, measure: Duration, bytes: usize, mut work: impl FnMut()) -> f64 {
    let warm_until = Instant::now() + warmup;
    while Instant::now() < warm_until {
        work();
    }
    let start = Instant::now();
    let mut rounds = 0u64;
    while start.elapsed() < measure {
        for _ in 0..16 {
            work();
        }
        rounds += 16;
    }
    (rounds as f64 * bytes as f64) / start.elapsed().as_secs_f64() / 1e6
}
