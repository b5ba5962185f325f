//! The certificate authorities the HTTPS client trusts: one CA bundle file, read once.
//!
//! The SDK's default ("native roots") reads the bundle *and* every file of the system's
//! certificate folder; on a Debian-like image that is some 300 files opened and parsed
//! during init, doubling the cold start. Lambda's image and most distributions ship the
//! same authorities as one bundle, which is all the client needs.

use aws_smithy_http_client::tls::TrustStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::path::{Path, PathBuf};

/// Where distributions keep their CA bundle, Lambda's (Amazon Linux 2023) first.
pub const BUNDLES: [&str; 4] = [
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The trust store for this machine: the bundle `SSL_CERT_FILE` names, else the first of
/// [`BUNDLES`] that exists; the SDK's native roots when `SSL_CERT_DIR` is set (the user
/// chose a folder), when no bundle is found, or when the bundle holds a certificate the
/// TLS library would refuse (it would panic on one, where native roots skip it).
pub fn trust_store() -> TrustStore {
    let env = |name| std::env::var_os(name).filter(|value| !value.is_empty());
    if env("SSL_CERT_DIR").is_some() {
        return native();
    }
    let candidates: Vec<PathBuf> = match env("SSL_CERT_FILE") {
        Some(file) => vec![file.into()],
        None => BUNDLES.iter().map(PathBuf::from).collect(),
    };
    candidates
        .iter()
        .find_map(|path| bundle(path))
        .map(|pem| TrustStore::empty().with_pem_certificate(pem))
        .unwrap_or_else(native)
}

/// The SDK's default: the system's bundle and certificate folder.
fn native() -> TrustStore {
    TrustStore::empty().with_native_roots(true)
}

/// The PEM bytes of the bundle at `path` when it exists and every certificate in it is
/// one the TLS library accepts as a trust anchor.
pub fn bundle(path: &Path) -> Option<Vec<u8>> {
    let pem = std::fs::read(path).ok()?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    let usable = !certs.is_empty()
        && certs
            .iter()
            .all(|cert| webpki::anchor_from_trusted_cert(cert).is_ok());
    usable.then_some(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real root (Amazon Root CA 3, from the rustls-native-certs docs).
    const AMAZON_ROOT_CA_3: &str = "-----BEGIN CERTIFICATE-----
MIIBtjCCAVugAwIBAgITBmyf1XSXNmY/Owua2eiedgPySjAKBggqhkjOPQQDAjA5
MQswCQYDVQQGEwJVUzEPMA0GA1UEChMGQW1hem9uMRkwFwYDVQQDExBBbWF6b24g
Um9vdCBDQSAzMB4XDTE1MDUyNjAwMDAwMFoXDTQwMDUyNjAwMDAwMFowOTELMAkG
A1UEBhMCVVMxDzANBgNVBAoTBkFtYXpvbjEZMBcGA1UEAxMQQW1hem9uIFJvb3Qg
Q0EgMzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCmXp8ZBf8ANm+gBG1bG8lKl
ui2yEujSLtf6ycXYqm0fc4E7O5hrOXwzpcVOho6AF2hiRVd9RFgdszflZwjrZt6j
QjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgGGMB0GA1UdDgQWBBSr
ttvXBp43rDCGB5Fwx5zEGbF4wDAKBggqhkjOPQQDAgNJADBGAiEA4IWSoxe3jfkr
BqWTrBqYaGFy+uGh0PsceGCmQ5nFuMQCIQCcAu/xlJyzlvnrxir4tiz+OpAUFteM
YyRIHN8wfdVoOw==
-----END CERTIFICATE-----
";

    fn file(name: &str, contents: &str) -> (PathBuf, impl Drop) {
        struct Remove(PathBuf);
        impl Drop for Remove {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
        let path = std::env::temp_dir().join(format!("{name}-{}.pem", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        (path.clone(), Remove(path))
    }

    #[test]
    fn reads_a_bundle_of_valid_roots() {
        let (path, _remove) = file("roots-valid", AMAZON_ROOT_CA_3);
        assert_eq!(bundle(&path).as_deref(), Some(AMAZON_ROOT_CA_3.as_bytes()));
    }

    #[test]
    fn refuses_a_bundle_with_a_certificate_the_tls_library_would_reject() {
        let broken = format!(
            "{AMAZON_ROOT_CA_3}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        );
        let (path, _remove) = file("roots-broken", &broken);
        assert_eq!(bundle(&path), None);
    }

    #[test]
    fn refuses_a_missing_or_empty_bundle() {
        let (path, _remove) = file("roots-empty", "");
        assert_eq!(bundle(&path), None);
        assert_eq!(bundle(Path::new("/nonexistent/ca-bundle.crt")), None);
    }
}
