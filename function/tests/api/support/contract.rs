//! The contract (`openapi/api.yaml`) as a test oracle: every response of a documented
//! operation must have a documented status, content type, body schema and header format.

use super::event::Response;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The parsed spec, with OpenAPI 3.0's `nullable` turned into JSON Schema.
pub struct Contract {
    spec: Value,
    validators: Mutex<HashMap<String, &'static jsonschema::Validator>>,
}

/// The contract, loaded once per test binary.
pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/api.yaml");
        let mut spec: Value =
            serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        without_nullable(&mut spec);
        Contract {
            spec,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

/// `{..., "nullable": true}` becomes `{"anyOf": [{...}, {"type": "null"}]}`.
fn without_nullable(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                without_nullable(child);
            }
            if map.remove("nullable") == Some(Value::Bool(true)) {
                let inner = Value::Object(std::mem::take(map));
                map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_nullable),
        _ => {}
    }
}

impl Contract {
    fn resolve<'a>(&'a self, mut value: &'a Value) -> &'a Value {
        while let Some(pointer) = value.get("$ref").and_then(Value::as_str) {
            value = self
                .spec
                .pointer(pointer.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling $ref {pointer}"));
        }
        value
    }

    fn validator(&self, key: &str, schema: &Value) -> &'static jsonschema::Validator {
        let mut cache = self.validators.lock().unwrap();
        cache.entry(key.to_owned()).or_insert_with(|| {
            // The schema sits inside a root holding the components, so `$ref`s resolve.
            let root = json!({"allOf": [schema], "components": self.spec["components"]});
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft7)
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("schema of {key} does not compile: {e}"));
            Box::leak(Box::new(validator))
        })
    }

    /// Panics, naming what breaks the contract, when `response` to `method` on `resource`
    /// is not what `openapi/api.yaml` documents. Undocumented operations are not checked
    /// (API Gateway never lets them reach the function).
    pub fn check(&self, method: &str, resource: &str, response: &Response) {
        let Some(operation) = self.spec["paths"][resource].get(method.to_ascii_lowercase()) else {
            return;
        };
        let what = format!("{method} {resource} → {}", response.status);
        let documented = operation["responses"]
            .get(response.status.to_string())
            .or_else(|| operation["responses"].get("default"))
            .unwrap_or_else(|| {
                panic!(
                    "{what}: status not documented in openapi/api.yaml; body {}",
                    response.body
                )
            });
        let documented = self.resolve(documented);
        for (name, header) in documented["headers"].as_object().into_iter().flatten() {
            let (Some(value), Some(pattern)) = (
                response.header(name),
                self.resolve(header)["schema"]["pattern"].as_str(),
            ) else {
                continue;
            };
            let validator = self.validator(
                &format!("header {name}"),
                &json!({"type": "string", "pattern": pattern}),
            );
            assert!(
                validator.is_valid(&json!(value)),
                "{what}: header {name}: {value:?} does not match {pattern}"
            );
        }
        let Some(content) = documented["content"].as_object() else {
            assert!(
                response.body.is_empty(),
                "{what}: documented without a body, got {}",
                response.body
            );
            return;
        };
        let content_type = response.header("content-type").unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        let media = content.get(essence).unwrap_or_else(|| {
            panic!(
                "{what}: content type {content_type:?} not documented ({:?})",
                content.keys().collect::<Vec<_>>()
            )
        });
        let body: Value = serde_json::from_str(&response.body)
            .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e})"));
        let validator = self.validator(&format!("{what} {essence}"), &media["schema"]);
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: body breaks openapi/api.yaml: {errors:?}\n{}",
            response.body
        );
    }
}
