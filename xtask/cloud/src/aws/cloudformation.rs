//! The CloudFormation calls `deploy`, `diff`, `destroy`, `promote` and `outputs` make
//! (change sets in [`super::change_set`]).

pub use super::change_set::ChangeSet;
use super::sdk::explain;
use super::template_source::{TemplateSource, TemplateStash};
use anyhow::{Context, Result};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, DeploymentConfig, Parameter, StackEvent, StackResource, Tag, TemplateStage,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use xtask_core::stack_name::Outputs;

/// The capabilities the ticket stack needs: it creates an IAM role.
pub(super) const CAPABILITIES: [Capability; 2] =
    [Capability::CapabilityIam, Capability::CapabilityNamedIam];

/// `CreateStack` found the stack created already: another run created it a moment ago.
#[derive(Debug, thiserror::Error)]
#[error("creating stack {0}: it already exists (another deploy created it a moment ago)")]
pub struct AlreadyExists(pub String);

/// A deployed stack, as CloudFormation describes it.
#[derive(Debug, Clone)]
pub struct StackState {
    /// Its id (an ARN): names change hands, ids do not.
    pub id: String,
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

    /// It runs a consistent version and can be updated: its last operation succeeded, or
    /// a failed update rolled back to the version before (a healthy, serving state).
    pub fn complete(&self) -> bool {
        matches!(
            self.status.as_str(),
            "CREATE_COMPLETE"
                | "UPDATE_COMPLETE"
                | "UPDATE_ROLLBACK_COMPLETE"
                | "IMPORT_COMPLETE"
                | "IMPORT_ROLLBACK_COMPLETE"
        )
    }
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
    pub(super) client: Client,
    /// Where templates over the inline limit go; without one they are always sent inline.
    stash: Option<TemplateStash>,
}

pub(super) fn parameters(values: &BTreeMap<String, String>) -> Vec<Parameter> {
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
            stash: None,
        }
    }

    /// Sends templates over CloudFormation's inline limit through `stash`.
    pub fn with_stash(mut self, stash: TemplateStash) -> Self {
        self.stash = Some(stash);
        self
    }

    /// The template as CloudFormation will read it.
    pub(super) async fn template_source(
        &self,
        stack: &str,
        template: &str,
    ) -> Result<TemplateSource> {
        match &self.stash {
            Some(stash) => stash.source(stack, template).await,
            None => Ok(TemplateSource::Body(template.to_owned())),
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
            id: found.stack_id().unwrap_or_default().to_owned(),
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

    /// Creates the stack (its first deployment), in `deployment`'s mode; returns its id.
    /// [`AlreadyExists`] when another run created it first.
    pub async fn create(
        &self,
        stack: &str,
        template: &str,
        values: &BTreeMap<String, String>,
        tags: &[(&str, &str)],
        termination_protection: bool,
        deployment: Option<DeploymentConfig>,
    ) -> Result<String> {
        let (body, url) = self.template_source(stack, template).await?.into_parts();
        let created = self
            .client
            .create_stack()
            .stack_name(stack)
            .set_template_body(body)
            .set_template_url(url)
            .set_parameters(Some(parameters(values)))
            .set_capabilities(Some(CAPABILITIES.to_vec()))
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(*k).value(*v).build())
                    .collect(),
            ))
            .enable_termination_protection(termination_protection)
            .set_deployment_config(deployment)
            .send()
            .await;
        match created {
            Ok(output) => Ok(output.stack_id().unwrap_or(stack).to_owned()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_already_exists_exception()) =>
            {
                Err(AlreadyExists(stack.to_owned()).into())
            }
            Err(err) => Err(explain(&format!("creating stack {stack}"), err)),
        }
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

    /// Sets the stack policy (CloudFormation's own guard, whichever tool updates the stack).
    pub async fn set_policy(&self, stack: &str, policy: &Value) -> Result<()> {
        self.client
            .set_stack_policy()
            .stack_name(stack)
            .stack_policy_body(policy.to_string())
            .send()
            .await
            .map_err(|e| explain(&format!("setting the stack policy of {stack}"), e))?;
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

    /// The ids of the newest page of events (none for a stack that does not exist): what
    /// happened before an operation that starts now. Older pages are never read, however
    /// long the stack's history.
    pub async fn latest_event_ids(&self, stack: &str) -> Result<HashSet<String>> {
        match self
            .client
            .describe_stack_events()
            .stack_name(stack)
            .send()
            .await
        {
            Ok(page) => Ok(page
                .stack_events()
                .iter()
                .filter_map(|e| e.event_id().map(str::to_owned))
                .collect()),
            Err(err)
                if err
                    .as_service_error()
                    .and_then(|e| e.meta().message())
                    .is_some_and(|m| m.contains("does not exist")) =>
            {
                Ok(HashSet::new())
            }
            Err(err) => Err(explain(&format!("reading events of {stack}"), err)),
        }
    }

    /// Events newer than the newest of `seen` (which they are added to), oldest first.
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
                if seen.contains(&event.id) {
                    break 'pages;
                }
                fresh.push(event);
            }
        }
        // Only now: a page that failed (throttled) leaves them all new for the next poll.
        seen.extend(fresh.iter().map(|e| e.id.clone()));
        fresh.reverse();
        Ok(fresh)
    }

    /// The stack's resources as CloudFormation lists them.
    async fn stack_resources(&self, stack: &str) -> Result<Vec<StackResource>> {
        let output = self
            .client
            .describe_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| explain(&format!("listing resources of {stack}"), e))?;
        Ok(output.stack_resources().to_vec())
    }

    /// Each resource of the stack with its type and status.
    pub async fn resources(&self, stack: &str) -> Result<Vec<(String, String, String)>> {
        Ok(self
            .stack_resources(stack)
            .await?
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
        Ok(self
            .stack_resources(stack)
            .await?
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
