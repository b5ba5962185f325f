//! `CreateStack`: slow, failing and rolling back as asked, keeping what `Retain` keeps.

use super::*;

pub(super) async fn create_stack(shared: &Arc<Shared>, call: &Call, params: Params) -> Reply {
    let _one_at_a_time = shared.operations.lock().await;
    let config = shared.config();
    tokio::time::sleep(config.create_latency).await;
    let name = params.get("StackName").cloned().unwrap_or_default();
    if shared.cfn.lock().unwrap().live(&name).is_some() {
        return error(
            400,
            "AlreadyExistsException",
            &format!("Stack [{name}] already exists"),
        );
    }
    let text = match template_of(shared, call, &params).await {
        Ok(text) => text,
        Err(reply) => return reply,
    };
    let Some(template) = template::parse(&text) else {
        return error(
            400,
            "ValidationError",
            "Template format error: not JSON or YAML",
        );
    };
    let account = shared.account_of(call).await;
    let region = "us-east-1";
    let order = template::creation_order(&template);
    // A table whose name is taken fails the creation ("already exists"), as on AWS.
    let mut failing = None;
    for id in &order {
        let resource = &template["Resources"][id];
        if template::type_of(resource) == "AWS::DynamoDB::Table"
            && let Some(table) = template::resolve(
                &resource["Properties"]["TableName"],
                &name,
                region,
                &account,
            )
        {
            let (status, _) = shared
                .json(
                    call,
                    "dynamodb",
                    "DynamoDB_20120810.DescribeTable",
                    &json!({"TableName": table}),
                )
                .await;
            if status == 200 {
                failing = Some((
                    id.clone(),
                    format!(
                        "Resource handler returned message: \"Table already exists: {table}\" (HandlerErrorCode: AlreadyExists)"
                    ),
                ));
                break;
            }
        }
    }
    if failing.is_none()
        && let Some(id) = shared.config.lock().unwrap().fail_create.take()
    {
        failing = Some((id, "Resource handler returned message: \"simulated failure\" (HandlerErrorCode: GeneralServiceException)".into()));
    }
    let parameters = query::parameters(&params);
    let policy = params
        .get("StackPolicyBody")
        .and_then(|b| serde_json::from_str(b).ok());
    let protected = params
        .get("EnableTerminationProtection")
        .map(String::as_str)
        == Some("true");
    match failing {
        None => {
            let moto_template =
                template::with_deletion_policies(&template, |_, p| keep_once_created(p));
            let reply = shared
                .query(
                    call,
                    "cloudformation",
                    &with_template(&params, &moto_template),
                )
                .await;
            if !reply.ok() {
                return reply;
            }
            let id = query::first(&reply.text(), "StackId").unwrap_or_default();
            let mut state = shared.cfn.lock().unwrap();
            let mut stack = new_stack(&name, &id, &account, &text, template, parameters, true);
            stack.policy = policy;
            stack.termination_protection = protected;
            let mut script = vec![stack.stack_event("CREATE_IN_PROGRESS", Some("User Initiated"))];
            for id in &order {
                let kind = stack.resource_type(id);
                script.push(stack.event(id, &kind, "CREATE_IN_PROGRESS", None));
                script.push(stack.event(
                    id,
                    &kind,
                    "CREATE_IN_PROGRESS",
                    Some("Resource creation Initiated"),
                ));
                script.push(stack.event(id, &kind, "CREATE_COMPLETE", None));
            }
            script.push(stack.stack_event("CREATE_COMPLETE", None));
            stack.begin(&config, "CREATE_IN_PROGRESS", "CREATE_COMPLETE", script);
            state.stacks.push(stack);
            answer("CreateStack", &element("StackId", &id))
        }
        Some((failed, reason)) => {
            // What CloudFormation created before the failure exists in moto, and the
            // rollback deletes it unless its policy keeps it; the rest never existed.
            let position = order
                .iter()
                .position(|id| *id == failed)
                .unwrap_or(order.len());
            let created: Vec<String> = order[..position].to_vec();
            let mut partial = template.clone();
            if let Some(resources) = partial["Resources"].as_object_mut() {
                resources.retain(|id, _| created.contains(id));
            }
            if let Some(map) = partial.as_object_mut() {
                map.remove("Outputs");
            }
            let partial = template::with_deletion_policies(&partial, |_, p| {
                if p == "Retain" {
                    "Retain".into()
                } else {
                    "Delete".into()
                }
            });
            let mut rolled_back = true;
            let mut rollback_error = None;
            let mut id = format!(
                "arn:aws:cloudformation:{region}:{account}:stack/{name}/{}",
                uuid::Uuid::new_v4()
            );
            if !created.is_empty() {
                let mut forwarded = with_template(&params, &partial);
                forwarded.remove("StackPolicyBody");
                forwarded.remove("EnableTerminationProtection");
                let reply = shared.query(call, "cloudformation", &forwarded).await;
                if let Some(moto_id) = query::first(&reply.text(), "StackId") {
                    id = moto_id;
                    let deleted = shared
                        .query(
                            call,
                            "cloudformation",
                            &Params::from([
                                ("Action".into(), "DeleteStack".into()),
                                ("Version".into(), "2010-05-15".into()),
                                ("StackName".into(), name.clone()),
                            ]),
                        )
                        .await;
                    if !deleted.ok() {
                        rolled_back = false;
                        rollback_error = query::first(&deleted.text(), "Message");
                    }
                }
            }
            let mut state = shared.cfn.lock().unwrap();
            let mut stack = new_stack(
                &name,
                &id,
                &account,
                &text,
                template,
                parameters,
                !rolled_back,
            );
            stack.policy = policy;
            stack.termination_protection = protected;
            let mut script = vec![stack.stack_event("CREATE_IN_PROGRESS", Some("User Initiated"))];
            for id in &created {
                let kind = stack.resource_type(id);
                script.push(stack.event(id, &kind, "CREATE_IN_PROGRESS", None));
                script.push(stack.event(id, &kind, "CREATE_COMPLETE", None));
            }
            let failed_type = stack.resource_type(&failed);
            script.push(stack.event(&failed, &failed_type, "CREATE_IN_PROGRESS", None));
            script.push(stack.event(&failed, &failed_type, "CREATE_FAILED", Some(&reason)));
            script.push(stack.stack_event(
                "ROLLBACK_IN_PROGRESS",
                Some(&format!("The following resource(s) failed to create: [{failed}]. Rollback requested by user.")),
            ));
            for id in created.iter().rev() {
                let kind = stack.resource_type(id);
                let retain = stack.template["Resources"][id]["DeletionPolicy"] == "Retain";
                script.push(stack.event(id, &kind, "DELETE_IN_PROGRESS", None));
                if retain {
                    script.push(stack.event(id, &kind, "DELETE_SKIPPED", None));
                } else if rolled_back {
                    script.push(stack.event(id, &kind, "DELETE_COMPLETE", None));
                } else {
                    script.push(stack.event(id, &kind, "DELETE_FAILED", rollback_error.as_deref()));
                }
            }
            script.push(stack.event(&failed, &failed_type, "DELETE_COMPLETE", None));
            let done = if rolled_back {
                "ROLLBACK_COMPLETE"
            } else {
                "ROLLBACK_FAILED"
            };
            script.push(stack.stack_event(done, None));
            stack.begin(&config, "CREATE_IN_PROGRESS", done, script);
            state.stacks.push(stack);
            answer("CreateStack", &element("StackId", &id))
        }
    }
}

/// moto keeps `Retain` only: kept-once-created is `Retain` there.
pub(super) fn keep_once_created(policy: &str) -> String {
    match policy {
        "RetainExceptOnCreate" => "Retain".into(),
        other => other.into(),
    }
}

pub(super) fn new_stack(
    name: &str,
    id: &str,
    account: &str,
    text: &str,
    template: Value,
    parameters: BTreeMap<String, String>,
    in_moto: bool,
) -> Stack {
    Stack {
        name: name.to_owned(),
        id: id.to_owned(),
        account: account.to_owned(),
        template_text: text.to_owned(),
        template,
        parameters,
        in_moto,
        created: query::timestamp(0),
        termination_protection: false,
        policy: None,
        events: Vec::new(),
        op: Op::settled("CREATE_IN_PROGRESS", 0),
    }
}
