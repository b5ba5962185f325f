//! A test layer that behaves like CloudFormation (and S3) where moto does not, started in
//! front of moto for one test and reached through `AWS_ENDPOINT_URL`; `xtask` knows
//! nothing of it.
//!
//! moto creates stacks synchronously, never throttles, keeps nothing on a failed create
//! and lets named resources be replaced. Here, per test ([`Config`]):
//! - stack operations pass through `*_IN_PROGRESS` for `in_progress_polls` `DescribeStacks`,
//!   their resource events revealed in CloudFormation's order (creation order, cleanup,
//!   rollback), and may first show the previous operation's status (`stale_polls`);
//! - `DescribeStacks` and `DescribeStackEvents` answer `Throttling: Rate exceeded` in
//!   bursts while an operation runs (`throttle`); events and change sets are paged;
//! - a first create can fail (`fail_create`) and roll back, deleting what it created
//!   unless its `DeletionPolicy` is `Retain` (`RetainExceptOnCreate` is deleted, as
//!   CloudFormation does for the creating operation); a create whose table name is taken
//!   fails the same way ("already exists");
//! - updates fail as CloudFormation fails them: a custom-named resource replaced under its
//!   name, more than one index created or deleted on a table, an action the stack policy
//!   denies, or on request (`fail_update`);
//! - `TemplateBody` is limited to 51,200 bytes; `TemplateURL` is read from S3;
//! - drift detection compares functions (memory, timeout) and tables (deletion protection)
//!   with moto's; an `IMPORT` change set adopts a table (its items kept) and a user pool;
//! - S3: a role without `s3:ListBucket` (`deny_list_bucket`: 403 for a missing key or a
//!   `HeadBucket`), a concurrent first use (`bucket_already_owned`), and cross-account
//!   reads granted only by the bucket's policy.
//!
//! moto serves several accounts: credentials from `sts:AssumeRole` into another account id
//! act in that account (see [`crate::support::assume_role`]).

mod cfn;
pub mod query;
mod s3;
mod template;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the proxy behaves. Tests change it between runs with [`Proxy::configure`].
#[derive(Debug, Clone)]
pub struct Config {
    /// `DescribeStacks` calls an operation stays `*_IN_PROGRESS` for.
    pub in_progress_polls: u32,
    /// `DescribeStacks` calls that still show the previous operation's status (and none of
    /// the new operation's events) right after it started.
    pub stale_polls: u32,
    /// While an operation runs, after every `.0` answers of `DescribeStacks` and
    /// `DescribeStackEvents`, `.1` answers in a row are `Throttling: Rate exceeded`.
    pub throttle: Option<(u32, u32)>,
    /// Events per `DescribeStackEvents` page (CloudFormation: 100).
    pub events_page: usize,
    /// Changes per `DescribeChangeSet` page.
    pub change_set_page: usize,
    /// `DescribeChangeSet` calls a change set stays `CREATE_IN_PROGRESS` for
    /// (`u32::MAX`: forever).
    pub change_set_polls: u32,
    /// The next first creation fails at this resource (once).
    pub fail_create: Option<String>,
    /// The next update fails at this resource (once).
    pub fail_update: Option<String>,
    /// Stateful resources updated in place are reported `Replacement: Conditional`.
    pub conditional_replacement: bool,
    /// How long `CreateStack` takes to answer (creations are handled one at a time).
    pub create_latency: Duration,
    /// `DescribeStackDriftDetectionStatus` calls a detection runs for.
    pub drift_polls: u32,
    /// S3 as a role without `s3:ListBucket` sees it: 403 for `HeadBucket` and for a
    /// missing key.
    pub deny_list_bucket: bool,
    /// The next `CreateBucket` finds that another run created the bucket a moment ago:
    /// `BucketAlreadyOwnedByYou` (once).
    pub bucket_already_owned: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            in_progress_polls: 0,
            stale_polls: 0,
            throttle: None,
            events_page: 100,
            change_set_page: 100,
            change_set_polls: 0,
            fail_create: None,
            fail_update: None,
            conditional_replacement: false,
            create_latency: Duration::ZERO,
            drift_polls: 1,
            deny_list_bucket: false,
            bucket_already_owned: false,
        }
    }
}

