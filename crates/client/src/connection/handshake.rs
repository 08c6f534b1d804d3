//! Setting a connection up: TCP connect, TLS, ApiVersions, SASL — all within
//! `socket.connection.setup.timeout.ms` (KIP-601).
//!
//! ApiVersions (KIP-35, KIP-511) is sent at v3 first. A broker that does not know v3 answers
//! UNSUPPORTED_VERSION in the v0 layout with its own range, and the request is repeated at the
//! highest version it listed (v0 at worst). v3 rather than v4 because Tansu answers a v4+
//! request with error 0 in a layout clients cannot predict (see BROKER.md).
//!
//! SASL follows KIP-152: SaslHandshake v1 names the mechanism, then SaslAuthenticate carries
//! each mechanism message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiVersionsRequest, ApiVersionsResponse, SaslAuthenticateRequest, SaslHandshakeRequest,
};
use kafka_protocol::protocol::StrBytes;
use rafka_wire::error_code::ErrorCode;
use rafka_wire::negotiate::BrokerVersions;
use rafka_wire::request::{decode_body, encode_request};
use tokio::net::TcpStream;

use super::{Connection, ConnectionSettings};
use crate::config::{ClientConfig, SaslMechanism};
use crate::error::{ApiRef, BrokerRef, Error};
use crate::sasl::scram::{new_nonce, ScramClient, ScramHash};
use crate::sasl::{plain, SaslError};

/// Opens fully set-up connections (TCP or TLS, ApiVersions, SASL) as the config says.
#[derive(Clone)]
pub struct Connector {
    config: Arc<ClientConfig>,
    settings: ConnectionSettings,
    #[cfg(feature = "tls")]
    tls: Option<tokio_rustls::TlsConnector>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("security_protocol", &self.config.security_protocol)
            .finish()
    }
}

impl Connector {
    /// Builds the connector, loading TLS material now so that a bad PEM file fails at
    /// start-up rather than at the first connection.
    ///
    /// # Errors
    /// [`Error::Tls`] as `tls::connector`; [`Error::Config`] with
    /// [`ConfigError::FeatureDisabled`](crate::config::ConfigError::FeatureDisabled) for
    /// `SSL`/`SASL_SSL` in a build without the `tls` feature.
    pub fn new(config: Arc<ClientConfig>) -> Result<Self, Error> {
        config.check_tls_available()?;
        #[cfg(feature = "tls")]
        let tls = crate::tls::connector(&config)?;
        let settings = ConnectionSettings {
            client_id: Arc::from(config.client_id.as_str()),
            request_timeout: config.request_timeout,
            max_frame_size: config.max_frame_size,
        };
        Ok(Connector {
            config,
            settings,
            #[cfg(feature = "tls")]
            tls,
        })
    }

    /// The per-connection settings.
    pub fn settings(&self) -> &ConnectionSettings {
        &self.settings
    }

    /// Connects to `broker` and completes the handshake within
    /// `socket.connection.setup.timeout.ms`.
    ///
    /// # Errors
    /// [`Error::Io`] when TCP connect fails, [`Error::Timeout`] (what = `connect`) past the
    /// setup timeout, [`Error::Tls`], [`Error::Sasl`], or the errors of the ApiVersions and SASL
    /// requests.
    pub async fn connect(&self, broker: BrokerRef) -> Result<Connection, Error> {
        let timeout = self.config.socket_connection_setup_timeout;
        let started = Instant::now();
        let result = tokio::time::timeout(timeout, self.connect_inner(broker.clone())).await;
        match result {
            Ok(Ok(conn)) => {
                tracing::debug!(broker = %broker, setup_us = started.elapsed().as_micros() as u64, "connected");
                Ok(conn)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Timeout {
                broker,
                what: "connect".to_string(),
                after: timeout,
            }),
        }
    }

