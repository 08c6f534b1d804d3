//! The consumer calls a Java user looks for, on the test broker (the shared Apache Kafka
//! cluster, or a private Tansu with `RAFKA_TEST_TARGET=tansu`): `end_offsets`,
//! `beginning_offsets`, `offsets_for_times`, `partitions_for`, `subscribe` without a listener,
//! `assign` of one partition, `wakeup`, `positions_after` and `drain_events`.

mod consumer_support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use consumer_support::{broker_with_topic, numbered, produce};
use rafka_consumer::{
    AutoOffsetReset, Consumer, ConsumerConfig, ConsumerError, ConsumerEvent, TopicSelector,
};
use rafka_wire::TopicPartition;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn standalone(addr: &str) -> Consumer {
    Consumer::new(
        ConsumerConfig::builder(addr)
            .auto_offset_reset(AutoOffsetReset::Earliest)
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn end_and_beginning_offsets_and_offsets_for_times_match_what_was_produced() {
    let (t, topic, client) = broker_with_topic("lookups", 2).await;
    let before = now_ms() - 1;
    produce(&client, &topic, 0, &numbered("a", 7)).await;
    produce(&client, &topic, 1, &numbered("b", 3)).await;
    let consumer = standalone(&t.addr());

    let partitions = consumer.partitions_for(&topic).await.unwrap();
    let (p0, p1) = (
        TopicPartition::new(&topic, 0),
        TopicPartition::new(&topic, 1),
    );
    assert_eq!(partitions, [p0.clone(), p1.clone()]);
    assert!(consumer
        .partitions_for(&t.topic("no-such-topic"))
        .await
        .unwrap()
        .is_empty());

    // Nothing assigned: the lookups need no assignment, as in Java.
    let ends = consumer.end_offsets(&partitions).await.unwrap();
    assert_eq!(ends, HashMap::from([(p0.clone(), 7), (p1.clone(), 3)]));
    let starts = consumer.beginning_offsets([&p0, &p1]).await.unwrap();
    assert_eq!(starts, HashMap::from([(p0.clone(), 0), (p1.clone(), 0)]));
    assert!(consumer
        .end_offsets(Vec::<TopicPartition>::new())
        .await
        .unwrap()
        .is_empty());

    let found = consumer
        .offsets_for_times([(p0.clone(), before), (p1.clone(), now_ms() + 3_600_000)])
        .await
        .unwrap();
    let hit = found[&p0].expect("a record at or after the timestamp");
    assert_eq!(hit.offset, 0);
    assert!(hit.timestamp >= before, "{hit:?}");
    assert_eq!(found[&p1], None, "no record an hour from now");

    let missing = TopicPartition::new(&topic, 9);
    match consumer.end_offsets([&p0, &missing]).await {
        Err(ConsumerError::OffsetLookup {
            operation,
            partition,
            ..
        }) => {
            assert_eq!(operation, "end_offsets");
            assert_eq!(partition, missing);
        }
        other => panic!("expected OffsetLookup for the missing partition: {other:?}"),
    }
}

#[tokio::test]
async fn assign_one_partition_and_read_positions_after_a_batch() {
    let (t, topic, client) = broker_with_topic("assign-one", 2).await;
    produce(&client, &topic, 1, &numbered("x", 4)).await;
    let group = t.group("assign-one");
    let mut consumer = Consumer::new(
        ConsumerConfig::builder(&t.addr())
            .group_id(&group)
            .enable_auto_commit(false)
            .auto_offset_reset(AutoOffsetReset::Earliest)
            .build()
            .unwrap(),
    )
    .unwrap();
    let tp = TopicPartition::new(&topic, 1);
    consumer.assign([&tp]).unwrap();
    assert_eq!(consumer.assignment(), std::slice::from_ref(&tp));

    let mut batch = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while batch.len() < 4 && Instant::now() < deadline {
        batch.extend(consumer.poll(Duration::from_millis(500)).await.unwrap());
    }
    assert_eq!(batch.len(), 4);
    let after = consumer.positions_after(&batch).unwrap();
    assert_eq!(after.group_id, group);
    assert_eq!(after.offsets, [(tp.clone(), 4)]);
    assert_eq!(consumer.position(&tp).await.unwrap(), 4);

    let no_group = standalone(&t.addr());
    assert!(matches!(
        no_group.positions_after(&batch),
        Err(ConsumerError::NoGroupId { .. })
    ));
}

#[tokio::test]
async fn subscribe_without_a_listener_takes_strings_in_every_form() {
    let (t, topic, client) = broker_with_topic("subscribe", 1).await;
    produce(&client, &topic, 0, &numbered("s", 3)).await;
    let topic_string: String = topic.clone();
    // Each form a Java user would pass; all name the same topic.
    for selector in [
        TopicSelector::from(topic.as_str()),
        TopicSelector::from(&topic_string),
        TopicSelector::from(topic_string.clone()),
        TopicSelector::from(vec![topic_string.clone()]),
        TopicSelector::from([topic.as_str()]),
        TopicSelector::from(std::slice::from_ref(&topic_string)),
    ] {
        match selector {
            TopicSelector::Topics(names) => assert_eq!(names, std::slice::from_ref(&topic)),
            TopicSelector::Pattern(_) => panic!("a name is not a pattern"),
        }
    }

    let mut consumer = Consumer::new(
        ConsumerConfig::builder(&t.addr())
            .group_id(t.group("subscribe"))
            .auto_offset_reset(AutoOffsetReset::Earliest)
            .build()
            .unwrap(),
    )
    .unwrap();
    consumer.subscribe(&topic_string).unwrap();
    assert_eq!(consumer.subscription(), std::slice::from_ref(&topic));
    let mut values = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while values.len() < 3 && Instant::now() < deadline {
        for r in consumer.poll(Duration::from_millis(500)).await.unwrap() {
            values.push(String::from_utf8(r.value.unwrap().to_vec()).unwrap());
        }
    }
    assert_eq!(values, numbered("s", 3));
    consumer.close().await.unwrap();
}

#[tokio::test]
async fn wakeup_ends_a_waiting_poll_promptly_and_only_once() {
    let (t, topic, _client) = broker_with_topic("wakeup", 1).await;
    let mut consumer = standalone(&t.addr());
    consumer
        .assign(consumer.partitions_for(&topic).await.unwrap())
        .unwrap();

    // From another task, while poll waits on an empty partition with a 30 s timeout.
    let handle = consumer.wakeup_handle();
    let waker = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        handle.wakeup();
    });
    let started = Instant::now();
    let result = consumer.poll(Duration::from_secs(30)).await;
    assert!(matches!(result, Err(ConsumerError::Wakeup)), "{result:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "poll took {:?}",
        started.elapsed()
    );
    waker.await.unwrap();

    // A wakeup with no poll running is kept for the next poll; one wakeup ends one poll.
    consumer.wakeup_handle().wakeup();
    assert!(matches!(
        consumer.poll(Duration::from_secs(30)).await,
        Err(ConsumerError::Wakeup)
    ));
    let started = Instant::now();
    let records = consumer.poll(Duration::from_millis(300)).await.unwrap();
    assert!(records.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(250));
    consumer.close().await.unwrap();
}

