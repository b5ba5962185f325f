//! One readable line per JSON log line of the function: time, level, message, the fields
//! that matter, and the request's metrics (its embedded metric format members) as metrics.

use serde_json::{Map, Value};
use std::fmt::Write as _;

/// Members every line has, shown in the line's frame rather than as fields.
const FRAME: &[&str] = &[
    "timestamp",
    "level",
    "target",
    "message",
    "requestId",
    "traceId",
];

/// The member holding an embedded metric format directive.
const EMF: &str = "_aws";

/// Request-line members shown in the line's text.
const REQUEST: &[&str] = &[
    "method",
    "route",
    "status",
    "latencyMs",
    "sub",
    "ticketId",
    "problem",
];

/// A readable form of `line`; lines that are not JSON objects come back as they are.
pub fn readable(line: &str) -> String {
    match serde_json::from_str::<Map<String, Value>>(line) {
        Ok(object) if is_access_line(&object) => format_access(&object),
        Ok(object) => format_object(&object),
        Err(_) => line.to_owned(),
    }
}

/// The request id of a line (ours or API Gateway's access log), to match `--request-id`.
pub fn request_id(line: &str) -> Option<String> {
    let object = serde_json::from_str::<Map<String, Value>>(line).ok()?;
    Some(object.get("requestId")?.as_str()?.to_owned())
}

/// An API Gateway access log line (the stage's JSON format): it has a resource path and no
/// level.
fn is_access_line(line: &Map<String, Value>) -> bool {
    line.contains_key("resourcePath") && !line.contains_key("level")
}

/// `05:27:35.894 ACCESS c6af9ac6 GET /v1/tickets/{id} → 200 in 12 ms (function 9 ms) sub=…`
fn format_access(line: &Map<String, Value>) -> String {
    let text = |name: &str| -> String {
        match line.get(name) {
            Some(Value::String(text)) if text != "-" && !text.is_empty() => text.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        }
    };
    let time = line
        .get("requestTime")
        .and_then(|t| {
            t.as_str()
                .and_then(|t| t.parse::<i64>().ok())
                .or(t.as_i64())
        })
        .and_then(time_of_day)
        .unwrap_or_default();
    let request_id = text("requestId");
    let mut out = format!(
        "{time} ACCESS {} {} {} → {} in {} ms",
        request_id.get(..8).unwrap_or(&request_id),
        text("method"),
        text("resourcePath"),
        text("status"),
        text("latency"),
    );
    let integration = text("integrationLatency");
    if !integration.is_empty() {
        let _ = write!(out, " (function {integration} ms)");
    }
    for name in [
        "sub",
        "sourceIp",
        "errorType",
        "authorizerError",
        "wafStatus",
        "wafError",
    ] {
        let value = text(name);
        if !value.is_empty() {
            let _ = write!(out, " {name}={value}");
        }
    }
    out
}

/// `HH:MM:SS.mmm` (UTC) of an epoch time in milliseconds.
fn time_of_day(epoch_ms: i64) -> Option<String> {
    let ms = epoch_ms.rem_euclid(86_400_000);
    Some(format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    ))
}

fn format_object(line: &Map<String, Value>) -> String {
    let text = |name: &str| line.get(name).and_then(Value::as_str).unwrap_or_default();
    let mut out = String::new();
    let time = text("timestamp");
    // `2026-11-30T05:27:35.894548028Z` → `05:27:35.894`
    let _ = write!(out, "{} ", time.get(11..23).unwrap_or(time));
    let _ = write!(out, "{:<5} ", text("level"));
    let request_id = text("requestId");
    if !request_id.is_empty() {
        let _ = write!(out, "{} ", request_id.get(..8).unwrap_or(request_id));
    }
    let target = text("target");
    let own = target.starts_with("manage_tickets") || target.starts_with("bootstrap");
    if !own && !target.is_empty() {
        let _ = write!(out, "[{target}] ");
    }
    let metrics = metric_names(line);
    let is_request = text("message") == "request" && line.contains_key("status");
    if is_request {
        let _ = write!(
            out,
            "{} {} → {} in {}",
            text("method"),
            text("route"),
            line.get("status").map(Value::to_string).unwrap_or_default(),
            milliseconds(line.get("latencyMs"))
        );
        for name in ["sub", "ticketId", "problem"] {
            if let Some(value) = line.get(name).and_then(Value::as_str) {
                let _ = write!(out, " {name}={value}");
            }
        }
    } else {
        out.push_str(text("message"));
    }
    // Sorted, whatever order serde_json keeps (its `preserve_order` depends on the build).
    let mut fields: Vec<(&String, &Value)> = line.iter().collect();
    fields.sort_by_key(|(name, _)| name.as_str());
    for (name, value) in fields {
        let shown = FRAME.contains(&name.as_str())
            || name == EMF
            || (is_request && REQUEST.contains(&name.as_str()))
            || metrics.iter().any(|(m, _)| m == name);
        if !shown && !is_dimension(line, name) {
            let _ = write!(out, " {name}={}", plain(value));
        }
    }
    let figures: Vec<String> = metrics
        .iter()
        .filter_map(|(name, unit)| {
            let value = line.get(name)?.as_f64()?;
            // Counts of zero and the request's own count say nothing a reader needs.
            match unit.as_str() {
                "Count" if value == 0.0 || name == "Requests" => None,
                "Milliseconds" if name == "Latency" => None,
                "Milliseconds" => Some(format!("{name} {value:.1} ms")),
                _ => Some(format!("{name} {value}")),
            }
        })
        .collect();
    if !figures.is_empty() {
        let _ = write!(out, "  · metrics: {}", figures.join(", "));
    }
    out
}

