//! `cargo xtask watch`: follow a stack's rollout (after Ctrl-C, or one started elsewhere).

use crate::aws::cloudformation::Cfn;
use crate::aws::stack_events::StackEvents;
use crate::aws::target::{Context, Target};
use anyhow::Result;

/// Arguments of `watch`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
}

/// Prints the stack's events until it settles, then its status.
pub async fn run(args: Args) -> Result<()> {
    let ctx = Context::open(&args.target).await?;
    let cfn = Cfn::new(&ctx.config);
    let mut watch = StackEvents::follow(&cfn, ctx.stack.as_str()).await?;
    match watch.until_settled(&ctx.watch_hint()).await? {
        Some(state) => println!("{} {}", ctx.stack, state.status),
        None => println!("{} does not exist", ctx.stack),
    }
    Ok(())
}
