//! Connection tests over in-memory streams (`tokio::io::duplex`) with simulated time: a fake
//! broker on the other end reads request frames and answers as each test scripts.

use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, HeaderVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;

fn broker() -> BrokerRef {
    BrokerRef {
        node_id: 7,
        addr: "fake:9092".into(),
    }
}

fn settings() -> ConnectionSettings {
    ConnectionSettings {
        client_id: Arc::from("test"),
        request_timeout: Duration::from_secs(30),
        max_frame_size: 1 << 20,
    }
}

/// The broker end of a duplex stream.
struct FakeBroker {
    io: DuplexStream,
    buf: BytesMut,
}

/// What the fake broker read: key, version, correlation id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Req {
    key: i16,
    version: i16,
    cid: i32,
}

impl FakeBroker {
    async fn next(&mut self) -> Option<Req> {
        loop {
            if let Some(frame) = rafka_wire::frame::decode_frame(&mut self.buf, 1 << 20).unwrap() {
                let mut f = frame;
                return Some(Req {
                    key: f.get_i16(),
                    version: f.get_i16(),
                    cid: f.get_i32(),
                });
            }
            if self.io.read_buf(&mut self.buf).await.unwrap() == 0 {
                return None;
            }
        }
    }

    async fn respond<M: Encodable + HeaderVersion>(&mut self, cid: i32, version: i16, msg: &M) {
        let mut body = BytesMut::new();
        rafka_wire::header::encode_response_header(cid, M::header_version(version), &mut body);
        msg.encode(&mut body, version).unwrap();
        self.write_frame(&body).await;
    }

    async fn write_frame(&mut self, payload: &[u8]) {
        let mut out = BytesMut::new();
        rafka_wire::frame::encode_frame(payload, &mut out).unwrap();
        self.io.write_all(&out).await.unwrap();
    }
}

fn pair() -> (Connection, FakeBroker) {
    let (a, b) = tokio::io::duplex(1 << 16);
    let conn = Connection::start(a, broker(), &settings());
    conn.set_versions(BrokerVersions::from_ranges([
        (12, 0, 4),
        (3, 0, 12),
        (0, 0, 11),
    ]));
    (
        conn,
        FakeBroker {
            io: b,
            buf: BytesMut::new(),
        },
    )
}

fn heartbeat() -> HeartbeatRequest {
    HeartbeatRequest::default()
}

#[tokio::test]
async fn pipelined_responses_match_out_of_order() {
    let (conn, mut fake) = pair();
    let conn = Arc::new(conn);
    let c1 = conn.clone();
    let c2 = conn.clone();
    let first = tokio::spawn(async move { c1.send(&heartbeat()).await });
    let r1 = fake.next().await.unwrap();
    let second = tokio::spawn(async move { c2.send(&heartbeat()).await });
    let r2 = fake.next().await.unwrap();
    assert_eq!((r1.key, r1.version), (12, 4));
    assert_ne!(r1.cid, r2.cid);
    assert_eq!(conn.in_flight(), 2);
    // Answer the second first, each with a distinct error code.
    fake.respond(r2.cid, 4, &HeartbeatResponse::default().with_error_code(22))
        .await;
    fake.respond(r1.cid, 4, &HeartbeatResponse::default().with_error_code(27))
        .await;
    assert_eq!(first.await.unwrap().unwrap().error_code, 27);
    assert_eq!(second.await.unwrap().unwrap().error_code, 22);
    assert_eq!(conn.in_flight(), 0);
}

#[tokio::test(start_paused = true)]
async fn dropped_request_frees_its_slot_and_late_response_is_discarded() {
    let (conn, mut fake) = pair();
    {
        let req = heartbeat();
        let fut = conn.send(&req);
        // Give up long before request.timeout.ms.
        let r = tokio::time::timeout(Duration::from_millis(10), fut).await;
        assert!(r.is_err());
    }
    let abandoned = fake.next().await.unwrap();
    assert_eq!(conn.in_flight(), 0);
    fake.respond(
        abandoned.cid,
        4,
        &HeartbeatResponse::default().with_error_code(1),
    )
    .await;
    // The connection survives and the next request gets its own answer.
    let conn = Arc::new(conn);
    let c = conn.clone();
    let next = tokio::spawn(async move { c.send(&heartbeat()).await });
    let r = fake.next().await.unwrap();
    assert_eq!(r.cid, abandoned.cid + 1);
    fake.respond(r.cid, 4, &HeartbeatResponse::default().with_error_code(25))
        .await;
    assert_eq!(next.await.unwrap().unwrap().error_code, 25);
    assert!(conn.is_alive());
}

