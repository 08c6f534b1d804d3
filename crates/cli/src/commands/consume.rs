//! `rafka consume`: standalone over chosen partitions (`-p`, `-o`) or as a group member (`-G`),
//! printing each record with a kcat-style format.
//!
//! In group mode the CLI commits only what it printed: auto-commit is off and the positions of
//! printed records are committed about once a second and on exit, so `-c 10` never commits an
//! eleventh record it fetched but did not show. Standalone (no group) nothing is committed, as
//! with Java's consumer without `group.id`; `-X enable.auto.commit=true` there is an error.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rafka_client::TopicPartition;
use rafka_consumer::{Consumer, ConsumerRecord};

use crate::args::{ConsumeArgs, StartOffset};
use crate::format::{Format, RecordView};
use crate::progress::Progress;
use crate::settings::{Origin, Settings};
use crate::shutdown::Shutdown;

/// How long one `poll` waits before the loop checks for the end of partitions.
const POLL_TIMEOUT: Duration = Duration::from_millis(200);

/// How often printed positions are committed in group mode.
const COMMIT_INTERVAL: Duration = Duration::from_secs(1);

/// Runs `rafka consume`.
///
/// # Errors
/// Connection and configuration errors, a missing topic or partition, consumer errors.
pub async fn run(
    brokers: Option<String>,
    mut settings: Settings,
    args: ConsumeArgs,
    mut shutdown: Shutdown,
) -> anyhow::Result<ExitCode> {
    let bootstrap = super::bootstrap(brokers, &settings)?;
    let format = Format::parse(&args.format)?;
    if let Some(level) = &args.isolation_level {
        settings.set("isolation.level", level, Origin::Command);
    }
    let has_group = args.group.is_some()
        || settings
            .get("group.id")
            .is_some_and(|g| !g.trim().is_empty());
    if !has_group
        && settings
            .get("enable.auto.commit")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    {
        // Java refuses this combination the same way (InvalidConfigurationException).
        anyhow::bail!(
            "enable.auto.commit=true needs a consumer group: pass -G GROUP \
             (without a group there is nothing to commit to)"
        );
    }
    if let Some(group) = &args.group {
        settings.set("group.id", group, Origin::Command);
        settings.set("enable.auto.commit", "false", Origin::Command);
        let reset = match args.offset {
            Some(StartOffset::End) => "latest",
            _ => "earliest",
        };
        if settings.get("auto.offset.reset").is_none() {
            settings.set("auto.offset.reset", reset, Origin::Command);
        }
    }
    let config = super::connect::consumer_config(&bootstrap, &settings)?;
    let client = super::connect::connect_with(config.client.clone()).await?;
    super::connect::require_topics(&client, &args.topics).await?;
    let mut consumer = Consumer::with_client(config, client.clone());

    let mut from_end: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    if args.group.is_some() {
        if !args.partitions.is_empty() {
            anyhow::bail!("-p cannot be combined with -G (the group assigns partitions)");
        }
        consumer.subscribe(args.topics.clone())?;
    } else {
        let cluster = client.cached_metadata();
        let mut assignment = Vec::new();
        for topic in &args.topics {
            let available: Vec<i32> = cluster
                .topics
                .get(topic)
                .map(|t| t.partitions.keys().copied().collect())
                .unwrap_or_default();
            let chosen = if args.partitions.is_empty() {
                available.clone()
            } else {
                args.partitions.clone()
            };
            for p in chosen {
                if !available.contains(&p) {
                    anyhow::bail!("topic {topic} has no partition {p}");
                }
                assignment.push(TopicPartition::new(topic.as_str(), p));
            }
        }
        consumer.assign(&assignment)?;
        match args.offset.unwrap_or(StartOffset::End) {
            StartOffset::Beginning => consumer.seek_to_beginning(&assignment)?,
            StartOffset::End => consumer.seek_to_end(&assignment)?,
            StartOffset::Absolute(n) => {
                for tp in &assignment {
                    consumer.seek(tp, n)?;
                }
            }
            StartOffset::FromEnd(n) => {
                // The end is only known reliably from a fetch's high watermark (Tansu's
                // ListOffsets(latest) is off), so read from the start and print the tail.
                consumer.seek_to_beginning(&assignment)?;
                for tp in &assignment {
                    from_end.insert(tp.clone(), n);
                }
            }
        }
    }

    let mut progress = Progress::terminal_only("consumed", args.count);
    let mut printed: u64 = 0;
    let mut to_commit: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    let mut last_commit = Instant::now();
    let mut out = Vec::with_capacity(1 << 16);
    let mut done = false;
    while !done {
        let records = tokio::select! {
            r = consumer.poll(POLL_TIMEOUT) => r?,
            _ = shutdown.wait() => break,
        };
        out.clear();
        let mut shown = 0;
        for record in &records {
            if !from_end.is_empty() {
                let tp = record.topic_partition();
                if let Some(n) = from_end.get(&tp) {
                    let hw = consumer.high_watermark(&tp).unwrap_or(0);
                    if record.offset < hw - n {
                        continue;
                    }
                }
            }
            render(&format, record, &mut out);
            shown += 1;
            printed += 1;
            if args.count.is_some_and(|c| printed >= c) {
                done = true;
                break;
            }
        }
        if args.group.is_some() {
            note_printed(&records[..shown], &mut to_commit);
        }
        if !out.is_empty() {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(&out).and_then(|()| stdout.flush()) {
                Ok(()) => {}
                // The reader went away (`| head`): stop quietly, as kcat does.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
                Err(e) => return Err(e.into()),
            }
            progress.set(printed);
        }
        if args.group.is_some() && !to_commit.is_empty() && last_commit.elapsed() >= COMMIT_INTERVAL
        {
            commit(&mut consumer, &mut to_commit).await?;
            last_commit = Instant::now();
        }
        if args.exit_at_end && !done && records.is_empty() {
            done = at_end(&consumer);
        }
    }
    if args.group.is_some() && !to_commit.is_empty() {
        commit(&mut consumer, &mut to_commit).await?;
    }
    progress.finish();
    consumer.close().await?;
    Ok(ExitCode::SUCCESS)
}

