//! Settings that are inconsistent, or unsafe in production.

use super::error::Problem;
use super::values::{RETENTION_DAYS, list};
use super::{Environment, LogLevel};
use tickets_manifest::cors::{self, Origin};

/// Everything wrong with `environment` beyond the values themselves.
pub(super) fn problems(environment: &Environment) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut report = |key: &str, problem: &str, fix: &str| {
        problems.push(Problem {
            key: key.to_owned(),
            problem: problem.to_owned(),
            fix: fix.to_owned(),
            line: None,
        })
    };
    // The function reads the list with the same rule at start-up.
    if let Err(err) = cors::check_list(&environment.allowed_origins) {
        report("allowed_origins", &err.problem(), &err.fix());
    }
    let rollout = &environment.rollout;
    if !rollout.alias && rollout.deployment.is_gradual() {
        report(
            "rollout.alias",
            "is false, but a gradual deployment shifts traffic between versions of the alias",
            "set rollout.alias: true, or rollout.deployment: all_at_once",
        );
    }
    if rollout.monitoring_minutes > super::sections::MAX_MONITORING_MINUTES {
        report(
            "rollout.monitoring_minutes",
            &format!(
                "is {}, but CloudFormation watches an update for at most {} minutes",
                rollout.monitoring_minutes,
                super::sections::MAX_MONITORING_MINUTES
            ),
            "set it between 0 and 180",
        );
    }
    let users = &environment.users;
    // Cognito refuses a refresh token that expires before the tokens it refreshes.
    if u64::from(users.refresh_token_days.get()) * 24 * 60
        <= u64::from(users.id_token_minutes.get())
    {
        report(
            "users.refresh_token_days",
            "must outlast the ID and access tokens (users.id_token_minutes)",
            "raise it, or shorten users.id_token_minutes",
        );
    }
    for (index, subscription) in environment.events.subscriptions.iter().enumerate() {
        let key = format!("events.subscriptions[{index}]");
        if let Some(problem) = subscription.endpoint_problem() {
            report(
                &format!("{key}.endpoint"),
                &problem,
                "write the endpoint its protocol takes",
            );
        }
        for (field, values) in &subscription.filter {
            if !tickets_manifest::events::notification::ATTRIBUTES.contains(&field.as_str()) {
                report(
                    &format!("{key}.filter.{field}"),
                    "is not a field of the notifications",
                    &format!(
                        "filter on {}",
                        tickets_manifest::events::notification::ATTRIBUTES.join(", ")
                    ),
                );
            } else if values.is_empty() {
                report(
                    &format!("{key}.filter.{field}"),
                    "lists no value, so nothing would be delivered",
                    "list the values to deliver, or leave the field out",
                );
            }
        }
    }
    if !environment.is_production() {
        return problems;
    }
    production(environment, &mut report);
    if environment.allows_any_origin() {
        report(
            "allowed_origins",
            "`*` is not allowed in prod",
            "list the exact https origins of the web app instead",
        );
    }
    for origin in &environment.allowed_origins {
        if let Origin::Exact(value) = origin
            && !origin.is_https()
        {
            report(
                "allowed_origins",
                &format!("{value} is not https, which prod does not allow"),
                "serve the web app over https and list its https origin",
            );
        }
    }
    let protection = &environment.data_protection;
    for (key, on) in [
        (
            "data_protection.point_in_time_recovery",
            protection.point_in_time_recovery,
        ),
        (
            "data_protection.deletion_protection",
            protection.deletion_protection,
        ),
        (
            "data_protection.retain_on_delete",
            protection.retain_on_delete,
        ),
    ] {
        if !on {
            report(key, "must be true in prod", "set it to true");
        }
    }
    if environment.log_retention_days.is_none() {
        report(
            "log_retention_days",
            "must be set in prod",
            &format!(
                "set it to one of CloudWatch's periods ({}), e.g. 365",
                list(RETENTION_DAYS)
            ),
        );
    }
    problems
}

/// The operational settings production insists on.
fn production(environment: &Environment, report: &mut impl FnMut(&str, &str, &str)) {
    let observability = &environment.observability;
    for (key, on) in [
        ("observability.access_logs", observability.access_logs),
        ("observability.tracing", observability.tracing),
    ] {
        if !on {
            report(key, "must be true in prod", "set it to true");
        }
    }
    if matches!(
        environment.log_level,
        Some(LogLevel::Warn | LogLevel::Error)
    ) {
        report(
            "log_level",
            "must be info or lower in prod: each request's info line carries its CloudWatch metrics, so a higher level silences the metrics and the alarms built on them",
            "set it to info",
        );
    }
    if environment.alarms.email.is_empty() {
        report(
            "alarms.email",
            "must list at least one address in prod, or alarms notify nobody",
            "add the on-call address, e.g. - ops@example.com",
        );
    }
    if !environment.rollout.deployment.is_gradual() {
        report(
            "rollout.deployment",
            "all_at_once is not allowed in prod: a bad version would take every request at once",
            "use canary_10_percent_5_minutes or linear_10_percent_every_1_minute",
        );
    }
    if !environment.rollout.alias {
        report(
            "rollout.alias",
            "must be true in prod: rollbacks and gradual deployments move the alias",
            "set it to true",
        );
    }
    let events = &environment.events;
    if events.archive_retention_days.get() != 0 && events.archive_retention_days.get() < 7 {
        report(
            "events.archive_retention_days",
            "must keep a week of events at least in prod, so that a failed consumer can be replayed",
            "set 7 or more (0 keeps them forever)",
        );
    }
    for (key, value) in [
        ("events.retry_attempts", events.retry_attempts.get()),
        (
            "events.delivery_retry_attempts",
            events.delivery_retry_attempts.get(),
        ),
    ] {
        if value == 0 {
            report(
                key,
                "must be 1 or more in prod: one failed call would send events to the dead-letter queue",
                "set it to 1 or more",
            );
        }
    }
    let waf = &environment.edge.waf;
    if !waf.enabled {
        report("edge.waf.enabled", "must be true in prod", "set it to true");
    } else if waf.count_only {
        report(
            "edge.waf.count_only",
            "must be false in prod: a counting firewall blocks nothing",
            "set it to false once the rules have been tried in staging",
        );
    }
}
