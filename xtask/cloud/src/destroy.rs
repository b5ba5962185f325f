//! `cargo xtask destroy`: delete a stack, after confirmation, saying what is kept.

use crate::aws::cloudformation::Cfn;
use crate::aws::rollout::delete_and_wait;
use crate::aws::target::{Context, Target};
use anyhow::{Result, bail};
use std::io::{BufRead, IsTerminal, Write};
use xtask_core::outcome::refused;

/// Arguments of `destroy`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
    /// Allow destroying production (lifts its termination protection).
    #[arg(long)]
    force: bool,
}

/// Deletes the stack and waits until it is gone.
pub async fn run(args: Args) -> Result<()> {
    let ctx = Context::open(&args.target).await?;
    let cfn = Cfn::new(&ctx.config);
    let stack = ctx.stack.as_str();
    if ctx.env.is_production() && !args.force {
        return Err(refused(format!(
            "refusing to destroy production stack {stack}: pass --force if you really mean it"
        )));
    }
    let Some(state) = cfn.describe(stack).await? else {
        bail!(
            "stack {stack} does not exist in {}; nothing to destroy",
            ctx.env.region.as_str()
        );
    };
    if state.in_progress() {
        bail!(
            "stack {stack} is busy ({}): wait for it (`{}`) and retry",
            state.status,
            ctx.watch_hint()
        );
    }
    let template = cfn.template(stack).await?;
    let retained: Vec<String> = template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| {
            matches!(
                r["DeletionPolicy"].as_str(),
                Some("Retain" | "RetainExceptOnCreate")
            )
        })
        .map(|(id, r)| format!("{id} ({})", r["Type"].as_str().unwrap_or("?")))
        .collect();
    eprintln!(
        "xtask: this deletes stack {stack} in account {} ({})",
        ctx.account,
        ctx.env.region.as_str()
    );
    if retained.is_empty() {
        eprintln!(
            "xtask: nothing is retained: the table's tickets and the user pool's users are deleted too"
        );
    } else {
        eprintln!(
            "xtask: kept after deletion (their DeletionPolicy retains them): {}",
            retained.join(", ")
        );
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(refused(format!(
                "refusing to destroy {stack} without confirmation: pass --yes"
            )));
        }
        eprint!("Type the stack name to delete it: ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != stack {
            return Err(refused("not confirmed; nothing was deleted"));
        }
    }
    if state.termination_protection {
        cfn.protect(stack, false).await?;
    }
    delete_and_wait(&ctx, &cfn).await?;
    eprintln!("xtask: {stack} deleted");
    if !retained.is_empty() {
        eprintln!(
            "xtask: still in your account: {} (delete them by hand when no longer needed)",
            retained.join(", ")
        );
    }
    let outputs = ctx.stack.outputs_path();
    if outputs.exists() {
        std::fs::remove_file(outputs)?;
    }
    Ok(())
}
