//! Resilience policies the client applies to every call: retries with exponential backoff and full
//! jitter, a per-org circuit breaker, and a per-connection rate limiter.
//!
//! The retry schedule keeps the semantics of the retired `backoff` crate (initial ~500 ms,
//! factor 1.5, a cap per delay and an overall deadline) on top of `backon`'s exponential builder,
//! with full jitter (each sleep is uniform in `[0, delay]`) so that many clients failing together do
//! not retry together.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use governor::{DefaultDirectRateLimiter, Quota};
use rand::Rng;
use tokio::time::Instant;

/// When and how often to retry a retryable failure.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// The first delay before jitter.
    pub initial_delay: Duration,
    /// How much each delay grows.
    pub factor: f32,
    /// The largest single delay.
    pub max_delay: Duration,
    /// The most retries of one call (not counting the first attempt).
    pub max_retries: usize,
    /// No retry starts after this much time since the first attempt.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(500),
            factor: 1.5,
            max_delay: Duration::from_secs(10),
            max_retries: 5,
            deadline: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The delays between attempts, before jitter.
    pub(crate) fn base_delays(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::new()
            .with_min_delay(self.initial_delay)
            .with_factor(self.factor.max(1.0))
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .build()
    }

    /// The delays to actually sleep: full jitter over [`base_delays`](Self::base_delays).
    pub(crate) fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        self.base_delays().map(full_jitter)
    }
}

fn full_jitter(delay: Duration) -> Duration {
    let nanos = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

/// The circuit breaker's state, observable for metrics and health checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow; failures are counted.
    Closed,
    /// Calls fail fast until the open period ends.
    Open,
    /// One probe call is allowed through; its outcome closes or reopens the breaker.
    HalfOpen,
}

/// Circuit breaker settings.
#[derive(Debug, Clone, Copy)]
pub struct BreakerConfig {
    /// Consecutive org failures that open the breaker.
    pub failure_threshold: u32,
    /// How long it stays open before a probe.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(30),
        }
    }
}

/// A per-org circuit breaker: closed → open after N consecutive failures → half-open probe after
/// a pause → closed on success, open again on failure. Share one (`Arc`) among all clients of an org.
#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: Mutex<Inner>,
}

#[derive(Debug, Clone, Copy)]
enum Inner {
    Closed { consecutive_failures: u32 },
    Open { until: Instant },
    HalfOpen { probe_in_flight: bool },
}

/// Permission to make one call, from [`CircuitBreaker::try_acquire`].
#[derive(Debug)]
#[must_use = "report the call's outcome to the breaker"]
pub(crate) struct Permit;

impl CircuitBreaker {
    /// A closed breaker with these settings.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: Mutex::new(Inner::Closed {
                consecutive_failures: 0,
            }),
        }
    }

    /// The current state (an open breaker whose pause is over reports half-open).
    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Lets a call through, or says how long until one may try.
    pub(crate) fn try_acquire(&self) -> Result<Permit, Duration> {
        let mut state = self.lock();
        let now = Instant::now();
        match *state {
            Inner::Closed { .. } => Ok(Permit),
            Inner::Open { until } if now >= until => {
                *state = Inner::HalfOpen {
                    probe_in_flight: true,
                };
                Ok(Permit)
            }
            Inner::Open { until } => Err(until - now),
            Inner::HalfOpen {
                probe_in_flight: false,
            } => {
                *state = Inner::HalfOpen {
                    probe_in_flight: true,
                };
                Ok(Permit)
            }
            // One probe at a time; the others wait for its verdict.
            Inner::HalfOpen {
                probe_in_flight: true,
            } => Err(Duration::from_secs(1)),
        }
    }

    /// The call reached a healthy org.
    pub(crate) fn on_success(&self, _permit: Permit) {
        *self.lock() = Inner::Closed {
            consecutive_failures: 0,
        };
    }

    /// The call failed in a way that says the org is unhealthy.
    pub(crate) fn on_failure(&self, _permit: Permit) {
        let mut state = self.lock();
        let open = Inner::Open {
            until: Instant::now() + self.config.open_for,
        };
        *state = match *state {
            Inner::Closed {
                consecutive_failures,
            } => {
                let failures = consecutive_failures + 1;
                if failures >= self.config.failure_threshold {
                    tracing::warn!(failures, "circuit breaker opened");
                    open
                } else {
                    Inner::Closed {
                        consecutive_failures: failures,
                    }
                }
            }
            Inner::HalfOpen { .. } | Inner::Open { .. } => open,
        };
    }

    /// The call failed for a reason that says nothing about the org (a bad request, say):
    /// a half-open probe slot is released without a verdict.
    pub(crate) fn on_neutral(&self, _permit: Permit) {
        let mut state = self.lock();
        if let Inner::HalfOpen { .. } = *state {
            *state = Inner::HalfOpen {
                probe_in_flight: false,
            };
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A poisoned lock only means another thread panicked mid-update of plain data.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        Self::new(BreakerConfig::default())
    }
}

