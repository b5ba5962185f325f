//! A DynamoDB stream record as Pipes (and Lambda) hand it over, and the write it records.

use serde::Deserialize;
use tickets_domain::Timestamp;
use tickets_domain::event::Write;
use tickets_domain::stored::StoredTicket;

/// One stream record.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamRecord {
    /// Unique per record, and the same on every delivery of it.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// `INSERT`, `MODIFY` or `REMOVE`.
    #[serde(rename = "eventName")]
    pub event_name: String,
    /// The change.
    pub dynamodb: Change,
}

/// The record's change.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Change {
    /// When the stream recorded it, seconds since the epoch.
    #[serde(default)]
    pub approximate_creation_date_time: Option<f64>,
    /// The item after the write.
    #[serde(default)]
    pub new_image: Option<serde_dynamo::Item>,
    /// The item before the write.
    #[serde(default)]
    pub old_image: Option<serde_dynamo::Item>,
    /// Its position in its shard.
    #[serde(default)]
    pub sequence_number: Option<String>,
}

/// Why a record is not a ticket write.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// An image is missing or is not a stored ticket.
    #[error("record {event_id}: {problem}")]
    NotATicket {
        /// The record.
        event_id: String,
        /// What is wrong.
        problem: String,
    },
}

impl StreamRecord {
    /// When the stream recorded the write (now, if it does not say).
    pub fn recorded_at(&self) -> Timestamp {
        self.dynamodb
            .approximate_creation_date_time
            .and_then(Timestamp::from_unix_seconds)
            .unwrap_or_else(Timestamp::now)
    }

    /// The write, read from the images its kind needs.
    pub fn write(self) -> Result<Write, RecordError> {
        let event_id = self.event_id;
        let image = |image: Option<serde_dynamo::Item>, which: &str| {
            let item = image.ok_or_else(|| RecordError::NotATicket {
                event_id: event_id.clone(),
                problem: format!(
                    "it has no {which} image: the stream must record new and old images"
                ),
            })?;
            serde_dynamo::from_item::<_, StoredTicket>(item).map_err(|e| RecordError::NotATicket {
                event_id: event_id.clone(),
                problem: format!("its {which} image is not a stored ticket: {e}"),
            })
        };
        let change = self.dynamodb;
        match self.event_name.as_str() {
            "INSERT" => Ok(Write::Inserted(image(change.new_image, "new")?)),
            "MODIFY" => Ok(Write::Modified(
                image(change.old_image, "old")?,
                image(change.new_image, "new")?,
            )),
            "REMOVE" => Ok(Write::Removed(image(change.old_image, "old")?)),
            other => Err(RecordError::NotATicket {
                event_id,
                problem: format!("unknown eventName {other:?}"),
            }),
        }
    }
}
