//! `cargo xtask local` reloads on save. The test runs it over a scratch copy of the workspace,
//! which it edits, so that the other tests' sources and binaries are never touched.

use crate::support::{LocalApi, TokenOptions};
use crate::{TICKETS, create_ticket};
use std::time::Duration;
use xtask_core::tools::workspace_copy::WorkspaceCopy;

/// What a reload may take on a busy CI machine.
const RELOAD: Duration = Duration::from_secs(300);
const UNKNOWN: &str = "/v1/tickets/00000000-0000-4000-8000-000000000000";
const NOT_FOUND: &str = "\"no ticket has this id\"";

#[test]
fn reloads_new_code_keeps_serving_through_a_failed_build_and_keeps_data_and_tokens() {
    let copy = WorkspaceCopy::new("reload-test").unwrap();
    let api = LocalApi::start_watching("reload", &copy.root, &copy.target, RELOAD * 2);
    assert!(
        api.banner
            .iter()
            .any(|line| line.contains("Reloads on save")),
        "{:?}",
        api.banner
    );
    let token = api.token("alice", TokenOptions::default());
    let auth = [("Authorization", token.as_str())];
    let id = create_ticket(&api, &token, "made before the reloads");
    let before = api.request("GET", UNKNOWN, &auth, None);
    assert_eq!(before.status, 404);
    assert!(before.body.contains(NOT_FOUND), "{}", before.body);

    // New code answers.
    copy.edit(
        "function/src/problem.rs",
        NOT_FOUND,
        "\"no ticket has this id (new code)\"",
    )
    .unwrap();
    let printed = api.wait_for_lines("reloaded in", 1, RELOAD);
    assert!(printed.contains("new code"), "{printed}");
    let reloaded = api.request("GET", UNKNOWN, &auth, None);
    assert!(reloaded.body.contains("(new code)"), "{}", reloaded.body);

    // Data and tokens survive the swap.
    let kept = api.request("GET", &format!("{TICKETS}/{id}"), &auth, None);
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_eq!(kept.json()["title"], "made before the reloads");

    // A failed build keeps the last good code serving.
    copy.edit(
        "function/src/problem.rs",
        "\"no ticket has this id (new code)\"",
        "\"no ticket has this id (broken)\" +",
    )
    .unwrap();
    let printed = api.wait_for_lines("reload failed", 1, RELOAD);
    assert!(
        printed.contains("build of manage-tickets failed"),
        "{printed}"
    );
    let still = api.request("GET", UNKNOWN, &auth, None);
    assert!(still.body.contains("(new code)"), "{}", still.body);

    copy.edit(
        "function/src/problem.rs",
        "\"no ticket has this id (broken)\" +",
        "\"no ticket has this id (fixed)\"",
    )
    .unwrap();
    api.wait_for_lines("reloaded in", 2, RELOAD);
    let fixed = api.request("GET", UNKNOWN, &auth, None);
    assert!(fixed.body.contains("(fixed)"), "{}", fixed.body);

    // The environment's settings reach the gateway and the function's variables.
    let other = [auth[0], ("Origin", "https://other.example")];
    let open = api.request("GET", TICKETS, &other, None);
    assert!(open.header("access-control-allow-origin").is_some());
    copy.edit(
        "environments/local.yaml",
        "  - \"*\"",
        "  - \"https://app.example.com\"",
    )
    .unwrap();
    let printed = api.wait_for_lines("reloaded in", 3, RELOAD);
    assert!(printed.contains("new template"), "{printed}");
    let closed = api.request("GET", TICKETS, &other, None);
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(
        closed.header("access-control-allow-origin"),
        None,
        "{:?}",
        closed.headers
    );
    assert_eq!(
        api.request("GET", &format!("{TICKETS}/{id}"), &auth, None)
            .status,
        200
    );
    api.stop();
}
