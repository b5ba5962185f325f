//! cfn-lint (the CloudFormation linter) finds nothing wrong with any environment's template.

use crate::common::{TempDir, environments, root, target_dir, template};
use std::path::PathBuf;
use std::process::Command;

/// cfn-lint: the command on PATH or in the test tools' environment (`python/bin` in cargo's
/// target directory), else the `cfnlint` package of the test tools' Python (`TICKETS_PYTHON`,
/// set by `cargo xtask test`, or that environment's), which has no console script when the
/// package came from the system's site-packages.
fn cfn_lint() -> Command {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let tools = target_dir().ok().map(|dir| dir.join("python/bin"));
    let script = std::env::split_paths(&path)
        .chain(tools.clone())
        .map(|dir| dir.join("cfn-lint"))
        .find(|exe| exe.is_file());
    if let Some(script) = script {
        return Command::new(script);
    }
    let pythons = std::env::var_os("TICKETS_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain(tools.map(|dir| dir.join("python")));
    for python in pythons.filter(|p| p.is_file()) {
        let has_cfnlint = Command::new(&python)
            .args(["-c", "import cfnlint.runner"])
            .output()
            .is_ok_and(|o| o.status.success());
        if has_cfnlint {
            let mut command = Command::new(python);
            command.args([
                "-c",
                "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())",
            ]);
            return command;
        }
    }
    panic!(
        "cfn-lint is not installed, and these tests need it: run `cargo xtask test` \
         (installs it into cargo's target directory) or `pip install cfn-lint==1.51.0`"
    )
}

#[test]
fn reports_no_error_or_warning_for_any_environment() {
    let dir = TempDir::new("cfn-lint");
    let mut files = Vec::new();
    let mut regions = Vec::new();
    for environment in environments() {
        let template = template(&environment);
        // Both renderings: CloudFormation reads either.
        files.push(dir.write(&format!("{environment}.yaml"), &template.to_yaml()));
        files.push(dir.write(&format!("{environment}.json"), &template.to_json()));
        let region = tickets_infra::Environment::load(&root(), &environment)
            .unwrap()
            .region
            .as_str()
            .to_owned();
        if !regions.contains(&region) {
            regions.push(region);
        }
    }
    // One run for every file: cfn-lint spends most of its time loading its schemas.
    let output = cfn_lint()
        .args(["--format", "parseable", "--regions"])
        .args(&regions)
        .arg("--")
        .args(&files)
        .output()
        .expect("running cfn-lint");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let findings: Vec<&str> = stdout
        .lines()
        .filter(|line| {
            // file:line:col:line:col:RULE:message
            let rule = line.split(':').nth(5).unwrap_or_default();
            rule.starts_with('E') || rule.starts_with('W')
        })
        .collect();
    // Exit code bits: 2 errors, 4 warnings, 8 informational; anything else is a crash.
    let code = output.status.code().unwrap_or(-1);
    assert!(
        findings.is_empty() && (code == 0 || code == 8),
        "cfn-lint exited with {code}:\n{}\n{stdout}{}",
        findings.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
}
