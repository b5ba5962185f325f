//! The control plane, as the commands that deploy and inspect stacks share it: which stack
//! ([`target`], with `xtask_core::stack_name`), the SDK and its errors ([`sdk`]),
//! CloudFormation's calls ([`cloudformation`], [`change_set`], [`template_source`], in
//! [`express`] mode for personal stacks), events ([`stack_events`]) and
//! how long to wait for them ([`deadline`]), the diff shown before a change ([`stack_diff`]),
//! the rollout itself ([`rollout`]) with what it checks first ([`preflight`], [`leftovers`],
//! which `import` adopts ([`adoption`]), [`drift`], [`table_indexes`], [`lambda_account`]),
//! asks ([`confirmation`]) and reports ([`failures`]), what rolls it back ([`rollback`]) and its traffic
//! shift ([`traffic`]); the artifact bucket ([`artifact_bucket`]), the build profile its
//! artifacts record ([`build_profile`]) and the upload ([`upload`]); code swapped in without
//! CloudFormation ([`hot_swap`]); renamed tables ([`generations`]); and a deployed stack's
//! user pool ([`cognito`]).

pub mod adoption;
pub mod api_gateway_account;
pub mod artifact_bucket;
pub mod build_profile;
pub mod change_set;
pub mod cloudformation;
pub mod cognito;
pub mod confirmation;
pub mod deadline;
pub mod drift;
pub mod express;
pub mod failures;
pub mod generations;
pub mod hot_swap;
pub mod lambda_account;
pub mod leftovers;
pub mod preflight;
pub mod rollback;
pub mod rollout;
pub mod sdk;
pub mod stack_diff;
pub mod stack_events;
pub mod table_indexes;
pub mod target;
pub mod template_source;
pub mod traffic;
pub mod upload;
