//! The dev template under review in the repository (`infra/snapshots/dev.yaml`) is the one
//! the code renders.

use crate::common::template;
use std::path::Path;

#[test]
fn dev_template_matches_the_reviewed_snapshot() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/dev.yaml");
    let rendered = template("dev").to_yaml();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &rendered).unwrap();
        return;
    }
    let reviewed = std::fs::read_to_string(&path).unwrap_or_default();
    if reviewed != rendered {
        let first_difference = reviewed
            .lines()
            .zip(rendered.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| reviewed.lines().count().min(rendered.lines().count()));
        panic!(
            "the dev template differs from infra/snapshots/dev.yaml (first at line {}):\n  snapshot: {}\n  rendered: {}\n\
             If the change is intended, update the snapshot and review its diff:\n  \
             UPDATE_SNAPSHOTS=1 cargo test -p tickets-infra --test stack snapshot\n  \
             git diff infra/snapshots/dev.yaml",
            first_difference + 1,
            reviewed
                .lines()
                .nth(first_difference)
                .unwrap_or("<end of file>"),
            rendered
                .lines()
                .nth(first_difference)
                .unwrap_or("<end of file>"),
        );
    }
}
