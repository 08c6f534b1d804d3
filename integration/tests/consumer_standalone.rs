//! The consumer without group membership (`assign`) against a real broker (the shared Apache
//! Kafka cluster, or Tansu with `RAFKA_TEST_TARGET=tansu`): fetch, seek, reset policies,
//! pause/resume, commits read back by a new consumer.

mod consumer_common;

use std::time::Duration;

use consumer_common::*;
use rafka::consumer::{AutoOffsetReset, Consumer, ConsumerError};
use rafka::wire::TopicPartition;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn assign_fetches_everything_in_order_with_metadata() {
    let t = target();
    let (topic, client) = topic_and_client(&t, "s1", 2).await;
    produce_each(&client, &topic, 0, "p0", 30).await;
    produce(&client, &topic, 1, &["x".into(), "y".into(), "z".into()]).await;

    let mut consumer = Consumer::new(config(&t.addr(), None).build().unwrap()).unwrap();
    consumer
        .assign(&[
            TopicPartition::new(&topic, 0),
            TopicPartition::new(&topic, 1),
        ])
        .unwrap();
    let records = poll_n(&mut consumer, 33, WAIT).await;
    assert_eq!(records.len(), 33);
    let p0: Vec<_> = records.iter().filter(|r| r.partition == 0).collect();
    let p1: Vec<_> = records.iter().filter(|r| r.partition == 1).collect();
    assert_eq!(
        p0.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (0..30).collect::<Vec<_>>()
    );
    assert_eq!(
        p1.iter()
            .map(|r| r.value.clone().unwrap())
            .collect::<Vec<_>>(),
        ["x", "y", "z"]
    );
    assert_eq!(*p0[5].topic, *topic);
    assert_eq!(p0[5].key.as_deref(), Some(&b"p0-5"[..]));
    assert!(p0[5].timestamp > 0);
    assert_eq!(
        consumer
            .position(&TopicPartition::new(&topic, 0))
            .await
            .unwrap(),
        30
    );
    assert_eq!(consumer.lag(&TopicPartition::new(&topic, 0)), Some(0));
    assert_eq!(
        consumer.high_watermark(&TopicPartition::new(&topic, 1)),
        Some(3)
    );
    consumer.close().await.unwrap();
}

#[tokio::test]
async fn max_poll_records_bounds_each_poll() {
    let t = target();
    let (topic, client) = topic_and_client(&t, "s2", 1).await;
    let values: Vec<String> = (0..50).map(|i| format!("v{i}")).collect();
    produce(&client, &topic, 0, &values).await;
    let mut consumer =
        Consumer::new(config(&t.addr(), None).max_poll_records(7).build().unwrap()).unwrap();
    consumer.assign(&[TopicPartition::new(&topic, 0)]).unwrap();
    let mut total = 0;
    let deadline = tokio::time::Instant::now() + WAIT;
    while total < 50 && tokio::time::Instant::now() < deadline {
        let batch = consumer.poll(Duration::from_millis(200)).await.unwrap();
        assert!(batch.len() <= 7, "poll returned {}", batch.len());
        total += batch.len();
    }
    assert_eq!(total, 50);
}

#[tokio::test]
async fn seek_and_seek_to_beginning_and_end() {
    let t = target();
    let (topic, client) = topic_and_client(&t, "s3", 1).await;
    produce_each(&client, &topic, 0, "v", 10).await;
    let tp = TopicPartition::new(&topic, 0);
    let mut consumer = Consumer::new(config(&t.addr(), None).build().unwrap()).unwrap();
    consumer.assign(std::slice::from_ref(&tp)).unwrap();

    consumer.seek(&tp, 7).unwrap();
    let records = poll_n(&mut consumer, 3, WAIT).await;
    assert_eq!(values(&records), ["v-7", "v-8", "v-9"]);

    consumer
        .seek_to_beginning(std::slice::from_ref(&tp))
        .unwrap();
    assert_eq!(consumer.position(&tp).await.unwrap(), 0);
    let records = poll_n(&mut consumer, 10, WAIT).await;
    assert_eq!(records.first().map(|r| r.offset), Some(0));

    // One record per batch, so Tansu's ListOffsets(latest) equals the high watermark here.
    consumer.seek_to_end(std::slice::from_ref(&tp)).unwrap();
    assert_eq!(consumer.position(&tp).await.unwrap(), 10);
    produce_each(&client, &topic, 0, "new", 2).await;
    let records = poll_n(&mut consumer, 2, WAIT).await;
    assert_eq!(values(&records), ["new-0", "new-1"]);

    let unassigned = TopicPartition::new(&topic, 5);
    assert!(matches!(
        consumer.seek(&unassigned, 0),
        Err(ConsumerError::NotAssigned { .. })
    ));
}

