//! `cargo xtask local`: the whole API on `http://127.0.0.1:3000`, from the `local`
//! environment's template, with no Docker: the dev `bootstrap` under a Runtime API
//! emulator, an embedded DynamoDB engine with its data under `.tickets/local/`, local Cognito
//! tokens, an API Gateway emulation that serves only what the template declares, and the
//! event path (the table's stream, the enrichment binary, a local bus: [`crate::event_path`]);
//! it rebuilds and reloads on save ([`reload`]).

use crate::emulator::auth::{self, SigningKey, TokenRequest, UserPool};
use crate::emulator::dynamo::{LocalDynamo, LocalTable, remove_database};
use crate::emulator::functions::{self, Functions};
use crate::emulator::gateway::api::Api;
use crate::emulator::gateway::server;
use crate::emulator::instance::Logs;
use crate::emulator::instance_pool::Pool;
use crate::emulator::state::{self, DATABASE_FILE, ENV};
use crate::emulator::template::LocalTemplate;
use crate::event_path::{self, EventPath};
use anyhow::{Context, Result};
use reload::{Binaries, Live};
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tickets_manifest::functions::{TICKET_EVENTS, TICKETS_API};
use tokio::net::TcpListener;
use tokio::sync::watch;
use xtask_core::lambda::arch::Arch;
use xtask_core::lambda::artifact;
use xtask_core::lambda::profile::Profile;
use xtask_core::tools::workspace::{root, shown};

mod reload;

/// Arguments of `local`.
#[derive(clap::Args)]
pub struct Args {
    /// Port to serve on, on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Start with an empty table (deletes the local data).
    #[arg(long)]
    pub fresh: bool,
    /// Where the function's own logs go.
    #[arg(long, value_enum, default_value = "readable")]
    pub function_logs: FunctionLogs,
    /// The function's own log level, instead of the template's `LoggingConfig`
    /// (`trace`, `debug`, `info`, `warn`, `error`).
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Log directives for dependencies, in `tracing`'s `target=level` syntax
    /// (`aws_smithy_runtime=debug,hyper_util=debug`): the function's `RUST_LOG`.
    #[arg(long, value_name = "DIRECTIVES")]
    pub log_filter: Option<String>,
    /// Also POST every ticket event (EventBridge's JSON) to this URL, in order, retried as
    /// the template's rule targets are; refused ones go to `dead-letters.jsonl`.
    #[arg(long, value_name = "URL", value_parser = events_to_url)]
    pub events_to: Option<String>,
    /// Do not rebuild and reload when the function's, infra's or the environment's sources
    /// change.
    #[arg(long)]
    pub no_watch: bool,
    /// Where data and keys live [default: .tickets/local].
    #[arg(long, hide = true)]
    pub state_dir: Option<PathBuf>,
    /// The workspace whose function is built and watched [default: this one]; for tests,
    /// which edit a copy.
    #[arg(long, hide = true)]
    pub workspace: Option<PathBuf>,
}

/// `--events-to`: an http(s) URL.
fn events_to_url(text: &str) -> Result<String, String> {
    if text.starts_with("http://") || text.starts_with("https://") {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not an http(s) URL; give where events should be POSTed, e.g. http://127.0.0.1:9000/events"
        ))
    }
}

/// Where the function's stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FunctionLogs {
    /// On stderr, one readable line each (time, level, message, fields, metrics), dimmed
    /// behind a `λ` so requests stand out.
    #[value(alias = "dimmed")]
    Readable,
    /// On stdout and stderr, untouched (to pipe the JSON lines into a tool).
    Raw,
    /// Nowhere: neither shown nor kept for `cargo xtask logs`.
    Off,
}

impl FunctionLogs {
    /// Where the lines go; shown or not, they are kept in `keep` for `cargo xtask logs`.
    fn sink(self, keep: PathBuf) -> Logs {
        match self {
            FunctionLogs::Readable => Logs::Readable {
                prefix: "  λ ".into(),
                keep: Some(keep),
            },
            FunctionLogs::Raw => Logs::Raw { keep: Some(keep) },
            FunctionLogs::Off => Logs::Discard,
        }
    }
}

