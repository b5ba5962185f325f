//! S3 where moto is kinder than AWS: a role without `s3:ListBucket`, a concurrent first
//! use of a bucket, and reads from another account, which only the bucket's policy grants.

use super::{Call, Reply, Shared};
use bytes::Bytes;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The owner account of each bucket created through the proxy, and each bucket's policy
/// as written.
#[derive(Default)]
pub struct State {
    owners: BTreeMap<String, String>,
    policies: BTreeMap<String, Bytes>,
}

/// A bucket policy as moto can enforce it: moto evaluates policies without their
/// `Condition`s, so a `Deny` that holds only under a condition (plain HTTP, which the tests
/// speak to the proxy, is where AWS's `aws:SecureTransport` is true) would deny
/// everything. Such statements are left out of what moto holds; the proxy answers
/// `GetBucketPolicy` with the policy as written.
fn enforceable(policy: &[u8]) -> Option<Bytes> {
    let mut policy: Value = serde_json::from_slice(policy).ok()?;
    policy["Statement"]
        .as_array_mut()?
        .retain(|s| !(s["Effect"] == "Deny" && s.get("Condition").is_some()));
    Some(Bytes::from(policy.to_string()))
}

fn access_denied() -> Reply {
    Reply::xml(
        403,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>".into(),
    )
}

/// `/bucket/key?query` → (bucket, key, query).
fn split(path_and_query: &str) -> (String, String, String) {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let path = path.trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    (bucket.to_owned(), key.to_owned(), query.to_owned())
}

/// Handles an S3 call, or `None` to pass it to moto unchanged.
pub async fn handle(shared: &Arc<Shared>, call: &Call) -> Option<Reply> {
    let (bucket, key, query) = split(&call.path_and_query);
    if bucket.is_empty() {
        return None;
    }
    let config = shared.config();
    let method = call.method.as_str();
    // CreateBucket: PUT on the bucket itself.
    if method == "PUT" && key.is_empty() && query.is_empty() {
        shared.count("s3:CreateBucket");
        let account = shared.account_of(call).await;
        let reply = shared.forward(call).await;
        if reply.ok() {
            shared
                .s3
                .lock()
                .unwrap()
                .owners
                .insert(bucket.clone(), account);
            let already = std::mem::take(&mut shared.config.lock().unwrap().bucket_already_owned);
            if already {
                // Another run created it first; S3 says so (outside us-east-1).
                return Some(Reply::xml(
                    409,
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>BucketAlreadyOwnedByYou</Code>\
                         <Message>Your previous request to create the named bucket succeeded and you already own it.</Message>\
                         <BucketName>{bucket}</BucketName></Error>"
                    ),
                ));
            }
        }
        return Some(reply);
    }
    if key.is_empty() && query.split('&').any(|q| q == "policy" || q == "policy=") {
        match method {
            "PUT" => {
                let body = enforceable(&call.body)?;
                let mut headers = call.headers.clone();
                for name in [
                    "content-md5",
                    "x-amz-checksum-crc32",
                    "x-amz-sdk-checksum-algorithm",
                ] {
                    headers.remove(name);
                }
                let reply = shared
                    .send(call.method.clone(), &call.path_and_query, &headers, body)
                    .await;
                if reply.ok() {
                    shared
                        .s3
                        .lock()
                        .unwrap()
                        .policies
                        .insert(bucket.clone(), call.body.clone());
                }
                return Some(reply);
            }
            "GET" => {
                let reply = shared.forward(call).await;
                let written = shared.s3.lock().unwrap().policies.get(&bucket).cloned();
                return Some(match written {
                    Some(body) if reply.ok() => Reply {
                        status: 200,
                        headers: reply.headers,
                        body,
                    },
                    _ => reply,
                });
            }
            "DELETE" => {
                shared.s3.lock().unwrap().policies.remove(&bucket);
            }
            _ => {}
        }
    }
    if method == "HEAD" && key.is_empty() && config.deny_list_bucket {
        shared.count("s3:HeadBucket denied");
        return Some(Reply {
            status: 403,
            headers: Vec::new(),
            body: Bytes::new(),
        });
    }
    // Reads, and the source of a copy, from another account need the bucket policy's grant.
    let source = call
        .headers
        .get("x-amz-copy-source")
        .and_then(|v| v.to_str().ok())
        .map(|s| {
            let s = percent_decode(s.trim_start_matches('/'));
            let s = s.split('?').next().unwrap_or_default().to_owned();
            let (b, k) = s.split_once('/').unwrap_or((&s, ""));
            (b.to_owned(), k.to_owned())
        });
    let read = match (&source, method) {
        (Some((b, k)), "PUT") => Some((b.clone(), k.clone())),
        (None, "GET" | "HEAD") if !key.is_empty() => Some((bucket.clone(), key.clone())),
        _ => None,
    };
    if let Some((read_bucket, read_key)) = read {
        let owner = shared.s3.lock().unwrap().owners.get(&read_bucket).cloned();
        if let Some(owner) = owner {
            let caller = shared.account_of(call).await;
            if caller != owner && !granted(shared, &read_bucket, &owner, &caller, &read_key).await {
                shared.count("s3:cross-account denied");
                return Some(access_denied());
            }
        }
    }
    if method == "HEAD" && !key.is_empty() && config.deny_list_bucket {
        let reply = shared.forward(call).await;
        if reply.status == 404 {
            return Some(Reply {
                status: 403,
                headers: Vec::new(),
                body: Bytes::new(),
            });
        }
        return Some(reply);
    }
    None
}

/// Whether `bucket`'s policy lets `account` get `key` (`s3:GetObject` for its root).
async fn granted(
    shared: &Arc<Shared>,
    bucket: &str,
    owner: &str,
    account: &str,
    key: &str,
) -> bool {
    let mut headers = hyper::HeaderMap::new();
    headers.insert(
        "authorization",
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
            .parse()
            .unwrap(),
    );
    headers.insert("x-moto-account-id", owner.parse().unwrap());
    let reply = shared
        .send(
            hyper::Method::GET,
            &format!("/{bucket}?policy"),
            &headers,
            Bytes::new(),
        )
        .await;
    let Ok(policy) = serde_json::from_slice::<Value>(&reply.body) else {
        return false;
    };
    let listed = |value: &Value, wanted: &dyn Fn(&str) -> bool| match value {
        Value::String(v) => wanted(v),
        Value::Array(vs) => vs.iter().filter_map(Value::as_str).any(wanted),
        _ => false,
    };
    policy["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| {
            s["Effect"] == "Allow"
                && listed(&s["Principal"]["AWS"], &|p| {
                    p == account || p == format!("arn:aws:iam::{account}:root")
                })
                && listed(&s["Action"], &|a| a == "s3:GetObject" || a == "s3:*")
                && listed(&s["Resource"], &|r| {
                    let wanted = format!("arn:aws:s3:::{bucket}/{key}");
                    match r.strip_suffix('*') {
                        Some(prefix) => wanted.starts_with(prefix),
                        None => r == wanted,
                    }
                })
        })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
