//! Local Cognito: a signing key kept in the state folder, its JWKS, ID tokens shaped like
//! Cognito's, and the checks API Gateway's Cognito authorizer makes (signature, `kid`,
//! `exp`, `iss`, `aud`, `token_use`).

use super::template::LocalTemplate;
use anyhow::{Context, Result, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::PrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Validity of tokens unless asked otherwise (Cognito's default for ID tokens).
pub const DEFAULT_VALIDITY_SECS: i64 = 3600;

const KEY_FILE: &str = "cognito-signing-key.p8";
const JWKS_FILE: &str = "jwks.json";

/// The user pool a template's Cognito authorizer trusts, as a local stack names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPool {
    /// `us-east-1_abc123def`
    pub id: String,
    /// `https://cognito-idp.<region>.amazonaws.com/<id>`: the tokens' `iss`.
    pub issuer: String,
    /// App client ids of the pool: the accepted `aud` values (the first one signs tokens).
    pub client_ids: Vec<String>,
}

impl UserPool {
    /// The pool behind an ARN (`arn:aws:cognito-idp:<region>:<account>:userpool/<id>`), with
    /// the template's app clients of that pool.
    pub fn from_arn(template: &LocalTemplate, arn: &str) -> Result<Self> {
        let id = arn
            .rsplit_once(":userpool/")
            .map(|(_, id)| id.to_owned())
            .with_context(|| format!("{arn:?} is not a user pool ARN"))?;
        let region = arn
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .unwrap_or(&template.region);
        let mut client_ids = Vec::new();
        for (logical_id, properties) in template.resources("AWS::Cognito::UserPoolClient") {
            if template
                .resolve_string(&properties["UserPoolId"])
                .ok()
                .as_deref()
                == Some(id.as_str())
            {
                client_ids.push(template.reference(logical_id)?);
            }
        }
        if client_ids.is_empty() {
            bail!(
                "the template has no AWS::Cognito::UserPoolClient for user pool {id}, so no token can name an audience"
            );
        }
        Ok(UserPool {
            issuer: format!("https://cognito-idp.{region}.amazonaws.com/{id}"),
            id,
            client_ids,
        })
    }

    /// The pool of the template's first Cognito authorizer.
    pub fn of_template(template: &LocalTemplate) -> Result<Self> {
        for (_, properties) in template.resources("AWS::ApiGateway::Authorizer") {
            if properties["Type"] == "COGNITO_USER_POOLS"
                && let Some(arn) = properties["ProviderARNs"]
                    .as_array()
                    .and_then(|a| a.first())
            {
                return Self::from_arn(template, &template.resolve_string(arn)?);
            }
        }
        bail!(
            "the template has no Cognito authorizer (AWS::ApiGateway::Authorizer of type COGNITO_USER_POOLS)"
        )
    }
}

/// The local signing key (RSA-2048, created on first use) and its JWKS.
pub struct SigningKey {
    encoding: EncodingKey,
    kid: String,
    jwks: Value,
}

impl SigningKey {
    /// Loads the key kept in `dir`, creating it (and `jwks.json`) the first time.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(KEY_FILE);
        let pkcs8 = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => create_key(&path)?,
            Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
        };
        let key = PrivateKey::from_pkcs8_der(&pkcs8).map_err(|e| {
            anyhow!(
                "{} is not an RSA key ({e}); delete it and a new one is made",
                path.display()
            )
        })?;
        let n = URL_SAFE_NO_PAD.encode(strip_leading_zeros(&key.n_bytes()));
        let e = URL_SAFE_NO_PAD.encode(strip_leading_zeros(&key.e_bytes()));
        // RFC 7638 thumbprint: stable, and changes whenever the key does.
        let thumbprint = Sha256::digest(format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
        let kid = URL_SAFE_NO_PAD.encode(thumbprint);
        let jwks = json!({"keys": [{"kid": kid, "alg": "RS256", "kty": "RSA", "e": e, "n": n, "use": "sig"}]});
        let jwks_path = dir.join(JWKS_FILE);
        let text = serde_json::to_string_pretty(&jwks)? + "\n";
        if std::fs::read_to_string(&jwks_path).ok().as_deref() != Some(text.as_str()) {
            write_atomically(&jwks_path, text.as_bytes())?;
        }
        let pkcs1 = key
            .to_pkcs1_der()
            .map_err(|e| anyhow!("encoding the RSA key failed: {e}"))?;
        Ok(SigningKey {
            encoding: EncodingKey::from_rsa_der(pkcs1.as_bytes()),
            kid,
            jwks,
        })
    }

    /// The JSON Web Key Set that verifies this key's tokens.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// Where the JWKS is written, for people who want to point another verifier at it.
    pub fn jwks_path(dir: &Path) -> PathBuf {
        dir.join(JWKS_FILE)
    }

    /// Signs an ID token for `request` as a token of `pool`.
    pub fn issue(&self, pool: &UserPool, request: &TokenRequest) -> Result<String> {
        let now = unix_now();
        let audience = match &request.audience {
            Some(audience) => audience.clone(),
            None => pool
                .client_ids
                .first()
                .cloned()
                .context("the user pool has no app client")?,
        };
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(stable_sub(&request.user).to_string()));
        if !request.groups.is_empty() {
            claims.insert("cognito:groups".into(), json!(request.groups));
        }
        claims.insert("iss".into(), json!(pool.issuer));
        claims.insert("cognito:username".into(), json!(request.user));
        claims.insert("origin_jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        claims.insert("aud".into(), json!(audience));
        claims.insert("event_id".into(), json!(uuid::Uuid::new_v4().to_string()));
        claims.insert("token_use".into(), json!("id"));
        claims.insert("auth_time".into(), json!(now));
        claims.insert("exp".into(), json!(now + request.expires_in));
        claims.insert("iat".into(), json!(now));
        claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).context("signing the token")
    }
}

