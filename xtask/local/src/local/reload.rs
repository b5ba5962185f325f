//! What `cargo xtask local` does on save: a change under `function/` rebuilds the functions
//! with the dev profile and swaps their instances; a change to `infra/`, the manifest or
//! `environments/local.yaml` re-synthesizes the template and reloads routes, authorizer and
//! variables. The listener, the signing key (so tokens stay valid) and the data stay. A
//! build, synth or start that fails leaves what was serving in place.

use super::{ENV, Setup, warm};
use crate::emulator::functions::Functions;
use crate::emulator::gateway::api::Api;
use crate::emulator::instance_pool::Pool;
use crate::emulator::template::LocalTemplate;
use crate::event_path::EventPath;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tickets_manifest::functions::{Function, TICKET_EVENTS, TICKETS_API};
use tokio::sync::watch;
use xtask_core::lambda::arch::Arch;
use xtask_core::lambda::artifact;
use xtask_core::lambda::profile::Profile;
use xtask_core::tools::cargo::run_tool;
use xtask_core::tools::source_watch::{self, Snapshot};

/// The functions' binaries serving now.
pub(crate) struct Binaries {
    /// The API's `bootstrap`.
    pub api: PathBuf,
    /// The event enrichment's.
    pub enrichment: PathBuf,
}

/// The running local stack, as far as a reload replaces it.
pub(crate) struct Live {
    /// The workspace built and watched.
    pub workspace: PathBuf,
    /// The instruction set the functions are built for (this machine's).
    pub arch: Arch,
    /// What starts functions and the event path.
    pub setup: Setup,
    /// The local issuer's keys, which every API version trusts.
    pub jwks: Value,
    /// The template serving now.
    pub template: LocalTemplate,
    /// The API serving now; the server reads the latest for each request.
    pub api: watch::Sender<Arc<Api>>,
    /// The functions' pools.
    pub functions: Arc<Functions>,
    /// The event path, when the template has one.
    pub events: Option<EventPath>,
    /// The binaries serving now.
    pub binaries: Binaries,
}

/// What a set of saved files asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Change {
    /// The functions' code (or the lock file) changed: rebuild them.
    code: bool,
    /// How the template must be rendered again, if at all.
    template: Option<TemplateSource>,
}

/// What changed in the template's sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TemplateSource {
    /// Only `environments/local.yaml`: this process renders it.
    Environment,
    /// Infra's code or the manifest: only a rebuilt `synth` knows the new template.
    Code,
}

/// The folders and files watched, by what a change to them means.
struct Roots {
    code: Vec<PathBuf>,
    infra: Vec<PathBuf>,
    environment: PathBuf,
}

impl Roots {
    fn of(workspace: &Path) -> Self {
        Roots {
            code: vec![
                workspace.join("function"),
                workspace.join("Cargo.lock"),
                workspace.join("Cargo.toml"),
            ],
            infra: vec![
                workspace.join("infra"),
                workspace.join("function").join("manifest"),
            ],
            environment: workspace.join("environments").join(format!("{ENV}.yaml")),
        }
    }

    fn all(&self) -> Vec<PathBuf> {
        let mut all = self.code.clone();
        all.push(self.infra[0].clone());
        all.push(self.environment.clone());
        all
    }

    fn classify(&self, changed: &[PathBuf]) -> Change {
        let under = |roots: &[PathBuf]| {
            changed
                .iter()
                .any(|path| roots.iter().any(|root| path.starts_with(root)))
        };
        let template = if under(&self.infra) {
            Some(TemplateSource::Code)
        } else if changed.contains(&self.environment) {
            Some(TemplateSource::Environment)
        } else {
            None
        };
        Change {
            code: under(&self.code),
            template,
        }
    }
}

/// Reloads on every save, forever (the caller stops it).
pub(crate) async fn watch(live: &mut Live) -> Infallible {
    let roots = Roots::of(&live.workspace);
    let watched = roots.all();
    let mut snapshot = Snapshot::take(&watched);
    loop {
        let changed = source_watch::next_change(&watched, &mut snapshot).await;
        let change = roots.classify(&changed);
        if change == Change::default() {
            continue;
        }
        if let Err(err) = live.reload(change).await {
            println!("reload failed: {err:#}");
            println!("  the previous version keeps serving; save again to retry");
        }
    }
}

impl Live {
    /// Renders, builds and swaps what `change` asks for; prints one line when the new
    /// version serves.
    async fn reload(&mut self, change: Change) -> Result<()> {
        let started = Instant::now();
        let template = match change.template {
            None => None,
            Some(TemplateSource::Environment) => {
                Some(LocalTemplate::synthesize_in(&self.workspace, ENV)?)
            }
            Some(TemplateSource::Code) => Some(synthesize_rebuilt(&self.workspace).await?),
        };
        let mut steps = Vec::new();
        if template.is_some() {
            steps.push(format!("synth {:.1} s", started.elapsed().as_secs_f64()));
        }
        let build_started = Instant::now();
        let api_rebuilt = change.code && build(&self.workspace, TICKETS_API, self.arch).await?;
        if change.code {
            steps.push(format!(
                "build {:.1} s",
                build_started.elapsed().as_secs_f64()
            ));
        }
        if template.is_some() || api_rebuilt {
            let start_time = self.swap_api(template.as_ref()).await?;
            steps.push(format!("start {:.0} ms", start_time.as_secs_f64() * 1000.0));
            println!(
                "reloaded in {:.1} s: {} ({})",
                started.elapsed().as_secs_f64(),
                match (api_rebuilt, template.is_some()) {
                    (true, true) => "new code and template",
                    (true, false) => "new code",
                    _ => "new template",
                },
                steps.join(", ")
            );
        } else {
            println!(
                "reload: the API's binary is unchanged ({})",
                steps.join(", ")
            );
        }
        // The API serves the new template now: later steps start from it, even if one fails.
        if let Some(template) = template {
            warn_on_table_change(&self.template, &template)?;
            self.template = template;
        }
        let enrichment_rebuilt =
            change.code && build(&self.workspace, TICKET_EVENTS, self.arch).await?;
        if change.template.is_some() || enrichment_rebuilt {
            self.restart_event_path().await?;
        }
        Ok(())
    }

