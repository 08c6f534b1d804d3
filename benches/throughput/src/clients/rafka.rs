//! rafka under test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use bytes::Bytes;
use rafka::{Consumer, ConsumerConfig, Producer, ProducerConfig, ProducerRecord, TopicPartition};

use super::{age_ms, cpu_seconds, percentiles, stamped_value};
use crate::scenario::{Outcome, Scenario};

fn producer(s: &Scenario) -> Result<Producer> {
    let mut cfg = ProducerConfig::builder(&s.broker);
    for (k, v) in [
        ("acks", "all".to_string()),
        ("linger.ms", s.linger_ms.to_string()),
        ("batch.size", s.batch_size.to_string()),
        ("compression.type", s.codec.clone()),
        ("buffer.memory", (256u64 << 20).to_string()),
        ("max.request.size", (8u64 << 20).to_string()),
    ] {
        cfg = cfg.set(k, &v).map_err(|e| anyhow!("{k}: {e}"))?;
    }
    Ok(Producer::new(cfg.build()?)?)
}

pub async fn produce(s: &Scenario) -> Result<Outcome> {
    let producer = producer(s)?;
    let value = Bytes::from(vec![b'x'; s.size]);
    // Warm-up outside the clock: metadata and the producer id.
    producer
        .send(ProducerRecord::new(s.topic.clone()).value(value.clone()))
        .await?
        .await?;
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    // Fire and forget, as the Java and librdkafka loops do; the futures are checked after
    // flush (awaiting them in the loop would wait out linger.ms every few records).
    let mut pending = Vec::with_capacity(s.count as usize);
    for _ in 1..s.count {
        let r = ProducerRecord {
            topic: s.topic.clone(),
            value: Some(value.clone()),
            ..Default::default()
        };
        pending.push(producer.send(r).await?);
    }
    producer.flush().await;
    let mut errors = 0;
    for f in pending {
        if f.await.is_err() {
            errors += 1;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let clock_cpu_s = cpu_seconds() - cpu0;
    producer.close(Duration::from_secs(30)).await?;
    Ok(Outcome {
        records: s.count - errors,
        bytes: (s.count - errors) * s.size as u64,
        seconds,
        errors,
        clock_cpu_s,
        ..Default::default()
    })
}

fn consumer(s: &Scenario, group: Option<&str>) -> Result<Consumer> {
    let mut b = ConsumerConfig::builder(&s.broker)
        .set("auto.offset.reset", "earliest")?
        .set("enable.auto.commit", "false")?
        .set("session.timeout.ms", "6000")?
        .set("heartbeat.interval.ms", "500")?
        .set("partition.assignment.strategy", "range")?;
    if let Some(g) = group {
        b = b.group_id(g);
    }
    if s.fetch_max_wait_ms > 0 {
        b = b.set("fetch.max.wait.ms", &s.fetch_max_wait_ms.to_string())?;
    }
    // For experiments only (the report never sets it): extra consumer settings, Java names,
    // `RAFKA_BENCH_X=max.partition.fetch.bytes=8388608,fetch.max.wait.ms=10`.
    if let Ok(extra) = std::env::var("RAFKA_BENCH_X") {
        for kv in extra.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| anyhow!("RAFKA_BENCH_X: {kv}"))?;
            b = b.set(k, v)?;
        }
    }
    Ok(Consumer::new(b.build()?)?)
}

fn all_partitions(s: &Scenario) -> Vec<TopicPartition> {
    (0..s.partitions)
        .map(|p| TopicPartition::new(s.topic.clone(), p))
        .collect()
}

pub async fn consume(s: &Scenario) -> Result<Outcome> {
    let mut c = consumer(s, None)?;
    let tps = all_partitions(s);
    c.assign(&tps)?;
    c.seek_to_beginning(&tps)?;
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let (mut records, mut bytes) = (0u64, 0u64);
    let mut first_ms = 0.0;
    while records < s.count && start.elapsed() < Duration::from_secs(300) {
        for r in c.poll(Duration::from_secs(5)).await? {
            if records == 0 {
                first_ms = start.elapsed().as_secs_f64() * 1e3;
            }
            records += 1;
            bytes += r.value.as_ref().map_or(0, |v| v.len() as u64);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let clock_cpu_s = cpu_seconds() - cpu0;
    c.close().await?;
    Ok(Outcome {
        records,
        bytes,
        seconds,
        errors: s.count.saturating_sub(records),
        first_ms,
        clock_cpu_s,
        ..Default::default()
    })
}

pub async fn latency(s: &Scenario) -> Result<Outcome> {
    let mut c = consumer(s, None)?;
    let tps = all_partitions(s);
    c.assign(&tps)?;
    c.seek_to_beginning(&tps)?;
    let count = s.count;
    let reader = tokio::spawn(async move {
        let mut samples = Vec::with_capacity(count as usize);
        let deadline = Instant::now() + Duration::from_secs(120);
        while (samples.len() as u64) < count && Instant::now() < deadline {
            for r in c.poll(Duration::from_millis(200)).await? {
                if let Some(a) = r.value.as_deref().and_then(age_ms) {
                    samples.push(a);
                }
            }
        }
        c.close().await?;
        anyhow::Ok(samples)
    });
    let producer = producer(s)?;
    let start = Instant::now();
    for i in 0..s.count {
        // Pace: record i goes out at i / rate seconds.
        let due = start + Duration::from_secs_f64(i as f64 / s.rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let r = ProducerRecord::new(s.topic.clone()).value(Bytes::from(stamped_value(s.size)));
        drop(producer.send(r).await?);
    }
    producer.flush().await;
    let samples = reader.await??;
    producer.close(Duration::from_secs(10)).await?;
    let (p50_ms, p99_ms) = percentiles(samples.clone());
    Ok(Outcome {
        records: samples.len() as u64,
        seconds: start.elapsed().as_secs_f64(),
        p50_ms,
        p99_ms,
        ..Default::default()
    })
}

/// Time for 3 members to be stable (2 partitions each of 6) after the third joins two stable
/// members.
pub async fn rebalance(s: &Scenario) -> Result<Outcome> {
    let group = format!("{}-group", s.topic);
    let sizes: Vec<Arc<AtomicUsize>> = (0..3).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    let spawn_member = |i: usize| -> Result<tokio::task::JoinHandle<Result<()>>> {
        let mut c = consumer(s, Some(&group))?;
        c.subscribe(vec![s.topic.clone()])?;
        let size = sizes[i].clone();
        let stop = stop.clone();
        Ok(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                c.poll(Duration::from_millis(100)).await?;
                size.store(c.assignment().len(), Ordering::Relaxed);
            }
            c.close().await?;
            Ok(())
        }))
    };
    let want = s.partitions as usize;
    tasks.push(spawn_member(0)?);
    tasks.push(spawn_member(1)?);
    wait_until(|| {
        sizes[0].load(Ordering::Relaxed) + sizes[1].load(Ordering::Relaxed) == want
            && sizes[0].load(Ordering::Relaxed) > 0
            && sizes[1].load(Ordering::Relaxed) > 0
    })
    .await?;
    let start = Instant::now();
    tasks.push(spawn_member(2)?);
    let each = want / 3;
    wait_until(|| sizes.iter().all(|x| x.load(Ordering::Relaxed) == each)).await?;
    let seconds = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    Ok(Outcome {
        seconds,
        ..Default::default()
    })
}

async fn wait_until(mut f: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !f() {
        if Instant::now() > deadline {
            return Err(anyhow!("group did not become stable within 120 s"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
