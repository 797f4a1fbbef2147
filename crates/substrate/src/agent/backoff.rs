//! Juju's hook retry backoff (apiserver `retrystrategy`): first retry after the minimum
//! (5 s), each next one twice as late, at most the maximum (5 min). Juju adds jitter;
//! the substrate does not, so waits are predictable in tests.

use std::time::Duration;

/// Retry delays for a failed hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay (Juju: 5 s).
    pub min: Duration,
    /// The largest delay (Juju: 5 min).
    pub max: Duration,
    /// The growth factor (Juju: 2).
    pub factor: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            min: Duration::from_secs(5),
            max: Duration::from_secs(300),
            factor: 2,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (1 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let mut delay = self.min;
        for _ in 1..attempt {
            delay = delay.saturating_mul(self.factor);
            if delay >= self.max {
                return self.max;
            }
        }
        delay.min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_five_seconds_up_to_five_minutes() {
        let b = Backoff::default();
        let secs: Vec<u64> = (1..=9).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
    }
}
