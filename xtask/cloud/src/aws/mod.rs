//! The control plane, as the commands that deploy and inspect stacks share it: which stack
//! ([`target`], with `xtask_core::stack_name`), the SDK and its errors ([`sdk`]), CloudFormation's calls
//! ([`cloudformation`]), events ([`stack_events`]) and how long to wait for them ([`deadline`]), the diff shown before a change
//! ([`stack_diff`]), the rollout itself ([`rollout`]), the artifact bucket
//! ([`artifact_bucket`]) and a deployed stack's user pool ([`cognito`]).

pub mod api_gateway_account;
pub mod artifact_bucket;
pub mod change_set;
pub mod cloudformation;
pub mod cognito;
pub mod deadline;
pub mod drift;
pub mod generations;
pub mod leftovers;
pub mod rollout;
pub mod sdk;
pub mod stack_diff;
pub mod stack_events;
pub mod table_indexes;

pub mod target;
