//! CloudFormation as it behaves on AWS, over moto's resources.
//! (Over 500 lines: the proxy's stack state and its dispatch, which every CloudFormation action shares.)

use super::query::{self, Params, answer, element, error, optional};
use super::template::{self, Change};
use super::{Call, Reply, Shared};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

mod change_sets;
mod creation;
mod describe;
mod drift;
mod execution;
mod imports;

use change_sets::{create_change_set, describe_change_set};
use creation::{create_stack, keep_once_created, new_stack};
use describe::{describe_stack_events, describe_stacks};
use drift::{detect_drift, drift_status, resource_drifts};
use execution::execute_change_set;
use imports::{create_import, execute_import};

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
    shared.record(&action, &params);
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
            // moto has no `UpdateTerminationProtection` (it answers 500): the flag is the
            // proxy's, for every stack, and `DeleteStack` honours it.
            let name = params.get("StackName").cloned().unwrap_or_default();
            let on = params
                .get("EnableTerminationProtection")
                .map(String::as_str)
                == Some("true");
            let mut state = shared.cfn.lock().unwrap();
            let i = state.live(&name)?;
            state.stacks[i].termination_protection = on;
            let id = state.stacks[i].id.clone();
            Some(answer(&action, &element("StackId", &id)))
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
