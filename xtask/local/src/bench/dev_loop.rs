//! The developer loop: save → the new code answering from `cargo xtask local`, save → the
//! new code live on a personal stack in moto (`cargo xtask dev`), and, with `--first-run`,
//! a fresh clone → the first answer from `cargo xtask local`. The saves go to a scratch copy
//! of the workspace ([`WorkspaceCopy`]), never to the developer's own sources.

use super::report::Check;
use super::stats::Summary;
use super::tooling;
use anyhow::{Context, Result, bail};
use http::Method;
use serde::Serialize;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, Command};
use xtask_core::tools::cargo::cargo;
use xtask_core::tools::http_client::HttpClient;
use xtask_core::tools::moto::MotoServer;
use xtask_core::tools::python;
use xtask_core::tools::workspace::target_dir;
use xtask_core::tools::workspace_copy::WorkspaceCopy;

/// The targets, s.
pub mod target {
    /// Save → new code answering locally, p50.
    pub const LOCAL_SAVE_S: f64 = 5.0;
    /// Save → new code live on a personal stack (moto), p50.
    pub const CLOUD_SAVE_S: f64 = 10.0;
    /// Fresh clone → first local answer.
    pub const FIRST_RUN_S: f64 = 240.0;
}

/// The file each save edits, and the message the edit changes.
const FILE: &str = "function/src/problem.rs";
const MESSAGE: &str = "no ticket has this id";
/// A ticket that does not exist: its 404 carries the message.
const UNKNOWN: &str = "/v1/tickets/00000000-0000-4000-8000-000000000000";
/// The most one save may take before the run counts as failed.
const SAVE_LIMIT: Duration = Duration::from_secs(300);
/// The most the first start may take (a fresh clone compiles everything).
const START_LIMIT: Duration = Duration::from_secs(1800);
/// The personal stack the cloud loop swaps code into.
const OWNER: &str = "bench-loop";

/// One timing of the loop, or why it was not measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum Timing {
    /// Measured, s.
    Measured {
        /// The samples' summary, s.
        seconds: Summary,
    },
    /// Not measured.
    Skipped {
        /// Why.
        reason: String,
    },
}

impl Timing {
    fn of(result: Result<Vec<Duration>>) -> Self {
        match result {
            Ok(samples) => Timing::Measured {
                seconds: Summary::of_values(samples.iter().map(Duration::as_secs_f64).collect()),
            },
            Err(err) => Timing::Skipped {
                reason: format!("{err:#}"),
            },
        }
    }

    fn p50(&self) -> Option<f64> {
        match self {
            Timing::Measured { seconds } => Some(seconds.p50),
            Timing::Skipped { .. } => None,
        }
    }

    fn shown(&self) -> String {
        match self {
            Timing::Measured { seconds } if seconds.n == 1 => format!("{:.1} s", seconds.p50),
            Timing::Measured { seconds } => format!(
                "{:.1} / {:.1} s ({} saves)",
                seconds.p50, seconds.max, seconds.n
            ),
            Timing::Skipped { .. } => "not measured".into(),
        }
    }
}

/// The developer loop's three timings.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DevLoop {
    /// Save → new code answering from `cargo xtask local`.
    pub local_save: Timing,
    /// Save → new code live on a personal stack in moto.
    pub cloud_save: Timing,
    /// Fresh clone → first answer from `cargo xtask local`.
    pub first_run: Timing,
}

/// What to measure.
pub struct Plan {
    /// Saves per loop.
    pub saves: usize,
    /// Whether to measure the cloud loop (needs Python for moto).
    pub cloud: bool,
    /// Whether to measure a fresh clone's first run (minutes).
    pub first_run: bool,
}

