//! The copy: a parallel `Scan` of the source, one task per segment; each page's items are
//! mapped, the new tickets written in transactions ([`write`], as many in flight as the
//! [`Pacer`] allows), then the segment's checkpoint recorded. A crash loses at most the pages
//! in flight, which a resumed run reads again: their items are then found "already
//! migrated", never copied twice.

mod write;

use super::checkpoint::{
    CheckpointFile, Conflict, Counts, ItemReport, Segment, key_from_json, key_to_json,
};
use super::mapping::{self, Item, Rejected};
use super::pacer::{Pacer, is_throttle};
use super::progress::Progress;
use super::tables::Table;
use crate::aws::sdk::explain;
use anyhow::{Context, Result};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tickets_domain::Timestamp;
use tokio::task::JoinSet;
use write::NewTicket;

/// Attempts at one request while DynamoDB keeps throttling, beyond the SDK's own retries.
const THROTTLED_ATTEMPTS: u32 = 12;

/// What the pass does with the items it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// Maps only: a dry run, or the check before a run without `--skip-invalid`/`--repair`.
    None,
    /// Writes new tickets; never touches existing ones.
    New,
    /// Writes new tickets and replaces those changed in the source since `since`.
    CatchUp,
}

/// One pass over the source.
pub struct Pass {
    /// The original table.
    pub source: Table,
    /// The new table.
    pub target: Table,
    /// `createdBy`/`updatedBy` of migrated tickets.
    pub actor: String,
    /// Whether `--repair` applies.
    pub repair: bool,
    /// What is written.
    pub writes: Writes,
    /// Only items whose `updatedAt` is after this (a catch-up run).
    pub since: Option<Timestamp>,
    /// Items per `Scan` page.
    pub page_size: i32,
    /// Writes in flight.
    pub pacer: Pacer,
    /// The bar on stderr.
    pub progress: Progress,
    /// Where the segments are recorded (none for passes that do not write).
    pub checkpoint: Option<Mutex<CheckpointFile>>,
}

/// What became of one item.
pub(super) enum Outcome {
    Copied,
    Updated,
    Already,
    Unchanged,
    WouldCopy,
    Invalid(Rejected),
    Conflict(Conflict),
}

impl Segment {
    fn note(&mut self, outcome: Outcome, repairs: Option<ItemReport>, extras: Vec<String>) {
        let counts = &mut self.counts;
        counts.scanned += 1;
        for name in extras {
            *self.extra_fields.entry(name).or_default() += 1;
        }
        let written = match outcome {
            Outcome::Copied => {
                counts.copied += 1;
                true
            }
            Outcome::Updated => {
                counts.updated += 1;
                true
            }
            Outcome::Already => {
                counts.already_migrated += 1;
                true
            }
            Outcome::WouldCopy => {
                counts.would_copy += 1;
                true
            }
            Outcome::Unchanged => {
                counts.unchanged += 1;
                false
            }
            Outcome::Invalid(rejected) => {
                counts.invalid += 1;
                self.invalid.push(ItemReport {
                    id: rejected.id,
                    problems: rejected.problems,
                });
                false
            }
            Outcome::Conflict(conflict) => {
                counts.conflicts += 1;
                self.conflicts.push(conflict);
                false
            }
        };
        if written && let Some(report) = repairs {
            counts.repaired += 1;
            self.repaired.push(report);
        }
    }
}

/// A source item, mapped: settled already, or a new ticket to write.
enum Prepared {
    Done(Outcome, Option<ItemReport>, Vec<String>),
    New(Box<NewTicket>),
}

