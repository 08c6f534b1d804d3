//! `rafka verifiable-consumer`: Kafka's `VerifiableConsumer.java` on rafka's consumer.
//!
//! Subscribes to one topic as a group member and reports every rebalance, every poll batch
//! and (without auto-commit) every synchronous commit of that batch's positions, so Kafka's
//! system tests can check no record is lost or consumed out of order across bounces and
//! crashes. SIGINT/SIGTERM close the consumer cleanly (revoke, commit, leave) and print
//! `shutdown_complete`, as the Java tool's shutdown hook does.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use rafka_client::TopicPartition;
use rafka_consumer::{
    Consumer, ConsumerContext, ConsumerRebalanceListener, ConsumerRecord, ListenerError,
};

use super::events::{emit, CommitData, Event, PartitionData, RecordSetSummary};
use crate::args::{GroupProtocol, VerifiableConsumerArgs};
use crate::settings::{Origin, Settings};
use crate::shutdown::Shutdown;

/// Prints partitions_revoked / partitions_assigned from the rebalance hooks.
#[derive(Debug, Default)]
pub struct EventListener;

fn partition_data(partitions: &[TopicPartition]) -> Vec<PartitionData> {
    partitions
        .iter()
        .map(|tp| PartitionData {
            topic: tp.topic.to_string(),
            partition: tp.partition,
        })
        .collect()
}

impl ConsumerRebalanceListener for EventListener {
    async fn on_partitions_revoked(
        &mut self,
        _consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        emit(&Event::PartitionsRevoked {
            partitions: partition_data(partitions),
        });
        Ok(())
    }

    async fn on_partitions_assigned(
        &mut self,
        _consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        emit(&Event::PartitionsAssigned {
            partitions: partition_data(partitions),
        });
        Ok(())
    }
}

/// What one poll batch yields: the events to print and the positions to commit.
#[derive(Debug, Default, PartialEq)]
pub struct Batch {
    /// record_data events (verbose mode), in record order.
    pub record_data: Vec<Event>,
    /// The records_consumed event.
    pub consumed: Option<Event>,
    /// Next offset per partition after the records counted.
    pub offsets: Vec<(TopicPartition, i64)>,
    /// Records counted towards `--max-messages`.
    pub counted: u64,
}

/// Summarises one poll's records like Java's `onRecordsReceived`: per partition in order of
/// appearance, cut at `remaining` records (None: no limit).
pub fn summarize(records: &[ConsumerRecord], remaining: Option<u64>, verbose: bool) -> Batch {
    let mut order: Vec<TopicPartition> = Vec::new();
    let mut by_partition: BTreeMap<TopicPartition, Vec<&ConsumerRecord>> = BTreeMap::new();
    for r in records {
        let tp = r.topic_partition();
        let list = by_partition.entry(tp.clone()).or_default();
        if list.is_empty() {
            order.push(tp);
        }
        list.push(r);
    }
    let mut batch = Batch::default();
    let mut summaries = Vec::new();
    let mut left = remaining;
    for tp in order {
        let mut list = by_partition.remove(&tp).unwrap_or_default();
        if let Some(l) = left {
            list.truncate(usize::try_from(l).unwrap_or(usize::MAX));
        }
        let (Some(first), Some(last)) = (list.first(), list.last()) else {
            continue;
        };
        summaries.push(RecordSetSummary {
            topic: tp.topic.to_string(),
            partition: tp.partition,
            count: list.len() as u64,
            min_offset: first.offset,
            max_offset: last.offset,
        });
        batch.offsets.push((tp.clone(), last.offset + 1));
        if verbose {
            for r in &list {
                batch.record_data.push(Event::RecordData {
                    key: r
                        .key
                        .as_deref()
                        .map(|k| String::from_utf8_lossy(k).into_owned()),
                    value: r
                        .value
                        .as_deref()
                        .map(|v| String::from_utf8_lossy(v).into_owned()),
                    topic: tp.topic.to_string(),
                    partition: tp.partition,
                    offset: r.offset,
                });
            }
        }
        batch.counted += list.len() as u64;
        if let Some(l) = left.as_mut() {
            *l -= list.len() as u64;
            if *l == 0 {
                break;
            }
        }
    }
    batch.consumed = Some(Event::RecordsConsumed {
        count: records.len() as u64,
        partitions: summaries,
    });
    batch
}