fn render(format: &Format, record: &ConsumerRecord, out: &mut Vec<u8>) {
    let headers: Vec<(&str, Option<&[u8]>)> = record
        .headers
        .iter()
        .map(|h| {
            (
                std::str::from_utf8(&h.key).unwrap_or_default(),
                h.value.as_deref(),
            )
        })
        .collect();
    format.render(
        &RecordView {
            topic: &record.topic,
            partition: record.partition,
            offset: record.offset,
            timestamp: record.timestamp,
            key: record.key.as_deref(),
            value: record.value.as_deref(),
            headers: &headers,
        },
        out,
    );
}

/// Notes for the next commit the position after the last of `printed` (group mode, where
/// every record `poll` returned up to `-c` is printed) in each partition: one entry per run of
/// records of one partition rather than one `TopicPartition` per record.
fn note_printed(printed: &[ConsumerRecord], to_commit: &mut BTreeMap<TopicPartition, i64>) {
    for (i, record) in printed.iter().enumerate() {
        let last_of_run = printed
            .get(i + 1)
            .is_none_or(|next| next.partition != record.partition || next.topic != record.topic);
        if last_of_run {
            to_commit.insert(record.topic_partition(), record.offset + 1);
        }
    }
}

async fn commit(
    consumer: &mut Consumer,
    offsets: &mut BTreeMap<TopicPartition, i64>,
) -> anyhow::Result<()> {
    let list: Vec<(TopicPartition, i64)> = std::mem::take(offsets).into_iter().collect();
    consumer.commit_offsets_sync(&list).await?;
    Ok(())
}

/// True when every assigned partition has been read up to its high watermark.
fn at_end(consumer: &Consumer) -> bool {
    let assignment = consumer.assignment();
    !assignment.is_empty() && assignment.iter().all(|tp| consumer.lag(tp) == Some(0))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rafka_consumer::TimestampType;

    use super::*;

    fn rec(topic: &str, partition: i32, offset: i64) -> ConsumerRecord {
        ConsumerRecord {
            topic: Arc::from(topic),
            partition,
            offset,
            timestamp: 0,
            timestamp_type: TimestampType::CreateTime,
            key: None,
            value: None,
            headers: Vec::new(),
            leader_epoch: None,
        }
    }

    #[test]
    fn notes_the_position_after_the_last_printed_record_of_each_partition() {
        let mut to_commit = BTreeMap::new();
        to_commit.insert(TopicPartition::new("b", 0), 7);
        let printed = [
            rec("a", 0, 3),
            rec("a", 0, 4),
            rec("a", 1, 9),
            rec("b", 1, 0),
            rec("a", 0, 5),
        ];
        note_printed(&printed, &mut to_commit);
        let noted: Vec<(String, i32, i64)> = to_commit
            .iter()
            .map(|(tp, o)| (tp.topic.clone(), tp.partition, *o))
            .collect();
        assert_eq!(
            noted,
            [
                ("a".into(), 0, 6),
                ("a".into(), 1, 10),
                ("b".into(), 0, 7),
                ("b".into(), 1, 1)
            ]
        );
    }
}
