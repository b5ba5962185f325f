//! `ExecuteChangeSet`: updates that fail as CloudFormation fails them, and roll back.

use super::*;

/// Why CloudFormation would fail this update, and at which resource.
pub(super) fn update_failure(
    stack: &Stack,
    record: &ChangeSetRecord,
    requested: Option<String>,
) -> Option<(String, String)> {
    let policy_denies = |id: &str, action: &str| {
        stack.policy.as_ref().is_some_and(|policy| {
            policy["Statement"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| {
                    let listed = |field: &str, wanted: &str| match &s[field] {
                        Value::String(v) => v == wanted || v == "*" || v == "Update:*",
                        Value::Array(vs) => vs
                            .iter()
                            .any(|v| v == wanted || v == "*" || v == "Update:*"),
                        _ => false,
                    };
                    s["Effect"] == "Deny"
                        && listed("Action", action)
                        && listed("Resource", &format!("LogicalResourceId/{id}"))
                })
        })
    };
    for change in &record.changes {
        let id = &change.logical_id;
        if change.action == "Remove" && policy_denies(id, "Update:Delete") {
            return Some((
                id.clone(),
                format!(
                    "Action denied by stack policy: Statement [#1] does not allow [Update:Delete] for resource [LogicalResourceId/{id}]"
                ),
            ));
        }
        if change.replacement == Some("True") {
            if policy_denies(id, "Update:Replace") {
                return Some((
                    id.clone(),
                    format!(
                        "Action denied by stack policy: Statement [#1] does not allow [Update:Replace] for resource [LogicalResourceId/{id}]"
                    ),
                ));
            }
            if let Some(property) = template::name_property(&change.resource_type) {
                let old = &stack.template["Resources"][id]["Properties"][property];
                let new = &record.template["Resources"][id]["Properties"][property];
                if !new.is_null() && old == new {
                    let name = template::resolve(new, &stack.name, "us-east-1", &stack.account)
                        .unwrap_or_else(|| new.to_string());
                    return Some((
                        id.clone(),
                        format!(
                            "CloudFormation cannot update a stack when a custom-named resource requires replacing. \
                         Rename {name} and update the stack again."
                        ),
                    ));
                }
            }
        }
        if change.action == "Modify" && change.resource_type == "AWS::DynamoDB::Table" {
            let old = template::index_names(&stack.template["Resources"][id]);
            let new = template::index_names(&record.template["Resources"][id]);
            if old.symmetric_difference(&new).count() > 1 {
                return Some((
                    id.clone(),
                    "Cannot perform more than one GSI creation or deletion in a single update"
                        .into(),
                ));
            }
        }
    }
    let requested = requested?;
    let at = record
        .changes
        .iter()
        .find(|c| c.logical_id == requested)
        .or(record.changes.first())
        .map(|c| c.logical_id.clone())
        .unwrap_or(requested);
    Some((at, "Resource handler returned message: \"simulated failure\" (HandlerErrorCode: GeneralServiceException)".into()))
}

