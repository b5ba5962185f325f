//! A progress bar on stderr: items done of the source's (approximate) item count, the rate
//! and the time left. On a terminal it redraws one line ten times a second; otherwise (CI,
//! a pipe) it prints a line every ten seconds (or as often as `--progress-every` says). Written here rather than taken from a crate:
//! one line of text does not need `indicatif`'s terminal handling and its dependencies.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use xtask_core::figures::thousands;

/// The progress of one pass.
pub struct Progress {
    label: &'static str,
    total: Option<u64>,
    done: AtomicU64,
    started: Instant,
    terminal: bool,
    every: Duration,
    last_draw: Mutex<Option<Instant>>,
}

impl Progress {
    /// A pass over about `total` items (DynamoDB's `ItemCount`, refreshed every few hours),
    /// drawn `every` so often (by default: as fits stderr).
    pub fn new(label: &'static str, total: Option<u64>, every: Option<Duration>) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let every = every.unwrap_or(if terminal {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(10)
        });
        Progress {
            label,
            total: total.filter(|t| *t > 0),
            done: AtomicU64::new(0),
            started: Instant::now(),
            terminal,
            every,
            last_draw: Mutex::new(None),
        }
    }

    /// `items` more are done; redraws when it is time.
    pub fn add(&self, items: u64) {
        self.done.fetch_add(items, Ordering::Relaxed);
        let every = self.every;
        let now = Instant::now();
        let mut last = self.last_draw.lock().expect("progress");
        let previous = *last;
        if previous.is_none_or(|at| now.duration_since(at) >= every) {
            *last = Some(now);
            // Off a terminal, the first line waits a period: short runs print none.
            if self.terminal || previous.is_some() {
                self.draw(false);
            }
        }
    }

    /// Items done so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Seconds since the pass started.
    pub fn seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Items per second so far.
    pub fn rate(&self) -> f64 {
        self.done() as f64 / self.seconds().max(1e-3)
    }

    /// Draws the last state and ends the line.
    pub fn finish(&self) {
        if self.terminal || self.started.elapsed() >= self.every {
            self.draw(true);
        }
    }

    fn draw(&self, last: bool) {
        let line = self.line();
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(err, "\r\x1b[2K{line}{}", if last { "\n" } else { "" })
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }

    /// `migrating  [#######-------------]  3 500/10 000  2 310 items/s  ETA 3 s`
    pub fn line(&self) -> String {
        let done = self.done();
        let rate = self.rate();
        match self.total {
            Some(total) => {
                const WIDTH: u64 = 24;
                let filled = (done.min(total) * WIDTH / total) as usize;
                let eta = if done >= total || rate < 1.0 {
                    "ETA -".to_owned()
                } else {
                    format!("ETA {}", duration((total - done) as f64 / rate))
                };
                format!(
                    "{}  [{}{}]  {}/{}  {} items/s  {eta}",
                    self.label,
                    "#".repeat(filled),
                    "-".repeat(WIDTH as usize - filled),
                    thousands(done),
                    thousands(total),
                    thousands(rate as u64),
                )
            }
            None => format!(
                "{}  {} items  {} items/s",
                self.label,
                thousands(done),
                thousands(rate as u64)
            ),
        }
    }
}

fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_count_rate_and_eta() {
        let progress = Progress::new("migrating", Some(10_000), None);
        progress.done.store(2_500, Ordering::Relaxed);
        let line = progress.line();
        assert!(line.starts_with("migrating  [######------------------]  2 500/10 000  "));
        assert!(line.contains(" items/s  ETA "), "{line}");
        assert_eq!(thousands(1_234_567), "1 234 567");
        assert_eq!(duration(125.0), "2 min 5 s");
    }
}