impl FunctionLogs {
    /// Where the enrichment's lines go: kept in their own file, and shown readable on
    /// stderr unless off. Never on stdout, which carries the API function's raw lines.
    fn enrichment_sink(self, keep: PathBuf) -> Logs {
        match self {
            FunctionLogs::Off => Logs::Discard,
            FunctionLogs::Readable | FunctionLogs::Raw => Logs::Readable {
                prefix: "  ε ".into(),
                keep: Some(keep),
            },
        }
    }
}

/// Starts everything, serves until Ctrl-C (or SIGTERM), then stops cleanly.
pub async fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let workspace = args.workspace.clone().unwrap_or_else(root);
    let state = state::dir(args.state_dir.as_deref());
    let arch = native_arch();
    // Cargo checks (or rebuilds) the functions while the rest starts up.
    let build = std::thread::spawn({
        let workspace = workspace.clone();
        move || build_functions(&workspace, arch)
    });
    let template = LocalTemplate::synthesize_in(&workspace, ENV)?;
    let (dynamo, tables) = start_dynamo(&state, &template, args.fresh).await?;

    let key = SigningKey::load_or_create(&state)?;
    let binaries = build
        .join()
        .map_err(|_| anyhow::anyhow!("building the functions panicked"))??;
    let pool = UserPool::of_template(&template)?;
    let api = Arc::new(Api::from_template(&template, key.jwks())?);
    let setup = Setup {
        dynamo_endpoint: dynamo.endpoint.clone(),
        state: state.clone(),
        function_logs: args.function_logs,
        log_level: args.log_level.clone(),
        log_filter: args.log_filter.clone(),
        events_to: args.events_to.clone(),
    };
    let functions = Arc::new(Functions::new(setup.pools(
        &template,
        &api,
        &binaries.api,
    )?));
    let instances = warm(&functions.pools()).await?;
    let events = setup.event_path(&template, &binaries.enrichment).await?;

    let listener = TcpListener::bind(("127.0.0.1", args.port)).await.with_context(|| {
        format!("port {} is taken: stop what uses it, or pick another with --port (0 for any free one)", args.port)
    })?;
    let url = format!("http://{}", listener.local_addr()?);
    let token = key.issue(
        &pool,
        &TokenRequest {
            user: "alice".into(),
            groups: Vec::new(),
            expires_in: auth::DEFAULT_VALIDITY_SECS,
            audience: None,
        },
    )?;
    // Listen before the banner: a script may send SIGTERM as soon as it has read the URL.
    let stop_signal = stop_signal();
    // The banner comes first on stdout (scripts read the URL from its first line); requests
    // that arrive meanwhile wait in the listener's backlog.
    print_banner(&Banner {
        url: &url,
        api: &api,
        template: &template,
        tables: &tables,
        instances: &instances,
        events: events.as_ref().map(|e| e.description.as_str()),
        dynamo_endpoint: &dynamo.endpoint,
        state: &state,
        token: &token,
        watching: !args.no_watch,
        elapsed: started.elapsed(),
    });
    let (api, _) = watch::channel(api);
    let live = Live {
        workspace,
        arch,
        setup,
        jwks: key.jwks().clone(),
        template,
        api,
        functions,
        events,
        binaries,
    };
    serve_until_stopped(live, !args.no_watch, listener, dynamo, stop_signal).await
}

