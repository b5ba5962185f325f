//! A proxy in front of the engine that answers a run of write requests (`PutItem`,
//! `TransactWriteItems`, `BatchWriteItem`) as DynamoDB answers a table over its capacity (`ProvisionedThroughputExceededException`, HTTP 400),
//! and passes everything else through. dynoxide never throttles; DynamoDB does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The body DynamoDB sends with the error (awsJson 1.0: the type names the error).
const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."}"#;

/// What the proxy counts.
#[derive(Default)]
pub struct Counters {
    /// Write requests received.
    pub writes: AtomicU64,
    /// Those answered as throttled.
    pub throttled: AtomicU64,
}

/// The proxy's address and counters.
pub struct Throttler {
    /// `http://127.0.0.1:<port>`
    pub endpoint: String,
    /// What it saw.
    pub counters: Arc<Counters>,
}

impl Throttler {
    /// Proxies to `upstream` (`http://host:port`) on `runtime`, throttling the write requests
    /// numbered `from` to `from + count - 1` (counting from 0), whoever sends them.
    pub fn start(runtime: &tokio::runtime::Runtime, upstream: &str, from: u64, count: u64) -> Self {
        let upstream = upstream
            .strip_prefix("http://")
            .expect("an http:// endpoint")
            .to_owned();
        let counters = Arc::new(Counters::default());
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("a port for the proxy");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::clone(&counters);
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, counters) = (upstream.clone(), Arc::clone(&shared));
                tokio::spawn(async move {
                    // A connection that ends mid-request (the client gave up) ends here too.
                    let _ = relay(client, &upstream, &counters, from..from + count).await;
                });
            }
        });
        Throttler { endpoint, counters }
    }

    /// Write requests answered as throttled so far.
    pub fn throttled(&self) -> u64 {
        self.counters.throttled.load(Ordering::SeqCst)
    }
}

/// Serves one client connection, request by request (HTTP/1.1 keep-alive).
async fn relay(
    client: TcpStream,
    upstream: &str,
    counters: &Counters,
    throttle: std::ops::Range<u64>,
) -> std::io::Result<()> {
    let mut client = BufReader::new(client);
    let mut server: Option<BufReader<TcpStream>> = None;
    while let Some((head, body)) = message(&mut client).await? {
        let head_text = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let write = ["putitem", "transactwriteitems", "batchwriteitem"]
            .iter()
            .any(|op| head_text.contains(&format!("x-amz-target: dynamodb_20120810.{op}\r\n")));
        if write {
            let n = counters.writes.fetch_add(1, Ordering::SeqCst);
            if throttle.contains(&n) {
                let id = counters.throttled.fetch_add(1, Ordering::SeqCst);
                let answer = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\n\
                     x-amzn-requestid: throttled-{id}\r\ncontent-length: {}\r\n\r\n{THROTTLED}",
                    THROTTLED.len()
                );
                client.get_mut().write_all(answer.as_bytes()).await?;
                continue;
            }
        }
        if server.is_none() {
            server = Some(BufReader::new(TcpStream::connect(upstream).await?));
        }
        let server = server.as_mut().expect("connected");
        server.get_mut().write_all(&head).await?;
        server.get_mut().write_all(&body).await?;
        let (head, body) = message(server).await?.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the engine hung up")
        })?;
        client.get_mut().write_all(&head).await?;
        client.get_mut().write_all(&body).await?;
    }
    Ok(())
}

/// One HTTP/1.1 message: its head (start line and headers, as sent) and its body, which
/// both sides here always give a `content-length`; `None` at a clean end of the stream.
async fn message(
    stream: &mut (impl AsyncBufRead + Unpin),
) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        if stream.read_until(b'\n', &mut line).await? == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(std::io::ErrorKind::UnexpectedEof.into())
            };
        }
        head.extend_from_slice(&line);
        if line == b"\r\n" {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    assert!(
        !text.contains("transfer-encoding: chunked"),
        "the proxy reads only content-length bodies:\n{text}"
    );
    let length = text
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |n| n.trim().parse().expect("a content-length"));
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await?;
    Ok(Some((head, body)))
}
