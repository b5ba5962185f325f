//! The stack policy: CloudFormation's own guard against updates that replace or delete the
//! resources holding data, whichever tool (or person) updates the stack.

use super::ticket_stack;
use crate::cfn::resource_info;
use crate::environment::Environment;
use serde_json::{Value, json};

/// The stack policy of `environment`'s stack, for environments that protect their data
/// (`data_protection.deletion_protection`, which prod requires): every update is allowed
/// except `Update:Replace` and `Update:Delete` of the resources that hold data (the table,
/// the user pool, the key that encrypts them, the events' archive and dead letters). `None`
/// elsewhere.
///
/// A stack policy outlives the tool: `aws cloudformation deploy`, the console or another
/// pipeline meet the same refusal. Lifting it is deliberate (`set-stack-policy`, see the
/// README's recovery procedures).
pub fn stack_policy(environment: &Environment) -> Option<Value> {
    if !environment.data_protection.deletion_protection {
        return None;
    }
    let template = ticket_stack(environment);
    let protected: Vec<String> = template
        .resources()
        .filter(|(_, entry)| resource_info(entry.type_name()).is_some_and(|i| i.stateful))
        .map(|(id, _)| format!("LogicalResourceId/{id}"))
        .collect();
    Some(json!({
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "Update:*",
                "Resource": "*"
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["Update:Replace", "Update:Delete"],
                "Resource": protected
            }
        ]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn environment(name: &str) -> Environment {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        Environment::load(root, name).unwrap()
    }

    #[test]
    fn prod_denies_replacing_or_deleting_what_holds_data() {
        let policy = stack_policy(&environment("prod")).expect("prod has a stack policy");
        let deny = &policy["Statement"][1];
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Action"], json!(["Update:Replace", "Update:Delete"]));
        let resources = deny["Resource"].as_array().unwrap();
        // The event path's dead letters and archive hold data too (stack/events.rs).
        let held = [
            "TicketsTable",
            "UserPool",
            "DataKey",
            "EventsDeadLetterQueue",
            "EventArchive",
        ];
        for id in held {
            assert!(
                resources.contains(&json!(format!("LogicalResourceId/{id}"))),
                "{id} is not protected: {resources:?}"
            );
        }
        assert_eq!(resources.len(), held.len(), "{resources:?}");
        assert_eq!(policy["Statement"][0]["Action"], "Update:*");
    }

    #[test]
    fn environments_that_do_not_protect_data_have_none() {
        assert!(stack_policy(&environment("dev")).is_none());
        assert!(stack_policy(&environment("staging")).is_none());
    }
}
