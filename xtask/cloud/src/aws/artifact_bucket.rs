//! The artifact bucket: created on first use (encrypted, private, versioned), holding
//! each Lambda zip under a key derived from its SHA-256, so an artifact is immutable and
//! promotion between stages reuses it as it is.

use super::build_profile;
use super::sdk::explain;
use anyhow::{Context, Result, bail};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, VersioningConfiguration,
};
use std::path::Path;
use xtask_core::lambda::profile::Profile;

/// The bucket for `account` in `region`: one per account and region, shared by stacks.
pub fn bucket_name(account: &str, region: &str) -> String {
    format!("tickets-artifacts-{account}-{region}")
}

/// The key of `function`'s zip with this SHA-256.
pub fn key(function: &str, sha256: &str) -> String {
    format!("{function}/{sha256}.zip")
}

/// Whether `s3://bucket/key` exists (a missing bucket counts as a missing object).
pub async fn exists(client: &Client, bucket: &str, key: &str, owner: Option<&str>) -> Result<bool> {
    match client
        .head_object()
        .bucket(bucket)
        .key(key)
        .set_expected_bucket_owner(owner.map(str::to_owned))
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(err)
            if err
                .raw_response()
                .is_some_and(|r| r.status().as_u16() == 404) =>
        {
            Ok(false)
        }
        Err(err) => Err(explain(&format!("looking for s3://{bucket}/{key}"), err)),
    }
}

/// An artifact bucket.
pub struct ArtifactBucket {
    client: Client,
    /// Bucket name.
    pub name: String,
    account: String,
    region: String,
}

impl ArtifactBucket {
    /// The bucket of `account` in `region`.
    pub fn new(config: &aws_config::SdkConfig, account: &str, region: &str) -> Self {
        ArtifactBucket {
            client: Client::new(config),
            name: bucket_name(account, region),
            account: account.to_owned(),
            region: region.to_owned(),
        }
    }

    /// Creates the bucket if it does not exist; returns whether it did.
    pub async fn ensure(&self) -> Result<bool> {
        // Naming the expected owner means a bucket of the same name in another account is
        // never written to.
        let head = self
            .client
            .head_bucket()
            .bucket(&self.name)
            .expected_bucket_owner(&self.account)
            .send()
            .await;
        match head {
            Ok(_) => return Ok(false),
            Err(err)
                if err
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 404) => {}
            Err(err)
                if err
                    .raw_response()
                    .is_some_and(|r| r.status().as_u16() == 403) =>
            {
                bail!(
                    "the artifact bucket {} exists but is not this account's ({}); delete it or use another account",
                    self.name,
                    self.account
                )
            }
            Err(err) => {
                return Err(explain(
                    &format!("checking artifact bucket {}", self.name),
                    err,
                ));
            }
        }
        eprintln!(
            "xtask: creating artifact bucket {} (encrypted, private, versioned)",
            self.name
        );
        let mut create = self.client.create_bucket().bucket(&self.name);
        if self.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        create
            .send()
            .await
            .map_err(|e| explain(&format!("creating artifact bucket {}", self.name), e))?;
        self.client
            .put_public_access_block()
            .bucket(&self.name)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| explain("blocking public access to the artifact bucket", e))?;
        self.client
            .put_bucket_encryption()
            .bucket(&self.name)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(
                                ServerSideEncryptionByDefault::builder()
                                    .sse_algorithm(ServerSideEncryption::Aes256)
                                    .build()?,
                            )
                            .build(),
                    )
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| explain("encrypting the artifact bucket", e))?;
        self.client
            .put_bucket_versioning()
            .bucket(&self.name)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| explain("enabling versioning on the artifact bucket", e))?;
        Ok(true)
    }

    /// Whether `key` exists.
    pub async fn contains(&self, key: &str) -> Result<bool> {
        exists(&self.client, &self.name, key, Some(&self.account)).await
    }

    /// Uploads `file` as `key`, recording the build `profile`, unless it is there already;
    /// returns whether it uploaded.
    pub async fn upload(&self, file: &Path, key: &str, profile: Profile) -> Result<bool> {
        if self.contains(key).await? {
            return Ok(false);
        }
        let body = ByteStream::from_path(file)
            .await
            .with_context(|| format!("reading {}", file.display()))?;
        self.client
            .put_object()
            .bucket(&self.name)
            .key(key)
            .body(body)
            .content_type("application/zip")
            .metadata(build_profile::METADATA_KEY, profile.name())
            .expected_bucket_owner(&self.account)
            .send()
            .await
            .map_err(|e| explain(&format!("uploading s3://{}/{key}", self.name), e))?;
        Ok(true)
    }

    /// Copies `key` from another bucket (promotion across accounts or regions), unless present.
    pub async fn copy_from(&self, source_bucket: &str, key: &str) -> Result<bool> {
        if self.contains(key).await? {
            return Ok(false);
        }
        self.client
            .copy_object()
            .bucket(&self.name)
            .key(key)
            .copy_source(format!("{source_bucket}/{key}"))
            .send()
            .await
            .map_err(|e| {
                explain(
                    &format!("copying s3://{source_bucket}/{key} to {}", self.name),
                    e,
                )
            })?;
        Ok(true)
    }
}