#[tokio::test]
async fn broker_closing_fails_every_waiter_with_the_same_error() {
    let (conn, mut fake) = pair();
    let conn = Arc::new(conn);
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let c = conn.clone();
            tokio::spawn(async move { c.send(&heartbeat()).await })
        })
        .collect();
    for _ in 0..3 {
        fake.next().await.unwrap();
    }
    drop(fake);
    for w in waiters {
        let err = w.await.unwrap().unwrap_err();
        assert!(
            matches!(&err, Error::ConnectionClosed { broker, api: Some(api) } if broker.node_id == 7 && api.name == "Heartbeat"),
            "{err:?}"
        );
        assert!(err.is_retriable());
    }
    assert!(!conn.is_alive());
    // Later requests fail at once with the same error instead of hanging.
    assert!(matches!(
        conn.send(&heartbeat()).await,
        Err(Error::ConnectionClosed { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn silent_broker_times_out_and_closes_the_connection() {
    let (conn, mut fake) = pair();
    let conn = Arc::new(conn);
    let c = conn.clone();
    let other = tokio::spawn(async move {
        c.send_versioned(&heartbeat(), 4, Duration::from_secs(60))
            .await
    });
    fake.next().await.unwrap();
    let err = conn.send(&heartbeat()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { what, after, .. } if what == "Heartbeat v4" && *after == Duration::from_secs(30)),
        "{err:?}"
    );
    // The request still waiting on the same connection is failed too.
    assert!(matches!(other.await.unwrap(), Err(Error::Timeout { .. })));
    assert!(!conn.is_alive());
}

#[tokio::test]
async fn foreign_correlation_id_closes_the_connection() {
    let (conn, mut fake) = pair();
    let conn = Arc::new(conn);
    let c = conn.clone();
    let waiter = tokio::spawn(async move { c.send(&heartbeat()).await });
    fake.next().await.unwrap();
    fake.respond(4242, 4, &HeartbeatResponse::default()).await;
    let err = waiter.await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Wire { .. }), "{err:?}");
}

#[tokio::test]
async fn oversized_frame_is_rejected_before_allocation() {
    let (conn, mut fake) = pair();
    let conn = Arc::new(conn);
    let c = conn.clone();
    let waiter = tokio::spawn(async move { c.send(&heartbeat()).await });
    fake.next().await.unwrap();
    fake.io
        .write_all(&(1i32 << 30).to_be_bytes())
        .await
        .unwrap();
    let err = waiter.await.unwrap().unwrap_err();
    assert!(
        matches!(err, Error::Wire { source: WireError::FrameTooLarge { size, .. }, .. } if size == 1 << 30),
        "{err:?}"
    );
}

#[tokio::test]
async fn request_without_response_is_written() {
    let (conn, mut fake) = pair();
    let req = ProduceRequest::default().with_acks(0);
    conn.send_no_response(&req, 9).await.unwrap();
    let r = fake.next().await.unwrap();
    assert_eq!((r.key, r.version), (0, 9));
    assert_eq!(conn.in_flight(), 0);
}

#[tokio::test]
async fn version_negotiation_errors_name_the_api() {
    let (conn, _fake) = pair();
    let err = conn.send(&FetchRequest::default()).await.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::NoCommonVersion {
                source: WireError::UnsupportedApi { api: "Fetch" },
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn throttle_delays_the_next_request() {
    let (conn, mut fake) = pair();
    let conn = Arc::new(conn);
    let c = conn.clone();
    let first = tokio::spawn(async move { c.send(&heartbeat()).await });
    let r = fake.next().await.unwrap();
    fake.respond(
        r.cid,
        4,
        &HeartbeatResponse::default().with_throttle_time_ms(1000),
    )
    .await;
    first.await.unwrap().unwrap();
    let c = conn.clone();
    let _second = tokio::spawn(async move { c.send(&heartbeat()).await });
    // Nothing reaches the broker while throttled...
    let early = tokio::time::timeout(Duration::from_millis(900), fake.next()).await;
    assert!(early.is_err(), "request sent during the throttle");
    // ...and the request goes out once it ends.
    let r = tokio::time::timeout(Duration::from_millis(200), fake.next()).await;
    assert!(r.unwrap().is_some());
}

fn api_versions_v0_unsupported() -> Bytes {
    // ApiVersions v0 layout: error_code, [api_key, min, max]; listing ApiVersions 0..=2.
    let mut body = BytesMut::new();
    ApiVersionsResponse::default()
        .with_error_code(35)
        .with_api_keys(vec![ApiVersion::default()
            .with_api_key(18)
            .with_min_version(0)
            .with_max_version(2)])
        .encode(&mut body, 0)
        .unwrap();
    body.freeze()
}

#[tokio::test]
async fn api_versions_falls_back_to_the_brokers_highest() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let conn = Connection::start(a, broker(), &settings());
    let mut fake = FakeBroker {
        io: b,
        buf: BytesMut::new(),
    };
    let handshake =
        tokio::spawn(async move { handshake::api_versions(&conn, Duration::from_secs(5)).await });
    let r = fake.next().await.unwrap();
    assert_eq!((r.key, r.version), (18, 3));
    let mut payload = BytesMut::new();
    payload.extend_from_slice(&r.cid.to_be_bytes());
    payload.extend_from_slice(&api_versions_v0_unsupported());
    fake.write_frame(&payload).await;
    let r = fake.next().await.unwrap();
    assert_eq!((r.key, r.version), (18, 2));
    let ok = ApiVersionsResponse::default().with_api_keys(vec![
        ApiVersion::default()
            .with_api_key(18)
            .with_min_version(0)
            .with_max_version(2),
        ApiVersion::default()
            .with_api_key(3)
            .with_min_version(0)
            .with_max_version(9),
    ]);
    fake.respond(r.cid, 2, &ok).await;
    let versions = handshake.await.unwrap().unwrap();
    assert_eq!(versions.choose::<MetadataRequest>().unwrap(), 9);
}

// ----- SASL over a fake broker -----

use kafka_protocol::protocol::Decodable;

impl FakeBroker {
    /// The next request decoded as `R` (at the version the client chose).
    async fn next_as<R: Decodable + HeaderVersion>(&mut self) -> (Req, R) {
        loop {
            if let Some(frame) = rafka_wire::frame::decode_frame(&mut self.buf, 1 << 20).unwrap() {
                let version = i16::from_be_bytes([frame[2], frame[3]]);
                let mut body = frame.clone();
                let header = rafka_wire::header::decode_request_header(
                    &mut body,
                    R::header_version(version),
                )
                .unwrap();
                let req = R::decode(&mut body, version).unwrap();
                return (
                    Req {
                        key: header.api_key,
                        version,
                        cid: header.correlation_id,
                    },
                    req,
                );
            }
            assert!(
                self.io.read_buf(&mut self.buf).await.unwrap() > 0,
                "client hung up"
            );
        }
    }
}

fn sasl_pair() -> (Connection, FakeBroker) {
    // SaslHandshake 0..=1, SaslAuthenticate 0..=2.
    let (a, b) = tokio::io::duplex(1 << 16);
    let conn = Connection::start(a, broker(), &settings());
    conn.set_versions(BrokerVersions::from_ranges([(17, 0, 1), (36, 0, 2)]));
    (
        conn,
        FakeBroker {
            io: b,
            buf: BytesMut::new(),
        },
    )
}

#[tokio::test]
async fn sasl_plain_sends_handshake_then_credentials() {
    let (conn, mut fake) = sasl_pair();
    let auth = tokio::spawn(async move {
        handshake::authenticate(&conn, crate::SaslMechanism::Plain, "alice", "pw").await
    });
    let (r, hs) = fake.next_as::<SaslHandshakeRequest>().await;
    assert_eq!((r.key, r.version), (17, 1));
    assert_eq!(hs.mechanism.as_str(), "PLAIN");
    fake.respond(r.cid, 1, &SaslHandshakeResponse::default())
        .await;
    let (r, a) = fake.next_as::<SaslAuthenticateRequest>().await;
    assert_eq!((r.key, r.version), (36, 2));
    assert_eq!(&a.auth_bytes[..], b"\0alice\0pw");
    fake.respond(r.cid, 2, &SaslAuthenticateResponse::default())
        .await;
    auth.await.unwrap().unwrap();
}

#[tokio::test]
async fn sasl_refusals_are_typed() {
    // Mechanism not enabled.
    let (conn, mut fake) = sasl_pair();
    let auth = tokio::spawn(async move {
        handshake::authenticate(&conn, crate::SaslMechanism::ScramSha512, "u", "p").await
    });
    let (r, _) = fake.next_as::<SaslHandshakeRequest>().await;
    let resp = SaslHandshakeResponse::default()
        .with_error_code(33)
        .with_mechanisms(vec![kafka_protocol::protocol::StrBytes::from_static_str(
            "PLAIN",
        )]);
    fake.respond(r.cid, 1, &resp).await;
    let err = auth.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Sasl { source: crate::sasl::SaslError::MechanismNotEnabled { mechanism: "SCRAM-SHA-512", enabled }, .. } if enabled == &["PLAIN"]),
        "{err:?}"
    );

    // Bad credentials: SASL_AUTHENTICATION_FAILED with the broker's message.
    let (conn, mut fake) = sasl_pair();
    let auth = tokio::spawn(async move {
        handshake::authenticate(&conn, crate::SaslMechanism::Plain, "u", "wrong").await
    });
    let (r, _) = fake.next_as::<SaslHandshakeRequest>().await;
    fake.respond(r.cid, 1, &SaslHandshakeResponse::default())
        .await;
    let (r, _) = fake.next_as::<SaslAuthenticateRequest>().await;
    let resp = SaslAuthenticateResponse::default()
        .with_error_code(58)
        .with_error_message(Some(kafka_protocol::protocol::StrBytes::from_static_str(
            "invalid credentials",
        )));
    fake.respond(r.cid, 2, &resp).await;
    let err = auth.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Sasl { source: crate::sasl::SaslError::AuthenticationFailed(m), .. } if m == "invalid credentials"),
        "{err:?}"
    );
    assert!(!err.is_retriable());
}