/// Serves until `stop_signal` (Ctrl-C or SIGTERM), reloading on save when `watching`, then
/// lets running requests finish and stops the functions and DynamoDB.
async fn serve_until_stopped(
    mut live: Live,
    watching: bool,
    listener: TcpListener,
    dynamo: LocalDynamo,
    stop_signal: impl Future<Output = ()>,
) -> Result<()> {
    let state = live.setup.state.clone();
    let (database, access_log) = (state.join(DATABASE_FILE), state::access_log(&state));
    let (stop, stopped) = watch::channel(false);
    let log = server::AccessLog::printed_and_kept(&access_log)
        .with_context(|| format!("opening {}", access_log.display()))?;
    let server = tokio::spawn(server::serve(
        live.api.subscribe(),
        live.functions.clone(),
        listener,
        stopped,
        log,
        Duration::from_secs(5),
    ));

    if watching {
        tokio::select! {
            () = stop_signal => {}
            never = reload::watch(&mut live) => match never {},
        }
    } else {
        stop_signal.await;
    }
    println!("stopping");
    let _ = stop.send(true);
    let _ = server.await;
    // Writes the API acknowledged are still in the stream: they become events before the end.
    if let Some(events) = live.events.take() {
        events.stop().await;
    }
    for pool in live.functions.pools() {
        pool.shutdown().await;
        println!(
            "{}: {} instance(s) started in all",
            pool.config().name,
            pool.cold_starts()
        );
    }
    dynamo.stop().await?;
    println!("stopped; data kept in {}", database.display());
    Ok(())
}

/// The embedded DynamoDB over the state folder's database, with the template's tables;
/// warns about tables an older template made.
async fn start_dynamo(
    state: &Path,
    template: &LocalTemplate,
    fresh: bool,
) -> Result<(LocalDynamo, Vec<LocalTable>)> {
    let database = state.join(DATABASE_FILE);
    if fresh {
        remove_database(&database)?;
        event_path::remove_state(state)?;
    }
    let (dynamo, tables) = LocalDynamo::start(&database, template).await?;
    for table in &tables {
        if let Some(drift) = &table.drift {
            eprintln!(
                "warning: the local table {} was created from an older template: {drift}; run with --fresh to recreate it",
                table.name
            );
        }
    }
    Ok((dynamo, tables))
}

/// What starts the functions and the event path from a template and the binaries: the same
/// at start-up and on every reload.
pub(crate) struct Setup {
    dynamo_endpoint: String,
    state: PathBuf,
    function_logs: FunctionLogs,
    log_level: Option<String>,
    log_filter: Option<String>,
    events_to: Option<String>,
}

impl Setup {
    /// A pool of instances of `bootstrap` for each function the API integrates with (none
    /// started yet).
    pub(crate) fn pools(
        &self,
        template: &LocalTemplate,
        api: &Api,
        bootstrap: &Path,
    ) -> Result<HashMap<String, Arc<Pool>>> {
        let mut pools = HashMap::new();
        for function in &api.functions {
            let (mut config, max) = functions::function_config(
                template,
                function,
                bootstrap,
                &self.dynamo_endpoint,
                self.function_logs.sink(state::function_log(&self.state)),
            )?;
            // What the console's logging settings would change on a deployed function.
            if let Some(level) = &self.log_level {
                config.env.insert(
                    tickets_manifest::config::LOG_LEVEL.into(),
                    level.to_ascii_uppercase(),
                );
            }
            if let Some(filter) = &self.log_filter {
                config.env.insert(
                    tickets_manifest::config::LOG_DIRECTIVES.into(),
                    filter.clone(),
                );
            }
            pools.insert(function.clone(), Arc::new(Pool::new(config, max)));
        }
        Ok(pools)
    }

    /// The template's event path with `enrichment`, if the template has one.
    pub(crate) async fn event_path(
        &self,
        template: &LocalTemplate,
        enrichment: &Path,
    ) -> Result<Option<EventPath>> {
        EventPath::start(event_path::Start {
            template,
            binary: enrichment,
            dynamo_endpoint: &self.dynamo_endpoint,
            state: &self.state,
            logs: self
                .function_logs
                .enrichment_sink(state::enrichment_log(&self.state)),
            events_to: self.events_to.as_deref(),
        })
        .await
    }
}

