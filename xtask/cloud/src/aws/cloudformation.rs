//! The CloudFormation calls `deploy`, `diff`, `destroy`, `promote` and `outputs` make.

use super::rollback::UpdateWatch;
use super::sdk::explain;
use anyhow::{Context, Result};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, Parameter, StackEvent, Tag, TemplateStage,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;
use xtask_core::stack_name::Outputs;

/// The capabilities the ticket stack needs: it creates an IAM role.
const CAPABILITIES: [Capability; 2] = [Capability::CapabilityIam, Capability::CapabilityNamedIam];

/// A deployed stack, as CloudFormation describes it.
#[derive(Debug, Clone)]
pub struct StackState {
    /// Status, e.g. `UPDATE_COMPLETE`.
    pub status: String,
    /// Why it is in that status, when CloudFormation says.
    pub reason: Option<String>,
    /// Parameter values.
    pub parameters: BTreeMap<String, String>,
    /// Outputs.
    pub outputs: Outputs,
    /// Whether termination protection is on.
    pub termination_protection: bool,
    /// The stack's tags.
    pub tags: BTreeMap<String, String>,
}

impl StackState {
    /// An operation is running on it.
    pub fn in_progress(&self) -> bool {
        self.status.ends_with("_IN_PROGRESS")
    }

    /// Its last operation succeeded and it can be updated.
    pub fn complete(&self) -> bool {
        matches!(
            self.status.as_str(),
            "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE"
        )
    }
}

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

/// A status message and the resource it is about.
#[derive(Debug, Clone)]
pub struct Event {
    /// Its id.
    pub id: String,
    /// Logical id of the resource (the stack's own name for stack events).
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// Status, e.g. `CREATE_FAILED`.
    pub status: String,
    /// Reason, when given.
    pub reason: Option<String>,
}

impl From<&StackEvent> for Event {
    fn from(e: &StackEvent) -> Self {
        Event {
            id: e.event_id().unwrap_or_default().to_owned(),
            logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
            resource_type: e.resource_type().unwrap_or_default().to_owned(),
            status: e
                .resource_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            reason: e.resource_status_reason().map(str::to_owned),
        }
    }
}

/// A CloudFormation client for one region.
#[derive(Debug, Clone)]
pub struct Cfn {
    client: Client,
}

fn parameters(values: &BTreeMap<String, String>) -> Vec<Parameter> {
    values
        .iter()
        .map(|(k, v)| {
            Parameter::builder()
                .parameter_key(k)
                .parameter_value(v)
                .build()
        })
        .collect()
}

