//! `DescribeStacks` and `DescribeStackEvents` as an operation in progress shows them.

use super::*;

pub(super) async fn describe_stacks(
    shared: &Arc<Shared>,
    call: &Call,
    params: &Params,
) -> Option<Reply> {
    let name = params.get("StackName").cloned()?;
    let config = shared.config();
    let (view, in_moto, synthesized) = {
        let mut state = shared.cfn.lock().unwrap();
        let i = state.find(&name)?;
        if !state.stacks[i].view().finished && state.throttle(&config) {
            return Some(error(400, "Throttling", "Rate exceeded"));
        }
        let stack = &mut state.stacks[i];
        if stack.name == name && stack.view().gone {
            return Some(not_found(&name));
        }
        let view = stack.view();
        stack.op.polls += 1;
        let synthesized = describe_xml(stack, &view);
        (view, stack.in_moto, synthesized)
    };
    if in_moto && !view.gone {
        let reply = shared.forward(call).await;
        if reply.ok() {
            let xml = query::replace_all(&reply.text(), "StackStatus", &view.status);
            return Some(Reply::xml(200, xml));
        }
    }
    Some(answer("DescribeStacks", &synthesized))
}

pub(super) fn describe_xml(stack: &Stack, view: &View) -> String {
    let parameters: String = stack
        .parameters
        .iter()
        .map(|(k, v)| {
            format!(
                "<member>{}{}</member>",
                element("ParameterKey", k),
                element("ParameterValue", v)
            )
        })
        .collect();
    let status = if view.gone {
        "DELETE_COMPLETE".to_owned()
    } else {
        view.status.clone()
    };
    format!(
        "<Stacks><member>{}{}{}{}<Parameters>{parameters}</Parameters>{}<DisableRollback>false</DisableRollback></member></Stacks>",
        element("StackName", &stack.name),
        element("StackId", &stack.id),
        element("CreationTime", &stack.created),
        element("StackStatus", &status),
        element(
            "EnableTerminationProtection",
            &stack.termination_protection.to_string()
        ),
    )
}

pub(super) fn describe_stack_events(shared: &Arc<Shared>, params: &Params) -> Reply {
    let name = params.get("StackName").cloned().unwrap_or_default();
    let config = shared.config();
    let mut state = shared.cfn.lock().unwrap();
    let Some(i) = state.find(&name) else {
        drop(state);
        return not_found(&name);
    };
    if !state.stacks[i].view().finished && state.throttle(&config) {
        return error(400, "Throttling", "Rate exceeded");
    }
    let stack = &state.stacks[i];
    let view = stack.view();
    if stack.name == name && view.gone {
        return not_found(&name);
    }
    let newest_first: Vec<&Event> = stack.events[..view.visible].iter().rev().collect();
    let start: usize = params
        .get("NextToken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let end = (start + config.events_page).min(newest_first.len());
    let members: String = newest_first[start.min(end)..end]
        .iter()
        .map(|e| {
            format!(
                "<member>{}{}{}{}{}{}{}{}{}</member>",
                element("StackId", &stack.id),
                element("EventId", &e.id),
                element("StackName", &stack.name),
                element("LogicalResourceId", &e.logical_id),
                element("PhysicalResourceId", &e.physical_id),
                element("ResourceType", &e.resource_type),
                element("Timestamp", &e.timestamp),
                element("ResourceStatus", &e.status),
                optional("ResourceStatusReason", e.reason.as_deref()),
            )
        })
        .collect();
    let next = if end < newest_first.len() {
        element("NextToken", &end.to_string())
    } else {
        String::new()
    };
    answer(
        "DescribeStackEvents",
        &format!("<StackEvents>{members}</StackEvents>{next}"),
    )
}
