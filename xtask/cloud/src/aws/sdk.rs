//! The AWS SDK's configuration and its errors, explained in one line each.
//!
//! Everything goes through `aws-config`'s standard chain (environment, profiles, SSO,
//! web identity for CI's OIDC, ...) and honours `AWS_ENDPOINT_URL`, so the same code
//! deploys to AWS and to an emulator.

use anyhow::anyhow;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::config::http::HttpResponse;
use aws_sdk_cloudformation::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// The SDK configuration for `region`, over rustls with ring.
pub async fn config(region: &str) -> SdkConfig {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .http_client(https)
        .load()
        .await
}

/// AWS refused a call for its rate ("Rate exceeded"): worth waiting for, not a failure of
/// what the call asked. `explain` returns it (downcast to tell), so that a loop that
/// follows an operation backs off instead of giving up while AWS carries on.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Throttled(pub String);

/// Whether an error is AWS throttling the caller.
pub fn is_throttled(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Throttled>().is_some()
}

/// One line that says what went wrong while `doing` something, and what to do.
pub fn explain<E>(doing: &str, err: SdkError<E, HttpResponse>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let full = DisplayErrorContext(&err).to_string();
    let (mut code, mut message) = (
        err.code().unwrap_or_default().to_owned(),
        err.message().unwrap_or_default().to_owned(),
    );
    // An error body the SDK could not parse (a proxy's, or an emulator's JSON where the
    // protocol wants XML) still names the error in a header and usually in the body.
    if code.is_empty()
        && let Some(raw) = err.raw_response()
    {
        code = raw
            .headers()
            .get("x-amzn-errortype")
            .unwrap_or_default()
            .to_owned();
        if let Some(body) = raw.body().bytes()
            && let Ok(json) = serde_json::from_slice::<serde_json::Value>(body)
        {
            message = json["message"]
                .as_str()
                .or(json["Message"].as_str())
                .unwrap_or_default()
                .to_owned();
        }
    }
    let lower = full.to_ascii_lowercase();
    let line = if lower.contains("no credentials")
        || lower.contains("credentialsnotloaded")
        || lower.contains("failed to load credentials")
        || lower.contains("no providers in chain")
    {
        format!(
            "{doing}: no AWS credentials found. Set AWS_PROFILE (after `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; in CI assume a role with OIDC"
        )
    } else if matches!(
        code.as_str(),
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired"
    ) || lower.contains("token has expired")
        || lower.contains("session has expired")
    {
        format!(
            "{doing}: your AWS session has expired. Sign in again (e.g. `aws sso login`) and retry"
        )
    } else if matches!(
        code.as_str(),
        "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "InvalidAccessKeyId"
    ) {
        format!(
            "{doing}: AWS does not recognise these credentials ({code}). Check AWS_PROFILE or the access key, and retry"
        )
    } else if matches!(
        code.as_str(),
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation"
    ) {
        format!("{doing}: access denied: {message}. The role you use needs this permission")
    } else if matches!(
        code.as_str(),
        "Throttling" | "ThrottlingException" | "TooManyRequestsException"
    ) {
        return anyhow::Error::new(Throttled(format!(
            "{doing}: AWS is throttling requests ({message}). Wait a minute and retry"
        )));
    } else if matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    ) {
        format!(
            "{doing}: could not reach AWS ({}). Check the network{}",
            first_line(&full),
            std::env::var("AWS_ENDPOINT_URL")
                .map(|u| format!(" and AWS_ENDPOINT_URL={u}"))
                .unwrap_or_default()
        )
    } else if !code.is_empty() {
        format!("{doing}: {code}: {message}")
    } else {
        format!("{doing}: {}", first_line(&full))
    };
    anyhow!(line)
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}
