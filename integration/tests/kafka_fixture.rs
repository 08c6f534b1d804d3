//! The Apache Kafka fixture itself: a private 3-node cluster whose partition leader is SIGKILLed
//! and restarted, with leadership and ISR followed through Metadata.

use std::time::Duration;

use rafka_integration::{unique_name, KafkaCluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_killed_and_restarted_moves_leadership_and_rejoins_the_isr() {
    let cluster = KafkaCluster::start(3).expect("start a 3-node Kafka cluster");
    cluster
        .wait_for_brokers(&[1, 2, 3], Duration::from_secs(30))
        .await
        .unwrap();
    let topic = unique_name("fixture");
    cluster.create_topic(&topic, 1, 3, 2).await.unwrap();
    let (leader, isr) = cluster.partition_state(&topic, 0).await.unwrap();
    let leader = leader.expect("a leader");
    assert_eq!(isr.len(), 3, "full ISR after creation: {isr:?}");

    cluster.kill(leader).unwrap();
    let (new_leader, isr) = cluster
        .wait_for_partition(&topic, 0, Duration::from_secs(60), |l, isr| {
            l.is_some_and(|l| l != leader) && !isr.contains(&leader)
        })
        .await
        .unwrap();
    assert_ne!(new_leader, Some(leader));
    assert_eq!(isr.len(), 2, "the killed node left the ISR: {isr:?}");

    cluster.restart(leader).unwrap();
    cluster
        .wait_for_brokers(&[1, 2, 3], Duration::from_secs(90))
        .await
        .unwrap();
    let (_, isr) = cluster
        .wait_for_partition(&topic, 0, Duration::from_secs(90), |_, isr| {
            isr.contains(&leader)
        })
        .await
        .unwrap();
    assert_eq!(isr.len(), 3, "the restarted node caught up: {isr:?}");
}
