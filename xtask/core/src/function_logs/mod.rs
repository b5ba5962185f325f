//! The function's log lines, as a person reads them: shared by `local` (the lines of the
//! running instances) and any command that shows a deployed function's logs.

pub mod format;
pub mod query;
