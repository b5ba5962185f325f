//! The stage's request rate limit (`MethodSettings` throttling), as a token bucket.

use serde_json::Value;
use std::time::Instant;

/// The stage's request rate limit: a token bucket refilled at `rate` per second up to `burst`.
#[derive(Debug)]
pub(super) struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// Takes a token if there is one; `false` means the request is throttled.
    pub(super) fn admit(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + self.rate * now.duration_since(self.last).as_secs_f64()).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The stage-wide limit of `MethodSettings` (`HttpMethod: "*"`, `ResourcePath: "/*"`), if any.
pub(super) fn throttle(method_settings: &Value) -> Option<Bucket> {
    let all = method_settings
        .as_array()?
        .iter()
        .find(|s| s["HttpMethod"] == "*" && s["ResourcePath"] == "/*")?;
    let rate = all["ThrottlingRateLimit"].as_f64()?;
    let burst = all["ThrottlingBurstLimit"]
        .as_f64()
        .unwrap_or(rate)
        .max(1.0);
    Some(Bucket {
        rate,
        burst,
        tokens: burst,
        last: Instant::now(),
    })
}
