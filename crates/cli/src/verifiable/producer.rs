//! `rafka verifiable-producer`: Kafka's `VerifiableProducer.java` on rafka's producer.
//!
//! Produces the integers 0, 1, 2, ... (optionally `PREFIX.i`), keyed `0..N-1` repeating when
//! `--repeating-keys N` is given, and prints one JSON event per acknowledgement or failure so a
//! harness can tell exactly which records the cluster accepted. Like the Java tool it sets
//! `retries=0` (a failure is reported, not hidden by a retry) and lets the properties file
//! override the command line.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rafka_producer::{ProduceError, Producer, ProducerRecord};
use tokio::sync::mpsc;

use super::events::{emit, now_ms, Event};
use crate::args::VerifiableProducerArgs;
use crate::settings::{Origin, Settings};
use crate::shutdown::Shutdown;

/// The value of message `i`: `i`, or `prefix.i` with `--value-prefix`.
pub fn value_of(prefix: Option<i32>, i: u64) -> String {
    match prefix {
        Some(p) => format!("{p}.{i}"),
        None => i.to_string(),
    }
}

/// Keys `0..n-1` repeating, exactly as Java's `getKey`: the counter goes up by one per record
/// and returns to 0 when it reaches `n` (so with `n <= 0` it never does), or no key at all.
#[derive(Debug, Clone)]
pub struct KeyCycle {
    repeating: Option<i32>,
    next: i64,
}

impl KeyCycle {
    /// Keys from `--repeating-keys n`; none without it.
    pub fn new(n: Option<i32>) -> Self {
        KeyCycle {
            repeating: n,
            next: 0,
        }
    }

    /// The next key.
    pub fn next_key(&mut self) -> Option<String> {
        let n = self.repeating?;
        let key = self.next.to_string();
        self.next += 1;
        if self.next == i64::from(n) {
            self.next = 0;
        }
        Some(key)
    }
}

/// Java's `ThroughputThrottler`: how long to sleep before sending message `sent` so the rate
/// stays at or under `per_second` (None: no throttling).
pub fn throttle_delay(per_second: i32, sent: u64, elapsed: Duration) -> Option<Duration> {
    if per_second <= 0 {
        return None;
    }
    let due = Duration::from_secs_f64(sent as f64 / per_second as f64);
    due.checked_sub(elapsed).filter(|d| !d.is_zero())
}

/// A Java-like exception name for a produce error (the event's `exception` field).
pub fn exception_name(e: &ProduceError) -> String {
    let debug = format!("{e:?}");
    let variant = debug
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or("Error");
    format!("class rafka_producer::ProduceError::{variant}")
}

/// The client settings of a verifiable producer, built as Java's `createFromArgs` builds its
/// `Properties`: `acks` and `retries=0` from the command line, then the config file
/// (`--command-config` or the deprecated `--producer.config`) over them.
///
/// # Errors
/// An unreadable config file.
pub fn producer_settings(
    mut settings: Settings,
    args: &VerifiableProducerArgs,
) -> anyhow::Result<Settings> {
    settings.set("acks", &args.acks.to_string(), Origin::Command);
    settings.set("retries", "0", Origin::Command);
    // Without retries Java turns idempotence off; say so explicitly for rafka's validate().
    settings.set("enable.idempotence", "false", Origin::Command);
    if let Some(file) = &args.producer_config {
        // Java prints this on stdout; here stdout carries only the JSON events.
        eprintln!(
            "Option --producer.config has been deprecated and will be removed in a future \
             version. Use --command-config instead."
        );
        settings.load_file(file)?;
    }
    if let Some(file) = &args.command_config {
        settings.load_file(file)?;
    }
    Ok(settings)
}