#[tokio::test]
async fn reset_policies_latest_and_none() {
    let t = target();
    let (topic, client) = topic_and_client(&t, "s4", 1).await;
    produce_each(&client, &topic, 0, "old", 4).await;
    let tp = TopicPartition::new(&topic, 0);

    let mut latest = Consumer::new(
        config(&t.addr(), None)
            .auto_offset_reset(AutoOffsetReset::Latest)
            .build()
            .unwrap(),
    )
    .unwrap();
    latest.assign(std::slice::from_ref(&tp)).unwrap();
    assert_eq!(latest.position(&tp).await.unwrap(), 4);
    produce_each(&client, &topic, 0, "fresh", 1).await;
    let records = poll_n(&mut latest, 1, WAIT).await;
    assert_eq!(values(&records), ["fresh-0"]);

    let mut none = Consumer::new(
        config(&t.addr(), None)
            .auto_offset_reset(AutoOffsetReset::None)
            .build()
            .unwrap(),
    )
    .unwrap();
    none.assign(std::slice::from_ref(&tp)).unwrap();
    match none.poll(Duration::from_millis(500)).await {
        Err(ConsumerError::NoOffsetForPartition { partitions }) => {
            assert_eq!(partitions, std::slice::from_ref(&tp))
        }
        other => panic!("expected NoOffsetForPartition, got {other:?}"),
    }
    // Past the end. Apache Kafka answers OFFSET_OUT_OF_RANGE, which the consumer turns into
    // OffsetOutOfRange under policy none, as Java's consumer throws OffsetOutOfRangeException.
    // Tansu answers with no records and no error (docs/brokers.md), so the consumer just waits.
    none.seek(&tp, 1_000).unwrap();
    if t.is_kafka() {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match none.poll(Duration::from_millis(300)).await {
                Ok(records) if records.is_empty() => {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "no OffsetOutOfRange within {WAIT:?}"
                    );
                }
                Err(ConsumerError::OffsetOutOfRange { offsets }) => {
                    assert_eq!(offsets, [(tp.clone(), 1_000)]);
                    break;
                }
                other => panic!("expected OffsetOutOfRange, got {other:?}"),
            }
        }
    } else {
        for _ in 0..3 {
            assert!(none
                .poll(Duration::from_millis(300))
                .await
                .unwrap()
                .is_empty());
        }
    }
    // Seeking back fixes it.
    none.seek(&tp, 0).unwrap();
    let records = poll_n(&mut none, 5, WAIT).await;
    assert_eq!(records.len(), 5);
}

/// Kafka: a fetch past the end gets OFFSET_OUT_OF_RANGE and the consumer resets the position
/// with `auto.offset.reset`, as Java's does: earliest goes back to the log start, latest to the
/// log end. Tansu answers such a fetch with nothing (docs/brokers.md), so there is nothing to
/// reset from; on Tansu the test checks only that the consumer keeps waiting.
#[tokio::test]
async fn fetch_past_the_end_resets_per_policy() {
    let t = target();
    let (topic, client) = topic_and_client(&t, "s5", 1).await;
    produce_each(&client, &topic, 0, "v", 5).await;
    let tp = TopicPartition::new(&topic, 0);
    let consumer_with = |reset| {
        let mut c = Consumer::new(
            config(&t.addr(), None)
                .auto_offset_reset(reset)
                .build()
                .unwrap(),
        )
        .unwrap();
        c.assign(std::slice::from_ref(&tp)).unwrap();
        c.seek(&tp, 1_000).unwrap();
        c
    };

    let mut earliest = consumer_with(AutoOffsetReset::Earliest);
    let mut latest = consumer_with(AutoOffsetReset::Latest);
    if !t.is_kafka() {
        assert!(earliest
            .poll(Duration::from_millis(500))
            .await
            .unwrap()
            .is_empty());
        return;
    }
    let records = poll_n(&mut earliest, 5, WAIT).await;
    assert_eq!(values(&records), ["v-0", "v-1", "v-2", "v-3", "v-4"]);

    // Latest: the reset lands at the log end (5); only what comes after is returned.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        assert!(latest
            .poll(Duration::from_millis(200))
            .await
            .unwrap()
            .is_empty());
        if latest.position(&tp).await.unwrap() == 5 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "latest never reset to the log end"
        );
    }
    produce_each(&client, &topic, 0, "after", 1).await;
    let records = poll_n(&mut latest, 1, WAIT).await;
    assert_eq!(values(&records), ["after-0"]);
    assert_eq!(records[0].offset, 5);
}