pub(super) async fn execute_change_set(
    shared: &Arc<Shared>,
    call: &Call,
    params: &Params,
) -> Reply {
    let _one_at_a_time = shared.operations.lock().await;
    let config = shared.config();
    let name = params.get("ChangeSetName").cloned().unwrap_or_default();
    let (kind, stack_name) = {
        let state = shared.cfn.lock().unwrap();
        let Some(record) = state
            .change_sets
            .iter()
            .find(|c| c.name == name || c.id == name)
        else {
            return error(
                400,
                "ChangeSetNotFound",
                &format!("ChangeSet [{name}] does not exist"),
            );
        };
        if record.status != "CREATE_COMPLETE" {
            return error(
                400,
                "InvalidChangeSetStatus",
                &format!(
                    "ChangeSet [{name}] cannot be executed in its current status of [{}]",
                    record.status
                ),
            );
        }
        (record.kind.clone(), record.stack.clone())
    };
    if kind == "IMPORT" {
        return execute_import(shared, call, &name, &stack_name, &config).await;
    }
    let failure = {
        let state = shared.cfn.lock().unwrap();
        let record = state
            .change_sets
            .iter()
            .find(|c| c.name == name || c.id == name)
            .unwrap();
        let Some(i) = state.live(&stack_name) else {
            return not_found(&stack_name);
        };
        let requested = if state.stacks[i].view().finished {
            shared.config.lock().unwrap().fail_update.take()
        } else {
            return error(
                400,
                "ValidationError",
                &format!(
                    "Stack:{} is in {} state and can not be updated.",
                    stack_name,
                    state.stacks[i].view().status
                ),
            );
        };
        update_failure(&state.stacks[i], record, requested)
    };
    let applied = if failure.is_none() {
        replace_tables(shared, call, &name, &stack_name).await;
        let reply = shared.forward(call).await;
        if reply.ok() {
            None
        } else {
            Some(query::first(&reply.text(), "Message").unwrap_or_else(|| reply.text()))
        }
    } else {
        let mut params = params.clone();
        params.insert("Action".into(), "DeleteChangeSet".into());
        shared.query(call, "cloudformation", &params).await;
        None
    };
    let mut state = shared.cfn.lock().unwrap();
    let record_index = state
        .change_sets
        .iter()
        .position(|c| c.name == name || c.id == name)
        .unwrap();
    let record = state.change_sets.remove(record_index);
    let i = state.live(&stack_name).unwrap();
    let stack = &mut state.stacks[i];
    let failure = failure.or_else(|| {
        applied.map(|message| {
            (
                record
                    .changes
                    .first()
                    .map(|c| c.logical_id.clone())
                    .unwrap_or_default(),
                message,
            )
        })
    });
    let mut script = vec![stack.stack_event("UPDATE_IN_PROGRESS", Some("User Initiated"))];
    match failure {
        Some((failed, reason)) => {
            for change in &record.changes {
                if change.logical_id == failed {
                    break;
                }
                let (start, end) = if change.action == "Add" {
                    ("CREATE_IN_PROGRESS", "CREATE_COMPLETE")
                } else {
                    ("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE")
                };
                if change.action != "Remove" {
                    script.push(stack.event(
                        &change.logical_id,
                        &change.resource_type,
                        start,
                        None,
                    ));
                    script.push(stack.event(&change.logical_id, &change.resource_type, end, None));
                }
            }
            let kind = record
                .changes
                .iter()
                .find(|c| c.logical_id == failed)
                .map(|c| c.resource_type.clone())
                .unwrap_or_default();
            script.push(stack.event(&failed, &kind, "UPDATE_FAILED", Some(&reason)));
            script.push(stack.stack_event(
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some(&format!(
                    "The following resource(s) failed to update: [{failed}]. "
                )),
            ));
            script.push(stack.stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None));
            script.push(stack.stack_event("UPDATE_ROLLBACK_COMPLETE", None));
            stack.begin(
                &config,
                "UPDATE_IN_PROGRESS",
                "UPDATE_ROLLBACK_COMPLETE",
                script,
            );
        }
        None => {
            for change in record.changes.iter().filter(|c| c.action != "Remove") {
                let (id, kind) = (&change.logical_id, &change.resource_type);
                if change.action == "Add" {
                    script.push(stack.event(id, kind, "CREATE_IN_PROGRESS", None));
                    script.push(stack.event(
                        id,
                        kind,
                        "CREATE_IN_PROGRESS",
                        Some("Resource creation Initiated"),
                    ));
                    script.push(stack.event(id, kind, "CREATE_COMPLETE", None));
                } else if change.replacement == Some("True") {
                    script.push(stack.event(id, kind, "UPDATE_IN_PROGRESS", Some("Requested update requires the creation of a new physical resource; hence creating one.")));
                    script.push(stack.event(
                        id,
                        kind,
                        "UPDATE_IN_PROGRESS",
                        Some("Resource creation Initiated"),
                    ));
                    script.push(stack.event(id, kind, "UPDATE_COMPLETE", None));
                } else {
                    script.push(stack.event(id, kind, "UPDATE_IN_PROGRESS", None));
                    script.push(stack.event(id, kind, "UPDATE_COMPLETE", None));
                }
            }
            script.push(stack.stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None));
            for change in record.changes.iter().rev() {
                let (id, kind) = (&change.logical_id, &change.resource_type);
                let attribute = match (change.action, change.replacement) {
                    ("Remove", _) => "DeletionPolicy",
                    (_, Some("True")) => "UpdateReplacePolicy",
                    _ => continue,
                };
                script.push(stack.event(id, kind, "DELETE_IN_PROGRESS", None));
                let end = if stack.kept(id, attribute) {
                    "DELETE_SKIPPED"
                } else {
                    "DELETE_COMPLETE"
                };
                script.push(stack.event(id, kind, end, None));
            }
            script.push(stack.stack_event("UPDATE_COMPLETE", None));
            stack.begin(&config, "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE", script);
            stack.template = record.template;
            stack.template_text = record.template_text;
            stack.parameters = record.parameters;
        }
    }
    answer("ExecuteChangeSet", "")
}

/// Creates the new table of each table the change set replaces under a new name (what
/// moto does not do itself).
pub(super) async fn replace_tables(
    shared: &Arc<Shared>,
    call: &Call,
    change_set: &str,
    stack_name: &str,
) {
    let tables: Vec<(Value, String, String)> = {
        let state = shared.cfn.lock().unwrap();
        let Some(record) = state
            .change_sets
            .iter()
            .find(|c| c.name == change_set || c.id == change_set)
        else {
            return;
        };
        let Some(i) = state.live(stack_name) else {
            return;
        };
        let stack = &state.stacks[i];
        record
            .changes
            .iter()
            .filter(|c| c.resource_type == "AWS::DynamoDB::Table" && c.replacement == Some("True"))
            .filter_map(|c| {
                let properties = record.template["Resources"][&c.logical_id]["Properties"].clone();
                let name = template::resolve(
                    &properties["TableName"],
                    &stack.name,
                    "us-east-1",
                    &stack.account,
                )?;
                Some((properties, name, stack.account.clone()))
            })
            .collect()
    };
    for (properties, name, _) in tables {
        let mut request = json!({
            "TableName": name,
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": "PAY_PER_REQUEST",
        });
        if let Some(indexes) = properties["GlobalSecondaryIndexes"].as_array() {
            request["GlobalSecondaryIndexes"] = json!(indexes);
        }
        shared
            .json(call, "dynamodb", "DynamoDB_20120810.CreateTable", &request)
            .await;
    }
}