/// Measures the loops `plan` asks for; a loop that cannot run says why.
pub async fn measure(root: &Path, plan: &Plan) -> DevLoop {
    let copy = WorkspaceCopy::new("bench-loop");
    let (local_save, cloud_save) = match &copy {
        Ok(copy) => {
            let mut editor = Editor::new(copy);
            eprintln!("xtask: bench: save → local answer, {} saves", plan.saves);
            let local = Timing::of(local_saves(&mut editor, plan.saves).await);
            let cloud = if plan.cloud {
                eprintln!(
                    "xtask: bench: save → live on a personal stack in moto, {} saves",
                    plan.saves
                );
                Timing::of(cloud_saves(root, &mut editor, plan.saves).await)
            } else {
                Timing::of(Err(anyhow::anyhow!("--skip-deploy")))
            };
            (local, cloud)
        }
        Err(err) => {
            let reason = format!("no scratch copy of the workspace: {err:#}");
            (
                Timing::of(Err(anyhow::anyhow!(reason.clone()))),
                Timing::of(Err(anyhow::anyhow!(reason))),
            )
        }
    };
    drop(copy);
    let first_run = if plan.first_run {
        eprintln!("xtask: bench: fresh clone → first local answer (compiles everything)");
        Timing::of(first_run(root).await.map(|took| vec![took]))
    } else {
        Timing::of(Err(anyhow::anyhow!("not asked for (--first-run)")))
    };
    DevLoop {
        local_save,
        cloud_save,
        first_run,
    }
}

impl DevLoop {
    /// Nothing measured, for `reason`.
    pub fn skipped(reason: &str) -> Self {
        let timing = || Timing::Skipped {
            reason: reason.to_owned(),
        };
        DevLoop {
            local_save: timing(),
            cloud_save: timing(),
            first_run: timing(),
        }
    }

    /// The table's rows.
    pub fn rows(&self) -> Vec<[String; 5]> {
        let row = |name: &str, timing: &Timing, limit: f64, met: Option<bool>| {
            [
                name.to_owned(),
                timing.shown(),
                format!("≤ {limit} s (p50)"),
                match met {
                    Some(true) => "✓",
                    Some(false) => "✗",
                    None => "–",
                }
                .to_owned(),
                String::new(),
            ]
        };
        let checks = self.checks();
        vec![
            row(
                "Save → new code answering locally: p50 / max",
                &self.local_save,
                target::LOCAL_SAVE_S,
                checks[0].met,
            ),
            row(
                "Save → new code live on a personal stack (moto): p50 / max",
                &self.cloud_save,
                target::CLOUD_SAVE_S,
                checks[1].met,
            ),
            row(
                "Fresh clone → first local answer",
                &self.first_run,
                target::FIRST_RUN_S,
                checks[2].met,
            ),
        ]
    }

    /// The targets and how each went.
    pub fn checks(&self) -> Vec<Check> {
        let check = |name: &str, timing: &Timing, limit: f64| Check {
            name: name.to_owned(),
            value: timing.p50(),
            limit,
            unit: "s",
            met: timing.p50().map(|v| v <= limit),
        };
        vec![
            check(
                "save → local answer",
                &self.local_save,
                target::LOCAL_SAVE_S,
            ),
            check(
                "save → live in moto",
                &self.cloud_save,
                target::CLOUD_SAVE_S,
            ),
            check(
                "fresh clone → first local answer",
                &self.first_run,
                target::FIRST_RUN_S,
            ),
        ]
    }

    /// Why each loop that was not measured was not.
    pub fn reasons(&self) -> Vec<(&'static str, &str)> {
        [
            ("Save → local answer", &self.local_save),
            ("Save → live in moto", &self.cloud_save),
            ("Fresh clone → first local answer", &self.first_run),
        ]
        .into_iter()
        .filter_map(|(name, timing)| match timing {
            Timing::Skipped { reason } => Some((name, reason.as_str())),
            Timing::Measured { .. } => None,
        })
        .collect()
    }
}

/// Saves into the copy: each changes the 404's message to one not seen before.
struct Editor<'a> {
    copy: &'a WorkspaceCopy,
    current: String,
    saves: usize,
}

impl<'a> Editor<'a> {
    fn new(copy: &'a WorkspaceCopy) -> Self {
        Editor {
            copy,
            current: MESSAGE.to_owned(),
            saves: 0,
        }
    }

