//! CloudFormation as it behaves on AWS, over moto's resources.

use super::query::{self, Params, answer, element, error, optional};
use super::template::{self, Change};
use super::{Call, Reply, Shared};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// CloudFormation's limit on an inline template.
const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// Every stack and change set the proxy has seen an operation on.
#[derive(Default)]
pub struct State {
    stacks: Vec<Stack>,
    change_sets: Vec<ChangeSetRecord>,
    drifts: Vec<Drift>,
    throttled: u64,
}

struct Stack {
    name: String,
    id: String,
    account: String,
    template_text: String,
    template: Value,
    parameters: BTreeMap<String, String>,
    /// moto holds it (otherwise the proxy answers everything: a rolled-back creation, a
    /// stack under review, a deleted stack).
    in_moto: bool,
    created: String,
    termination_protection: bool,
    policy: Option<Value>,
    /// Every event, oldest first; the current operation's are revealed as it proceeds.
    events: Vec<Event>,
    op: Op,
}

/// The last operation on a stack and how far it has got.
struct Op {
    /// The status before it started.
    before: String,
    /// Its default status while in progress.
    running: String,
    /// Its terminal status.
    done: String,
    /// Index of its first event.
    first_event: usize,
    /// `DescribeStacks` answered since it started.
    polls: u32,
    stale: u32,
    in_progress: u32,
    /// The stack is gone once it finishes.
    deletes: bool,
}

impl Op {
    fn settled(status: &str, first_event: usize) -> Op {
        Op {
            before: status.to_owned(),
            running: status.to_owned(),
            done: status.to_owned(),
            first_event,
            polls: 0,
            stale: 0,
            in_progress: 0,
            deletes: false,
        }
    }
}

#[derive(Clone)]
struct Event {
    id: String,
    logical_id: String,
    physical_id: String,
    resource_type: String,
    status: String,
    reason: Option<String>,
    timestamp: String,
}

struct ChangeSetRecord {
    name: String,
    id: String,
    stack: String,
    kind: String,
    template_text: String,
    template: Value,
    parameters: BTreeMap<String, String>,
    changes: Vec<Change>,
    status: String,
    reason: Option<String>,
    polls: u32,
    imports: Vec<(String, String, BTreeMap<String, String>)>,
}

struct Drift {
    id: String,
    stack: String,
    polls: u32,
    resources: Vec<ResourceDrift>,
}

struct ResourceDrift {
    logical_id: String,
    physical_id: String,
    resource_type: String,
    status: &'static str,
    differences: Vec<(String, String, String)>,
}

/// What a stack looks like right now.
struct View {
    status: String,
    visible: usize,
    finished: bool,
    gone: bool,
}

impl Stack {
    fn view(&self) -> View {
        let op = &self.op;
        if op.polls < op.stale {
            return View {
                status: op.before.clone(),
                visible: op.first_event,
                finished: false,
                gone: false,
            };
        }
        let step = op.polls - op.stale;
        if step >= op.in_progress {
            return View {
                status: op.done.clone(),
                visible: self.events.len(),
                finished: true,
                gone: op.deletes,
            };
        }
        let own = self.events.len() - op.first_event;
        let shown = (own * (step as usize + 1)).div_ceil(op.in_progress as usize + 1);
        let visible = op.first_event + shown;
        let status = self.events[..visible]
            .iter()
            .rev()
            .find(|e| e.resource_type == STACK_TYPE && e.status.ends_with("_IN_PROGRESS"))
            .map(|e| e.status.clone())
            .unwrap_or_else(|| op.running.clone());
        View {
            status,
            visible,
            finished: false,
            gone: false,
        }
    }

    fn event(
        &self,
        logical_id: &str,
        resource_type: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Event {
        static CLOCK: AtomicI64 = AtomicI64::new(0);
        Event {
            id: uuid::Uuid::new_v4().to_string(),
            logical_id: logical_id.to_owned(),
            physical_id: if resource_type == STACK_TYPE {
                self.id.clone()
            } else {
                String::new()
            },
            resource_type: resource_type.to_owned(),
            status: status.to_owned(),
            reason: reason.map(str::to_owned),
            timestamp: query::timestamp(CLOCK.fetch_add(1, Ordering::Relaxed) % 1000),
        }
    }

    fn stack_event(&self, status: &str, reason: Option<&str>) -> Event {
        self.event(&self.name.clone(), STACK_TYPE, status, reason)
    }

    /// Starts an operation whose events are `script` and which ends in `done`.
    fn begin(&mut self, config: &super::Config, running: &str, done: &str, script: Vec<Event>) {
        let before = self.view().status;
        let first_event = self.events.len();
        self.events.extend(script);
        self.op = Op {
            before,
            running: running.to_owned(),
            done: done.to_owned(),
            first_event,
            polls: 0,
            stale: config.stale_polls,
            in_progress: config.in_progress_polls,
            deletes: false,
        };
    }

    fn resource_type(&self, id: &str) -> String {
        template::type_of(&self.template["Resources"][id])
    }

    fn kept(&self, id: &str, attribute: &str) -> bool {
        matches!(
            self.template["Resources"][id][attribute].as_str(),
            Some("Retain" | "RetainExceptOnCreate" | "Snapshot")
        )
    }
}

const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

impl State {
    fn find(&self, name_or_id: &str) -> Option<usize> {
        self.stacks
            .iter()
            .rposition(|s| s.id == name_or_id)
            .or_else(|| {
                self.stacks
                    .iter()
                    .rposition(|s| s.name == name_or_id && !s.view().gone)
            })
    }

