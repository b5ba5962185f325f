//! Warm latency: each request through the Runtime API to a warm instance, interleaved
//! with the raw DynamoDB call it makes, so both see the same table, caches and machine load.

use super::process::cpu_time;
use super::raw_dynamo::{self, Call, RawDynamo};
use super::stats::Summary;
use super::workload::{LIST_LIMIT, Workload, expect_status};
use crate::emulator::instance_pool::Pool;
use anyhow::{Context, Result};
use serde::Serialize;
use std::time::{Duration, Instant};

/// A request of the benchmark and the DynamoDB call behind it.
#[derive(Debug, Clone, Copy)]
enum Request {
    GetById,
    Create,
    List,
}

impl Request {
    fn name(self) -> &'static str {
        match self {
            Request::GetById => "get-by-id",
            Request::Create => "create",
            Request::List => "list",
        }
    }

    fn raw_call(self) -> &'static str {
        match self {
            Request::GetById => "GetItem",
            Request::Create => "PutItem",
            Request::List => "Query",
        }
    }

    fn status(self) -> u16 {
        match self {
            Request::Create => 201,
            Request::GetById | Request::List => 200,
        }
    }
}

/// The function's latency for one kind of request next to its raw DynamoDB call.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// `get-by-id`, `create` or `list`.
    pub name: &'static str,
    /// The DynamoDB call behind it.
    pub raw_call: &'static str,
    /// Invocation through the Runtime API, ms.
    pub function_ms: Summary,
    /// The raw call, ms.
    pub raw_ms: Summary,
    /// Function p50 minus raw p50, ms: what the function adds.
    pub overhead_p50_ms: f64,
    /// Function p99 minus raw p99, ms.
    pub overhead_p99_ms: f64,
    /// CPU time the function process used per invocation (its DynamoDB client included), ms.
    pub function_cpu_ms: f64,
}

/// The invocation that calls no DynamoDB.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preflight {
    /// Invocation through the Runtime API, ms.
    pub function_ms: Summary,
    /// CPU time the function process used per invocation, ms.
    pub function_cpu_ms: f64,
}

/// Runs `warmup` untimed then `count` timed rounds of each request on `pool`'s warm
/// instance (process `pid`), each round followed by its raw call.
pub async fn measure(
    pool: &Pool,
    pid: u32,
    raw: &RawDynamo,
    workload: &Workload,
    count: usize,
    warmup: usize,
) -> Result<Vec<Operation>> {
    let stored = raw
        .item(&workload.ticket_id)
        .await
        .context("reading the seeded ticket")?;
    let mut operations = Vec::new();
    for request in [Request::GetById, Request::Create, Request::List] {
        let event = match request {
            Request::GetById => &workload.get,
            Request::Create => &workload.create,
            Request::List => &workload.list,
        };
        let mut function = Vec::with_capacity(count);
        let mut direct = Vec::with_capacity(count);
        let mut cpu = Duration::ZERO;
        for round in 0..warmup + count {
            if round == warmup {
                cpu = cpu_time(pid)?;
            }
            // Inputs are made before the clock starts: only the calls are timed.
            let event = event.clone();
            let started = Instant::now();
            let answer = pool
                .invoke(event)
                .await
                .with_context(|| format!("invoking {}", request.name()))?;
            let took = started.elapsed();
            expect_status(&answer, request.status())
                .with_context(|| format!("{} failed", request.name()))?;

            // The call's input is made before the clock starts.
            let call = match request {
                Request::GetById => Call::Get(workload.ticket_id.clone()),
                Request::Create => Call::Put(raw_dynamo::similar(&stored)),
                Request::List => Call::Query(LIST_LIMIT),
            };
            let raw_took = raw.time(call).await?;
            if round >= warmup {
                function.push(took);
                direct.push(raw_took);
            }
        }
        let cpu = (cpu_time(pid)? - cpu).as_secs_f64() * 1000.0 / count as f64;
        operations.push(operation(request, &function, &direct, cpu));
    }
    Ok(operations)
}

fn operation(request: Request, function: &[Duration], raw: &[Duration], cpu_ms: f64) -> Operation {
    let (function_ms, raw_ms) = (Summary::of(function), Summary::of(raw));
    Operation {
        name: request.name(),
        raw_call: request.raw_call(),
        overhead_p50_ms: function_ms.p50 - raw_ms.p50,
        overhead_p99_ms: function_ms.p99 - raw_ms.p99,
        function_ms,
        raw_ms,
        function_cpu_ms: cpu_ms,
    }
}

/// The fixed cost of an invocation: `count` CORS preflights (after `warmup`), which the
/// function answers without calling DynamoDB; the Runtime API round trip, event parsing,
/// routing, middleware and response included.
pub async fn floor(
    pool: &Pool,
    pid: u32,
    workload: &Workload,
    count: usize,
    warmup: usize,
) -> Result<Preflight> {
    let mut samples = Vec::with_capacity(count);
    let mut cpu = Duration::ZERO;
    for round in 0..warmup + count {
        if round == warmup {
            cpu = cpu_time(pid)?;
        }
        let event = workload.preflight.clone();
        let started = Instant::now();
        let answer = pool.invoke(event).await.context("invoking preflight")?;
        let took = started.elapsed();
        expect_status(&answer, 200).context("preflight failed")?;
        if round >= warmup {
            samples.push(took);
        }
    }
    Ok(Preflight {
        function_ms: Summary::of(&samples),
        function_cpu_ms: (cpu_time(pid)? - cpu).as_secs_f64() * 1000.0 / count as f64,
    })
}
