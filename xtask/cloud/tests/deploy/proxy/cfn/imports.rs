//! `IMPORT` change sets: adopting a table or a user pool into a stack.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) async fn create_import(
    shared: &Arc<Shared>,
    call: &Call,
    params: &Params,
    name: &str,
    change_set: &str,
    text: String,
    template: Value,
    parameters: BTreeMap<String, String>,
) -> Reply {
    if shared.cfn.lock().unwrap().live(name).is_some() || adopt(shared, call, name).await.is_some()
    {
        return error(
            400,
            "ValidationError",
            "this test layer imports into new stacks only",
        );
    }
    let mut imports = Vec::new();
    let mut problems = Vec::new();
    for member in query::members(params, "ResourcesToImport") {
        let logical_id = member.get("LogicalResourceId").cloned().unwrap_or_default();
        let kind = member.get("ResourceType").cloned().unwrap_or_default();
        let mut identifier = BTreeMap::new();
        for (key, value) in &member {
            if let Some(index) = key
                .strip_prefix("ResourceIdentifier.entry.")
                .and_then(|r| r.strip_suffix(".key"))
                && let Some(v) = member.get(&format!("ResourceIdentifier.entry.{index}.value"))
            {
                identifier.insert(value.clone(), v.clone());
            }
        }
        let declared = &template["Resources"][&logical_id];
        if declared.is_null() || declared["DeletionPolicy"].is_null() {
            problems.push(format!(
                "{logical_id} must be in the template with a DeletionPolicy"
            ));
        }
        let exists = match kind.as_str() {
            "AWS::DynamoDB::Table" => {
                let table = identifier.get("TableName").cloned().unwrap_or_default();
                shared
                    .json(
                        call,
                        "dynamodb",
                        "DynamoDB_20120810.DescribeTable",
                        &json!({"TableName": table}),
                    )
                    .await
                    .0
                    == 200
            }
            "AWS::Cognito::UserPool" => {
                let pool = identifier.get("UserPoolId").cloned().unwrap_or_default();
                shared
                    .json(
                        call,
                        "cognito-idp",
                        "AWSCognitoIdentityProviderService.DescribeUserPool",
                        &json!({"UserPoolId": pool}),
                    )
                    .await
                    .0
                    == 200
            }
            other => {
                problems.push(format!("{other} cannot be imported by this test layer"));
                false
            }
        };
        if !exists {
            problems.push(format!(
                "{logical_id}: no resource {identifier:?} to import"
            ));
        }
        imports.push((logical_id, kind, identifier));
    }
    let account = shared.account_of(call).await;
    let stack_id = format!(
        "arn:aws:cloudformation:us-east-1:{account}:stack/{name}/{}",
        uuid::Uuid::new_v4()
    );
    let id = format!(
        "arn:aws:cloudformation:us-east-1:{account}:changeSet/{change_set}/{}",
        uuid::Uuid::new_v4()
    );
    let mut state = shared.cfn.lock().unwrap();
    let mut stack = new_stack(
        name,
        &stack_id,
        &account,
        "{}",
        json!({}),
        BTreeMap::new(),
        false,
    );
    let review = stack.stack_event("REVIEW_IN_PROGRESS", Some("User Initiated"));
    stack.events.push(review);
    stack.op = Op::settled("REVIEW_IN_PROGRESS", 0);
    state.stacks.push(stack);
    let changes = imports
        .iter()
        .map(|(logical_id, kind, _)| Change {
            action: "Import",
            logical_id: logical_id.clone(),
            resource_type: kind.clone(),
            replacement: None,
            details: Vec::new(),
        })
        .collect();
    state.change_sets.push(ChangeSetRecord {
        name: change_set.to_owned(),
        id: id.clone(),
        stack: name.to_owned(),
        kind: "IMPORT".into(),
        template_text: text,
        template,
        parameters,
        changes,
        status: if problems.is_empty() {
            "CREATE_COMPLETE"
        } else {
            "FAILED"
        }
        .into(),
        reason: (!problems.is_empty()).then(|| problems.join("; ")),
        polls: 0,
        imports,
    });
    answer(
        "CreateChangeSet",
        &format!("{}{}", element("Id", &id), element("StackId", &stack_id)),
    )
}

