//! The org's daily API request counter behind `Sforce-Limit-Info` and `/limits`.

use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};
use salesforce_core::wire::LimitInfo;

#[derive(Debug)]
struct Usage {
    day: NaiveDate,
    used: u64,
    max: u64,
}

/// Counts API requests per (sandbox-clock) day against a configurable maximum.
#[derive(Debug)]
pub struct ApiUsage {
    usage: Mutex<Usage>,
}

impl ApiUsage {
    /// A fresh counter with the given daily maximum.
    pub fn new(max: u64, now: DateTime<Utc>) -> Self {
        Self {
            usage: Mutex::new(Usage {
                day: now.date_naive(),
                used: 0,
                max,
            }),
        }
    }

    fn lock(&self, now: DateTime<Utc>) -> std::sync::MutexGuard<'_, Usage> {
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        if usage.day != now.date_naive() {
            usage.day = now.date_naive();
            usage.used = 0;
        }
        usage
    }

    /// Counts one request; `Err` with the current usage when the limit is already reached.
    pub fn try_count(&self, now: DateTime<Utc>) -> Result<LimitInfo, LimitInfo> {
        let mut usage = self.lock(now);
        if usage.used >= usage.max {
            return Err(info(&usage));
        }
        usage.used += 1;
        Ok(info(&usage))
    }

    /// The current usage without counting.
    pub fn current(&self, now: DateTime<Utc>) -> LimitInfo {
        info(&self.lock(now))
    }

    /// Sets the daily maximum.
    pub fn set_max(&self, max: u64, now: DateTime<Utc>) {
        self.lock(now).max = max;
    }

    /// Marks the day's quota as used up.
    pub fn exhaust(&self, now: DateTime<Utc>) {
        let mut usage = self.lock(now);
        usage.used = usage.max;
    }

    /// Resets the day's count to zero.
    pub fn reset(&self, now: DateTime<Utc>) {
        self.lock(now).used = 0;
    }
}

fn info(usage: &Usage) -> LimitInfo {
    LimitInfo {
        used: usage.used,
        max: usage.max,
        per_app: None,
    }
}