/// An answer, whole.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Reply {
    fn xml(status: u16, body: String) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/xml".into())],
            body: Bytes::from(body),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A request, whole.
#[derive(Debug, Clone)]
pub struct Call {
    method: hyper::Method,
    path_and_query: String,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Call {
    /// The service the request is signed for (`cloudformation`, `s3`, ...).
    fn service(&self) -> Option<String> {
        let auth = self.headers.get("authorization")?.to_str().ok()?;
        let credential = auth.split("Credential=").nth(1)?;
        Some(credential.split('/').nth(3)?.to_owned())
    }

    /// The access key the request is signed with.
    fn access_key(&self) -> Option<String> {
        let auth = self.headers.get("authorization")?.to_str().ok()?;
        let credential = auth.split("Credential=").nth(1)?;
        Some(credential.split('/').next()?.to_owned())
    }

    /// The region the request is signed for.
    fn region(&self) -> String {
        self.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|auth| auth.split("Credential=").nth(1))
            .and_then(|c| c.split('/').nth(2))
            .unwrap_or("us-east-1")
            .to_owned()
    }

    /// This request, signed (as moto reads it: unchecked) for another service.
    fn as_service(&self, service: &str) -> hyper::HeaderMap {
        let key = self.access_key().unwrap_or_else(|| "testing".into());
        let region = self.region();
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/{service}/aws4_request, \
                 SignedHeaders=host, Signature=0"
            )
            .parse()
            .unwrap(),
        );
        if let Some(token) = self.headers.get("x-amz-security-token") {
            headers.insert("x-amz-security-token", token.clone());
        }
        headers
    }
}

/// What the running proxy shares with the test.
pub struct Shared {
    moto: String,
    client: Client<HttpConnector, Full<Bytes>>,
    config: Mutex<Config>,
    cfn: Mutex<cfn::State>,
    s3: Mutex<s3::State>,
    calls: Mutex<BTreeMap<String, usize>>,
    /// The parameters of every CloudFormation call, in order, for tests of what was sent.
    requests: Mutex<Vec<(String, query::Params)>>,
    /// Stack operations are handled one at a time, as a service applies them in order.
    operations: tokio::sync::Mutex<()>,
}

impl Shared {
    fn config(&self) -> Config {
        self.config.lock().unwrap().clone()
    }

    fn record(&self, action: &str, params: &query::Params) {
        self.requests
            .lock()
            .unwrap()
            .push((action.to_owned(), params.clone()));
    }

    fn count(&self, name: &str) {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default() += 1;
    }

    /// Sends a request to moto.
    async fn send(
        &self,
        method: hyper::Method,
        path_and_query: &str,
        headers: &hyper::HeaderMap,
        body: Bytes,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path_and_query}", self.moto));
        for (name, value) in headers {
            if !matches!(
                name.as_str(),
                "host" | "content-length" | "transfer-encoding" | "connection"
            ) {
                request = request.header(name, value);
            }
        }
        let request = request.body(Full::new(body)).expect("a valid request");
        match self.client.request(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response
                    .headers()
                    .iter()
                    .filter(|(n, _)| !matches!(n.as_str(), "transfer-encoding" | "connection"))
                    .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
                    .collect();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                Reply {
                    status,
                    headers,
                    body,
                }
            }
            Err(err) => Reply::xml(502, format!("<Error>moto unreachable: {err}</Error>")),
        }
    }

    /// Sends a call on to moto as it is.
    async fn forward(&self, call: &Call) -> Reply {
        self.send(
            call.method.clone(),
            &call.path_and_query,
            &call.headers,
            call.body.clone(),
        )
        .await
    }

    /// A query-protocol action to moto (`service`'s), signed with the caller's key.
    async fn query(&self, call: &Call, service: &str, params: &query::Params) -> Reply {
        let mut headers = call.as_service(service);
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        self.send(
            hyper::Method::POST,
            "/",
            &headers,
            Bytes::from(query::encode(params)),
        )
        .await
    }

    /// A JSON-protocol action to moto (`DynamoDB_20120810.Scan`, ...), as the caller.
    async fn json(
        &self,
        call: &Call,
        service: &str,
        target: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut headers = call.as_service(service);
        headers.insert("x-amz-target", target.parse().unwrap());
        headers.insert(
            "content-type",
            "application/x-amz-json-1.0".parse().unwrap(),
        );
        let reply = self
            .send(
                hyper::Method::POST,
                "/",
                &headers,
                Bytes::from(body.to_string()),
            )
            .await;
        (
            reply.status,
            serde_json::from_slice(&reply.body).unwrap_or(serde_json::Value::Null),
        )
    }

    /// The account the caller's credentials act in (moto's `GetCallerIdentity`).
    async fn account_of(&self, call: &Call) -> String {
        let params = query::Params::from([
            ("Action".into(), "GetCallerIdentity".into()),
            ("Version".into(), "2011-06-15".into()),
        ]);
        let reply = self.query(call, "sts", &params).await;
        query::first(&reply.text(), "Account").unwrap_or_else(|| "123456789012".into())
    }
}