/// The server side of SCRAM-SHA-256 (RFC 5802 section 3), written out independently of the
/// client code: checks the client proof against the password and signs the exchange.
struct ScramServer {
    salt: Vec<u8>,
    iterations: u32,
    password: &'static str,
}

impl ScramServer {
    fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
        use hmac::Mac;
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }

    /// `Ok(server-final)` when the proof matches, `Err(())` otherwise.
    fn verify(
        &self,
        client_first_bare: &str,
        server_first: &str,
        client_final: &str,
    ) -> Result<String, ()> {
        use base64::Engine;
        use sha2::Digest;
        let b64 = base64::engine::general_purpose::STANDARD;
        let (without_proof, proof) = client_final.rsplit_once(",p=").unwrap();
        let proof = b64.decode(proof).unwrap();
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            self.password.as_bytes(),
            &self.salt,
            self.iterations,
            &mut salted,
        );
        let stored_key = sha2::Sha256::digest(Self::hmac(&salted, b"Client Key"));
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = Self::hmac(&stored_key, auth_message.as_bytes());
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
        if sha2::Sha256::digest(&client_key)[..] != stored_key[..] {
            return Err(());
        }
        let server_key = Self::hmac(&salted, b"Server Key");
        Ok(format!(
            "v={}",
            b64.encode(Self::hmac(&server_key, auth_message.as_bytes()))
        ))
    }
}

