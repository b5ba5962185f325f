//! `cargo xtask dev` against moto: code swapped into a personal stack without
//! CloudFormation, the drift it leaves shown by `diff`, put back by `deploy`; shared,
//! staging and prod stacks refused; and only release builds promoted or deployed to staging.

#[allow(dead_code)]
#[path = "deploy/support.rs"]
mod support;

use support::{Cleanup, aws, owner, xtask};

fn code_sha(function: &str) -> String {
    aws(&["lambda", "get-function", "--function-name", function])["Configuration"]["CodeSha256"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn dev_swaps_code_in_diff_shows_the_drift_and_deploy_puts_the_declared_code_back() {
    let owner = owner();
    let _cleanup = Cleanup(vec![("dev".into(), owner.clone())]);
    let function = format!("tickets-dev-{owner}-manage-tickets");
    xtask(&["deploy", "--env", "dev", "--owner", &owner], None).ok();
    let declared = code_sha(&function);

    let swapped = xtask(&["dev", "--env", "dev", "--owner", &owner, "--once"], None).ok();
    assert!(
        swapped.stderr.contains("ready in") && swapped.stderr.contains("manage-tickets (build"),
        "{}",
        swapped.text()
    );
    assert!(
        swapped.stderr.contains("upload and update"),
        "{}",
        swapped.text()
    );
    let hot = code_sha(&function);
    assert_ne!(hot, declared, "the dev build runs now");

    let again = xtask(&["dev", "--env", "dev", "--owner", &owner, "--once"], None).ok();
    assert!(
        again.stderr.contains("no code change to swap"),
        "{}",
        again.text()
    );
    assert_eq!(code_sha(&function), hot);

    let diff = xtask(&["diff", "--env", "dev", "--owner", &owner], None).ok();
    assert!(
        diff.stdout.contains("Hot-swapped code")
            && diff.stdout.contains("manage-tickets: dev build"),
        "{}",
        diff.text()
    );

    let deployed = xtask(&["deploy", "--env", "dev", "--owner", &owner], None).ok();
    assert!(
        deployed.stderr.contains("runs the declared code"),
        "{}",
        deployed.text()
    );
    assert_eq!(
        code_sha(&function),
        declared,
        "deploy puts the stack back in line"
    );
    let diff = xtask(&["diff", "--env", "dev", "--owner", &owner], None).ok();
    assert!(!diff.stdout.contains("Hot-swapped"), "{}", diff.text());
}

#[test]
fn dev_refuses_shared_staging_and_production_stacks() {
    let owner = owner();
    for (args, says) in [
        (vec!["dev", "--env", "dev", "--once"], "add --owner NAME"),
        (
            vec!["dev", "--env", "staging", "--owner", &owner, "--once"],
            "release builds",
        ),
        (
            vec!["dev", "--env", "prod", "--owner", &owner, "--once"],
            "release builds",
        ),
    ] {
        let run = xtask(&args, None);
        assert_eq!(run.code, 3, "{args:?}: {}", run.text());
        assert!(run.stderr.contains(says), "{args:?}: {}", run.text());
    }
}

#[test]
fn only_release_builds_are_promoted_or_deployed_to_staging() {
    let owner = owner();
    let _cleanup = Cleanup(vec![("dev".into(), owner.clone())]);
    let staging = xtask(
        &[
            "deploy",
            "--env",
            "staging",
            "--owner",
            &owner,
            "--profile",
            "dev",
        ],
        None,
    );
    assert_eq!(staging.code, 3, "{}", staging.text());
    assert!(
        staging.stderr.contains("takes release builds only"),
        "{}",
        staging.text()
    );

    xtask(
        &[
            "deploy",
            "--env",
            "dev",
            "--owner",
            &owner,
            "--profile",
            "dev",
        ],
        None,
    )
    .ok();
    let promoted = xtask(
        &[
            "promote", "--from", "dev", "--to", "staging", "--owner", &owner,
        ],
        None,
    );
    assert_eq!(promoted.code, 3, "{}", promoted.text());
    assert!(
        promoted.stderr.contains("is a dev build")
            && promoted.stderr.contains("release builds only"),
        "{}",
        promoted.text()
    );
    assert!(support::describe(&format!("tickets-staging-{owner}")).is_none());
}
