//! The processing counters and the `/metrics` text (Prometheus exposition format), which adds
//! the intake's counters.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use webhooks::IntakeMetricsSnapshot;

/// Counters of the processing loop.
#[derive(Debug, Default)]
pub struct ProcessingMetrics {
    /// Events processed and acknowledged.
    pub processed: AtomicU64,
    /// Processing attempts that failed (the event is retried or dead-lettered).
    pub failed: AtomicU64,
    /// Events moved to the dead-letter stream.
    pub dead_lettered: AtomicU64,
    /// Events taken over from other consumers (XAUTOCLAIM).
    pub reclaimed: AtomicU64,
    /// Milliseconds between receipt and processing of the last processed event.
    pub lag_ms: AtomicI64,
}

/// Renders every counter.
pub fn render(intake: &IntakeMetricsSnapshot, processing: &ProcessingMetrics) -> String {
    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let lines = [
        (
            "received",
            "Requests that reached the intake",
            intake.received,
        ),
        ("acknowledged", "Messages acknowledged", intake.acknowledged),
        ("enqueued", "Notifications stored", intake.enqueued),
        (
            "duplicates",
            "Notifications already stored before",
            intake.duplicates,
        ),
        ("refused", "Requests refused (4xx)", intake.refused),
        (
            "unavailable",
            "Requests answered 503 (store failure)",
            intake.unavailable,
        ),
        ("processed", "Events processed", get(&processing.processed)),
        (
            "failed",
            "Failed processing attempts",
            get(&processing.failed),
        ),
        (
            "dead_lettered",
            "Events dead-lettered",
            get(&processing.dead_lettered),
        ),
        (
            "reclaimed",
            "Events reclaimed from other consumers",
            get(&processing.reclaimed),
        ),
    ];
    let mut out = String::new();
    for (name, help, value) in lines {
        let _ = writeln!(out, "# HELP sfmcp_worker_{name}_total {help}.");
        let _ = writeln!(out, "# TYPE sfmcp_worker_{name}_total counter");
        let _ = writeln!(out, "sfmcp_worker_{name}_total {value}");
    }
    let lag = processing.lag_ms.load(Ordering::Relaxed).max(0);
    let _ = writeln!(
        out,
        "# HELP sfmcp_worker_lag_seconds Receipt-to-processing delay of the last event."
    );
    let _ = writeln!(out, "# TYPE sfmcp_worker_lag_seconds gauge");
    let _ = writeln!(out, "sfmcp_worker_lag_seconds {:.3}", lag as f64 / 1000.0);
    out
}
