//! The DynamoDB client: its HTTPS stack, timeouts and retries.

use aws_sdk_dynamodb::Client;
use std::time::Duration;

/// How long to wait for a TCP connection to DynamoDB.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one attempt of a call may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1000);
/// How long a call may take, retries included: a request fails with `503` within about
/// this long when DynamoDB is unreachable, well inside API Gateway's 29 s.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(2500);
/// Attempts per call, the first included.
pub const MAX_ATTEMPTS: u32 = 3;

/// The timeouts above, for an SDK configuration.
pub fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(CALL_TIMEOUT)
        .build()
}

/// Standard retries with short backoffs: a throttled or unreachable DynamoDB gets
/// [`MAX_ATTEMPTS`] tries inside [`CALL_TIMEOUT`], not the SDK's default second-long waits.
pub fn retries() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_millis(400))
}

/// The HTTPS client: rustls with ring, whose code is a fraction of the size of aws-lc's
/// (the SDK's default), which keeps the Lambda's zip small and its start fast, trusting
/// the authorities of one CA bundle ([`super::roots`]).
pub fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, TlsContext, rustls_provider::CryptoMode};
    let tls = TlsContext::builder()
        .with_trust_store(super::roots::trust_store())
        .build()
        .expect("a TLS context of a trust store alone is always valid");
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls)
        .build_https()
}

/// A DynamoDB client from the standard AWS configuration (region, credentials,
/// `AWS_ENDPOINT_URL`), with [`http_client`], [`timeouts`] and [`retries`].
pub async fn connect() -> Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(timeouts())
        .retry_config(retries())
        .load()
        .await;
    Client::new(&sdk)
}
