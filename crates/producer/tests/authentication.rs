//! A producer whose connections fail TLS or SASL reports that at once from `send`, instead of
//! waiting `max.block.ms` for metadata and then reporting a timeout (found against Apache
//! Kafka with a wrong SASL password: `integration/tests/kafka_security.rs`).

use std::time::{Duration, Instant};

use rafka_client::{ClientConfig, SecurityProtocol};
use rafka_producer::{ProduceError, Producer, ProducerConfig, ProducerRecord};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

#[tokio::test]
async fn failed_tls_handshake_fails_send_before_max_block() {
    // Answers every connection with bytes that are not TLS, so the handshake fails.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let client = ClientConfig::builder()
        .bootstrap_servers(&addr)
        .security_protocol(SecurityProtocol::Ssl)
        .build()
        .unwrap();
    let config = ProducerConfig::builder(&addr)
        .max_block(Duration::from_secs(30))
        .client(client)
        .build()
        .unwrap();
    let producer = Producer::new(config).unwrap();
    let started = Instant::now();
    let Err(err) = producer.send(ProducerRecord::new("t").value("x")).await else {
        panic!("send must fail");
    };
    assert!(
        matches!(&err, ProduceError::Authentication(e @ rafka_client::Error::Tls { .. }) if e.to_string().starts_with("TLS")),
        "{err:?}"
    );
    assert!(!err.is_retriable());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
