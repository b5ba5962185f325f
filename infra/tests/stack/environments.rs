//! The environment loader accepts the repository's files and rejects unknown keys, wrong
//! types and unsafe prod settings with messages naming the file, the key and the fix.

use crate::common::{environments, root};
use tickets_infra::environment::{
    Deployment, Environment, EnvironmentError, Mfa, Origin, ThreatProtection,
};

/// A valid file, to break one line at a time.
const VALID: &str = "\
region: us-east-1
allowed_origins:
  - https://app.example.com
log_level: info
lambda:
  architecture: arm64
  memory_mb: 256
  timeout_seconds: 10
log_retention_days: 30
api_throttling:
  rate_limit: 10
  burst_limit: 20
data_protection:
  point_in_time_recovery: true
  deletion_protection: true
  retain_on_delete: true
alarms:
  email:
    - ops@example.com
";

fn error(name: &str, yaml: &str) -> String {
    let file = format!("environments/{name}.yaml");
    match Environment::parse(name, &file, yaml) {
        Ok(environment) => panic!("{file} was accepted: {environment:?}"),
        Err(error) => error.to_string(),
    }
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(
            message.contains(part),
            "{message:?} does not mention {part:?}"
        );
    }
}

#[test]
fn loads_every_environment_of_the_repository() {
    for name in environments() {
        let environment = Environment::load(&root(), &name).unwrap();
        assert_eq!(environment.name, name);
    }
    let prod = Environment::load(&root(), "prod").unwrap();
    assert!(prod.is_production() && !prod.allows_any_origin());
    let dev = Environment::load(&root(), "dev").unwrap();
    assert!(dev.allows_any_origin());
}

#[test]
fn accepts_a_valid_file() {
    let environment = Environment::parse("dev", "environments/dev.yaml", VALID).unwrap();
    assert_eq!(environment.region.as_str(), "us-east-1");
    assert_eq!(environment.lambda.memory_mb.get(), 256);
    assert_eq!(
        environment.allowed_origins,
        vec![Origin::Exact("https://app.example.com".into())]
    );
}

#[test]
fn rejects_unknown_keys() {
    let nested = error("dev", &VALID.replace("memory_mb", "memroy_mb"));
    assert_mentions(
        &nested,
        &[
            "environments/dev.yaml: ",
            "lambda.memroy_mb: ",
            "unknown key",
            "remove it",
            "memory_mb",
        ],
    );
    let top = error("dev", &format!("{VALID}colour: blue\n"));
    assert_mentions(
        &top,
        &["environments/dev.yaml: colour: unknown key: remove it"],
    );
}

#[test]
fn rejects_missing_keys() {
    let message = error("dev", &VALID.replace("  burst_limit: 20\n", ""));
    assert_mentions(
        &message,
        &["environments/dev.yaml: api_throttling.burst_limit: missing: add it"],
    );
}

#[test]
fn rejects_wrong_types() {
    let memory = error("dev", &VALID.replace("memory_mb: 256", "memory_mb: lots"));
    assert_mentions(
        &memory,
        &[
            "environments/dev.yaml: lambda.memory_mb: invalid type",
            "write a whole number",
            "(line 7)",
        ],
    );
    let flag = error(
        "staging",
        &VALID.replace("retain_on_delete: true", "retain_on_delete: maybe"),
    );
    assert_mentions(
        &flag,
        &[
            "environments/staging.yaml: data_protection.retain_on_delete: ",
            "write a boolean",
        ],
    );
    let arch = error("dev", &VALID.replace("arm64", "x86"));
    assert_mentions(
        &arch,
        &[
            "lambda.architecture: unknown variant `x86`",
            "`x86_64` or `arm64`",
        ],
    );
}

#[test]
fn rejects_values_out_of_range() {
    let cases = [
        (
            "memory_mb: 256",
            "memory_mb: 64",
            "lambda.memory_mb: 64 is outside Lambda's 128 to 10240 MB",
        ),
        (
            "timeout_seconds: 10",
            "timeout_seconds: 30",
            "lambda.timeout_seconds: 30 is longer than API Gateway's 29 s",
        ),
        (
            "log_retention_days: 30",
            "log_retention_days: 31",
            "log_retention_days: 31 is not a retention period",
        ),
        (
            "rate_limit: 10",
            "rate_limit: 0",
            "api_throttling.rate_limit: 0 would refuse every request: set 1 or more",
        ),
        (
            "region: us-east-1",
            "region: Virginia",
            "region: \"Virginia\" is not an AWS region code",
        ),
        (
            "- https://app.example.com",
            "- https://app.example.com/",
            "allowed_origins[0]: \"https://app.example.com/\" is not an origin",
        ),
    ];
    for (from, to, expected) in cases {
        assert_mentions(
            &error("dev", &VALID.replace(from, to)),
            &[&format!("environments/dev.yaml: {expected}")],
        );
    }
}