/// The error for `--session-timeout` with `--group-protocol consumer` (KIP-848: the broker's
/// `group.consumer.session.timeout.ms` applies).
pub const SESSION_TIMEOUT_WITH_CONSUMER_PROTOCOL: &str = "--session-timeout is not supported \
     with --group-protocol consumer (KIP-848): the broker's group.consumer.session.timeout.ms \
     applies";

/// The client settings of a verifiable consumer, built as Java's `createFromArgs` builds its
/// `Properties`: the config file first (`--command-config` or the deprecated
/// `--consumer.config`), then the command line over it. `--group-protocol` always sets
/// `group.protocol` (Java's default `classic` overrides a file, as in Java); with `consumer`
/// (KIP-848) `--group-remote-assignor` sets `group.remote.assignor` and
/// `--assignment-strategy` is not used, with `classic` the reverse.
///
/// # Errors
/// `--session-timeout` with `--group-protocol consumer`, an unknown assignment strategy, or
/// an unreadable config file.
pub fn consumer_settings(
    mut settings: Settings,
    args: &VerifiableConsumerArgs,
) -> anyhow::Result<Settings> {
    let consumer_protocol = args.group_protocol == GroupProtocol::Consumer;
    if consumer_protocol && args.session_timeout_ms.is_some() {
        anyhow::bail!(SESSION_TIMEOUT_WITH_CONSUMER_PROTOCOL);
    }
    if let Some(file) = &args.consumer_config {
        // Java prints this on stdout; here stdout carries only the JSON events.
        eprintln!(
            "Option --consumer.config has been deprecated and will be removed in a future \
             version. Use --command-config instead."
        );
        settings.load_file(file)?;
    }
    if let Some(file) = &args.command_config {
        settings.load_file(file)?;
    }
    let strategy = super::assignment_strategy(&args.assignment_strategy)?;
    if consumer_protocol {
        settings.set("group.protocol", "consumer", Origin::Command);
        if let Some(assignor) = &args.group_remote_assignor {
            settings.set("group.remote.assignor", assignor, Origin::Command);
        }
    } else {
        settings.set("group.protocol", "classic", Origin::Command);
        settings.set("partition.assignment.strategy", strategy, Origin::Command);
    }
    if let Some(ms) = args.session_timeout_ms {
        settings.set("session.timeout.ms", &ms.to_string(), Origin::Command);
    }
    settings.set("group.id", &args.group_id, Origin::Command);
    if let Some(id) = &args.group_instance_id {
        settings.set("group.instance.id", id, Origin::Command);
    }
    let auto_commit = if args.enable_autocommit {
        "true"
    } else {
        "false"
    };
    settings.set("enable.auto.commit", auto_commit, Origin::Command);
    settings.set("auto.offset.reset", &args.reset_policy, Origin::Command);
    Ok(settings)
}

