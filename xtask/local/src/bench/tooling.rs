//! How fast the tooling is: `synth` of every environment in one process, and a `deploy`
//! with nothing to change, run as the real `xtask` binary against a moto server.

use super::stats::Summary;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use xtask_core::tools::moto::MotoServer;
use xtask_core::tools::python;

/// `synth` of every environment.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SynthTimes {
    /// The environments, in order.
    pub environments: Vec<String>,
    /// The first round (cold caches), ms.
    pub first_ms: f64,
    /// Every round: load, build and render to JSON all environments, ms.
    pub total_ms: Summary,
}

/// Times `rounds` rounds of synthesizing and rendering every `environments/*.yaml`.
pub fn synth(root: &Path, rounds: usize) -> Result<SynthTimes> {
    let mut environments: Vec<String> = std::fs::read_dir(root.join("environments"))
        .context("listing environments/")?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".yaml").map(str::to_owned)
        })
        .collect();
    environments.sort();
    let mut totals = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        for env in &environments {
            let template = tickets_infra::synth(root, env)
                .with_context(|| format!("synthesizing environment {env}"))?;
            std::hint::black_box(template.to_json());
        }
        totals.push(started.elapsed());
    }
    Ok(SynthTimes {
        environments,
        first_ms: totals[0].as_secs_f64() * 1000.0,
        total_ms: Summary::of(&totals),
    })
}

/// The environment and owner of the stack the deploy timing uses.
pub const DEPLOY_ENV: &str = "dev";
/// See [`DEPLOY_ENV`].
pub const DEPLOY_OWNER: &str = "bench";

/// No-op deploys timed after the first one.
pub const NOOP_RUNS: usize = 3;

/// A deploy with nothing to change, or why it was not measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum DeployTime {
    /// Measured.
    #[serde(rename_all = "camelCase")]
    Measured {
        /// The first deploy, which creates the stack, s.
        first_seconds: f64,
        /// The median of the no-op deploys: the whole `xtask deploy` process, s.
        noop_seconds: f64,
        /// Each no-op deploy, s.
        noop_runs: Vec<f64>,
        /// The part of the median run spent checking that `bootstrap` is up to date (cargo
        /// and the zip), s, as `deploy` reports it.
        build_check_seconds: Option<f64>,
        /// Whether every run said `no changes` (otherwise they were not no-ops).
        unchanged: bool,
    },
    /// Not measured.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// Deploys `tickets-dev-bench` to a fresh moto server, times [`NOOP_RUNS`] more deploys of
/// the same thing and destroys the stack. Without Python (or moto) it says so instead of failing.
pub fn noop_deploy(root: &Path) -> DeployTime {
    let tools = match python::ensure(root) {
        Ok(tools) => tools,
        Err(err) => {
            return DeployTime::Skipped {
                reason: format!("no Python tools for moto: {err:#}"),
            };
        }
    };
    let moto = match MotoServer::start(&tools.python) {
        Ok(moto) => moto,
        Err(err) => {
            return DeployTime::Skipped {
                reason: format!("moto did not start: {err:#}"),
            };
        }
    };
    match deploy_and_repeat(root, &moto.endpoint) {
        Ok(time) => time,
        Err(err) => DeployTime::Skipped {
            reason: format!("{err:#}"),
        },
    }
}

fn deploy_and_repeat(root: &Path, endpoint: &str) -> Result<DeployTime> {
    let target = ["--env", DEPLOY_ENV, "--owner", DEPLOY_OWNER];
    let deploy = [&["deploy", "--yes"], &target[..]].concat();
    // A fresh moto account is a fresh AWS account: API Gateway needs its logging role first.
    xtask(root, endpoint, &[&["bootstrap"], &target[..2]].concat())?;
    let (first, text) = xtask(root, endpoint, &deploy)?;
    if !text.contains("created") {
        bail!("the first deploy did not create the stack:\n{text}");
    }
    let mut runs = Vec::new();
    let mut unchanged = true;
    for _ in 0..NOOP_RUNS {
        let (took, text) = xtask(root, endpoint, &deploy)?;
        unchanged &= text.contains("no changes");
        runs.push((took.as_secs_f64(), build_time(&text)));
    }
    let destroy = [&["destroy", "--yes", "--force"], &target[..]].concat();
    if let Err(err) = xtask(root, endpoint, &destroy) {
        eprintln!("xtask: bench: destroying the bench stack in moto failed: {err:#}");
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (noop_seconds, build_check_seconds) = runs[runs.len() / 2];
    Ok(DeployTime::Measured {
        first_seconds: first.as_secs_f64(),
        noop_seconds,
        noop_runs: runs.iter().map(|r| r.0).collect(),
        build_check_seconds,
        unchanged,
    })
}

/// The build time `deploy` prints (`xtask: built and packed manage-tickets in 412.3ms`,
/// one line per function), in seconds, all functions together.
fn build_time(output: &str) -> Option<f64> {
    let times: Vec<f64> = output
        .lines()
        .filter_map(|l| l.strip_prefix("xtask: built and packed "))
        .filter_map(|l| l.rsplit_once(" in ").map(|(_, time)| time))
        .map(|time| {
            let time = time.trim();
            let split = time.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
            let (number, unit) = time.split_at(split);
            let number: f64 = number.parse().ok()?;
            match unit {
                "s" => Some(number),
                "ms" => Some(number / 1e3),
                "µs" => Some(number / 1e6),
                _ => None,
            }
        })
        .collect::<Option<Vec<f64>>>()?;
    (!times.is_empty()).then(|| times.iter().sum())
}

/// The cloud tools' binary (what `cargo xtask deploy` runs, without cargo's own start-up),
/// pointed at moto at `endpoint` with dummy credentials.
pub fn cloud_command(endpoint: &str) -> Result<Command> {
    let exe = xtask_core::tools::binary::dev_binary("xtask-cloud")?;
    let mut command = Command::new(exe);
    command
        // Dummy credentials and no profile: nothing here may ever reach a real account.
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_PROFILE");
    Ok(command)
}

/// Runs the cloud tools' binary with `args` against moto; returns its wall time and its
/// output.
pub fn xtask(root: &Path, endpoint: &str, args: &[&str]) -> Result<(Duration, String)> {
    let mut command = cloud_command(endpoint)?;
    let started = Instant::now();
    let output = command
        .current_dir(root)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running xtask")?;
    let took = started.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        bail!(
            "xtask {} failed ({}):\n{text}",
            args.join(" "),
            output.status
        );
    }
    Ok((took, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_build_time_deploy_prints() {
        let output = "xtask: building bootstrap (x86_64, release)\nxtask: built and packed manage-tickets in 412.5ms\nxtask: built and packed ticket-events in 100ms\n";
        assert!((build_time(output).unwrap() - 0.5125).abs() < 1e-9);
        assert_eq!(build_time("xtask: built and packed x in 1.5s"), Some(1.5));
        assert_eq!(build_time("nothing built"), None);
    }
}
