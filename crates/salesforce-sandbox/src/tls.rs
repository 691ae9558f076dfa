//! Optional https for the sandbox: a self-signed certificate for `127.0.0.1` and `localhost`,
//! generated once and written to the paths the operator gives (so clients can be told to
//! trust it), then loaded into a rustls server configuration (ring provider).

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// A server certificate and key ready to serve https.
#[derive(Clone)]
pub struct TlsIdentity {
    pub(crate) acceptor: TlsAcceptor,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsIdentity([redacted])")
    }
}

fn tls_error(context: &str, e: impl std::fmt::Display) -> Error {
    Error::Tls(format!("{context}: {e}"))
}

impl TlsIdentity {
    /// Loads the PEM certificate chain and private key at `cert` and `key`; when neither file
    /// exists, first generates a self-signed certificate for `127.0.0.1` and `localhost` and
    /// writes both (the key readable by its owner only). One without the other is an error.
    pub fn load_or_generate(cert: &Path, key: &Path) -> Result<Self, Error> {
        match (cert.exists(), key.exists()) {
            (true, true) => {}
            (false, false) => generate(cert, key)?,
            _ => {
                return Err(Error::Tls(format!(
                    "only one of {} and {} exists; give both or neither",
                    cert.display(),
                    key.display()
                )));
            }
        }
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| tls_error("reading the certificate", e))?;
        let private_key = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| tls_error("reading the private key", e))?;
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error("TLS configuration", e))?
            .with_no_client_auth()
            .with_single_cert(chain, private_key)
            .map_err(|e| tls_error("certificate and key", e))?;
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

fn generate(cert: &Path, key: &Path) -> Result<(), Error> {
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(|e| tls_error("generating a certificate", e))?;
    fs::write(cert, generated.cert.pem())?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(key)?
        .write_all(generated.signing_key.serialize_pem().as_bytes())?;
    Ok(())
}
