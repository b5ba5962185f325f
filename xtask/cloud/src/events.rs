//! `cargo xtask events replay --env X --since TIME`: the stack's archived ticket events put
//! on its bus again (EventBridge `StartReplay`), so that every rule delivers them once
//! more. Replayed events keep their `detail.eventId`: consumers that de-duplicate by it
//! ignore what they already handled.

use crate::aws::cloudformation::Cfn;
use crate::aws::sdk::explain;
use crate::aws::target::{Context, Target};
use anyhow::{Context as _, Result, bail};
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::{ReplayDestination, ReplayState};
use std::time::{Duration, Instant};
use tickets_infra::stack::output;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// How often the replay's state is read.
const POLL: Duration = Duration::from_secs(2);

/// Arguments of `events`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Action>,
    /// A deployed environment (its events are replayed, not followed).
    #[arg(long)]
    env: Option<String>,
    /// Following is for the local bus only (`--env local`).
    #[arg(long)]
    follow: bool,
}

/// What to do with a deployed stack's events.
#[derive(clap::Subcommand)]
enum Action {
    /// Put the archive's events from `--since` (to `--until`, or now) on the bus again.
    Replay(ReplayArgs),
}

/// Arguments of `events replay`.
#[derive(clap::Args)]
struct ReplayArgs {
    #[command(flatten)]
    target: Target,
    /// The first event's time, RFC 3339 (`2026-11-30T08:00:00Z`).
    #[arg(long, value_parser = rfc3339)]
    since: OffsetDateTime,
    /// The last event's time [default: now].
    #[arg(long, value_parser = rfc3339)]
    until: Option<OffsetDateTime>,
    /// Start the replay and return, without waiting for it to end.
    #[arg(long)]
    no_wait: bool,
}

fn rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        format!("{text:?} is not an RFC 3339 time ({e}); write e.g. 2026-11-30T08:00:00Z")
    })
}

/// Runs `events replay`.
pub async fn run(args: Args) -> Result<()> {
    let Some(Action::Replay(args)) = args.command else {
        bail!(
            "the events of {} are not {} from here: subscribe to its bus or topic (README, \
             \"Ticket events\"), or put them on the bus again with \
             `cargo xtask events replay --env <env> --since <time>`; `--env local` shows the local bus's",
            args.env.as_deref().unwrap_or("a deployed stack"),
            if args.follow { "followed" } else { "shown" }
        );
    };
    let until = args.until.unwrap_or_else(OffsetDateTime::now_utc);
    if args.since >= until {
        bail!(
            "--since {} is not before {}; give an earlier --since",
            args.since.format(&Rfc3339)?,
            until.format(&Rfc3339)?
        );
    }
    let ctx = Context::open(&args.target).await?;
    let Some(stack) = Cfn::new(&ctx.config).describe(ctx.stack.as_str()).await? else {
        bail!(
            "stack {} does not exist: deploy it with `cargo xtask deploy {}`",
            ctx.stack,
            args.target.flags()
        );
    };
    let output_of = |name: &str| {
        stack.outputs.get(name).cloned().with_context(|| {
            format!(
                "stack {} has no {name} output: it predates the event path; redeploy it",
                ctx.stack
            )
        })
    };
    let (archive, bus) = (
        output_of(output::EVENT_ARCHIVE_ARN)?,
        output_of(output::EVENT_BUS_ARN)?,
    );
    let client = Client::new(&ctx.config);
    // Names are unique per account and region, at most 64 characters.
    let name: String = format!("{}-{}", ctx.stack, until.unix_timestamp())
        .chars()
        .rev()
        .take(64)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    client
        .start_replay()
        .replay_name(&name)
        .description(format!(
            "cargo xtask events replay --since {}",
            args.since.format(&Rfc3339)?
        ))
        .event_source_arn(&archive)
        .event_start_time(DateTime::from_secs(args.since.unix_timestamp()))
        .event_end_time(DateTime::from_secs(until.unix_timestamp()))
        .destination(ReplayDestination::builder().arn(&bus).build()?)
        .send()
        .await
        .map_err(|e| explain("starting the replay", e))?;
    eprintln!(
        "xtask: replay {name}: events of {} to {} from {archive} onto {bus}",
        args.since.format(&Rfc3339)?,
        until.format(&Rfc3339)?
    );
    if args.no_wait {
        println!("{name}");
        return Ok(());
    }
    let started = Instant::now();
    loop {
        let replay = client
            .describe_replay()
            .replay_name(&name)
            .send()
            .await
            .map_err(|e| explain("reading the replay's state", e))?;
        match replay.state() {
            Some(ReplayState::Completed) => {
                println!("{name} completed in {:.1?}", started.elapsed());
                return Ok(());
            }
            Some(state @ (ReplayState::Failed | ReplayState::Cancelled)) => bail!(
                "replay {name} ended {}: {}; start another one",
                state.as_str(),
                replay.state_reason().unwrap_or("no reason given")
            ),
            state => eprintln!(
                "xtask: replay {name} {} (last replayed event: {})",
                state.map_or("?", |s| s.as_str()),
                replay
                    .event_last_replayed_time()
                    .map_or("none yet".into(), |t| t.to_string())
            ),
        }
        tokio::time::sleep(POLL).await;
    }
}
