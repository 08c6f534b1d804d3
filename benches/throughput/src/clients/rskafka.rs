//! rskafka under test: partition clients, produce and fetch only (no groups, so no latency
//! through a consumer group and no rebalance row).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::Utc;
use futures::stream::{FuturesUnordered, StreamExt};
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::producer::aggregator::RecordAggregator;
use rskafka::client::producer::BatchProducerBuilder;
use rskafka::client::ClientBuilder;
use rskafka::record::Record;

use crate::scenario::{Outcome, Scenario};

async fn partitions(s: &Scenario) -> Result<Vec<Arc<PartitionClient>>> {
    let client = ClientBuilder::new(vec![s.broker.clone()])
        .max_message_size(64 << 20)
        .build()
        .await?;
    let mut out = Vec::new();
    for p in 0..s.partitions {
        out.push(Arc::new(
            client
                .partition_client(s.topic.clone(), p, UnknownTopicHandling::Retry)
                .await?,
        ));
    }
    Ok(out)
}

pub async fn produce(s: &Scenario) -> Result<Outcome> {
    let parts = partitions(s).await?;
    let compression = if s.codec == "lz4" {
        Compression::Lz4
    } else {
        Compression::NoCompression
    };
    let producers: Vec<_> = parts
        .iter()
        .map(|p| {
            Arc::new(
                BatchProducerBuilder::new(p.clone())
                    .with_linger(Duration::from_millis(s.linger_ms))
                    .with_compression(compression)
                    .build(RecordAggregator::new(s.batch_size)),
            )
        })
        .collect();
    let value = vec![b'x'; s.size];
    let cpu0 = super::cpu_seconds();
    let start = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    let mut errors = 0u64;
    for i in 0..s.count {
        let producer = producers[(i % producers.len() as u64) as usize].clone();
        let record = Record {
            key: None,
            value: Some(value.clone()),
            headers: Default::default(),
            timestamp: Utc::now(),
        };
        in_flight.push(async move { producer.produce(record).await });
        // rskafka resolves a record's future when its batch is written; keep enough open to
        // fill batches on every partition.
        if in_flight.len() >= 200_000 {
            if let Some(r) = in_flight.next().await {
                errors += u64::from(r.is_err());
            }
        }
    }
    while let Some(r) = in_flight.next().await {
        errors += u64::from(r.is_err());
    }
    let seconds = start.elapsed().as_secs_f64();
    let ok = s.count - errors;
    Ok(Outcome {
        records: ok,
        bytes: ok * s.size as u64,
        seconds,
        errors,
        clock_cpu_s: super::cpu_seconds() - cpu0,
        ..Default::default()
    })
}

/// Bytes asked per partition fetch: Java's `max.partition.fetch.bytes` default, which rafka
/// and librdkafka (`fetch.message.max.bytes`) also run with, so that every client asks the
/// broker for the same amount per partition.
const MAX_PARTITION_FETCH_BYTES: i32 = 1 << 20;

pub async fn consume(s: &Scenario) -> Result<Outcome> {
    // The clock includes connecting, as it does for rafka and librdkafka, whose consumers
    // connect and look up metadata after `assign`; `first_ms` shows that start-up cost.
    let cpu0 = super::cpu_seconds();
    let start = Instant::now();
    let parts = partitions(s).await?;
    let first = Arc::new(std::sync::OnceLock::new());
    let mut tasks = Vec::new();
    for p in parts {
        let first = first.clone();
        tasks.push(tokio::spawn(async move {
            let (mut offset, mut records, mut bytes) = (0i64, 0u64, 0u64);
            loop {
                let (batch, high_watermark) = p
                    .fetch_records(offset, 1..MAX_PARTITION_FETCH_BYTES, 500)
                    .await?;
                if !batch.is_empty() {
                    first.get_or_init(|| start.elapsed().as_secs_f64() * 1e3);
                }
                for r in &batch {
                    records += 1;
                    bytes += r.record.value.as_ref().map_or(0, |v| v.len() as u64);
                    offset = r.offset + 1;
                }
                if offset >= high_watermark {
                    return anyhow::Ok((records, bytes));
                }
            }
        }));
    }
    let (mut records, mut bytes) = (0, 0);
    for t in tasks {
        let (r, b) = t.await??;
        records += r;
        bytes += b;
    }
    Ok(Outcome {
        records,
        bytes,
        seconds: start.elapsed().as_secs_f64(),
        errors: s.count.saturating_sub(records),
        first_ms: first.get().copied().unwrap_or(0.0),
        clock_cpu_s: super::cpu_seconds() - cpu0,
        ..Default::default()
    })
}
