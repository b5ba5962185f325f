//! `cargo xtask outputs`: a deployed stack's outputs, also written to `.tickets/stacks/`.

use crate::aws::cloudformation::Cfn;
use crate::aws::target::{Context, Target};
use anyhow::{Result, bail};
use xtask_core::stack_name::print_outputs;

/// Arguments of `outputs`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Print them as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Reads the outputs from CloudFormation, records and prints them.
pub async fn run(args: Args) -> Result<()> {
    let ctx = Context::open(&args.target).await?;
    let Some(state) = Cfn::new(&ctx.config).describe(ctx.stack.as_str()).await? else {
        bail!(
            "stack {} does not exist: deploy it with `cargo xtask deploy {}`",
            ctx.stack,
            args.target.flags()
        );
    };
    ctx.stack.write_outputs(&state.outputs)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&state.outputs)?);
    } else {
        print_outputs(&state.outputs);
    }
    Ok(())
}
