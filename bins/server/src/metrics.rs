//! Prometheus text metrics: HTTP requests by route and status, their latency histogram, tool
//! calls by tool and outcome with their latency histogram (heard through `mcp-protocol`'s
//! [`ToolObserver`]), webhook events followed and the cached records they dropped, and the
//! Salesforce gauges (API usage, circuit breaker, token refreshes) read at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use mcp_protocol::{ToolObserver, ToolOutcome};
use salesforce_api::{BreakerState, UsageSnapshot};

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (count, bound) in self.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }

    /// The `_bucket`, `_sum` and `_count` lines of `name` for the label set `labels`.
    fn render(&self, out: &mut String, name: &str, labels: &str) {
        for (count, bound) in self.counts.iter().zip(BUCKETS) {
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
    rate_limited: u64,
    /// Tool names come from the registered tools, a fixed set.
    tool_calls: BTreeMap<(String, ToolOutcome), u64>,
    tool_latency: BTreeMap<String, Histogram>,
    events_followed: u64,
    cache_invalidations: u64,
}

/// The server's request metrics. Routes are a fixed set of labels, so the maps stay small.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

/// Salesforce figures read at scrape time.
#[derive(Debug, Clone, Copy)]
pub struct SalesforceGauges {
    /// API usage as last reported by Salesforce.
    pub usage: UsageSnapshot,
    /// Circuit breaker state.
    pub breaker: BreakerState,
    /// Access tokens fetched again after Salesforce refused one.
    pub token_refreshes: u64,
}

impl Metrics {
    /// Records one answered request.
    pub fn record(&self, route: &'static str, status: u16, elapsed: Duration) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *inner.requests.entry((route, status)).or_default() += 1;
        inner.latency.entry(route).or_default().observe(elapsed);
    }

    /// Records a request refused by the rate limit.
    pub fn record_rate_limited(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .rate_limited += 1;
    }

    /// Records one webhook event read from the feed, which dropped `invalidated` cached records.
    pub fn record_followed_event(&self, invalidated: usize) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.events_followed += 1;
        inner.cache_invalidations += u64::try_from(invalidated).unwrap_or(u64::MAX);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self, salesforce: &SalesforceGauges) -> String {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP sfmcp_http_requests_total HTTP requests answered, by route and status.\n# TYPE sfmcp_http_requests_total counter\n");
        for ((route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "sfmcp_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP sfmcp_http_request_duration_seconds Time to the response head, by route.\n# TYPE sfmcp_http_request_duration_seconds histogram\n");
        for (route, h) in &inner.latency {
            h.render(
                &mut out,
                "sfmcp_http_request_duration_seconds",
                &format!("route=\"{route}\""),
            );
        }
        out.push_str("# HELP sfmcp_tool_calls_total MCP tool calls, by tool and outcome (ok, error, invalid_arguments, cancelled, panicked).\n# TYPE sfmcp_tool_calls_total counter\n");
        for ((tool, outcome), n) in &inner.tool_calls {
            let _ = writeln!(
                out,
                "sfmcp_tool_calls_total{{tool=\"{tool}\",outcome=\"{}\"}} {n}",
                outcome.as_str()
            );
        }
        out.push_str("# HELP sfmcp_tool_call_duration_seconds Tool call latency, by tool.\n# TYPE sfmcp_tool_call_duration_seconds histogram\n");
        for (tool, h) in &inner.tool_latency {
            h.render(
                &mut out,
                "sfmcp_tool_call_duration_seconds",
                &format!("tool=\"{tool}\""),
            );
        }
        let _ = write!(
            out,
            "# HELP sfmcp_rate_limited_total Requests refused with 429.\n# TYPE sfmcp_rate_limited_total counter\nsfmcp_rate_limited_total {}\n",
            inner.rate_limited
        );
        let _ = write!(
            out,
            "# HELP sfmcp_feed_events_followed_total Webhook events read from the event feed.\n# TYPE sfmcp_feed_events_followed_total counter\nsfmcp_feed_events_followed_total {}\n# HELP sfmcp_record_cache_invalidations_total Cached records dropped because a webhook event named them.\n# TYPE sfmcp_record_cache_invalidations_total counter\nsfmcp_record_cache_invalidations_total {}\n",
            inner.events_followed, inner.cache_invalidations
        );
        let usage = salesforce.usage;
        let _ = write!(
            out,
            "# HELP sfmcp_salesforce_api_requests_sent_total Salesforce API requests sent by this process.\n# TYPE sfmcp_salesforce_api_requests_sent_total counter\nsfmcp_salesforce_api_requests_sent_total {}\n",
            usage.sent_by_us
        );
        if let (Some(used), Some(max)) = (usage.used, usage.max) {
            let _ = write!(
                out,
                "# HELP sfmcp_salesforce_api_daily_used Org API requests used in the last 24 hours (Sforce-Limit-Info).\n# TYPE sfmcp_salesforce_api_daily_used gauge\nsfmcp_salesforce_api_daily_used {used}\n# HELP sfmcp_salesforce_api_daily_max Org daily API request limit.\n# TYPE sfmcp_salesforce_api_daily_max gauge\nsfmcp_salesforce_api_daily_max {max}\n"
            );
        }
        let breaker = match salesforce.breaker {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        };
        let _ = write!(
            out,
            "# HELP sfmcp_salesforce_breaker_state Circuit breaker: 0 closed, 1 half-open, 2 open.\n# TYPE sfmcp_salesforce_breaker_state gauge\nsfmcp_salesforce_breaker_state {breaker}\n# HELP sfmcp_token_refreshes_total Salesforce access tokens renewed (refresh-token grants, or client-credentials fetches after a refusal).\n# TYPE sfmcp_token_refreshes_total counter\nsfmcp_token_refreshes_total {}\n",
            salesforce.token_refreshes
        );
        out
    }
}

impl ToolObserver for Metrics {
    fn tool_called(&self, tool: &str, outcome: ToolOutcome, elapsed: Duration) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        *inner
            .tool_calls
            .entry((tool.to_owned(), outcome))
            .or_default() += 1;
        inner
            .tool_latency
            .entry(tool.to_owned())
            .or_default()
            .observe(elapsed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_latencies_render_as_prometheus_text() {
        let metrics = Metrics::default();
        metrics.record("/mcp", 200, Duration::from_millis(20));
        metrics.record("/mcp", 200, Duration::from_millis(700));
        metrics.record("/healthz", 200, Duration::from_millis(1));
        metrics.tool_called("searchLeads", ToolOutcome::Ok, Duration::from_millis(30));
        metrics.tool_called("searchLeads", ToolOutcome::Error, Duration::from_millis(3));
        metrics.record_followed_event(2);
        metrics.record_followed_event(0);
        let text = metrics.render(&SalesforceGauges {
            usage: UsageSnapshot {
                used: Some(12),
                max: Some(15000),
                sent_by_us: 3,
            },
            breaker: BreakerState::Open,
            token_refreshes: 1,
        });
        assert!(text.contains("sfmcp_http_requests_total{route=\"/mcp\",status=\"200\"} 2\n"));
        assert!(text.contains(
            "sfmcp_http_request_duration_seconds_bucket{route=\"/mcp\",le=\"0.025\"} 1\n"
        ));
        assert!(
            text.contains(
                "sfmcp_http_request_duration_seconds_bucket{route=\"/mcp\",le=\"1\"} 2\n"
            )
        );
        assert!(text.contains("sfmcp_salesforce_api_daily_used 12\n"));
        assert!(text.contains("sfmcp_salesforce_breaker_state 2\n"));
        assert!(text.contains("sfmcp_token_refreshes_total 1\n"));
        assert!(text.contains("sfmcp_feed_events_followed_total 2\n"));
        assert!(text.contains("sfmcp_record_cache_invalidations_total 2\n"));
        assert!(text.contains("sfmcp_tool_calls_total{tool=\"searchLeads\",outcome=\"ok\"} 1\n"));
        assert!(
            text.contains("sfmcp_tool_calls_total{tool=\"searchLeads\",outcome=\"error\"} 1\n")
        );
        assert!(text.contains(
            "sfmcp_tool_call_duration_seconds_bucket{tool=\"searchLeads\",le=\"0.025\"} 1\n"
        ));
        assert!(text.contains("sfmcp_tool_call_duration_seconds_count{tool=\"searchLeads\"} 2\n"));
    }
}