    async fn connect_inner(&self, broker: BrokerRef) -> Result<Connection, Error> {
        let io_err = |e: std::io::Error| Error::Io {
            broker: broker.clone(),
            source: Arc::new(e),
        };
        let tcp = TcpStream::connect(broker.addr.as_str())
            .await
            .map_err(io_err)?;
        tcp.set_nodelay(true).map_err(io_err)?;
        #[cfg(not(feature = "tls"))]
        let conn = Connection::start(tcp, broker.clone(), &self.settings);
        #[cfg(feature = "tls")]
        let conn = match &self.tls {
            Some(tls) => {
                let host = crate::config::split_host_port(&broker.addr)
                    .map(|(h, _)| h)
                    .unwrap_or_else(|| broker.addr.clone());
                let name = crate::tls::server_name(&host)?;
                let stream = tls.connect(name, tcp).await.map_err(|e| Error::Tls {
                    broker: Some(broker.clone()),
                    message: e.to_string(),
                })?;
                Connection::start(stream, broker.clone(), &self.settings)
            }
            None => Connection::start(tcp, broker.clone(), &self.settings),
        };
        let versions = api_versions(&conn, self.config.request_timeout)
            .await
            .map_err(tls_alert_as_tls_error)?;
        conn.set_versions(versions);
        if self.config.security_protocol.uses_sasl() {
            let username = self.config.sasl_username.as_deref();
            let password = self.config.sasl_password.as_deref();
            let (Some(username), Some(password)) = (username, password) else {
                return Err(Error::Sasl {
                    broker,
                    source: SaslError::MissingCredentials,
                });
            };
            authenticate(&conn, self.config.sasl_mechanism, username, password).await?;
        }
        Ok(conn)
    }
}

/// Under TLS 1.3 a broker that refuses the client certificate (`ssl.client.auth=required`,
/// none sent or one it does not trust) does so after the client's side of the handshake is
/// done: its alert arrives as the first read's I/O error, which would count as retriable.
/// Such an error carries rustls' own error; it is a TLS failure like a refused handshake
/// (Java: `SslAuthenticationException`).
#[cfg(feature = "tls")]
fn tls_alert_as_tls_error(e: Error) -> Error {
    match e {
        Error::Io { broker, source }
            if source
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
        {
            Error::Tls {
                broker: Some(broker),
                message: source.to_string(),
            }
        }
        other => other,
    }
}

/// Without TLS there is no rustls alert to recognise.
#[cfg(not(feature = "tls"))]
fn tls_alert_as_tls_error(e: Error) -> Error {
    e
}

/// ApiVersions v3 with fallback (see the module docs).
///
/// # Errors
/// The transport errors of the request; [`Error::Broker`] when the broker answers another
/// error; [`Error::Wire`] when no layout decodes.
pub async fn api_versions(conn: &Connection, timeout: Duration) -> Result<BrokerVersions, Error> {
    let request = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("rafka"))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
    let mut version = 3;
    for _ in 0..2 {
        let frame = raw_request(conn, &request, version, timeout).await?;
        let response = decode_api_versions(frame, version).map_err(|source| Error::Wire {
            broker: conn.broker().clone(),
            source,
        })?;
        let code = ErrorCode(response.error_code);
        if code == ErrorCode::UNSUPPORTED_VERSION && version > 0 {
            // The broker lists its own ApiVersions range even in this error answer.
            let theirs = BrokerVersions::from_response(&response).range(18);
            version = theirs.map(|r| r.max.clamp(0, version - 1)).unwrap_or(0);
            tracing::debug!(broker = %conn.broker(), version, "ApiVersions v3 unsupported, retrying");
            continue;
        }
        Error::check(response.error_code, None, "ApiVersions", None, None)?;
        return Ok(BrokerVersions::from_response(&response));
    }
    Err(Error::broker(
        ErrorCode::UNSUPPORTED_VERSION,
        None,
        "ApiVersions",
    ))
}

/// Decodes an ApiVersions response at `version`, falling back to the v0 layout a broker uses
/// for its UNSUPPORTED_VERSION answer (KIP-511).
fn decode_api_versions(
    frame: Bytes,
    version: i16,
) -> Result<ApiVersionsResponse, rafka_wire::WireError> {
    // Response header v0 (correlation id only) for every ApiVersions version.
    let mut body = frame.slice(4.min(frame.len())..);
    let first = decode_body::<ApiVersionsResponse>(&mut body.clone(), version, "ApiVersions");
    match first {
        Ok(r) if r.error_code != ErrorCode::UNSUPPORTED_VERSION.0 => Ok(r),
        other => decode_body::<ApiVersionsResponse>(&mut body, 0, "ApiVersions").or(other),
    }
}

