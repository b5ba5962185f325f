//! Settings that are inconsistent, or unsafe in production.

use super::Environment;
use super::error::Problem;
use super::values::{RETENTION_DAYS, list};
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
    if !environment.is_production() {
        return problems;
    }
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
