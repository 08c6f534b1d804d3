//! librdkafka (through the rdkafka crate, bundled librdkafka) under test, with the same
//! settings as rafka.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::{age_ms, cpu_seconds, percentiles, stamped_value};
use crate::scenario::{Outcome, Scenario};

#[derive(Default)]
struct Counting {
    delivered: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for Counting {}

impl ProducerContext for Counting {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.delivered.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

fn producer(s: &Scenario) -> Result<BaseProducer<Counting>> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", &s.broker)
        .set("acks", "all")
        .set("linger.ms", s.linger_ms.to_string())
        .set("batch.size", s.batch_size.to_string())
        .set("compression.codec", &s.codec)
        .set("queue.buffering.max.kbytes", (256 * 1024).to_string())
        .set("queue.buffering.max.messages", "2000000")
        .set("message.max.bytes", (8 << 20).to_string())
        .create_with_context(Counting::default())?)
}

fn send_blocking(p: &BaseProducer<Counting>, topic: &str, value: &[u8]) -> Result<()> {
    let mut rec = BaseRecord::<(), [u8]>::to(topic).payload(value);
    loop {
        match p.send(rec) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                p.poll(Duration::from_millis(1));
                rec = back;
            }
            Err((e, _)) => return Err(anyhow!("send: {e}")),
        }
    }
}

pub fn produce(s: &Scenario) -> Result<Outcome> {
    let p = producer(s)?;
    let value = vec![b'x'; s.size];
    send_blocking(&p, &s.topic, &value)?;
    p.flush(Duration::from_secs(30))?;
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    for i in 1..s.count {
        send_blocking(&p, &s.topic, &value)?;
        if i % 1024 == 0 {
            p.poll(Duration::ZERO);
        }
    }
    p.flush(Duration::from_secs(120))?;
    let seconds = start.elapsed().as_secs_f64();
    let clock_cpu_s = cpu_seconds() - cpu0;
    let failed = p.context().failed.load(Ordering::Relaxed);
    let delivered = p.context().delivered.load(Ordering::Relaxed);
    Ok(Outcome {
        records: delivered,
        bytes: delivered * s.size as u64,
        seconds,
        errors: failed,
        clock_cpu_s,
        ..Default::default()
    })
}

fn consumer(s: &Scenario, group: &str) -> Result<BaseConsumer> {
    let mut cfg = ClientConfig::new();
    if s.fetch_max_wait_ms > 0 {
        cfg.set("fetch.wait.max.ms", s.fetch_max_wait_ms.to_string());
    }
    Ok(cfg
        .set("bootstrap.servers", &s.broker)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.queue.backoff.ms", "1")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .set("partition.assignment.strategy", "range")
        .create()?)
}

fn assign_all(c: &BaseConsumer, s: &Scenario) -> Result<()> {
    let mut tpl = TopicPartitionList::new();
    for p in 0..s.partitions {
        tpl.add_partition_offset(&s.topic, p, Offset::Beginning)?;
    }
    c.assign(&tpl)?;
    Ok(())
}

pub fn consume(s: &Scenario) -> Result<Outcome> {
    let c = consumer(s, &format!("{}-reader", s.topic))?;
    assign_all(&c, s)?;
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let (mut records, mut bytes) = (0u64, 0u64);
    let mut first_ms = 0.0;
    while records < s.count && start.elapsed() < Duration::from_secs(300) {
        if let Some(m) = c.poll(Duration::from_secs(1)) {
            let m = m?;
            if records == 0 {
                first_ms = start.elapsed().as_secs_f64() * 1e3;
            }
            records += 1;
            bytes += m.payload().map_or(0, |v| v.len() as u64);
        }
    }
    Ok(Outcome {
        records,
        bytes,
        seconds: start.elapsed().as_secs_f64(),
        errors: s.count.saturating_sub(records),
        first_ms,
        clock_cpu_s: cpu_seconds() - cpu0,
        ..Default::default()
    })
}

pub fn latency(s: &Scenario) -> Result<Outcome> {
    let c = consumer(s, &format!("{}-reader", s.topic))?;
    assign_all(&c, s)?;
    let count = s.count;
    let reader = std::thread::spawn(move || {
        let mut samples = Vec::with_capacity(count as usize);
        let deadline = Instant::now() + Duration::from_secs(120);
        while (samples.len() as u64) < count && Instant::now() < deadline {
            if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
                if let Some(a) = m.payload().and_then(age_ms) {
                    samples.push(a);
                }
            }
        }
        samples
    });
    let p = producer(s)?;
    let start = Instant::now();
    for i in 0..s.count {
        let due = start + Duration::from_secs_f64(i as f64 / s.rate as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        send_blocking(&p, &s.topic, &stamped_value(s.size))?;
        p.poll(Duration::ZERO);
    }
    p.flush(Duration::from_secs(30))?;
    let samples = reader.join().map_err(|_| anyhow!("reader panicked"))?;
    let (p50_ms, p99_ms) = percentiles(samples.clone());
    Ok(Outcome {
        records: samples.len() as u64,
        seconds: start.elapsed().as_secs_f64(),
        p50_ms,
        p99_ms,
        ..Default::default()
    })
}

pub fn rebalance(s: &Scenario) -> Result<Outcome> {
    let group = format!("{}-group", s.topic);
    let sizes: Vec<Arc<AtomicUsize>> = (0..3).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut threads = Vec::new();
    let spawn_member = |i: usize| -> Result<std::thread::JoinHandle<()>> {
        let c = consumer(s, &group)?;
        c.subscribe(&[&s.topic])?;
        let size = sizes[i].clone();
        let stop = stop.clone();
        Ok(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = c.poll(Duration::from_millis(100));
                let n = c.assignment().map(|a| a.count()).unwrap_or(0);
                size.store(n, Ordering::Relaxed);
            }
        }))
    };
    let want = s.partitions as usize;
    threads.push(spawn_member(0)?);
    threads.push(spawn_member(1)?);
    wait_until(|| {
        let (a, b) = (
            sizes[0].load(Ordering::Relaxed),
            sizes[1].load(Ordering::Relaxed),
        );
        a > 0 && b > 0 && a + b == want
    })?;
    let start = Instant::now();
    threads.push(spawn_member(2)?);
    let each = want / 3;
    wait_until(|| sizes.iter().all(|x| x.load(Ordering::Relaxed) == each))?;
    let seconds = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    Ok(Outcome {
        seconds,
        ..Default::default()
    })
}

fn wait_until(mut f: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !f() {
        if Instant::now() > deadline {
            return Err(anyhow!("group did not become stable within 120 s"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