    /// The stack as a name refers to it: not one that is gone.
    fn live(&self, name_or_id: &str) -> Option<usize> {
        self.find(name_or_id)
            .filter(|&i| self.stacks[i].id == name_or_id || !self.stacks[i].view().gone)
    }

    pub fn add_history(&mut self, name: &str, count: usize) {
        let Some(i) = self.find(name) else { return };
        let stack = &mut self.stacks[i];
        let old: Vec<Event> = (0..count)
            .map(|n| {
                let mut e = stack.event("OldResource", "AWS::SNS::Topic", "UPDATE_COMPLETE", None);
                e.logical_id = format!("Old{n}");
                e.timestamp = "2020-01-01T00:00:00Z".into();
                e
            })
            .collect();
        stack.events.splice(0..0, old);
        stack.op.first_event += count;
    }

    /// Lets every running operation finish at the next poll.
    pub fn settle_all(&mut self) {
        for stack in &mut self.stacks {
            stack.op.stale = 0;
            stack.op.in_progress = 0;
        }
    }

    pub fn status(&self, name: &str) -> Option<String> {
        let i = self.find(name)?;
        let view = self.stacks[i].view();
        (!view.gone).then_some(view.status)
    }

    fn throttle(&mut self, config: &super::Config) -> bool {
        let Some((every, burst)) = config.throttle else {
            return false;
        };
        let n = self.throttled;
        self.throttled += 1;
        n % u64::from(every + burst) >= u64::from(every)
    }
}

/// Handles a CloudFormation call, or `None` to pass it to moto unchanged.
pub async fn handle(shared: &Arc<Shared>, call: &Call) -> Option<Reply> {
    let params = query::parse(&call.body);
    let action = params.get("Action").cloned().unwrap_or_default();
    shared.count(&action);
    match action.as_str() {
        "DescribeStacks" => describe_stacks(shared, call, &params).await,
        "DescribeStackEvents" => Some(describe_stack_events(shared, &params)),
        "CreateStack" => Some(create_stack(shared, call, params).await),
        "CreateChangeSet" => Some(create_change_set(shared, call, params).await),
        "DescribeChangeSet" => Some(describe_change_set(shared, &params)),
        "ExecuteChangeSet" => Some(execute_change_set(shared, call, &params).await),
        "DeleteChangeSet" => {
            let name = params.get("ChangeSetName").cloned().unwrap_or_default();
            shared
                .cfn
                .lock()
                .unwrap()
                .change_sets
                .retain(|c| c.name != name && c.id != name);
            None
        }
        "DeleteStack" => Some(delete_stack(shared, call, &params).await),
        "GetTemplate" => get_template(shared, &params),
        "DescribeStackResources" | "ListStackResources" => {
            let state = shared.cfn.lock().unwrap();
            let name = params.get("StackName").cloned().unwrap_or_default();
            let i = state.live(&name)?;
            (!state.stacks[i].in_moto).then(|| {
                let list = if action == "ListStackResources" {
                    "StackResourceSummaries"
                } else {
                    "StackResources"
                };
                answer(&action, &format!("<{list}></{list}>"))
            })
        }
        "UpdateTerminationProtection" => {
            let name = params.get("StackName").cloned().unwrap_or_default();
            let on = params
                .get("EnableTerminationProtection")
                .map(String::as_str)
                == Some("true");
            let in_moto = {
                let mut state = shared.cfn.lock().unwrap();
                let i = state.live(&name)?;
                state.stacks[i].termination_protection = on;
                state.stacks[i].in_moto
            };
            if in_moto {
                None
            } else {
                let id = shared
                    .cfn
                    .lock()
                    .unwrap()
                    .stacks
                    .iter()
                    .rev()
                    .find(|s| s.name == name)
                    .map(|s| s.id.clone())
                    .unwrap_or_default();
                Some(answer(&action, &element("StackId", &id)))
            }
        }
        "SetStackPolicy" => {
            let name = params.get("StackName").cloned().unwrap_or_default();
            let policy = params
                .get("StackPolicyBody")
                .and_then(|b| serde_json::from_str(b).ok());
            let mut state = shared.cfn.lock().unwrap();
            if let Some(i) = state.live(&name) {
                state.stacks[i].policy = policy;
            }
            None
        }
        "DetectStackDrift" => Some(detect_drift(shared, call, &params).await),
        "DescribeStackDriftDetectionStatus" => Some(drift_status(shared, &params)),
        "DescribeStackResourceDrifts" => Some(resource_drifts(shared, &params)),
        _ => None,
    }
}

fn not_found(name: &str) -> Reply {
    error(
        400,
        "ValidationError",
        &format!("Stack with id {name} does not exist"),
    )
}

/// Loads a stack only moto knows (created before, or by another tool) into the state.
async fn adopt(shared: &Arc<Shared>, call: &Call, name: &str) -> Option<usize> {
    if let Some(i) = shared.cfn.lock().unwrap().live(name) {
        return Some(i);
    }
    let described = shared
        .query(
            call,
            "cloudformation",
            &Params::from([
                ("Action".into(), "DescribeStacks".into()),
                ("Version".into(), "2010-05-15".into()),
                ("StackName".into(), name.into()),
            ]),
        )
        .await;
    if !described.ok() {
        return None;
    }
    let xml = described.text();
    let status = query::first(&xml, "StackStatus")?;
    let id = query::first(&xml, "StackId")?;
    let stack_name = query::first(&xml, "StackName")?;
    let got = shared
        .query(
            call,
            "cloudformation",
            &Params::from([
                ("Action".into(), "GetTemplate".into()),
                ("Version".into(), "2010-05-15".into()),
                ("StackName".into(), name.into()),
                ("TemplateStage".into(), "Original".into()),
            ]),
        )
        .await;
    let template_text = query::first(&got.text(), "TemplateBody").unwrap_or_else(|| "{}".into());
    let mut parameters = BTreeMap::new();
    for member in xml.split("<member>").skip(1) {
        if let (Some(k), Some(v)) = (
            query::first(member, "ParameterKey"),
            query::first(member, "ParameterValue"),
        ) {
            parameters.insert(k, v);
        }
    }
    let account = shared.account_of(call).await;
    let mut state = shared.cfn.lock().unwrap();
    state.stacks.push(Stack {
        name: stack_name,
        id,
        account,
        template: template::parse(&template_text).unwrap_or(json!({})),
        template_text,
        parameters,
        in_moto: true,
        created: query::timestamp(0),
        termination_protection: false,
        policy: None,
        events: Vec::new(),
        op: Op::settled(&status, 0),
    });
    Some(state.stacks.len() - 1)
}

async fn describe_stacks(shared: &Arc<Shared>, call: &Call, params: &Params) -> Option<Reply> {
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

fn describe_xml(stack: &Stack, view: &View) -> String {
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

fn describe_stack_events(shared: &Arc<Shared>, params: &Params) -> Reply {
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

fn get_template(shared: &Arc<Shared>, params: &Params) -> Option<Reply> {
    let name = params.get("StackName").cloned().unwrap_or_default();
    let state = shared.cfn.lock().unwrap();
    let i = state.find(&name)?;
    let stack = &state.stacks[i];
    Some(answer(
        "GetTemplate",
        &format!(
            "{}<StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>",
            element("TemplateBody", &stack.template_text)
        ),
    ))
}

/// The template a call carries: its `TemplateBody` (within CloudFormation's limit) or the
/// object its `TemplateURL` names.
async fn template_of(shared: &Arc<Shared>, call: &Call, params: &Params) -> Result<String, Reply> {
    if let Some(body) = params.get("TemplateBody") {
        if body.len() > TEMPLATE_BODY_LIMIT {
            return Err(error(
                400,
                "ValidationError",
                &format!(
                    "1 validation error detected: Value '{}...' at 'templateBody' failed to satisfy constraint: \
                     Member must have length less than or equal to {TEMPLATE_BODY_LIMIT}",
                    &body[..40]
                ),
            ));
        }
        return Ok(body.clone());
    }
    let Some(url) = params.get("TemplateURL") else {
        return Err(error(
            400,
            "ValidationError",
            "Either Template URL or Template Body must be specified.",
        ));
    };
    shared.count("TemplateURL");
    // https://<bucket>.s3.<region>.amazonaws.com/<key>, read as the caller.
    let without_scheme = url.split("://").nth(1).unwrap_or(url);
    let (host, key) = without_scheme
        .split_once('/')
        .unwrap_or((without_scheme, ""));
    let bucket = host.split(".s3").next().unwrap_or(host);
    let reply = shared
        .send(
            hyper::Method::GET,
            &format!("/{bucket}/{key}"),
            &call.as_service("s3"),
            Bytes::new(),
        )
        .await;
    if reply.ok() {
        Ok(reply.text())
    } else {
        Err(error(
            400,
            "ValidationError",
            &format!(
                "TemplateURL must be a supported URL: {url} could not be read ({})",
                reply.status
            ),
        ))
    }
}

/// `params` with the template given inline, as moto should read it.
fn with_template(params: &Params, template: &Value) -> Params {
    let mut params = params.clone();
    params.remove("TemplateURL");
    params.insert("TemplateBody".into(), template.to_string());
    params
}

async fn create_stack(shared: &Arc<Shared>, call: &Call, params: Params) -> Reply {
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
fn keep_once_created(policy: &str) -> String {
    match policy {
        "RetainExceptOnCreate" => "Retain".into(),
        other => other.into(),
    }
}

fn new_stack(
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

async fn create_change_set(shared: &Arc<Shared>, call: &Call, params: Params) -> Reply {
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

#[allow(clippy::too_many_arguments)]
async fn create_import(
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

fn describe_change_set(shared: &Arc<Shared>, params: &Params) -> Reply {
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

/// Why CloudFormation would fail this update, and at which resource.
fn update_failure(
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

async fn execute_change_set(shared: &Arc<Shared>, call: &Call, params: &Params) -> Reply {
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
async fn replace_tables(shared: &Arc<Shared>, call: &Call, change_set: &str, stack_name: &str) {
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

async fn execute_import(
    shared: &Arc<Shared>,
    call: &Call,
    name: &str,
    stack_name: &str,
    config: &super::Config,
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

async fn delete_stack(shared: &Arc<Shared>, call: &Call, params: &Params) -> Reply {
    let _one_at_a_time = shared.operations.lock().await;
    let config = shared.config();
    let name = params.get("StackName").cloned().unwrap_or_default();
    let Some(i) = adopt(shared, call, &name).await else {
        // Deleting a stack that does not exist succeeds.
        return answer("DeleteStack", "");
    };
    let (in_moto, protected, moto_name) = {
        let state = shared.cfn.lock().unwrap();
        let stack = &state.stacks[i];
        if stack.view().gone {
            return answer("DeleteStack", "");
        }
        (
            stack.in_moto,
            stack.termination_protection,
            stack.name.clone(),
        )
    };
    if protected {
        return error(
            400,
            "ValidationError",
            &format!(
                "Stack [{moto_name}] cannot be deleted while TerminationProtection is enabled"
            ),
        );
    }
    let failure = if in_moto {
        let mut forwarded = params.clone();
        forwarded.insert("StackName".into(), moto_name.clone());
        let reply = shared.query(call, "cloudformation", &forwarded).await;
        (!reply.ok())
            .then(|| query::first(&reply.text(), "Message").unwrap_or_else(|| reply.text()))
    } else {
        None
    };
    let mut state = shared.cfn.lock().unwrap();
    let stack = &mut state.stacks[i];
    let mut script = vec![stack.stack_event("DELETE_IN_PROGRESS", Some("User Initiated"))];
    let resources: Vec<String> = template::creation_order(&stack.template)
        .into_iter()
        .rev()
        .collect();
    for id in &resources {
        if !in_moto {
            break;
        }
        let kind = stack.resource_type(id);
        script.push(stack.event(id, &kind, "DELETE_IN_PROGRESS", None));
        let end = if stack.kept(id, "DeletionPolicy") {
            "DELETE_SKIPPED"
        } else if failure.is_some() {
            "DELETE_FAILED"
        } else {
            "DELETE_COMPLETE"
        };
        script.push(stack.event(
            id,
            &kind,
            end,
            failure.as_deref().filter(|_| end == "DELETE_FAILED"),
        ));
    }
    let done = if failure.is_some() {
        "DELETE_FAILED"
    } else {
        "DELETE_COMPLETE"
    };
    script.push(stack.stack_event(done, None));
    stack.begin(&config, "DELETE_IN_PROGRESS", done, script);
    if failure.is_none() {
        stack.op.deletes = true;
        stack.in_moto = false;
    }
    answer("DeleteStack", "")
}

async fn detect_drift(shared: &Arc<Shared>, call: &Call, params: &Params) -> Reply {
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

fn drift_status(shared: &Arc<Shared>, params: &Params) -> Reply {
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

fn resource_drifts(shared: &Arc<Shared>, params: &Params) -> Reply {
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
