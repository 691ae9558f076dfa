//! The sandbox's controllable clock: real time by default, or frozen and moved by tests (and
//! the admin API) so that audit dates, token expiry and relative date literals are predictable.

use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy)]
struct ClockState {
    frozen: Option<DateTime<Utc>>,
    offset: TimeDelta,
}

/// A clock that can be frozen, set and advanced. Times are truncated to milliseconds, the
/// precision Salesforce keeps.
#[derive(Debug)]
pub struct Clock {
    state: Mutex<ClockState>,
    /// Bumped whenever the clock is set, advanced or resumed (wakes timers on sandbox time).
    changes: watch::Sender<u64>,
}

fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

impl Clock {
    /// A clock following real time.
    pub fn system() -> Self {
        Self {
            state: Mutex::new(ClockState {
                frozen: None,
                offset: TimeDelta::zero(),
            }),
            changes: watch::Sender::new(0),
        }
    }

    /// A clock frozen at `at` until advanced or resumed.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self {
            state: Mutex::new(ClockState {
                frozen: Some(at),
                offset: TimeDelta::zero(),
            }),
            changes: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        // A poisoned clock still holds a valid time.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current sandbox time.
    pub fn now(&self) -> DateTime<Utc> {
        let state = *self.lock();
        truncate_ms(state.frozen.unwrap_or_else(Utc::now) + state.offset)
    }

    /// Freezes the clock at `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        let mut state = self.lock();
        state.frozen = Some(at);
        state.offset = TimeDelta::zero();
        drop(state);
        self.changed();
    }

    /// Moves the clock forward (or back, with a negative delta).
    pub fn advance(&self, by: TimeDelta) {
        let mut state = self.lock();
        state.offset += by;
        drop(state);
        self.changed();
    }

    /// Lets a frozen clock run again from where it stands.
    pub fn resume(&self) {
        let now = self.now();
        let mut state = self.lock();
        state.frozen = None;
        state.offset = now - Utc::now();
        drop(state);
        self.changed();
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that sees a change whenever the clock is set, advanced or resumed (not as
    /// real time passes).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Whether the clock is frozen.
    pub fn is_frozen(&self) -> bool {
        self.lock().frozen.is_some()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::fixed(start);
        assert_eq!(clock.now(), start);
        clock.advance(TimeDelta::hours(2));
        assert_eq!(clock.now(), start + TimeDelta::hours(2));
        clock.set(start);
        assert_eq!(clock.now(), start);
        assert!(clock.is_frozen());
    }
}
