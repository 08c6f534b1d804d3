//! Incremental fetch sessions (KIP-227) against Apache Kafka: rafka's sans-IO [`Fetcher`] is
//! driven request by request on the shared cluster, so that both sides of the session are seen.
//! (Tansu opens no sessions, answering id 0, so this runs on Kafka only; the fetcher's unit
//! tests cover the state machine against scripted answers.)

use std::time::{Duration, Instant};

use kafka_protocol::messages::FetchRequest;
use rafka::client::{Client, ClientConfig};
use rafka::consumer::fetcher::{FetchSettings, Fetcher};
use rafka::consumer::subscription::SubscriptionState;
use rafka::consumer::{AutoOffsetReset, IsolationLevel};
use rafka::wire::TopicPartition;
use rafka_integration::TestTarget;

mod consumer_common;

fn settings() -> FetchSettings {
    FetchSettings {
        min_bytes: 1,
        max_wait: Duration::from_millis(200),
        max_bytes: 50 << 20,
        partition_max_bytes: 1 << 20,
        isolation: IsolationLevel::ReadUncommitted,
        rack: String::new(),
        max_buffered_bytes: 64 << 20,
        auto_offset_reset: AutoOffsetReset::Earliest,
        max_lag: None,
        retry_backoff: Duration::from_millis(100),
    }
}

/// Sends the fetcher's next request to `broker` and hands it the answer; returns the request.
async fn round(
    client: &Client,
    fetcher: &mut Fetcher,
    subs: &mut SubscriptionState,
    broker: i32,
) -> (FetchRequest, usize) {
    let request = fetcher
        .next_request(broker, subs, &|_| Some(broker), true, Instant::now())
        .expect("a fetch to send");
    let response = client
        .send_to_broker(broker, request.clone())
        .await
        .expect("fetch");
    let answered = response.responses.iter().map(|t| t.partitions.len()).sum();
    fetcher.handle_response(broker, response, subs, Instant::now());
    (request, answered)
}

/// The partitions a request names, with their fetch offsets.
fn named(req: &FetchRequest) -> Vec<(String, i32, i64)> {
    req.topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(move |p| (t.topic.0.to_string(), p.partition, p.fetch_offset))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_opens_a_session_and_answers_incrementally() {
    let t = TestTarget::start().unwrap();
    if !t.is_kafka() {
        eprintln!("Kafka only: Tansu opens no fetch sessions");
        return;
    }
    let topic = t.topic("fetch-session");
    t.create_topic(&topic, 1).unwrap();
    let client = Client::connect(ClientConfig::new(&t.addr())).await.unwrap();
    let leader = client.leader_for(&topic, 0).await.unwrap();
    // A second partition on the same leader makes "only the partitions with news" visible.
    let other = t.topic("fetch-session-b");
    t.create_topic(&other, 3).unwrap();
    let mut other_p = None;
    for p in 0..3 {
        if client.leader_for(&other, p).await.unwrap() == leader {
            other_p = Some(p);
        }
    }
    let other_tp = TopicPartition::new(other.as_str(), other_p.expect("a partition led there"));
    let tp = TopicPartition::new(topic.as_str(), 0);
    consumer_common::produce(&client, &topic, 0, &["a".into(), "b".into()]).await;

    let mut subs = SubscriptionState::new();
    subs.assign([tp.clone(), other_tp.clone()]);
    subs.seek(&tp, 0);
    subs.seek(&other_tp, 0);
    let mut fetcher = Fetcher::new(settings());

    // 1. A full fetch opens the session: epoch 0, every partition named; Kafka answers a
    //    non-zero session id and both partitions.
    let (req, answered) = round(&client, &mut fetcher, &mut subs, leader).await;
    assert_eq!((req.session_id, req.session_epoch), (0, 0));
    assert_eq!(
        req.topics.iter().map(|t| t.partitions.len()).sum::<usize>(),
        2
    );
    assert_eq!(answered, 2);
    assert_eq!(
        subs.position(&tp),
        Some(0),
        "records buffered, not yet polled"
    );

    // 2. The next request is incremental in that session (epoch 1) and names only what
    //    changed: `tp`, whose fetch position moved past the two records; Kafka has nothing new.
    let (req, answered) = round(&client, &mut fetcher, &mut subs, leader).await;
    let session = req.session_id;
    assert_ne!(session, 0, "Kafka opened a session");
    assert_eq!(req.session_epoch, 1);
    assert_eq!(named(&req), vec![(topic.clone(), 0, 2)]);
    assert_eq!(answered, 0, "no news");

    // 3. A record lands on the other partition: the request names nothing, and only that
    //    partition comes back, with the record.
    consumer_common::produce(&client, &other, other_tp.partition, &["c".into()]).await;
    let (req, answered) = round(&client, &mut fetcher, &mut subs, leader).await;
    assert_eq!((req.session_id, req.session_epoch), (session, 2));
    assert_eq!(named(&req), vec![]);
    assert_eq!(answered, 1, "only the partition with a new record");
    let mut out = Vec::new();
    fetcher.buffer.drain(&mut subs, 100, false, &mut out);
    let got: Vec<(TopicPartition, i64)> = out
        .iter()
        .map(|r| (r.topic_partition(), r.offset))
        .collect();
    assert_eq!(
        got,
        vec![(tp.clone(), 0), (tp.clone(), 1), (other_tp.clone(), 0)]
    );

    // 4. Unassigning a partition forgets it in the session.
    subs.assign([tp.clone()]);
    let (req, _) = round(&client, &mut fetcher, &mut subs, leader).await;
    assert_eq!((req.session_id, req.session_epoch), (session, 3));
    assert_eq!(named(&req), vec![], "tp unchanged at 2");
    let forgotten: Vec<(String, Vec<i32>)> = req
        .forgotten_topics_data
        .iter()
        .map(|f| (f.topic.0.to_string(), f.partitions.clone()))
        .collect();
    assert_eq!(forgotten, vec![(other.clone(), vec![other_tp.partition])]);
}
