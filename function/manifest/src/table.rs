//! The DynamoDB table: keys, indexes, TTL, and the attribute names the function writes.
//!
//! One table holds two kinds of item, told apart by their partition key prefix:
//! tickets (`TICKET#<id>`) and idempotency records (`IDEMPOTENCY#<digest>`). Only tickets
//! carry the index keys, so the indexes are sparse and list nothing but tickets.

/// A DynamoDB scalar attribute type usable in a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl AttributeType {
    /// The type's code in DynamoDB's API (`S`, `N`, `B`).
    pub const fn as_str(self) -> &'static str {
        match self {
            AttributeType::S => "S",
            AttributeType::N => "N",
            AttributeType::B => "B",
        }
    }
}

/// A key attribute: its name and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAttribute {
    /// Attribute name.
    pub name: &'static str,
    /// Attribute type.
    pub kind: AttributeType,
}

/// A global secondary index projecting all attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    /// Index name.
    pub name: &'static str,
    /// Partition (hash) key.
    pub partition_key: KeyAttribute,
    /// Sort (range) key.
    pub sort_key: KeyAttribute,
}

/// The table's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSchema {
    /// Partition (hash) key.
    pub partition_key: KeyAttribute,
    /// Global secondary indexes.
    pub indexes: &'static [Index],
    /// Attribute holding an expiry time in epoch seconds, swept by DynamoDB TTL.
    pub ttl_attribute: &'static str,
}

impl TableSchema {
    /// Every attribute that appears in a key of the table or an index, without repeats,
    /// in first-use order (what CloudFormation calls `AttributeDefinitions`).
    pub fn key_attributes(&self) -> Vec<KeyAttribute> {
        let mut all = vec![self.partition_key];
        for index in self.indexes {
            for key in [index.partition_key, index.sort_key] {
                if !all.iter().any(|k| k.name == key.name) {
                    all.push(key);
                }
            }
        }
        all
    }
}

/// Attribute names the function writes.
pub mod attr {
    /// Partition key: `TICKET#<id>` or `IDEMPOTENCY#<digest>`.
    pub const PK: &str = "pk";
    /// Partition key of the all-tickets index; the same constant on every ticket.
    pub const LIST_KEY: &str = "listKey";
    /// Sort key of both indexes: `<createdAt>#<id>`, so newest-first is a descending query.
    pub const CREATED_KEY: &str = "createdKey";
    /// Ticket status; partition key of the by-status index.
    pub const STATUS: &str = "status";
    /// Expiry of an idempotency record, epoch seconds (the TTL attribute).
    pub const EXPIRES_AT: &str = "expiresAt";
    /// Optimistic-concurrency version of a ticket.
    pub const VERSION: &str = "version";
    /// Who is deleting a ticket: written just before the delete, so that the stream's last
    /// image of the ticket names its deleter (the enrichment's actor of `TicketDeleted`).
    /// Any other write removes it.
    pub const DELETED_BY: &str = "deletedBy";
    /// When the ticket was deleted, written with [`DELETED_BY`].
    pub const DELETED_AT: &str = "deletedAt";
}

/// Value of [`attr::LIST_KEY`] on every ticket.
pub const LIST_KEY_VALUE: &str = "TICKET";

/// Prefix of a ticket's partition key.
pub const TICKET_PREFIX: &str = "TICKET#";

/// Prefix of an idempotency record's partition key.
pub const IDEMPOTENCY_PREFIX: &str = "IDEMPOTENCY#";

/// All tickets, newest first.
pub const BY_CREATED: Index = Index {
    name: "byCreated",
    partition_key: KeyAttribute {
        name: attr::LIST_KEY,
        kind: AttributeType::S,
    },
    sort_key: KeyAttribute {
        name: attr::CREATED_KEY,
        kind: AttributeType::S,
    },
};

/// Tickets of one status, newest first.
pub const BY_STATUS: Index = Index {
    name: "byStatus",
    partition_key: KeyAttribute {
        name: attr::STATUS,
        kind: AttributeType::S,
    },
    sort_key: KeyAttribute {
        name: attr::CREATED_KEY,
        kind: AttributeType::S,
    },
};

/// The tickets table.
pub const TICKETS: TableSchema = TableSchema {
    partition_key: KeyAttribute {
        name: attr::PK,
        kind: AttributeType::S,
    },
    indexes: &[BY_CREATED, BY_STATUS],
    ttl_attribute: attr::EXPIRES_AT,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_attributes_are_listed_once_each() {
        let names: Vec<_> = TICKETS.key_attributes().iter().map(|k| k.name).collect();
        assert_eq!(names, vec!["pk", "listKey", "createdKey", "status"]);
    }
}
