//! The CI pipeline example (`.github/workflows/deploy.yml`) is a valid workflow that
//! deploys with OIDC role assumption, never with long-lived keys, and promotes to prod
//! only through the protected `prod` environment.

use serde_json::Value;
use std::process::Command;
use xtask_core::tools::workspace;

fn workflow_path() -> std::path::PathBuf {
    workspace::root().join(".github/workflows/deploy.yml")
}

fn workflow() -> Value {
    serde_norway::from_str(&std::fs::read_to_string(workflow_path()).unwrap()).unwrap()
}

#[test]
fn deploy_workflow_matches_githubs_workflow_schema() {
    // check-jsonschema carries GitHub's published workflow schema; `cargo xtask test`
    // installs it (see xtask/python-requirements.txt).
    let output = Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.github-workflows"])
        .arg(workflow_path())
        .output()
        .expect("check-jsonschema is missing: run the tests with `cargo xtask test`");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn deploy_workflow_tests_then_deploys_dev_then_promotes_to_staging_then_prod() {
    let jobs = &workflow()["jobs"];
    assert_eq!(jobs["deploy-dev"]["needs"], "test");
    assert_eq!(jobs["promote-staging"]["needs"], "deploy-dev");
    assert_eq!(jobs["promote-prod"]["needs"], "promote-staging");
    let runs = |job: &str| -> Vec<String> {
        jobs[job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str().map(str::to_owned))
            .collect()
    };
    assert!(runs("test").iter().any(|r| r == "cargo xtask test"));
    assert!(
        runs("deploy-dev")
            .iter()
            .any(|r| r.starts_with("cargo xtask deploy --env dev"))
    );
    assert!(
        runs("deploy-dev")
            .iter()
            .any(|r| r == "cargo xtask smoke --env dev")
    );
    assert!(
        runs("promote-staging")
            .iter()
            .any(|r| r.starts_with("cargo xtask promote --from dev --to staging"))
    );
    assert!(
        runs("promote-prod")
            .iter()
            .any(|r| r.starts_with("cargo xtask promote --from staging --to prod"))
    );
    // The prod job waits for the reviewers of the protected `prod` environment.
    assert_eq!(jobs["promote-prod"]["environment"], "prod");
}

#[test]
fn deploy_workflow_assumes_roles_with_oidc_and_holds_no_keys() {
    let text = std::fs::read_to_string(workflow_path()).unwrap();
    for secret in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "aws-access-key-id",
        "aws-secret-access-key",
    ] {
        assert!(!text.contains(secret), "the workflow mentions {secret}");
    }
    let jobs = workflow()["jobs"].clone();
    for job in ["deploy-dev", "promote-staging", "promote-prod"] {
        assert_eq!(
            jobs[job]["permissions"]["id-token"], "write",
            "{job} cannot request an OIDC token"
        );
        let assume = jobs[job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials@"))
            })
            .unwrap_or_else(|| panic!("{job} does not configure AWS credentials"));
        assert!(
            assume["with"]["role-to-assume"].is_string(),
            "{job} does not assume a role"
        );
    }
    assert_eq!(workflow()["permissions"]["contents"], "read");
}
