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

const DEPLOY_JOBS: [(&str, &str); 3] = [
    ("deploy-dev", "dev"),
    ("promote-staging", "staging"),
    ("promote-prod", "prod"),
];

fn steps(job: &str) -> Vec<Value> {
    workflow()["jobs"][job]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("{job} has no steps"))
        .clone()
}

#[test]
fn every_job_has_a_timeout() {
    let workflow = workflow();
    for (name, job) in workflow["jobs"].as_object().unwrap() {
        assert!(
            job["timeout-minutes"].as_u64().is_some_and(|m| m > 0),
            "{name} has no timeout-minutes: a stuck rollout would hold the runner for 6 h"
        );
    }
}

#[test]
fn rollouts_queue_per_environment_whatever_the_branch() {
    let workflow = workflow();
    assert!(
        workflow.get("concurrency").is_none(),
        "a workflow-wide group per ref lets runs of two branches roll out to one environment at once"
    );
    for (job, env) in DEPLOY_JOBS {
        let concurrency = &workflow["jobs"][job]["concurrency"];
        let group = concurrency["group"].as_str().unwrap_or_default();
        assert!(
            group.contains(env) && !group.contains("github.ref"),
            "{job}: concurrency group {group:?} is not one per environment"
        );
        assert_eq!(concurrency["cancel-in-progress"], false, "{job}");
    }
}

#[test]
fn environments_are_deployed_from_main_only() {
    for (job, _) in DEPLOY_JOBS {
        let condition = workflow()["jobs"][job]["if"]
            .as_str()
            .unwrap_or_default()
            .replace(' ', "");
        assert!(
            condition.contains("github.ref=='refs/heads/main'"),
            "{job} runs on any branch: {condition:?}"
        );
    }
}

#[test]
fn promotions_deploy_the_artifact_key_dev_handed_over() {
    let jobs = workflow()["jobs"].clone();
    let deploy = steps("deploy-dev");
    let report = deploy
        .iter()
        .find(|s| s["id"] == "deploy")
        .expect("deploy-dev's deploy step has id `deploy`");
    let run = report["run"].as_str().unwrap();
    assert!(
        run.contains("--json > deploy-dev.json")
            && run.contains("artifact.keys")
            && run.contains("GITHUB_OUTPUT"),
        "deploy-dev does not output the keys it deployed (one per function): {run}"
    );
    assert_eq!(
        jobs["deploy-dev"]["outputs"]["artifact-key"],
        "${{ steps.deploy.outputs.artifact-key }}"
    );
    assert_eq!(
        jobs["promote-staging"]["env"]["ARTIFACT_KEY"],
        "${{ needs.deploy-dev.outputs.artifact-key }}"
    );
    assert_eq!(
        jobs["promote-staging"]["outputs"]["artifact-key"],
        "${{ needs.deploy-dev.outputs.artifact-key }}"
    );
    assert_eq!(
        jobs["promote-prod"]["env"]["ARTIFACT_KEY"],
        "${{ needs.promote-staging.outputs.artifact-key }}"
    );
    for job in ["promote-staging", "promote-prod"] {
        assert!(
            steps(job).iter().any(|s| s["run"]
                .as_str()
                .is_some_and(|r| r.starts_with("cargo xtask promote")
                    && r.contains("--artifact-key \"$ARTIFACT_KEY\""))),
            "{job} promotes whatever the source runs now, not the tested key"
        );
    }
}

#[test]
fn each_deploy_job_builds_before_assuming_its_role() {
    for (job, _) in DEPLOY_JOBS {
        let steps = steps(job);
        let position = |wanted: &dyn Fn(&Value) -> bool| steps.iter().position(wanted);
        let assume = position(&|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("aws-actions/configure-aws-credentials@"))
        })
        .unwrap_or_else(|| panic!("{job} assumes no role"));
        let build = position(&|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.starts_with("cargo build -p xtask"))
        })
        .unwrap_or_else(|| panic!("{job} does not build xtask first"));
        assert!(build < assume, "{job} assumes its role before building");
    }
}
