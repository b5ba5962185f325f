//! Starts `xtask local` as a child process on a free port with a temporary state folder,
//! and talks HTTP/1.1 to it over a plain socket.

use base64::Engine;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

const XTASK: &str = env!("CARGO_BIN_EXE_xtask-local");

/// A state folder, deleted when dropped.
pub struct StateDir(PathBuf);

impl StateDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("xtask-local-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        StateDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `xtask local`, killed when dropped.
pub struct LocalApi {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    /// What it printed on start, from `Local API: <url>` to the Ctrl-C line.
    pub banner: Vec<String>,
    /// What it printed on stdout after the banner (with `--function-logs raw`, the
    /// function's own lines among them).
    output: Arc<Mutex<Vec<String>>>,
    state: Option<StateDir>,
}

/// How `xtask token` should shape a token.
#[derive(Default, Clone, Copy)]
pub struct TokenOptions<'a> {
    pub admin: bool,
    pub expires_in: Option<i64>,
    pub audience: Option<&'a str>,
}

impl LocalApi {
    /// A fresh API with its own state folder.
    pub fn start(name: &str) -> Self {
        Self::restart(StateDir::new(name), true)
    }

    /// A fresh API started with `args` (which should name `--function-logs`).
    pub fn start_with(name: &str, args: &[&str]) -> Self {
        Self::launch(StateDir::new(name), true, args)
    }

    /// An API over an existing state folder.
    pub fn restart(state: StateDir, fresh: bool) -> Self {
        Self::launch(state, fresh, &["--function-logs", "off"])
    }

    fn launch(state: StateDir, fresh: bool, args: &[&str]) -> Self {
        let mut command = Command::new(XTASK);
        // Only the reload tests edit sources; the rest need not poll them.
        command
            .args(["local", "--port", "0", "--no-watch"])
            .args(args);
        if fresh {
            command.arg("--fresh");
        }
        Self::attach(command, state, Duration::from_secs(300))
    }

    /// A fresh API that builds, watches and reloads the workspace at `workspace`, with cargo's
    /// target directory at `target`; it may take `startup` to build.
    pub fn start_watching(name: &str, workspace: &Path, target: &Path, startup: Duration) -> Self {
        let mut command = Command::new(XTASK);
        command
            .args(["local", "--port", "0", "--fresh", "--function-logs", "off"])
            .arg("--workspace")
            .arg(workspace)
            .env("CARGO_TARGET_DIR", target)
            .env("TICKETS_TARGET_DIR", target);
        Self::attach(command, StateDir::new(name), startup)
    }

    fn attach(mut command: Command, state: StateDir, startup: Duration) -> Self {
        command
            .arg("--state-dir")
            .arg(state.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("start xtask local");
        let stdout = child.stdout.take().expect("piped stdout");
        let (banner_tx, banner_rx) = mpsc::channel();
        let output = Arc::new(Mutex::new(Vec::new()));
        // Keep draining stdout (one line per request) so that the server never blocks on it.
        let kept = output.clone();
        std::thread::spawn(move || {
            let mut banner_tx = Some(banner_tx);
            let mut banner: Vec<String> = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if banner_tx.is_none() {
                    kept.lock().unwrap().push(line);
                    continue;
                }
                let last = line.contains("Ctrl-C stops");
                if line.starts_with("Local API: ") || !banner.is_empty() {
                    banner.push(line);
                }
                if last && let Some(tx) = banner_tx.take() {
                    let _ = tx.send(std::mem::take(&mut banner));
                }
            }
        });
        let banner = banner_rx
            .recv_timeout(startup)
            .expect("xtask local printed no banner (see its stderr above)");
        let url = banner
            .first()
            .and_then(|line| line.strip_prefix("Local API: "))
            .expect("the banner starts with the URL")
            .to_owned();
        LocalApi {
            child,
            url,
            banner,
            output,
            state: Some(state),
        }
    }

    /// Waits (at most `timeout`) until `count` lines printed after the banner start with
    /// `prefix`; returns everything printed so far.
    pub fn wait_for_lines(&self, prefix: &str, count: usize, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let seen = self
                .output
                .lock()
                .unwrap()
                .iter()
                .filter(|line| line.starts_with(prefix))
                .count();
            if seen >= count {
                return self.output();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no {count} lines starting with {prefix:?} after {timeout:?}; printed:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The function's JSON log lines printed so far (with `--function-logs raw`), once
    /// `done` holds for them or after 10 s: lines reach the pipe after the answers do.
    pub fn function_lines(
        &self,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let lines: Vec<serde_json::Value> = self
                .output
                .lock()
                .unwrap()
                .iter()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .filter(|line| line.get("level").is_some())
                .collect();
            if done(&lines) || std::time::Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The state folder it runs over.
    pub fn state_path(&self) -> &Path {
        self.state.as_ref().expect("a state folder").path()
    }

    /// Everything printed on stdout after the banner.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// Stops the server with SIGTERM, as Ctrl-C would, and hands back its state folder.
    pub fn stop(mut self) -> StateDir {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait for xtask local");
        assert!(exit.success(), "xtask local did not stop cleanly: {exit}");
        self.state.take().expect("a state folder")
    }

    /// Runs `xtask <args> --state-dir <this API's state>`.
    pub fn xtask(&self, args: &[&str]) -> Output {
        Command::new(XTASK)
            .args(args)
            .arg("--state-dir")
            .arg(self.state.as_ref().expect("a state folder").path())
            .output()
            .expect("run xtask")
    }

    /// An ID token from the local issuer.
    pub fn token(&self, user: &str, options: TokenOptions) -> String {
        let mut args = vec!["token", "--env", "local", "--user", user];
        let expires_in = options.expires_in.map(|s| s.to_string());
        if options.admin {
            args.push("--admin");
        }
        if let Some(seconds) = &expires_in {
            args.extend(["--expires-in", seconds]);
        }
        if let Some(audience) = options.audience {
            args.extend(["--audience", audience]);
        }
        let output = self.xtask(&args);
        assert!(
            output.status.success(),
            "xtask token failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("UTF-8")
            .trim()
            .to_owned()
    }

    /// The claims of a token (not verified).
    pub fn token_claims(&self, token: &str) -> serde_json::Value {
        let payload = token.split('.').nth(1).expect("a JWT");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON claims")
    }

    /// One request on a new connection.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        self.request_bytes(method, path, headers, body.map(str::as_bytes))
    }

    /// One request with a body of arbitrary bytes, on a new connection.
    pub fn request_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Reply {
        let authority = self.url.strip_prefix("http://").expect("an http URL");
        let mut stream = TcpStream::connect(authority).expect("connect to the local API");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or_default();
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        // The server may answer (413, 431) and close before reading everything.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        Reply::parse(&raw)
    }
}

impl Drop for LocalApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    fn parse(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Reply {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}
