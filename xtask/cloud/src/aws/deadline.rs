//! How long to wait for CloudFormation before handing over to `cargo xtask watch`: a
//! change set is computed in seconds and a stack operation in minutes, so one that takes
//! far longer is stuck, and a CI job should not hold its runner (and its role session)
//! for CloudFormation's own limits of hours.

use anyhow::{Result, bail};
use std::time::{Duration, Instant};

/// Overrides the change-set deadline (`90s`, `10m`, `1h`).
pub const CHANGE_SET_VAR: &str = "TICKETS_CHANGE_SET_TIMEOUT";
/// Overrides the stack-operation deadline.
pub const OPERATION_VAR: &str = "TICKETS_OPERATION_TIMEOUT";

/// A point in time after which waiting stops.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    started: Instant,
    limit: Duration,
    /// The variable that sets it, for messages.
    pub var: &'static str,
}

impl Deadline {
    /// From now, for computing a change set (10 minutes unless configured).
    pub fn change_set() -> Result<Deadline> {
        Deadline::from_env(CHANGE_SET_VAR, Duration::from_secs(10 * 60))
    }

    /// From now, for a stack operation (60 minutes unless configured).
    pub fn operation() -> Result<Deadline> {
        Deadline::from_env(OPERATION_VAR, Duration::from_secs(60 * 60))
    }

    fn from_env(var: &'static str, default: Duration) -> Result<Deadline> {
        let limit = match std::env::var(var) {
            Ok(text) => match parse(&text) {
                Some(limit) => limit,
                None => bail!("{var}={text:?} is not a duration: write it like 90s, 10m or 1h"),
            },
            Err(_) => default,
        };
        Ok(Deadline {
            started: Instant::now(),
            limit,
            var,
        })
    }

    /// Whether it has passed.
    pub fn passed(&self) -> bool {
        self.started.elapsed() >= self.limit
    }

    /// The limit as people write it (`3s`, `10m`).
    pub fn limit(&self) -> String {
        shown(self.limit)
    }
}

/// `90`, `90s`, `10m` or `1h`.
fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => number,
        "m" => number.checked_mul(60)?,
        "h" => number.checked_mul(3600)?,
        _ => return None,
    };
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

fn shown(limit: Duration) -> String {
    let seconds = limit.as_secs();
    if seconds.is_multiple_of(3600) {
        format!("{}h", seconds / 3600)
    } else if seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_seconds_minutes_and_hours() {
        assert_eq!(parse("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse("3s"), Some(Duration::from_secs(3)));
        assert_eq!(parse("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse("1h"), Some(Duration::from_secs(3600)));
    }

    #[test]
    fn rejects_zero_and_unknown_units() {
        assert_eq!(parse("0s"), None);
        assert_eq!(parse("5d"), None);
        assert_eq!(parse("soon"), None);
    }

    #[test]
    fn shows_the_largest_whole_unit() {
        assert_eq!(shown(Duration::from_secs(3)), "3s");
        assert_eq!(shown(Duration::from_secs(600)), "10m");
        assert_eq!(shown(Duration::from_secs(7200)), "2h");
    }
}
