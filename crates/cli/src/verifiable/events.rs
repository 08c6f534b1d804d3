//! The JSON events of Kafka's verifiable clients, one object per stdout line.
//!
//! Field names, the `name` values and the `timestamp`-then-`name` order follow
//! `VerifiableConsumer.java` / `VerifiableProducer.java` (Jackson `@JsonPropertyOrder`), because
//! `verifiable_consumer.py` and `verifiable_producer.py` in Kafka's system tests parse them.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// A topic-partition as the Java tools serialise it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PartitionData {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
}

/// Records of one partition in one `poll` (`RecordSetSummary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordSetSummary {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// Records counted for this partition.
    pub count: u64,
    /// Offset of the first record.
    #[serde(rename = "minOffset")]
    pub min_offset: i64,
    /// Offset of the last record.
    #[serde(rename = "maxOffset")]
    pub max_offset: i64,
}

/// One committed position (`CommitData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitData {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// The committed position (next offset to consume).
    pub offset: i64,
}

/// Every event either verifiable client prints; serialised with `"name"` as the tag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum Event {
    /// The tool started (before subscribing / producing).
    StartupComplete,
    /// The tool closed its client and is about to exit.
    ShutdownComplete,
    /// A signal asked the consumer to stop (Java 4.x prints it from its shutdown hook, before
    /// closing).
    ShutdownRequested,
    /// `onPartitionsRevoked`.
    PartitionsRevoked {
        /// The revoked partitions.
        partitions: Vec<PartitionData>,
    },
    /// `onPartitionsAssigned`.
    PartitionsAssigned {
        /// The assigned partitions.
        partitions: Vec<PartitionData>,
    },
    /// Summary of one poll.
    RecordsConsumed {
        /// Records the poll returned (before the `--max-messages` cut, as Java does).
        count: u64,
        /// Per-partition summaries.
        partitions: Vec<RecordSetSummary>,
    },
    /// One record, in `--verbose` mode.
    RecordData {
        /// Key as UTF-8 (lossy), null for a null key.
        key: Option<String>,
        /// Value as UTF-8 (lossy), null for a null value.
        value: Option<String>,
        /// Topic name.
        topic: String,
        /// Partition index.
        partition: i32,
        /// Offset.
        offset: i64,
    },
    /// The result of a commit (only without auto-commit).
    OffsetsCommitted {
        /// The offsets the commit carried.
        offsets: Vec<CommitData>,
        /// The error message of a failed commit; absent on success (Jackson NON_NULL).
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// Whether the commit succeeded.
        success: bool,
    },
    /// A record was acknowledged.
    ProducerSendSuccess {
        /// Key, null when `--repeating-keys` is not used.
        key: Option<String>,
        /// Value.
        value: String,
        /// Topic name.
        topic: String,
        /// Partition the record landed in.
        partition: i32,
        /// Offset the broker assigned.
        offset: i64,
    },
    /// A record failed.
    ProducerSendError {
        /// Key.
        key: Option<String>,
        /// Value.
        value: String,
        /// Topic name.
        topic: String,
        /// The error's kind (Java prints the exception class).
        exception: String,
        /// The error message.
        message: String,
    },
    /// The producer's final summary, printed after shutdown_complete.
    ToolData {
        /// Send attempts.
        sent: u64,
        /// Acknowledged records.
        acked: u64,
        /// The `--throughput` target (msgs/s, -1 unthrottled).
        target_throughput: i64,
        /// Acked records per second over the run.
        avg_throughput: f64,
    },
}

/// An event with its wall-clock timestamp; `timestamp` serialises before `name`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Envelope<'a> {
    /// ms since the epoch when the event was created.
    pub timestamp: i64,
    /// The event.
    #[serde(flatten)]
    pub event: &'a Event,
}

/// ms since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Serialises `event` stamped with `timestamp` as one JSON line.
pub fn to_line(event: &Event, timestamp: i64) -> String {
    // Serialising these plain structs to a String cannot fail.
    serde_json::to_string(&Envelope { timestamp, event }).unwrap_or_default()
}

/// Prints `event` as one line on stdout and flushes, so a reading test harness sees it at once.
pub fn emit(event: &Event) {
    let line = to_line(event, now_ms());
    let mut out = std::io::stdout().lock();
    // A closed stdout (the harness went away) is not worth crashing the client for.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn timestamp_and_name_come_first() {
        let line = to_line(&Event::StartupComplete, 17);
        assert_eq!(line, r#"{"timestamp":17,"name":"startup_complete"}"#);
    }

    #[test]
    fn records_consumed_uses_java_field_names() {
        let e = Event::RecordsConsumed {
            count: 5,
            partitions: vec![RecordSetSummary {
                topic: "t".into(),
                partition: 1,
                count: 5,
                min_offset: 10,
                max_offset: 14,
            }],
        };
        assert_eq!(
            to_line(&e, 1),
            r#"{"timestamp":1,"name":"records_consumed","count":5,"partitions":[{"topic":"t","partition":1,"count":5,"minOffset":10,"maxOffset":14}]}"#
        );
    }

    #[test]
    fn offsets_committed_omits_null_error() {
        let ok = Event::OffsetsCommitted {
            offsets: vec![CommitData {
                topic: "t".into(),
                partition: 0,
                offset: 3,
            }],
            error: None,
            success: true,
        };
        let v: Value = serde_json::from_str(&to_line(&ok, 1)).unwrap();
        assert!(v.get("error").is_none());
        assert_eq!(v["success"], Value::Bool(true));
        assert_eq!(v["offsets"][0]["offset"], 3);
        let failed = Event::OffsetsCommitted {
            offsets: vec![],
            error: Some("REBALANCE_IN_PROGRESS".into()),
            success: false,
        };
        let v: Value = serde_json::from_str(&to_line(&failed, 1)).unwrap();
        assert_eq!(v["error"], "REBALANCE_IN_PROGRESS");
        assert_eq!(v["success"], Value::Bool(false));
    }

    #[test]
    fn producer_events_match_java() {
        let ok = Event::ProducerSendSuccess {
            key: None,
            value: "7".into(),
            topic: "t".into(),
            partition: 2,
            offset: 9,
        };
        assert_eq!(
            to_line(&ok, 5),
            r#"{"timestamp":5,"name":"producer_send_success","key":null,"value":"7","topic":"t","partition":2,"offset":9}"#
        );
        let tool = Event::ToolData {
            sent: 3,
            acked: 2,
            target_throughput: -1,
            avg_throughput: 1.5,
        };
        assert_eq!(
            to_line(&tool, 5),
            r#"{"timestamp":5,"name":"tool_data","sent":3,"acked":2,"target_throughput":-1,"avg_throughput":1.5}"#
        );
    }

    #[test]
    fn partition_events_list_topic_and_partition() {
        let e = Event::PartitionsAssigned {
            partitions: vec![PartitionData {
                topic: "t".into(),
                partition: 0,
            }],
        };
        assert_eq!(
            to_line(&e, 1),
            r#"{"timestamp":1,"name":"partitions_assigned","partitions":[{"topic":"t","partition":0}]}"#
        );
    }
}