/// One warm instance per function, so that the first request does not pay a cold start;
/// describes each for the banner.
pub(crate) async fn warm(pools: &[Arc<Pool>]) -> Result<Vec<String>> {
    let mut instances = Vec::new();
    for pool in pools {
        let (init, pid) = pool.warm().await.context("starting the function")?;
        instances.push(format!(
            "{} (pid {}, init {:.1} ms)",
            pool.config().name,
            pid.map_or("?".into(), |p| p.to_string()),
            init.as_secs_f64() * 1000.0
        ));
    }
    Ok(instances)
}

/// This machine's instruction set, which local runs the functions on.
fn native_arch() -> Arch {
    if cfg!(target_arch = "aarch64") {
        Arch::Arm64
    } else {
        Arch::X86_64
    }
}

/// The dev builds of the API and the enrichment in the workspace at `workspace`, built if
/// anything changed (no zips: `local` does not need them). The dev profile, not release:
/// after a one-line change it links in seconds where release's fat LTO takes a minute.
fn build_functions(workspace: &Path, arch: Arch) -> Result<Binaries> {
    let build = |function| artifact::compile_function_in(workspace, function, arch, Profile::Dev);
    Ok(Binaries {
        api: build(TICKETS_API)?,
        enrichment: build(TICKET_EVENTS)?,
    })
}

/// What the start-up banner shows.
struct Banner<'a> {
    url: &'a str,
    api: &'a Api,
    template: &'a LocalTemplate,
    tables: &'a [LocalTable],
    instances: &'a [String],
    events: Option<&'a str>,
    dynamo_endpoint: &'a str,
    state: &'a Path,
    token: &'a str,
    watching: bool,
    elapsed: Duration,
}

fn print_banner(banner: &Banner<'_>) {
    let Banner {
        url,
        api,
        template,
        tables,
        instances,
        events,
        dynamo_endpoint,
        state,
        token,
        watching,
        elapsed,
    } = banner;
    // The first line is for machines too: tests and scripts read the URL from it.
    println!("Local API: {url}");
    println!(
        "  {} (stage {}, stack {}): {} operations from the template, ready in {} ms",
        api.name,
        api.stage,
        template.stack_name,
        api.operations().len(),
        elapsed.as_millis()
    );
    for instance in *instances {
        println!("  Function {instance}: the dev bootstrap under the Runtime API emulator");
    }
    if let Some(events) = events {
        println!("  {events}");
        println!(
            "    each printed here as ⇢; cargo xtask events --env local --follow shows them too"
        );
    }
    for table in *tables {
        println!(
            "  DynamoDB table {} ({}) in {}, served at {dynamo_endpoint}",
            table.name,
            if table.created { "new" } else { "kept" },
            shown(&state.join(DATABASE_FILE))
        );
    }
    println!(
        "  Tokens: cargo xtask token --env local --user alice [--admin]   (1 h; JWKS in {})",
        shown(&SigningKey::jwks_path(state))
    );
    println!("  Create a ticket (token for alice inline):");
    println!(
        "    curl -sS -X POST {url}{} -H \"Authorization: {token}\" -H 'Content-Type: application/json' -d '{{\"title\":\"My first ticket\"}}'",
        tickets_manifest::routes::TICKETS.path
    );
    println!(
        "  Check it all: cargo xtask smoke --env local{}",
        if url.ends_with(":3000") {
            String::new()
        } else {
            format!(" --url {url}")
        }
    );
    if *watching {
        println!(
            "  Reloads on save: function/ rebuilds and swaps the code; infra/ and environments/{ENV}.yaml re-synthesize (--no-watch turns this off)"
        );
    }
    println!("  Ctrl-C stops; data stays for the next start (--fresh empties it).");
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled, so that no signal is missed in between.
fn stop_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            match (interrupt, terminate) {
                (Ok(mut interrupt), Ok(mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                (Ok(mut interrupt), Err(_)) => {
                    interrupt.recv().await;
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
