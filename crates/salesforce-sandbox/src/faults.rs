//! Fault injection for tests of client resilience: added latency, a share of 503s and dropped
//! connections, configured through the admin API.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The faults currently injected into API traffic (never into `/__sandbox/`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultConfig {
    /// Latency added before every response, in milliseconds.
    pub latency_ms: u64,
    /// Share of requests (0.0–1.0) answered with 503 `SERVER_UNAVAILABLE`.
    pub error_rate: f64,
    /// Share of requests (0.0–1.0) whose connection is closed without an answer.
    pub drop_rate: f64,
    /// The next this-many requests are answered 503 `SERVER_UNAVAILABLE`, then traffic is served
    /// again: a deterministic burst for retry tests.
    pub fail_next: u32,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Serve it normally.
    Serve,
    /// Answer 503.
    Unavailable,
    /// Close the connection.
    Drop,
}

/// Holder of the fault configuration.
#[derive(Debug, Default)]
pub struct Faults {
    config: Mutex<FaultConfig>,
}

impl Faults {
    /// Replaces the configuration (rates are clamped to 0–1).
    pub fn set(&self, mut config: FaultConfig) {
        config.error_rate = config.error_rate.clamp(0.0, 1.0);
        config.drop_rate = config.drop_rate.clamp(0.0, 1.0);
        *self.config.lock().unwrap_or_else(|e| e.into_inner()) = config;
    }

    /// The current configuration.
    pub fn get(&self) -> FaultConfig {
        self.config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Decides the fate of one request and how long to delay it.
    pub fn decide(&self) -> (Duration, FaultAction) {
        let config = {
            let mut config = self.config.lock().unwrap_or_else(|e| e.into_inner());
            let snapshot = config.clone();
            config.fail_next = config.fail_next.saturating_sub(1);
            snapshot
        };
        let delay = Duration::from_millis(config.latency_ms.min(60_000));
        let action = if config.fail_next > 0 {
            FaultAction::Unavailable
        } else if config.drop_rate > 0.0 && rand::random::<f64>() < config.drop_rate {
            FaultAction::Drop
        } else if config.error_rate > 0.0 && rand::random::<f64>() < config.error_rate {
            FaultAction::Unavailable
        } else {
            FaultAction::Serve
        };
        (delay, action)
    }
}