/// A per-connection rate limit: at most `per_second` calls a second, with bursts up to `burst`.
#[derive(Debug)]
pub struct RateLimit {
    limiter: DefaultDirectRateLimiter,
}

impl RateLimit {
    /// A limiter allowing `per_second` calls a second on average and `burst` at once.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        Self {
            limiter: governor::RateLimiter::direct(
                Quota::per_second(per_second).allow_burst(burst),
            ),
        }
    }

    /// Waits until a call is allowed.
    pub(crate) async fn until_ready(&self) {
        self.limiter.until_ready().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_delays_grow_by_the_factor_up_to_the_cap() {
        let policy = RetryPolicy {
            initial_delay: Duration::from_millis(500),
            factor: 1.5,
            max_delay: Duration::from_millis(1500),
            max_retries: 5,
            deadline: Duration::from_secs(30),
        };
        let delays: Vec<u128> = policy.base_delays().map(|d| d.as_millis()).collect();
        assert_eq!(delays, vec![500, 750, 1125, 1500, 1500]);
    }

    #[test]
    fn jittered_delays_stay_within_their_base() {
        let policy = RetryPolicy::default();
        for _ in 0..200 {
            for (jittered, base) in policy.delays().zip(policy.base_delays()) {
                assert!(jittered <= base, "{jittered:?} > {base:?}");
            }
        }
        let spread: std::collections::HashSet<Duration> =
            (0..50).filter_map(|_| policy.delays().next()).collect();
        assert!(spread.len() > 1, "jitter produced one value only");
    }

    #[test]
    fn no_retries_means_no_delays() {
        assert_eq!(RetryPolicy::none().delays().count(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn breaker_opens_after_consecutive_failures_and_closes_after_a_good_probe() {
        let breaker = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(30),
        });
        for _ in 0..2 {
            breaker.on_failure(breaker.try_acquire().unwrap());
        }
        breaker.on_success(breaker.try_acquire().unwrap());
        for _ in 0..2 {
            breaker.on_failure(breaker.try_acquire().unwrap());
        }
        assert_eq!(
            breaker.state(),
            BreakerState::Closed,
            "a success resets the count"
        );
        breaker.on_failure(breaker.try_acquire().unwrap());
        assert_eq!(breaker.state(), BreakerState::Open);
        let wait = breaker.try_acquire().unwrap_err();
        assert!(wait <= Duration::from_secs(30) && wait > Duration::from_secs(29));

        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        let probe = breaker.try_acquire().unwrap();
        assert!(breaker.try_acquire().is_err(), "only one probe at a time");
        breaker.on_success(probe);
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_reopens_and_a_neutral_one_frees_the_slot() {
        let breaker = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 1,
            open_for: Duration::from_secs(5),
        });
        breaker.on_failure(breaker.try_acquire().unwrap());
        tokio::time::advance(Duration::from_secs(6)).await;
        breaker.on_neutral(breaker.try_acquire().unwrap());
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        breaker.on_failure(breaker.try_acquire().unwrap());
        assert_eq!(breaker.state(), BreakerState::Open);
    }
}