/// Runs the verifiable producer until `--max-messages` are sent or a signal arrives.
///
/// # Errors
/// Bad arguments or configuration, or no broker reachable.
pub async fn run(
    settings: Settings,
    args: VerifiableProducerArgs,
    mut shutdown: Shutdown,
) -> anyhow::Result<ExitCode> {
    let bootstrap = super::bootstrap(
        args.bootstrap_server.as_deref(),
        args.broker_list.as_deref(),
        &settings,
    )?;
    let settings = producer_settings(settings, &args)?;
    let (producer_config, client_config) =
        crate::commands::connect::producer_config(&bootstrap, &settings)?;
    let client = crate::commands::connect::connect_with(client_config).await?;
    let producer = Producer::builder(producer_config)
        .client(client)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot create the producer: {e}"))?;

    // Acknowledgements arrive on the producer's sender task; a printer thread keeps stdout
    // writes off the runtime, so a reader that falls behind (a full pipe) slows only the
    // printing, never the producer's tasks.
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let printer = std::thread::spawn(move || {
        while let Some(event) = rx.blocking_recv() {
            emit(&event);
        }
    });
    let acked = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let start_ms = now_ms();
    emit(&Event::StartupComplete);

    let max = u64::try_from(args.max_messages).unwrap_or(u64::MAX);
    let mut keys = KeyCycle::new(args.repeating_keys);
    let mut create_time = (args.message_create_time >= 0).then_some(args.message_create_time);
    let mut sent: u64 = 0;
    while sent < max && !shutdown.requested() {
        if args.throughput == 0 {
            // Java's throttler with a target of 0 never sends: wait for the signal.
            shutdown.wait().await;
            break;
        }
        if let Some(delay) = throttle_delay(args.throughput, sent, started.elapsed()) {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.wait() => break,
            }
        }
        let key = keys.next_key();
        let value = value_of(args.value_prefix, sent);
        let mut record = ProducerRecord::new(args.topic.as_str()).value(Bytes::from(value.clone()));
        if let Some(k) = &key {
            record = record.key(Bytes::from(k.clone()));
        }
        if let Some(t) = create_time {
            record = record.timestamp(t);
            // As Java does: the create time advances by the time elapsed since the start.
            create_time = Some(t + (now_ms() - start_ms));
        }
        sent += 1;
        let (tx_cb, acked_cb, topic) = (tx.clone(), acked.clone(), args.topic.clone());
        let (key_cb, value_cb) = (key.clone(), value.clone());
        let outcome = producer
            .send_with_callback(record, move |result| {
                let event = match result {
                    Ok(meta) => {
                        acked_cb.fetch_add(1, Ordering::Relaxed);
                        Event::ProducerSendSuccess {
                            key: key_cb,
                            value: value_cb,
                            topic: meta.topic.to_string(),
                            partition: meta.partition,
                            offset: meta.offset,
                        }
                    }
                    Err(e) => Event::ProducerSendError {
                        key: key_cb,
                        value: value_cb,
                        topic,
                        exception: exception_name(&e),
                        message: e.to_string(),
                    },
                };
                let _ = tx_cb.send(event);
            })
            .await;
        if let Err(e) = outcome {
            let _ = tx.send(Event::ProducerSendError {
                key,
                value,
                topic: args.topic.clone(),
                exception: exception_name(&e),
                message: e.to_string(),
            });
        }
    }
    let _ = producer.close(Duration::from_secs(60)).await;
    drop(producer);
    drop(tx);
    let _ = tokio::task::spawn_blocking(move || printer.join()).await;
    emit(&Event::ShutdownComplete);
    let elapsed_ms = (now_ms() - start_ms).max(1) as f64;
    let acked = acked.load(Ordering::Relaxed);
    emit(&Event::ToolData {
        sent,
        acked,
        target_throughput: i64::from(args.throughput),
        avg_throughput: 1000.0 * acked as f64 / elapsed_ms,
    });
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_keys_follow_the_java_tool() {
        assert_eq!(value_of(None, 12), "12");
        assert_eq!(value_of(Some(3), 12), "3.12");
        assert_eq!(value_of(Some(-2), 0), "-2.0");
        let mut k = KeyCycle::new(Some(3));
        let keys: Vec<_> = (0..5).map(|_| k.next_key().unwrap()).collect();
        assert_eq!(keys, ["0", "1", "2", "0", "1"]);
        assert_eq!(KeyCycle::new(None).next_key(), None);
        // As Java's counter: with 0 or less it never wraps.
        let mut k = KeyCycle::new(Some(0));
        let keys: Vec<_> = (0..3).map(|_| k.next_key().unwrap()).collect();
        assert_eq!(keys, ["0", "1", "2"]);
    }

    #[test]
    fn config_file_overrides_the_command_line_as_in_java() {
        use clap::Parser as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.properties");
        std::fs::write(&file, "acks=1\nlinger.ms=3\n").unwrap();
        let path = file.to_str().unwrap();
        for flag in ["--command-config", "--producer.config"] {
            let cli = crate::args::Cli::try_parse_from([
                "rafka",
                "verifiable-producer",
                "--topic",
                "t",
                "--acks",
                "-1",
                flag,
                path,
            ])
            .unwrap();
            let crate::args::Command::VerifiableProducer(args) = cli.command else {
                panic!("not a producer command line");
            };
            let s = producer_settings(Settings::new(), &args).unwrap();
            assert_eq!(s.get("acks"), Some("1"), "{flag}");
            assert_eq!(s.get("linger.ms"), Some("3"), "{flag}");
            assert_eq!(s.get("retries"), Some("0"), "{flag}");
            crate::commands::connect::producer_config("h:1", &s).unwrap();
        }
    }

    #[test]
    fn throttle_waits_only_when_ahead_of_the_target() {
        assert_eq!(throttle_delay(-1, 1_000, Duration::ZERO), None);
        // 100 msgs/s: message 50 is due at 0.5 s.
        assert_eq!(
            throttle_delay(100, 50, Duration::from_millis(200)),
            Some(Duration::from_millis(300))
        );
        assert_eq!(throttle_delay(100, 50, Duration::from_millis(600)), None);
    }

    #[test]
    fn exception_names_the_error_variant() {
        assert_eq!(
            exception_name(&ProduceError::Closed),
            "class rafka_producer::ProduceError::Closed"
        );
    }
}
