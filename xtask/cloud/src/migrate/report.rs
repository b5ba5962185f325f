//! What a migration run says: one JSON document (`--json` on stdout, and always in
//! `.tickets/migrate/` beside the checkpoint) and its reading for a person.

use super::checkpoint::{Conflict, Counts, ItemReport, Segment};
use super::verify::Verification;
use serde::Serialize;
use std::collections::BTreeMap;
use xtask_core::figures::thousands;

/// Items listed on the terminal before "and N more"; the file has them all.
const SHOWN: usize = 60;

/// The report of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `verified`, `not_verified`, `refused` (malformed items, nothing written), `dry_run`,
    /// or `copied` (`--no-verify`).
    pub outcome: &'static str,
    /// The original table.
    pub source: String,
    /// The new table.
    pub target: String,
    /// `strict`, `skip-invalid` or `repair`.
    pub mode: &'static str,
    /// Nothing was written.
    pub dry_run: bool,
    /// Continued from a checkpoint.
    pub resumed: bool,
    /// Only items changed after this time were copied (a catch-up run).
    pub since: Option<String>,
    /// `createdBy`/`updatedBy` of migrated tickets.
    pub actor: String,
    /// Items per outcome, over the whole run (resumed parts included).
    pub counts: Counts,
    /// Seconds this process spent copying (or checking).
    pub seconds: f64,
    /// Items this process handled per second while copying.
    pub items_per_second: f64,
    /// Requests DynamoDB throttled beyond the SDK's retries.
    pub throttled: u64,
    /// The fewest writes the pacer allowed in flight (`--concurrency` unless throttled).
    pub lowest_concurrency: u64,
    /// Items not copied, each with its problems and fixes.
    pub invalid: Vec<ItemReport>,
    /// Items copied after `--repair`, and what was repaired.
    pub repaired: Vec<ItemReport>,
    /// Tickets the target holds with other content, not overwritten.
    pub conflicts: Vec<Conflict>,
    /// Attributes of the source that the new model has no place for: how many items had each.
    pub extra_fields: BTreeMap<String, u64>,
    /// The checkpoint file.
    pub checkpoint: Option<String>,
    /// The verification pass.
    pub verification: Option<Verification>,
}

impl Report {
    /// Gathers what the segments found.
    pub fn collect(&mut self, segments: &[Segment]) {
        for segment in segments {
            self.counts.add(&segment.counts);
            self.invalid.extend(segment.invalid.iter().cloned());
            self.repaired.extend(segment.repaired.iter().cloned());
            self.conflicts.extend(segment.conflicts.iter().cloned());
            for (name, n) in &segment.extra_fields {
                *self.extra_fields.entry(name.clone()).or_default() += n;
            }
        }
        self.invalid.sort_by(|a, b| a.id.cmp(&b.id));
        self.repaired.sort_by(|a, b| a.id.cmp(&b.id));
        self.conflicts.sort_by(|a, b| a.id.cmp(&b.id));
    }

