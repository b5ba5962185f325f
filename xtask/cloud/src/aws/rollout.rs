//! A rollout, as `deploy` and `promote` make it: diff against the deployed stack, refuse
//! data loss, confirm production, create the stack or execute a change set, follow its
//! events, and record the outputs. Also the deletion `destroy` and a failed first creation
//! need.

use super::cloudformation::{AlreadyExists, Cfn, ChangeSet, StackState};
use super::confirmation;
use super::drift;
use super::failures;
use super::generations;
use super::lambda_account;
use super::leftovers;
use super::preflight;
use super::rollback;
use super::stack_diff::{self, StackDiff};
use super::stack_events::StackEvents;
use super::table_indexes;
use super::target::{Context, Safety};
use super::template_source::TemplateStash;
use super::traffic;
use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Instant;
use tickets_infra::cfn::resource_info;
use tickets_infra::stack::parameter::{ARTIFACT_BUCKET, DEPLOYMENT_CONFIG};
use xtask_core::outcome::{deploy_failed, refused};
use xtask_core::stack_name::{self, Outputs};
use xtask_core::tools::workspace::shown;

/// What a rollout did, for people and for `--json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Stack name.
    pub stack: String,
    /// Environment name.
    pub environment: String,
    /// AWS account.
    pub account: String,
    /// AWS region.
    pub region: String,
    /// `created`, `updated` or `unchanged`.
    pub result: &'static str,
    /// The artifact deployed.
    pub artifact: ArtifactReport,
    /// What changed.
    pub diff: StackDiff,
    /// The stack's outputs.
    pub outputs: Outputs,
    /// Wall time of the rollout (build excluded).
    pub seconds: f64,
}

/// The artifacts a rollout deployed, one per function.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactReport {
    /// Bucket.
    pub bucket: String,
    /// Key of the API function's zip.
    pub key: String,
    /// Every function's key, by the template parameter that takes it.
    pub keys: BTreeMap<String, String>,
    /// Whether this run uploaded (or copied) any of them.
    pub uploaded: bool,
}

impl ArtifactReport {
    /// The template's parameters: the bucket and every function's key.
    pub fn parameters(&self) -> BTreeMap<String, String> {
        let mut parameters = self.keys.clone();
        parameters.insert(ARTIFACT_BUCKET.to_owned(), self.bucket.clone());
        parameters
    }
}

