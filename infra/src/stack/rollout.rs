//! Gradual rollout: a version published per code or configuration change, the alias `live`
//! that API Gateway invokes (as a role allowed to invoke nothing else), and (for gradual
//! deployments) CodeDeploy shifting the alias from one version to the next, rolled back by
//! the monitoring's alarms.

use super::api::Backend;
use super::monitoring::alarm_arn;
use crate::cfn::cloudwatch::Alarm;
use crate::cfn::codedeploy::{
    AlarmConfiguration, AlarmName, Application, AutoRollbackConfiguration, ComputePlatform,
    DeploymentGroup, DeploymentOption, DeploymentStyle, DeploymentType, RollbackEvent,
};
use crate::cfn::iam::{InlinePolicy, PolicyDocument, Role, RoleAttribute, Statement};
use crate::cfn::lambda::{Alias, Function, FunctionAttribute, Version, VersionAttribute};
use crate::cfn::{
    CodeDeployLambdaAliasUpdate, ParamRef, Parameter, Ref, Resource, ResourceType, Template,
    UpdatePolicy,
};
use crate::environment::{Deployment, Environment};

/// The alias API Gateway invokes.
pub const ALIAS_NAME: &str = "live";
/// Logical id of the function's version.
pub const VERSION: &str = "FunctionVersion";
/// Logical id of the alias.
pub const ALIAS: &str = "FunctionAliasLive";
/// Logical id of the CodeDeploy application.
pub const APPLICATION: &str = "DeploymentApplication";
/// Logical id of the deployment group.
pub const DEPLOYMENT_GROUP: &str = "DeploymentGroup";
/// Logical id of CodeDeploy's role.
pub const DEPLOYMENT_ROLE: &str = "DeploymentRole";
/// Logical id of the role API Gateway invokes the function (or its alias) as.
pub const INVOKE_ROLE: &str = "ApiInvokeRole";

/// What the outputs need from the rollout.
pub struct Rollout {
    /// The alias, when the environment has one.
    pub alias: Option<Ref<Alias>>,
    /// The CodeDeploy application and deployment group, for gradual deployments.
    pub codedeploy: Option<(Ref<Application>, Ref<DeploymentGroup>)>,
}

/// What API Gateway invokes, the alias's ARN (or the function's without an alias), and the
/// role it invokes it as: allowed `lambda:InvokeFunction` on that ARN only.
///
/// A role rather than a `AWS::Lambda::Permission` on the alias: moto's CloudFormation, which
/// the deploy tests use, skips aliases, so it cannot create a permission naming one (the
/// stack fails); a role's policy only names the ARN. The scope is the same: invocations
/// through the alias, nothing else of the function.
///
/// The ARN is written as the function's and the alias name rather than the alias's `Ref`,
/// so the API (declared before the alias, which waits for the alarms watching the API)
/// does not depend on it.
pub fn backend(
    template: &mut Template,
    environment: &Environment,
    function: &Ref<Function>,
) -> Backend {
    let arn = function.get_att(FunctionAttribute::Arn);
    let target = if environment.rollout.alias {
        crate::sub!(arn, ":", ALIAS_NAME)
    } else {
        arn
    };
    let role = template.add(Resource::new(
        INVOKE_ROLE,
        Role {
            role_name: None,
            description: Some(format!(
                "API Gateway invokes the function as this role ({}).",
                environment.name
            )),
            assume_role_policy_document: PolicyDocument::new([Statement::service_may_assume_role(
                "apigateway.amazonaws.com",
            )]),
            policies: vec![InlinePolicy {
                policy_name: "invoke".to_owned(),
                policy_document: PolicyDocument::new([Statement::allow(
                    "InvokeThisOnly",
                    ["lambda:InvokeFunction"],
                    [target.clone()],
                )]),
            }],
        },
    ));
    Backend {
        target,
        role: role.get_att(RoleAttribute::Arn),
    }
}

/// The parameters of a gradual deployment, which a deploy tool overrides in an emergency.
pub struct Gradual {
    /// `DeploymentConfig`: the environment's CodeDeploy configuration by default.
    pub config: ParamRef,
    /// `RollbackOnAlarms`: `true` by default; `false` lets CodeDeploy shift while alarms fire.
    pub rollback_on_alarms: ParamRef,
}

/// The parameters of gradual deployments (none otherwise). Their defaults are the
/// environment's settings; `--skip-canary` passes `CodeDeployDefault.LambdaAllAtOnce` and
/// `false`, so that neither the canary nor an alarm already firing holds a hotfix back, and
/// the next deploy that omits them goes back to the defaults.
pub fn gradual(template: &mut Template, environment: &Environment) -> Option<Gradual> {
    let deployment = environment.rollout.deployment;
    if !(environment.rollout.alias && deployment.is_gradual()) {
        return None;
    }
    let config = template.add_parameter(
        crate::stack::parameter::DEPLOYMENT_CONFIG,
        Parameter::string(
            "CodeDeploy configuration shifting traffic to a new version; \
             CodeDeployDefault.LambdaAllAtOnce skips the canary in an emergency.",
        )
        .allowed_values(Deployment::ALL.map(Deployment::config_name))
        .default_value(deployment.config_name()),
    );
    let rollback_on_alarms = template.add_parameter(
        crate::stack::parameter::ROLLBACK_ON_ALARMS,
        Parameter::string(
            "Whether CodeDeploy stops and reverts a shift when a rollback alarm fires; \
             false only for an emergency deploy.",
        )
        .allowed_values(["true", "false"])
        .default_value("true"),
    );
    Some(Gradual {
        config,
        rollback_on_alarms,
    })
}

