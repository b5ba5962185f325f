//! `smoke` against a deployed stack as real DynamoDB and production behave: a status
//! listing that shows a new ticket only after its index caught up, and production data
//! that a smoke run must not write to by default.
//!
//! moto creates no user pool from a template (and runs no API Gateway or Lambda), so the
//! "deployed stack" here is what `smoke` reads of one: a user pool with its client and
//! admins group in moto, its outputs file, and an API that answers like the function
//! ([`FakeApi`]).

use crate::fake_api::FakeApi;
use crate::support::{Run, Xtask, aws, moto, owner};
use serde_json::json;
use xtask_core::tools::workspace::state_dir;

/// A stack's user pool and outputs file, removed when dropped.
struct DeployedPool {
    id: String,
    outputs: std::path::PathBuf,
}

impl DeployedPool {
    /// What `deploy --env <env> --owner <owner>` leaves for `smoke`, with the API at `api`.
    fn new(env: &str, owner: &str, api: &FakeApi) -> DeployedPool {
        let stack = format!("tickets-{env}-{owner}");
        let pool = aws(&[
            "cognito-idp",
            "create-user-pool",
            "--pool-name",
            &format!("{stack}-users"),
        ]);
        let id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
        let client = aws(&[
            "cognito-idp",
            "create-user-pool-client",
            "--user-pool-id",
            &id,
            "--client-name",
            "api",
            "--explicit-auth-flows",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ]);
        aws(&[
            "cognito-idp",
            "create-group",
            "--user-pool-id",
            &id,
            "--group-name",
            tickets_manifest::ADMIN_GROUP,
        ]);
        let outputs = state_dir().join("stacks").join(format!("{stack}.json"));
        std::fs::create_dir_all(outputs.parent().unwrap()).unwrap();
        let values = json!({
            "ApiUrl": api.url,
            "UserPoolId": id,
            "UserPoolClientId": client["UserPoolClient"]["ClientId"],
        });
        std::fs::write(&outputs, values.to_string()).unwrap();
        DeployedPool { id, outputs }
    }

    /// The pool's users.
    fn users(&self) -> serde_json::Value {
        aws(&["cognito-idp", "list-users", "--user-pool-id", &self.id])["Users"].clone()
    }
}

impl Drop for DeployedPool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.outputs);
        let _ = crate::support::try_aws(&[
            "cognito-idp",
            "delete-user-pool",
            "--user-pool-id",
            &self.id,
        ]);
    }
}

/// `smoke --env <env> --owner <owner>` against moto.
fn smoke(env: &str, owner: &str, extra: &[&str]) -> Run {
    let mut args = vec!["smoke", "--env", env, "--owner", owner];
    args.extend_from_slice(extra);
    Xtask::new(&moto(), &args).run()
}

#[test]
fn smoke_waits_within_a_bound_for_the_status_index_to_show_a_new_ticket() {
    let owner = owner();
    // The first three listings after the create miss it, as a lagging index does.
    let api = FakeApi::start("dev", 3);
    let _pool = DeployedPool::new("dev", &owner, &api);
    smoke("dev", &owner, &[])
        .ok()
        .says(&["✓ list with status filter", "all steps passed"]);
}

#[test]
fn smoke_in_prod_reads_only_unless_asked_to_write() {
    let owner = owner();
    let api = FakeApi::start("prod", 0);
    let pool = DeployedPool::new("prod", &owner, &api);
    smoke("prod", &owner, &[])
        .ok()
        .says(&["read-only", "all steps passed"]);
    assert_eq!(api.writes(), 0, "the prod smoke test wrote to the API");
    assert!(api.requests() > 0, "the prod smoke test checked nothing");
    assert_eq!(pool.users(), json!([]), "a user was created in prod's pool");
    let all = smoke("prod", &owner, &["--write"]).ok();
    assert!(
        api.writes() > 0,
        "--write did not run the whole scenario:\n{}",
        all.text()
    );
}

#[test]
fn token_reads_outputs_again_when_the_recorded_pool_is_gone() {
    let owner = owner();
    let stack = format!("tickets-dev-{owner}");
    let api = FakeApi::start("dev", 0);
    let pool = DeployedPool::new("dev", &owner, &api);
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&pool.outputs).unwrap()).unwrap();
    // The stack was re-created elsewhere: CloudFormation has the new pool, the outputs
    // recorded on this machine still name one that is gone.
    let outputs = json!({
        "UserPoolId": {"Value": recorded["UserPoolId"]},
        "UserPoolClientId": {"Value": recorded["UserPoolClientId"]},
    });
    let template = json!({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": outputs,
    });
    aws(&[
        "cloudformation",
        "create-stack",
        "--stack-name",
        &stack,
        "--template-body",
        &template.to_string(),
    ]);
    let mut stale = recorded.clone();
    stale["UserPoolId"] = json!("us-east-1_gone00000");
    std::fs::write(&pool.outputs, stale.to_string()).unwrap();

    let run = Xtask::new(
        &moto(),
        &[
            "token", "--env", "dev", "--owner", &owner, "--user", "alice",
        ],
    )
    .run();
    let _ = crate::support::try_aws(&["cloudformation", "delete-stack", "--stack-name", &stack]);
    let run = run.ok().says(&["us-east-1_gone00000", "no longer exists"]);
    assert_eq!(
        run.stdout.trim().split('.').count(),
        3,
        "not a JWT: {}",
        run.stdout
    );
    let refreshed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&pool.outputs).unwrap()).unwrap();
    assert_eq!(refreshed["UserPoolId"], recorded["UserPoolId"]);
}