/// The metrics an EMF directive declares, with their units.
fn metric_names(line: &Map<String, Value>) -> Vec<(String, String)> {
    let Some(directives) = line
        .get(EMF)
        .and_then(|aws| aws.get("CloudWatchMetrics"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    directives
        .iter()
        .filter_map(|d| d.get("Metrics")?.as_array())
        .flatten()
        .filter_map(|m| {
            let name = m.get("Name")?.as_str()?.to_owned();
            let unit = m.get("Unit").and_then(Value::as_str).unwrap_or("None");
            Some((name, unit.to_owned()))
        })
        .collect()
}

/// Whether `name` is a dimension of the line's metrics (shown already, as the route).
fn is_dimension(line: &Map<String, Value>, name: &str) -> bool {
    line.get(EMF)
        .and_then(|aws| aws.get("CloudWatchMetrics"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("Dimensions")?.as_array())
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .any(|d| d.as_str() == Some(name))
}

fn milliseconds(value: Option<&Value>) -> String {
    match value.and_then(Value::as_f64) {
        Some(ms) => format!("{ms:.1} ms"),
        None => "? ms".into(),
    }
}

/// A value without JSON's quotes around strings.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_a_request_with_its_metrics_on_one_line() {
        let line = r#"{"timestamp":"2026-11-30T05:27:35.894548028Z","level":"INFO","target":"manage_tickets::telemetry","message":"request","requestId":"c6af9ac6-7b61","method":"POST","route":"/v1/tickets","status":201,"latencyMs":3.25,"sub":"u-1","ticketId":"t-1","_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Tickets","Dimensions":[["Service","Route"]],"Metrics":[{"Name":"Requests","Unit":"Count"},{"Name":"Latency","Unit":"Milliseconds"},{"Name":"TicketsCreated","Unit":"Count"},{"Name":"Conflicts","Unit":"Count"},{"Name":"DynamoDbLatency","Unit":"Milliseconds"}]}]},"Service":"fn","Route":"POST /v1/tickets","Requests":1,"Latency":3.25,"TicketsCreated":1,"Conflicts":0,"DynamoDbLatency":1.5}"#;
        assert_eq!(
            readable(line),
            "05:27:35.894 INFO  c6af9ac6 POST /v1/tickets → 201 in 3.2 ms sub=u-1 ticketId=t-1  · metrics: TicketsCreated 1, DynamoDbLatency 1.5 ms"
        );
    }

    #[test]
    fn shows_an_access_log_line_with_what_the_gateway_knows() {
        let line = r#"{"requestId":"c6af9ac6-7b61","extendedRequestId":"x","requestTime":"1764480455894","sub":"u-1","sourceIp":"203.0.113.9","method":"GET","resourcePath":"/v1/tickets/{id}","status":"401","latency":"12","integrationLatency":"-","errorType":"UNAUTHORIZED","authorizerError":"-","wafError":"-"}"#;
        assert_eq!(
            readable(line),
            "05:27:35.894 ACCESS c6af9ac6 GET /v1/tickets/{id} → 401 in 12 ms sub=u-1 sourceIp=203.0.113.9 errorType=UNAUTHORIZED"
        );
        assert_eq!(request_id(line).as_deref(), Some("c6af9ac6-7b61"));
    }

    #[test]
    fn shows_other_lines_with_their_fields_and_foreign_targets() {
        let line = r#"{"timestamp":"2026-11-30T05:27:35.894Z","level":"DEBUG","target":"manage_tickets::store","message":"DynamoDB call","requestId":"abc","operation":"GetItem","latencyMs":0.5}"#;
        assert_eq!(
            readable(line),
            "05:27:35.894 DEBUG abc DynamoDB call latencyMs=0.5 operation=GetItem"
        );
        let foreign = r#"{"timestamp":"2026-11-30T05:27:35.894Z","level":"WARN","target":"hyper_util::client","message":"retrying"}"#;
        assert_eq!(
            readable(foreign),
            "05:27:35.894 WARN  [hyper_util::client] retrying"
        );
        assert_eq!(readable("plain text"), "plain text");
    }
}
