//! `rafka demo-member`: one consumer-group member of the demo, in its own process so the demo
//! can SIGKILL it.
//!
//! Per poll batch, one SQLite transaction inserts every record into `processed` and stores the
//! new positions through rafka's SQL offset store; on assignment the member seeks to the stored
//! positions. A crash at any instant therefore leaves rows and positions in agreement: either
//! both of a batch are in the database or neither is, and the next owner resumes exactly after
//! the last committed batch.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rafka_client::TopicPartition;
use rafka_consumer::store::sql::{SqlOffsetStore, Sqlite};
use rafka_consumer::{
    Consumer, ConsumerConfig, ConsumerContext, ConsumerRebalanceListener, ConsumerRecord,
    ListenerError,
};

use super::protocol::MemberEvent;
use super::{db, group_protocol};
use crate::args::DemoMemberArgs;
use crate::shutdown::Shutdown;

/// Records per poll: fewer, larger transactions (SQLite commits are the member's cost).
const MAX_POLL_RECORDS: usize = 2000;

/// Rows per INSERT statement (5 bound values each, under SQLite's variable limit).
const ROWS_PER_INSERT: usize = 150;

/// How often an idle member repeats its `processed` line.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

fn say(event: &MemberEvent) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", event.to_line());
    let _ = out.flush();
}

/// Seeks assigned partitions to the positions stored in SQLite and reports assignments.
struct SeekToStored {
    group_id: String,
    store: SqlOffsetStore<Sqlite>,
}

impl ConsumerRebalanceListener for SeekToStored {
    async fn on_partitions_revoked(
        &mut self,
        _consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        // Positions need no saving here: each batch stored them with its rows.
        say(&MemberEvent::Revoked {
            partitions: partitions.iter().map(|tp| tp.partition).collect(),
        });
        Ok(())
    }

    async fn on_partitions_assigned(
        &mut self,
        consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        use rafka_consumer::OffsetStore as _;
        let stored = self.store.load(&self.group_id, partitions).await?;
        for tp in partitions {
            match stored.get(tp) {
                Some(offset) => consumer.seek(tp, *offset),
                // Never processed: start at the beginning of the partition.
                None => consumer.seek_to_beginning(std::slice::from_ref(tp)),
            }?;
        }
        say(&MemberEvent::Assigned {
            partitions: consumer
                .assignment()
                .iter()
                .map(|tp| tp.partition)
                .collect(),
        });
        Ok(())
    }
}

/// Inserts `records` and their positions in one transaction.
///
/// # Errors
/// SQL errors; the transaction is then rolled back (dropped) and nothing of the batch stays.
pub async fn process_batch(
    store: &SqlOffsetStore<Sqlite>,
    group_id: &str,
    records: &[ConsumerRecord],
) -> anyhow::Result<()> {
    let mut positions: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    let mut txn = store.begin().await?;
    for chunk in records.chunks(ROWS_PER_INSERT) {
        let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
            r#"INSERT INTO processed (topic, "partition", "offset", key, value) "#,
        );
        insert.push_values(chunk, |mut row, r| {
            row.push_bind(r.topic.to_string())
                .push_bind(r.partition)
                .push_bind(r.offset)
                .push_bind(
                    r.key
                        .as_deref()
                        .map(|k| String::from_utf8_lossy(k).into_owned()),
                )
                .push_bind(
                    r.value
                        .as_deref()
                        .map(|v| String::from_utf8_lossy(v).into_owned()),
                );
        });
        insert
            .build()
            .execute(&mut *txn)
            .await
            .context("insert processed rows")?;
        for r in chunk {
            let next = positions.entry(r.topic_partition()).or_insert(0);
            *next = (*next).max(r.offset + 1);
        }
    }
    let positions: Vec<(TopicPartition, i64)> = positions.into_iter().collect();
    txn.save_offsets(group_id, &positions).await?;
    txn.commit().await?;
    Ok(())
}

/// How long to pause so that `total` records since the first took at least `total / rate`
/// seconds (`rate` 0: never).
pub fn pace(rate: u64, total: u64, elapsed: Duration) -> Option<Duration> {
    if rate == 0 {
        return None;
    }
    Duration::from_secs_f64(total as f64 / rate as f64)
        .checked_sub(elapsed)
        .filter(|d| !d.is_zero())
}

/// Runs one member until SIGTERM/SIGINT.
///
/// # Errors
/// Consumer or database failures.
pub async fn run(args: DemoMemberArgs, mut shutdown: Shutdown) -> anyhow::Result<ExitCode> {
    let pool = db::open(&args.db, 2)
        .await
        .context("open the demo database")?;
    let store = SqlOffsetStore::<Sqlite>::new(pool);
    store.create_table_if_missing().await?;

    let mut config = ConsumerConfig::default();
    let common = [
        ("bootstrap.servers", args.bootstrap_server.clone()),
        ("client.id", args.name.clone()),
        ("group.id", args.group_id.clone()),
        ("enable.auto.commit", "false".to_string()),
        ("auto.offset.reset", "earliest".to_string()),
    ];
    let protocol = group_protocol::member_settings(
        args.group_protocol,
        args.group_remote_assignor.as_deref(),
        args.session_timeout_ms,
    );
    for (k, v) in common.into_iter().chain(protocol) {
        config
            .apply(k, &v)
            .map_err(|e| anyhow::anyhow!("{k}: {e}"))?;
    }
    config.max_poll_records = MAX_POLL_RECORDS;
    config.offset_store = Arc::new(store.clone());
    let mut consumer = Consumer::new(config)?;
    consumer.subscribe_with_listener(
        vec![args.topic.clone()],
        SeekToStored {
            group_id: args.group_id.clone(),
            store: store.clone(),
        },
    )?;
    say(&MemberEvent::Started);

    let mut total: u64 = 0;
    let mut last_report = Instant::now();
    let mut first_record: Option<Instant> = None;
    loop {
        let records = tokio::select! {
            r = consumer.poll(Duration::from_millis(500)) => r?,
            _ = shutdown.wait() => break,
        };
        if !records.is_empty() {
            process_batch(&store, &args.group_id, &records).await?;
            total += records.len() as u64;
            // After every committed batch, so a member killed right after still got counted.
            say(&MemberEvent::Processed { total });
            last_report = Instant::now();
            let since = *first_record.get_or_insert_with(Instant::now);
            if let Some(pause) = pace(args.max_rate, total, since.elapsed()) {
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = shutdown.wait() => break,
                }
            }
        } else if last_report.elapsed() >= PROGRESS_EVERY {
            say(&MemberEvent::Processed { total });
            last_report = Instant::now();
        }
    }
    consumer.close().await?;
    say(&MemberEvent::Stopped { total });
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_holds_the_rate() {
        assert_eq!(pace(0, 1_000_000, Duration::ZERO), None);
        assert_eq!(
            pace(1000, 2000, Duration::from_millis(500)),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(pace(1000, 2000, Duration::from_secs(3)), None);
    }
}
