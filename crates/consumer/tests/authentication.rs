//! A consumer whose connections fail TLS or SASL reports that from `poll`, with or without a
//! group, instead of polling empty forever (found against Apache Kafka with a wrong SASL
//! password: `integration/tests/kafka_security.rs`).

use std::time::{Duration, Instant};

use rafka_client::{ClientConfig, Error, SecurityProtocol};
use rafka_consumer::{Consumer, ConsumerConfig, ConsumerError};
use rafka_wire::TopicPartition;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// A listener that answers every connection with bytes that are not TLS.
async fn not_tls() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let _ = tcp.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    addr
}

/// Polls until `poll` fails; panics after 10 s.
async fn first_error(consumer: &mut Consumer) -> ConsumerError {
    let started = Instant::now();
    loop {
        match consumer.poll(Duration::from_millis(200)).await {
            Ok(records) => assert!(records.is_empty()),
            Err(e) => return e,
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "poll kept returning nothing"
        );
    }
}

fn config(addr: &str, group: Option<&str>) -> ConsumerConfig {
    let client = ClientConfig::builder()
        .bootstrap_servers(addr)
        .security_protocol(SecurityProtocol::Ssl)
        .build()
        .unwrap();
    let mut b = ConsumerConfig::builder(addr).client(client);
    if let Some(g) = group {
        b = b.group_id(g);
    }
    b.build().unwrap()
}

#[tokio::test]
async fn assigned_consumer_reports_a_failed_tls_handshake() {
    let addr = not_tls().await;
    let mut consumer = Consumer::new(config(&addr, None)).unwrap();
    consumer.assign(&[TopicPartition::new("t", 0)]).unwrap();
    let err = first_error(&mut consumer).await;
    assert!(
        matches!(err, ConsumerError::Client(Error::Tls { .. })),
        "{err:?}"
    );
    assert!(!err.is_retriable());
}

#[tokio::test]
async fn group_member_reports_a_failed_tls_handshake() {
    let addr = not_tls().await;
    let mut consumer = Consumer::new(config(&addr, Some("g"))).unwrap();
    consumer.subscribe(["t"]).unwrap();
    let err = first_error(&mut consumer).await;
    assert!(
        matches!(err, ConsumerError::Client(Error::Tls { .. })),
        "{err:?}"
    );
    assert!(!err.is_retriable());
}
