//! Per-environment settings: `environments/<name>.yaml`, parsed into typed values and checked
//! for settings that are unsafe in production.

mod error;
mod events;
mod policy;
mod sections;
mod values;

pub use error::{EnvironmentError, Invalid, Problem};
pub use events::{Bounded, Events, Protocol, Subscription};
pub use sections::{
    Alarms, Deployment, Edge, Email, Encryption, Mfa, Observability, Percent, RefreshTokenDays,
    Rollout, ThreatProtection, Threshold, TokenMinutes, Users, Waf, WafRateLimit,
};
pub use tickets_manifest::cors::Origin;
pub use values::{
    API_GATEWAY_TIMEOUT_SECONDS, AccountId, Architecture, LogLevel, MemoryMb, Positive,
    RETENTION_DAYS, Region, RetentionDays, TimeoutSeconds,
};

use serde::Deserialize;
use std::path::Path;
use tickets_manifest::cors;

/// The directory, under the repository root, that holds one YAML file per environment.
pub const DIRECTORY: &str = "environments";

/// The environment held to production rules.
pub const PRODUCTION: &str = "prod";

/// The settings of one environment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The environment's name (the file's stem); also the API stage name.
    #[serde(skip)]
    pub name: String,
    /// AWS region to deploy to.
    pub region: Region,
    /// The only AWS account this environment may be deployed to, when pinned.
    #[serde(default)]
    pub account_id: Option<AccountId>,
    /// Origins allowed by CORS; `*` allows any (not in prod).
    #[serde(deserialize_with = "values::origins")]
    pub allowed_origins: Vec<Origin>,
    /// The function's log level; the function's default when unset.
    #[serde(default)]
    pub log_level: Option<LogLevel>,
    /// The function's sizing.
    pub lambda: LambdaSettings,
    /// Days the function's logs are kept; forever when unset (not in prod).
    #[serde(default)]
    pub log_retention_days: Option<RetentionDays>,
    /// Request rate limits of the API stage.
    pub api_throttling: Throttling,
    /// Safeguards of the table and user pool.
    pub data_protection: DataProtection,
    /// Access logs and traces.
    #[serde(default)]
    pub observability: Observability,
    /// The alert topic's subscribers and the alarms' thresholds.
    #[serde(default)]
    pub alarms: Alarms,
    /// How a new version takes traffic.
    #[serde(default)]
    pub rollout: Rollout,
    /// The web application firewall in front of the stage.
    #[serde(default)]
    pub edge: Edge,
    /// Sign-in settings.
    #[serde(default)]
    pub users: Users,
    /// A customer managed key for the stack's data.
    #[serde(default)]
    pub encryption: Encryption,
    /// The ticket events: stream to bus, archive, delivery and notifications.
    #[serde(default)]
    pub events: Events,
}

/// The function's sizing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaSettings {
    /// Instruction set of the build.
    pub architecture: Architecture,
    /// Memory in MB (CPU is allotted in proportion).
    pub memory_mb: MemoryMb,
    /// Timeout in seconds.
    pub timeout_seconds: TimeoutSeconds,
    /// Concurrency reserved for, and capping, the function.
    #[serde(default)]
    pub reserved_concurrency: Option<Positive>,
}

/// Request rate limits of the API stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttling {
    /// Steady requests per second.
    pub rate_limit: Positive,
    /// Requests allowed in a burst.
    pub burst_limit: Positive,
}

/// Safeguards of stateful resources.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataProtection {
    /// Continuous backups of the table (restore to any second of the last 35 days).
    pub point_in_time_recovery: bool,
    /// The table and user pool refuse deletion.
    pub deletion_protection: bool,
    /// The table and user pool survive the stack's deletion or their replacement.
    pub retain_on_delete: bool,
}

impl Environment {
    /// Loads `environments/<name>.yaml` under `root`.
    pub fn load(root: &Path, name: &str) -> Result<Environment, EnvironmentError> {
        if !is_environment_name(name) {
            return Err(EnvironmentError::InvalidName {
                name: name.to_owned(),
            });
        }
        let file = format!("{DIRECTORY}/{name}.yaml");
        let text = std::fs::read_to_string(root.join(&file)).map_err(|source| {
            EnvironmentError::Unreadable {
                file: file.clone(),
                available: available(&root.join(DIRECTORY)),
                source,
            }
        })?;
        Environment::parse(name, &file, &text)
    }

    /// Parses and checks the YAML of environment `name`; `file` names it in errors.
    pub fn parse(name: &str, file: &str, yaml: &str) -> Result<Environment, EnvironmentError> {
        if !is_environment_name(name) {
            return Err(EnvironmentError::InvalidName {
                name: name.to_owned(),
            });
        }
        // A value rejected by an earlier parse on this thread must not be mistaken for ours.
        error::rejected::take();
        let parsed = serde_path_to_error::deserialize(serde_norway::Deserializer::from_str(yaml));
        let mut environment: Environment = parsed.map_err(|err| EnvironmentError::Invalid {
            file: file.to_owned(),
            problems: vec![error::problem_from_yaml(err, error::rejected::take())],
        })?;
        environment.name = name.to_owned();
        let problems = policy::problems(&environment);
        if problems.is_empty() {
            Ok(environment)
        } else {
            Err(EnvironmentError::Invalid {
                file: file.to_owned(),
                problems,
            })
        }
    }

    /// Whether production rules apply.
    pub fn is_production(&self) -> bool {
        self.name == PRODUCTION
    }

    /// Whether CORS allows any origin.
    pub fn allows_any_origin(&self) -> bool {
        self.allowed_origins.contains(&Origin::Any)
    }

    /// The value of the function's `ALLOWED_ORIGINS`.
    pub fn allowed_origins_value(&self) -> String {
        cors::list_value(&self.allowed_origins)
    }
}

fn is_environment_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= 32
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The environments under `directory`, for error messages.
fn available(directory: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    name.strip_suffix(".yaml").map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    if names.is_empty() {
        format!("(none in {})", directory.display())
    } else {
        names.join(", ")
    }
}
