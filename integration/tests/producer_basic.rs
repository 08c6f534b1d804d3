//! rafka-producer against a real broker (the shared Apache Kafka cluster, or a private Tansu):
//! partitioning as Java, every codec, acks 0/1/all, oversized records,
//! headers/tombstones/timestamps, create and log-append time, two idempotent producers at once,
//! close.

mod producer_support;

use std::time::Duration;

use bytes::Bytes;
use rafka::producer::{
    Acks, CompressionType, ProduceError, Producer, ProducerConfig, ProducerConfigBuilder,
    ProducerRecord, RecordMetadata,
};
use rafka::wire::records::Compression;
use rafka_integration::TestTarget;

use producer_support::{
    create_topic, java_partition, read_partition, read_partition_until, wait_until_leaders_serve,
};

fn config(addr: &str) -> ProducerConfigBuilder {
    ProducerConfig::builder(addr)
        .linger(Duration::from_millis(5))
        .request_timeout(Duration::from_secs(10))
        .delivery_timeout(Duration::from_secs(30))
        .max_block(Duration::from_secs(15))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_records_land_on_javas_partition() {
    let t = TestTarget::start().unwrap();
    let keyed = t.topic("keyed");
    create_topic(&t, &keyed, 7).await;
    let producer = Producer::new(config(&t.addr()).build().unwrap()).unwrap();
    let mut futures = Vec::new();
    for i in 0..60 {
        let key = format!("key-{i}");
        let f = producer
            .send(
                ProducerRecord::new(&keyed)
                    .key(key.clone())
                    .value(format!("v{i}")),
            )
            .await
            .unwrap();
        futures.push((key, f));
    }
    let mut per_partition = std::collections::BTreeMap::<i32, Vec<(i64, String)>>::new();
    for (key, f) in futures {
        let md = f.await.unwrap();
        assert_eq!(md.partition, java_partition(key.as_bytes(), 7), "key {key}");
        per_partition
            .entry(md.partition)
            .or_default()
            .push((md.offset, key));
    }
    assert!(
        per_partition.len() > 3,
        "60 keys spread over several partitions"
    );
    for (p, expected) in per_partition {
        let got = read_partition(&t.addr(), &keyed, p).await;
        let got: Vec<(i64, String)> = got
            .iter()
            .map(|r| {
                (
                    r.offset,
                    String::from_utf8(r.key.clone().unwrap().to_vec()).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got, expected,
            "partition {p}: offsets from the futures match the log"
        );
    }
    // A known Java fact: "foobar" → murmur2 -790332482 → partition 2 of 4.
    let keyed4 = t.topic("keyed4");
    create_topic(&t, &keyed4, 4).await;
    let md = producer
        .send(ProducerRecord::new(&keyed4).key("foobar").value("x"))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(md.partition, 2);
    producer.close(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_codec_round_trips_headers_tombstones_and_timestamps() {
    let t = TestTarget::start().unwrap();
    for (codec, wire, level) in [
        (CompressionType::None, Compression::None, None),
        (CompressionType::Gzip, Compression::Gzip, Some(6)),
        (CompressionType::Snappy, Compression::Snappy, None),
        (CompressionType::Lz4, Compression::Lz4, Some(9)),
        (CompressionType::Zstd, Compression::Zstd, Some(3)),
    ] {
        let topic = t.topic(&format!("codec-{}", codec.name()));
        create_topic(&t, &topic, 1).await;
        let producer =
            Producer::new(config(&t.addr()).compression(codec, level).build().unwrap()).unwrap();
        let mut last = None;
        for i in 0..300i64 {
            let mut r = ProducerRecord::new(topic.clone())
                .timestamp(1_700_000_000_000 + i)
                .header("i", i.to_string())
                .null_header("nothing");
            if i % 3 != 0 {
                r = r.key(format!("k{i}"));
            }
            if i % 10 != 0 {
                r = r.value(Bytes::from(format!("value-{i}-").repeat(8)));
            }
            last = Some(producer.send(r).await.unwrap());
        }
        producer.flush().await;
        last.unwrap().await.unwrap();
        let got = read_partition(&t.addr(), &topic, 0).await;
        assert_eq!(got.len(), 300, "{codec:?}");
        for (i, r) in got.iter().enumerate() {
            let i = i as i64;
            assert_eq!(r.offset, i);
            assert_eq!(r.compression, wire, "{codec:?}");
            assert_eq!(r.timestamp, 1_700_000_000_000 + i);
            assert_eq!(
                r.key.as_deref(),
                (i % 3 != 0)
                    .then(|| format!("k{i}"))
                    .as_deref()
                    .map(str::as_bytes)
            );
            if i % 10 == 0 {
                assert_eq!(r.value, None, "tombstone");
            } else {
                assert_eq!(
                    r.value.as_deref(),
                    Some(format!("value-{i}-").repeat(8).as_bytes())
                );
            }
            assert_eq!(
                r.headers,
                vec![
                    ("i".to_string(), Some(Bytes::from(i.to_string()))),
                    ("nothing".to_string(), None)
                ]
            );
        }
        producer.close(Duration::from_secs(10)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_zero_one_and_all_deliver() {
    let t = TestTarget::start().unwrap();
    for (acks, name) in [
        (Acks::All, "all"),
        (Acks::Leader, "one"),
        (Acks::None, "zero"),
    ] {
        let topic = t.topic(&format!("acks-{name}"));
        // Also waits until the leaders serve the partitions: acks=0 records sent to a Kafka
        // leader that does not know the topic yet are lost (the broker closes the connection).
        create_topic(&t, &topic, 2).await;
        let producer = Producer::new(
            config(&t.addr())
                .acks(acks)
                .enable_idempotence(acks == Acks::All)
                .build()
                .unwrap(),
        )
        .unwrap();
        let mut futures = Vec::new();
        for i in 0..100 {
            futures.push(
                producer
                    .send(
                        ProducerRecord::new(topic.clone())
                            .partition(i % 2)
                            .value(format!("{i}")),
                    )
                    .await
                    .unwrap(),
            );
        }
        for f in futures {
            let md = f.await.unwrap();
            if acks == Acks::None {
                assert_eq!(md.offset, -1, "acks=0 has no offsets");
            } else {
                assert!(md.offset >= 0);
            }
        }
        producer.close(Duration::from_secs(10)).await.unwrap();
        // With acks=0 or 1 the producer does not wait for the followers: on Kafka the last
        // records may still be above the high watermark, so read until each partition's 50
        // are there (or 30 s pass).
        let mut values = Vec::new();
        for p in 0..2 {
            for r in read_partition_until(&t.addr(), &topic, p, |got| got.len() >= 50).await {
                if r.control.is_none() {
                    values.push(String::from_utf8(r.value.unwrap().to_vec()).unwrap());
                }
            }
        }
        eprintln!(
            "acks={name}: {} records in the log for 100 sent",
            values.len()
        );
        values.sort_by_key(|v| v.parse::<i32>().unwrap());
        values.dedup();
        assert_eq!(values.len(), 100, "acks={name}");
        let m = producer.metrics();
        assert_eq!(m.records_sent, 100);
        assert_eq!(m.buffer_bytes_in_use, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_records_refused_and_closed_producer_refuses() {
    let t = TestTarget::start().unwrap();
    let big = t.topic("big");
    create_topic(&t, &big, 1).await;
    let producer =
        Producer::new(config(&t.addr()).max_request_size(1_000).build().unwrap()).unwrap();
    let err = producer
        .send(ProducerRecord::new(&big).value(vec![0u8; 2_000]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProduceError::RecordTooLarge {
                max: 1_000,
                setting: "max.request.size",
                ..
            }
        ),
        "{err}"
    );
    let small = producer
        .send(ProducerRecord::new(&big).value(vec![1u8; 500]))
        .await
        .unwrap();
    producer.close(Duration::from_secs(10)).await.unwrap();
    assert_eq!(small.await.unwrap().offset, 0);
    assert!(matches!(
        producer.send(ProducerRecord::new(&big).value("x")).await,
        Err(ProduceError::Closed)
    ));
    assert_eq!(read_partition(&t.addr(), &big, 0).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unkeyed_records_stick_then_spread_and_callbacks_run() {
    let t = TestTarget::start().unwrap();
    let sticky = t.topic("sticky");
    create_topic(&t, &sticky, 4).await;
    let producer = Producer::new(config(&t.addr()).batch_size(1_000).build().unwrap()).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..400 {
        let tx = tx.clone();
        // The callback reports the outcome; the delivery future is not needed.
        drop(
            producer
                .send_with_callback(
                    ProducerRecord::new(&sticky).value(format!("{i:0>40}")),
                    move |r| {
                        let _ = tx.send(r.map(|m| m.partition));
                    },
                )
                .await
                .unwrap(),
        );
    }
    drop(tx);
    producer.flush().await;
    let mut counts = [0usize; 4];
    let mut n = 0;
    while let Some(r) = rx.recv().await {
        counts[r.unwrap() as usize] += 1;
        n += 1;
    }
    assert_eq!(n, 400, "every callback ran");
    // 400 records of ~50 bytes with batch.size 1000: the sticky partition switches about
    // every 20 records, so several partitions get records.
    assert!(counts.iter().filter(|c| **c > 0).count() >= 2, "{counts:?}");
    producer.close(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interceptors_and_custom_partitioner_are_used() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use rafka::producer::partitioner::{PartitionInfo, Partitioner};
    use rafka::producer::{ProducerInterceptor, RecordMetadata};

    struct Upper(AtomicUsize);
    impl ProducerInterceptor for Upper {
        fn on_send(&self, mut r: ProducerRecord) -> ProducerRecord {
            r.value = r.value.map(|v| Bytes::from(v.to_ascii_uppercase()));
            r
        }
        fn on_acknowledgement(&self, result: &Result<RecordMetadata, ProduceError>) {
            if result.is_ok() {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    /// Everything to the last partition.
    struct Last;
    impl Partitioner for Last {
        fn partition(
            &self,
            _topic: &str,
            _key: Option<&[u8]>,
            _value: Option<&[u8]>,
            info: &PartitionInfo,
        ) -> i32 {
            info.num_partitions - 1
        }
    }

    let t = TestTarget::start().unwrap();
    let hooks = t.topic("hooks");
    create_topic(&t, &hooks, 3).await;
    let interceptor = Arc::new(Upper(AtomicUsize::new(0)));
    let producer = Producer::builder(config(&t.addr()).build().unwrap())
        .interceptor(interceptor.clone())
        .partitioner(Arc::new(Last))
        .build()
        .unwrap();
    let mut futures = Vec::new();
    for i in 0..10 {
        futures.push(
            producer
                .send(
                    ProducerRecord::new(&hooks)
                        .key(format!("k{i}"))
                        .value("abc"),
                )
                .await
                .unwrap(),
        );
    }
    for f in futures {
        assert_eq!(f.await.unwrap().partition, 2);
    }
    assert_eq!(interceptor.0.load(Ordering::SeqCst), 10);
    let got = read_partition(&t.addr(), &hooks, 2).await;
    assert_eq!(got.len(), 10);
    assert!(got.iter().all(|r| r.value.as_deref() == Some(&b"ABC"[..])));
    producer.close(Duration::from_secs(5)).await.unwrap();
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_are_the_create_time_or_the_brokers_append_time() {
    let t = TestTarget::start().unwrap();
    let topic = t.topic("create-time");
    create_topic(&t, &topic, 1).await;
    let producer = Producer::new(config(&t.addr()).build().unwrap()).unwrap();
    let given = producer
        .send(
            ProducerRecord::new(&topic)
                .timestamp(1_700_000_000_000)
                .value("given"),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let before = now_ms();
    let stamped = producer
        .send(ProducerRecord::new(&topic).value("stamped"))
        .await
        .unwrap()
        .await
        .unwrap();
    let after = now_ms();
    // On a CreateTime topic (Kafka's default) the record keeps the producer's timestamp: the
    // one given, else the send time.
    assert_eq!(given.timestamp, 1_700_000_000_000);
    assert!(
        (before..=after).contains(&stamped.timestamp),
        "{before} <= {} <= {after}",
        stamped.timestamp
    );
    let log: Vec<i64> = read_partition(&t.addr(), &topic, 0)
        .await
        .iter()
        .map(|r| r.timestamp)
        .collect();
    assert_eq!(log, vec![given.timestamp, stamped.timestamp]);

    if t.is_kafka() {
        // On a LogAppendTime topic the broker stamps the batch, and the delivery reports the
        // broker's time (Java's RecordMetadata.timestamp()), not the producer's.
        let appended = t.topic("append-time");
        rafka_integration::kafka::create_topic(
            &t.addr(),
            &appended,
            1,
            3,
            &[
                ("min.insync.replicas", "2"),
                ("message.timestamp.type", "LogAppendTime"),
            ],
        )
        .await
        .unwrap();
        wait_until_leaders_serve(&t.addr(), &appended, 1).await;
        let before = now_ms();
        let md = producer
            .send(
                ProducerRecord::new(&appended)
                    .timestamp(1_700_000_000_000)
                    .value("appended"),
            )
            .await
            .unwrap()
            .await
            .unwrap();
        let after = now_ms();
        assert!(
            (before..=after).contains(&md.timestamp),
            "append time {before} <= {} <= {after}",
            md.timestamp
        );
        let log = read_partition(&t.addr(), &appended, 0).await;
        assert_eq!(log.len(), 1);
        assert_eq!(
            log[0].timestamp, md.timestamp,
            "the log holds the append time"
        );
    }
    producer.close(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_idempotent_producers_at_once() {
    let t = TestTarget::start().unwrap();
    let topic = t.topic("two-idempotent");
    create_topic(&t, &topic, 1).await;
    let first = Producer::new(config(&t.addr()).build().unwrap()).unwrap();
    let second = Producer::new(config(&t.addr()).build().unwrap()).unwrap();
    async fn send(p: &Producer, topic: &str, v: &str) -> Result<RecordMetadata, ProduceError> {
        p.send(ProducerRecord::new(topic).value(v.to_string()))
            .await?
            .await
    }
    // Kafka gives every idempotent producer an id of its own: both keep writing, each with its
    // own id and sequences. Tansu 0.6 gives two InitProducerId requests on two raw connections
    // the same id with the next epoch, which fences the first producer (docs/brokers.md); two
    // rafka producers started together have been seen to get ids 1 and 2 instead. So on Tansu
    // the first producer's records may fail, but only as fenced.
    let mut written = Vec::new();
    for (p, v) in [
        (&first, "first-1"),
        (&second, "second-1"),
        (&first, "first-2"),
        (&second, "second-2"),
    ] {
        match send(p, &topic, v).await {
            Ok(_) => written.push(v),
            Err(e) => assert!(
                !t.is_kafka() && v.starts_with("first") && matches!(e, ProduceError::Fenced(_)),
                "{v}: {e}"
            ),
        }
    }
    let log = read_partition(&t.addr(), &topic, 0).await;
    let values: Vec<String> = log
        .iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
        .collect();
    assert_eq!(values, written);
    if written.len() == 4 {
        assert_eq!(log[0].producer_id, log[2].producer_id);
        assert_eq!(log[1].producer_id, log[3].producer_id);
        assert_ne!(log[0].producer_id, log[1].producer_id);
        assert_eq!(
            log.iter().map(|r| r.base_sequence).collect::<Vec<_>>(),
            vec![0, 0, 1, 1]
        );
    }
    second.close(Duration::from_secs(10)).await.unwrap();
    let _ = first.close(Duration::from_secs(1)).await;
}
