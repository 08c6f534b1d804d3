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
use crate::args::VerifiableConsumerArgs;
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

#[async_trait::async_trait]
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

/// Runs the verifiable consumer until `--max-messages` are consumed or a signal arrives.
///
/// # Errors
/// Bad arguments or configuration, or no broker reachable.
pub async fn run(
    settings: Settings,
    args: VerifiableConsumerArgs,
    mut shutdown: Shutdown,
) -> anyhow::Result<ExitCode> {
    if args.group_protocol.eq_ignore_ascii_case("consumer") {
        anyhow::bail!("--group-protocol consumer (KIP-848) is not supported; use classic");
    }
    let bootstrap = super::bootstrap(
        args.bootstrap_server.as_deref(),
        args.broker_list.as_deref(),
        &settings,
    )?;
    // Java: the properties file first, then the command line overrides it.
    let mut settings = settings;
    if let Some(file) = &args.consumer_config {
        settings.load_file(file)?;
    }
    let strategy = super::assignment_strategy(&args.assignment_strategy)?;
    settings.set("partition.assignment.strategy", strategy, Origin::Command);
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
    settings.set(
        "session.timeout.ms",
        &args.session_timeout_ms.to_string(),
        Origin::Command,
    );
    let config = crate::commands::connect::consumer_config(&bootstrap, &settings)?;
    let client = crate::commands::connect::connect_with(config.client.clone()).await?;
    let mut consumer = Consumer::with_client(config, client);

    emit(&Event::StartupComplete);
    let outcome = consume(&mut consumer, &args, &mut shutdown).await;
    if let Err(e) = consumer.close().await {
        eprintln!("rafka: error while closing the consumer: {e}");
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
    consumer.subscribe(vec![args.topic.clone()], EventListener)?;
    let limit = (args.max_messages >= 0).then_some(args.max_messages as u64);
    let mut consumed: u64 = 0;
    while limit.is_none_or(|l| consumed < l) {
        let records = tokio::select! {
            r = consumer.poll(Duration::from_millis(500)) => r?,
            _ = shutdown.wait() => return Ok(()),
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
