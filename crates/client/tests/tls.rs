//! TLS end to end against a tiny in-test broker behind rustls: certificates from a CA made
//! here with rcgen, server verification, host-name checking and client certificates.
//! (The Tansu 0.6.0 binary cannot serve TLS: its CLI refuses `--cert` together with `--key`.)

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
use kafka_protocol::messages::{ApiVersionsResponse, BrokerId, MetadataResponse};
use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};
use rafka_client::{Client, ClientConfig, Error, SecurityProtocol};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct Pki {
    dir: tempfile::TempDir,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

type Leaf = (
    CertificateDer<'static>,
    PrivateKeyDer<'static>,
    PathBuf,
    PathBuf,
);

impl Pki {
    fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Pki { dir, ca, ca_key }
    }

    /// A leaf certificate for `names`, signed by the CA: (cert DER, key DER, cert path, key path).
    fn leaf(&self, file: &str, names: &[&str]) -> Leaf {
        let params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        let cert_path = self.dir.path().join(format!("{file}.pem"));
        let key_path = self.dir.path().join(format!("{file}.key"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (
            cert.der().clone(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            cert_path,
            key_path,
        )
    }

    fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }
}

/// Starts a TLS broker that answers ApiVersions and Metadata (naming itself node 1 at
/// `advertised_host`); with `require_client_cert` only clients with a CA-signed certificate
/// get through.
async fn tls_broker(
    pki: &Pki,
    names: &[&str],
    advertised_host: &str,
    require_client_cert: bool,
) -> SocketAddr {
    let (cert, key, _, _) = pki.leaf("server", names);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let config = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pki.ca.der().clone()).unwrap();
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![cert], key)
            .unwrap()
    } else {
        builder
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap()
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let host = advertised_host.to_string();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            let host = host.clone();
            tokio::spawn(async move {
                if let Ok(stream) = acceptor.accept(tcp).await {
                    serve(stream, &host, addr.port()).await;
                }
            });
        }
    });
    addr
}

async fn serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    port: u16,
) {
    let mut buf = BytesMut::new();
    loop {
        while let Some(frame) =
            rafka_client::rafka_wire::frame::decode_frame(&mut buf, 1 << 20).unwrap()
        {
            let mut f = frame;
            let (key, version, cid) = (f.get_i16(), f.get_i16(), f.get_i32());
            let mut body = BytesMut::new();
            match key {
                18 => {
                    let resp = ApiVersionsResponse::default().with_api_keys(vec![
                        ApiVersion::default()
                            .with_api_key(18)
                            .with_min_version(0)
                            .with_max_version(3),
                        ApiVersion::default()
                            .with_api_key(3)
                            .with_min_version(0)
                            .with_max_version(12),
                    ]);
                    write_response(&mut body, cid, version, &resp);
                }
                3 => {
                    let resp = MetadataResponse::default()
                        .with_cluster_id(Some(StrBytes::from_static_str("tls-cluster")))
                        .with_controller_id(BrokerId(1))
                        .with_brokers(vec![MetadataResponseBroker::default()
                            .with_node_id(BrokerId(1))
                            .with_host(StrBytes::from_string(host.to_string()))
                            .with_port(port as i32)]);
                    write_response(&mut body, cid, version, &resp);
                }
                _ => return,
            }
            let mut out = BytesMut::new();
            rafka_client::rafka_wire::frame::encode_frame(&body, &mut out).unwrap();
            if stream.write_all(&out).await.is_err() {
                return;
            }
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

fn write_response<M: Encodable + HeaderVersion>(
    out: &mut BytesMut,
    cid: i32,
    version: i16,
    msg: &M,
) {
    rafka_client::rafka_wire::header::encode_response_header(cid, M::header_version(version), out);
    msg.encode(out, version).unwrap();
}

fn tls_config(bootstrap: &str, ca: Option<&Path>) -> rafka_client::ClientConfigBuilder {
    ClientConfig::builder()
        .bootstrap_servers(bootstrap)
        .security_protocol(SecurityProtocol::Ssl)
        .ssl_ca_location(ca.map(Path::to_path_buf))
        .socket_connection_setup_timeout(Duration::from_secs(5))
}

#[tokio::test]
async fn verified_server_with_custom_ca() {
    let pki = Pki::new();
    let addr = tls_broker(&pki, &["localhost"], "localhost", false).await;
    let bootstrap = format!("localhost:{}", addr.port());
    let client = Client::connect(
        tls_config(&bootstrap, Some(&pki.ca_path()))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let cluster = client.metadata().await.unwrap();
    assert_eq!(cluster.cluster_id.as_deref(), Some("tls-cluster"));
    // The advertised broker is reached over TLS too.
    let conn = client
        .connection(1, rafka_client::Purpose::General)
        .await
        .unwrap();
    assert_eq!(conn.broker().addr, bootstrap);
}

#[tokio::test]
async fn unknown_ca_is_refused() {
    let pki = Pki::new();
    let addr = tls_broker(&pki, &["localhost"], "localhost", false).await;
    // Default roots (webpki-roots) do not know the test CA.
    let err = Client::connect(
        tls_config(&format!("localhost:{}", addr.port()), None)
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Tls { broker: Some(_), message } if message.contains("UnknownIssuer")),
        "{err:?}"
    );
    assert!(!err.is_retriable());
}

#[tokio::test]
async fn host_name_is_checked_unless_disabled() {
    let pki = Pki::new();
    // The certificate names "localhost" only; the client connects to 127.0.0.1.
    let addr = tls_broker(&pki, &["localhost"], "127.0.0.1", false).await;
    let bootstrap = addr.to_string();
    let err = Client::connect(
        tls_config(&bootstrap, Some(&pki.ca_path()))
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::Tls { message, .. } if message.contains("not valid for name")),
        "{err:?}"
    );
    let client = Client::connect(
        tls_config(&bootstrap, Some(&pki.ca_path()))
            .ssl_endpoint_identification(false)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(client.cached_metadata().brokers.len(), 1);
}

#[tokio::test]
async fn client_certificate_for_mutual_tls() {
    let pki = Pki::new();
    let addr = tls_broker(&pki, &["localhost"], "localhost", true).await;
    let bootstrap = format!("localhost:{}", addr.port());
    // Without a client certificate the server ends the handshake: under TLS 1.3 its alert
    // arrives with the first read, and is a TLS error all the same (not a retriable I/O one).
    let err = Client::connect(
        tls_config(&bootstrap, Some(&pki.ca_path()))
            .build()
            .unwrap(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    assert!(!err.is_retriable());
    let (_, _, cert, key) = pki.leaf("client", &["rafka-client"]);
    let client = Client::connect(
        tls_config(&bootstrap, Some(&pki.ca_path()))
            .ssl_certificate_location(Some(cert))
            .ssl_key_location(Some(key))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        client.cached_metadata().cluster_id.as_deref(),
        Some("tls-cluster")
    );
}

#[tokio::test]
async fn unreadable_pem_fails_at_startup() {
    let config = tls_config("localhost:1", Some(Path::new("/nonexistent/ca.pem")))
        .build()
        .unwrap();
    let err = Client::new(config).unwrap_err();
    assert!(
        matches!(&err, Error::Tls { broker: None, message } if message.contains("/nonexistent/ca.pem")),
        "{err:?}"
    );
}
