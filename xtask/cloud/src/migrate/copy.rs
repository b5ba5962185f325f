//! The copy: a parallel `Scan` of the source, one task per segment, each page's items mapped
//! and written concurrently (as many in flight as the [`Pacer`] allows), then the segment's
//! checkpoint recorded. A crash loses at most the pages in flight, which a resumed run reads
//! again: their items are then found "already migrated", never copied twice.
//!
//! Every write is a conditional `PutItem` (`BatchWriteItem` cannot carry a condition):
//! - a new ticket only where none exists (`attribute_not_exists(pk)`), asking for the item
//!   that is there when the condition fails (`ReturnValuesOnConditionCheckFailure`), so a
//!   rerun needs one request per item, as the first run did;
//! - in a catch-up run (`--since`), a ticket changed in the source replaces the target's
//!   only while the migration is still its last writer and its version is the one read
//!   (`updatedBy = :actor AND version = :seen`), taking the next version: a ticket written
//!   through the new API is never overwritten.

use super::checkpoint::{
    CheckpointFile, Conflict, Counts, ItemReport, Segment, key_from_json, key_to_json,
};
use super::mapping::{self, Item, Mapped, Rejected};
use super::pacer::{Pacer, is_throttle};
use super::progress::Progress;
use super::tables::Table;
use crate::aws::sdk::explain;
use anyhow::{Context, Result, anyhow};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tickets_domain::Timestamp;
use tickets_domain::field::{UPDATED_BY, VERSION};
use tickets_domain::stored::{StoredTicket, ticket_pk};
use tickets_manifest::table::attr;
use tokio::task::JoinSet;

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
enum Outcome {
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

/// Whether two stored tickets hold the same content (the version aside: a catch-up bumps it).
fn same_content(a: &StoredTicket, b: &StoredTicket) -> bool {
    let mut a = a.clone();
    a.ticket.version = b.ticket.version;
    a == *b
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
            let mut writes = JoinSet::new();
            for item in items {
                let pass = Arc::clone(&self);
                writes.spawn(async move { pass.item(item).await });
            }
            while let Some(done) = writes.join_next().await {
                let (outcome, repairs, extras) = match done.context("a write panicked")? {
                    Ok(done) => done,
                    Err(err) => {
                        writes.abort_all();
                        return Err(err);
                    }
                };
                segment.note(outcome, repairs, extras);
                self.progress.add(1);
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

    async fn item(&self, item: Item) -> Result<(Outcome, Option<ItemReport>, Vec<String>)> {
        let mapped = match mapping::map(&item, &self.actor, self.repair) {
            Ok(mapped) => mapped,
            Err(rejected) => {
                let extras = rejected.extras.clone();
                return Ok((Outcome::Invalid(rejected), None, extras));
            }
        };
        let repairs = (!mapped.repairs.is_empty()).then(|| ItemReport {
            id: mapping::source_id(&item),
            problems: mapped.repairs.clone(),
        });
        let outcome = self.write(&mapped).await?;
        Ok((outcome, repairs, mapped.extras))
    }

    async fn write(&self, mapped: &Mapped) -> Result<Outcome> {
        let ticket = &mapped.stored.ticket;
        if let Some(since) = self.since
            && ticket.updated_at <= since
        {
            return Ok(Outcome::Unchanged);
        }
        if self.writes == Writes::None {
            return Ok(Outcome::WouldCopy);
        }
        let item: Item = serde_dynamo::to_item(&mapped.stored)
            .map_err(|e| anyhow!("ticket {} could not be written as an item: {e}", ticket.id))?;
        // A ticket deleted between the failed condition and our read is written again.
        for _ in 0..3 {
            let existing = match self.put(&item, None).await? {
                Put::Written => return Ok(Outcome::Copied),
                Put::Exists(Some(existing)) => existing,
                Put::Exists(None) => match self.get(&mapped.stored).await? {
                    Some(existing) => existing,
                    None => continue,
                },
            };
            return self.compare(mapped, &item, existing).await;
        }
        Err(anyhow!(
            "ticket {} keeps appearing and disappearing in {}: is something else writing there?",
            ticket.id,
            self.target.place
        ))
    }

    /// The target holds `existing` under this ticket's key.
    async fn compare(&self, mapped: &Mapped, item: &Item, existing: Item) -> Result<Outcome> {
        let id = mapped.stored.ticket.id;
        let existing: StoredTicket = match serde_dynamo::from_item(existing) {
            Ok(stored) => stored,
            Err(err) => {
                return Ok(Outcome::Conflict(Conflict {
                    id: id.to_string(),
                    reason: format!(
                        "the target holds an item with this key that is not a readable ticket ({err})"
                    ),
                    fix: "inspect that item in the target; delete it if it is debris, then rerun"
                        .into(),
                }));
            }
        };
        if same_content(&existing, &mapped.stored) {
            return Ok(Outcome::Already);
        }
        let ticket = &existing.ticket;
        if ticket.updated_by != self.actor {
            return Ok(Outcome::Conflict(Conflict {
                id: id.to_string(),
                reason: format!(
                    "changed through the new API since it was migrated (version {}, by {}); not overwritten",
                    ticket.version, ticket.updated_by
                ),
                fix: "compare it with the source and make any change that still matters through the API"
                    .into(),
            }));
        }
        if self.writes != Writes::CatchUp {
            return Ok(Outcome::Conflict(Conflict {
                id: id.to_string(),
                reason: "the source changed since it was migrated; not overwritten".into(),
                fix: "copy the change with a catch-up run: --since checkpoint (or --since <a time before the change>)"
                    .into(),
            }));
        }
        let mut next = item.clone();
        next.insert(
            VERSION.to_owned(),
            AttributeValue::N((ticket.version + 1).to_string()),
        );
        match self.put(&next, Some(ticket.version)).await? {
            Put::Written => Ok(Outcome::Updated),
            Put::Exists(_) => Ok(Outcome::Conflict(Conflict {
                id: id.to_string(),
                reason: "changed in the target while this run was updating it; not overwritten"
                    .into(),
                fix: "run the catch-up again".into(),
            })),
        }
    }

    /// A conditional `PutItem`: new (`replacing: None`), or replacing the version given while
    /// the migration is its last writer; retried while throttled.
    async fn put(&self, item: &Item, replacing: Option<u64>) -> Result<Put> {
        let mut attempt = 0;
        loop {
            let mut request = self
                .target
                .client
                .put_item()
                .table_name(&self.target.name)
                .set_item(Some(item.clone()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .expression_attribute_names("#pk", attr::PK);
            request = match replacing {
                None => request.condition_expression("attribute_not_exists(#pk)"),
                Some(version) => request
                    .condition_expression("attribute_exists(#pk) AND #by = :actor AND #v = :v")
                    .expression_attribute_names("#by", UPDATED_BY)
                    .expression_attribute_names("#v", VERSION)
                    .expression_attribute_values(":actor", AttributeValue::S(self.actor.clone()))
                    .expression_attribute_values(":v", AttributeValue::N(version.to_string())),
            };
            let permit = self.pacer.acquire().await;
            let result = request.send().await;
            drop(permit);
            match result {
                Ok(_) => {
                    self.pacer.succeeded();
                    return Ok(Put::Written);
                }
                Err(err) => {
                    if let Some(PutItemError::ConditionalCheckFailedException(failed)) =
                        err.as_service_error()
                    {
                        self.pacer.succeeded();
                        return Ok(Put::Exists(failed.item().cloned()));
                    }
                    if is_throttle(err.code()) && attempt < THROTTLED_ATTEMPTS {
                        tokio::time::sleep(self.pacer.throttled(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    let pk = match item.get(attr::PK) {
                        Some(AttributeValue::S(pk)) => pk.clone(),
                        _ => String::new(),
                    };
                    return Err(explain(
                        &format!("writing {pk} to {}", self.target.place),
                        err,
                    ));
                }
            }
        }
    }

    /// The target's item for this ticket (a consistent read), when the failed condition did
    /// not return it.
    async fn get(&self, stored: &StoredTicket) -> Result<Option<Item>> {
        let pk = ticket_pk(&stored.ticket.id);
        let mut attempt = 0;
        loop {
            let result = self
                .target
                .client
                .get_item()
                .table_name(&self.target.name)
                .key(attr::PK, AttributeValue::S(pk.clone()))
                .consistent_read(true)
                .send()
                .await;
            match result {
                Ok(found) => return Ok(found.item),
                Err(err) if is_throttle(err.code()) && attempt < THROTTLED_ATTEMPTS => {
                    tokio::time::sleep(self.pacer.throttled(attempt)).await;
                    attempt += 1;
                }
                Err(err) => {
                    return Err(explain(
                        &format!("reading {pk} from {}", self.target.place),
                        err,
                    ));
                }
            }
        }
    }
}

/// The answer to a conditional write.
enum Put {
    Written,
    /// The condition failed; the item there, when DynamoDB returned it.
    Exists(Option<Item>),
}

/// The counts of all segments.
pub fn total(segments: &[Segment]) -> Counts {
    let mut counts = Counts::default();
    for segment in segments {
        counts.add(&segment.counts);
    }
    counts
}
