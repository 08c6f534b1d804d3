//! Fire-and-forget throughput: `cargo run --release -p rafka --example
//! produce_throughput -- BOOTSTRAP TOPIC COUNT SIZE [codec]`. Prints records/s and MB/s.

use std::time::{Duration, Instant};

use bytes::Bytes;
use rafka::{Producer, ProducerConfig, ProducerRecord};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bootstrap = args.get(1).map_or("127.0.0.1:9092", String::as_str);
    let topic = args.get(2).map_or("bench", String::as_str).to_string();
    let count: usize = args.get(3).map_or(1_000_000, |s| s.parse().unwrap());
    let size: usize = args.get(4).map_or(100, |s| s.parse().unwrap());
    let batch: usize = std::env::var("BATCH").map_or(1 << 20, |s| s.parse().unwrap());
    let linger: u64 = std::env::var("LINGER").map_or(5, |s| s.parse().unwrap());
    let mut cfg = ProducerConfig::builder(bootstrap)
        .linger(Duration::from_millis(linger))
        .batch_size(batch)
        .max_request_size(8 << 20)
        .buffer_memory(256 << 20);
    if let Ok(a) = std::env::var("ACKS") {
        cfg = cfg
            .set("acks", &a)
            .unwrap()
            .enable_idempotence(a == "all" || a == "-1");
    }
    if let Some(c) = args.get(5) {
        cfg = cfg.set("compression.type", c).unwrap();
    }
    let producer = Producer::new(cfg.build().unwrap()).unwrap();
    let value = Bytes::from(vec![b'x'; size]);
    // Warm-up: metadata and producer id.
    producer
        .send(ProducerRecord::new(topic.clone()).value(value.clone()))
        .await
        .unwrap()
        .await
        .unwrap();
    let start = Instant::now();
    let mut last = None;
    for _ in 0..count {
        let r = ProducerRecord {
            topic: topic.clone(),
            value: Some(value.clone()),
            ..Default::default()
        };
        last = Some(producer.send(r).await.unwrap());
    }
    producer.flush().await;
    last.unwrap().await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    let m = producer.metrics();
    println!(
        "{count} records of {size} B in {secs:.3} s: {:.0} records/s, {:.1} MB/s; batches {} (avg {} records), requests {}, errors {}, request latency avg {} us max {} us",
        count as f64 / secs,
        (count * size) as f64 / secs / 1e6,
        m.batches_sent,
        m.avg_records_per_batch,
        m.requests,
        m.errors,
        m.request_latency_avg_us,
        m.request_latency_max_us
    );
    producer.close(Duration::from_secs(10)).await.unwrap();
}
