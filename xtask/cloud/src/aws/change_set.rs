//! Change sets (updates, and imports that adopt existing resources): created, waited for until CloudFormation has computed them (to a
//! deadline, backing off while throttled), read to their last page, executed or discarded.

use super::adoption::Adopted;
use super::cloudformation::{CAPABILITIES, Cfn, parameters};
use super::deadline::Deadline;
use super::rollback::UpdateWatch;
use super::sdk::{explain, is_throttled};
use anyhow::Result;
use aws_sdk_cloudformation::types::{ChangeSetStatus, ChangeSetType, ResourceToImport, Tag};
use std::collections::BTreeMap;
use std::time::Duration;

/// One change CloudFormation computed for a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChange {
    /// Logical id.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// `Add`, `Modify`, `Remove`, ...
    pub action: String,
    /// `True`, `False` or `Conditional` for modifications.
    pub replacement: Option<String>,
    /// The changed properties that require recreating the resource: `Always` or
    /// `Conditionally` per property (`Never` left out).
    pub recreation: Vec<(String, String)>,
}

impl PlannedChange {
    /// CloudFormation will certainly replace it: `Replacement: True`, or `Conditional`
    /// with a property that `Always` requires recreation. A `Conditional` that only
    /// depends on other resources' values (`Conditionally`) is left to the template diff,
    /// which knows which properties replace.
    pub fn certainly_replaced(&self) -> bool {
        match self.replacement.as_deref() {
            Some("True") => true,
            Some("Conditional") => self.recreation.iter().any(|(_, r)| r == "Always"),
            _ => false,
        }
    }
}

/// The result of creating a change set.
#[derive(Debug, Clone)]
pub enum ChangeSet {
    /// CloudFormation found nothing to change (the change set was deleted).
    Empty,
    /// Ready to execute.
    Ready {
        /// Its name.
        name: String,
        /// What it will do.
        changes: Vec<PlannedChange>,
    },
}

fn planned(change: &aws_sdk_cloudformation::types::Change) -> Option<PlannedChange> {
    let r = change.resource_change()?;
    Some(PlannedChange {
        logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: r.resource_type().unwrap_or_default().to_owned(),
        action: r
            .action()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        replacement: r.replacement().map(|x| x.as_str().to_owned()),
        recreation: r
            .details()
            .iter()
            .filter_map(|d| {
                let target = d.target()?;
                let recreation = target.requires_recreation()?.as_str();
                (recreation != "Never").then(|| {
                    (
                        target.name().unwrap_or_default().to_owned(),
                        recreation.to_owned(),
                    )
                })
            })
            .collect(),
    })
}

impl Cfn {
    /// Creates an update change set and waits until CloudFormation has computed it.
    pub async fn change_set(
        &self,
        stack: &str,
        template: &str,
        values: &BTreeMap<String, String>,
        watch: &UpdateWatch,
    ) -> Result<ChangeSet> {
        let name = format!(
            "xtask-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis()
        );
        let deadline = Deadline::change_set()?;
        let (body, url) = self.template_source(stack, template).await?.into_parts();
        self.client
            .create_change_set()
            .stack_name(stack)
            .change_set_name(&name)
            .change_set_type(ChangeSetType::Update)
            .set_template_body(body)
            .set_template_url(url)
            .set_parameters(Some(parameters(values)))
            .set_capabilities(Some(CAPABILITIES.to_vec()))
            .set_rollback_configuration(watch.rollback.clone())
            .set_tags(watch.tags.clone())
            .set_deployment_config(watch.deployment.clone())
            .description("cargo xtask deploy")
            .send()
            .await
            .map_err(|e| explain(&format!("creating a change set for {stack}"), e))?;
        self.computed(stack, &name, &deadline).await
    }

