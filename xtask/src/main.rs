//! `cargo xtask`: the project's automation. This binary only dispatches: each command runs
//! in the crate that holds what it needs, so a command compiles only its own dependencies
//! (`cargo xtask local` never builds an AWS SDK, `cargo xtask deploy` never builds the
//! emulators):
//!
//! - `xtask/core` (`xtask-core`): `build`, `synth`, `test`, and what every tool shares;
//! - `xtask/local` (`xtask-local`): `local`, `bench`, and `token`/`smoke` with `--env local`;
//! - `xtask/cloud` (`xtask-cloud`): everything that talks to AWS.
//!
//! It hands the command line on unchanged through `cargo run`, which replaces this process
//! (so Ctrl-C, the exit code and the terminal reach the real command).

#[path = "../core/src/tools/cargo.rs"]
mod cargo;

use std::process::ExitCode;

/// One command: where it runs and what it does.
struct Route {
    name: &'static str,
    package: &'static str,
    about: &'static str,
}

const CORE: &str = "xtask-core";
const LOCAL: &str = "xtask-local";
const CLOUD: &str = "xtask-cloud";

/// Every command, in the order `cargo xtask --help` lists them.
const ROUTES: &[Route] = &[
    Route {
        name: "local",
        package: LOCAL,
        about: "Run the whole API on http://127.0.0.1:3000: no Docker, data kept in .tickets/local",
    },
    Route {
        name: "token",
        package: LOCAL,
        about: "Print an ID token for a user (local issuer, or the stack's user pool with --env)",
    },
    Route {
        name: "smoke",
        package: LOCAL,
        about: "Run a full scenario against a local or deployed API; fails if any step does not match",
    },
    Route {
        name: "test",
        package: CORE,
        about: "Run every test, providing the Python tools and the moto server they need",
    },
    Route {
        name: "bench",
        package: LOCAL,
        about: "Measure cold start, warm latency, memory, size, synth and deploy speed against targets",
    },
    Route {
        name: "build",
        package: CORE,
        about: "Build every Lambda function (release) and pack each into a deterministic zip",
    },
    Route {
        name: "synth",
        package: CORE,
        about: "Render the CloudFormation template of an environment",
    },
    Route {
        name: "deploy",
        package: CLOUD,
        about: "Build, upload and roll out a stack (diff first; refuses to lose data)",
    },
    Route {
        name: "dev",
        package: CLOUD,
        about: "Swap code into a personal stack on every save: dev build, UpdateFunctionCode, ready in seconds",
    },
    Route {
        name: "diff",
        package: CLOUD,
        about: "Show what `deploy` would change",
    },
    Route {
        name: "drift",
        package: CLOUD,
        about: "Show what changed in a stack's resources outside CloudFormation",
    },
    Route {
        name: "import",
        package: CLOUD,
        about: "Adopt the table and user pool an earlier stack left into a new stack (IMPORT change set)",
    },
    Route {
        name: "outputs",
        package: CLOUD,
        about: "Print (and record) a stack's outputs",
    },
    Route {
        name: "watch",
        package: CLOUD,
        about: "Follow a stack's rollout until it settles",
    },
    Route {
        name: "logs",
        package: LOCAL,
        about: "Show (and follow) the function's and the API's log lines, readable or as JSON",
    },
    Route {
        name: "events",
        package: LOCAL,
        about: "Show the local bus's ticket events (--follow), or replay a stack's (events replay --env X --since TIME)",
    },
    Route {
        name: "bootstrap",
        package: CLOUD,
        about: "Prepare an account and region once: the CloudWatch role API Gateway logs with",
    },
    Route {
        name: "promote",
        package: CLOUD,
        about: "Deploy to one environment exactly the artifact another one runs",
    },
    Route {
        name: "destroy",
        package: CLOUD,
        about: "Delete a stack",
    },
    Route {
        name: "migrate",
        package: CLOUD,
        about: "Copy the original table's tickets into a stack's table: resumable, verified",
    },
];

/// `token`, `smoke`, `logs` and `events` go to the local tools for the local environment (the
/// default) and to the cloud tools for any deployed one; `events replay` always to the cloud
/// tools (only a deployed bus has an archive to replay).
fn package_for(route: &Route, args: &[String]) -> &'static str {
    if !matches!(route.name, "token" | "smoke" | "logs" | "events") {
        return route.package;
    }
    if route.name == "events" && args.iter().any(|a| a == "replay") {
        return CLOUD;
    }
    let env = args.iter().enumerate().find_map(|(i, arg)| {
        arg.strip_prefix("--env=")
            .map(str::to_owned)
            .or_else(|| (arg == "--env").then(|| args.get(i + 1).cloned()).flatten())
    });
    match env.as_deref() {
        None | Some("local") => LOCAL,
        Some(_) => CLOUD,
    }
}

fn help() -> String {
    let mut text = String::from(
        "Build, synthesize, deploy, run locally, test and measure the ticket API.\n\n\
         Usage: cargo xtask <COMMAND> [OPTIONS]   (cargo xtask <COMMAND> --help for its options)\n\n\
         Commands:\n",
    );
    let width = ROUTES.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for route in ROUTES {
        text.push_str(&format!("  {:<width$}  {}\n", route.name, route.about));
    }
    text
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprint!("{}", help());
        return ExitCode::from(2);
    };
    if matches!(command.as_str(), "-h" | "--help" | "help") {
        print!("{}", help());
        return ExitCode::SUCCESS;
    }
    if matches!(command.as_str(), "-V" | "--version") {
        println!("cargo xtask {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let Some(route) = ROUTES.iter().find(|r| r.name == command) else {
        eprintln!(
            "error: there is no command `{command}`; the commands are: {}",
            ROUTES.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
        );
        return ExitCode::from(2);
    };
    let package = package_for(route, &args);
    let mut run = cargo::run_tool(std::path::Path::new("."), package);
    run.args(&args);
    exec(run)
}

/// Becomes the command (Unix), or runs it and passes its exit code on.
fn exec(mut command: std::process::Command) -> ExitCode {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = command.exec();
        eprintln!("error: could not run cargo: {err}");
        ExitCode::FAILURE
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1) as u8),
        Err(err) => {
            eprintln!("error: could not run cargo: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(args: &[&str]) -> &'static str {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let route = ROUTES.iter().find(|r| r.name == args[0]).unwrap();
        package_for(route, &args)
    }

    #[test]
    fn sends_token_and_smoke_where_their_environment_is() {
        assert_eq!(package(&["token", "--user", "a"]), LOCAL);
        assert_eq!(package(&["token", "--env", "local", "--user", "a"]), LOCAL);
        assert_eq!(package(&["smoke", "--env=dev"]), CLOUD);
        assert_eq!(package(&["token", "--env", "prod", "--user", "a"]), CLOUD);
        assert_eq!(package(&["deploy", "--env", "local"]), CLOUD);
        assert_eq!(package(&["local"]), LOCAL);
        assert_eq!(package(&["events", "--env", "local", "--follow"]), LOCAL);
        assert_eq!(
            package(&["events", "replay", "--env", "dev", "--since", "x"]),
            CLOUD
        );
        assert_eq!(package(&["logs", "--env", "staging", "--follow"]), CLOUD);
    }

    #[test]
    fn lists_every_command_once() {
        let mut names: Vec<_> = ROUTES.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ROUTES.len());
        assert!(help().contains("deploy"));
    }
}
