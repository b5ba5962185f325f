//! The JSON log lines, shared with the stack's other functions (`tickets-telemetry`).

pub use tickets_telemetry::{EMF_MEMBER, JsonLines};
