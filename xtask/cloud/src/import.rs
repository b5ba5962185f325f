//! `cargo xtask import --env X`: adopt the table and the user pool an earlier stack of
//! this name left behind (its `DeletionPolicy` retained them when it was deleted) into a
//! new stack with an `IMPORT` change set, so that their data is never stranded. The stack
//! then holds only them; `deploy` adds the rest.

use crate::aws::adoption::{self, Adopted};
use crate::aws::cloudformation::{Cfn, ChangeSet};
use crate::aws::confirmation::confirm_production;
use crate::aws::failures::print_failures;
use crate::aws::leftovers::{self, Leftover};
use crate::aws::rollout::apply_stack_policy;
use crate::aws::stack_events::StackEvents;
use crate::aws::target::{Context, Target};
use anyhow::{Result, bail};
use std::collections::BTreeMap;
use xtask_core::outcome::{deploy_failed, refused};
use xtask_core::stack_name;

/// Arguments of `import`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Do not ask for confirmation (production asks otherwise).
    #[arg(long)]
    yes: bool,
}

/// Runs `import`.
pub async fn run(args: Args) -> Result<()> {
    let ctx = Context::open(&args.target).await?;
    let cfn = Cfn::new(&ctx.config);
    let stack = ctx.stack.as_str();
    let flags = ctx.target.flags();
    if let Some(state) = cfn.describe(stack).await?
        && state.status != "DELETE_COMPLETE"
    {
        return Err(refused(format!(
            "stack {stack} exists already ({}): `import` makes the stack anew from what an earlier \
             one left, so it runs only where no stack of this name exists. If {stack} failed its first \
             creation and holds nothing, remove it (`cargo xtask destroy {flags} --force`) and import \
             again; otherwise deploy it: `cargo xtask deploy {flags}`",
            state.status
        )));
    }
    let template: serde_json::Value =
        serde_json::from_str(&tickets_infra::ticket_stack(&ctx.env).to_json_compact())?;
    let found = leftovers::find(&ctx, &template).await?;
    if found.is_empty() {
        println!(
            "nothing to import: no table or user pool of stack {stack} exists outside a stack in \
             account {}, {}. Create the stack with `cargo xtask deploy {flags}`",
            ctx.account,
            ctx.env.region.as_str()
        );
        return Ok(());
    }
    let adopted = one_each(&found, &flags)?;
    let ids: Vec<&str> = adopted.iter().map(|a| a.logical_id.as_str()).collect();
    let (import_template, left_out) = adoption::import_template(&template, &ids);
    for found in &found {
        eprintln!(
            "xtask: adopting {} {} as {}",
            found.kind, found.name, found.logical_id
        );
    }
    for (id, properties) in &left_out {
        eprintln!(
            "xtask: {id} is imported without {} (they refer to resources the stack does not \
             hold yet); the next deploy sets them",
            properties.join(", ")
        );
    }
    confirm_production(&ctx, args.yes, "Import these resources into a new")?;

    let tags = [
        ("project", stack_name::PROJECT),
        ("environment", ctx.env.name.as_str()),
    ];
    let planned = cfn
        .import_change_set(stack, &import_template.to_string(), &adopted, &tags)
        .await;
    let name = match planned {
        Ok(ChangeSet::Ready { name, .. }) => name,
        Ok(ChangeSet::Empty) => {
            remove_empty_stack(&cfn, stack).await;
            bail!("CloudFormation found nothing to import into {stack}; nothing was adopted")
        }
        Err(err) => {
            remove_empty_stack(&cfn, stack).await;
            return Err(deploy_failed(format!(
                "importing into {stack} failed: {err:#}. Nothing was adopted and the data is where it \
                 was; fix what CloudFormation names and run `cargo xtask import {flags}` again"
            )));
        }
    };
    let mut watch = StackEvents::start(&cfn, stack).await?;
    eprintln!("xtask: executing import change set {name}");
    cfn.execute(stack, &name).await?;
    match watch.until_settled(&ctx.watch_hint()).await? {
        Some(state) if state.status == "IMPORT_COMPLETE" => {}
        other => {
            print_failures(&watch);
            let status = other.map(|s| s.status).unwrap_or_else(|| "DELETED".into());
            return Err(deploy_failed(format!(
                "importing into {stack} failed ({status}); the resources are kept where they were. \
                 See the reasons above, then run `cargo xtask import {flags}` again (remove a stack \
                 left without resources first: `cargo xtask destroy {flags} --force`)"
            )));
        }
    }
    if ctx.env.is_production() {
        // As `deploy` creates production stacks: protected from deletion and replacement.
        cfn.protect(stack, true).await?;
        apply_stack_policy(&ctx, &cfn).await?;
    }
    println!(
        "{stack}: adopted {}. Run `cargo xtask deploy {flags}` to add the rest of the stack",
        found
            .iter()
            .map(|f| format!("{} {}", f.kind, f.name))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    Ok(())
}

/// One resource per logical id: several user pools of the stack's pool name (each failed
/// retry of an old creation left one) cannot all be adopted, and which one holds the
/// users only a person can tell.
fn one_each(found: &[Leftover], flags: &str) -> Result<Vec<Adopted>> {
    let mut by_id: BTreeMap<&str, Vec<&Leftover>> = BTreeMap::new();
    for leftover in found {
        by_id
            .entry(leftover.logical_id.as_str())
            .or_default()
            .push(leftover);
    }
    let mut adopted = Vec::new();
    for (id, leftovers) in by_id {
        if let [one] = leftovers.as_slice() {
            adopted.extend(adoption::adopted(one));
            continue;
        }
        let ids: Vec<&str> = leftovers.iter().filter_map(|l| l.id.as_deref()).collect();
        return Err(refused(format!(
            "{} {}s named {} exist ({}), and {id} can adopt one: keep the one whose users you \
             need, delete the others (`aws cognito-idp delete-user-pool --user-pool-id <id>`), and \
             run `cargo xtask import {flags}` again",
            leftovers.len(),
            leftovers[0].kind,
            leftovers[0].name,
            ids.join(", ")
        )));
    }
    Ok(adopted)
}

/// An import that did not run leaves the stack its change set made, without resources
/// (`REVIEW_IN_PROGRESS`): removed so that `deploy` or another `import` can start clean.
async fn remove_empty_stack(cfn: &Cfn, stack: &str) {
    let Ok(Some(state)) = cfn.describe(stack).await else {
        return;
    };
    if state.status == "REVIEW_IN_PROGRESS"
        && cfn.resources(stack).await.is_ok_and(|r| r.is_empty())
        && let Err(err) = cfn.delete(stack).await
    {
        eprintln!("xtask: warning: the empty stack {stack} could not be removed: {err:#}");
    }
}
