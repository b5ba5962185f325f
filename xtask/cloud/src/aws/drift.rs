//! Drift: resources changed outside CloudFormation (by hand in the console, by another
//! tool). `cargo xtask drift` shows each difference like `diff`; `deploy` checks before an
//! update, warns, and in production refuses unless `--accept-drift`, since the update
//! would silently overwrite (or trip over) what someone changed.

use super::cloudformation::Cfn;
use super::deadline::Deadline;
use super::sdk::{explain, is_throttled};
use super::target::Context;
use anyhow::{Result, bail};
use aws_sdk_cloudformation::types::StackDriftDetectionStatus;
use std::fmt::Write as _;
use std::time::Duration;
use xtask_core::outcome::refused;

/// A resource that differs from its template.
#[derive(Debug, Clone)]
pub struct ResourceDrift {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// `MODIFIED` or `DELETED`.
    pub status: String,
    /// Property path, expected value, actual value.
    pub differences: Vec<(String, String, String)>,
}

/// Runs drift detection on `stack` and returns the resources that drifted.
pub async fn detect(cfn: &Cfn, stack: &str) -> Result<Vec<ResourceDrift>> {
    let id = cfn
        .client
        .detect_stack_drift()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| explain(&format!("starting drift detection on {stack}"), e))?
        .stack_drift_detection_id()
        .unwrap_or_default()
        .to_owned();
    let deadline = Deadline::change_set()?;
    let mut pause = Duration::from_secs(1);
    loop {
        let status = cfn
            .client
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(&id)
            .send()
            .await
            .map_err(|e| explain("reading the drift detection", e));
        match status {
            Ok(status) => match status.detection_status() {
                Some(StackDriftDetectionStatus::DetectionComplete) => break,
                Some(StackDriftDetectionStatus::DetectionFailed) => bail!(
                    "drift detection on {stack} failed: {}",
                    status
                        .detection_status_reason()
                        .unwrap_or("no reason given")
                ),
                _ => {}
            },
            Err(err) if is_throttled(&err) => pause = (pause * 2).min(Duration::from_secs(20)),
            Err(err) => return Err(err),
        }
        if deadline.passed() {
            bail!(
                "drift detection on {stack} did not finish within {} ({})",
                deadline.limit(),
                deadline.var
            );
        }
        tokio::time::sleep(pause).await;
    }
    let mut drifted = Vec::new();
    let mut token = None;
    loop {
        let page = cfn
            .client
            .describe_stack_resource_drifts()
            .stack_name(stack)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| explain(&format!("reading the drift of {stack}"), e))?;
        for resource in page.stack_resource_drifts() {
            let status = resource
                .stack_resource_drift_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default();
            if matches!(status.as_str(), "IN_SYNC" | "NOT_CHECKED") {
                continue;
            }
            drifted.push(ResourceDrift {
                logical_id: resource
                    .logical_resource_id()
                    .unwrap_or_default()
                    .to_owned(),
                resource_type: resource.resource_type().unwrap_or_default().to_owned(),
                status,
                differences: resource
                    .property_differences()
                    .iter()
                    .map(|d| {
                        (
                            d.property_path().unwrap_or_default().to_owned(),
                            d.expected_value().unwrap_or_default().to_owned(),
                            d.actual_value().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect(),
            });
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    Ok(drifted)
}

/// The drifted resources as a diff: `-` what the template says, `+` what AWS holds.
pub fn render(drifted: &[ResourceDrift]) -> String {
    let mut out = String::new();
    for resource in drifted {
        let _ = writeln!(
            out,
            "~ {} {} ({})",
            resource.logical_id, resource.resource_type, resource.status
        );
        for (path, expected, actual) in &resource.differences {
            let _ = writeln!(out, "    {path}\n    - {expected}\n    + {actual}");
        }
    }
    out
}

/// Before an update: warns about drift, and in production refuses it unless accepted. A
/// detection that cannot run (permissions, a service without it) is a warning.
pub async fn check_before_update(ctx: &Context, cfn: &Cfn, accept: bool) -> Result<()> {
    let stack = ctx.stack.as_str();
    let drifted = match detect(cfn, stack).await {
        Ok(drifted) => drifted,
        Err(err) => {
            eprintln!("xtask: warning: could not check {stack} for drift: {err:#}");
            return Ok(());
        }
    };
    if drifted.is_empty() {
        return Ok(());
    }
    eprintln!(
        "xtask: {stack} has drifted: {} resource(s) differ from the deployed template",
        drifted.len()
    );
    for line in render(&drifted).lines() {
        eprintln!("  {line}");
    }
    if ctx.env.is_production() && !accept {
        return Err(refused(format!(
            "refusing to update production stack {stack}: it has drifted (above), and the update could \
             overwrite or trip over those changes. Put them back, or keep them in the environment file, \
             then deploy; if the update should go ahead as it is, pass --accept-drift"
        )));
    }
    eprintln!("xtask: warning: the update goes ahead over the drift (outside production)");
    Ok(())
}
