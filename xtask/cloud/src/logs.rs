//! `cargo xtask logs --env X`: a deployed function's log lines (or its stage's access log),
//! history through `FilterLogEvents`, `--follow` through CloudWatch Logs Live Tail where the
//! endpoint offers it and by polling otherwise; one readable line per event.

use crate::aws::cloudformation::Cfn;
use crate::aws::sdk::explain;
use crate::aws::target::{Context, Target};
use anyhow::{Context as _, Result, bail};
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};
use tickets_infra::stack::output;
use xtask_core::function_logs::query::{LogArgs, Query, show};

/// How often `--follow` asks for new lines when Live Tail is not available.
const POLL: Duration = Duration::from_secs(2);

/// Arguments of `logs`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    logs: LogArgs,
}

/// Prints the matching lines, then follows when asked.
pub async fn run(args: Args) -> Result<()> {
    let ctx = Context::open(&args.target).await?;
    let Some(stack) = Cfn::new(&ctx.config).describe(ctx.stack.as_str()).await? else {
        bail!(
            "stack {} does not exist: deploy it with `cargo xtask deploy {}`",
            ctx.stack,
            args.target.flags()
        );
    };
    let group = if args.logs.access {
        stack.outputs.get(output::ACCESS_LOG_GROUP).cloned().with_context(|| {
            format!(
                "stack {} has no access log (observability.access_logs is off in environments/{}.yaml)",
                ctx.stack, ctx.env.name
            )
        })?
    } else {
        let function = stack
            .outputs
            .get(output::FUNCTION_NAME)
            .context("the stack has no FunctionName output; redeploy it")?;
        format!("/aws/lambda/{function}")
    };
    let client = Client::new(&ctx.config);
    let query = Query::new(&args.logs, SystemTime::now())?;
    let mut seen = HashSet::new();
    let last = history(&client, &group, &query, args.logs.json, &mut seen).await?;
    if !args.logs.follow {
        return Ok(());
    }
    let region = ctx.env.region.as_str();
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    let arn = format!(
        "arn:{partition}:logs:{region}:{}:log-group:{group}",
        ctx.account
    );
    match live_tail(&client, &arn, &query, args.logs.json).await {
        Ok(()) => Ok(()),
        Err(err) => {
            eprintln!("xtask: Live Tail is not available here ({err:#}); polling every {POLL:?}");
            let query = Query {
                since_ms: last.max(query.since_ms),
                ..query
            };
            poll(&client, &group, query, args.logs.json, seen).await
        }
    }
}

/// Prints every matching event since the query's start; returns the newest timestamp.
async fn history(
    client: &Client,
    group: &str,
    query: &Query,
    json: bool,
    seen: &mut HashSet<String>,
) -> Result<i64> {
    let mut newest = query.since_ms;
    let mut pages = client
        .filter_log_events()
        .log_group_name(group)
        .start_time(query.since_ms)
        .set_filter_pattern(query.filter_pattern())
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| explain(&format!("reading log group {group}"), e))?;
        for event in page.events() {
            let (Some(message), Some(at)) = (event.message(), event.timestamp()) else {
                continue;
            };
            if let Some(id) = event.event_id()
                && !seen.insert(id.to_owned())
            {
                continue;
            }
            newest = newest.max(at);
            if query.matches(message, at) {
                println!("{}", show(message, json));
            }
        }
    }
    Ok(newest)
}

/// Streams new events through Live Tail until Ctrl-C or the session ends.
async fn live_tail(client: &Client, group_arn: &str, query: &Query, json: bool) -> Result<()> {
    let mut request = client.start_live_tail().log_group_identifiers(group_arn);
    if let Some(pattern) = query.filter_pattern() {
        request = request.log_event_filter_pattern(pattern);
    }
    let mut output = request
        .send()
        .await
        .map_err(|e| explain("starting a Live Tail session", e))?;
    loop {
        let next = tokio::select! {
            next = output.response_stream.recv() => next,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        match next.context("reading the Live Tail stream")? {
            Some(StartLiveTailResponseStream::SessionUpdate(update)) => {
                for event in update.session_results() {
                    let (Some(message), Some(at)) = (event.message(), event.timestamp()) else {
                        continue;
                    };
                    if query.matches(message, at) {
                        println!("{}", show(message, json));
                    }
                }
            }
            Some(_) => {}
            None => return Ok(()),
        }
    }
}

/// Asks for new events every [`POLL`] until Ctrl-C.
async fn poll(
    client: &Client,
    group: &str,
    mut query: Query,
    json: bool,
    mut seen: HashSet<String>,
) -> Result<()> {
    loop {
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        // Events arrive out of order within a few seconds: look back a little, skip repeats.
        let newest = history(client, group, &query, json, &mut seen).await?;
        query.since_ms = newest.saturating_sub(10_000).max(query.since_ms);
    }
}
