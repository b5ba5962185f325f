//! `cargo xtask logs --env local`: the local run's log lines, kept in the state folder as
//! CloudWatch Logs would keep them, shown like a deployed function's.

use crate::emulator::state;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use xtask_core::function_logs::query::{LogArgs, Query, line_time_ms, show};

/// Arguments of `logs`.
#[derive(clap::Args)]
pub struct Args {
    /// Environment: only `local` here.
    #[arg(long, default_value = state::ENV)]
    pub env: String,
    #[command(flatten)]
    pub logs: LogArgs,
    /// Local state folder [default: .tickets/local].
    #[arg(long, hide = true)]
    pub state_dir: Option<PathBuf>,
}

/// Prints the matching lines, then (with `--follow`) new ones as they are written.
pub async fn run(args: Args) -> Result<()> {
    if args.env != state::ENV {
        bail!(
            "these are the local run's logs; `cargo xtask logs --env {}` reads that stack's",
            args.env
        );
    }
    let state = state::dir(args.state_dir.as_deref());
    let path = if args.logs.access {
        state::access_log(&state)
    } else {
        state::function_log(&state)
    };
    let query = Query::new(&args.logs, SystemTime::now())?;
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && args.logs.follow => {
            wait_for(&path).await?
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
            "no log lines yet at {}: start the API with `cargo xtask local` and send it a request",
            path.display()
        ),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader.read_line(&mut line)?;
        if read == 0 || !line.ends_with('\n') {
            if !args.logs.follow {
                return Ok(());
            }
            // A line still being written: read it again once it is whole.
            reader.seek(SeekFrom::Current(-(read as i64)))?;
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let at = line_time_ms(&line).unwrap_or(i64::MAX);
        if query.matches(&line, at) {
            println!("{}", show(&line, args.logs.json));
        }
    }
}

async fn wait_for(path: &std::path::Path) -> Result<std::fs::File> {
    loop {
        if let Ok(file) = std::fs::File::open(path) {
            return Ok(file);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
