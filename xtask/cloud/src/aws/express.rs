//! CloudFormation Express mode for personal stacks: a stack operation completes once the
//! resources' configuration is applied, without waiting for each to stabilise (up to four
//! times faster, AWS says). Only for a developer's own stack (an owner) in an environment
//! that takes dev builds; shared, staging and production stacks wait until everything
//! serves, since what follows them (smoke tests, promotion) depends on it. Rollback on
//! failure stays on, as in the standard mode.

use super::build_profile;
use super::target::Context;
use aws_sdk_cloudformation::types::{DeploymentConfig, DeploymentConfigMode};

/// The deployment configuration for `ctx`'s stack: Express for personal dev stacks, the
/// standard mode (nothing sent) otherwise.
pub fn deployment_config(ctx: &Context) -> Option<DeploymentConfig> {
    applies(
        ctx.target.owner.is_some(),
        build_profile::takes_release_only(&ctx.env),
    )
    .then(|| {
        DeploymentConfig::builder()
            .mode(DeploymentConfigMode::Express)
            .disable_rollback(false)
            .build()
    })
}

fn applies(personal: bool, release_only: bool) -> bool {
    personal && !release_only
}

/// The line `deploy` prints when Express mode is on.
pub const NOTICE: &str = "xtask: CloudFormation Express mode (a personal stack): the update completes once the configuration is applied; resources may still be settling for a few seconds";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_personal_stacks_of_environments_taking_dev_builds_go_express() {
        assert!(applies(true, false));
        assert!(!applies(false, false), "a shared stack");
        assert!(
            !applies(true, true),
            "a personal staging or production stack"
        );
    }
}