async fn scram_exchange(password: &'static str) -> Result<(), Error> {
    let (conn, mut fake) = sasl_pair();
    let auth = tokio::spawn(async move {
        handshake::authenticate(&conn, crate::SaslMechanism::ScramSha256, "user", password).await
    });
    let server = ScramServer {
        salt: b"rafka-salt".to_vec(),
        iterations: 4096,
        password: "pencil",
    };
    let (r, hs) = fake.next_as::<SaslHandshakeRequest>().await;
    assert_eq!(hs.mechanism.as_str(), "SCRAM-SHA-256");
    fake.respond(r.cid, 1, &SaslHandshakeResponse::default())
        .await;

    let (r, first) = fake.next_as::<SaslAuthenticateRequest>().await;
    let first = String::from_utf8(first.auth_bytes.to_vec()).unwrap();
    let bare = first.strip_prefix("n,,").unwrap().to_string();
    let client_nonce = bare.strip_prefix("n=user,r=").unwrap();
    use base64::Engine;
    let server_first = format!(
        "r={client_nonce}srv-nonce,s={},i={}",
        base64::engine::general_purpose::STANDARD.encode(&server.salt),
        server.iterations
    );
    let resp =
        SaslAuthenticateResponse::default().with_auth_bytes(Bytes::from(server_first.clone()));
    fake.respond(r.cid, 2, &resp).await;

    let (r, fin) = fake.next_as::<SaslAuthenticateRequest>().await;
    let fin = String::from_utf8(fin.auth_bytes.to_vec()).unwrap();
    let resp = match server.verify(&bare, &server_first, &fin) {
        Ok(server_final) => {
            SaslAuthenticateResponse::default().with_auth_bytes(Bytes::from(server_final))
        }
        Err(()) => SaslAuthenticateResponse::default()
            .with_error_code(58)
            .with_error_message(Some(kafka_protocol::protocol::StrBytes::from_static_str(
                "bad proof",
            ))),
    };
    fake.respond(r.cid, 2, &resp).await;
    auth.await.unwrap()
}

#[tokio::test]
async fn scram_sha256_full_exchange() {
    scram_exchange("pencil").await.unwrap();
    let err = scram_exchange("crayon").await.unwrap_err();
    assert!(
        matches!(&err, Error::Sasl { source: crate::sasl::SaslError::AuthenticationFailed(m), .. } if m == "bad proof"),
        "{err:?}"
    );
}
