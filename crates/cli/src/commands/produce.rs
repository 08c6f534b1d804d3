//! `rafka produce`: one record per stdin line, sent with rafka's producer.
//!
//! Sends are pipelined: each line is appended to the producer's batches at once and its
//! delivery future is collected, so throughput is the producer's, not one round trip per line.

use std::collections::VecDeque;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use bytes::Bytes;
use rafka_producer::{DeliveryFuture, ProduceError, Producer, ProducerRecord, RecordMetadata};

use crate::args::ProduceArgs;
use crate::line_reader::LineReader;
use crate::progress::Progress;
use crate::settings::{Origin, Settings};
use crate::shutdown::Shutdown;

/// Delivery futures kept before waiting for the oldest ones (bounds memory on huge inputs).
const MAX_PENDING: usize = 100_000;

/// How many record failures are printed one by one before only counting.
const MAX_PRINTED_ERRORS: u64 = 5;

/// Counts of one run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Records acknowledged.
    pub acked: u64,
    /// Records that failed (send refused or delivery failed).
    pub errors: u64,
    /// Key + value bytes of the acknowledged records.
    pub bytes: u64,
}

impl Tally {
    fn record(&mut self, result: Result<RecordMetadata, ProduceError>, size: u64) {
        match result {
            Ok(_) => {
                self.acked += 1;
                self.bytes += size;
            }
            Err(e) => self.fail(&e),
        }
    }

    fn fail(&mut self, e: &ProduceError) {
        self.errors += 1;
        if self.errors <= MAX_PRINTED_ERRORS {
            eprintln!("rafka: record failed: {e}");
        }
    }
}

/// Splits a line into key and value at the first `delimiter` (no delimiter: all value).
pub fn split_key_value<'a>(
    line: &'a [u8],
    delimiter: Option<&[u8]>,
) -> (Option<&'a [u8]>, &'a [u8]) {
    match delimiter {
        Some(d) if !d.is_empty() => match line.windows(d.len()).position(|w| w == d) {
            Some(at) => (Some(&line[..at]), &line[at + d.len()..]),
            None => (None, line),
        },
        _ => (None, line),
    }
}

/// The one-line summary printed on stderr.
pub fn summary(topic: &str, tally: Tally, elapsed_s: f64) -> String {
    let secs = elapsed_s.max(1e-9);
    format!(
        "produced {} records ({} bytes) to {topic} in {:.2} s: {:.0} msgs/s, {:.2} MB/s, {} errors",
        tally.acked,
        tally.bytes,
        secs,
        tally.acked as f64 / secs,
        tally.bytes as f64 / 1e6 / secs,
        tally.errors
    )
}

/// Runs `rafka produce`.
///
/// # Errors
/// Connection and configuration errors, a missing topic or partition; record failures are
/// counted and give exit code 1 instead.
pub async fn run(
    brokers: Option<String>,
    mut settings: Settings,
    args: ProduceArgs,
    mut shutdown: Shutdown,
) -> anyhow::Result<ExitCode> {
    let bootstrap = super::bootstrap(brokers, &settings)?;
    if let Some(codec) = args.compression {
        settings.set("compression.type", codec.java_name(), Origin::Command);
    }
    if let Some(acks) = args.acks {
        settings.set("acks", &acks.to_string(), Origin::Command);
    }
    let (producer_config, client_config) = super::connect::producer_config(&bootstrap, &settings)?;
    let client = super::connect::connect_with(client_config).await?;
    super::connect::require_topics(&client, std::slice::from_ref(&args.topic)).await?;
    if let Some(p) = args.partition {
        let count = client
            .cached_metadata()
            .partition_count(&args.topic)
            .unwrap_or(0);
        if p < 0 || p as usize >= count {
            anyhow::bail!(
                "topic {} has no partition {p} ({count} partitions)",
                args.topic
            );
        }
    }
    let producer = Producer::builder(producer_config)
        .client(client)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot create the producer: {e}"))?;

    let headers: Vec<(String, Bytes)> = args
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Bytes::copy_from_slice(v.as_bytes())))
        .collect();
    let delimiter = args.key_delimiter.as_deref().map(str::as_bytes);
    let mut progress = Progress::terminal_only("produced", None);
    // Oldest first. Only the front is looked at (without registering a waker) after each send:
    // batches complete roughly in order, and per-record futures in a FuturesUnordered cost a
    // task allocation, a waker registration and a wake-up each.
    let mut pending: VecDeque<(DeliveryFuture, u64)> = VecDeque::new();
    let mut tally = Tally::default();
    let started = Instant::now();
    let mut lines = LineReader::new(tokio::io::stdin());
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line?,
            _ = shutdown.wait() => None,
        };
        let Some(line) = line else { break };
        let (key, value) = split_key_value(&line, delimiter);
        let size = (key.map_or(0, <[u8]>::len) + value.len()) as u64;
        // Key and value share the line's input block.
        let mut record = ProducerRecord::new(args.topic.as_str()).value(line.slice_ref(value));
        if let Some(k) = key {
            record = record.key(line.slice_ref(k));
        }
        if let Some(p) = args.partition {
            record = record.partition(p);
        }
        for (k, v) in &headers {
            record = record.header(k.clone(), v.clone());
        }
        match producer.send(record).await {
            Ok(delivery) => pending.push_back((delivery, size)),
            Err(e) => tally.fail(&e),
        }
        // Collect what already finished without waiting, and wait only when too much is queued.
        while let Some(r) = pending.front().and_then(|(d, _)| d.try_result()) {
            let (_, size) = pending.pop_front().expect("front checked");
            tally.record(r, size);
            progress.inc(1);
        }
        if pending.len() >= MAX_PENDING {
            let (delivery, size) = pending.pop_front().expect("queue is full");
            tally.record(delivery.await, size);
            progress.inc(1);
        }
    }
    producer.flush().await;
    for (delivery, size) in pending {
        tally.record(delivery.await, size);
        progress.inc(1);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = producer.close(std::time::Duration::from_secs(30)).await;
    progress.finish();
    let _ = std::io::stdout().flush();
    eprintln!("{}", summary(&args.topic, tally, elapsed));
    Ok(if tally.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_delimiter_only() {
        assert_eq!(
            split_key_value(b"k:v:w", Some(b":")),
            (Some(&b"k"[..]), &b"v:w"[..])
        );
        assert_eq!(split_key_value(b"nokey", Some(b":")), (None, &b"nokey"[..]));
        assert_eq!(
            split_key_value(b"a::b", Some(b"::")),
            (Some(&b"a"[..]), &b"b"[..])
        );
        assert_eq!(
            split_key_value(b":v", Some(b":")),
            (Some(&b""[..]), &b"v"[..])
        );
        assert_eq!(split_key_value(b"k:v", None), (None, &b"k:v"[..]));
    }

    #[test]
    fn summary_names_records_bytes_and_errors() {
        let s = summary(
            "t",
            Tally {
                acked: 4,
                errors: 1,
                bytes: 40,
            },
            2.0,
        );
        assert_eq!(
            s,
            "produced 4 records (40 bytes) to t in 2.00 s: 2 msgs/s, 0.00 MB/s, 1 errors"
        );
    }
}
