//! Drift detection: functions and tables compared with what moto holds.

use super::*;

pub(super) async fn detect_drift(shared: &Arc<Shared>, call: &Call, params: &Params) -> Reply {
    let name = params.get("StackName").cloned().unwrap_or_default();
    let Some(i) = adopt(shared, call, &name).await else {
        return not_found(&name);
    };
    let (template, stack_name, account) = {
        let state = shared.cfn.lock().unwrap();
        let stack = &state.stacks[i];
        (
            stack.template.clone(),
            stack.name.clone(),
            stack.account.clone(),
        )
    };
    let mut resources = Vec::new();
    for (id, resource) in template::resources(&template) {
        let kind = template::type_of(&resource);
        let properties = &resource["Properties"];
        let physical = template::name_property(&kind)
            .and_then(|p| template::resolve(&properties[p], &stack_name, "us-east-1", &account))
            .unwrap_or_default();
        let mut differences = Vec::new();
        let mut status = "IN_SYNC";
        match kind.as_str() {
            "AWS::Lambda::Function" => {
                let reply = shared
                    .send(
                        hyper::Method::GET,
                        &format!("/2015-03-31/functions/{physical}/configuration"),
                        &call.as_service("lambda"),
                        Bytes::new(),
                    )
                    .await;
                if reply.status == 404 {
                    status = "DELETED";
                } else {
                    let actual: Value = serde_json::from_slice(&reply.body).unwrap_or_default();
                    for property in ["MemorySize", "Timeout"] {
                        if !properties[property].is_null()
                            && properties[property] != actual[property]
                        {
                            differences.push((
                                property.to_owned(),
                                properties[property].to_string(),
                                actual[property].to_string(),
                            ));
                        }
                    }
                }
            }
            "AWS::DynamoDB::Table" => {
                let (code, actual) = shared
                    .json(
                        call,
                        "dynamodb",
                        "DynamoDB_20120810.DescribeTable",
                        &json!({"TableName": physical}),
                    )
                    .await;
                if code != 200 {
                    status = "DELETED";
                } else {
                    let expected = properties["DeletionProtectionEnabled"]
                        .as_bool()
                        .unwrap_or(false);
                    let actual = actual["Table"]["DeletionProtectionEnabled"]
                        .as_bool()
                        .unwrap_or(false);
                    if expected != actual {
                        differences.push((
                            "DeletionProtectionEnabled".into(),
                            expected.to_string(),
                            actual.to_string(),
                        ));
                    }
                }
            }
            _ => {}
        }
        if !differences.is_empty() {
            status = "MODIFIED";
        }
        resources.push(ResourceDrift {
            logical_id: id,
            physical_id: physical,
            resource_type: kind,
            status,
            differences,
        });
    }
    let id = uuid::Uuid::new_v4().to_string();
    shared.cfn.lock().unwrap().drifts.push(Drift {
        id: id.clone(),
        stack: stack_name,
        polls: 0,
        resources,
    });
    answer("DetectStackDrift", &element("StackDriftDetectionId", &id))
}

pub(super) fn drift_status(shared: &Arc<Shared>, params: &Params) -> Reply {
    let id = params
        .get("StackDriftDetectionId")
        .cloned()
        .unwrap_or_default();
    let polls = shared.config().drift_polls;
    let mut state = shared.cfn.lock().unwrap();
    let Some(drift) = state.drifts.iter_mut().find(|d| d.id == id) else {
        return error(
            400,
            "ValidationError",
            &format!("Detection {id} does not exist"),
        );
    };
    drift.polls += 1;
    let done = drift.polls > polls;
    let drifted = drift
        .resources
        .iter()
        .filter(|r| r.status != "IN_SYNC")
        .count();
    let stack_id = drift.stack.clone();
    answer(
        "DescribeStackDriftDetectionStatus",
        &format!(
            "{}{}{}{}{}{}",
            element("StackId", &stack_id),
            element("StackDriftDetectionId", &id),
            element(
                "DetectionStatus",
                if done {
                    "DETECTION_COMPLETE"
                } else {
                    "DETECTION_IN_PROGRESS"
                }
            ),
            optional(
                "StackDriftStatus",
                done.then_some(if drifted > 0 { "DRIFTED" } else { "IN_SYNC" })
            ),
            element("DriftedStackResourceCount", &drifted.to_string()),
            element("Timestamp", &query::timestamp(0)),
        ),
    )
}

pub(super) fn resource_drifts(shared: &Arc<Shared>, params: &Params) -> Reply {
    let name = params.get("StackName").cloned().unwrap_or_default();
    let state = shared.cfn.lock().unwrap();
    let Some(drift) = state.drifts.iter().rev().find(|d| d.stack == name) else {
        return error(
            400,
            "ValidationError",
            "no drift detection has run on this stack",
        );
    };
    let stack_id = state
        .find(&name)
        .map(|i| state.stacks[i].id.clone())
        .unwrap_or_default();
    let members: String = drift
        .resources
        .iter()
        .map(|r| {
            let differences: String = r
                .differences
                .iter()
                .map(|(path, expected, actual)| {
                    format!(
                        "<member>{}{}{}{}</member>",
                        element("PropertyPath", &format!("/{path}")),
                        element("ExpectedValue", expected),
                        element("ActualValue", actual),
                        element("DifferenceType", "NOT_EQUAL"),
                    )
                })
                .collect();
            format!(
                "<member>{}{}{}{}<PropertyDifferences>{differences}</PropertyDifferences>{}{}</member>",
                element("StackId", &stack_id),
                element("LogicalResourceId", &r.logical_id),
                element("PhysicalResourceId", &r.physical_id),
                element("ResourceType", &r.resource_type),
                element("StackResourceDriftStatus", r.status),
                element("Timestamp", &query::timestamp(0)),
            )
        })
        .collect();
    answer(
        "DescribeStackResourceDrifts",
        &format!("<StackResourceDrifts>{members}</StackResourceDrifts>"),
    )
}