    /// Creates an `IMPORT` change set that makes `stack` (which must not exist) from
    /// `template` by adopting `resources`, and waits until CloudFormation has computed it.
    pub async fn import_change_set(
        &self,
        stack: &str,
        template: &str,
        resources: &[Adopted],
        tags: &[(&str, &str)],
    ) -> Result<ChangeSet> {
        let name = format!(
            "xtask-import-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis()
        );
        let deadline = Deadline::change_set()?;
        let (body, url) = self.template_source(stack, template).await?.into_parts();
        let imports = resources
            .iter()
            .map(|r| {
                ResourceToImport::builder()
                    .logical_resource_id(&r.logical_id)
                    .resource_type(&r.resource_type)
                    .resource_identifier(&r.key, &r.value)
                    .build()
            })
            .collect();
        self.client
            .create_change_set()
            .stack_name(stack)
            .change_set_name(&name)
            .change_set_type(ChangeSetType::Import)
            .set_template_body(body)
            .set_template_url(url)
            .set_resources_to_import(Some(imports))
            .set_capabilities(Some(CAPABILITIES.to_vec()))
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                    .collect(),
            ))
            .description("cargo xtask import")
            .send()
            .await
            .map_err(|e| explain(&format!("creating an import change set for {stack}"), e))?;
        self.computed(stack, &name, &deadline).await
    }

    /// Waits until CloudFormation has computed change set `name`, to `deadline`.
    async fn computed(&self, stack: &str, name: &str, deadline: &Deadline) -> Result<ChangeSet> {
        let name = name.to_owned();
        let mut pause = Duration::from_millis(500);
        loop {
            if deadline.passed() {
                // Stuck: leave nothing behind that a later execute could pick up.
                let _ = self.delete_change_set(stack, &name).await;
                anyhow::bail!(
                    "CloudFormation did not finish computing change set {name} for {stack} within {} \
                     ({}); nothing was changed. Run the command again, or allow longer with {}=20m",
                    deadline.limit(),
                    deadline.var,
                    deadline.var
                );
            }
            let described = match self
                .client
                .describe_change_set()
                .stack_name(stack)
                .change_set_name(&name)
                .send()
                .await
                .map_err(|e| explain("reading the change set", e))
            {
                Ok(described) => described,
                Err(err) if is_throttled(&err) => {
                    pause = (pause * 2).min(Duration::from_secs(20));
                    eprintln!("xtask: throttled by CloudFormation; trying again in {pause:?}");
                    tokio::time::sleep(pause).await;
                    continue;
                }
                Err(err) => return Err(err),
            };
            match described.status() {
                Some(ChangeSetStatus::CreateComplete) => {
                    let changes = self
                        .all_changes(stack, &name, described.changes(), described.next_token())
                        .await?;
                    return Ok(ChangeSet::Ready { name, changes });
                }
                Some(ChangeSetStatus::Failed) => {
                    let reason = described.status_reason().unwrap_or_default().to_owned();
                    self.delete_change_set(stack, &name).await?;
                    if reason.contains("didn't contain changes") || reason.contains("No updates") {
                        return Ok(ChangeSet::Empty);
                    }
                    anyhow::bail!("CloudFormation could not plan the change: {reason}");
                }
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    /// Every change of a computed change set: `first` and the pages after it (a large
    /// change set is paged, and a guard that read one page would miss the rest).
    async fn all_changes(
        &self,
        stack: &str,
        name: &str,
        first: &[aws_sdk_cloudformation::types::Change],
        next: Option<&str>,
    ) -> Result<Vec<PlannedChange>> {
        let mut changes: Vec<PlannedChange> = first.iter().filter_map(planned).collect();
        let mut token = next.map(str::to_owned);
        while let Some(current) = token {
            let page = self
                .client
                .describe_change_set()
                .stack_name(stack)
                .change_set_name(name)
                .next_token(current)
                .send()
                .await
                .map_err(|e| explain("reading the change set", e))?;
            changes.extend(page.changes().iter().filter_map(planned));
            token = page.next_token().map(str::to_owned);
        }
        Ok(changes)
    }

    /// Runs a change set.
    pub async fn execute(&self, stack: &str, change_set: &str) -> Result<()> {
        self.client
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| explain(&format!("executing the change set on {stack}"), e))?;
        Ok(())
    }

    /// Discards a change set.
    pub async fn delete_change_set(&self, stack: &str, change_set: &str) -> Result<()> {
        self.client
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(change_set)
            .send()
            .await
            .map_err(|e| explain("deleting the change set", e))?;
        Ok(())
    }
}