/// Diff, confirm, create or update, follow, and record outputs.
pub async fn rollout(
    ctx: &Context,
    template: &str,
    artifact: ArtifactReport,
    safety: &Safety,
) -> Result<()> {
    let started = Instant::now();
    // Large templates go through the artifact bucket, which the upload has made sure of.
    let cfn = Cfn::new(&ctx.config).with_stash(TemplateStash::new(
        &ctx.config,
        &artifact.bucket,
        ctx.env.region.as_str(),
    ));
    let stack = ctx.stack.as_str();
    let mut new_template: Value =
        serde_json::from_str(template).context("the template to deploy is not JSON")?;
    let mut parameters = artifact.parameters();

    preflight::check_function_code(ctx, &new_template, &parameters).await?;
    preflight::check_api_logging(ctx, &new_template).await?;
    let mut deployed = cfn.describe(stack).await?;
    if let Some(state) = &deployed {
        ready_for_update(ctx, &cfn, state).await?;
        if matches!(
            state.status.as_str(),
            "ROLLBACK_COMPLETE" | "REVIEW_IN_PROGRESS"
        ) {
            deployed = None;
        }
    }
    // A first creation shifts nothing: there is no canary to skip.
    let skip_canary =
        safety.skip_canary && rollback::is_gradual(&new_template) && deployed.is_some();
    rollback::gradual_parameters(&new_template, skip_canary, &mut parameters);
    if safety.skip_canary && !skip_canary {
        eprintln!(
            "xtask: note: this rollout shifts no traffic gradually (a first creation, or {} \
             deploys all at once); --skip-canary changes nothing",
            ctx.env.name
        );
    }
    if deployed.is_some() {
        drift::check_before_update(ctx, &cfn, safety.accept_drift).await?;
    }
    let old_template = match &deployed {
        Some(_) => Some(cfn.template(stack).await?),
        None => None,
    };
    lambda_account::check_reserved_concurrency(ctx, &new_template, old_template.as_ref()).await?;
    let diff_now = |new_template: &Value| {
        stack_diff::diff(
            old_template
                .as_ref()
                .zip(deployed.as_ref().map(|s| &s.parameters)),
            (new_template, &parameters),
            resource_info,
        )
    };
    let as_given = new_template.clone();
    if let Some(old) = &old_template {
        generations::carry_over(old, &mut new_template);
        let renamed = generations::rename_replaced(
            &diff_now(&new_template),
            &mut new_template,
            stack,
            safety.allow_replace,
        )?;
        for renamed in &renamed {
            eprintln!("xtask: {}", generations::explain(renamed));
        }
    }
    // An edited template (a generation above, a hand-edited `--template`) keeps the rule
    // that the API's deployment id follows everything the stage serves, or the stage
    // would keep serving the old snapshot.
    if let Some((old, new)) = tickets_infra::stack::restamp_deployment(&mut new_template) {
        eprintln!(
            "xtask: the API deployment {old} does not match what the stage serves; deploying it as {new}"
        );
    }
    let edited_text;
    let template = if new_template != as_given {
        edited_text = serde_json::to_string(&new_template)?;
        edited_text.as_str()
    } else {
        template
    };
    let diff = diff_now(&new_template);
    eprint!("{}", indent(&diff.render()));
    if let Some(old) = &old_template {
        table_indexes::check_one_change_per_update(old, &new_template)?;
    }

    let report = |result, outputs: Outputs, diff: StackDiff| Report {
        stack: stack.to_owned(),
        environment: ctx.env.name.clone(),
        account: ctx.account.clone(),
        region: ctx.env.region.as_str().to_owned(),
        result,
        artifact: artifact.clone(),
        diff,
        outputs,
        seconds: started.elapsed().as_secs_f64(),
    };

    if let Some(state) = &deployed
        && diff.is_empty()
    {
        eprintln!("xtask: no changes: {stack} is up to date");
        return finish(
            ctx,
            report("unchanged", state.outputs.clone(), diff),
            safety,
        );
    }
    let destructive: Vec<String> = diff
        .destructive()
        .iter()
        .map(|c| format!("{} ({})", c.logical_id, c.resource_type))
        .collect();
    if !destructive.is_empty() && !safety.allow_replace {
        return Err(refused(format!(
            "refusing to deploy: it would replace or delete {} and lose the data in it. \
             If that is what you want, run again with --allow-replace",
            destructive.join(", ")
        )));
    }
    confirmation::confirm(ctx, safety)?;
    if skip_canary {
        confirmation::confirm_skip_canary(ctx, safety)?;
    }

    let state = match &deployed {
        None => create(ctx, &cfn, template, &parameters).await?,
        Some(deployed) => match update(ctx, &cfn, template, &parameters, deployed, safety).await? {
            Some(state) => state,
            None => {
                let state = cfn
                    .describe(stack)
                    .await?
                    .context("the stack disappeared")?;
                eprintln!("xtask: no changes: CloudFormation found nothing to update");
                return finish(ctx, report("unchanged", state.outputs, diff), safety);
            }
        },
    };
    let result = if old_template.is_some() {
        "updated"
    } else {
        "created"
    };
    eprintln!(
        "xtask: {stack} {result} in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    finish(ctx, report(result, state.outputs, diff), safety)
}

/// Refuses stacks that cannot be updated now, and clears a failed first creation.
async fn ready_for_update(ctx: &Context, cfn: &Cfn, state: &StackState) -> Result<()> {
    let stack = ctx.stack.as_str();
    // A first change set someone made (`aws cloudformation deploy`, CDK, SAM) and never
    // executed: the stack exists without resources, "in progress" until deleted.
    if state.status == "REVIEW_IN_PROGRESS" && cfn.resources(stack).await?.is_empty() {
        if ctx.env.is_production() {
            return Err(refused(format!(
                "stack {stack} is in REVIEW_IN_PROGRESS: a first change set was made and never executed, \
                 and it holds no resources. This is production, so remove it yourself after checking \
                 (`aws cloudformation list-change-sets --stack-name {stack}`): \
                 `cargo xtask destroy {} --force`, then deploy again",
                ctx.target.flags()
            )));
        }
        eprintln!(
            "xtask: stack {stack} is in REVIEW_IN_PROGRESS with no resources (a first change set \
             never executed); deleting it so it can be created"
        );
        return delete_and_wait(ctx, cfn).await;
    }
    if state.in_progress() {
        bail!(
            "stack {stack} is busy ({}): wait for it to finish (`{}`) and deploy again",
            state.status,
            ctx.watch_hint()
        );
    }
    match state.status.as_str() {
        "ROLLBACK_COMPLETE" if ctx.env.is_production() => Err(refused(format!(
            "stack {stack} failed its first creation (ROLLBACK_COMPLETE) and must be deleted before it can be created again; \
             this is production, so delete it yourself after checking: `cargo xtask destroy {} --force`",
            ctx.target.flags()
        ))),
        "ROLLBACK_COMPLETE" => {
            eprintln!(
                "xtask: stack {stack} failed its first creation earlier; deleting it so it can be created again"
            );
            delete_and_wait(ctx, cfn).await
        }
        status if status.ends_with("_FAILED") => bail!(
            "stack {stack} is in {status} ({}) and needs repair before it can be updated: \
             see its events in the CloudFormation console (for UPDATE_ROLLBACK_FAILED, continue the rollback there)",
            state.reason.as_deref().unwrap_or("no reason given")
        ),
        _ => Ok(()),
    }
}

async fn create(
    ctx: &Context,
    cfn: &Cfn,
    template: &str,
    parameters: &BTreeMap<String, String>,
) -> Result<StackState> {
    let stack = ctx.stack.as_str();
    let tags = [
        ("project", stack_name::PROJECT),
        ("environment", ctx.env.name.as_str()),
    ];
    let first = first_creation_form(ctx, template);
    leftovers::refuse_creation_over(ctx, &serde_json::from_str(&first)?).await?;
    let mut watch = StackEvents::start(cfn, stack).await?;
    eprintln!("xtask: creating stack {stack}");
    let deployment = super::express::deployment_config(ctx);
    if deployment.is_some() {
        eprintln!("{}", super::express::NOTICE);
    }
    // Production stacks are protected from deletion; `destroy --force` lifts it.
    let created = cfn
        .create(
            stack,
            &first,
            parameters,
            &tags,
            ctx.env.is_production(),
            deployment,
        )
        .await;
    let (id, settled) = match created {
        Ok(id) => (id, watch.until_settled(&ctx.watch_hint()).await?),
        Err(err) if err.downcast_ref::<AlreadyExists>().is_some() => bail!(
            "{err}; nothing was deleted. Wait for it to finish (`{}`) and deploy again",
            ctx.watch_hint()
        ),
        // The call failed: this run created nothing, so there is nothing of its own to
        // clean up.
        Err(err) => {
            failures::report_missing_resources(cfn, stack, template, &err).await;
            return Err(deploy_failed(format!("creating {stack} failed: {err:#}")));
        }
    };
    match settled {
        Some(state) if state.status == "CREATE_COMPLETE" => {
            apply_stack_policy(ctx, cfn).await?;
            if first == template {
                return Ok(state);
            }
            eprintln!(
                "xtask: turning on deletion protection of the data (off during the first creation, \
                 so that a failed one rolls back without leaving it behind)"
            );
            let protected =
                update(ctx, cfn, template, parameters, &state, &Safety::default()).await?;
            Ok(protected.unwrap_or(state))
        }
        other => {
            failures::print_failures(&watch);
            let status = other.map(|s| s.status).unwrap_or_else(|| "DELETED".into());
            if ctx.env.is_production() {
                eprintln!(
                    "xtask: {stack} is left in {status} (production is never deleted by deploy); \
                     what its creation made is gone with the rollback. Remove it with \
                     `cargo xtask destroy {} --force` and deploy again",
                    ctx.target.flags()
                );
            }
            if let Err(cleanup) = clean_up_failed_creation(ctx, cfn, &id).await {
                eprintln!("xtask: warning: the failed stack could not be cleaned up: {cleanup:#}");
            }
            Err(deploy_failed(format!("creating {stack} failed ({status})")))
        }
    }
}

/// The template of the stack's first creation: for the environment's own template, the
/// form with deletion protection off (`tickets_infra::first_creation`), turned on by an
/// update right after; a template given with `--template` as it is.
fn first_creation_form(ctx: &Context, template: &str) -> String {
    if template == tickets_infra::ticket_stack(&ctx.env).to_json_compact() {
        tickets_infra::first_creation(&ctx.env).to_json_compact()
    } else {
        template.to_owned()
    }
}

/// Sets the environment's stack policy, where it has one (on every rollout, so that one
/// lifted by hand for a recovery comes back).
pub async fn apply_stack_policy(ctx: &Context, cfn: &Cfn) -> Result<()> {
    match tickets_infra::stack::stack_policy(&ctx.env) {
        Some(policy) => cfn.set_policy(ctx.stack.as_str(), &policy).await,
        None => Ok(()),
    }
}

/// Executes a change set; `None` when CloudFormation finds nothing to change.
async fn update(
    ctx: &Context,
    cfn: &Cfn,
    template: &str,
    parameters: &BTreeMap<String, String>,
    deployed: &StackState,
    safety: &Safety,
) -> Result<Option<StackState>> {
    let stack = ctx.stack.as_str();
    let skip_canary = parameters.get(DEPLOYMENT_CONFIG).map(String::as_str)
        == Some(rollback::ALL_AT_ONCE)
        && safety.skip_canary;
    let watch = rollback::update_watch(ctx, deployed, skip_canary);
    if watch.deployment.is_some() {
        eprintln!("{}", super::express::NOTICE);
    }
    apply_stack_policy(ctx, cfn).await?;
    let ChangeSet::Ready { name, changes } =
        cfn.change_set(stack, template, parameters, &watch).await?
    else {
        return Ok(None);
    };
    // CloudFormation's own view of replacements is authoritative; check it too.
    let replaced: Vec<String> = changes
        .iter()
        .filter(|c| {
            resource_info(&c.resource_type).is_some_and(|i| i.stateful)
                && (c.action == "Remove" || c.certainly_replaced())
        })
        .map(|c| format!("{} ({})", c.logical_id, c.resource_type))
        .collect();
    if !replaced.is_empty() && !safety.allow_replace {
        cfn.delete_change_set(stack, &name).await?;
        return Err(refused(format!(
            "refusing to deploy: CloudFormation would replace or remove {} and lose its data. \
             If that is what you want, run again with --allow-replace",
            replaced.join(", ")
        )));
    }
    if let Some(trigger) = watch
        .rollback
        .as_ref()
        .and_then(|r| r.rollback_triggers().first())
    {
        eprintln!(
            "xtask: CloudFormation rolls this update back if {} fires before {} minutes after it",
            trigger
                .arn()
                .unwrap_or_default()
                .rsplit(':')
                .next()
                .unwrap_or_default(),
            ctx.env.rollout.monitoring_minutes
        );
    }
    if let Some(config) = parameters.get(DEPLOYMENT_CONFIG) {
        eprintln!(
            "xtask: a new version takes traffic by {config}; CloudFormation waits for the shift"
        );
    }
    let mut watch = StackEvents::start(cfn, stack).await?;
    eprintln!(
        "xtask: executing change set {name} ({} resource changes)",
        changes.len()
    );
    let shift_from = std::time::SystemTime::now();
    if let Err(err) = cfn.execute(stack, &name).await {
        failures::report_missing_resources(cfn, stack, template, &err).await;
        return Err(deploy_failed(format!("updating {stack} failed: {err:#}")));
    }
    let settled = watch.until_settled(&ctx.watch_hint()).await?;
    traffic::show(&ctx.config, &deployed.outputs, shift_from).await;
    match settled {
        Some(state) if state.status == "UPDATE_COMPLETE" => Ok(Some(state)),
        other => {
            failures::print_failures(&watch);
            let status = other.map(|s| s.status).unwrap_or_else(|| "DELETED".into());
            Err(deploy_failed(format!(
                "updating {stack} failed ({status}); CloudFormation rolled back to the previous version"
            )))
        }
    }
}

/// Deletes the stack this run created (`id`) after its creation failed; never one of the
/// same name that another run created meanwhile, and never in production.
async fn clean_up_failed_creation(ctx: &Context, cfn: &Cfn, id: &str) -> Result<()> {
    if ctx.env.is_production() {
        return Ok(());
    }
    match cfn.describe(ctx.stack.as_str()).await? {
        Some(state) if state.id == id => {}
        _ => return Ok(()),
    }
    eprintln!(
        "xtask: deleting the failed stack {} so that the next deploy starts clean (not done for production)",
        ctx.stack
    );
    delete_and_wait(ctx, cfn).await
}

/// Deletes the stack and follows until it is gone.
pub async fn delete_and_wait(ctx: &Context, cfn: &Cfn) -> Result<()> {
    let stack = ctx.stack.as_str();
    let mut watch = StackEvents::start(cfn, stack).await?;
    cfn.delete(stack).await?;
    match watch.until_settled(&ctx.watch_hint()).await? {
        None => Ok(()),
        Some(state) if state.status == "DELETE_COMPLETE" => Ok(()),
        Some(state) => {
            failures::print_failures(&watch);
            Err(deploy_failed(format!(
                "deleting {stack} failed ({})",
                state.status
            )))
        }
    }
}

/// Records and prints the outputs, and the JSON report when asked.
fn finish(ctx: &Context, report: Report, safety: &Safety) -> Result<()> {
    ctx.stack.write_outputs(&report.outputs)?;
    if safety.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        stack_name::print_outputs(&report.outputs);
        eprintln!(
            "xtask: outputs written to {}",
            shown(&ctx.stack.outputs_path())
        );
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}