/// ListOffsets(latest) is the log end offset on Kafka, whatever the batches: 4 one-record
/// batches and one of 3 records end at 7. Tansu answers the last batch's base offset + 1, i.e.
/// 5 here (docs/brokers.md); pinned on Tansu.
#[tokio::test]
async fn seek_to_end_after_a_multi_record_batch() {
    let t = target();
    let (topic, client) = topic_and_client(&t, "s11", 1).await;
    produce_each(&client, &topic, 0, "one", 4).await;
    produce(
        &client,
        &topic,
        0,
        &["b0".to_string(), "b1".to_string(), "b2".to_string()],
    )
    .await;
    let tp = TopicPartition::new(&topic, 0);
    let mut consumer = Consumer::new(config(&t.addr(), None).build().unwrap()).unwrap();
    consumer.assign(std::slice::from_ref(&tp)).unwrap();
    consumer.seek_to_end(std::slice::from_ref(&tp)).unwrap();
    let end = if t.is_kafka() { 7 } else { 5 };
    assert_eq!(consumer.position(&tp).await.unwrap(), end);
}

#[tokio::test]
async fn pause_and_resume() {
    let t = target();
    let (topic, client) = topic_and_client(&t, "s6", 2).await;
    produce_each(&client, &topic, 0, "a", 5).await;
    produce_each(&client, &topic, 1, "b", 5).await;
    let a = TopicPartition::new(&topic, 0);
    let b = TopicPartition::new(&topic, 1);
    let mut consumer = Consumer::new(config(&t.addr(), None).build().unwrap()).unwrap();
    consumer.assign(&[a.clone(), b.clone()]).unwrap();
    consumer.pause(std::slice::from_ref(&a)).unwrap();
    assert_eq!(consumer.paused(), std::slice::from_ref(&a));
    let records = poll_n(&mut consumer, 5, WAIT).await;
    assert_eq!(records.len(), 5);
    assert!(records.iter().all(|r| r.partition == 1));
    // Nothing more while paused.
    let more = consumer.poll(Duration::from_millis(800)).await.unwrap();
    assert!(
        more.is_empty(),
        "paused partition returned {} records",
        more.len()
    );
    consumer.resume(std::slice::from_ref(&a)).unwrap();
    let records = poll_n(&mut consumer, 5, WAIT).await;
    assert_eq!(values(&records), ["a-0", "a-1", "a-2", "a-3", "a-4"]);
}

#[tokio::test]
async fn commit_sync_then_a_new_consumer_resumes_from_it() {
    let t = target();
    let (topic, client) = topic_and_client(&t, "s7", 1).await;
    produce_each(&client, &topic, 0, "v", 10).await;
    let tp = TopicPartition::new(&topic, 0);

    let mut first = Consumer::new(
        config(&t.addr(), Some(&t.group("g-s7")))
            .enable_auto_commit(false)
            .max_poll_records(4)
            .build()
            .unwrap(),
    )
    .unwrap();
    first.assign(std::slice::from_ref(&tp)).unwrap();
    let records = poll_n(&mut first, 4, WAIT).await;
    assert_eq!(records.len(), 4);
    first.commit_sync().await.unwrap();
    assert_eq!(
        first.committed(std::slice::from_ref(&tp)).await.unwrap()[&tp],
        4
    );
    first.close().await.unwrap();

    let mut second = Consumer::new(
        config(&t.addr(), Some(&t.group("g-s7")))
            .enable_auto_commit(false)
            .build()
            .unwrap(),
    )
    .unwrap();
    second.assign(std::slice::from_ref(&tp)).unwrap();
    let records = poll_n(&mut second, 6, WAIT).await;
    assert_eq!(values(&records).first().map(String::as_str), Some("v-4"));
    assert_eq!(records.len(), 6);
}