#[tokio::test]
async fn max_lag_skips_are_reported_by_drain_events() {
    let (t, topic, client) = broker_with_topic("max-lag", 1).await;
    produce(&client, &topic, 0, &numbered("m", 20)).await;
    let mut consumer = Consumer::new(
        ConsumerConfig::builder(&t.addr())
            .auto_offset_reset(AutoOffsetReset::Earliest)
            .max_lag(5)
            .build()
            .unwrap(),
    )
    .unwrap();
    let tp = TopicPartition::new(&topic, 0);
    consumer.assign([&tp]).unwrap();
    assert!(consumer.drain_events().is_empty());

    let mut offsets = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while offsets.last() != Some(&19) && Instant::now() < deadline {
        for r in consumer.poll(Duration::from_millis(500)).await.unwrap() {
            offsets.push(r.offset);
        }
    }
    assert_eq!(offsets, (15..20).collect::<Vec<i64>>());
    let events = consumer.drain_events();
    assert!(
        matches!(
            &events[..],
            [ConsumerEvent::SkippedAhead { partition, from: 0, to: 15, high_watermark: 20 }]
                if *partition == tp
        ),
        "{events:?}"
    );
    assert!(consumer.drain_events().is_empty(), "drained");
}

#[tokio::test]
async fn a_refused_auto_commit_is_reported_by_drain_events() {
    let (t, topic, client) = broker_with_topic("auto-commit-refused", 1).await;
    produce(&client, &topic, 0, &numbered("r", 3)).await;
    let group = t.group("auto-commit-refused");
    // A live member owns the group, so a commit from outside it (generation -1) is refused.
    let mut member = Consumer::new(
        ConsumerConfig::builder(&t.addr())
            .group_id(&group)
            .enable_auto_commit(false)
            .build()
            .unwrap(),
    )
    .unwrap();
    member.subscribe(&topic).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while member.assignment().is_empty() && Instant::now() < deadline {
        member.poll(Duration::from_millis(200)).await.unwrap();
    }
    assert!(!member.assignment().is_empty(), "the member joined");

    let mut outsider = Consumer::new(
        ConsumerConfig::builder(&t.addr())
            .group_id(&group)
            .enable_auto_commit(true)
            .auto_commit_interval(Duration::from_millis(200))
            .auto_offset_reset(AutoOffsetReset::Earliest)
            .build()
            .unwrap(),
    )
    .unwrap();
    outsider.assign([TopicPartition::new(&topic, 0)]).unwrap();
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while events.is_empty() && Instant::now() < deadline {
        outsider.poll(Duration::from_millis(200)).await.unwrap();
        member.poll(Duration::from_millis(10)).await.unwrap(); // keeps the member in the group
        events = outsider.drain_events();
    }
    assert!(
        matches!(
            &events[..],
            [ConsumerEvent::AutoCommitFailed { offsets, .. }, ..]
                if offsets == &[(TopicPartition::new(&topic, 0), 3)]
        ),
        "{events:?}"
    );
    member.close().await.unwrap();
}

#[tokio::test]
async fn a_manual_assignment_auto_commits_every_interval_not_only_on_close() {
    let (t, topic, client) = broker_with_topic("assign-auto-commit", 1).await;
    produce(&client, &topic, 0, &numbered("c", 3)).await;
    let group = t.group("assign-auto-commit");
    let config = |auto: bool| {
        ConsumerConfig::builder(&t.addr())
            .group_id(&group)
            .enable_auto_commit(auto)
            .auto_commit_interval(Duration::from_millis(200))
            .auto_offset_reset(AutoOffsetReset::Earliest)
            .build()
            .unwrap()
    };
    let tp = TopicPartition::new(&topic, 0);
    let mut consumer = Consumer::new(config(true)).unwrap();
    consumer.assign([&tp]).unwrap();
    let mut reader = Consumer::new(config(false)).unwrap();
    let mut committed = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    while committed != Some(3) && Instant::now() < deadline {
        consumer.poll(Duration::from_millis(200)).await.unwrap();
        committed = reader.committed([&tp]).await.unwrap().get(&tp).copied();
    }
    // Read while the consumer is still open: the interval committed it, not close.
    assert_eq!(committed, Some(3));
    assert!(consumer.drain_events().is_empty());
    consumer.close().await.unwrap();
}
