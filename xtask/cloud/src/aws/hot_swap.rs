//! Code swapped into a personal stack's functions without CloudFormation (`cargo xtask
//! dev`): `UpdateFunctionCode` with the zip's bytes, then wait until Lambda serves it.
//!
//! The stack then runs code its template does not declare: drift. Each swap is recorded
//! beside the stack's outputs (`.tickets/stacks/<stack>.hot-swap.json`: the zip's SHA-256,
//! its build profile and when); `diff` shows the record, and `deploy` puts the declared code
//! back and removes it.

use super::cloudformation::Cfn;
use super::sdk::explain;
use super::target::Context;
use anyhow::{Context as _, Result, bail};
use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::LastUpdateStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tickets_infra::stack::parameter::ARTIFACT_BUCKET;
use tickets_manifest::functions::{FUNCTIONS, Function};

/// How long Lambda may take to settle an update before `dev` gives up.
const SETTLE_DEADLINE: Duration = Duration::from_secs(120);

/// One function's swapped code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Swapped {
    /// SHA-256 of the zip, hex.
    pub sha256: String,
    /// Its build profile.
    pub profile: String,
    /// When, RFC 3339.
    pub at: String,
}

/// What runs hot-swapped in a stack, by function name.
pub type Record = BTreeMap<String, Swapped>;

fn record_path(ctx: &Context) -> PathBuf {
    ctx.stack.outputs_path().with_extension("hot-swap.json")
}

/// The stack's record, empty when nothing was swapped from this machine.
pub fn load(ctx: &Context) -> Result<Record> {
    let path = record_path(ctx);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))
        }
        Err(_) => Ok(Record::new()),
    }
}

/// Adds `function`'s swap to the record.
pub fn record(ctx: &Context, function: &str, swapped: Swapped) -> Result<()> {
    let mut all = load(ctx)?;
    all.insert(function.to_owned(), swapped);
    let path = record_path(ctx);
    std::fs::create_dir_all(path.parent().expect("records live in a folder"))?;
    std::fs::write(&path, serde_json::to_string_pretty(&all)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

/// The record as `diff` and `deploy` show it; `None` without drift.
pub fn describe(record: &Record) -> Option<String> {
    if record.is_empty() {
        return None;
    }
    let mut text = String::from("Hot-swapped code (drift: the template declares other code)\n");
    for (function, swapped) in record {
        text.push_str(&format!(
            "  ! {function}: {} build {} since {}\n",
            swapped.profile,
            &swapped.sha256[..12.min(swapped.sha256.len())],
            swapped.at
        ));
    }
    text.push_str("  `cargo xtask deploy` puts the declared code back\n");
    Some(text)
}

/// The physical name of each function of the manifest in the deployed stack, read from
/// the template (which function takes which artifact parameter) and the stack's resources.
pub async fn function_names(ctx: &Context, cfn: &Cfn) -> Result<BTreeMap<&'static str, String>> {
    let stack = ctx.stack.as_str();
    let template = cfn.template(stack).await?;
    let physical = cfn.physical_ids(stack).await?;
    let mut names = BTreeMap::new();
    for function in FUNCTIONS {
        if let Some(id) = logical_id_of(&template, function)
            && let Some(name) = physical.get(&id)
        {
            names.insert(function.name, name.clone());
        }
    }
    Ok(names)
}

/// The function resource whose code is `function`'s artifact.
fn logical_id_of(template: &Value, function: &Function) -> Option<String> {
    template["Resources"]
        .as_object()?
        .iter()
        .find(|(_, r)| {
            r["Type"] == "AWS::Lambda::Function"
                && r["Properties"]["Code"]["S3Key"]["Ref"] == function.artifact_parameter
        })
        .map(|(id, _)| id.clone())
}

/// Replaces `name`'s code with `zip` and waits until Lambda serves it.
pub async fn swap(ctx: &Context, name: &str, zip: Vec<u8>) -> Result<()> {
    let client = Client::new(&ctx.config);
    client
        .update_function_code()
        .function_name(name)
        .zip_file(Blob::new(zip))
        .send()
        .await
        .map_err(|e| explain(&format!("updating the code of {name}"), e))?;
    settle(&client, name).await
}

/// Waits for `LastUpdateStatus: Successful`; a failed update is an error with Lambda's reason.
async fn settle(client: &Client, name: &str) -> Result<()> {
    let started = Instant::now();
    loop {
        let configuration = client
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| explain(&format!("reading the state of {name}"), e))?;
        match configuration.last_update_status() {
            None | Some(LastUpdateStatus::Successful) => return Ok(()),
            Some(LastUpdateStatus::Failed) => bail!(
                "Lambda could not update {name}: {}",
                configuration
                    .last_update_status_reason()
                    .unwrap_or("no reason given")
            ),
            Some(_) if started.elapsed() > SETTLE_DEADLINE => bail!(
                "{name} is still updating after {}s: check it in the Lambda console, then run `cargo xtask dev` again",
                SETTLE_DEADLINE.as_secs()
            ),
            Some(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Puts back the code the stack declares in every function this machine hot-swapped, and
/// clears the record; nothing to do without one.
pub async fn reconcile(ctx: &Context) -> Result<()> {
    let swapped = load(ctx)?;
    if swapped.is_empty() {
        return Ok(());
    }
    let cfn = Cfn::new(&ctx.config);
    let Some(state) = cfn.describe(ctx.stack.as_str()).await? else {
        return clear(ctx);
    };
    let names = function_names(ctx, &cfn).await?;
    let client = Client::new(&ctx.config);
    let bucket = state
        .parameters
        .get(ARTIFACT_BUCKET)
        .context("the stack has no ArtifactBucket parameter")?;
    for function in FUNCTIONS.iter().filter(|f| swapped.contains_key(f.name)) {
        let (Some(name), Some(key)) = (
            names.get(function.name),
            state.parameters.get(function.artifact_parameter),
        ) else {
            continue;
        };
        client
            .update_function_code()
            .function_name(name)
            .s3_bucket(bucket)
            .s3_key(key)
            .send()
            .await
            .map_err(|e| explain(&format!("putting the declared code back in {name}"), e))?;
        settle(&client, name).await?;
        eprintln!(
            "xtask: {name} runs the declared code s3://{bucket}/{key} again (it ran hot-swapped code)"
        );
    }
    clear(ctx)
}

fn clear(ctx: &Context) -> Result<()> {
    let path = record_path(ctx);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("removing {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_functions_resource_by_its_artifact_parameter() {
        let template = serde_json::json!({"Resources": {
            "Enrichment": {"Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Key": {"Ref": "EnrichmentArtifactKey"}}}},
            "Function": {"Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Key": {"Ref": "ArtifactKey"}}}},
        }});
        let api = FUNCTIONS[0];
        assert_eq!(api.artifact_parameter, "ArtifactKey");
        assert_eq!(logical_id_of(&template, &api).as_deref(), Some("Function"));
    }

    #[test]
    fn describes_drift_with_the_way_back() {
        let record = Record::from([(
            "manage-tickets".to_owned(),
            Swapped {
                sha256: "0123456789abcdef".into(),
                profile: "dev".into(),
                at: "2026-11-30T09:00:00Z".into(),
            },
        )]);
        let text = describe(&record).unwrap();
        assert!(text.contains("manage-tickets: dev build 0123456789ab since 2026-11-30T09:00:00Z"));
        assert!(text.contains("cargo xtask deploy"));
        assert_eq!(describe(&Record::new()), None);
    }
}
