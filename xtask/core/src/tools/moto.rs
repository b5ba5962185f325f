//! A moto server (CloudFormation, S3, STS, Lambda, IAM, Cognito) on a free loopback port.

use anyhow::{Context, Result, bail};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `python -m moto.server`, with one correction: moto evaluates S3 bucket policies without
/// their `Condition`s, so the artifact bucket's "deny plain HTTP" (`aws:SecureTransport` is
/// false) would deny every call, where AWS denies only plain-HTTP ones. Statements that deny
/// under a condition are left out of moto's evaluation; the policy as written is kept and
/// returned by `GetBucketPolicy`.
const SERVER: &str = r#"
import json, sys
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3 import models

def get_permission(self, action, resource):
    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy.decode())
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    policy["Statement"] = [
        s for s in statements if not (s.get("Effect") == "Deny" and "Condition" in s)
    ]
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

models.FakeBucket.get_permission = get_permission
from moto.server import main
main(sys.argv[1:])
"#;

/// A running moto server, stopped when dropped.
pub struct MotoServer {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub endpoint: String,
}

impl MotoServer {
    /// Starts `python -m moto.server` and waits until it accepts connections.
    pub fn start(python: &Path) -> Result<Self> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let child = Command::new(python)
            .args(["-c", SERVER, "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the moto server")?;
        let mut server = MotoServer {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the moto server exited at start ({status}); run `python -m moto.server` by hand to see why"
                );
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("the moto server did not listen on port {port} within 60 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
