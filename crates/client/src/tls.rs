//! TLS with rustls: builds the [`tokio_rustls::TlsConnector`] for `security.protocol=SSL` and
//! `SASL_SSL` from PEM files.
//!
//! Server certificates are verified by default against `ssl.ca.location` (or, unset, the
//! Mozilla roots of `webpki-roots`), including the host name
//! (`ssl.endpoint.identification.algorithm=https`). Turning host-name checking off keeps the
//! chain check. Java keystores (JKS, PKCS#12) are not read: convert them to PEM
//! (`keytool -exportcert -rfc`, `openssl pkcs12 -nodes`).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::ClientConfig;
use crate::error::Error;

fn tls_error(message: impl Into<String>) -> Error {
    Error::Tls {
        broker: None,
        message: message.into(),
    }
}

/// Builds the TLS connector the config asks for, or `None` when the security protocol does not
/// use TLS.
///
/// # Errors
/// [`Error::Tls`] when a PEM file cannot be read or holds no certificate or key, or rustls
/// refuses the combination.
pub fn connector(config: &ClientConfig) -> Result<Option<tokio_rustls::TlsConnector>, Error> {
    if !config.security_protocol.uses_tls() {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    match &config.ssl_ca_location {
        Some(path) => {
            for cert in read_certs(path)? {
                roots
                    .add(cert)
                    .map_err(|e| tls_error(format!("CA certificate in {}: {e}", path.display())))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let roots = Arc::new(roots);
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(e.to_string()))?;
    let builder = if config.ssl_endpoint_identification {
        builder.with_root_certificates(roots)
    } else {
        let inner = WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|e| tls_error(e.to_string()))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoHostnameVerifier { inner }))
    };
    let tls = match (&config.ssl_certificate_location, &config.ssl_key_location) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(read_certs(cert)?, read_key(key)?)
            .map_err(|e| tls_error(e.to_string()))?,
        _ => builder.with_no_client_auth(),
    };
    Ok(Some(tokio_rustls::TlsConnector::from(Arc::new(tls))))
}

/// The name the broker certificate must carry: its host name or IP address.
///
/// # Errors
/// [`Error::Tls`] for a host that is neither a DNS name nor an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(host.to_string())
        .map_err(|e| tls_error(format!("server name {host}: {e}")))
}

/// The PEM parser of rustls-pki-types (what the rustls-pemfile crate wrapped).
fn pem_error(path: &Path, e: pem::Error) -> Error {
    tls_error(format!("{}: {e}", path.display()))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(path, e))?;
    if certs.is_empty() {
        return Err(tls_error(format!("{}: no PEM certificate", path.display())));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        pem::Error::NoItemsFound => tls_error(format!("{}: no PEM private key", path.display())),
        e => pem_error(path, e),
    })
}

/// Verifies the chain as usual but accepts a certificate issued for another name
/// (`ssl.endpoint.identification.algorithm=` empty).
#[derive(Debug)]
struct NoHostnameVerifier {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for NoHostnameVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The default ring provider, for callers that build their own rustls configs (tests).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
