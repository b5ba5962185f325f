//! `cargo xtask drift --env X`: what changed in a stack's resources outside CloudFormation,
//! per resource and property, like `diff`.

use crate::aws::cloudformation::Cfn;
use crate::aws::drift;
use crate::aws::target::{Context, Target};
use anyhow::{Result, bail};

/// Arguments of `drift`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
}

/// Detects drift and prints it; fails (exit 1) when the stack has drifted.
pub async fn run(args: Args) -> Result<()> {
    let ctx = Context::open(&args.target).await?;
    let cfn = Cfn::new(&ctx.config);
    if cfn.describe(ctx.stack.as_str()).await?.is_none() {
        bail!(
            "stack {} does not exist: deploy it with `cargo xtask deploy {}`",
            ctx.stack,
            args.target.flags()
        );
    }
    let drifted = drift::detect(&cfn, ctx.stack.as_str()).await?;
    if drifted.is_empty() {
        println!("{}: in sync with its template", ctx.stack);
        return Ok(());
    }
    print!("{}", drift::render(&drifted));
    bail!(
        "stack {} has drifted: {} resource(s) differ from its template. Put them back by hand, or \
         deploy (production refuses without --accept-drift); see the README's recovery procedures",
        ctx.stack,
        drifted.len()
    )
}
