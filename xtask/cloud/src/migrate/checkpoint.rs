//! Where a migration is: one JSON file per source and target table in `.tickets/migrate/`,
//! beside the stack outputs. For each scan segment it holds the `LastEvaluatedKey` of the
//! last page whose writes all succeeded, that segment's counts and what it found; it is
//! rewritten (to a temporary file, then renamed) after every page. `--resume` continues
//! from it; `--since checkpoint` starts from the last finished run's start.

use super::mapping::{Item, Problem};
use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What happened to the items of a segment (or of a whole run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    /// Items read from the source.
    pub scanned: u64,
    /// Written to the target (new there).
    pub copied: u64,
    /// Rewritten by a catch-up run: changed in the source, untouched in the new API.
    pub updated: u64,
    /// Already in the target with the same content.
    pub already_migrated: u64,
    /// Not changed since `--since` (catch-up runs only).
    pub unchanged: u64,
    /// Would be copied (a dry run).
    pub would_copy: u64,
    /// Copied after `--repair` fixed them (also counted as copied, updated or already).
    pub repaired: u64,
    /// Not copied: they do not fit the new model.
    pub invalid: u64,
    /// In the target with different content, and not overwritten.
    pub conflicts: u64,
}

impl Counts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &Counts) {
        self.scanned += other.scanned;
        self.copied += other.copied;
        self.updated += other.updated;
        self.already_migrated += other.already_migrated;
        self.unchanged += other.unchanged;
        self.would_copy += other.would_copy;
        self.repaired += other.repaired;
        self.invalid += other.invalid;
        self.conflicts += other.conflicts;
    }
}

/// A source item and its problems (invalid, or repaired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemReport {
    /// The source's `id`.
    pub id: String,
    /// What was found.
    pub problems: Vec<Problem>,
}

/// An item the target already holds with other content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The ticket id.
    pub id: String,
    /// Why it was not written.
    pub reason: String,
    /// What to do.
    pub fix: String,
}

/// One value of a DynamoDB key, in DynamoDB's JSON (`{"S": "..."}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyValue {
    /// String.
    S(String),
    /// Number.
    N(String),
}

/// A `LastEvaluatedKey`.
pub type Key = BTreeMap<String, KeyValue>;

/// A key as the checkpoint stores it (only string and number keys exist here).
pub fn key_to_json(key: &Item) -> Result<Key> {
    key.iter()
        .map(|(name, value)| match value {
            AttributeValue::S(s) => Ok((name.clone(), KeyValue::S(s.clone()))),
            AttributeValue::N(n) => Ok((name.clone(), KeyValue::N(n.clone()))),
            _ => bail!("the source's key attribute {name} is neither a string nor a number"),
        })
        .collect()
}

/// A stored key as the SDK wants it.
pub fn key_from_json(key: &Key) -> Item {
    key.iter()
        .map(|(name, value)| {
            let value = match value {
                KeyValue::S(s) => AttributeValue::S(s.clone()),
                KeyValue::N(n) => AttributeValue::N(n.clone()),
            };
            (name.clone(), value)
        })
        .collect()
}

/// Where one segment of the scan is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Segment {
    /// The key to continue after; `None` at the start, or when `done`.
    pub last_key: Option<Key>,
    /// Every page read and written.
    pub done: bool,
    /// What happened so far.
    pub counts: Counts,
    /// Items not copied, with reasons and fixes.
    pub invalid: Vec<ItemReport>,
    /// Items copied after repairs, and which.
    pub repaired: Vec<ItemReport>,
    /// Items found in the target with other content.
    pub conflicts: Vec<Conflict>,
    /// Attributes not copied, by name: how many items had each.
    pub extra_fields: BTreeMap<String, u64>,
}

/// One run, possibly resumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// When it first started (RFC 3339).
    pub started_at: String,
    /// Copy only items changed after this time (a catch-up run).
    pub since: Option<String>,
    /// `skip-invalid`, `repair` or `strict`.
    pub mode: String,
    /// One entry per scan segment.
    pub segments: Vec<Segment>,
    /// When every segment was done.
    pub finished_at: Option<String>,
}

/// The file's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The source table (and where it is).
    pub source: String,
    /// The target table (and where it is).
    pub target: String,
    /// When the last finished run started: changes after it may not have been copied.
    pub last_finished_start: Option<String>,
    /// The current or last run.
    pub run: Option<Run>,
}

/// A checkpoint and its file.
pub struct CheckpointFile {
    /// The file.
    pub path: PathBuf,
    /// What it holds.
    pub data: Checkpoint,
}

impl CheckpointFile {
    /// The file for this pair of tables in `dir`.
    pub fn path_in(dir: &Path, source_table: &str, target_table: &str) -> PathBuf {
        let clean = |name: &str| -> String {
            name.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        dir.join(format!(
            "{}-to-{}.json",
            clean(source_table),
            clean(target_table)
        ))
    }

    /// Reads the file, or starts an empty checkpoint when there is none.
    pub fn open(path: PathBuf, source: &str, target: &str) -> Result<Self> {
        let data = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let data: Checkpoint = serde_json::from_str(&text).with_context(|| {
                    format!(
                        "reading the checkpoint {}; delete it to start over",
                        path.display()
                    )
                })?;
                if data.source != source || data.target != target {
                    bail!(
                        "the checkpoint {} is for {} → {}, not {source} → {target}; move it away to start over",
                        path.display(),
                        data.source,
                        data.target
                    );
                }
                data
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Checkpoint {
                source: source.to_owned(),
                target: target.to_owned(),
                last_finished_start: None,
                run: None,
            },
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        };
        Ok(CheckpointFile { path, data })
    }

    /// Writes the file atomically (a temporary file renamed over it).
    pub fn save(&self) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let temporary = self.path.with_extension("json.tmp");
        std::fs::write(&temporary, serde_json::to_string_pretty(&self.data)? + "\n")
            .with_context(|| format!("writing {}", temporary.display()))?;
        std::fs::rename(&temporary, &self.path)
            .with_context(|| format!("writing {}", self.path.display()))
    }

    /// Records where segment `index` is and saves.
    pub fn record(&mut self, index: usize, segment: &Segment) -> Result<()> {
        if let Some(run) = &mut self.data.run {
            run.segments[index] = segment.clone();
        }
        self.save()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_survive_the_file() {
        let key = Item::from([
            ("id".to_owned(), AttributeValue::S("abc".into())),
            ("n".to_owned(), AttributeValue::N("42".into())),
        ]);
        let json = serde_json::to_string(&key_to_json(&key).unwrap()).unwrap();
        assert_eq!(json, r#"{"id":{"S":"abc"},"n":{"N":"42"}}"#);
        let back: Key = serde_json::from_str(&json).unwrap();
        assert_eq!(key_from_json(&back), key);
    }

    #[test]
    fn saves_and_reopens_and_refuses_another_pair() {
        let dir = std::env::temp_dir().join(format!("migrate-cp-{}", uuid::Uuid::new_v4()));
        let path = CheckpointFile::path_in(&dir, "dyn-tickets", "t/1");
        assert!(path.ends_with("dyn-tickets-to-t_1.json"));
        let mut file = CheckpointFile::open(path.clone(), "a", "b").unwrap();
        file.data.last_finished_start = Some("2026-01-01T00:00:00Z".into());
        file.save().unwrap();
        let again = CheckpointFile::open(path.clone(), "a", "b").unwrap();
        assert_eq!(again.data, file.data);
        assert!(CheckpointFile::open(path, "a", "c").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
