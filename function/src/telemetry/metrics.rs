//! The metrics of one request, as the embedded metric format's directive: CloudWatch Logs
//! turns the request's log line into metrics, so publishing them costs no API call.

use std::cell::Cell;
use std::sync::OnceLock;
use tickets_manifest::metrics::{self, Metric};

tokio::task_local! {
    /// Milliseconds the current request spent in DynamoDB calls.
    static DYNAMODB_MS: Cell<f64>;
}

/// Adds a DynamoDB call's time to the current request's total (nothing outside a request).
pub fn add_dynamodb_time(ms: f64) {
    let _ = DYNAMODB_MS.try_with(|total| total.set(total.get() + ms));
}

/// Runs `request`, returning its output and the time it spent in DynamoDB.
pub async fn measure_dynamodb<T>(request: impl Future<Output = T>) -> (T, f64) {
    DYNAMODB_MS
        .scope(Cell::new(0.0), async {
            let output = request.await;
            (output, DYNAMODB_MS.with(Cell::get))
        })
        .await
}

/// `2xx` for 200 to 299, and so on.
pub fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// The `_aws` member of a request's line: which members are metrics, their units and
/// dimensions, and the time they belong to (epoch milliseconds).
pub fn directive(timestamp_ms: i128) -> String {
    static METRICS: OnceLock<String> = OnceLock::new();
    let metrics = METRICS.get_or_init(metric_directives);
    format!("{{\"Timestamp\":{timestamp_ms},\"CloudWatchMetrics\":{metrics}}}")
}

/// The `CloudWatchMetrics` array, the same for every request.
fn metric_directives() -> String {
    // Metrics sharing dimension sets share a directive, as EMF requires.
    let mut groups: Vec<(&[&[&str]], Vec<&Metric>)> = Vec::new();
    for metric in metrics::METRICS {
        match groups
            .iter_mut()
            .find(|(dims, _)| *dims == metric.dimensions)
        {
            Some((_, members)) => members.push(metric),
            None => groups.push((metric.dimensions, vec![metric])),
        }
    }
    let directives: Vec<serde_json::Value> = groups
        .into_iter()
        .map(|(dimensions, members)| {
            serde_json::json!({
                "Namespace": metrics::NAMESPACE,
                "Dimensions": dimensions,
                "Metrics": members
                    .iter()
                    .map(|m| serde_json::json!({"Name": m.name, "Unit": m.unit.as_str()}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::Value::Array(directives).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_metrics_by_their_dimension_sets() {
        let directive: serde_json::Value = serde_json::from_str(&directive(1)).unwrap();
        let groups = directive["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0]["Metrics"][0]["Name"], "Requests");
        assert_eq!(groups[0]["Dimensions"][0][1], "Route");
        let listed: usize = groups
            .iter()
            .map(|g| g["Metrics"].as_array().unwrap().len())
            .sum();
        assert_eq!(listed, metrics::METRICS.len());
    }

    #[test]
    fn classes_statuses() {
        assert_eq!(status_class(201), "2xx");
        assert_eq!(status_class(412), "4xx");
        assert_eq!(status_class(503), "5xx");
    }
}
