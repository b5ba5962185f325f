//! Instances of one function, as Lambda scales it: an idle instance serves each invocation,
//! and a new one starts (a cold start) when all are busy, up to a limit.

use super::instance::{FunctionConfig, Instance, InvokeError};
use anyhow::Result;
use bytes::Bytes;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Instances of one function: an idle one serves each invocation, and a new one starts
/// (a cold start) when all are busy, up to a limit.
pub struct Pool {
    config: FunctionConfig,
    idle: Mutex<Vec<Instance>>,
    permits: Semaphore,
    cold_starts: std::sync::atomic::AtomicUsize,
}

impl Pool {
    /// A pool of at most `max` concurrent instances of `config`; none start until needed.
    pub fn new(config: FunctionConfig, max: usize) -> Self {
        Pool {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max.max(1)),
            cold_starts: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The function this pool runs.
    pub fn config(&self) -> &FunctionConfig {
        &self.config
    }

    /// Starts one instance ahead of the first request; returns its init duration and pid.
    pub async fn warm(&self) -> Result<(Duration, Option<u32>)> {
        let instance = self.start().await?;
        let init = instance.ready().await?;
        let pid = instance.pid();
        self.park(instance);
        Ok((init, pid))
    }

    /// How many instances were started so far.
    pub fn cold_starts(&self) -> usize {
        self.cold_starts.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Invokes the function on an idle instance, or a new one if none is idle. Dropping the
    /// future before it ends discards (kills) the instance it was using.
    pub async fn invoke(&self, event: Bytes) -> Result<Bytes, InvokeError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| InvokeError::Crashed("the pool is closed".into()))?;
        let instance = match self.take_idle() {
            Some(instance) => instance,
            None => {
                let instance = self
                    .start()
                    .await
                    .map_err(|e| InvokeError::Crashed(format!("{e:#}")))?;
                instance
                    .ready()
                    .await
                    .map_err(|e| InvokeError::Crashed(format!("{e:#}")))?;
                instance
            }
        };
        let result = instance.invoke(event).await;
        // A timed-out or dead instance is discarded (and killed); the next call starts a new one.
        if result
            .as_ref()
            .err()
            .is_none_or(InvokeError::keeps_instance)
            && instance.is_alive()
        {
            self.park(instance);
        }
        result
    }

    async fn start(&self) -> Result<Instance> {
        self.cold_starts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Instance::spawn(&self.config).await
    }

