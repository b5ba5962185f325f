//! The traffic shift of a gradual update, as CodeDeploy ran it: the configuration, the
//! versions it moved the alias between, and how it ended (and why, when it rolled back).
//! CloudFormation starts the shift itself (the alias's update policy) and waits for it.

use super::sdk::explain;
use anyhow::Result;
use aws_sdk_codedeploy::Client;
use aws_sdk_codedeploy::types::{DeploymentInfo, TimeRange};
use serde_json::Value;
use std::time::SystemTime;
use tickets_infra::stack::output::{DEPLOYMENT_APPLICATION, DEPLOYMENT_GROUP};
use xtask_core::stack_name::Outputs;

/// One shift of the alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    /// CodeDeploy's deployment id.
    pub id: String,
    /// The deployment configuration, e.g. `CodeDeployDefault.LambdaCanary10Percent5Minutes`.
    pub config: String,
    /// `Succeeded`, `Stopped`, `Failed`, `InProgress`, ...
    pub status: String,
    /// The version the alias pointed to, and the one it was moved to.
    pub versions: Option<(String, String)>,
    /// Seconds from creation to completion, when complete.
    pub seconds: Option<f64>,
    /// Why it stopped or rolled back, when it did.
    pub reason: Option<String>,
}

impl Shift {
    /// One line for the terminal.
    pub fn describe(&self) -> String {
        let versions = self
            .versions
            .as_ref()
            .map(|(from, to)| format!(" version {from} → {to}"))
            .unwrap_or_default();
        let took = self
            .seconds
            .map(|s| format!(" in {}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64))
            .unwrap_or_default();
        let reason = self
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        format!(
            "traffic:{versions} by {} ({}): {}{took}{reason}",
            self.config, self.id, self.status
        )
    }

    fn from_info(info: &DeploymentInfo) -> Self {
        let seconds = info
            .create_time()
            .zip(info.complete_time())
            .map(|(start, end)| (end.as_secs_f64() - start.as_secs_f64()).max(0.0));
        let reason = info
            .rollback_info()
            .and_then(|r| r.rollback_message())
            .or_else(|| info.error_information().and_then(|e| e.message()))
            .map(str::to_owned);
        let versions = info
            .revision()
            .and_then(|r| r.app_spec_content())
            .and_then(|c| c.content())
            .and_then(versions_of);
        Shift {
            id: info.deployment_id().unwrap_or_default().to_owned(),
            config: info.deployment_config_name().unwrap_or_default().to_owned(),
            status: info
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            versions,
            seconds,
            reason,
        }
    }
}

/// `CurrentVersion` and `TargetVersion` of the AppSpec CloudFormation hands CodeDeploy.
fn versions_of(app_spec: &str) -> Option<(String, String)> {
    let spec: Value = serde_json::from_str(app_spec)
        .or_else(|_| serde_norway::from_str(app_spec))
        .ok()?;
    let properties = spec["Resources"]
        .as_array()?
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|resource| resource.values())
        .map(|function| &function["Properties"])
        .next()?;
    let text = |key: &str| match &properties[key] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Some((text("CurrentVersion")?, text("TargetVersion")?))
}

/// Prints the shifts of the stack's alias since `since`, if the stack shifts gradually;
/// CodeDeploy being unreadable is a warning, never a failed deploy.
pub async fn show(config: &aws_config::SdkConfig, outputs: &Outputs, since: SystemTime) {
    let (Some(application), Some(group)) = (
        outputs.get(DEPLOYMENT_APPLICATION),
        outputs.get(DEPLOYMENT_GROUP),
    ) else {
        return;
    };
    match shifts_since(config, application, group, since).await {
        Ok(shifts) if shifts.is_empty() => eprintln!(
            "xtask: traffic: no shift (the function's code and configuration did not change)"
        ),
        Ok(shifts) => {
            for shift in shifts {
                eprintln!("xtask: {}", shift.describe());
            }
        }
        Err(err) => eprintln!("xtask: warning: the traffic shift could not be read: {err:#}"),
    }
}

/// The shifts of `application`/`group` created since `since`, oldest first.
pub async fn shifts_since(
    config: &aws_config::SdkConfig,
    application: &str,
    group: &str,
    since: SystemTime,
) -> Result<Vec<Shift>> {
    let client = Client::new(config);
    let listed = client
        .list_deployments()
        .application_name(application)
        .deployment_group_name(group)
        .create_time_range(
            TimeRange::builder()
                .start(aws_sdk_codedeploy::primitives::DateTime::from(since))
                .build(),
        )
        .send()
        .await
        .map_err(|e| explain("listing the CodeDeploy deployments of the alias", e))?;
    if listed.deployments().is_empty() {
        return Ok(Vec::new());
    }
    let described = client
        .batch_get_deployments()
        .set_deployment_ids(Some(listed.deployments().to_vec()))
        .send()
        .await
        .map_err(|e| explain("reading the CodeDeploy deployments of the alias", e))?;
    // The time range is asked for above and checked again here: an older shift shown as
    // this update's would be misleading, whatever the service did with the range.
    let since = aws_sdk_codedeploy::primitives::DateTime::from(since).as_secs_f64();
    let mut shifts: Vec<(f64, Shift)> = described
        .deployments_info()
        .iter()
        .filter_map(|info| {
            let created = info.create_time().map_or(0.0, |t| t.as_secs_f64());
            (created >= since).then(|| (created, Shift::from_info(info)))
        })
        .collect();
    shifts.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(shifts.into_iter().map(|(_, shift)| shift).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_codedeploy::primitives::DateTime;
    use aws_sdk_codedeploy::types::{
        AppSpecContent, DeploymentStatus, RevisionLocation, RollbackInfo,
    };

    fn info(status: DeploymentStatus, rollback: Option<&str>) -> DeploymentInfo {
        let spec = r#"{"version":0.0,"Resources":[{"Function":{"Type":"AWS::Lambda::Function",
            "Properties":{"Name":"tickets-prod-manage-tickets","Alias":"live",
            "CurrentVersion":"7","TargetVersion":"8"}}}]}"#;
        let mut builder = DeploymentInfo::builder()
            .deployment_id("d-ABC123")
            .deployment_config_name("CodeDeployDefault.LambdaCanary10Percent5Minutes")
            .status(status)
            .create_time(DateTime::from_secs(1_000))
            .complete_time(DateTime::from_secs(1_372))
            .revision(
                RevisionLocation::builder()
                    .app_spec_content(AppSpecContent::builder().content(spec).build())
                    .build(),
            );
        if let Some(message) = rollback {
            builder =
                builder.rollback_info(RollbackInfo::builder().rollback_message(message).build());
        }
        builder.build()
    }

    #[test]
    fn shows_the_versions_the_configuration_and_how_long_it_took() {
        let shift = Shift::from_info(&info(DeploymentStatus::Succeeded, None));
        assert_eq!(
            shift.describe(),
            "traffic: version 7 → 8 by CodeDeployDefault.LambdaCanary10Percent5Minutes \
             (d-ABC123): Succeeded in 6m12s"
        );
    }

    #[test]
    fn says_why_a_shift_rolled_back() {
        let shift = Shift::from_info(&info(
            DeploymentStatus::Stopped,
            Some("Deployment stopped: alarm AlarmApi5xxRate activated"),
        ));
        assert!(
            shift
                .describe()
                .ends_with("Stopped in 6m12s: Deployment stopped: alarm AlarmApi5xxRate activated"),
            "{}",
            shift.describe()
        );
    }

    #[test]
    fn reads_versions_from_a_yaml_app_spec_too() {
        let yaml = "version: 0.0\nResources:\n  - Function:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: f\n        Alias: live\n        CurrentVersion: 3\n        TargetVersion: 4\n";
        assert_eq!(versions_of(yaml), Some(("3".into(), "4".into())));
    }
}
