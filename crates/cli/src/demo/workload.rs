//! The demo's topic and records: recreate the topic, produce N keyed records with rafka's
//! producer and collect every acknowledged `(partition, offset)`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use rafka_client::admin::NewTopic;
use rafka_client::Admin;
use rafka_producer::{ProduceError, Producer, ProducerRecord};

use crate::progress::Progress;
use crate::settings::{Origin, Settings};

/// What producing left behind.
#[derive(Debug, Default)]
pub struct Produced {
    /// `(partition, offset)` of every acknowledged record.
    pub acks: Vec<(i32, i64)>,
    /// Records that failed.
    pub failed: u64,
    /// Key + value bytes of the acknowledged records.
    pub bytes: u64,
    /// From the first send to the last acknowledgement.
    pub elapsed: Duration,
}

/// The key of record `i`: 10,000 distinct keys, so every partition gets many keys and each key
/// many records (ordering per key is what Kafka promises).
pub fn key(i: u64) -> String {
    format!("key-{:05}", i % 10_000)
}

/// The value of record `i`: about 100 bytes, like the benchmarks in BROKER.md.
pub fn value(i: u64) -> String {
    format!("{{\"id\":{i:09},\"payload\":\"{}\"}}", "x".repeat(71))
}

/// How the demo topic is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Topic name.
    pub name: String,
    /// Partition count.
    pub partitions: i32,
    /// Replication factor (-1: the broker's default).
    pub replication_factor: i16,
    /// Topic settings, e.g. `min.insync.replicas=2`.
    pub configs: Vec<(String, String)>,
}

/// How long a recreated topic may take to be deleted, created and led.
const TOPIC_READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Deletes the topic if it exists and creates it as `spec` says, then waits until every
/// partition has a leader (and, with an explicit replication factor, a full ISR), so the
/// producer's first sends find leaders.
///
/// # Errors
/// Admin failures, or partitions not ready within a minute.
pub async fn recreate_topic(bootstrap: &str, spec: &TopicSpec) -> anyhow::Result<()> {
    let topic = spec.name.as_str();
    let client = crate::commands::connect::connect(bootstrap, &Settings::new()).await?;
    let admin = Admin::new(client.clone());
    if admin.list_topics(false).await?.contains_key(topic) {
        if let Some(Err(e)) = admin.delete_topics(&[topic]).await?.get(topic) {
            anyhow::bail!("cannot delete the old topic {topic}: {e}");
        }
    }
    let mut new_topic = NewTopic::new(topic, spec.partitions, spec.replication_factor);
    for (k, v) in &spec.configs {
        new_topic = new_topic.config(k.as_str(), v.as_str());
    }
    let deadline = Instant::now() + TOPIC_READY_TIMEOUT;
    loop {
        let results = admin
            .create_topics(std::slice::from_ref(&new_topic), false)
            .await?;
        match results.get(topic) {
            Some(Err(e)) if Instant::now() < deadline && e.to_string().contains("EXISTS") => {
                // Kafka deletes asynchronously: the old topic may still be going away.
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Some(Err(e)) => anyhow::bail!("cannot create topic {topic}: {e}"),
            _ => break,
        }
    }
    let full_isr = usize::try_from(spec.replication_factor).ok();
    loop {
        let ready = match super::kafka::partition_states(&client, topic).await {
            Ok(states) => {
                states.len() == spec.partitions as usize
                    && states
                        .values()
                        .all(|s| s.leader.is_some() && full_isr.is_none_or(|n| s.isr.len() >= n))
            }
            Err(_) => false,
        };
        if ready {
            break;
        }
        if Instant::now() > deadline {
            anyhow::bail!("topic {topic}: partitions without a leader or a full ISR after 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.close();
    Ok(())
}

/// Produces `count` keyed records to `topic` with rafka's producer (acks=all, idempotent),
/// pipelining every send and collecting each acknowledgement.
///
/// # Errors
/// Producer setup failures.
pub async fn produce(bootstrap: &str, topic: &str, count: u64) -> anyhow::Result<Produced> {
    let mut settings = Settings::new();
    for (k, v) in [
        ("acks", "all"),
        ("enable.idempotence", "true"),
        ("linger.ms", "5"),
        ("batch.size", "262144"),
        ("client.id", "rafka-demo-producer"),
    ] {
        settings.set(k, v, Origin::Command);
    }
    let (producer_config, client_config) =
        crate::commands::connect::producer_config(bootstrap, &settings)?;
    let client = crate::commands::connect::connect_with(client_config).await?;
    let producer = Producer::builder(producer_config)
        .client(client)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot create the producer: {e}"))?;
    let mut progress = Progress::new("produced", Some(count));
    let mut out = Produced {
        acks: Vec::with_capacity(count as usize),
        ..Produced::default()
    };
    let mut pending = FuturesUnordered::new();
    let mut first_error: Option<String> = None;
    let started = Instant::now();
    let mut settle =
        |r: Result<rafka_producer::RecordMetadata, ProduceError>, size: u64, out: &mut Produced| {
            match r {
                Ok(meta) => {
                    out.acks.push((meta.partition, meta.offset));
                    out.bytes += size;
                }
                Err(e) => {
                    out.failed += 1;
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        };
    for i in 0..count {
        let (k, v) = (key(i), value(i));
        let size = (k.len() + v.len()) as u64;
        let record = ProducerRecord::new(topic)
            .key(Bytes::from(k))
            .value(Bytes::from(v));
        match producer.send(record).await {
            Ok(delivery) => pending.push(delivery.map(move |r| (r, size))),
            Err(e) => settle(Err(e), 0, &mut out),
        }
        while let Some(Some((r, size))) = pending.next().now_or_never() {
            settle(r, size, &mut out);
        }
        if i % 1024 == 0 {
            progress.set(out.acks.len() as u64);
        }
    }
    producer.flush().await;
    while let Some((r, size)) = pending.next().await {
        settle(r, size, &mut out);
    }
    out.elapsed = started.elapsed();
    progress.set(out.acks.len() as u64);
    progress.finish();
    let _ = producer.close(Duration::from_secs(30)).await;
    if let Some(e) = first_error {
        eprintln!("demo: {} records failed, first error: {e}", out.failed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_about_100_bytes_and_keys_repeat() {
        assert_eq!(value(7).len(), 100);
        assert_eq!(key(3), key(10_003));
        assert_ne!(key(3), key(4));
    }
}
