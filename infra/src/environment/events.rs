//! The `events` section: how the table's changes reach the event bus, how long the bus
//! keeps them for replays, how hard delivery tries, and who is notified of what. Every key
//! has a safe default.

use super::error::Invalid;
use super::values::reject;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// The event path's settings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Events {
    /// Days the bus's archive keeps every event for replays (0: forever).
    pub archive_retention_days: Bounded<0, 36_500>,
    /// Stream records per enrichment call and per `PutEvents` (EventBridge takes 10 at most).
    pub batch_size: Bounded<1, 10>,
    /// Seconds the pipe waits to fill a batch: 0 sends each write at once.
    pub batching_window_seconds: Bounded<0, 300>,
    /// Retries of a batch the enrichment or the bus refused, before its records go to the
    /// dead-letter queue.
    pub retry_attempts: Bounded<0, 10_000>,
    /// Retries of an event a rule's target (the notification topic) refused.
    pub delivery_retry_attempts: Bounded<0, 185>,
    /// Seconds an event keeps being retried to a target before it goes to the dead-letter
    /// queue.
    pub delivery_max_age_seconds: Bounded<60, 86_400>,
    /// Messages in the dead-letter queue that raise its alarm.
    pub dead_letter_alarm_threshold: Bounded<1, 1_000_000>,
    /// Subscribers of the notification topic, each with the filter of what it receives.
    pub subscriptions: Vec<Subscription>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            archive_retention_days: Bounded(30),
            batch_size: Bounded(10),
            batching_window_seconds: Bounded(0),
            retry_attempts: Bounded(10),
            delivery_retry_attempts: Bounded(24),
            delivery_max_age_seconds: Bounded(3600),
            dead_letter_alarm_threshold: Bounded(1),
            subscriptions: Vec::new(),
        }
    }
}

/// A subscriber of the notification topic.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// How messages are delivered.
    pub protocol: Protocol,
    /// An email address, a phone number (`+15555550100`) or an `https://` URL.
    pub endpoint: String,
    /// Notification field → the values delivered (`assignee: [facilities]`); no filter,
    /// every notification. Fields: `type`, `assignee`, `status`, `priority`.
    #[serde(default)]
    pub filter: BTreeMap<String, Vec<String>>,
}

/// How a subscriber receives notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Email; the recipient confirms by a link first.
    Email,
    /// A text message.
    Sms,
    /// A POST to an HTTPS webhook, which confirms first.
    Https,
}

impl Subscription {
    /// What is wrong with the endpoint for its protocol, if anything.
    pub fn endpoint_problem(&self) -> Option<String> {
        let endpoint = &self.endpoint;
        let fine = match self.protocol {
            Protocol::Email => super::Email::try_from(endpoint.clone()).is_ok(),
            Protocol::Sms => {
                endpoint.starts_with('+')
                    && endpoint.len() > 8
                    && endpoint[1..].bytes().all(|b| b.is_ascii_digit())
            }
            Protocol::Https => endpoint.starts_with("https://") && endpoint.len() > 8,
        };
        (!fine).then(|| {
            format!(
                "{endpoint:?} is not an endpoint for {}",
                match self.protocol {
                    Protocol::Email => "email (an address)",
                    Protocol::Sms => "sms (+ and the digits of a phone number)",
                    Protocol::Https => "https (an https:// URL)",
                }
            )
        })
    }
}

/// A whole number from `MIN` to `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded<const MIN: u32, const MAX: u32>(u32);

impl<const MIN: u32, const MAX: u32> Bounded<MIN, MAX> {
    /// The value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl<const MIN: u32, const MAX: u32> TryFrom<u32> for Bounded<MIN, MAX> {
    type Error = Invalid;

    fn try_from(value: u32) -> Result<Self, Invalid> {
        if (MIN..=MAX).contains(&value) {
            Ok(Bounded(value))
        } else {
            Err(Invalid::new(
                format!("{value} is outside {MIN} to {MAX}"),
                format!("pick a value from {MIN} to {MAX}"),
            ))
        }
    }
}

impl<'de, const MIN: u32, const MAX: u32> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Number<const MIN: u32, const MAX: u32>;

        impl<const MIN: u32, const MAX: u32> Visitor<'_> for Number<MIN, MAX> {
            type Value = Bounded<MIN, MAX>;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                write!(formatter, "a whole number from {MIN} to {MAX}")
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
                let value = u32::try_from(value).unwrap_or(u32::MAX);
                Bounded::try_from(value).map_err(reject)
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
                match u64::try_from(value) {
                    Ok(value) => self.visit_u64(value),
                    Err(_) => Err(reject(Invalid::new(
                        format!("{value} is negative"),
                        format!("pick a value from {MIN} to {MAX}"),
                    ))),
                }
            }
        }

        deserializer.deserialize_u32(Number::<MIN, MAX>)
    }
}
