//! A producer that does not lose records, with a custom partitioner and an interceptor: the
//! Java settings for no loss are rafka's defaults (acks=all, idempotence on, so retries
//! cannot duplicate or reorder), delivery is bounded by `delivery.timeout.ms`, and every
//! record's ack is awaited before the program reports success. With a topic created with
//! replication factor 3 and `min.insync.replicas=2`, an acked record survives the loss of a
//! broker.
//!
//! ```text
//! cargo run -p rafka --example reliable_producer -- BROKERS TOPIC [COUNT]
//! ```

use std::error::Error;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rafka::{
    Acks, PartitionInfo, Partitioner, ProduceError, Producer, ProducerConfig, ProducerInterceptor,
    ProducerRecord, RecordMetadata,
};

type BoxError = Box<dyn Error + Send + Sync>;

/// Keys `vip-*` go to partition 0, the others spread over the remaining partitions by hash.
pub struct VipPartitioner;

impl Partitioner for VipPartitioner {
    fn partition(
        &self,
        _: &str,
        key: Option<&[u8]>,
        _: Option<&[u8]>,
        info: &PartitionInfo,
    ) -> i32 {
        match key {
            Some(k) if k.starts_with(b"vip-") || info.num_partitions == 1 => 0,
            Some(k) => {
                1 + rafka::producer::partitioner::partition_for_key(k, info.num_partitions - 1)
            }
            None => 0,
        }
    }
}

/// Adds a header to every record and counts acks and failures (Java's `ProducerInterceptor`).
#[derive(Default)]
pub struct Counting {
    /// Records acknowledged.
    pub acked: AtomicU64,
    /// Records that failed.
    pub failed: AtomicU64,
}

impl ProducerInterceptor for Counting {
    fn on_send(&self, record: ProducerRecord) -> ProducerRecord {
        record.header("producer", "reliable_producer")
    }
    fn on_acknowledgement(&self, result: &Result<RecordMetadata, ProduceError>) {
        let counter = if result.is_ok() {
            &self.acked
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sends `count` keyed records and waits for every ack; returns where each one was stored.
pub async fn run(
    brokers: &str,
    topic: &str,
    count: usize,
    counting: Arc<Counting>,
) -> Result<Vec<RecordMetadata>, BoxError> {
    let config = ProducerConfig::builder(brokers)
        .acks(Acks::All)
        .enable_idempotence(true)
        .delivery_timeout(Duration::from_secs(120))
        .linger(Duration::from_millis(10))
        .build()?;
    let producer = Producer::builder(config)
        .partitioner(Arc::new(VipPartitioner))
        .interceptor(counting)
        .build()?;
    // First await: the record is in a batch. Keep the delivery futures so records share
    // batches; the second await below is the broker's ack.
    let mut deliveries = Vec::with_capacity(count);
    for i in 0..count {
        let key = if i % 10 == 0 {
            format!("vip-{i}")
        } else {
            format!("user-{i}")
        };
        let record = ProducerRecord::new(topic)
            .key(key)
            .value(format!("order {i}"));
        deliveries.push(producer.send(record).await?);
    }
    let mut acked = Vec::with_capacity(count);
    for delivery in deliveries {
        acked.push(delivery.await?); // an error here means this record is not stored
    }
    producer.close(Duration::from_secs(30)).await?;
    Ok(acked)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [brokers, topic, rest @ ..] = args.as_slice() else {
        return Err("usage: reliable_producer BROKERS TOPIC [COUNT]".into());
    };
    let count = rest.first().map_or(Ok(1000), |c| c.parse())?;
    let counting = Arc::new(Counting::default());
    let acked = run(brokers, topic, count, counting.clone()).await?;
    println!(
        "{} records acknowledged (interceptor: {} acked, {} failed)",
        acked.len(),
        counting.acked.load(Ordering::Relaxed),
        counting.failed.load(Ordering::Relaxed)
    );
    Ok(())
}