#[test]
fn rejects_unsafe_prod_settings() {
    let unsafe_prod = VALID
        .replace("- https://app.example.com", "- http://app.example.com")
        .replace(
            "point_in_time_recovery: true",
            "point_in_time_recovery: false",
        )
        .replace("retain_on_delete: true", "retain_on_delete: false")
        .replace("log_retention_days: 30\n", "");
    let message = error("prod", &unsafe_prod);
    assert_mentions(
        &message,
        &[
            "environments/prod.yaml: allowed_origins: http://app.example.com is not https",
            "environments/prod.yaml: data_protection.point_in_time_recovery: must be true in prod: set it to true",
            "environments/prod.yaml: data_protection.retain_on_delete: must be true in prod: set it to true",
            "environments/prod.yaml: log_retention_days: must be set in prod: set it to one of",
        ],
    );
    let any_origin = VALID.replace("- https://app.example.com", "- \"*\"");
    assert_mentions(
        &error("prod", &any_origin),
        &[
            "environments/prod.yaml: allowed_origins: `*` is not allowed in prod: list the exact https origins",
        ],
    );
    // The same settings are fine outside prod.
    Environment::parse("dev", "environments/dev.yaml", &unsafe_prod).unwrap();
    Environment::parse("dev", "environments/dev.yaml", &any_origin).unwrap();
}

#[test]
fn rejects_a_wildcard_origin_mixed_with_others() {
    let mixed = VALID.replace(
        "- https://app.example.com",
        "- \"*\"\n  - http://localhost:3000",
    );
    assert_mentions(
        &error("dev", &mixed),
        &[
            "environments/dev.yaml: allowed_origins: `*` already allows every origin and cannot be combined with others: keep only `*`",
        ],
    );
}

#[test]
fn rejects_names_that_are_not_environment_names() {
    let result = Environment::load(&root(), "../Cargo");
    assert!(
        matches!(result, Err(EnvironmentError::InvalidName { .. })),
        "{result:?}"
    );
}

#[test]
fn names_the_existing_environments_when_one_is_missing() {
    let message = Environment::load(&root(), "qa").unwrap_err().to_string();
    assert_mentions(
        &message,
        &[
            "environments/qa.yaml: cannot read it",
            "dev, local, prod, staging",
        ],
    );
}

#[test]
fn operational_sections_default_to_the_safe_choice() {
    let environment = Environment::parse("prod", "environments/prod.yaml", VALID).unwrap();
    assert!(environment.observability.access_logs && environment.observability.tracing);
    assert_eq!(
        environment.rollout.deployment,
        Deployment::Canary10Percent5Minutes
    );
    assert!(environment.rollout.alias);
    let waf = &environment.edge.waf;
    assert!(waf.enabled && !waf.count_only);
    assert_eq!(waf.rate_limit_per_5_minutes.get(), 1000);
    assert_eq!(environment.users.mfa, Mfa::Optional);
    assert_eq!(environment.users.threat_protection, ThreatProtection::Audit);
    assert_eq!(environment.alarms.api_5xx_percent.get(), 1.0);
    assert_eq!(environment.alarms.email[0].as_str(), "ops@example.com");
    assert!(!environment.encryption.customer_managed_key);
}

#[test]
fn reads_every_operational_setting() {
    let yaml = format!(
        "{VALID}\
observability:
  tracing: false
rollout:
  deployment: linear_10_percent_every_1_minute
edge:
  waf:
    rate_limit_per_5_minutes: 500
users:
  mfa: required
  threat_protection: enforced
  id_token_minutes: 15
  refresh_token_days: 7
encryption:
  customer_managed_key: true
"
    )
    .replace(
        "alarms:\n",
        "alarms:\n  api_5xx_percent: 0.5\n  p99_latency_ms: 800\n",
    );
    let environment = Environment::parse("dev", "environments/dev.yaml", &yaml).unwrap();
    assert!(!environment.observability.tracing && environment.observability.access_logs);
    assert_eq!(
        environment.rollout.deployment.config_name(),
        "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"
    );
    assert_eq!(environment.edge.waf.rate_limit_per_5_minutes.get(), 500);
    assert_eq!(environment.users.mfa, Mfa::Required);
    assert_eq!(environment.users.id_token_minutes.get(), 15);
    assert_eq!(environment.alarms.api_5xx_percent.get(), 0.5);
    assert_eq!(environment.alarms.p99_latency_ms.get(), 800);
    assert!(environment.encryption.customer_managed_key);
}

