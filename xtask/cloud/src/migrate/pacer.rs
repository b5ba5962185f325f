//! How many writes may be in flight, adapted to what the table takes: halved when DynamoDB
//! throttles (`ProvisionedThroughputExceededException`, `ThrottlingException`, ...), then
//! grown back by about one per round of successful writes (additive increase,
//! multiplicative decrease, as TCP does). This sits on top of the SDK's own retries, which
//! absorb a short burst; a throttle that outlasts them reaches the pacer.

use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Throttles closer together than this are one event: the writes in flight at that moment
/// all see it, and the limit should halve once, not once per write.
const CUT_WINDOW: Duration = Duration::from_millis(250);

/// Error codes that mean "slow down".
pub fn is_throttle(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "Throttling"
                | "RequestLimitExceeded"
                | "TooManyRequestsException"
        )
    )
}

/// The adaptive limit on writes in flight.
pub struct Pacer {
    state: Mutex<State>,
    freed: Notify,
    max: usize,
}

struct State {
    limit: f64,
    lowest: f64,
    in_flight: usize,
    throttles: u64,
    last_cut: Option<Instant>,
}

/// The right to one write; gives it back when dropped.
pub struct Permit<'a>(&'a Pacer);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.0.state.lock().expect("pacer").in_flight -= 1;
        self.0.freed.notify_one();
    }
}

impl Pacer {
    /// At most `max` writes in flight, starting there.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Pacer {
            state: Mutex::new(State {
                limit: max as f64,
                lowest: max as f64,
                in_flight: 0,
                throttles: 0,
                last_cut: None,
            }),
            freed: Notify::new(),
            max,
        }
    }

    /// Waits until a write may start.
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            let freed = self.freed.notified();
            {
                let mut state = self.state.lock().expect("pacer");
                if state.in_flight < (state.limit as usize).max(1) {
                    state.in_flight += 1;
                    return Permit(self);
                }
            }
            freed.await;
        }
    }

    /// A write succeeded: grow by one over a round of `limit` writes.
    pub fn succeeded(&self) {
        let mut state = self.state.lock().expect("pacer");
        state.limit = (state.limit + 1.0 / state.limit).min(self.max as f64);
        drop(state);
        self.freed.notify_one();
    }

    /// A request was throttled (after the SDK's retries): halve the limit, at most once per
    /// [`CUT_WINDOW`], and return how long this caller should wait before retrying, longer
    /// with each of its `attempt`s.
    pub fn throttled(&self, attempt: u32) -> Duration {
        let mut state = self.state.lock().expect("pacer");
        state.throttles += 1;
        let now = Instant::now();
        if state
            .last_cut
            .is_none_or(|cut| now.duration_since(cut) >= CUT_WINDOW)
        {
            state.limit = (state.limit / 2.0).max(1.0);
            state.lowest = state.lowest.min(state.limit);
            state.last_cut = Some(now);
        }
        // 50 ms, doubling, at most 5 s, with a little jitter from the clock.
        let base = 50u64 << attempt.min(7);
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let jitter = u64::from(clock.subsec_nanos() % 50);
        Duration::from_millis((base + jitter).min(5_000))
    }

    /// The current limit, rounded down.
    #[cfg(test)]
    pub fn limit(&self) -> usize {
        (self.state.lock().expect("pacer").limit as usize).max(1)
    }

    /// The lowest the limit went, rounded down.
    pub fn lowest(&self) -> usize {
        (self.state.lock().expect("pacer").lowest as usize).max(1)
    }

    /// Throttles seen so far.
    pub fn throttles(&self) -> u64 {
        self.state.lock().expect("pacer").throttles
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_once_per_burst_then_recovers_slowly() {
        let pacer = Pacer::new(32);
        for _ in 0..10 {
            pacer.throttled(0);
        }
        assert_eq!(pacer.limit(), 16, "one burst of throttles halves once");
        std::thread::sleep(CUT_WINDOW);
        pacer.throttled(0);
        assert_eq!(pacer.limit(), 8);
        for _ in 0..8 {
            pacer.succeeded();
        }
        assert_eq!(pacer.limit(), 8, "a round of 8 successes adds about one");
        for _ in 0..2_000 {
            pacer.succeeded();
        }
        assert_eq!(pacer.limit(), 32, "never above the maximum");
        assert_eq!(pacer.lowest(), 8);
        assert_eq!(pacer.throttles(), 11);
    }

    #[test]
    fn never_below_one_and_backs_off_longer_each_attempt() {
        let pacer = Pacer::new(2);
        for _ in 0..5 {
            pacer.throttled(0);
            std::thread::sleep(CUT_WINDOW);
        }
        assert_eq!(pacer.limit(), 1);
        assert!(pacer.throttled(4) > pacer.throttled(0));
        assert!(pacer.throttled(30) <= Duration::from_secs(5));
    }

    #[tokio::test]
    async fn admits_at_most_the_limit() {
        let pacer = Pacer::new(2);
        let a = pacer.acquire().await;
        let _b = pacer.acquire().await;
        let third = tokio::time::timeout(Duration::from_millis(50), pacer.acquire()).await;
        assert!(third.is_err(), "a third write waited");
        drop(a);
        let third = tokio::time::timeout(Duration::from_millis(500), pacer.acquire()).await;
        assert!(third.is_ok(), "and started once one finished");
    }

    #[test]
    fn knows_dynamodbs_throttling_codes() {
        assert!(is_throttle(Some("ProvisionedThroughputExceededException")));
        assert!(is_throttle(Some("ThrottlingException")));
        assert!(!is_throttle(Some("ConditionalCheckFailedException")));
        assert!(!is_throttle(None));
    }
}
