//! The event enrichment of the ticket stack: EventBridge Pipes reads the table's stream
//! (new and old images), keeps ticket items only, and hands this function batches of
//! records; it returns one ticket event per record, in order, which the pipe puts on the
//! stack's event bus (`detail-type` and `time` read from each event).
//!
//! A pipe's own input transformation cannot do this: it only fills a template with values
//! of the record, still in DynamoDB's typed JSON (`{"N": "3"}`), so it cannot tell an
//! assignment from a status change, list the fields that changed, or shape the ticket as
//! the API does. Here, the stored shape is read with the function's own types
//! (`tickets-domain`), so the events carry exactly the API's ticket.

pub mod record;

use record::{RecordError, StreamRecord};
use tickets_domain::event::{Skip, TicketEvent};

/// What came of one batch.
#[derive(Debug, Default)]
pub struct Enriched {
    /// The events, in the order of their records.
    pub events: Vec<TicketEvent>,
    /// Records that are no event: the mark a delete writes just before itself (the pipe's
    /// filter drops them already; kept here should a record get past it).
    pub skipped: usize,
}

/// The events of `records`, in their order; fails on the first record that is not a
/// ticket write, so that the pipe retries the batch, halves it, and sends the record that
/// keeps failing to the dead-letter queue rather than dropping it.
pub fn enrich(records: Vec<StreamRecord>) -> Result<Enriched, RecordError> {
    let mut enriched = Enriched::default();
    for record in records {
        let (id, at) = (record.event_id.clone(), record.recorded_at());
        match TicketEvent::of(record.write()?, id, at) {
            Ok(event) => enriched.events.push(event),
            Err(Skip::DeleteMarker) => enriched.skipped += 1,
        }
    }
    Ok(enriched)
}
