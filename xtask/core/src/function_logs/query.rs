//! What `cargo xtask logs` asks for (how far back, which text, which request) and how it
//! shows what it finds, the same for the local run's files and CloudWatch Logs.

use super::format::{readable, request_id};
use anyhow::{Result, bail};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The options every `logs` command shares.
#[derive(clap::Args, Debug, Clone)]
pub struct LogArgs {
    /// Keep showing new lines as they come (Ctrl-C stops).
    #[arg(long)]
    pub follow: bool,
    /// How far back to start: `15m`, `2h`, `1d`, `30s`, or an RFC 3339 time.
    #[arg(long, default_value = "15m")]
    pub since: String,
    /// Only lines containing this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Only the lines of this request (the Lambda request id, or API Gateway's with --access).
    #[arg(long)]
    pub request_id: Option<String>,
    /// The stage's access log instead of the function's.
    #[arg(long)]
    pub access: bool,
    /// The lines as they are (JSON), one per line.
    #[arg(long)]
    pub json: bool,
}

/// Which lines to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Lines from this time on, epoch milliseconds.
    pub since_ms: i64,
    /// Lines containing this text.
    pub text: Option<String>,
    /// Lines of this request.
    pub request_id: Option<String>,
}

impl Query {
    /// The query `args` describe, relative to `now`.
    pub fn new(args: &LogArgs, now: SystemTime) -> Result<Self> {
        Ok(Query {
            since_ms: since_ms(&args.since, now)?,
            text: args.filter.clone(),
            request_id: args.request_id.clone(),
        })
    }

    /// CloudWatch Logs' filter pattern for the text and request id (`None`: every line).
    /// Only a hint to the server: [`Query::matches`] decides.
    pub fn filter_pattern(&self) -> Option<String> {
        match (&self.request_id, &self.text) {
            (Some(id), _) => Some(format!("{{ $.requestId = \"{}\" }}", escape(id))),
            (None, Some(text)) => Some(format!("\"{}\"", escape(text))),
            (None, None) => None,
        }
    }

    /// Whether `line`, logged at `timestamp_ms`, is one to show.
    pub fn matches(&self, line: &str, timestamp_ms: i64) -> bool {
        timestamp_ms >= self.since_ms
            && self.text.as_deref().is_none_or(|text| line.contains(text))
            && self
                .request_id
                .as_deref()
                .is_none_or(|id| request_id(line).as_deref() == Some(id))
    }
}

/// A line as `logs` prints it: readable, or as it is with `--json`.
pub fn show(line: &str, json: bool) -> String {
    if json {
        line.trim_end().to_owned()
    } else {
        readable(line.trim_end())
    }
}

/// The epoch milliseconds a line was logged at, from its `timestamp` (ours) or `requestTime`
/// (API Gateway's access log).
pub fn line_time_ms(line: &str) -> Option<i64> {
    let object: serde_json::Value = serde_json::from_str(line).ok()?;
    if let Some(time) = object.get("requestTime") {
        return time
            .as_str()
            .and_then(|t| t.parse().ok())
            .or_else(|| time.as_i64());
    }
    let text = object.get("timestamp")?.as_str()?;
    let parsed =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some((parsed.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `15m` before `now`, or an RFC 3339 time, in epoch milliseconds.
fn since_ms(since: &str, now: SystemTime) -> Result<i64> {
    let text = since.trim();
    let unit = text.chars().last().unwrap_or(' ');
    let seconds = match (unit, text[..text.len().saturating_sub(1)].parse::<u64>()) {
        ('s', Ok(n)) => Some(n),
        ('m', Ok(n)) => Some(n * 60),
        ('h', Ok(n)) => Some(n * 3600),
        ('d', Ok(n)) => Some(n * 86_400),
        _ => None,
    };
    if let Some(seconds) = seconds {
        let start = now
            .checked_sub(Duration::from_secs(seconds))
            .unwrap_or(UNIX_EPOCH);
        return Ok(start
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as i64);
    }
    match time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        Ok(time) => Ok((time.unix_timestamp_nanos() / 1_000_000) as i64),
        Err(_) => bail!(
            "--since {since:?} is neither a duration (30s, 15m, 2h, 1d) nor an RFC 3339 time (2026-11-30T09:00:00Z)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(since: &str) -> LogArgs {
        LogArgs {
            follow: false,
            since: since.into(),
            filter: None,
            request_id: None,
            access: false,
            json: false,
        }
    }

    #[test]
    fn reads_durations_and_times() {
        let now = UNIX_EPOCH + Duration::from_secs(10_000);
        assert_eq!(Query::new(&args("15m"), now).unwrap().since_ms, 9_100_000);
        assert_eq!(Query::new(&args("1d"), now).unwrap().since_ms, 0);
        assert_eq!(
            Query::new(&args("1970-01-01T00:00:05Z"), now)
                .unwrap()
                .since_ms,
            5000
        );
        assert!(Query::new(&args("yesterday"), now).is_err());
    }

    #[test]
    fn matches_text_and_request_ids() {
        let query = Query {
            since_ms: 10,
            text: Some("GetItem".into()),
            request_id: Some("r-1".into()),
        };
        let line = r#"{"requestId":"r-1","operation":"GetItem"}"#;
        assert!(query.matches(line, 10));
        assert!(!query.matches(line, 9));
        assert!(!query.matches(r#"{"requestId":"r-2","operation":"GetItem"}"#, 10));
        assert_eq!(
            query.filter_pattern().as_deref(),
            Some(r#"{ $.requestId = "r-1" }"#)
        );
    }

    #[test]
    fn reads_line_times() {
        assert_eq!(
            line_time_ms(r#"{"timestamp":"1970-01-01T00:00:01.5Z"}"#),
            Some(1500)
        );
        assert_eq!(line_time_ms(r#"{"requestTime":"2500"}"#), Some(2500));
    }
}