/// Declares the version, the alias and CodeDeploy (for `gradual` deployments).
pub fn rollout(
    template: &mut Template,
    function: &Ref<Function>,
    artifact_key: &ParamRef,
    gradual: Option<&Gradual>,
    rollback_alarms: &[Ref<Alarm>],
    alias: bool,
) -> Rollout {
    if !alias {
        return Rollout {
            alias: None,
            codedeploy: None,
        };
    }
    // The code is content-addressed (its key is its digest) and the fingerprint covers
    // every property of the function: the description, and so the version, changes exactly
    // when one of them does. Versions are kept when replaced, for rollbacks.
    let configuration = template.fingerprint(|entry| entry.type_name() == Function::INFO.type_name);
    let version = template.add(
        Resource::new(
            VERSION,
            Version {
                function_name: function.reference(),
                description: Some(crate::sub!(
                    "Code ",
                    artifact_key,
                    ", configuration ",
                    configuration
                )),
            },
        )
        .retain(),
    );
    let codedeploy =
        gradual.map(|gradual| deployment_group(template, function, gradual, rollback_alarms));
    let mut alias = Resource::new(
        ALIAS,
        Alias {
            function_name: function.reference(),
            function_version: version.get_att(VersionAttribute::Version),
            name: ALIAS_NAME.to_owned(),
            description: Some("What API Gateway invokes.".to_owned()),
        },
    );
    if let Some((application, group)) = &codedeploy {
        alias = alias.update_policy(UpdatePolicy {
            code_deploy_lambda_alias_update: Some(CodeDeployLambdaAliasUpdate {
                application_name: application.reference(),
                deployment_group_name: group.reference(),
            }),
        });
    }
    let alias = template.add(alias);
    Rollout {
        alias: Some(alias),
        codedeploy,
    }
}

/// The CodeDeploy application, its role and the deployment group.
fn deployment_group(
    template: &mut Template,
    function: &Ref<Function>,
    gradual: &Gradual,
    rollback_alarms: &[Ref<Alarm>],
) -> (Ref<Application>, Ref<DeploymentGroup>) {
    let application = template.add(Resource::new(
        APPLICATION,
        Application {
            compute_platform: ComputePlatform::Lambda,
        },
    ));
    let function_arn = function.get_att(FunctionAttribute::Arn);
    // What CodeDeploy does to shift an alias, on this function and these alarms only
    // (instead of the managed AWSCodeDeployRoleForLambda, which allows them on `*`). Alias
    // actions are granted on the function and on the alias, the two ARNs Lambda may
    // authorize them against.
    let permissions = PolicyDocument::new([
        Statement::allow(
            "ShiftTheAlias",
            ["lambda:GetAlias", "lambda:UpdateAlias"],
            [
                function_arn.clone(),
                crate::sub!(function_arn.clone(), ":", ALIAS_NAME),
            ],
        ),
        Statement::allow(
            "ReadProvisionedConcurrency",
            ["lambda:GetProvisionedConcurrencyConfig"],
            [crate::sub!(function_arn, ":", ALIAS_NAME)],
        ),
        Statement::allow(
            "WatchRollbackAlarms",
            ["cloudwatch:DescribeAlarms"],
            rollback_alarms.iter().map(alarm_arn),
        ),
    ]);
    let role = template.add(Resource::new(
        DEPLOYMENT_ROLE,
        Role {
            role_name: None,
            description: Some("Shifts the function's alias to a new version.".to_owned()),
            assume_role_policy_document: PolicyDocument::new([Statement::service_may_assume_role(
                "codedeploy.amazonaws.com",
            )]),
            policies: vec![InlinePolicy {
                policy_name: "shift-alias".to_owned(),
                policy_document: permissions,
            }],
        },
    ));
    let group = template.add(Resource::new(
        DEPLOYMENT_GROUP,
        DeploymentGroup {
            application_name: application.reference(),
            service_role_arn: role.get_att(RoleAttribute::Arn),
            deployment_config_name: (&gradual.config).into(),
            deployment_style: DeploymentStyle {
                deployment_type: DeploymentType::BlueGreen,
                deployment_option: DeploymentOption::WithTrafficControl,
            },
            alarm_configuration: AlarmConfiguration {
                enabled: (&gradual.rollback_on_alarms).into(),
                alarms: rollback_alarms
                    .iter()
                    .map(|alarm| AlarmName {
                        name: alarm.reference(),
                    })
                    .collect(),
            },
            auto_rollback_configuration: AutoRollbackConfiguration {
                enabled: true,
                events: vec![
                    RollbackEvent::DeploymentFailure,
                    RollbackEvent::DeploymentStopOnAlarm,
                ],
            },
        },
    ));
    (application, group)
}
