//! API-usage awareness: the org's latest daily usage as Salesforce reports it in
//! `Sforce-Limit-Info` on every response, what this process itself sent, and a soft ceiling above
//! which optional calls are skipped, so that one busy user cannot burn the whole org's quota.

use std::sync::atomic::{AtomicU64, Ordering};

use salesforce_core::wire::LimitInfo;

/// Usage of one org, shared (`Arc`) by every client talking to it.
#[derive(Debug)]
pub struct ApiUsage {
    used: AtomicU64,
    max: AtomicU64,
    sent_by_us: AtomicU64,
    /// Parts per thousand of the daily limit above which optional calls are skipped.
    soft_ceiling_permille: u64,
}

/// A point-in-time copy of [`ApiUsage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageSnapshot {
    /// Requests the org used in the rolling 24 hours, as last reported (None before any response).
    pub used: Option<u64>,
    /// The org's daily limit, as last reported.
    pub max: Option<u64>,
    /// Requests this process sent to the org.
    pub sent_by_us: u64,
}

impl ApiUsage {
    /// Tracks usage with the soft ceiling at `soft_ceiling` of the daily limit (e.g. 0.9);
    /// values outside 0..=1 are clamped.
    pub fn new(soft_ceiling: f64) -> Self {
        let permille = (soft_ceiling.clamp(0.0, 1.0) * 1000.0).round() as u64;
        Self {
            used: AtomicU64::new(0),
            max: AtomicU64::new(0),
            sent_by_us: AtomicU64::new(0),
            soft_ceiling_permille: permille,
        }
    }

    /// The current figures.
    pub fn snapshot(&self) -> UsageSnapshot {
        let max = self.max.load(Ordering::Relaxed);
        let reported = max > 0;
        UsageSnapshot {
            used: reported.then(|| self.used.load(Ordering::Relaxed)),
            max: reported.then_some(max),
            sent_by_us: self.sent_by_us.load(Ordering::Relaxed),
        }
    }

    /// Whether the org is above the soft ceiling: optional calls should be skipped.
    /// Returns `(used, max)` when it is.
    pub fn above_soft_ceiling(&self) -> Option<(u64, u64)> {
        let max = self.max.load(Ordering::Relaxed);
        let used = self.used.load(Ordering::Relaxed);
        (max > 0 && used.saturating_mul(1000) >= max.saturating_mul(self.soft_ceiling_permille))
            .then_some((used, max))
    }

    pub(crate) fn record_sent(&self) {
        self.sent_by_us.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the figures of a `Sforce-Limit-Info` header.
    pub(crate) fn record(&self, info: &LimitInfo) {
        self.used.store(info.used, Ordering::Relaxed);
        self.max.store(info.max, Ordering::Relaxed);
    }
}

impl Default for ApiUsage {
    fn default() -> Self {
        Self::new(0.9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_ceiling_applies_only_once_usage_is_known() {
        let usage = ApiUsage::new(0.9);
        assert_eq!(usage.above_soft_ceiling(), None);
        assert_eq!(usage.snapshot().used, None);
        usage.record(&"api-usage=899/1000".parse().unwrap());
        assert_eq!(usage.above_soft_ceiling(), None);
        usage.record(
            &"api-usage=900/1000; per-app-api-usage=17/250(appName=x)"
                .parse()
                .unwrap(),
        );
        assert_eq!(usage.above_soft_ceiling(), Some((900, 1000)));
        assert_eq!(usage.snapshot().max, Some(1000));
    }
}
