//! The names of a ticket's fields, the same in the API and in the table.

use tickets_manifest::table::attr;

/// `id`
pub const ID: &str = "id";
/// `title`
pub const TITLE: &str = "title";
/// `description`
pub const DESCRIPTION: &str = "description";
/// `priority`
pub const PRIORITY: &str = "priority";
/// `status`: also the by-status index's partition key, so the manifest names it.
pub const STATUS: &str = attr::STATUS;
/// `assignee`
pub const ASSIGNEE: &str = "assignee";
/// `createdAt`
pub const CREATED_AT: &str = "createdAt";
/// `updatedAt`
pub const UPDATED_AT: &str = "updatedAt";
/// `createdBy`
pub const CREATED_BY: &str = "createdBy";
/// `updatedBy`
pub const UPDATED_BY: &str = "updatedBy";
/// `version`: the condition of every write, so the manifest names it.
pub const VERSION: &str = attr::VERSION;

/// Fields a client may write.
pub const WRITABLE: &[&str] = &[TITLE, DESCRIPTION, PRIORITY, STATUS, ASSIGNEE];

/// Fields only the server writes.
pub const SERVER: &[&str] = &[ID, CREATED_AT, UPDATED_AT, CREATED_BY, UPDATED_BY, VERSION];
