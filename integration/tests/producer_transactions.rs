//! Transactions on the test broker (Kafka or Tansu): commit and abort markers, transactional
//! batches, offsets in a transaction, fencing by a newer producer with the same
//! transactional.id, state errors. The tests read the raw log and check the markers (Tansu does
//! not filter aborted records under read_committed, see docs/tansu.md). Kafka's transaction
//! coordinator writes the markers (and makes transactional offsets visible) after it answers
//! EndTxn, so the tests read until they are there.

mod producer_support;

use std::time::{Duration, Instant};

use rafka::producer::{
    ConsumerGroupMetadata, ProduceError, Producer, ProducerConfig, ProducerConfigBuilder,
    ProducerRecord,
};
use rafka::TopicPartition;
use rafka_integration::TestTarget;

use producer_support::{create_topic, group_coordinator_addr, read_partition_until};

fn txn_config(addr: &str, id: &str) -> ProducerConfigBuilder {
    ProducerConfig::builder(addr)
        .transactional_id(id)
        .max_block(Duration::from_secs(20))
        .request_timeout(Duration::from_secs(10))
        .delivery_timeout(Duration::from_secs(30))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_and_abort_write_markers() {
    let t = TestTarget::start().unwrap();
    let txn = t.topic("txn");
    create_topic(&t, &txn, 2).await;
    let producer = Producer::new(txn_config(&t.addr(), &t.group("tx-1")).build().unwrap()).unwrap();
    assert!(matches!(
        producer
            .send(ProducerRecord::new(&txn).value("early"))
            .await,
        Err(ProduceError::Transaction(_))
    ));
    producer.init_transactions().await.unwrap();

    producer.begin_transaction().unwrap();
    let mut futures = Vec::new();
    for i in 0..10 {
        futures.push(
            producer
                .send(
                    ProducerRecord::new(&txn)
                        .partition(i % 2)
                        .value(format!("c{i}")),
                )
                .await
                .unwrap(),
        );
    }
    producer.commit_transaction().await.unwrap();
    for f in futures {
        f.await.unwrap();
    }

    producer.begin_transaction().unwrap();
    let f = producer
        .send(ProducerRecord::new(&txn).partition(0).value("a0"))
        .await
        .unwrap();
    producer.flush().await;
    f.await.unwrap();
    producer.abort_transaction().await.unwrap();

    let log = read_partition_until(&t.addr(), &txn, 0, |got| {
        got.last().is_some_and(|r| r.control == Some(false))
    })
    .await;
    let summary: Vec<String> = log
        .iter()
        .map(|r| match r.control {
            Some(true) => "COMMIT".to_string(),
            Some(false) => "ABORT".to_string(),
            None => {
                assert!(r.is_transactional, "data batches are transactional");
                String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap()
            }
        })
        .collect();
    assert_eq!(
        summary,
        vec!["c0", "c2", "c4", "c6", "c8", "COMMIT", "a0", "ABORT"]
    );
    let p1 = read_partition_until(&t.addr(), &txn, 1, |got| {
        got.last().is_some_and(|r| r.control.is_some())
    })
    .await;
    assert_eq!(p1.last().unwrap().control, Some(true));
    assert_eq!(p1.len(), 6);
    producer.close(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn newer_producer_fences_the_older_one() {
    let t = TestTarget::start().unwrap();
    let fence = t.topic("fence");
    let id = t.group("tx-fence");
    create_topic(&t, &fence, 1).await;
    let old = Producer::new(
        txn_config(&t.addr(), &id)
            .max_block(Duration::from_secs(3))
            .build()
            .unwrap(),
    )
    .unwrap();
    old.init_transactions().await.unwrap();
    old.begin_transaction().unwrap();
    drop(
        old.send(ProducerRecord::new(&fence).value("old"))
            .await
            .unwrap(),
    );
    old.flush().await;

    let new = Producer::new(txn_config(&t.addr(), &id).build().unwrap()).unwrap();
    new.init_transactions().await.unwrap();
    let err = old.commit_transaction().await.unwrap_err();
    eprintln!("fenced producer's commit failed with: {err}");
    if t.is_kafka() {
        // Kafka answers the stale epoch's EndTxn with PRODUCER_FENCED (INVALID_PRODUCER_EPOCH
        // on old versions): the old producer is fenced, as Java's ProducerFencedException.
        assert!(
            matches!(err, ProduceError::Fenced(_)),
            "old producer is fenced: {err}"
        );
        // Fencing is fatal: the old producer cannot start another transaction.
        assert!(
            old.begin_transaction().is_err(),
            "a fenced producer stays fenced"
        );
    } else {
        // Tansu 0.6 closes the connection on EndTxn with a stale epoch instead, which surfaces
        // as a client error once max.block.ms is spent.
        assert!(
            matches!(err, ProduceError::Fenced(_) | ProduceError::Client(_)),
            "old producer cannot commit: {err}"
        );
    }
    new.begin_transaction().unwrap();
    drop(
        new.send(ProducerRecord::new(&fence).value("new"))
            .await
            .unwrap(),
    );
    new.commit_transaction().await.unwrap();
    new.close(Duration::from_secs(5)).await.unwrap();
    let _ = old.close(Duration::from_secs(1)).await;
    if t.is_kafka() {
        // The new producer's InitProducerId aborted the old one's open transaction.
        let log = read_partition_until(&t.addr(), &fence, 0, |got| {
            got.last().is_some_and(|r| r.control == Some(true))
        })
        .await;
        let summary: Vec<String> = log
            .iter()
            .map(|r| match r.control {
                Some(true) => "COMMIT".to_string(),
                Some(false) => "ABORT".to_string(),
                None => String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap(),
            })
            .collect();
        assert_eq!(summary, vec!["old", "ABORT", "new", "COMMIT"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_are_committed_with_the_transaction() {
    use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
    use kafka_protocol::messages::{GroupId, OffsetFetchRequest, TopicName};
    use kafka_protocol::protocol::StrBytes;

    let t = TestTarget::start().unwrap();
    let input = t.topic("in");
    let output = t.topic("out");
    let group = t.group("txn-group");
    create_topic(&t, &input, 1).await;
    create_topic(&t, &output, 1).await;
    let producer = Producer::new(
        txn_config(&t.addr(), &t.group("tx-offsets"))
            .build()
            .unwrap(),
    )
    .unwrap();
    producer.init_transactions().await.unwrap();
    producer.begin_transaction().unwrap();
    // Delivered by the commit below; the future itself is not needed.
    drop(
        producer
            .send(ProducerRecord::new(&output).value("processed"))
            .await
            .unwrap(),
    );
    producer
        .send_offsets_to_transaction(
            &[(TopicPartition::new(&input, 0), 42, Some("meta".into()))],
            &ConsumerGroupMetadata::new(&group),
        )
        .await
        .unwrap();
    producer.commit_transaction().await.unwrap();

    let req = OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.clone())))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(TopicName(StrBytes::from_string(input.clone())))
            .with_partition_indexes(vec![0])]));
    let addr = group_coordinator_addr(&t.addr(), &group).await;
    let mut conn = rafka_integration::raw::RawConnection::connect(&addr)
        .await
        .unwrap();
    // The offsets become visible once the coordinator has written the commit marker.
    let deadline = Instant::now() + Duration::from_secs(30);
    let partition = loop {
        let resp = conn.call(5, &req).await.unwrap();
        let partition = resp.topics[0].partitions[0].clone();
        if partition.committed_offset == 42 || Instant::now() >= deadline {
            break partition;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(partition.committed_offset, 42);
    if t.is_kafka() {
        // Kafka keeps the commit's metadata (Tansu does not, see docs/tansu.md).
        assert_eq!(partition.metadata.as_deref(), Some("meta"));
    }
    producer.close(Duration::from_secs(5)).await.unwrap();
}
