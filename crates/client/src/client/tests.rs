//! Unit tests of [`Client`] that need no broker: retries, deadlines, purposes.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use kafka_protocol::messages::ApiKey;
use rafka_wire::error_code::ErrorCode;

use super::*;

fn client() -> Client {
    let config = ClientConfig::builder()
        .bootstrap_servers("127.0.0.1:1")
        .retry_backoff(Duration::from_millis(100))
        .retry_backoff_max(Duration::from_millis(1000))
        .default_api_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    // No background refresher: these tests must not touch sockets.
    Client::without_refresher(config).unwrap()
}

fn not_leader() -> Error {
    Error::broker(ErrorCode::NOT_LEADER_OR_FOLLOWER, None, "Produce")
}

#[tokio::test(start_paused = true)]
async fn retries_retriable_errors_until_success_and_marks_metadata_stale() {
    let client = client();
    let attempts = AtomicU32::new(0);
    let value = client
        .with_retries("op", || async {
            if attempts.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(not_leader())
            } else {
                Ok(7)
            }
        })
        .await
        .unwrap();
    assert_eq!(value, 7);
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert!(client.inner.metadata.is_stale());
}

#[tokio::test(start_paused = true)]
async fn fatal_errors_are_not_retried() {
    let client = client();
    let attempts = AtomicU32::new(0);
    let err = client
        .with_retries("op", || async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(Error::broker(
                ErrorCode::TOPIC_AUTHORIZATION_FAILED,
                None,
                "Produce",
            ))
        })
        .await
        .unwrap_err();
    assert_eq!(attempts.load(Ordering::SeqCst), 1);
    assert_eq!(err.code(), Some(ErrorCode::TOPIC_AUTHORIZATION_FAILED));
}

#[tokio::test(start_paused = true)]
async fn deadline_ends_retries_with_the_last_error() {
    let client = client();
    let attempts = AtomicU32::new(0);
    let err = client
        .with_retries("op", || async {
            attempts.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(not_leader())
        })
        .await
        .unwrap_err();
    // 100+200+400+800+1000*n ms of backoff (±20 %) fit in 10 s: between 9 and 16 attempts.
    let n = attempts.load(Ordering::SeqCst);
    assert!((9..=16).contains(&n), "{n} attempts");
    assert!(
        matches!(&err, Error::DeadlineExceeded { last, .. } if last.code() == Some(ErrorCode::NOT_LEADER_OR_FOLLOWER)),
        "{err:?}"
    );
    assert_eq!(err.code(), Some(ErrorCode::NOT_LEADER_OR_FOLLOWER));
}

#[tokio::test(start_paused = true)]
async fn hanging_attempt_is_cut_at_the_deadline() {
    let client = client();
    let err = client
        .with_retries("op", std::future::pending::<Result<(), Error>>)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DeadlineExceeded { last, .. } if matches!(**last, Error::Timeout { .. })),
        "{err:?}"
    );
}

#[test]
fn purposes_by_api() {
    assert_eq!(Purpose::for_api(ApiKey::Produce), Purpose::Produce);
    assert_eq!(Purpose::for_api(ApiKey::Fetch), Purpose::Fetch);
    assert_eq!(Purpose::for_api(ApiKey::Heartbeat), Purpose::Group);
    assert_eq!(Purpose::for_api(ApiKey::Metadata), Purpose::General);
}

#[test]
fn targets_fit_the_declared_destinations() {
    use rafka_wire::request::{Destination as D, KafkaRequest};
    let tp = rafka_wire::TopicPartition::new("t", 0);
    assert!(Target::Leader(tp.clone()).fits(kafka_protocol::messages::ProduceRequest::DESTINATION));
    assert!(!Target::Any.fits(D::PartitionLeader));
    assert!(!Target::Leader(tp).fits(D::GroupCoordinator));
    assert!(Target::GroupCoordinator("g".into())
        .fits(kafka_protocol::messages::OffsetCommitRequest::DESTINATION));
    assert!(!Target::GroupCoordinator("g".into()).fits(D::TransactionCoordinator));
    assert!(Target::Any.fits(kafka_protocol::messages::InitProducerIdRequest::DESTINATION));
    assert!(Target::Controller.fits(kafka_protocol::messages::CreateTopicsRequest::DESTINATION));
    assert!(Target::Broker(3).fits(D::GroupCoordinator));
}
