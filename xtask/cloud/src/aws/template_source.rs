//! How a template reaches CloudFormation: inline (`TemplateBody`) up to its 51,200 bytes,
//! else through the artifact bucket (`TemplateURL`, up to 1 MB). With the event path,
//! staging's and prod's templates are over the inline limit.

use super::sdk::explain;
use anyhow::Result;
use aws_sdk_s3::primitives::ByteStream;
use xtask_core::tools::digest::sha256_hex;

/// CloudFormation's limit on an inline template, in bytes.
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// A template as CloudFormation takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    /// Inline.
    Body(String),
    /// An S3 URL CloudFormation reads it from.
    Url(String),
}

impl TemplateSource {
    /// `(TemplateBody, TemplateURL)`, one of them set.
    pub fn into_parts(self) -> (Option<String>, Option<String>) {
        match self {
            TemplateSource::Body(body) => (Some(body), None),
            TemplateSource::Url(url) => (None, Some(url)),
        }
    }
}

/// Where large templates are put: a bucket of the stack's account and region.
#[derive(Debug, Clone)]
pub struct TemplateStash {
    client: aws_sdk_s3::Client,
    bucket: String,
    region: String,
}

impl TemplateStash {
    /// Templates over the inline limit go to `bucket` (the artifact bucket), in `region`.
    pub fn new(config: &aws_config::SdkConfig, bucket: &str, region: &str) -> Self {
        TemplateStash {
            client: aws_sdk_s3::Client::new(config),
            bucket: bucket.to_owned(),
            region: region.to_owned(),
        }
    }

    /// The template inline when it fits, else uploaded as
    /// `templates/<stack>/<sha256>.json` (content-addressed, like the artifacts).
    pub async fn source(&self, stack: &str, template: &str) -> Result<TemplateSource> {
        if template.len() <= TEMPLATE_BODY_LIMIT {
            return Ok(TemplateSource::Body(template.to_owned()));
        }
        let key = format!("templates/{stack}/{}.json", sha256_hex(template.as_bytes()));
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(ByteStream::from(template.as_bytes().to_vec()))
            .content_type("application/json")
            .send()
            .await
            .map_err(|e| {
                explain(
                    &format!("uploading the template to s3://{}/{key}", self.bucket),
                    e,
                )
            })?;
        eprintln!(
            "xtask: the template ({} bytes) is over CloudFormation's inline {TEMPLATE_BODY_LIMIT}: sent as s3://{}/{key}",
            template.len(),
            self.bucket
        );
        Ok(TemplateSource::Url(url(&self.bucket, &self.region, &key)))
    }
}

/// The virtual-hosted URL CloudFormation reads (`amazonaws.com.cn` in China).
fn url(bucket: &str, region: &str, key: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://{bucket}.s3.{region}.{domain}/{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_bucket_in_the_host_as_cloudformation_expects() {
        assert_eq!(
            url(
                "tickets-artifacts-1-eu-west-1",
                "eu-west-1",
                "templates/s/abc.json"
            ),
            "https://tickets-artifacts-1-eu-west-1.s3.eu-west-1.amazonaws.com/templates/s/abc.json"
        );
        assert!(url("b", "cn-north-1", "k").contains(".amazonaws.com.cn/"));
    }
}
