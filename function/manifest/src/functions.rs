//! Every Lambda function of the stack: what cargo builds, what the artifact is called and
//! which template parameter names its zip. The build packs each into
//! `<target>/lambda/<name>/bootstrap.zip`, deploy uploads each, and the template takes one
//! key parameter per function.

/// One function: its cargo package and binary, and its name in the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// Its name inside a stack (`<stack>-<name>`), the folder of its artifact and the
    /// prefix of its key in the artifact bucket.
    pub name: &'static str,
    /// The cargo package.
    pub package: &'static str,
    /// The cargo binary, packed as `bootstrap` in the zip. The API's is `bootstrap`
    /// itself; the others have their own names, because binaries of one name in several
    /// packages collide in cargo's output directory (`cargo build --workspace` warns).
    pub binary: &'static str,
    /// The template parameter holding the key of its zip in the artifact bucket.
    pub artifact_parameter: &'static str,
}

/// The ticket API (`manage-tickets`).
pub const TICKETS_API: Function = Function {
    name: "manage-tickets",
    package: "manage-tickets",
    binary: "bootstrap",
    // The first function's parameter kept its original name, so that stacks deployed
    // before there were several functions promote and update as they did.
    artifact_parameter: "ArtifactKey",
};

/// The event enrichment: DynamoDB stream records in, ticket events out (no table access).
pub const TICKET_EVENTS: Function = Function {
    name: "ticket-events",
    package: "tickets-events",
    binary: "tickets-events",
    artifact_parameter: "EventsArtifactKey",
};

/// Every function, in build order.
pub const FUNCTIONS: &[Function] = &[TICKETS_API, TICKET_EVENTS];

/// The function called `name`.
pub fn by_name(name: &str) -> Option<Function> {
    FUNCTIONS.iter().copied().find(|f| f.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_binaries_and_parameters_are_unique() {
        for pick in [
            |f: &Function| f.name,
            |f: &Function| f.package,
            |f: &Function| f.binary,
            |f: &Function| f.artifact_parameter,
        ] {
            let mut values: Vec<_> = FUNCTIONS.iter().map(pick).collect();
            values.sort_unstable();
            values.dedup();
            assert_eq!(values.len(), FUNCTIONS.len());
        }
        assert_eq!(by_name("ticket-events"), Some(TICKET_EVENTS));
    }
}
