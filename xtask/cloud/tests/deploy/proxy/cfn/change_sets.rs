//! `CreateChangeSet` and `DescribeChangeSet`: computed over several polls, paged.

use super::*;

pub(super) async fn create_change_set(shared: &Arc<Shared>, call: &Call, params: Params) -> Reply {
    let _one_at_a_time = shared.operations.lock().await;
    let config = shared.config();
    let name = params.get("StackName").cloned().unwrap_or_default();
    let kind = params
        .get("ChangeSetType")
        .cloned()
        .unwrap_or_else(|| "UPDATE".into());
    let change_set = params.get("ChangeSetName").cloned().unwrap_or_default();
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
    let parameters = query::parameters(&params);
    if kind == "IMPORT" {
        return create_import(
            shared,
            call,
            &params,
            &name,
            &change_set,
            text,
            template,
            parameters,
        )
        .await;
    }
    if kind != "UPDATE" {
        return shared.forward(call).await;
    }
    let Some(i) = adopt(shared, call, &name).await else {
        return not_found(&name);
    };
    // moto does not update tables (it loses track of one it was asked to change): it keeps
    // its tables as they are, and the proxy makes a replacement table itself.
    let mut moto_template = template.clone();
    {
        let state = shared.cfn.lock().unwrap();
        for (id, old) in template::resources(&state.stacks[i].template) {
            if template::type_of(&old) == "AWS::DynamoDB::Table"
                && !moto_template["Resources"][&id].is_null()
            {
                moto_template["Resources"][&id] = old;
            }
        }
    }
    let mut moto_template =
        template::with_deletion_policies(&moto_template, |_, p| keep_once_created(p));
    // With the table kept as it was, an update that changes only the table would look like
    // no update to moto ("No updates are to be performed"); a revision stamp tells it apart.
    static REVISION: AtomicI64 = AtomicI64::new(0);
    moto_template["Metadata"]["ProxyRevision"] = json!(REVISION.fetch_add(1, Ordering::Relaxed));
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
    let id = query::first(&reply.text(), "Id").unwrap_or_default();
    let mut state = shared.cfn.lock().unwrap();
    let stack = &state.stacks[i];
    let changes = template::changes(
        &stack.template,
        &stack.parameters,
        &template,
        &parameters,
        config.conditional_replacement,
    );
    let unchanged =
        changes.is_empty() && stack.template == template && stack.parameters == parameters;
    let stack_id = stack.id.clone();
    state.change_sets.push(ChangeSetRecord {
        name: change_set,
        id: id.clone(),
        stack: name,
        kind,
        template_text: text,
        template,
        parameters,
        changes,
        status: if unchanged { "FAILED" } else { "CREATE_COMPLETE" }.into(),
        reason: unchanged.then(|| {
            "The submitted information didn't contain changes. Submit different information to create a change set.".into()
        }),
        polls: 0,
        imports: Vec::new(),
    });
    answer(
        "CreateChangeSet",
        &format!("{}{}", element("Id", &id), element("StackId", &stack_id)),
    )
}

pub(super) fn describe_change_set(shared: &Arc<Shared>, params: &Params) -> Reply {
    let name = params.get("ChangeSetName").cloned().unwrap_or_default();
    let config = shared.config();
    let mut state = shared.cfn.lock().unwrap();
    let Some(index) = state
        .change_sets
        .iter()
        .position(|c| c.name == name || c.id == name)
    else {
        return error(
            400,
            "ChangeSetNotFound",
            &format!("ChangeSet [{name}] does not exist"),
        );
    };
    state.change_sets[index].polls = state.change_sets[index].polls.saturating_add(1);
    let record = &state.change_sets[index];
    let pending = record.polls <= config.change_set_polls;
    let status = if pending {
        "CREATE_IN_PROGRESS"
    } else {
        record.status.as_str()
    };
    let execution = match status {
        "CREATE_COMPLETE" => "AVAILABLE",
        _ => "UNAVAILABLE",
    };
    let start: usize = params
        .get("NextToken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let shown: &[Change] = if pending { &[] } else { &record.changes };
    let end = (start + config.change_set_page).min(shown.len());
    let changes: String = shown[start.min(end)..end]
        .iter()
        .map(|c| {
            let details: String = c
                .details
                .iter()
                .map(|(property, recreation, source)| {
                    format!(
                        "<member><Target>{}{}{}</Target>{}{}</member>",
                        element("Attribute", "Properties"),
                        element("Name", property),
                        element("RequiresRecreation", recreation),
                        element("Evaluation", "Static"),
                        element("ChangeSource", source),
                    )
                })
                .collect();
            format!(
                "<member><Type>Resource</Type><ResourceChange>{}{}{}{}<Details>{details}</Details></ResourceChange></member>",
                element("Action", c.action),
                element("LogicalResourceId", &c.logical_id),
                element("ResourceType", &c.resource_type),
                optional("Replacement", c.replacement),
            )
        })
        .collect();
    let next = if end < shown.len() {
        element("NextToken", &end.to_string())
    } else {
        String::new()
    };
    let stack_id = state
        .find(&record.stack)
        .map(|i| state.stacks[i].id.clone())
        .unwrap_or_default();
    answer(
        "DescribeChangeSet",
        &format!(
            "{}{}{}{}{}{}{}{}<Changes>{changes}</Changes>{next}",
            element("ChangeSetName", &record.name),
            element("ChangeSetId", &record.id),
            element("StackId", &stack_id),
            element("StackName", &record.stack),
            element("Status", status),
            element("ExecutionStatus", execution),
            optional(
                "StatusReason",
                if pending {
                    None
                } else {
                    record.reason.as_deref()
                }
            ),
            element("CreationTime", &query::timestamp(0)),
        ),
    )
}