/// What a token should say.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// `cognito:username`; `sub` derives from it.
    pub user: String,
    /// `cognito:groups`.
    pub groups: Vec<String>,
    /// Seconds until `exp` (negative for an already expired token).
    pub expires_in: i64,
    /// `aud` instead of the pool's first app client.
    pub audience: Option<String>,
}

/// The `sub` of a local user: a UUID derived from the name, the same on every run.
pub fn stable_sub(user: &str) -> uuid::Uuid {
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6f1c_52d4_8a3e_4b8f_9c1a_3d2e_5f40_7b19);
    uuid::Uuid::new_v5(&NAMESPACE, user.as_bytes())
}

/// Why a token was refused (API Gateway answers every case with the same `401`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

/// Checks tokens as a Cognito authorizer of `pool` does.
pub struct Verifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl Verifier {
    /// A verifier trusting the keys of `jwks` for tokens of `pool`.
    pub fn new(jwks: &Value, pool: &UserPool) -> Result<Self> {
        let set: JwkSet = serde_json::from_value(jwks.clone()).context("reading the JWKS")?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone().context("a JWKS key has no kid")?;
            keys.insert(
                kid,
                DecodingKey::from_jwk(jwk).context("reading a JWKS key")?,
            );
        }
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        validation.set_issuer(&[&pool.issuer]);
        validation.set_audience(&pool.client_ids);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(Verifier { keys, validation })
    }

    /// The token's claims if it is a valid, unexpired ID token of the pool.
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>, Rejected> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| Rejected(format!("unreadable token: {e}")))?;
        let kid = header
            .kid
            .ok_or_else(|| Rejected("the token has no kid".into()))?;
        let key = self
            .keys
            .get(&kid)
            .ok_or_else(|| Rejected(format!("no key {kid} in the user pool's JWKS")))?;
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &self.validation)
            .map_err(|e| Rejected(format!("token refused: {e}")))?;
        if data.claims.get("token_use").and_then(Value::as_str) != Some("id") {
            return Err(Rejected("not an ID token (token_use is not id)".into()));
        }
        Ok(data.claims)
    }
}

