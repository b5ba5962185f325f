//! The control plane, as the commands that deploy and inspect stacks share it: which stack
//! ([`target`], with `xtask_core::stack_name`), the SDK and its errors ([`sdk`]), CloudFormation's calls
//! ([`cloudformation`]) and events ([`stack_events`]), the diff shown before a change
//! ([`stack_diff`]), the rollout itself ([`rollout`]), what rolls it back ([`rollback`]) and
//! its traffic shift ([`traffic`]), Lambda's concurrency limits ([`lambda_account`]), the
//! artifact bucket ([`artifact_bucket`]) and the build profile its artifacts record
//! ([`build_profile`]), code swapped in without CloudFormation ([`hot_swap`]), and a deployed
//! stack's user pool ([`cognito`]).

pub mod api_gateway_account;
pub mod artifact_bucket;
pub mod build_profile;
pub mod cloudformation;
pub mod cognito;
pub mod hot_swap;
pub mod lambda_account;
pub mod rollback;
pub mod rollout;
pub mod sdk;
pub mod stack_diff;
pub mod stack_events;
pub mod traffic;
pub mod upload;

pub mod target;
