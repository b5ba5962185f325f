//! `cargo xtask events --env local`: the ticket events the local bus has archived
//! (`events.jsonl` in the state folder), one readable line each or as JSON, then (with
//! `--follow`) new ones as the bus puts them.

use crate::emulator::bus::{ARCHIVE_FILE, line};
use crate::emulator::state;
use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Arguments of `events`.
#[derive(clap::Args)]
pub struct Args {
    /// Environment: only `local` here (a deployed stack's events are replayed with
    /// `cargo xtask events replay --env <env>`).
    #[arg(long, default_value = state::ENV)]
    pub env: String,
    /// Keep showing new events until Ctrl-C.
    #[arg(long)]
    pub follow: bool,
    /// Only events at or after this RFC 3339 time (`2026-11-30T08:00:00Z`).
    #[arg(long, value_parser = rfc3339)]
    pub since: Option<OffsetDateTime>,
    /// Only events of this ticket.
    #[arg(long)]
    pub ticket: Option<String>,
    /// Whole events, one JSON object a line, as `--events-to` receives them.
    #[arg(long)]
    pub json: bool,
    /// Local state folder [default: .tickets/local].
    #[arg(long, hide = true)]
    pub state_dir: Option<PathBuf>,
}

/// An RFC 3339 time.
pub fn rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        format!("{text:?} is not an RFC 3339 time ({e}); write e.g. 2026-11-30T08:00:00Z")
    })
}

/// Prints the matching events, then new ones with `--follow`.
pub async fn run(args: Args) -> Result<()> {
    if args.env != state::ENV {
        bail!(
            "the local bus keeps only the local run's events; for {} use `cargo xtask events replay --env {}`",
            args.env,
            args.env
        );
    }
    let path = state::dir(args.state_dir.as_deref()).join(ARCHIVE_FILE);
    let file = loop {
        match std::fs::File::open(&path) {
            Ok(file) => break file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && args.follow => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => bail!(
                "no events yet at {}: start `cargo xtask local` and write a ticket",
                path.display()
            ),
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        }
    };
    let mut reader = BufReader::new(file);
    let mut text = String::new();
    loop {
        text.clear();
        let read = reader.read_line(&mut text)?;
        if read == 0 || !text.ends_with('\n') {
            if !args.follow {
                return Ok(());
            }
            // An event still being written: read it again once it is whole.
            reader.seek(SeekFrom::Current(-(read as i64)))?;
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if let Some(since) = args.since {
            let at = event["time"]
                .as_str()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
            if at.is_some_and(|at| at < since) {
                continue;
            }
        }
        if let Some(ticket) = &args.ticket
            && event["detail"]["ticketId"].as_str() != Some(ticket)
        {
            continue;
        }
        if args.json {
            println!("{}", text.trim_end());
        } else {
            println!("{}", line(&event).trim_start());
        }
    }
}