#[test]
fn rejects_operational_values_out_of_range() {
    let cases = [
        (
            "  email:\n    - ops@example.com\n",
            "  email:\n    - ops\n",
            "alarms.email[0]: \"ops\" is not an email address",
        ),
        (
            "alarms:\n",
            "alarms:\n  api_5xx_percent: 0\n",
            "alarms.api_5xx_percent: 0 is not a percentage above 0",
        ),
        (
            "alarms:\n",
            "alarms:\n  lambda_errors: 0\n",
            "alarms.lambda_errors: 0 would keep the alarm on all the time: set 1 or more",
        ),
        (
            "alarms:\n",
            "edge:\n  waf:\n    rate_limit_per_5_minutes: 5\nalarms:\n",
            "edge.waf.rate_limit_per_5_minutes: 5 is outside WAF's 10 to 2000000000",
        ),
        (
            "alarms:\n",
            "users:\n  id_token_minutes: 2\nalarms:\n",
            "users.id_token_minutes: 2 is outside Cognito's 5 to 1440 minutes",
        ),
        (
            "alarms:\n",
            "rollout:\n  deployment: canary\nalarms:\n",
            "rollout.deployment: unknown variant `canary`",
        ),
        (
            "alarms:\n",
            "users:\n  mfa: sometimes\nalarms:\n",
            "users.mfa: unknown variant `sometimes`",
        ),
    ];
    for (from, to, expected) in cases {
        assert_mentions(
            &error("dev", &VALID.replace(from, to)),
            &[&format!("environments/dev.yaml: {expected}")],
        );
    }
}

#[test]
fn rejects_inconsistent_operational_settings() {
    let no_alias = format!(
        "{VALID}rollout:\n  deployment: linear_10_percent_every_1_minute\n  alias: false\n"
    );
    assert_mentions(
        &error("dev", &no_alias),
        &[
            "environments/dev.yaml: rollout.alias: is false, but a gradual deployment shifts traffic",
        ],
    );
    let short_refresh =
        format!("{VALID}users:\n  id_token_minutes: 1440\n  refresh_token_days: 1\n");
    assert_mentions(
        &error("dev", &short_refresh),
        &["environments/dev.yaml: users.refresh_token_days: must outlast the ID and access tokens"],
    );
}

#[test]
fn rejects_unsafe_operational_prod_settings() {
    let unsafe_prod = format!(
        "{}\
observability:
  access_logs: false
  tracing: false
rollout:
  deployment: all_at_once
  alias: false
edge:
  waf:
    enabled: false
",
        VALID
            .replace("log_level: info", "log_level: warn")
            .replace("alarms:\n  email:\n    - ops@example.com\n", "")
    );
    assert_mentions(
        &error("prod", &unsafe_prod),
        &[
            "environments/prod.yaml: observability.access_logs: must be true in prod",
            "environments/prod.yaml: observability.tracing: must be true in prod",
            "environments/prod.yaml: log_level: must be info or lower in prod: each request's info line carries its CloudWatch metrics",
            "environments/prod.yaml: alarms.email: must list at least one address in prod",
            "environments/prod.yaml: rollout.deployment: all_at_once is not allowed in prod",
            "environments/prod.yaml: rollout.alias: must be true in prod",
            "environments/prod.yaml: edge.waf.enabled: must be true in prod",
        ],
    );
    let counting = format!("{VALID}edge:\n  waf:\n    count_only: true\n");
    assert_mentions(
        &error("prod", &counting),
        &["environments/prod.yaml: edge.waf.count_only: must be false in prod"],
    );
    // The same settings are fine outside prod.
    Environment::parse("staging", "environments/staging.yaml", &unsafe_prod).unwrap();
    Environment::parse("staging", "environments/staging.yaml", &counting).unwrap();
}

#[test]
fn the_events_section_defaults_safely_and_is_checked() {
    let environment = Environment::parse("dev", "dev.yaml", VALID).unwrap();
    assert_eq!(environment.events.archive_retention_days.get(), 30);
    assert_eq!(environment.events.batch_size.get(), 10);
    assert!(environment.events.retry_attempts.get() >= 1);
    assert!(environment.events.subscriptions.is_empty());

    let with = |section: &str| format!("{VALID}events:\n{section}");
    assert_mentions(
        &error("dev", &with("  batch_size: 11\n")),
        &["events.batch_size", "1 to 10"],
    );
    assert_mentions(
        &error(
            "dev",
            &with("  subscriptions:\n    - protocol: sms\n      endpoint: call me\n"),
        ),
        &["events.subscriptions[0].endpoint", "sms"],
    );
    assert_mentions(
        &error(
            "dev",
            &with(
                "  subscriptions:\n    - protocol: email\n      endpoint: a@example.com\n      filter:\n        colour: [red]\n",
            ),
        ),
        &["events.subscriptions[0].filter.colour", "assignee"],
    );
    let prod = error(
        "prod",
        &with("  archive_retention_days: 1\n  retry_attempts: 0\n"),
    );
    assert_mentions(
        &prod,
        &["events.archive_retention_days", "events.retry_attempts"],
    );
    let accepted = Environment::parse(
        "dev",
        "dev.yaml",
        &with("  subscriptions:\n    - protocol: https\n      endpoint: https://hooks.example.com/t\n      filter:\n        status: [CLOSED]\n"),
    )
    .unwrap();
    assert_eq!(accepted.events.subscriptions.len(), 1);
}
