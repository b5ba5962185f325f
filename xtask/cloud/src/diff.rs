//! `cargo xtask diff`: what `deploy` would change, without building or changing anything.

use crate::aws::artifact_bucket;
use crate::aws::cloudformation::Cfn;
use crate::aws::hot_swap;
use crate::aws::stack_diff::diff;
use crate::aws::target::{Context, Target};
use anyhow::Result;
use serde_json::Value;
use std::collections::BTreeMap;
use tickets_infra::stack::parameter::ARTIFACT_BUCKET;
use tickets_manifest::functions::FUNCTIONS;
use xtask_core::lambda::artifact;
use xtask_core::tools::digest::sha256_hex;

/// Arguments of `diff`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Print the diff as JSON.
    #[arg(long)]
    json: bool,
}

/// Shows what `deploy` would change, without building or changing anything. The code's
/// artifact is the last one built (`cargo xtask build`), if any.
pub async fn run(args: Args) -> Result<()> {
    let ctx = Context::open(&args.target).await?;
    let cfn = Cfn::new(&ctx.config);
    let stack = ctx.stack.as_str();
    let deployed = cfn.describe(stack).await?;
    let old_template = match &deployed {
        Some(_) => Some(cfn.template(stack).await?),
        None => None,
    };
    let mut parameters = BTreeMap::from([(ARTIFACT_BUCKET.to_owned(), ctx.bucket().name)]);
    for function in FUNCTIONS {
        let key = match std::fs::read(artifact::zip_path_of(*function)?) {
            Ok(bytes) => artifact_bucket::key(function.name, &sha256_hex(&bytes)),
            Err(_) => {
                eprintln!(
                    "xtask: no built artifact of {} (run `cargo xtask build`); its code changes are not shown",
                    function.name
                );
                deployed
                    .as_ref()
                    .and_then(|s| s.parameters.get(function.artifact_parameter).cloned())
                    .unwrap_or_default()
            }
        };
        parameters.insert(function.artifact_parameter.to_owned(), key);
    }
    let new_template: Value =
        serde_json::from_str(&tickets_infra::ticket_stack(&ctx.env).to_json_compact())?;
    let result = diff(
        old_template
            .as_ref()
            .zip(deployed.as_ref().map(|s| &s.parameters)),
        (&new_template, &parameters),
        tickets_infra::cfn::resource_info,
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        if deployed.is_none() {
            println!("stack {stack} does not exist yet: deploy creates everything");
        }
        print!("{}", result.render());
        if let Some(drift) = hot_swap::describe(&hot_swap::load(&ctx)?) {
            print!("{drift}");
        }
    }
    Ok(())
}
