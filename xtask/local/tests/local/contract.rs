//! Schemathesis against the local API: generated, hostile and stateful traffic from
//! `openapi/api.yaml`, with every check on (see `openapi/schemathesis.toml` for the two
//! checks adjusted and why). No `5xx`, no response that breaks the spec.

use crate::support::{LocalApi, TokenOptions};
use std::process::Command;

/// Requests the run must make at least.
const MIN_REQUESTS: u64 = 1_000;

#[test]
fn schemathesis_finds_no_server_error_and_no_contract_breach() {
    let api = LocalApi::start("schemathesis");
    let token = api.token(
        "fuzzer",
        TokenOptions {
            admin: true,
            ..Default::default()
        },
    );
    let root = xtask_core::tools::workspace::root();
    let work = std::env::temp_dir().join(format!("tickets-schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let output = Command::new("st")
        .current_dir(&work)
        .arg("--config-file")
        .arg(root.join("openapi/schemathesis.toml"))
        .arg("run")
        .arg(root.join("openapi/api.yaml"))
        .args([
            "--url",
            &api.url,
            "--header",
            &format!("Authorization: Bearer {token}"),
        ])
        .args(["--checks", "all", "--max-examples", "150"])
        // See openapi/schemathesis.toml: the stateful phase honours only the command line.
        .args(["--exclude-checks", "ensure_resource_availability"])
        .args(["--generation-database", "none", "--no-color"])
        .output()
        .expect("schemathesis (`st`) is missing: run the tests with `cargo xtask test`");
    let _ = std::fs::remove_dir_all(&work);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // "1863 generated, 1863 passed, 12 skipped"
    let generated: u64 = stdout
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" generated, ")
                .map(|(n, _)| n.trim().parse().ok())
        })
        .flatten()
        .unwrap_or_else(|| panic!("no test-case count in schemathesis's summary:\n{stdout}"));
    assert!(
        generated >= MIN_REQUESTS,
        "only {generated} generated requests:\n{stdout}"
    );
    eprintln!("schemathesis: {generated} generated requests, all checks passed");
}
