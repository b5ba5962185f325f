//! The metrics the function publishes, in CloudWatch's embedded metric format (EMF): every
//! request's log line carries them, so publishing costs no API call. Infra builds the
//! alarms and the dashboard from the same declarations.

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "Tickets";

/// Dimension names.
pub mod dimension {
    /// The function's name (`tickets-prod-manage-tickets`): one stack's metrics apart from
    /// another's.
    pub const SERVICE: &str = "Service";
    /// The operation: method and route (`GET /v1/tickets/{id}`).
    pub const ROUTE: &str = "Route";
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    pub const STATUS_CLASS: &str = "StatusClass";
}

/// A unit CloudWatch knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// Milliseconds.
    Milliseconds,
}

impl Unit {
    /// The unit's name in CloudWatch.
    pub const fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One metric, the dimension sets it is published under, and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    /// The metric's name, also the member of the log line holding its value.
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// The dimension sets it is aggregated by.
    pub dimensions: &'static [&'static [&'static str]],
    /// What it counts or measures.
    pub description: &'static str,
}

const BY_ROUTE: &[&[&str]] = &[
    &[dimension::SERVICE, dimension::ROUTE],
    &[
        dimension::SERVICE,
        dimension::ROUTE,
        dimension::STATUS_CLASS,
    ],
    &[dimension::SERVICE],
];
const BY_SERVICE: &[&[&str]] = &[&[dimension::SERVICE]];

/// Requests answered (one per request).
pub const REQUESTS: Metric = Metric {
    name: "Requests",
    unit: Unit::Count,
    dimensions: BY_ROUTE,
    description: "requests answered by the function",
};

/// The function's time to answer.
pub const LATENCY: Metric = Metric {
    name: "Latency",
    unit: Unit::Milliseconds,
    dimensions: BY_ROUTE,
    description: "time the function took to answer",
};

/// Tickets created (a replayed create counts as a replay, not a creation).
pub const TICKETS_CREATED: Metric = Metric {
    name: "TicketsCreated",
    unit: Unit::Count,
    dimensions: BY_SERVICE,
    description: "tickets created",
};

/// Tickets changed by `PUT` or `PATCH`.
pub const TICKETS_UPDATED: Metric = Metric {
    name: "TicketsUpdated",
    unit: Unit::Count,
    dimensions: BY_SERVICE,
    description: "tickets replaced or patched",
};

/// Tickets deleted.
pub const TICKETS_DELETED: Metric = Metric {
    name: "TicketsDeleted",
    unit: Unit::Count,
    dimensions: BY_SERVICE,
    description: "tickets deleted",
};

/// Writes refused because the ticket changed since the client read it (`412`).
pub const CONFLICTS: Metric = Metric {
    name: "Conflicts",
    unit: Unit::Count,
    dimensions: BY_SERVICE,
    description: "writes refused with 412 because If-Match was stale",
};

/// Creates answered from an earlier request with the same `Idempotency-Key`.
pub const IDEMPOTENT_REPLAYS: Metric = Metric {
    name: "IdempotentReplays",
    unit: Unit::Count,
    dimensions: BY_SERVICE,
    description: "creates answered from an earlier request with the same Idempotency-Key",
};

/// Requests refused because fields or parameters were invalid.
pub const VALIDATION_FAILURES: Metric = Metric {
    name: "ValidationFailures",
    unit: Unit::Count,
    dimensions: BY_SERVICE,
    description: "requests refused with 400 for invalid fields or parameters",
};

/// Time spent waiting for DynamoDB within a request, all calls together.
pub const DYNAMODB_LATENCY: Metric = Metric {
    name: "DynamoDbLatency",
    unit: Unit::Milliseconds,
    dimensions: BY_SERVICE,
    description: "time a request spent in DynamoDB calls",
};

/// Every metric, in the order the log line carries them.
pub const METRICS: &[Metric] = &[
    REQUESTS,
    LATENCY,
    TICKETS_CREATED,
    TICKETS_UPDATED,
    TICKETS_DELETED,
    CONFLICTS,
    IDEMPOTENT_REPLAYS,
    VALIDATION_FAILURES,
    DYNAMODB_LATENCY,
];

/// The value of the `Route` dimension for a method and a route path.
pub fn route_value(method: &str, path: &str) -> String {
    format!("{method} {path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_not_dimensions() {
        let mut names: Vec<_> = METRICS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
        for name in names {
            assert!(
                ![
                    dimension::SERVICE,
                    dimension::ROUTE,
                    dimension::STATUS_CLASS
                ]
                .contains(&name)
            );
        }
    }

    #[test]
    fn every_dimension_set_starts_with_the_service() {
        for metric in METRICS {
            for set in metric.dimensions {
                assert_eq!(set.first(), Some(&dimension::SERVICE), "{}", metric.name);
                assert!(set.len() <= 30, "EMF allows 30 dimensions per set");
            }
        }
    }
}