impl Cfn {
    /// A client from the SDK configuration.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Cfn {
            client: Client::new(config),
        }
    }

    /// The stack, or `None` when it does not exist.
    pub async fn describe(&self, stack: &str) -> Result<Option<StackState>> {
        let output = match self.client.describe_stacks().stack_name(stack).send().await {
            Ok(output) => output,
            Err(err)
                if err
                    .as_service_error()
                    .and_then(|e| e.meta().message())
                    .is_some_and(|m| m.contains("does not exist")) =>
            {
                return Ok(None);
            }
            Err(err) => return Err(explain(&format!("describing stack {stack}"), err)),
        };
        let Some(found) = output.stacks().first() else {
            return Ok(None);
        };
        Ok(Some(StackState {
            status: found
                .stack_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            reason: found.stack_status_reason().map(str::to_owned),
            parameters: found
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.parameter_key()?.to_owned(),
                        p.parameter_value()?.to_owned(),
                    ))
                })
                .collect(),
            outputs: found
                .outputs()
                .iter()
                .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
                .collect(),
            termination_protection: found.enable_termination_protection().unwrap_or(false),
            tags: found
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                .collect(),
        }))
    }

    /// The template the stack was last deployed with.
    pub async fn template(&self, stack: &str) -> Result<Value> {
        let output = self
            .client
            .get_template()
            .stack_name(stack)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| explain(&format!("reading the deployed template of {stack}"), e))?;
        let body = output.template_body().unwrap_or("{}");
        // Stacks deployed by this tool hold JSON; accept YAML from elsewhere.
        serde_json::from_str(body)
            .or_else(|_| serde_norway::from_str(body))
            .with_context(|| format!("the deployed template of {stack} is neither JSON nor YAML"))
    }

    /// Creates the stack (its first deployment).
    pub async fn create(
        &self,
        stack: &str,
        template: &str,
        values: &BTreeMap<String, String>,
        tags: &[(&str, &str)],
        termination_protection: bool,
    ) -> Result<()> {
        self.client
            .create_stack()
            .stack_name(stack)
            .template_body(template)
            .set_parameters(Some(parameters(values)))
            .set_capabilities(Some(CAPABILITIES.to_vec()))
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                    .collect(),
            ))
            .enable_termination_protection(termination_protection)
            .send()
            .await
            .map_err(|e| explain(&format!("creating stack {stack}"), e))?;
        Ok(())
    }

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
        self.client
            .create_change_set()
            .stack_name(stack)
            .change_set_name(&name)
            .change_set_type(ChangeSetType::Update)
            .template_body(template)
            .set_parameters(Some(parameters(values)))
            .set_capabilities(Some(CAPABILITIES.to_vec()))
            .set_rollback_configuration(watch.rollback.clone())
            .set_tags(watch.tags.clone())
            .description("cargo xtask deploy")
            .send()
            .await
            .map_err(|e| explain(&format!("creating a change set for {stack}"), e))?;
        loop {
            let described = self
                .client
                .describe_change_set()
                .stack_name(stack)
                .change_set_name(&name)
                .send()
                .await
                .map_err(|e| explain("reading the change set", e))?;
            match described.status() {
                Some(ChangeSetStatus::CreateComplete) => {
                    let changes = described
                        .changes()
                        .iter()
                        .filter_map(|c| c.resource_change())
                        .map(|r| PlannedChange {
                            logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                            resource_type: r.resource_type().unwrap_or_default().to_owned(),
                            action: r
                                .action()
                                .map(|a| a.as_str().to_owned())
                                .unwrap_or_default(),
                            replacement: r.replacement().map(|x| x.as_str().to_owned()),
                        })
                        .collect();
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

    /// Starts deleting the stack.
    pub async fn delete(&self, stack: &str) -> Result<()> {
        self.client
            .delete_stack()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| explain(&format!("deleting stack {stack}"), e))?;
        Ok(())
    }

    /// Turns termination protection on or off.
    pub async fn protect(&self, stack: &str, on: bool) -> Result<()> {
        self.client
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(on)
            .send()
            .await
            .map_err(|e| explain(&format!("changing termination protection of {stack}"), e))?;
        Ok(())
    }

    /// Events not in `seen` (which they are added to), oldest first.
    pub async fn new_events(&self, stack: &str, seen: &mut HashSet<String>) -> Result<Vec<Event>> {
        let mut fresh = Vec::new();
        let mut pages = self
            .client
            .describe_stack_events()
            .stack_name(stack)
            .into_paginator()
            .send();
        'pages: while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                // A deleted stack has no events to read any more.
                Err(err)
                    if err
                        .as_service_error()
                        .and_then(|e| e.meta().message())
                        .is_some_and(|m| m.contains("does not exist")) =>
                {
                    break;
                }
                Err(err) => return Err(explain(&format!("reading events of {stack}"), err)),
            };
            for event in page.stack_events() {
                let event = Event::from(event);
                if !seen.insert(event.id.clone()) {
                    break 'pages;
                }
                fresh.push(event);
            }
        }
        fresh.reverse();
        Ok(fresh)
    }

    /// Each resource of the stack with its type and status.
    pub async fn resources(&self, stack: &str) -> Result<Vec<(String, String, String)>> {
        let output = self
            .client
            .describe_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| explain(&format!("listing resources of {stack}"), e))?;
        Ok(output
            .stack_resources()
            .iter()
            .map(|r| {
                (
                    r.logical_resource_id().unwrap_or_default().to_owned(),
                    r.resource_type().unwrap_or_default().to_owned(),
                    r.resource_status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                )
            })
            .collect())
    }

    /// Each resource's physical id, by logical id (resources not created yet are left out).
    pub async fn physical_ids(&self, stack: &str) -> Result<BTreeMap<String, String>> {
        let output = self
            .client
            .describe_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| explain(&format!("listing resources of {stack}"), e))?;
        Ok(output
            .stack_resources()
            .iter()
            .filter_map(|r| {
                Some((
                    r.logical_resource_id()?.to_owned(),
                    r.physical_resource_id()?.to_owned(),
                ))
            })
            .collect())
    }
}
