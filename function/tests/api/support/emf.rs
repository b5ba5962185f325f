//! The CloudWatch embedded metric format (EMF) specification, as a JSON schema plus the
//! rules a schema cannot state, to hold the function's log lines to it.
//! https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

use serde_json::{Value, json};

/// The spec's structure: a root `_aws` metadata object with an integer `Timestamp` and
/// metric directives of a namespace, dimension sets (at most 30 names each) and metric
/// definitions (at most 100, units from CloudWatch's list).
fn schema() -> Value {
    let name = json!({"type": "string", "minLength": 1, "maxLength": 1024});
    json!({
        "type": "object",
        "required": ["_aws"],
        "properties": {
            "_aws": {
                "type": "object",
                "required": ["Timestamp", "CloudWatchMetrics"],
                "properties": {
                    "Timestamp": {"type": "integer", "minimum": 0},
                    "CloudWatchMetrics": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["Namespace", "Dimensions", "Metrics"],
                            "properties": {
                                "Namespace": {"type": "string", "minLength": 1, "maxLength": 1024, "pattern": "^[^:].*$"},
                                "Dimensions": {
                                    "type": "array",
                                    "items": {
                                        "type": "array",
                                        "maxItems": 30,
                                        "items": {"type": "string", "minLength": 1, "maxLength": 250}
                                    }
                                },
                                "Metrics": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": 100,
                                    "items": {
                                        "type": "object",
                                        "required": ["Name"],
                                        "properties": {
                                            "Name": name,
                                            "Unit": {"enum": [
                                                "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
                                                "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits",
                                                "Megabits", "Gigabits", "Terabits", "Percent", "Count",
                                                "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
                                                "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
                                                "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
                                                "Terabits/Second", "Count/Second", "None"
                                            ]},
                                            "StorageResolution": {"enum": [1, 60]}
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

/// Panics unless `line` is a valid EMF document; returns the names of its metrics.
#[track_caller]
pub fn check(line: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(&schema()).expect("the EMF schema compiles");
    let errors: Vec<String> = validator.iter_errors(line).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "not EMF: {errors:?}\n{line}");
    let mut names = Vec::new();
    for directive in line["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
        // Every dimension a set names is a string member of the root, of at most 1024 characters.
        for set in directive["Dimensions"].as_array().unwrap() {
            for dimension in set.as_array().unwrap() {
                let value = &line[dimension.as_str().unwrap()];
                assert!(
                    value
                        .as_str()
                        .is_some_and(|v| !v.is_empty() && v.len() <= 1024),
                    "dimension {dimension} is not a string member: {line}"
                );
            }
        }
        // Every metric a directive defines is a number member of the root (or up to 100 numbers).
        for metric in directive["Metrics"].as_array().unwrap() {
            let name = metric["Name"].as_str().unwrap();
            let value = &line[name];
            let numeric = value.is_number()
                || value
                    .as_array()
                    .is_some_and(|v| v.len() <= 100 && v.iter().all(Value::is_number));
            assert!(numeric, "metric {name} is not a number member: {line}");
            names.push(name.to_owned());
        }
    }
    names
}
