//! The DynamoDB operations the function calls, and the IAM actions each one needs.
//!
//! The function's store only calls operations listed here (a test records what it really
//! sends), and the infrastructure grants exactly these IAM actions on exactly these targets.

/// What an operation touches, which decides the ARN its permission is granted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Items of the table itself (`arn:...:table/<name>`).
    Table,
    /// The table's indexes (`arn:...:table/<name>/index/<index>`).
    Indexes,
}

/// One DynamoDB API operation the function calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// The API operation's name, as the SDK reports it (`GetItem`).
    pub api_name: &'static str,
    /// IAM actions the call needs. `TransactWriteItems` has no IAM action of its own:
    /// it is authorised per item by the actions of the writes inside it.
    pub iam_actions: &'static [&'static str],
    /// What the call reads or writes.
    pub target: Target,
}

/// Every operation the function calls.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        api_name: "GetItem",
        iam_actions: &["dynamodb:GetItem"],
        target: Target::Table,
    },
    Operation {
        api_name: "PutItem",
        iam_actions: &["dynamodb:PutItem"],
        target: Target::Table,
    },
    Operation {
        api_name: "UpdateItem",
        iam_actions: &["dynamodb:UpdateItem"],
        target: Target::Table,
    },
    Operation {
        api_name: "DeleteItem",
        iam_actions: &["dynamodb:DeleteItem"],
        target: Target::Table,
    },
    // Creating a ticket with an idempotency key puts the ticket and the key's record together.
    Operation {
        api_name: "TransactWriteItems",
        iam_actions: &["dynamodb:PutItem"],
        target: Target::Table,
    },
    // Listing reads an index, never the table (no Scan).
    Operation {
        api_name: "Query",
        iam_actions: &["dynamodb:Query"],
        target: Target::Indexes,
    },
];

/// The IAM actions needed on `target`, sorted and without repeats.
pub fn iam_actions(target: Target) -> Vec<&'static str> {
    let mut actions: Vec<_> = OPERATIONS
        .iter()
        .filter(|op| op.target == target)
        .flat_map(|op| op.iam_actions.iter().copied())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// The operations' API names, sorted.
pub fn api_names() -> Vec<&'static str> {
    let mut names: Vec<_> = OPERATIONS.iter().map(|op| op.api_name).collect();
    names.sort_unstable();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_index_permissions_are_disjoint_and_minimal() {
        assert_eq!(
            iam_actions(Target::Table),
            vec![
                "dynamodb:DeleteItem",
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem"
            ]
        );
        assert_eq!(iam_actions(Target::Indexes), vec!["dynamodb:Query"]);
    }

    #[test]
    fn never_scans() {
        assert!(!api_names().contains(&"Scan"));
    }
}