    /// Starts the API's functions on the current binary (and `template`, if given), and
    /// switches every new request over once they answer; returns how long they took.
    async fn swap_api(&mut self, template: Option<&LocalTemplate>) -> Result<Duration> {
        let template = template.unwrap_or(&self.template);
        let api = Arc::new(Api::from_template(template, &self.jwks)?);
        let pools = self.setup.pools(template, &api, &self.binaries.api)?;
        let fresh: Vec<Arc<Pool>> = pools.values().cloned().collect();
        let started = Instant::now();
        if let Err(err) = warm(&fresh).await {
            for pool in fresh {
                pool.shutdown().await;
            }
            return Err(err.context("the new version failed to start"));
        }
        let start_time = started.elapsed();
        let old = self.functions.replace(pools);
        self.api.send_replace(api);
        // Requests in flight finish on the old instances; idle ones stop now.
        tokio::spawn(async move {
            for pool in old {
                pool.shutdown().await;
            }
        });
        Ok(start_time)
    }

    /// Stops the event path (what the stream holds reaches the bus first) and starts it on
    /// the current template and enrichment.
    async fn restart_event_path(&mut self) -> Result<()> {
        if let Some(events) = self.events.take() {
            events.stop().await;
        }
        self.events = self
            .setup
            .event_path(&self.template, &self.binaries.enrichment)
            .await
            .context("restarting the event path (it stays stopped until the next good save)")?;
        Ok(())
    }
}

/// Builds `function` with the dev profile, errors one line each on stderr; returns whether
/// the binary was rewritten. Dropping the future stops cargo.
async fn build(workspace: &Path, function: Function, arch: Arch) -> Result<bool> {
    let (command, binary) = artifact::compile_command(workspace, function, arch, Profile::Dev)?;
    let before = modified(&binary);
    let status = tokio::process::Command::from(command)
        .kill_on_drop(true)
        .status()
        .await
        .context("running cargo")?;
    if !status.success() {
        bail!(
            "the build of {} failed (the compiler's errors are above)",
            function.name
        );
    }
    artifact::check_built(&binary, arch)?;
    Ok(modified(&binary) != before)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The local template as the workspace's infra code renders it now: `synth` rebuilt and
/// run, since this process holds the infra code it was built with.
async fn synthesize_rebuilt(workspace: &Path) -> Result<LocalTemplate> {
    eprintln!("xtask: infra or the manifest changed: rebuilding synth");
    let output = tokio::process::Command::from(run_tool(workspace, "xtask-core"))
        .args(["synth", "--env", ENV, "--format", "json"])
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await
        .context("running cargo")?;
    if !output.status.success() {
        bail!("synth failed (its errors are above)");
    }
    let rendered = String::from_utf8(output.stdout).context("synth printed no UTF-8")?;
    LocalTemplate::rendered(&rendered, workspace, ENV)
}

/// Tables are made at start-up, so a changed table definition needs a fresh start.
fn warn_on_table_change(old: &LocalTemplate, new: &LocalTemplate) -> Result<()> {
    let tables = |template: &LocalTemplate| -> Vec<(String, Value)> {
        template
            .resources("AWS::DynamoDB::Table")
            .map(|(id, properties)| (id.to_owned(), properties.clone()))
            .collect()
    };
    if tables(old) != tables(new) {
        println!(
            "warning: the template's tables changed; the local table keeps its old definition until \
             `cargo xtask local --fresh` (which deletes the local data)"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(paths: &[&str]) -> Change {
        let roots = Roots::of(Path::new("/w"));
        roots.classify(&paths.iter().map(PathBuf::from).collect::<Vec<_>>())
    }

    #[test]
    fn function_sources_rebuild_the_code_only() {
        assert_eq!(
            classify(&["/w/function/src/routes/get.rs"]),
            Change {
                code: true,
                template: None
            }
        );
        assert_eq!(classify(&["/w/Cargo.lock"]).template, None);
    }

    #[test]
    fn the_manifest_rebuilds_code_and_template() {
        assert_eq!(
            classify(&["/w/function/manifest/src/routes.rs"]),
            Change {
                code: true,
                template: Some(TemplateSource::Code)
            }
        );
    }

    #[test]
    fn the_local_environment_reloads_the_template_in_process() {
        assert_eq!(
            classify(&["/w/environments/local.yaml"]),
            Change {
                code: false,
                template: Some(TemplateSource::Environment)
            }
        );
        assert_eq!(
            classify(&["/w/infra/src/stack/api.rs", "/w/environments/local.yaml"]).template,
            Some(TemplateSource::Code)
        );
    }

    #[test]
    fn other_environments_change_nothing() {
        assert_eq!(classify(&["/w/environments/prod.yaml"]), Change::default());
    }
}