    /// Saves a new message; returns it.
    fn save(&mut self) -> Result<String> {
        self.saves += 1;
        let next = format!("{MESSAGE} (save {})", self.saves);
        self.copy.edit(
            FILE,
            &format!("\"{}\"", self.current),
            &format!("\"{next}\""),
        )?;
        self.current = next.clone();
        Ok(next)
    }
}

/// `cargo xtask local` over the copy; each save is timed until an answer carries the new
/// message.
async fn local_saves(editor: &mut Editor<'_>, saves: usize) -> Result<Vec<Duration>> {
    let copy = editor.copy;
    let mut local = Command::new(std::env::current_exe()?);
    local
        .args(["local", "--port", "0", "--fresh", "--function-logs", "off"])
        .arg("--workspace")
        .arg(&copy.root)
        .arg("--state-dir")
        .arg(copy.root.join(".tickets").join("local"))
        .env("CARGO_TARGET_DIR", &copy.target)
        .env("TICKETS_TARGET_DIR", &copy.target);
    let running = Local::start(local, SAVE_LIMIT).await?;
    let client = HttpClient::new()?;
    let mut samples = Vec::new();
    for save in 1..=saves {
        let next = editor.save()?;
        let saved = Instant::now();
        loop {
            let reply = client
                .send(
                    Method::GET,
                    &format!("{}{UNKNOWN}", running.url),
                    &[("Authorization", &running.token)],
                    None,
                )
                .await?;
            if reply.text().contains(&next) {
                break;
            }
            if saved.elapsed() > SAVE_LIMIT {
                bail!("save {save} did not answer within {SAVE_LIMIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        samples.push(saved.elapsed());
    }
    running.stop().await;
    Ok(samples)
}

/// A running `cargo xtask local`: its URL and the token its banner shows.
struct Local {
    child: Child,
    url: String,
    token: String,
}

impl Local {
    /// Starts `command` and reads its banner (at most `limit`).
    async fn start(mut command: Command, limit: Duration) -> Result<Self> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting xtask local")?;
        let mut lines = BufReader::new(child.stdout.take().context("no stdout")?).lines();
        let (mut url, mut token) = (None, None);
        let read = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(found) = line.strip_prefix("Local API: ") {
                    url = Some(found.to_owned());
                }
                if let Some((_, rest)) = line.split_once("Authorization: ") {
                    token = rest.split('"').next().map(str::to_owned);
                }
                if line.contains("Ctrl-C stops") {
                    return Ok(());
                }
            }
            bail!("xtask local stopped before it served")
        };
        tokio::time::timeout(limit, read)
            .await
            .with_context(|| format!("xtask local did not serve within {limit:?}"))??;
        // Keep reading, so that the request lines never block it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Local {
            child,
            url: url.context("the banner had no URL")?,
            token: token.context("the banner had no token")?,
        })
    }

    /// Stops it as Ctrl-C would, so that it stops its functions too.
    async fn stop(mut self) {
        interrupt(&self.child, "-TERM").await;
        let _ = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await;
    }
}

/// Sends `signal` (`-TERM`, `-INT`) to `child`.
async fn interrupt(child: &Child, signal: &str) {
    if let Some(pid) = child.id() {
        let _ = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .await;
    }
}

/// `cargo xtask dev` on a personal stack in a fresh moto server, over the copy; each save
/// is timed until `dev` reports the code live (`UpdateFunctionCode` done and successful).
async fn cloud_saves(root: &Path, editor: &mut Editor<'_>, saves: usize) -> Result<Vec<Duration>> {
    let tools = python::ensure(root).context("no Python tools for moto")?;
    let moto = MotoServer::start(&tools.python).context("moto did not start")?;
    let target = ["--env", "dev", "--owner", OWNER];
    tooling::xtask(root, &moto.endpoint, &["bootstrap", "--env", "dev"])?;
    tooling::xtask(
        root,
        &moto.endpoint,
        &[&["deploy", "--yes", "--profile", "dev"], &target[..]].concat(),
    )?;
    let result = swap_saves(editor, &moto.endpoint, &target, saves).await;
    let destroy = [&["destroy", "--yes", "--force"], &target[..]].concat();
    if let Err(err) = tooling::xtask(root, &moto.endpoint, &destroy) {
        eprintln!("xtask: bench: destroying the bench stack in moto failed: {err:#}");
    }
    result
}

