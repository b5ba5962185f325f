//! Following a stack's events while CloudFormation works, with elapsed times, until it
//! settles; Ctrl-C stops watching, not CloudFormation.
//!
//! As CloudFormation behaves on a stack with years of history: the baseline is the newest
//! page of events only; throttled polls back off and carry on (the operation does not stop
//! because its watcher was throttled); a terminal status counts only once this operation's
//! own first event has appeared (right after an operation starts, `DescribeStacks` may
//! still show the previous one's); and the watch ends at a deadline with the command that
//! picks it up.

use super::cloudformation::{Cfn, Event, StackState};
use super::deadline::Deadline;
use super::sdk::is_throttled;
use anyhow::Result;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use xtask_core::outcome::interrupted;

/// How often to poll while CloudFormation works.
const POLL: Duration = Duration::from_secs(2);
/// The longest pause after throttling.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The stack's own resource type, in its events.
const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// Events of one stack since a starting point.
pub struct StackEvents<'a> {
    cfn: &'a Cfn,
    stack: &'a str,
    seen: HashSet<String>,
    failures: Vec<Event>,
    started: Instant,
    /// This operation's first stack event has been seen (or it was running already).
    begun: bool,
}

impl<'a> StackEvents<'a> {
    /// Starts watching before an operation this run is about to start: events that exist
    /// now are history and are not shown.
    pub async fn start(cfn: &'a Cfn, stack: &'a str) -> Result<StackEvents<'a>> {
        let mut backoff = Backoff::new();
        let seen = loop {
            match cfn.latest_event_ids(stack).await {
                Ok(seen) => break seen,
                Err(err) if is_throttled(&err) => backoff.wait().await,
                Err(err) => return Err(err),
            }
        };
        Ok(StackEvents {
            cfn,
            stack,
            seen,
            failures: Vec::new(),
            started: Instant::now(),
            begun: false,
        })
    }

    /// Starts watching an operation already running (or none): statuses count at once.
    pub async fn follow(cfn: &'a Cfn, stack: &'a str) -> Result<StackEvents<'a>> {
        let mut events = StackEvents::start(cfn, stack).await?;
        events.begun = true;
        Ok(events)
    }

    /// Prints new events until the stack is no longer in progress; returns its state
    /// (`None` once deleted). `resume` tells the user how to pick up after Ctrl-C or the
    /// deadline.
    pub async fn until_settled(&mut self, resume: &str) -> Result<Option<StackState>> {
        let deadline = Deadline::operation()?;
        let mut backoff = Backoff::new();
        let mut last_status = String::from("in progress");
        let stack = self.stack;
        let gave_up = |last_status: &str| {
            anyhow::anyhow!(
                "stack {stack} is still {last_status} after {} ({}); CloudFormation carries on. \
                 Follow it with `{resume}`, or allow longer with {}=2h",
                deadline.limit(),
                deadline.var,
                deadline.var,
            )
        };
        loop {
            // Each call is retried on its own while throttled, so that a poll that got its
            // events is not thrown away for a throttled status read.
            let fresh = loop {
                match self.cfn.new_events(self.stack, &mut self.seen).await {
                    Ok(fresh) => break fresh,
                    Err(err) if is_throttled(&err) && !deadline.passed() => backoff.wait().await,
                    Err(err) if is_throttled(&err) => return Err(gave_up(&last_status)),
                    Err(err) => return Err(err),
                }
            };
            self.show(fresh);
            let state = loop {
                match self.cfn.describe(self.stack).await {
                    Ok(state) => break state,
                    Err(err) if is_throttled(&err) && !deadline.passed() => backoff.wait().await,
                    Err(err) if is_throttled(&err) => return Err(gave_up(&last_status)),
                    Err(err) => return Err(err),
                }
            };
            backoff.reset();
            match state {
                Some(state) if state.in_progress() || !self.begun => last_status = state.status,
                settled => return Ok(settled),
            }
            if deadline.passed() {
                return Err(gave_up(&last_status));
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

    /// Prints new events and notes this operation's start and its failures.
    fn show(&mut self, fresh: Vec<Event>) {
        for event in fresh {
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
            if event.resource_type == STACK_TYPE && event.logical_id == self.stack {
                self.begun = true;
            }
            if event.status.ends_with("_FAILED") {
                self.failures.push(event);
            }
        }
    }

    /// Resources that failed, with CloudFormation's reasons, in the order they failed.
    pub fn failures(&self) -> &[Event] {
        &self.failures
    }
}

/// Growing pauses while AWS throttles.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Backoff {
        Backoff(Duration::ZERO)
    }

    fn reset(&mut self) {
        self.0 = Duration::ZERO;
    }

    async fn wait(&mut self) {
        self.0 = (self.0 * 2).clamp(POLL, MAX_BACKOFF);
        eprintln!(
            "xtask: throttled by CloudFormation (Rate exceeded); polling again in {}s",
            self.0.as_secs()
        );
        tokio::time::sleep(self.0).await;
    }
}
