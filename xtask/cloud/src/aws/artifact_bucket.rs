//! The artifact bucket: created on first use, its settings (private, encrypted,
//! versioned, old versions expiring, TLS only, readable by the accounts of the other
//! environments) applied again on every run, holding each Lambda zip under a key derived
//! from its SHA-256 with its architecture in the object's metadata, so an artifact is
//! immutable and promotion between stages (and accounts) reuses it as it is.

use super::build_profile;
use super::sdk::explain;
use anyhow::{Context, Result, bail};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketVersioningStatus, CreateBucketConfiguration, ExpirationStatus, LifecycleRule,
    LifecycleRuleFilter, NoncurrentVersionExpiration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, VersioningConfiguration,
};
use serde_json::json;
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

/// The object metadata key holding an artifact's Lambda architecture (`x86_64`, `arm64`).
pub const ARCHITECTURE: &str = "architecture";
/// Days an overwritten or deleted artifact version is kept.
const NONCURRENT_DAYS: i32 = 30;

/// Whether `s3://bucket/key` exists and can be read (a missing bucket counts as a missing
/// object). S3 answers 403, not 404, for a missing key to a role without `s3:ListBucket`;
/// either way the object is not there for this role.
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
                .is_some_and(|r| matches!(r.status().as_u16(), 403 | 404)) =>
        {
            Ok(false)
        }
        Err(err) => Err(explain(&format!("looking for s3://{bucket}/{key}"), err)),
    }
}

/// The architecture an artifact was built for, from its metadata (`None` for artifacts
/// uploaded before it was recorded).
pub async fn architecture(client: &Client, bucket: &str, key: &str) -> Result<Option<String>> {
    let head = client
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| explain(&format!("reading s3://{bucket}/{key}"), e))?;
    Ok(head.metadata().and_then(|m| m.get(ARCHITECTURE)).cloned())
}

/// An artifact bucket.
pub struct ArtifactBucket {
    client: Client,
    /// Bucket name.
    pub name: String,
    account: String,
    region: String,
    /// Other accounts that may read its artifacts (promotion).
    readers: Vec<String>,
    /// The architecture uploads are recorded with.
    architecture: String,
}

impl ArtifactBucket {
    /// The bucket of `account` in `region`, its artifacts built for `architecture` and
    /// readable by the `readers` accounts.
    pub fn new(
        config: &aws_config::SdkConfig,
        account: &str,
        region: &str,
        architecture: &str,
        readers: Vec<String>,
    ) -> Self {
        ArtifactBucket {
            client: Client::new(config),
            name: bucket_name(account, region),
            account: account.to_owned(),
            region: region.to_owned(),
            readers,
            architecture: architecture.to_owned(),
        }
    }

    /// Creates the bucket if it does not exist, then applies its settings (every run: a
    /// setting removed, or a first run that stopped half-way, is repaired); returns
    /// whether it created it.
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
        let created = match head {
            Ok(_) => false,
            // 404: missing. 403: another account's, or this role has no s3:ListBucket,
            // which HeadBucket needs; CreateBucket tells them apart.
            Err(err)
                if err
                    .raw_response()
                    .is_some_and(|r| matches!(r.status().as_u16(), 403 | 404)) =>
            {
                self.create().await?
            }
            Err(err) => {
                return Err(explain(
                    &format!("checking artifact bucket {}", self.name),
                    err,
                ));
            }
        };
        self.apply_settings().await?;
        Ok(created)
    }

    /// Creates the bucket; `false` when it turns out to be this account's already
    /// (`BucketAlreadyOwnedByYou`, e.g. from a concurrent first run).
    async fn create(&self) -> Result<bool> {
        let mut create = self.client.create_bucket().bucket(&self.name);
        if self.region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match create.send().await {
            Ok(_) => {
                eprintln!("xtask: created artifact bucket {}", self.name);
                Ok(true)
            }
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_bucket_already_owned_by_you()) =>
            {
                Ok(false)
            }
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_bucket_already_exists()) =>
            {
                bail!(
                    "the artifact bucket {} exists but is not this account's ({}); delete it or use another account",
                    self.name,
                    self.account
                )
            }
            Err(err) => Err(explain(
                &format!("creating artifact bucket {}", self.name),
                err,
            )),
        }
    }

    /// The bucket's settings, each an idempotent `Put`.
    async fn apply_settings(&self) -> Result<()> {
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
        self.client
            .put_bucket_lifecycle_configuration()
            .bucket(&self.name)
            .expected_bucket_owner(&self.account)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(
                        LifecycleRule::builder()
                            .id("expire-old-versions")
                            .status(ExpirationStatus::Enabled)
                            .filter(LifecycleRuleFilter::builder().prefix("").build())
                            .noncurrent_version_expiration(
                                NoncurrentVersionExpiration::builder()
                                    .noncurrent_days(NONCURRENT_DAYS)
                                    .build(),
                            )
                            .abort_incomplete_multipart_upload(
                                AbortIncompleteMultipartUpload::builder()
                                    .days_after_initiation(7)
                                    .build(),
                            )
                            .build()?,
                    )
                    .build()?,
            )
            .send()
            .await
            .map_err(|e| explain("setting the artifact bucket's lifecycle", e))?;
        self.client
            .put_bucket_policy()
            .bucket(&self.name)
            .expected_bucket_owner(&self.account)
            .policy(self.policy().to_string())
            .send()
            .await
            .map_err(|e| explain("setting the artifact bucket's policy", e))?;
        Ok(())
    }

    /// Plain HTTP is refused; the other environments' accounts may read artifacts (and
    /// only read them), so that `promote` there copies them with its own credentials.
    fn policy(&self) -> serde_json::Value {
        let bucket = format!("arn:aws:s3:::{}", self.name);
        let mut statements = vec![json!({
            "Sid": "DenyPlainHttp",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket, format!("{bucket}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        })];
        if !self.readers.is_empty() {
            let readers: Vec<String> = self
                .readers
                .iter()
                .map(|a| format!("arn:aws:iam::{a}:root"))
                .collect();
            statements.push(json!({
                "Sid": "PromotionReaders",
                "Effect": "Allow",
                "Principal": {"AWS": readers},
                "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
                "Resource": format!("{bucket}/*")
            }));
        }
        json!({"Version": "2012-10-17", "Statement": statements})
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
            .metadata(ARCHITECTURE, &self.architecture)
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