pub(super) async fn execute_import(
    shared: &Arc<Shared>,
    call: &Call,
    name: &str,
    stack_name: &str,
    config: &crate::proxy::Config,
) -> Reply {
    let record = {
        let mut state = shared.cfn.lock().unwrap();
        let i = state
            .change_sets
            .iter()
            .position(|c| c.name == name || c.id == name)
            .unwrap();
        state.change_sets.remove(i)
    };
    // moto cannot adopt a resource: the table's items are kept aside, the table is made
    // again by moto under the stack, and the items put back. moto's CloudFormation does
    // not model user pools, so the pool is only recorded.
    let mut kept_items = Vec::new();
    for (_, kind, identifier) in &record.imports {
        if kind != "AWS::DynamoDB::Table" {
            continue;
        }
        let table = identifier.get("TableName").cloned().unwrap_or_default();
        let (_, scanned) = shared
            .json(
                call,
                "dynamodb",
                "DynamoDB_20120810.Scan",
                &json!({"TableName": table}),
            )
            .await;
        kept_items.push((
            table.clone(),
            scanned["Items"].as_array().cloned().unwrap_or_default(),
        ));
        shared
            .json(
                call,
                "dynamodb",
                "DynamoDB_20120810.UpdateTable",
                &json!({"TableName": table, "DeletionProtectionEnabled": false}),
            )
            .await;
        shared
            .json(
                call,
                "dynamodb",
                "DynamoDB_20120810.DeleteTable",
                &json!({"TableName": table}),
            )
            .await;
    }
    let moto_template =
        template::with_deletion_policies(&record.template, |_, p| keep_once_created(p));
    let mut params = Params::from([
        ("Action".into(), "CreateStack".into()),
        ("Version".into(), "2010-05-15".into()),
        ("StackName".into(), stack_name.to_owned()),
        ("TemplateBody".into(), moto_template.to_string()),
    ]);
    for (n, (k, v)) in record.parameters.iter().enumerate() {
        params.insert(
            format!("Parameters.member.{}.ParameterKey", n + 1),
            k.clone(),
        );
        params.insert(
            format!("Parameters.member.{}.ParameterValue", n + 1),
            v.clone(),
        );
    }
    let created = shared.query(call, "cloudformation", &params).await;
    for (table, items) in kept_items {
        for item in items {
            shared
                .json(
                    call,
                    "dynamodb",
                    "DynamoDB_20120810.PutItem",
                    &json!({"TableName": table, "Item": item}),
                )
                .await;
        }
    }
    let mut state = shared.cfn.lock().unwrap();
    let i = state.live(stack_name).unwrap();
    let stack = &mut state.stacks[i];
    if let Some(id) = query::first(&created.text(), "StackId") {
        stack.id = id;
    }
    stack.in_moto = created.ok();
    stack.template = record.template;
    stack.template_text = record.template_text;
    stack.parameters = record.parameters;
    let mut script = vec![stack.stack_event("IMPORT_IN_PROGRESS", Some("User Initiated"))];
    for (id, kind, _) in &record.imports {
        script.push(stack.event(id, kind, "IMPORT_IN_PROGRESS", None));
        script.push(stack.event(id, kind, "IMPORT_COMPLETE", None));
    }
    let done = if created.ok() {
        "IMPORT_COMPLETE"
    } else {
        "IMPORT_ROLLBACK_COMPLETE"
    };
    script.push(stack.stack_event(done, None));
    stack.begin(config, "IMPORT_IN_PROGRESS", done, script);
    answer("ExecuteChangeSet", "")
}