    /// The report as a person reads it.
    pub fn text(&self, file: Option<&str>) -> String {
        let c = &self.counts;
        let mut out = format!("migrate {} → {}\n", self.source, self.target);
        let line = |out: &mut String, label: &str, n: u64, note: &str| {
            out.push_str(&format!("  {label:<18}{:>10}{note}\n", thousands(n)));
        };
        line(
            &mut out,
            "scanned",
            c.scanned,
            &format!(
                "   ({:.1} s here, {} items/s)",
                self.seconds,
                thousands(self.items_per_second as u64)
            ),
        );
        if self.dry_run {
            line(
                &mut out,
                "would be copied",
                c.would_copy,
                "   (dry run: nothing written)",
            );
        } else {
            line(&mut out, "copied", c.copied, "");
            if self.since.is_some() {
                line(&mut out, "updated", c.updated, "   (changed in the source)");
                line(&mut out, "unchanged", c.unchanged, "");
            }
            line(&mut out, "already migrated", c.already_migrated, "");
        }
        if c.repaired > 0 {
            line(&mut out, "repaired", c.repaired, "   (listed below)");
        }
        line(
            &mut out,
            "invalid",
            c.invalid,
            if c.invalid > 0 {
                "   (not copied; listed below)"
            } else {
                ""
            },
        );
        line(
            &mut out,
            "conflicts",
            c.conflicts,
            if c.conflicts > 0 {
                "   (not overwritten; listed below)"
            } else {
                ""
            },
        );
        if self.throttled > 0 {
            line(
                &mut out,
                "throttled",
                self.throttled,
                &format!(
                    "   (requests retried; writes in flight went down to {})",
                    self.lowest_concurrency
                ),
            );
        }
        if !self.extra_fields.is_empty() {
            let extras: Vec<String> = self
                .extra_fields
                .iter()
                .map(|(name, n)| format!("{name} ({n})"))
                .collect();
            out.push_str(&format!(
                "  attributes not copied (the new model has no place for them): {}\n",
                extras.join(", ")
            ));
        }
        let more = |out: &mut String, n: usize| {
            if n > SHOWN {
                out.push_str(&format!(
                    "  … and {} more in {}\n",
                    n - SHOWN,
                    file.unwrap_or("the --json report")
                ));
            }
        };
        if !self.invalid.is_empty() {
            let verb = if self.outcome == "refused" {
                "stopped the run"
            } else {
                "not copied"
            };
            out.push_str(&format!(
                "invalid items ({}, {verb}):\n",
                self.invalid.len()
            ));
            for item in self.invalid.iter().take(SHOWN) {
                for p in &item.problems {
                    let repair = match &p.repair {
                        Some(repair) => format!(" (--repair: {repair})"),
                        None => String::new(),
                    };
                    out.push_str(&format!(
                        "  {}  {} {}: {}{repair}\n",
                        item.id, p.field, p.reason, p.fix
                    ));
                }
            }
            more(&mut out, self.invalid.len());
        }
        if !self.repaired.is_empty() {
            out.push_str(&format!("repaired items ({}):\n", self.repaired.len()));
            for item in self.repaired.iter().take(SHOWN) {
                for p in &item.problems {
                    out.push_str(&format!(
                        "  {}  {} {}: {}\n",
                        item.id,
                        p.field,
                        p.reason,
                        p.repair.as_deref().unwrap_or_default()
                    ));
                }
            }
            more(&mut out, self.repaired.len());
        }
        if !self.conflicts.is_empty() {
            out.push_str(&format!("conflicts ({}):\n", self.conflicts.len()));
            for conflict in self.conflicts.iter().take(SHOWN) {
                out.push_str(&format!(
                    "  {}  {}: {}\n",
                    conflict.id, conflict.reason, conflict.fix
                ));
            }
            more(&mut out, self.conflicts.len());
        }
        if let Some(v) = &self.verification {
            out.push_str(&format!(
                "verification: {}\n",
                if v.verified {
                    "verified"
                } else {
                    "NOT verified"
                }
            ));
            out.push_str(&format!(
                "  {:<14}{:>10}{:>10}\n",
                "status", "source", "target"
            ));
            let statuses: std::collections::BTreeSet<&String> =
                v.source.keys().chain(v.target.keys()).collect();
            for status in statuses {
                let (s, t) = (
                    v.source.get(status).copied().unwrap_or(0),
                    v.target.get(status).copied().unwrap_or(0),
                );
                out.push_str(&format!(
                    "  {status:<14}{:>10}{:>10}{}\n",
                    thousands(s),
                    thousands(t),
                    if s == t { "" } else { "   ≠" }
                ));
            }
            out.push_str(&format!(
                "  content digest of every ticket: {}\n",
                if v.digest_equal { "equal" } else { "DIFFERENT" }
            ));
            out.push_str(&format!(
                "  sample of {} compared field by field: {}\n",
                v.sampled,
                if v.mismatches.is_empty() {
                    "all equal".to_owned()
                } else {
                    format!("{} differ", v.mismatches.len())
                }
            ));
            for m in v.mismatches.iter().take(SHOWN) {
                out.push_str(&format!("    {}  {}\n", m.id, m.fields.join(", ")));
            }
        }
        if let Some(file) = file {
            out.push_str(&format!("report: {file}\n"));
        }
        if let Some(checkpoint) = &self.checkpoint {
            out.push_str(&format!("checkpoint: {checkpoint}\n"));
        }
        out
    }
}
