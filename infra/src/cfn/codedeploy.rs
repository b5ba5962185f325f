//! `AWS::CodeDeploy::Application` and `AWS::CodeDeploy::DeploymentGroup`, for shifting a
//! Lambda alias from one version to the next.

use super::expr::Expr;
use super::resource::{NoAttributes, ResourceInfo, ResourceType};
use serde::Serialize;

/// `AWS::CodeDeploy::Application`; `ApplicationName` is left out (generated, and what `Ref`
/// returns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Application {
    /// What it deploys to.
    pub compute_platform: ComputePlatform,
}

impl ResourceType for Application {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::CodeDeploy::Application",
        stateful: false,
        replaced_by: &["ApplicationName", "ComputePlatform"],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

/// `ComputePlatform`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ComputePlatform {
    /// Lambda aliases.
    Lambda,
}

/// `AWS::CodeDeploy::DeploymentGroup`; `DeploymentGroupName` is left out (generated, and
/// what `Ref` returns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeploymentGroup {
    /// The application.
    pub application_name: Expr,
    /// The role CodeDeploy acts as.
    pub service_role_arn: Expr,
    /// How traffic moves (`CodeDeployDefault.LambdaCanary10Percent5Minutes`).
    pub deployment_config_name: Expr,
    /// Blue/green with traffic control: the only style Lambda deployments have.
    pub deployment_style: DeploymentStyle,
    /// Alarms that stop a deployment.
    pub alarm_configuration: AlarmConfiguration,
    /// When a deployment is rolled back.
    pub auto_rollback_configuration: AutoRollbackConfiguration,
}

impl ResourceType for DeploymentGroup {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::CodeDeploy::DeploymentGroup",
        stateful: false,
        replaced_by: &["ApplicationName", "DeploymentGroupName"],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

/// `DeploymentStyle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeploymentStyle {
    /// `BLUE_GREEN`.
    pub deployment_type: DeploymentType,
    /// `WITH_TRAFFIC_CONTROL`.
    pub deployment_option: DeploymentOption,
}

/// `DeploymentType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentType {
    /// The new version runs next to the old one and takes over its traffic.
    BlueGreen,
}

/// `DeploymentOption`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentOption {
    /// Traffic moves by the deployment configuration.
    WithTrafficControl,
}

/// `AlarmConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmConfiguration {
    /// Whether the alarms are watched (`true`/`false`, or a parameter holding one).
    pub enabled: Expr,
    /// At most 10.
    pub alarms: Vec<AlarmName>,
}

/// A CloudWatch alarm, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmName {
    /// The alarm's name (its `Ref`).
    pub name: Expr,
}

/// `AutoRollbackConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AutoRollbackConfiguration {
    /// Whether deployments roll back by themselves.
    pub enabled: bool,
    /// On what.
    pub events: Vec<RollbackEvent>,
}

/// An event that rolls a deployment back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RollbackEvent {
    /// The deployment failed.
    DeploymentFailure,
    /// A watched alarm went off and stopped it.
    DeploymentStopOnAlarm,
}