async fn swap_saves(
    editor: &mut Editor<'_>,
    endpoint: &str,
    target: &[&str],
    saves: usize,
) -> Result<Vec<Duration>> {
    let copy = editor.copy;
    let mut command = Command::from(tooling::cloud_command(endpoint)?);
    command
        .arg("dev")
        .args(target)
        .arg("--no-logs")
        .arg("--workspace")
        .arg(&copy.root)
        .env("CARGO_TARGET_DIR", &copy.target)
        .env("TICKETS_TARGET_DIR", &copy.target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut dev = command.spawn().context("starting xtask dev")?;
    let mut lines = BufReader::new(dev.stderr.take().context("no stderr")?).lines();
    // The copy's first build differs from the deployed one (its paths do): swapped first.
    until(&mut lines, "xtask: watching", SAVE_LIMIT).await?;
    let mut samples = Vec::new();
    for save in 1..=saves {
        editor.save()?;
        let saved = Instant::now();
        until(&mut lines, "xtask: ready in", SAVE_LIMIT)
            .await
            .with_context(|| format!("save {save}"))?;
        samples.push(saved.elapsed());
    }
    interrupt(&dev, "-INT").await;
    let _ = tokio::time::timeout(Duration::from_secs(20), dev.wait()).await;
    Ok(samples)
}

/// Reads `lines` until one starts with `prefix` (at most `limit`); an error line fails it.
async fn until(
    lines: &mut Lines<BufReader<ChildStderr>>,
    prefix: &str,
    limit: Duration,
) -> Result<()> {
    let read = async {
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line().await? {
            if line.starts_with(prefix) {
                return Ok(());
            }
            if line.starts_with("xtask: error") || line.starts_with("error") {
                seen.push(line);
                bail!("xtask dev failed:\n{}", seen.join("\n"));
            }
            seen.push(line);
        }
        bail!("xtask dev stopped:\n{}", seen.join("\n"))
    };
    tokio::time::timeout(limit, read)
        .await
        .with_context(|| format!("no {prefix:?} within {limit:?}"))?
}

/// `git clone` of the workspace's HEAD into a fresh folder with an empty target directory,
/// then `cargo xtask local` there, timed until its first answer. Crates already downloaded
/// to cargo's registry are not downloaded again; uncommitted changes are not in the clone.
async fn first_run(root: &Path) -> Result<Duration> {
    let base = target_dir()?
        .join("scratch")
        .join(format!("first-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let clone = base.join("tickets");
    let status = Command::new("git")
        .arg("clone")
        .arg("--quiet")
        .arg(root)
        .arg(&clone)
        .status()
        .await
        .context("running git")?;
    if !status.success() {
        bail!("git clone of {} failed", root.display());
    }
    let started = Instant::now();
    let mut local = Command::from(cargo());
    local
        .current_dir(&clone)
        .args([
            "xtask",
            "local",
            "--port",
            "0",
            "--no-watch",
            "--function-logs",
            "off",
        ])
        .env("CARGO_TARGET_DIR", base.join("target"))
        .env_remove("TICKETS_TARGET_DIR");
    let result = async {
        let running = Local::start(local, START_LIMIT).await?;
        let reply = HttpClient::new()?
            .send(
                Method::GET,
                &format!("{}/v1/tickets", running.url),
                &[("Authorization", &running.token)],
                None,
            )
            .await?;
        let took = started.elapsed();
        if !reply.status.is_success() {
            bail!("the first answer was {}: {}", reply.status, reply.text());
        }
        running.stop().await;
        Ok(took)
    }
    .await;
    let _ = std::fs::remove_dir_all(&base);
    result
}
