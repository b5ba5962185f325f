//! Telling what failed: the resources CloudFormation reported, or (when the call itself
//! failed) the template's resources that never got created.

use super::cloudformation::Cfn;
use super::stack_events::StackEvents;
use serde_json::Value;
use tickets_infra::cfn::resource_info;

/// Prints the resources CloudFormation reported failed, with their reasons.
pub fn print_failures(watch: &StackEvents<'_>) {
    let failures = watch.failures();
    if failures.is_empty() {
        eprintln!("xtask: CloudFormation reported no failed resource");
        return;
    }
    eprintln!("xtask: failed resources:");
    for event in failures {
        eprintln!(
            "  ✗ {} ({}): {}",
            event.logical_id,
            event.resource_type,
            event.reason.as_deref().unwrap_or("no reason given")
        );
    }
}

/// When the API call itself failed, names the template's resources that did not get
/// created, with the error as their reason.
pub async fn report_missing_resources(cfn: &Cfn, stack: &str, template: &str, err: &anyhow::Error) {
    let Ok(template) = serde_json::from_str::<Value>(template) else {
        return;
    };
    let Ok(existing) = cfn.resources(stack).await else {
        return;
    };
    let complete: Vec<&str> = existing
        .iter()
        .filter(|(_, _, status)| status.ends_with("_COMPLETE"))
        .map(|(id, _, _)| id.as_str())
        .collect();
    if complete.is_empty() {
        return;
    }
    let missing: Vec<(String, String)> = template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(id, r)| {
            !complete.contains(&id.as_str())
                && resource_info(r["Type"].as_str().unwrap_or_default()).is_some()
                && existing.iter().all(|(e, _, _)| e != *id)
        })
        .map(|(id, r)| {
            (
                id.clone(),
                r["Type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    if !missing.is_empty() {
        eprintln!("xtask: failed resources:");
        for (id, kind) in missing {
            eprintln!("  ✗ {id} ({kind}): not created: {err:#}");
        }
    }
}