/// A running proxy, stopped when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy in front of the moto server of `cargo xtask test`.
    pub fn start(config: Config) -> Proxy {
        let moto = crate::support::moto();
        let shared = Arc::new(Shared {
            moto,
            client: Client::builder(TokioExecutor::new()).build_http(),
            config: Mutex::new(config),
            cfn: Mutex::new(cfn::State::default()),
            s3: Mutex::new(s3::State::default()),
            calls: Mutex::new(BTreeMap::new()),
            requests: Mutex::new(Vec::new()),
            operations: tokio::sync::Mutex::new(()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let shared = serving.clone();
                            tokio::spawn(async move {
                                let service = service_fn(move |request| {
                                    let shared = shared.clone();
                                    async move { Ok::<_, std::convert::Infallible>(handle(&shared, request).await) }
                                });
                                let _ = http1::Builder::new()
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        Proxy {
            endpoint,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Changes the configuration (for the next requests).
    pub fn configure(&self, change: impl FnOnce(&mut Config)) {
        change(&mut self.shared.config.lock().unwrap());
    }

    /// The parameters of each CloudFormation call of `action` (`CreateChangeSet`, ...), in order.
    #[allow(dead_code)] // for tests/rollout.rs, which shares this file
    pub fn requests(&self, action: &str) -> Vec<query::Params> {
        self.shared
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, params)| params.clone())
            .collect()
    }

    /// How many times `action` (`CreateStack`, `DescribeStackEvents`, `s3:CreateBucket`...)
    /// was called.
    pub fn calls(&self, action: &str) -> usize {
        self.shared
            .calls
            .lock()
            .unwrap()
            .get(action)
            .copied()
            .unwrap_or_default()
    }

    /// Gives a stack `count` older events, as a long-lived stack has.
    pub fn add_history(&self, stack: &str, count: usize) {
        self.shared.cfn.lock().unwrap().add_history(stack, count);
    }

    /// Lets every running operation finish at its next poll (and change sets complete).
    pub fn settle_all(&self) {
        self.configure(|c| {
            c.in_progress_polls = 0;
            c.stale_polls = 0;
            c.change_set_polls = 0;
        });
        self.shared.cfn.lock().unwrap().settle_all();
    }

    /// The status the proxy reports for a stack now, without counting as a poll.
    pub fn status(&self, stack: &str) -> Option<String> {
        self.shared.cfn.lock().unwrap().status(stack)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn handle(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let call = Call {
        method: parts.method,
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into()),
        headers: parts.headers,
        body,
    };
    let reply = match call.service().as_deref() {
        Some("cloudformation") => cfn::handle(shared, &call).await,
        Some("s3") => s3::handle(shared, &call).await,
        _ => None,
    };
    let reply = match reply {
        Some(reply) => reply,
        None => shared.forward(&call).await,
    };
    let mut response = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        if name != "content-length" || call.method == hyper::Method::HEAD {
            response = response.header(name, value);
        }
    }
    response
        .body(Full::new(reply.body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}
