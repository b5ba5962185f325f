//! The verification pass, after the copy: both tables are scanned again (in parallel
//! segments) and compared three ways:
//! - tickets per status: the source's items that map (as this run maps them) against the
//!   target's tickets created by the migration;
//! - an order-independent digest of every such ticket's content on each side (the sum of
//!   their SHA-256s), which is equal only if every ticket is, field by field;
//! - a sample (`--sample`, chosen by a salted hash of the id) read back from the target and
//!   compared attribute by attribute with the item the mapping produces, keys included, so
//!   that a difference is shown, not only detected.
//!
//! The version is left out everywhere: a catch-up run raises it.

use super::mapping::{self, Item};
use super::tables::Table;
use crate::aws::sdk::explain;
use anyhow::{Context, Result};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tickets_domain::field::VERSION;
use tickets_domain::stored::StoredTicket;
use tickets_manifest::table::{TICKET_PREFIX, attr};
use tokio::task::JoinSet;

/// A sampled ticket that differs.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// Ticket id.
    pub id: String,
    /// The attributes that differ (`missing` when the target has no such ticket).
    pub fields: Vec<String>,
}

/// What the verification found.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Counts, digest and sample all agree.
    pub verified: bool,
    /// Source items that map to tickets, by status.
    pub source: BTreeMap<String, u64>,
    /// Target tickets created by the migration, by status.
    pub target: BTreeMap<String, u64>,
    /// The content digests are equal.
    pub digest_equal: bool,
    /// Tickets compared field by field.
    pub sampled: usize,
    /// Those that differ.
    pub mismatches: Vec<Mismatch>,
}

/// One side's tally.
#[derive(Default)]
struct Tally {
    by_status: BTreeMap<String, u64>,
    digest: u128,
    /// The lowest salted hashes of ids, and their tickets (source side only).
    sample: BTreeMap<u64, StoredTicket>,
}

impl Tally {
    fn add(&mut self, stored: &StoredTicket) -> Result<()> {
        *self
            .by_status
            .entry(stored.ticket.status.as_str().to_owned())
            .or_default() += 1;
        self.digest = self.digest.wrapping_add(content_digest(stored)?);
        Ok(())
    }

    fn merge(&mut self, other: Tally, keep: usize) {
        for (status, n) in other.by_status {
            *self.by_status.entry(status).or_default() += n;
        }
        self.digest = self.digest.wrapping_add(other.digest);
        self.sample.extend(other.sample);
        while self.sample.len() > keep {
            self.sample.pop_last();
        }
    }
}

/// The first 128 bits of the SHA-256 of a ticket's content, version aside.
fn content_digest(stored: &StoredTicket) -> Result<u128> {
    let mut value = serde_json::to_value(stored)?;
    if let Some(object) = value.as_object_mut() {
        object.remove(VERSION);
    }
    let hash = Sha256::digest(value.to_string().as_bytes());
    Ok(u128::from_be_bytes(
        hash[..16].try_into().expect("16 bytes"),
    ))
}

fn salted(salt: &[u8], id: &str) -> u64 {
    let hash = Sha256::new().chain_update(salt).chain_update(id).finalize();
    u64::from_be_bytes(hash[..8].try_into().expect("8 bytes"))
}

/// Scans `table` in `segments`, folding each item into a tally with `fold`.
async fn scan<F>(table: &Table, segments: usize, keep: usize, fold: F) -> Result<Tally>
where
    F: Fn(&mut Tally, Item) -> Result<()> + Send + Sync + 'static,
{
    let fold = Arc::new(fold);
    let mut tasks = JoinSet::new();
    for segment in 0..segments {
        let (table, fold) = (table.clone(), Arc::clone(&fold));
        tasks.spawn(async move {
            let mut tally = Tally::default();
            let mut start: Option<Item> = None;
            loop {
                let page = table
                    .client
                    .scan()
                    .table_name(&table.name)
                    .segment(segment as i32)
                    .total_segments(segments as i32)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .map_err(|e| explain(&format!("verifying {}", table.place), e))?;
                for item in page.items.unwrap_or_default() {
                    fold(&mut tally, item)?;
                    while tally.sample.len() > keep {
                        tally.sample.pop_last();
                    }
                }
                match page.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => return Ok::<_, anyhow::Error>(tally),
                }
            }
        });
    }
    let mut all = Tally::default();
    while let Some(tally) = tasks.join_next().await {
        all.merge(tally.context("a verification segment panicked")??, keep);
    }
    Ok(all)
}

