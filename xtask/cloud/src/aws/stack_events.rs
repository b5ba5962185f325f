//! Following a stack's events while CloudFormation works, with elapsed times, until it
//! settles; Ctrl-C stops watching, not CloudFormation.

use super::cloudformation::{Cfn, Event, StackState};
use anyhow::Result;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use xtask_core::outcome::interrupted;

/// How often to poll while CloudFormation works.
const POLL: Duration = Duration::from_secs(2);

/// Events of one stack since a starting point.
pub struct StackEvents<'a> {
    cfn: &'a Cfn,
    stack: &'a str,
    seen: HashSet<String>,
    failures: Vec<Event>,
    started: Instant,
}

impl<'a> StackEvents<'a> {
    /// Starts watching: events that exist now are history and are not shown.
    pub async fn start(cfn: &'a Cfn, stack: &'a str) -> Result<StackEvents<'a>> {
        let mut seen = HashSet::new();
        cfn.new_events(stack, &mut seen).await?;
        Ok(StackEvents {
            cfn,
            stack,
            seen,
            failures: Vec::new(),
            started: Instant::now(),
        })
    }

    /// Prints new events until the stack is no longer in progress; returns its state
    /// (`None` once deleted). `resume` tells the user how to pick up after Ctrl-C.
    pub async fn until_settled(&mut self, resume: &str) -> Result<Option<StackState>> {
        loop {
            for event in self.cfn.new_events(self.stack, &mut self.seen).await? {
                let reason = event
                    .reason
                    .as_deref()
                    .map(|r| format!("  {r}"))
                    .unwrap_or_default();
                eprintln!(
                    "  {:>6.1}s  {:<28} {} {}{reason}",
                    self.started.elapsed().as_secs_f64(),
                    event.status,
                    event.logical_id,
                    event.resource_type
                );
                if event.status.ends_with("_FAILED") {
                    self.failures.push(event);
                }
            }
            let state = self.cfn.describe(self.stack).await?;
            match state {
                Some(state) if state.in_progress() => {}
                settled => return Ok(settled),
            }
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {
                    return Err(interrupted(format!(
                        "stopped watching {stack}; CloudFormation carries on. Follow it with `{resume}`",
                        stack = self.stack
                    )));
                }
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Resources that failed, with CloudFormation's reasons, in the order they failed.
    pub fn failures(&self) -> &[Event] {
        &self.failures
    }
}
