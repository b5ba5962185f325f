//! The API in the template serves exactly the manifest's routes, which are the operations
//! of the contract (`openapi/api.yaml`); the function's own test shows that its router serves
//! the manifest's routes, so spec, template and function agree.

use crate::common::{environments, json};
use serde_json::Value;
use std::collections::BTreeMap;
use tickets_manifest::routes::operations;

/// `(method, full path)` of every method, with paths rebuilt from the resource tree.
fn template_operations(template: &Value) -> Vec<(String, String)> {
    let tree: BTreeMap<&str, &Value> = of_type(template, "AWS::ApiGateway::Resource").collect();
    let mut found: Vec<(String, String)> = of_type(template, "AWS::ApiGateway::Method")
        .map(|(_, method)| {
            let resource = method["ResourceId"]["Ref"].as_str().unwrap();
            (
                method["HttpMethod"].as_str().unwrap().to_owned(),
                path_of(&tree, resource),
            )
        })
        .collect();
    found.sort();
    found
}

/// `/v1/tickets/{id}` for the resource `id`, walking up its parents.
fn path_of<'a>(tree: &BTreeMap<&'a str, &'a Value>, mut id: &'a str) -> String {
    let mut segments = Vec::new();
    loop {
        let properties = tree[id];
        segments.push(properties["PathPart"].as_str().unwrap().to_owned());
        match properties["ParentId"]["Ref"].as_str() {
            Some(parent) => id = parent,
            None => {
                assert_eq!(
                    properties["ParentId"],
                    serde_json::json!({"Fn::GetAtt": ["RestApi", "RootResourceId"]}),
                    "{id} hangs from neither a resource nor the API's root"
                );
                break;
            }
        }
    }
    segments.reverse();
    format!("/{}", segments.join("/"))
}

/// `(logical id, properties)` of the template's resources of type `kind`.
fn of_type<'a>(template: &'a Value, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(move |(_, resource)| resource["Type"] == kind)
        .map(|(id, resource)| (id.as_str(), &resource["Properties"]))
}

#[test]
fn template_routes_equal_the_manifest_operations() {
    let mut expected: Vec<(String, String)> = operations()
        .into_iter()
        .map(|(method, path)| (method.as_str().to_owned(), path.to_owned()))
        .collect();
    expected.sort();
    for environment in environments() {
        assert_eq!(
            template_operations(&json(&environment)),
            expected,
            "routes of {environment}"
        );
    }
}

/// `(method, path)` of every operation in `openapi/api.yaml`.
fn spec_operations() -> Vec<(String, String)> {
    let path = crate::common::root().join("openapi/api.yaml");
    let spec: Value = serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut found: Vec<(String, String)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| {
                    [
                        "get", "put", "post", "delete", "options", "head", "patch", "trace",
                    ]
                    .contains(&k.as_str())
                })
                .map(move |method| (method.to_ascii_uppercase(), path.clone()))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn the_contracts_operations_equal_the_templates_methods() {
    assert_eq!(spec_operations(), template_operations(&json("dev")));
}

#[test]
fn each_method_names_the_operation_it_serves() {
    // The monitoring guard rule matches methods with alarms through this name.
    let template = json("prod");
    let tree: BTreeMap<&str, &Value> = of_type(&template, "AWS::ApiGateway::Resource").collect();
    for resource in template["Resources"].as_object().unwrap().values() {
        if resource["Type"] != "AWS::ApiGateway::Method" {
            continue;
        }
        let properties = &resource["Properties"];
        let path = path_of(&tree, properties["ResourceId"]["Ref"].as_str().unwrap());
        let method = properties["HttpMethod"].as_str().unwrap();
        assert_eq!(
            resource["Metadata"]["Route"],
            tickets_manifest::metrics::route_value(method, &path)
        );
    }
}