/// Compares the tables; `repair` and `actor` as the copy had them.
pub async fn verify(
    source: &Table,
    target: &Table,
    actor: &str,
    repair: bool,
    segments: usize,
    sample: usize,
) -> Result<Verification> {
    let salt = uuid::Uuid::new_v4().into_bytes();
    let mapper_actor = actor.to_owned();
    let source_side = scan(source, segments, sample, move |tally, item| {
        if let Ok(mapped) = mapping::map(&item, &mapper_actor, repair) {
            tally.add(&mapped.stored)?;
            let id = mapped.stored.ticket.id.to_string();
            tally.sample.insert(salted(&salt, &id), mapped.stored);
        }
        Ok(())
    });
    let target_actor = actor.to_owned();
    let target_side = scan(target, segments, 0, move |tally, item| {
        let is_ticket = matches!(item.get(attr::PK), Some(AttributeValue::S(pk)) if pk.starts_with(TICKET_PREFIX));
        if !is_ticket {
            return Ok(());
        }
        // A ticket the function could not read counts as nobody's: the digests then differ.
        if let Ok(stored) = serde_dynamo::from_item::<_, StoredTicket>(item)
            && stored.ticket.created_by == target_actor
        {
            tally.add(&stored)?;
        }
        Ok(())
    });
    let (expected, found) = tokio::try_join!(source_side, target_side)?;
    let mismatches = compare_sample(target, expected.sample.into_values().collect()).await?;
    let sampled = sample.min(expected.by_status.values().sum::<u64>() as usize);
    let digest_equal = expected.digest == found.digest;
    Ok(Verification {
        verified: expected.by_status == found.by_status && digest_equal && mismatches.is_empty(),
        source: expected.by_status,
        target: found.by_status,
        digest_equal,
        sampled,
        mismatches,
    })
}

/// Reads each sampled ticket from the target and lists the attributes that differ.
async fn compare_sample(target: &Table, sample: Vec<StoredTicket>) -> Result<Vec<Mismatch>> {
    let mut tasks = JoinSet::new();
    let mut mismatches = Vec::new();
    for chunk in sample.chunks(16) {
        for stored in chunk.iter().cloned() {
            let target = target.clone();
            tasks.spawn(async move {
                let expected: Item = serde_dynamo::to_item(&stored)?;
                let found = target
                    .client
                    .get_item()
                    .table_name(&target.name)
                    .set_key(Some(Item::from([(
                        attr::PK.to_owned(),
                        expected[attr::PK].clone(),
                    )])))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| {
                        explain(
                            &format!("reading a sampled ticket from {}", target.place),
                            e,
                        )
                    })?
                    .item;
                let id = stored.ticket.id.to_string();
                let Some(found) = found else {
                    return Ok::<_, anyhow::Error>(Some(Mismatch {
                        id,
                        fields: vec!["missing".into()],
                    }));
                };
                let names: BTreeSet<&String> = expected.keys().chain(found.keys()).collect();
                let fields: Vec<String> = names
                    .into_iter()
                    .filter(|name| {
                        name.as_str() != VERSION && expected.get(*name) != found.get(*name)
                    })
                    .cloned()
                    .collect();
                Ok((!fields.is_empty()).then_some(Mismatch { id, fields }))
            });
        }
        while let Some(done) = tasks.join_next().await {
            if let Some(mismatch) = done.context("a sample read panicked")?? {
                mismatches.push(mismatch);
            }
        }
    }
    mismatches.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(mismatches)
}