/// Runs the verifiable consumer until `--max-messages` are consumed or a signal arrives.
///
/// # Errors
/// Bad arguments or configuration, or no broker reachable.
pub async fn run(
    settings: Settings,
    args: VerifiableConsumerArgs,
    mut shutdown: Shutdown,
) -> anyhow::Result<ExitCode> {
    let bootstrap = super::bootstrap(
        args.bootstrap_server.as_deref(),
        args.broker_list.as_deref(),
        &settings,
    )?;
    let settings = consumer_settings(settings, &args)?;
    let config = crate::commands::connect::consumer_config(&bootstrap, &settings)?;
    let client = crate::commands::connect::connect_with(config.client.clone()).await?;
    let mut consumer = Consumer::with_client(config, client);

    emit(&Event::StartupComplete);
    let outcome = consume(&mut consumer, &args, &mut shutdown).await;
    // Java: consumer.close(CloseOptions.timeout(closeTimeoutMs)).
    let close_timeout = Duration::from_millis(u64::from(args.close_timeout_ms));
    match tokio::time::timeout(close_timeout, consumer.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => eprintln!("rafka: error while closing the consumer: {e}"),
        Err(_) => eprintln!(
            "rafka: closing the consumer did not finish within --close-timeout {} ms; gave up",
            args.close_timeout_ms
        ),
    }
    emit(&Event::ShutdownComplete);
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            // As the Java tool: the error goes to the log (stderr), not to the event stream.
            eprintln!("rafka: error: {e:#}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn consume(
    consumer: &mut Consumer,
    args: &VerifiableConsumerArgs,
    shutdown: &mut Shutdown,
) -> anyhow::Result<()> {
    consumer.subscribe_with_listener(vec![args.topic.clone()], EventListener)?;
    let limit = u64::try_from(args.max_messages).ok();
    let mut consumed: u64 = 0;
    while limit.is_none_or(|l| consumed < l) {
        let records = tokio::select! {
            r = consumer.poll(Duration::from_millis(500)) => r?,
            _ = shutdown.wait() => {
                // Java's shutdown hook prints this before waking the consumer up.
                emit(&Event::ShutdownRequested);
                return Ok(());
            }
        };
        if records.is_empty() {
            continue;
        }
        let batch = summarize(&records, limit.map(|l| l - consumed), args.verbose);
        for e in &batch.record_data {
            emit(e);
        }
        if let Some(e) = &batch.consumed {
            emit(e);
        }
        consumed += batch.counted;
        if !args.enable_autocommit && !batch.offsets.is_empty() {
            let commit = consumer.commit_offsets_sync(&batch.offsets).await;
            let offsets = batch
                .offsets
                .iter()
                .map(|(tp, o)| CommitData {
                    topic: tp.topic.to_string(),
                    partition: tp.partition,
                    offset: *o,
                })
                .collect();
            emit(&Event::OffsetsCommitted {
                offsets,
                error: commit.as_ref().err().map(ToString::to_string),
                success: commit.is_ok(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn rec(p: i32, o: i64) -> ConsumerRecord {
        ConsumerRecord {
            topic: Arc::from("t"),
            partition: p,
            offset: o,
            timestamp: 0,
            timestamp_type: rafka_consumer::TimestampType::CreateTime,
            key: Some(bytes::Bytes::from_static(b"k")),
            value: Some(bytes::Bytes::from(o.to_string())),
            headers: Vec::new(),
            leader_epoch: None,
        }
    }

    fn args(extra: &[&str]) -> VerifiableConsumerArgs {
        use clap::Parser as _;
        let mut argv = vec![
            "rafka",
            "verifiable-consumer",
            "--topic",
            "t",
            "--group-id",
            "g",
        ];
        argv.extend_from_slice(extra);
        match crate::args::Cli::try_parse_from(argv).unwrap().command {
            crate::args::Command::VerifiableConsumer(v) => v,
            other => panic!("parsed as {other:?}"),
        }
    }

    fn settings_for(extra: &[&str]) -> anyhow::Result<Settings> {
        consumer_settings(Settings::new(), &args(extra))
    }

    #[test]
    fn command_line_maps_to_java_settings() {
        let s = settings_for(&[
            "--session-timeout",
            "6000",
            "--group-instance-id",
            "i1",
            "--enable-autocommit",
            "--reset-policy",
            "none",
            "--assignment-strategy",
            "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
        ])
        .unwrap();
        assert_eq!(s.get("group.id"), Some("g"));
        assert_eq!(s.get("group.instance.id"), Some("i1"));
        assert_eq!(s.get("session.timeout.ms"), Some("6000"));
        assert_eq!(s.get("enable.auto.commit"), Some("true"));
        assert_eq!(s.get("auto.offset.reset"), Some("none"));
        assert_eq!(
            s.get("partition.assignment.strategy"),
            Some("cooperative-sticky")
        );
        // The whole set is a valid rafka consumer config.
        crate::commands::connect::consumer_config("h:1", &s).unwrap();

        // Java 4.4 sets session.timeout.ms only when --session-timeout is given.
        let d = settings_for(&[]).unwrap();
        assert_eq!(d.get("session.timeout.ms"), None);
        assert_eq!(d.get("enable.auto.commit"), Some("false"));
        assert_eq!(d.get("auto.offset.reset"), Some("earliest"));
        assert_eq!(d.get("partition.assignment.strategy"), Some("range"));
        let config = crate::commands::connect::consumer_config("h:1", &d).unwrap();
        assert_eq!(config.session_timeout, Duration::from_millis(45_000));
    }

    #[test]
    fn config_file_comes_first_and_the_command_line_overrides_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.properties");
        std::fs::write(
            &file,
            "session.timeout.ms=9000\nclient.id=from-file\ngroup.protocol=CLASSIC\nauto.offset.reset=latest\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        for flag in ["--command-config", "--consumer.config"] {
            let s = settings_for(&[flag, path]).unwrap();
            assert_eq!(s.get("client.id"), Some("from-file"), "{flag}");
            assert_eq!(s.get("session.timeout.ms"), Some("9000"), "{flag}");
            assert_eq!(s.get("auto.offset.reset"), Some("earliest"), "{flag}");
            crate::commands::connect::consumer_config("h:1", &s).unwrap();
            let s = settings_for(&[flag, path, "--session-timeout", "7000"]).unwrap();
            assert_eq!(s.get("session.timeout.ms"), Some("7000"), "{flag}");
        }
        let missing = settings_for(&["--command-config", "/nonexistent/c.properties"]);
        assert!(missing.is_err());
    }

    #[test]
    fn kip_848_arguments_select_the_consumer_protocol() {
        let s = settings_for(&[
            "--group-protocol",
            "CONSUMER",
            "--group-remote-assignor",
            "uniform",
        ])
        .unwrap();
        assert_eq!(s.get("group.protocol"), Some("consumer"));
        assert_eq!(s.get("group.remote.assignor"), Some("uniform"));
        assert_eq!(s.get("partition.assignment.strategy"), None);
        let config = crate::commands::connect::consumer_config("h:1", &s).unwrap();
        assert_eq!(
            config.group_protocol,
            rafka_consumer::GroupProtocol::Consumer
        );
        assert_eq!(config.group_remote_assignor.as_deref(), Some("uniform"));

        // Classic (the default) ignores the remote assignor, as Java does.
        let s = settings_for(&["--group-remote-assignor", "uniform"]).unwrap();
        assert_eq!(s.get("group.protocol"), Some("classic"));
        assert_eq!(s.get("group.remote.assignor"), None);
        assert_eq!(s.get("partition.assignment.strategy"), Some("range"));

        let err = settings_for(&["--group-protocol", "consumer", "--session-timeout", "6000"])
            .unwrap_err()
            .to_string();
        assert_eq!(err, SESSION_TIMEOUT_WITH_CONSUMER_PROTOCOL);
        // The command line's protocol overrides a file's, as in Java.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.properties");
        std::fs::write(&file, "group.protocol=consumer\n").unwrap();
        let s = settings_for(&["--command-config", file.to_str().unwrap()]).unwrap();
        assert_eq!(s.get("group.protocol"), Some("classic"));
        // An unknown strategy is an error too.
        assert!(settings_for(&["--assignment-strategy", "com.example.Mine"]).is_err());
    }

    #[test]
    fn summarizes_per_partition_in_order_of_appearance() {
        let records = [rec(1, 10), rec(1, 11), rec(0, 5), rec(1, 12)];
        let b = summarize(&records, None, false);
        assert_eq!(b.counted, 4);
        assert_eq!(
            b.offsets,
            vec![
                (TopicPartition::new("t", 1), 13),
                (TopicPartition::new("t", 0), 6)
            ]
        );
        let Some(Event::RecordsConsumed { count, partitions }) = b.consumed else {
            panic!()
        };
        assert_eq!(count, 4);
        assert_eq!(
            (
                partitions[0].min_offset,
                partitions[0].max_offset,
                partitions[0].count
            ),
            (10, 12, 3)
        );
        assert_eq!(partitions[1].partition, 0);
        assert!(b.record_data.is_empty());
    }

    #[test]
    fn max_messages_cuts_the_batch_like_java() {
        let records = [rec(1, 10), rec(1, 11), rec(0, 5), rec(0, 6)];
        let b = summarize(&records, Some(3), true);
        assert_eq!(b.counted, 3);
        assert_eq!(
            b.offsets,
            vec![
                (TopicPartition::new("t", 1), 12),
                (TopicPartition::new("t", 0), 6)
            ]
        );
        assert_eq!(b.record_data.len(), 3);
        // Java reports the poll's full count even when it cuts.
        assert!(matches!(
            b.consumed,
            Some(Event::RecordsConsumed { count: 4, .. })
        ));
    }
}
