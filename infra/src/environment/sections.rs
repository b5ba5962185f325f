//! The operational sections of an environment file: observability, alarms, rollout, edge
//! security, users and encryption. Every key has a default, and the defaults are the safe
//! choice: a file that leaves a section out gets production-grade settings.

use super::error::Invalid;
use super::values::{CheckedNumber, CheckedString, checked, reject};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// What the stack records about each request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Observability {
    /// JSON access logs of the API stage.
    pub access_logs: bool,
    /// X-Ray traces of the stage and the function.
    pub tracing: bool,
}

impl Default for Observability {
    fn default() -> Self {
        Observability {
            access_logs: true,
            tracing: true,
        }
    }
}

/// Who is told, and when: every threshold of the generated alarms.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Alarms {
    /// Addresses subscribed to the alert topic (each confirms by a link first).
    pub email: Vec<Email>,
    /// Share of requests answered 5xx, per minute, in 2 of 3 minutes (API-wide and per route).
    pub api_5xx_percent: Percent,
    /// p99 latency in ms, per minute, in 2 of 3 minutes (API-wide and per route).
    pub p99_latency_ms: Threshold,
    /// 401 and 403 answers in 5 minutes.
    pub auth_failures_per_5_minutes: Threshold,
    /// Function errors (crashes, timeouts) in 5 minutes.
    pub lambda_errors: Threshold,
    /// Invocations refused for lack of concurrency in 5 minutes.
    pub lambda_throttles: Threshold,
    /// DynamoDB requests throttled in 5 minutes.
    pub dynamodb_throttles: Threshold,
    /// DynamoDB internal errors in 5 minutes, per operation.
    pub dynamodb_system_errors: Threshold,
}

impl Default for Alarms {
    fn default() -> Self {
        let count = Threshold;
        Alarms {
            email: Vec::new(),
            api_5xx_percent: Percent(1.0),
            p99_latency_ms: count(1000),
            auth_failures_per_5_minutes: count(50),
            lambda_errors: count(1),
            lambda_throttles: count(1),
            dynamodb_throttles: count(1),
            dynamodb_system_errors: count(1),
        }
    }
}

/// How a new version of the function takes traffic.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rollout {
    /// The CodeDeploy configuration shifting the alias `live`.
    pub deployment: Deployment,
    /// Publish a version per change and let API Gateway invoke the alias `live`. Off, it
    /// invokes the function itself and no version is published (where nothing shifts).
    pub alias: bool,
    /// Minutes CloudFormation keeps watching the rollback trigger after a gradual update
    /// (and its traffic shift) finished, before it lets the update stand; at most 180.
    pub monitoring_minutes: u32,
}

impl Default for Rollout {
    fn default() -> Self {
        Rollout {
            deployment: Deployment::Canary10Percent5Minutes,
            alias: true,
            monitoring_minutes: 10,
        }
    }
}

/// CloudFormation's limit on a rollback configuration's monitoring time.
pub const MAX_MONITORING_MINUTES: u32 = 180;

/// CodeDeploy's predefined Lambda deployment configurations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Deployment {
    /// Every request goes to the new version at once.
    #[serde(rename = "all_at_once")]
    AllAtOnce,
    /// 10 % more every minute.
    #[serde(rename = "linear_10_percent_every_1_minute")]
    Linear10PercentEvery1Minute,
    /// 10 % more every 2 minutes.
    #[serde(rename = "linear_10_percent_every_2_minutes")]
    Linear10PercentEvery2Minutes,
    /// 10 % more every 3 minutes.
    #[serde(rename = "linear_10_percent_every_3_minutes")]
    Linear10PercentEvery3Minutes,
    /// 10 % more every 10 minutes.
    #[serde(rename = "linear_10_percent_every_10_minutes")]
    Linear10PercentEvery10Minutes,
    /// 10 % for 5 minutes, then the rest.
    #[serde(rename = "canary_10_percent_5_minutes")]
    Canary10Percent5Minutes,
    /// 10 % for 10 minutes, then the rest.
    #[serde(rename = "canary_10_percent_10_minutes")]
    Canary10Percent10Minutes,
    /// 10 % for 15 minutes, then the rest.
    #[serde(rename = "canary_10_percent_15_minutes")]
    Canary10Percent15Minutes,
    /// 10 % for 30 minutes, then the rest.
    #[serde(rename = "canary_10_percent_30_minutes")]
    Canary10Percent30Minutes,
}

