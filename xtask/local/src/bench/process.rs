//! What Linux's `/proc` says about a running process: its peak memory and CPU time.

use anyhow::{Context, Result, bail};
use std::time::Duration;

/// The peak resident set size of process `pid` so far (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status =
        std::fs::read_to_string(&path).with_context(|| format!("reading {path} (Linux only)"))?;
    for line in status.lines() {
        if let Some(value) = line.strip_prefix("VmHWM:") {
            let kib = value.trim().trim_end_matches("kB").trim();
            return kib
                .parse()
                .with_context(|| format!("VmHWM in {path} is {value:?}"));
        }
    }
    bail!("{path} has no VmHWM line")
}

/// The CPU time all threads of process `pid` have used so far, to the nanosecond
/// (`/proc/<pid>/task/*/schedstat`; user and system time together).
pub fn cpu_time(pid: u32) -> Result<Duration> {
    let tasks = format!("/proc/{pid}/task");
    let mut total = 0u64;
    for task in std::fs::read_dir(&tasks).with_context(|| format!("listing {tasks}"))? {
        let path = task?.path().join("schedstat");
        // A thread may end between the listing and the read: it then counts no more.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let nanos = text.split_whitespace().next().unwrap_or_default();
        total += nanos
            .parse::<u64>()
            .with_context(|| format!("{} is {text:?}", path.display()))?;
    }
    Ok(Duration::from_nanos(total))
}