    fn take_idle(&self) -> Option<Instance> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(instance) = idle.pop() {
            if instance.is_alive() {
                return Some(instance);
            }
        }
        None
    }

    fn park(&self, instance: Instance) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(instance);
        }
    }

    /// Refuses new invocations and stops every idle instance, waiting until each has exited
    /// (busy ones are killed when their invocation ends and the pool is dropped).
    pub async fn shutdown(&self) {
        self.permits.close();
        let idle = self
            .idle
            .lock()
            .map(|mut idle| std::mem::take(&mut *idle))
            .unwrap_or_default();
        for instance in idle {
            instance.stop().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::instance::Logs;
    use std::sync::Arc;
    use std::time::Instant;

    /// A stand-in for `bootstrap` speaking the Runtime API: echoes events, and obeys
    /// `{"crash": true}`, `{"sleep": seconds}` and `{"fail": true}`.
    const FAKE_RUNTIME: &str = r#"#!/usr/bin/env python3
import json, os, sys, time, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
if os.environ.get("FAIL_INIT"):
    urllib.request.urlopen(urllib.request.Request(api + "/init/error", data=b'{"errorMessage":"no config"}', method="POST"))
    sys.exit(3)
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    if event.get("crash"):
        os._exit(1)
    time.sleep(event.get("sleep", 0))
    verb = "error" if event.get("fail") else "response"
    body = json.dumps({"echo": event, "pid": os.getpid(), "fn": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}).encode()
    urllib.request.urlopen(urllib.request.Request(api + "/invocation/" + request_id + "/" + verb, data=body, method="POST")).read()
"#;

    /// The fake function's configuration; its folder is removed when dropped.
    struct Fake {
        config: FunctionConfig,
        dir: std::path::PathBuf,
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fake(name: &str, timeout: Duration, env: &[(&str, &str)]) -> Fake {
        let dir = std::env::temp_dir().join(format!("xtask-runtime-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("bootstrap");
        std::fs::write(&binary, FAKE_RUNTIME).unwrap();
        #[cfg(unix)]
        std::fs::set_permissions(&binary, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let config = FunctionConfig {
            binary,
            name: format!("fake-{name}"),
            memory_mb: 128,
            timeout,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            logs: Logs::Discard,
        };
        Fake { config, dir }
    }

    async fn call(pool: &Pool, event: serde_json::Value) -> Result<serde_json::Value, InvokeError> {
        let answer = pool.invoke(Bytes::from(event.to_string())).await?;
        Ok(serde_json::from_slice(&answer).unwrap())
    }

    #[tokio::test]
    async fn answers_invocations_and_reuses_the_warm_instance() {
        let fake = fake("reuse", Duration::from_secs(5), &[]);
        let pool = Pool::new(fake.config.clone(), 4);
        let (_, pid) = pool.warm().await.unwrap();
        let first = call(&pool, serde_json::json!({"n": 1})).await.unwrap();
        let second = call(&pool, serde_json::json!({"n": 2})).await.unwrap();
        assert_eq!(first["echo"]["n"], 1);
        assert_eq!(second["echo"]["n"], 2);
        assert_eq!(first["fn"], "fake-reuse");
        assert_eq!(first["pid"], pid.unwrap());
        assert_eq!(second["pid"], pid.unwrap());
        assert_eq!(pool.cold_starts(), 1);
        pool.shutdown().await;
    }

    #[tokio::test]
    async fn fails_an_invocation_whose_process_dies_and_starts_a_new_instance() {
        let fake = fake("crash", Duration::from_secs(5), &[]);
        let pool = Pool::new(fake.config.clone(), 1);
        let before = call(&pool, serde_json::json!({})).await.unwrap()["pid"].clone();
        let crashed = call(&pool, serde_json::json!({"crash": true})).await;
        assert!(
            matches!(crashed, Err(InvokeError::Crashed(_))),
            "{crashed:?}"
        );
        let after = call(&pool, serde_json::json!({})).await.unwrap()["pid"].clone();
        assert_ne!(before, after);
        assert_eq!(pool.cold_starts(), 2);
        pool.shutdown().await;
    }

    #[tokio::test]
    async fn times_out_invocations_that_run_past_the_function_timeout() {
        let fake = fake("timeout", Duration::from_millis(500), &[]);
        let pool = Pool::new(fake.config.clone(), 1);
        pool.warm().await.unwrap();
        let started = Instant::now();
        let slow = call(&pool, serde_json::json!({"sleep": 5})).await;
        assert!(matches!(slow, Err(InvokeError::Timeout(_))), "{slow:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        // The timed-out instance is discarded: the next call gets a new one.
        assert!(call(&pool, serde_json::json!({})).await.is_ok());
        assert_eq!(pool.cold_starts(), 2);
        pool.shutdown().await;
    }

    #[tokio::test]
    async fn reports_function_errors_and_keeps_the_instance() {
        let fake = fake("error", Duration::from_secs(5), &[]);
        let pool = Pool::new(fake.config.clone(), 1);
        let failed = call(&pool, serde_json::json!({"fail": true})).await;
        assert!(
            matches!(failed, Err(InvokeError::Function(_))),
            "{failed:?}"
        );
        assert!(call(&pool, serde_json::json!({})).await.is_ok());
        assert_eq!(pool.cold_starts(), 1);
        pool.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_concurrent_invocations_on_separate_instances() {
        let fake = fake("parallel", Duration::from_secs(10), &[]);
        let pool = Arc::new(Pool::new(fake.config.clone(), 3));
        let calls: Vec<_> = (0..3)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    call(&pool, serde_json::json!({"sleep": 0.5}))
                        .await
                        .unwrap()["pid"]
                        .clone()
                })
            })
            .collect();
        let mut pids = Vec::new();
        for call in calls {
            pids.push(call.await.unwrap());
        }
        pids.sort_by_key(|p| p.as_u64());
        pids.dedup();
        assert_eq!(pids.len(), 3);
        assert_eq!(pool.cold_starts(), 3);
        pool.shutdown().await;
    }

    #[tokio::test]
    async fn reports_init_errors() {
        let fake = fake("init", Duration::from_secs(5), &[("FAIL_INIT", "1")]);
        let pool = Pool::new(fake.config.clone(), 1);
        let err = pool.warm().await.unwrap_err().to_string();
        assert!(err.contains("no config"), "{err}");
    }
}
