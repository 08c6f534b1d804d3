//! rafka's producer and librdkafka 2.16 (confluent-kafka) on the test broker (Kafka or Tansu):
//! each reads what the other wrote, for every codec, and both put keyed records on the same
//! (Java murmur2) partition.

mod producer_support;

use std::time::Duration;

use rafka::producer::{CompressionType, Producer, ProducerConfig, ProducerRecord};
use rafka::wire::records::Compression;
use rafka_integration::python::{require_python, run_python_async};
use rafka_integration::TestTarget;

use producer_support::{create_topic, read_partition};

const CODECS: [(CompressionType, Compression); 5] = [
    (CompressionType::None, Compression::None),
    (CompressionType::Gzip, Compression::Gzip),
    (CompressionType::Snappy, Compression::Snappy),
    (CompressionType::Lz4, Compression::Lz4),
    (CompressionType::Zstd, Compression::Zstd),
];

const CONSUME: &str = r#"
import sys
from confluent_kafka import Consumer, TopicPartition
addr, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({"bootstrap.servers": addr, "group.id": "interop-" + topic,
              "enable.auto.commit": False, "fetch.queue.backoff.ms": 1})
c.assign([TopicPartition(topic, 0, 0)])
got = []
while len(got) < n:
    m = c.poll(10)
    if m is None:
        break
    if m.error():
        raise SystemExit(str(m.error()))
    hdrs = dict(m.headers() or [])
    got.append("%d|%s|%s|%s|%s" % (m.offset(), (m.key() or b"").decode(),
               "NULL" if m.value() is None else m.value().decode(),
               (hdrs.get("h") or b"").decode(), m.timestamp()[1]))
c.close()
print("\n".join(got))
"#;

const PRODUCE: &str = r#"
import sys
from confluent_kafka import Producer
addr, topic, codec, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
p = Producer({"bootstrap.servers": addr, "compression.type": codec, "linger.ms": 5,
              "partitioner": "murmur2_random", "enable.idempotence": True})
for i in range(n):
    p.produce(topic, key=("key-%d" % i).encode(), value=("value-%d" % i).encode(),
              headers=[("h", ("%d" % i).encode())], timestamp=1700000000000 + i)
assert p.flush(30) == 0
print("ok")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librdkafka_reads_rafka_records_for_every_codec() {
    if require_python().is_none() {
        return;
    }
    let t = TestTarget::start().unwrap();
    for (codec, _) in CODECS {
        let topic = t.topic(&format!("to-rdkafka-{}", codec.name()));
        create_topic(&t, &topic, 1).await;
        let producer = Producer::new(
            ProducerConfig::builder(&t.addr())
                .compression(codec, None)
                .build()
                .unwrap(),
        )
        .unwrap();
        for i in 0..50i64 {
            let mut r = ProducerRecord::new(topic.clone())
                .key(format!("k{i}"))
                .header("h", format!("h{i}"))
                .timestamp(1_700_000_000_000 + i);
            if i != 7 {
                r = r.value(format!("v{i}"));
            }
            drop(producer.send(r).await.unwrap()); // fire and forget: close below delivers
        }
        producer.close(Duration::from_secs(10)).await.unwrap();
        let out = run_python_async(CONSUME, &[&t.addr(), &topic, "50"])
            .await
            .unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 50, "{codec:?}: {out}");
        for (i, line) in lines.iter().enumerate() {
            let value = if i == 7 {
                "NULL".to_string()
            } else {
                format!("v{i}")
            };
            assert_eq!(
                *line,
                format!("{i}|k{i}|{value}|h{i}|{}", 1_700_000_000_000 + i as i64),
                "{codec:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rafka_reads_librdkafka_records_and_partitions_keys_alike() {
    if require_python().is_none() {
        return;
    }
    let t = TestTarget::start().unwrap();
    for (codec, wire) in CODECS {
        let topic = t.topic(&format!("from-rdkafka-{}", codec.name()));
        create_topic(&t, &topic, 5).await;
        let out = run_python_async(PRODUCE, &[&t.addr(), &topic, codec.name(), "60"])
            .await
            .unwrap();
        assert_eq!(out.trim(), "ok");
        // Where librdkafka's murmur2 partitioner put each key...
        let mut rdkafka_partition = std::collections::HashMap::new();
        let mut total = 0;
        for p in 0..5 {
            for r in read_partition(&t.addr(), &topic, p).await {
                assert_eq!(r.compression, wire, "{codec:?}");
                let key = String::from_utf8(r.key.unwrap().to_vec()).unwrap();
                let i: i64 = key["key-".len()..].parse().unwrap();
                assert_eq!(r.value.as_deref(), Some(format!("value-{i}").as_bytes()));
                assert_eq!(r.timestamp, 1_700_000_000_000 + i);
                assert_eq!(r.headers[0].1.as_deref(), Some(i.to_string().as_bytes()));
                rdkafka_partition.insert(key, p);
                total += 1;
            }
        }
        assert_eq!(total, 60, "{codec:?}");
        // ...is where rafka's default partitioner puts it.
        let producer = Producer::new(ProducerConfig::builder(&t.addr()).build().unwrap()).unwrap();
        for (key, p) in &rdkafka_partition {
            let md = producer
                .send(
                    ProducerRecord::new(topic.clone())
                        .key(key.clone())
                        .value("again"),
                )
                .await
                .unwrap()
                .await
                .unwrap();
            assert_eq!(md.partition, *p, "key {key}");
        }
        producer.close(Duration::from_secs(10)).await.unwrap();
    }
}
