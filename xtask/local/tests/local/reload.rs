//! `cargo xtask local` reloads on save. The test runs it over a copy of the workspace, which it
//! edits, with a target directory seeded from this one's (hard links), so that only the copy's
//! own crates compile and the other tests' sources and binaries are never touched.

use crate::support::{LocalApi, TokenOptions};
use crate::{TICKETS, create_ticket, workspace};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a reload may take on a busy CI machine.
const RELOAD: Duration = Duration::from_secs(300);
const UNKNOWN: &str = "/v1/tickets/00000000-0000-4000-8000-000000000000";
const NOT_FOUND: &str = "\"no ticket has this id\"";

/// A copy of the workspace's sources and a target directory seeded from the real one;
/// both deleted when dropped.
struct WorkspaceCopy {
    root: PathBuf,
    target: PathBuf,
}

impl WorkspaceCopy {
    fn new(name: &str) -> Self {
        let original = workspace::root();
        let base = workspace::target_dir()
            .expect("cargo's target directory")
            .join("reload-tests")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let copy = WorkspaceCopy {
            root: base.join("workspace"),
            target: base.join("target"),
        };
        for entry in [
            "Cargo.toml",
            "Cargo.lock",
            ".cargo",
            "function",
            "infra",
            "xtask",
            "openapi",
            "environments",
        ] {
            copy_tree(&original.join(entry), &copy.root.join(entry), false);
        }
        // The dependencies' dev builds, as `cargo xtask test` made them: the copy's crates
        // compile again (their paths differ), the registry's do not.
        let built = workspace::target_dir().unwrap().join("debug");
        for folder in ["deps", "build", ".fingerprint"] {
            copy_tree(
                &built.join(folder),
                &copy.target.join("debug").join(folder),
                true,
            );
        }
        copy
    }

    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.root.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
}

impl Drop for WorkspaceCopy {
    fn drop(&mut self) {
        if let Some(base) = self.root.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

/// Copies `from` to `to` (a file or a folder, skipping `target` and `.tickets`), hard-linking
/// files when `link` (and copying where that fails).
fn copy_tree(from: &Path, to: &Path, link: bool) {
    let Ok(metadata) = std::fs::symlink_metadata(from) else {
        return;
    };
    if metadata.is_dir() {
        let name = from.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !link && (name == "target" || name == ".tickets") {
            return;
        }
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            copy_tree(&entry.path(), &to.join(entry.file_name()), link);
        }
    } else if metadata.is_file() {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        if link && std::fs::hard_link(from, to).is_ok() {
            return;
        }
        std::fs::copy(from, to)
            .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
    }
}

#[test]
fn reloads_new_code_keeps_serving_through_a_failed_build_and_keeps_data_and_tokens() {
    let copy = WorkspaceCopy::new("reload");
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
    );
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
    );
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
    );
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
    );
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