impl Deployment {
    /// Every configuration.
    pub const ALL: [Deployment; 9] = [
        Deployment::AllAtOnce,
        Deployment::Linear10PercentEvery1Minute,
        Deployment::Linear10PercentEvery2Minutes,
        Deployment::Linear10PercentEvery3Minutes,
        Deployment::Linear10PercentEvery10Minutes,
        Deployment::Canary10Percent5Minutes,
        Deployment::Canary10Percent10Minutes,
        Deployment::Canary10Percent15Minutes,
        Deployment::Canary10Percent30Minutes,
    ];

    /// CodeDeploy's name of the configuration.
    pub const fn config_name(self) -> &'static str {
        match self {
            Deployment::AllAtOnce => "CodeDeployDefault.LambdaAllAtOnce",
            Deployment::Linear10PercentEvery1Minute => {
                "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
            }
            Deployment::Linear10PercentEvery2Minutes => {
                "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes"
            }
            Deployment::Linear10PercentEvery3Minutes => {
                "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes"
            }
            Deployment::Linear10PercentEvery10Minutes => {
                "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"
            }
            Deployment::Canary10Percent5Minutes => {
                "CodeDeployDefault.LambdaCanary10Percent5Minutes"
            }
            Deployment::Canary10Percent10Minutes => {
                "CodeDeployDefault.LambdaCanary10Percent10Minutes"
            }
            Deployment::Canary10Percent15Minutes => {
                "CodeDeployDefault.LambdaCanary10Percent15Minutes"
            }
            Deployment::Canary10Percent30Minutes => {
                "CodeDeployDefault.LambdaCanary10Percent30Minutes"
            }
        }
    }

    /// Whether traffic moves in steps, watched by alarms.
    pub const fn is_gradual(self) -> bool {
        !matches!(self, Deployment::AllAtOnce)
    }
}

/// Protection in front of the API stage.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Edge {
    /// The web application firewall.
    pub waf: Waf,
}

/// A WAF web ACL on the stage: a rate limit per IP and AWS managed rule groups.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Waf {
    /// Whether the stage has a web ACL.
    pub enabled: bool,
    /// Requests one IP address may send in 5 minutes.
    pub rate_limit_per_5_minutes: WafRateLimit,
    /// Only count what the rules match instead of blocking it (to try rules out).
    pub count_only: bool,
}

impl Default for Waf {
    fn default() -> Self {
        Waf {
            enabled: true,
            rate_limit_per_5_minutes: WafRateLimit(1000),
            count_only: false,
        }
    }
}

/// Sign-in settings of the user pool.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Users {
    /// Whether users need an authenticator app as a second factor.
    pub mfa: Mfa,
    /// What Cognito does with risky sign-ins (`audit` and `enforced` need the Plus plan).
    pub threat_protection: ThreatProtection,
    /// How long ID and access tokens are valid.
    pub id_token_minutes: TokenMinutes,
    /// How long refresh tokens are valid.
    pub refresh_token_days: RefreshTokenDays,
}

impl Default for Users {
    fn default() -> Self {
        Users {
            mfa: Mfa::Optional,
            threat_protection: ThreatProtection::Audit,
            id_token_minutes: TokenMinutes(60),
            refresh_token_days: RefreshTokenDays(30),
        }
    }
}

/// Multi-factor authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mfa {
    /// No second factor.
    Off,
    /// Users may set one up.
    Optional,
    /// Every user signs in with one.
    Required,
}