/// Claims as API Gateway's REST Cognito authorizer hands them to the function: every value
/// a string, `exp`/`iat` as dates, arrays (groups) comma-separated.
pub fn claims_for_function(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .map(|(name, value)| {
            let text = match (name.as_str(), value) {
                ("exp" | "iat", Value::Number(n)) => n
                    .as_i64()
                    .map(cognito_date)
                    .unwrap_or_else(|| n.to_string()),
                (_, Value::String(s)) => s.clone(),
                (_, Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(","),
                (_, other) => other.to_string(),
            };
            (name.clone(), Value::String(text))
        })
        .collect()
}

/// `Sat Nov 29 05:12:54 UTC 2026`
fn cognito_date(epoch: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] UTC [year]"
    );
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| epoch.to_string())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Generates a key and stores it, unless another process stored one first (then uses that).
fn create_key(path: &Path) -> Result<Vec<u8>> {
    // 2048 bits, as Cognito's own keys; the operating system's generator.
    let key = PrivateKey::new(&mut getrandom::SysRng, 2048)
        .map_err(|e| anyhow!("generating an RSA key failed: {e}"))?;
    let der = key
        .to_pkcs8_der()
        .map_err(|e| anyhow!("encoding the RSA key failed: {e}"))?;
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    write_private(&partial, der.as_bytes())?;
    // A hard link never replaces an existing file: the first writer wins, the others read it.
    let linked = std::fs::hard_link(&partial, path);
    let _ = std::fs::remove_file(&partial);
    match linked {
        Ok(()) => Ok(der.as_bytes().to_vec()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        }
        Err(err) => Err(err).with_context(|| format!("storing {}", path.display())),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let partial = path.with_extension(format!("partial-{}", std::process::id()));
    std::fs::write(&partial, bytes).with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path).with_context(|| format!("writing {}", path.display()))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> UserPool {
        UserPool {
            id: "us-east-1_local".into(),
            issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local".into(),
            client_ids: vec!["client".into()],
        }
    }

    fn request(user: &str) -> TokenRequest {
        TokenRequest {
            user: user.into(),
            groups: vec!["admins".into()],
            expires_in: 60,
            audience: None,
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-auth-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn issues_tokens_it_verifies_and_refuses_the_rest() {
        let dir = temp_dir("verify");
        let key = SigningKey::load_or_create(&dir).unwrap();
        let verifier = Verifier::new(key.jwks(), &pool()).unwrap();
        let token = key.issue(&pool(), &request("alice")).unwrap();
        let claims = verifier.verify(&token).unwrap();
        assert_eq!(claims["cognito:username"], "alice");
        assert_eq!(claims["sub"], stable_sub("alice").to_string());

        let expired = key
            .issue(
                &pool(),
                &TokenRequest {
                    expires_in: -1,
                    ..request("a")
                },
            )
            .unwrap();
        assert!(verifier.verify(&expired).is_err());
        let other = key
            .issue(
                &pool(),
                &TokenRequest {
                    audience: Some("x".into()),
                    ..request("a")
                },
            )
            .unwrap();
        assert!(verifier.verify(&other).is_err());
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 5;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            verifier
                .verify(std::str::from_utf8(&tampered).unwrap())
                .is_err()
        );
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"x","cognito:groups":["admins"]}"#);
        assert!(
            verifier
                .verify(&format!("{}.{forged_claims}.{}", parts[0], parts[2]))
                .is_err()
        );

        let foreign_pool = UserPool {
            issuer: "https://elsewhere".into(),
            ..pool()
        };
        assert!(
            Verifier::new(key.jwks(), &foreign_pool)
                .unwrap()
                .verify(&token)
                .is_err()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn keeps_the_key_across_runs() {
        let dir = temp_dir("keep");
        let first = SigningKey::load_or_create(&dir).unwrap();
        let second = SigningKey::load_or_create(&dir).unwrap();
        assert_eq!(first.kid, second.kid);
        let token = first.issue(&pool(), &request("bob")).unwrap();
        assert!(
            Verifier::new(second.jwks(), &pool())
                .unwrap()
                .verify(&token)
                .is_ok()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn passes_claims_as_strings_like_api_gateway() {
        let claims: Map<String, Value> = serde_json::from_value(json!({
            "sub": "s", "cognito:groups": ["admins", "support"], "exp": 1_764_392_574, "auth_time": 1_764_388_974,
            "email_verified": true
        }))
        .unwrap();
        let passed = claims_for_function(&claims);
        assert_eq!(passed["cognito:groups"], "admins,support");
        assert_eq!(passed["exp"], "Sat Nov 29 05:02:54 UTC 2025");
        assert_eq!(passed["auth_time"], "1764388974");
        assert_eq!(passed["email_verified"], "true");
    }

    #[test]
    fn derives_the_same_sub_for_the_same_user() {
        assert_eq!(stable_sub("alice"), stable_sub("alice"));
        assert_ne!(stable_sub("alice"), stable_sub("bob"));
    }
}