async fn raw_request<R: rafka_wire::request::KafkaRequest>(
    conn: &Connection,
    req: &R,
    version: i16,
    timeout: Duration,
) -> Result<Bytes, Error> {
    let client_id = conn.shared.client_id.clone();
    conn.round_trip(
        ApiRef {
            name: R::NAME,
            version,
        },
        timeout,
        |cid, out| encode_request(req, version, cid, Some(&client_id), out),
    )
    .await
}

/// SaslHandshake v1 then the mechanism's SaslAuthenticate round trips.
///
/// # Errors
/// [`Error::Sasl`] when the mechanism is not enabled, the credentials are refused or the
/// SCRAM exchange fails; transport errors as usual.
pub async fn authenticate(
    conn: &Connection,
    mechanism: SaslMechanism,
    username: &str,
    password: &str,
) -> Result<(), Error> {
    let broker = conn.broker().clone();
    let sasl_err = |source| Error::Sasl {
        broker: broker.clone(),
        source,
    };
    let handshake =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism.name()));
    let version = conn.version_of::<SaslHandshakeRequest>()?.max(1);
    let response = conn
        .send_versioned(&handshake, version, conn.shared.request_timeout)
        .await?;
    if ErrorCode(response.error_code) == ErrorCode::UNSUPPORTED_SASL_MECHANISM {
        return Err(sasl_err(SaslError::MechanismNotEnabled {
            mechanism: mechanism.name(),
            enabled: response.mechanisms.iter().map(|m| m.to_string()).collect(),
        }));
    }
    Error::check(response.error_code, None, "SaslHandshake", None, None)?;

    let exchange = |token: Vec<u8>| async {
        let req = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(token));
        let resp = conn.send(&req).await?;
        if resp.error_code != 0 {
            let message = resp
                .error_message
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_else(|| ErrorCode(resp.error_code).name().to_string());
            return Err(Error::Sasl {
                broker: conn.broker().clone(),
                source: SaslError::AuthenticationFailed(message),
            });
        }
        Ok(resp.auth_bytes)
    };
    match mechanism {
        SaslMechanism::Plain => {
            exchange(plain::initial_response(username, password)).await?;
        }
        SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
            let hash = if mechanism == SaslMechanism::ScramSha256 {
                ScramHash::Sha256
            } else {
                ScramHash::Sha512
            };
            let nonce = new_nonce(&mut rand::thread_rng());
            let (client, first) = ScramClient::new(hash, username, password, &nonce);
            let server_first = exchange(first).await?;
            // PBKDF2 runs `i` (4096 by default, up to MAX_ITERATIONS) rounds of HMAC: a few
            // milliseconds of CPU per connection, kept off the runtime's worker threads.
            let (fin, client_final) =
                tokio::task::spawn_blocking(move || client.handle_server_first(&server_first))
                    .await
                    .map_err(|_| Error::ClientClosed)?
                    .map_err(sasl_err)?;
            let server_final = exchange(client_final).await?;
            fin.handle_server_final(&server_final).map_err(sasl_err)?;
        }
    }
    tracing::debug!(broker = %conn.broker(), mechanism = mechanism.name(), "SASL authenticated");
    Ok(())
}

#[cfg(all(test, feature = "tls"))]
mod tls_alert_tests {
    use super::*;

    fn broker() -> BrokerRef {
        BrokerRef {
            node_id: -1,
            addr: "127.0.0.1:9093".into(),
        }
    }

    #[test]
    fn rustls_alert_on_first_read_is_a_tls_error() {
        let alert = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
        );
        let err = tls_alert_as_tls_error(Error::Io {
            broker: broker(),
            source: Arc::new(alert),
        });
        assert!(
            matches!(&err, Error::Tls { broker: Some(b), message } if b == &broker() && message.contains("CertificateRequired")),
            "{err:?}"
        );
        assert!(!err.is_retriable());
    }

    #[test]
    fn other_io_errors_stay_retriable() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let err = tls_alert_as_tls_error(Error::Io {
            broker: broker(),
            source: Arc::new(reset),
        });
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert!(err.is_retriable());
    }
}