#[tokio::test]
async fn stream_yields_records() {
    use futures::StreamExt;
    let t = target();
    let (topic, client) = topic_and_client(&t, "s8", 1).await;
    produce_each(&client, &topic, 0, "v", 5).await;
    let mut consumer = Consumer::new(config(&t.addr(), None).build().unwrap()).unwrap();
    consumer.assign(&[TopicPartition::new(&topic, 0)]).unwrap();
    let got: Vec<_> = tokio::time::timeout(WAIT, consumer.stream().take(5).collect::<Vec<_>>())
        .await
        .expect("stream in time");
    let offsets: Vec<i64> = got.into_iter().map(|r| r.unwrap().offset).collect();
    assert_eq!(offsets, [0, 1, 2, 3, 4]);
}

/// Apache Kafka answers ListOffsets(timestamp) with the first offset whose timestamp is at or
/// after it (KIP-79): offset 3 here, and -1 (no such record) past the last timestamp, where the
/// consumer moves to the end, as Java's `offsetsForTimes` + seek to end. Tansu ignores the
/// timestamp and answers offset 0 (docs/brokers.md); pinned on Tansu.
#[tokio::test]
async fn seek_to_timestamp_follows_the_broker_answer() {
    let t = target();
    let (topic, client) = topic_and_client(&t, "s9", 1).await;
    let base = now_ms() - 60_000;
    for i in 0..6 {
        produce_at(&client, &topic, 0, &[format!("t{i}")], base + i * 1_000).await;
    }
    let tp = TopicPartition::new(&topic, 0);
    let mut consumer = Consumer::new(config(&t.addr(), None).build().unwrap()).unwrap();
    consumer.assign(std::slice::from_ref(&tp)).unwrap();
    consumer.seek(&tp, 5).unwrap();
    consumer
        .seek_to_timestamp(std::slice::from_ref(&tp), base + 2_500)
        .unwrap();
    let (first, past_last) = if t.is_kafka() { (3, 6) } else { (0, 0) };
    assert_eq!(consumer.position(&tp).await.unwrap(), first);
    let records = poll_n(&mut consumer, 6 - first as usize, WAIT).await;
    assert_eq!(
        records.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (first..6).collect::<Vec<_>>()
    );
    let t3 = records.iter().find(|r| r.offset == 3).unwrap();
    assert_eq!(
        t3.timestamp,
        base + 3_000,
        "CreateTime timestamps come through"
    );

    consumer
        .seek_to_timestamp(std::slice::from_ref(&tp), base + 10_000)
        .unwrap();
    assert_eq!(consumer.position(&tp).await.unwrap(), past_last);
}

#[tokio::test]
async fn commit_async_reports_through_its_callback() {
    let t = target();
    let (topic, client) = topic_and_client(&t, "s10", 1).await;
    produce_each(&client, &topic, 0, "v", 4).await;
    let tp = TopicPartition::new(&topic, 0);
    let mut consumer = Consumer::new(
        config(&t.addr(), Some(&t.group("g-s10")))
            .enable_auto_commit(false)
            .build()
            .unwrap(),
    )
    .unwrap();
    consumer.assign(std::slice::from_ref(&tp)).unwrap();
    assert_eq!(poll_n(&mut consumer, 4, WAIT).await.len(), 4);
    let (tx, rx) = tokio::sync::oneshot::channel();
    consumer.commit_async(move |result| {
        let _ = tx.send(result.is_ok());
    });
    assert!(tokio::time::timeout(WAIT, rx).await.unwrap().unwrap());
    assert_eq!(
        consumer.committed(std::slice::from_ref(&tp)).await.unwrap()[&tp],
        4
    );
}
