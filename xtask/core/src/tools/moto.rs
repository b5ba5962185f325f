//! A moto server (CloudFormation, S3, STS, Lambda, IAM, Cognito) on a free loopback port.

use anyhow::{Context, Result, bail};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
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
