//! Helpers shared by the stack tests.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use tickets_infra::Template;

// The rule for where things are (the root, cargo's target directory) is written once, in
// xtask, and shared by path so that these tests find things exactly as `cargo xtask` does.
#[allow(dead_code)]
#[path = "../../../xtask/core/src/tools/workspace.rs"]
mod workspace;

pub use workspace::{root, target_dir};

/// Every environment with a file in `environments/`, sorted.
pub fn environments() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("environments"))
        .expect("environments/ exists")
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| name.strip_suffix(".yaml").map(str::to_owned))
        .collect();
    names.sort();
    for expected in ["dev", "local", "prod", "staging"] {
        assert!(
            names.iter().any(|n| n == expected),
            "environments/{expected}.yaml is missing"
        );
    }
    names
}

/// The template of `environment`, built from the repository's file.
pub fn template(environment: &str) -> Template {
    tickets_infra::synth(&root(), environment)
        .unwrap_or_else(|error| panic!("synthesizing {environment}: {error}"))
}

/// The template of `environment` as a JSON value, for inspecting or breaking it.
pub fn json(environment: &str) -> serde_json::Value {
    serde_json::from_str(&template(environment).to_json()).unwrap()
}

/// A directory under the system's temporary directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory whose name starts with `label`.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tickets-infra-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// Writes `contents` to `name` in the directory and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
