//! Which build an artifact is: recorded as S3 object metadata when it is uploaded, and
//! checked wherever only a release build may go (promotions, and staging and production).

use super::sdk::explain;
use anyhow::Result;
use tickets_infra::environment::Environment;
use xtask_core::lambda::profile::Profile;
use xtask_core::outcome::refused;

/// The object metadata key (`x-amz-meta-build-profile`).
pub const METADATA_KEY: &str = "build-profile";

/// Environments that shift traffic between versions (staging, prod) or are production run
/// what was tested: release builds only.
pub fn takes_release_only(env: &Environment) -> bool {
    env.is_production() || env.rollout.alias
}

/// The profile recorded with `s3://bucket/key`.
pub async fn recorded(
    config: &aws_config::SdkConfig,
    bucket: &str,
    key: &str,
) -> Result<Option<Profile>> {
    let head = aws_sdk_s3::Client::new(config)
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| explain(&format!("reading the metadata of s3://{bucket}/{key}"), e))?;
    let value = head.metadata().and_then(|m| m.get(METADATA_KEY));
    Ok(Profile::parse(value.map(String::as_str)))
}

/// Refuses any of `keys` in `bucket` that is not a release build, saying where it goes.
pub async fn require_release<'a>(
    config: &aws_config::SdkConfig,
    bucket: &str,
    keys: impl IntoIterator<Item = &'a String>,
    destination: &str,
) -> Result<()> {
    for key in keys {
        match recorded(config, bucket, key).await? {
            Some(Profile::Release) => {}
            other => {
                return Err(refused(format!(
                    "s3://{bucket}/{key} is a {} build, and {destination} takes release builds only: \
                     deploy the source with a release build (`cargo xtask deploy` without --profile dev) \
                     and promote that",
                    other.map_or("unknown", Profile::name)
                )));
            }
        }
    }
    Ok(())
}