/// Cognito threat protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThreatProtection {
    /// Off.
    Off,
    /// Detect and log risky sign-ins.
    Audit,
    /// Block or challenge them.
    Enforced,
}

/// Keys of the stack's data.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Encryption {
    /// A customer managed KMS key (rotated yearly) for the table and the log groups instead
    /// of AWS-owned keys: key use shows in CloudTrail and can be revoked.
    pub customer_managed_key: bool,
}

/// A percentage above 0 and at most 100 (`0.5`, `1`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent(f64);

impl Percent {
    /// The value.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Percent {
    type Error = Invalid;

    fn try_from(value: f64) -> Result<Self, Invalid> {
        if value > 0.0 && value <= 100.0 {
            Ok(Percent(value))
        } else {
            Err(Invalid::new(
                format!("{value} is not a percentage above 0"),
                "write a number above 0 and at most 100, e.g. 1 or 0.5",
            ))
        }
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PercentVisitor;

        impl Visitor<'_> for PercentVisitor {
            type Value = Percent;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a number")
            }

            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Percent, E> {
                Percent::try_from(value).map_err(reject)
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Percent, E> {
                self.visit_f64(value as f64)
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Percent, E> {
                self.visit_f64(value as f64)
            }
        }

        deserializer.deserialize_f64(PercentVisitor)
    }
}

/// An alarm threshold of at least 1 (a count or milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold(u32);

impl Threshold {
    /// The value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Threshold {
    type Error = Invalid;

    fn try_from(value: u32) -> Result<Self, Invalid> {
        if value >= 1 {
            Ok(Threshold(value))
        } else {
            Err(Invalid::new(
                "0 would keep the alarm on all the time",
                "set 1 or more",
            ))
        }
    }
}

/// An email address (the shape only: SNS asks the recipient to confirm it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = Invalid;

    fn try_from(value: String) -> Result<Self, Invalid> {
        let valid = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if valid {
            Ok(Email(value))
        } else {
            Err(Invalid::new(
                format!("{value:?} is not an email address"),
                "write one like ops@example.com",
            ))
        }
    }
}

/// WAF's rate limit per IP and 5 minutes: 10 to 2 000 000 000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WafRateLimit(u32);

impl WafRateLimit {
    /// The value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for WafRateLimit {
    type Error = Invalid;

    fn try_from(value: u32) -> Result<Self, Invalid> {
        if (10..=2_000_000_000).contains(&value) {
            Ok(WafRateLimit(value))
        } else {
            Err(Invalid::new(
                format!("{value} is outside WAF's 10 to 2000000000 requests per 5 minutes"),
                "pick a value in that range (1000 suits people; raise it for busy clients)",
            ))
        }
    }
}

/// Validity of ID and access tokens in minutes: 5 to 1440 (a day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenMinutes(u32);

impl TokenMinutes {
    /// The value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for TokenMinutes {
    type Error = Invalid;

    fn try_from(value: u32) -> Result<Self, Invalid> {
        if (5..=1440).contains(&value) {
            Ok(TokenMinutes(value))
        } else {
            Err(Invalid::new(
                format!("{value} is outside Cognito's 5 to 1440 minutes"),
                "pick a value in that range (60 is Cognito's default)",
            ))
        }
    }
}

/// Validity of refresh tokens in days: 1 to 3650.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTokenDays(u32);

impl RefreshTokenDays {
    /// The value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for RefreshTokenDays {
    type Error = Invalid;

    fn try_from(value: u32) -> Result<Self, Invalid> {
        if (1..=3650).contains(&value) {
            Ok(RefreshTokenDays(value))
        } else {
            Err(Invalid::new(
                format!("{value} is outside Cognito's 1 to 3650 days"),
                "pick a value in that range (30 is Cognito's default)",
            ))
        }
    }
}

checked!(CheckedNumber, deserialize_u32: Threshold, WafRateLimit, TokenMinutes, RefreshTokenDays);
checked!(CheckedString, deserialize_str: Email);
