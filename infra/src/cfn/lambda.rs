//! `AWS::Lambda::Function`, `Version`, `Alias` and `Permission`.

use super::expr::Expr;
use super::resource::{Attribute, NoAttributes, ResourceInfo, ResourceType};
use serde::Serialize;
use std::collections::BTreeMap;

/// `AWS::Lambda::Function`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    /// Physical name; changing it replaces the function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_name: Option<Expr>,
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Runtime identifier (`provided.al2023`).
    pub runtime: String,
    /// Handler (`bootstrap` for custom runtimes).
    pub handler: String,
    /// Where the deployment package is.
    pub code: Code,
    /// The execution role's ARN.
    pub role: Expr,
    /// Instruction set.
    pub architectures: Vec<Architecture>,
    /// Memory in MB; CPU is allotted in proportion.
    pub memory_size: u32,
    /// Timeout in seconds.
    pub timeout: u32,
    /// Concurrency reserved for (and capping) this function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<u32>,
    /// Environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Log format, levels and group (Lambda's advanced logging controls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logging_config: Option<LoggingConfig>,
    /// X-Ray tracing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_config: Option<TracingConfig>,
}

/// `TracingConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    /// Whether Lambda samples and records requests itself.
    pub mode: TracingMode,
}

/// `TracingConfig.Mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TracingMode {
    /// Lambda samples requests (following an upstream sampling decision when there is one)
    /// and sends segments to X-Ray.
    Active,
    /// Lambda traces only requests an upstream service chose to sample.
    PassThrough,
}

/// `LoggingConfig`: with the JSON format, Lambda drops application lines below
/// `ApplicationLogLevel` (read from each line's `level`) and tells the runtime the level in
/// `AWS_LAMBDA_LOG_LEVEL`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    /// `JSON` or `Text`.
    pub log_format: LogFormat,
    /// The least severe application level kept (JSON format only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_log_level: Option<LogLevel>,
    /// The least severe platform level kept (`START`/`END`/`REPORT` lines are `INFO`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_log_level: Option<LogLevel>,
    /// The log group's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group: Option<Expr>,
}

/// How Lambda writes and reads the function's log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LogFormat {
    /// One JSON object per line.
    #[serde(rename = "JSON")]
    Json,
    /// Plain text.
    Text,
}

/// A level of Lambda's advanced logging controls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    /// Everything.
    Trace,
    /// Details.
    Debug,
    /// The default.
    Info,
    /// Warnings and worse.
    Warn,
    /// Errors and worse.
    Error,
    /// Only what ends the process.
    Fatal,
}

impl ResourceType for Function {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Lambda::Function",
        stateful: false,
        replaced_by: &["FunctionName", "PackageType", "TenancyConfig"],
        not_updatable: &[],
    };
    type Attribute = FunctionAttribute;
}

/// Attributes of a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionAttribute {
    /// The function's ARN.
    Arn,
}

impl Attribute for FunctionAttribute {
    fn name(self) -> &'static str {
        match self {
            FunctionAttribute::Arn => "Arn",
        }
    }
}

/// `Code` from S3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    /// Bucket (same region as the function).
    pub s3_bucket: Expr,
    /// Object key of the zip.
    pub s3_key: Expr,
}

/// Instruction set of a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Architecture {
    /// Intel/AMD 64-bit.
    #[serde(rename = "x86_64")]
    X86_64,
    /// Graviton.
    #[serde(rename = "arm64")]
    Arm64,
}

/// `Environment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    /// Name → value, sorted by name.
    pub variables: BTreeMap<String, Expr>,
}

/// `AWS::Lambda::Permission`: a statement of the function's resource-based policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    /// `lambda:InvokeFunction`.
    pub action: String,
    /// Name or ARN of the function.
    pub function_name: Expr,
    /// Who may invoke (a service principal).
    pub principal: String,
    /// The only source ARN (pattern) the principal may invoke from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<Expr>,
}

impl ResourceType for Permission {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Lambda::Permission",
        stateful: false,
        replaced_by: &[
            "Action",
            "EventSourceToken",
            "FunctionName",
            "FunctionUrlAuthType",
            "InvokedViaFunctionUrl",
            "Principal",
            "PrincipalOrgID",
            "SourceAccount",
            "SourceArn",
        ],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

/// `AWS::Lambda::Version`: an immutable snapshot of the function's code and configuration,
/// published when the resource is created (or replaced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    /// The function (name or ARN).
    pub function_name: Expr,
    /// Shown in the console; changing it replaces the resource, which publishes a version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Expr>,
}

impl ResourceType for Version {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Lambda::Version",
        stateful: false,
        replaced_by: &["CodeSha256", "Description", "FunctionName"],
        not_updatable: &[],
    };
    type Attribute = VersionAttribute;
}

/// Attributes of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionAttribute {
    /// The version number (`3`).
    Version,
    /// The function's (unqualified) ARN.
    FunctionArn,
}

impl Attribute for VersionAttribute {
    fn name(self) -> &'static str {
        match self {
            VersionAttribute::Version => "Version",
            VersionAttribute::FunctionArn => "FunctionArn",
        }
    }
}

/// `AWS::Lambda::Alias`: a stable name (and ARN) pointing at a version; `Ref` is its ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alias {
    /// The function (name or ARN).
    pub function_name: Expr,
    /// The version it points at.
    pub function_version: Expr,
    /// The alias's name, the last part of its ARN.
    pub name: String,
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ResourceType for Alias {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Lambda::Alias",
        stateful: false,
        replaced_by: &["FunctionName", "Name"],
        not_updatable: &[],
    };
    type Attribute = AliasAttribute;
}

/// Attributes of an alias.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasAttribute {
    /// The alias's ARN (what `Ref` returns too).
    AliasArn,
}

impl Attribute for AliasAttribute {
    fn name(self) -> &'static str {
        match self {
            AliasAttribute::AliasArn => "AliasArn",
        }
    }
}
