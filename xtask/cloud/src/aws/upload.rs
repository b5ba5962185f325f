//! Building every function and putting its zip in the artifact bucket, as `deploy` and
//! `dev` do before a rollout.

use super::artifact_bucket;
use super::rollout::ArtifactReport;
use super::target::Context;
use anyhow::Result;
use std::collections::BTreeMap;
use tickets_manifest::functions::TICKETS_API;
use xtask_core::lambda::arch::Arch;
use xtask_core::lambda::artifact::{self, human_bytes};
use xtask_core::lambda::profile::Profile;

/// Builds every function with `profile` and uploads the zips the bucket lacks.
pub async fn build_and_upload(ctx: &Context, profile: Profile) -> Result<ArtifactReport> {
    let arch = Arch::from(ctx.env.lambda.architecture);
    let built = tokio::task::spawn_blocking(move || artifact::build_as(arch, profile)).await??;
    let bucket = ctx.bucket();
    bucket.ensure().await?;
    let mut keys = BTreeMap::new();
    let mut uploaded = false;
    for artifact in &built {
        let key = artifact_bucket::key(artifact.function.name, &artifact.sha256);
        let this_one = bucket.upload(&artifact.zip, &key, profile).await?;
        eprintln!(
            "xtask: artifact s3://{}/{key} ({}, {}){}",
            bucket.name,
            human_bytes(artifact.zip_bytes),
            profile.name(),
            if this_one {
                " uploaded"
            } else {
                " already there"
            }
        );
        uploaded |= this_one;
        keys.insert(artifact.function.artifact_parameter.to_owned(), key);
    }
    Ok(ArtifactReport {
        bucket: bucket.name.clone(),
        key: keys
            .get(TICKETS_API.artifact_parameter)
            .cloned()
            .unwrap_or_default(),
        keys,
        uploaded,
    })
}