impl Pass {
    /// Runs every segment that is not done, from where `segments` says, until all are done
    /// or one fails; returns the segments as they ended.
    pub async fn run(self: &Arc<Self>, segments: Vec<Segment>) -> Result<Vec<Segment>> {
        let total = segments.len();
        let mut tasks = JoinSet::new();
        let mut ended: Vec<Option<Segment>> = vec![None; total];
        for (index, segment) in segments.into_iter().enumerate() {
            if segment.done {
                ended[index] = Some(segment);
                continue;
            }
            let pass = Arc::clone(self);
            tasks.spawn(async move {
                let segment = pass.segment(index, total, segment).await;
                (index, segment)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (index, segment) = joined.context("a scan segment panicked")?;
            match segment {
                Ok(segment) => ended[index] = Some(segment),
                Err(err) => {
                    tasks.abort_all();
                    return Err(err);
                }
            }
        }
        Ok(ended.into_iter().map(Option::unwrap_or_default).collect())
    }

    async fn segment(
        self: Arc<Self>,
        index: usize,
        total: usize,
        mut segment: Segment,
    ) -> Result<Segment> {
        loop {
            let start = segment.last_key.as_ref().map(key_from_json);
            let (items, last_key) = self.scan(index, total, start).await?;
            let mut new = Vec::new();
            for item in items {
                match self.prepare(&item) {
                    Prepared::Done(outcome, repairs, extras) => {
                        segment.note(outcome, repairs, extras);
                        self.progress.add(1);
                    }
                    Prepared::New(ticket) => new.push(*ticket),
                }
            }
            let mut writes = JoinSet::new();
            for transaction in write::transactions(new) {
                let pass = Arc::clone(&self);
                writes.spawn(async move { pass.write_new(transaction).await });
            }
            while let Some(done) = writes.join_next().await {
                let written = match done.context("a write panicked")? {
                    Ok(written) => written,
                    Err(err) => {
                        writes.abort_all();
                        return Err(err);
                    }
                };
                for (outcome, repairs, extras) in written {
                    segment.note(outcome, repairs, extras);
                    self.progress.add(1);
                }
            }
            segment.last_key = last_key.as_ref().map(key_to_json).transpose()?;
            segment.done = segment.last_key.is_none();
            if let Some(checkpoint) = &self.checkpoint {
                checkpoint
                    .lock()
                    .expect("checkpoint")
                    .record(index, &segment)?;
            }
            if segment.done {
                return Ok(segment);
            }
        }
    }

    /// Maps one source item: what became of it, or the new ticket to write.
    fn prepare(&self, item: &Item) -> Prepared {
        let mapped = match mapping::map(item, &self.actor, self.repair) {
            Ok(mapped) => mapped,
            Err(rejected) => {
                let extras = rejected.extras.clone();
                return Prepared::Done(Outcome::Invalid(rejected), None, extras);
            }
        };
        let repairs = (!mapped.repairs.is_empty()).then(|| ItemReport {
            id: mapping::source_id(item),
            problems: mapped.repairs.clone(),
        });
        let unchanged = self
            .since
            .is_some_and(|since| mapped.stored.ticket.updated_at <= since);
        if unchanged || self.writes == Writes::None {
            let outcome = if unchanged {
                Outcome::Unchanged
            } else {
                Outcome::WouldCopy
            };
            return Prepared::Done(outcome, repairs, mapped.extras);
        }
        match serde_dynamo::to_item(&mapped.stored) {
            Ok(stored) => Prepared::New(Box::new(NewTicket {
                item: stored,
                mapped,
                repairs,
            })),
            // A StoredTicket always becomes an item; should it not, the item is reported.
            Err(err) => Prepared::Done(
                Outcome::Conflict(Conflict {
                    id: mapped.stored.ticket.id.to_string(),
                    reason: format!("could not be written as a DynamoDB item ({err})"),
                    fix: "report this as a bug of cargo xtask migrate".into(),
                }),
                repairs,
                mapped.extras,
            ),
        }
    }

    /// One page of one segment, retried while throttled.
    async fn scan(
        &self,
        segment: usize,
        total: usize,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>)> {
        let mut attempt = 0;
        loop {
            let result = self
                .source
                .client
                .scan()
                .table_name(&self.source.name)
                .segment(segment as i32)
                .total_segments(total as i32)
                .limit(self.page_size)
                .set_exclusive_start_key(start.clone())
                .send()
                .await;
            match result {
                Ok(page) => {
                    let last = page.last_evaluated_key().cloned().filter(|k| !k.is_empty());
                    return Ok((page.items.unwrap_or_default(), last));
                }
                Err(err) if is_throttle(err.code()) && attempt < THROTTLED_ATTEMPTS => {
                    tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
                    attempt += 1;
                }
                Err(err) => {
                    return Err(explain(
                        &format!("scanning segment {segment} of {}", self.source.place),
                        err,
                    ));
                }
            }
        }
    }
}

/// The counts of all segments.
pub fn total(segments: &[Segment]) -> Counts {
    let mut counts = Counts::default();
    for segment in segments {
        counts.add(&segment.counts);
    }
    counts
}
