//! `ConsumerMember`: the KIP-848 machine as the consumer drives it, through the `GroupMember`
//! interface, on simulated time with hand-built responses. What the adapter adds is checked:
//! requests and events in the interface's types, topic ids resolved from metadata, the member
//! epoch in the generation commits carry, a reconciliation in Java's order (the commit before
//! it, then the hooks, and the acknowledgement only after the assign hook), fencing, failures
//! by kind, and the static leave epoch.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use kafka_protocol::messages::consumer_group_heartbeat_response::{
    Assignment, ConsumerGroupHeartbeatResponse, TopicPartitions,
};
use kafka_protocol::messages::find_coordinator_response::FindCoordinatorResponse;
use kafka_protocol::messages::BrokerId;
use kafka_protocol::protocol::StrBytes;
use rafka_group::consumer_membership::{ConsumerGroupConfig, RequestFailure, TopicId};
use rafka_group::{
    Action, ConsumerMember, Event, GroupError, GroupMember, GroupRequest, GroupResponse, RequestId,
};
use rafka_wire::TopicPartition;

const MEMBER: &str = "AAAAAAAAAAAAAAAAAAAAAA";
const ORDERS: TopicId = TopicId(0x1111);

/// A member without auto-commit (no commit before reconciling; see
/// `a_reconciliation_commits_then_runs_the_hooks_then_acknowledges`).
fn member(instance: Option<&str>) -> ConsumerMember {
    let mut config = ConsumerGroupConfig::new("g");
    config.group_instance_id = instance.map(str::to_owned);
    config.auto_commit = false;
    ConsumerMember::new(config, MEMBER).unwrap()
}

/// Requests among `actions`.
fn sends(actions: &[Action]) -> usize {
    actions
        .iter()
        .filter(|a| matches!(a, Action::Send(_)))
        .count()
}

fn drain(m: &mut ConsumerMember) -> Vec<Action> {
    std::iter::from_fn(|| m.poll_action()).collect()
}

fn find_ok() -> GroupResponse {
    let mut r = FindCoordinatorResponse::default();
    r.node_id = BrokerId(1);
    r.host = StrBytes::from_static_str("b1");
    r.port = 9092;
    GroupResponse::FindCoordinator(r)
}

fn heartbeat(epoch: i32, error: i16, partitions: Option<&[i32]>) -> GroupResponse {
    let mut r = ConsumerGroupHeartbeatResponse::default();
    r.error_code = error;
    r.member_id = Some(StrBytes::from_static_str(MEMBER));
    r.member_epoch = epoch;
    r.heartbeat_interval_ms = 5_000;
    r.assignment = partitions.map(|p| {
        let mut t = TopicPartitions::default();
        t.topic_id = ORDERS.to_uuid();
        t.partitions = p.to_vec();
        let mut a = Assignment::default();
        a.topic_partitions = vec![t];
        a
    });
    GroupResponse::ConsumerGroupHeartbeat(r)
}

/// The only request among `actions`, which must be a heartbeat: its id and epoch.
fn sent_heartbeat(actions: &[Action]) -> (RequestId, i32, Option<Vec<i32>>) {
    let sent: Vec<_> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1, "{actions:?}");
    match &sent[0].request {
        GroupRequest::ConsumerGroupHeartbeat(p) => (
            sent[0].id,
            p.member_epoch,
            p.topic_partitions
                .as_ref()
                .map(|t| t.iter().flat_map(|(_, p)| p.clone()).collect()),
        ),
        other => panic!("expected a heartbeat, got {other:?}"),
    }
}

fn events(actions: &[Action]) -> Vec<Event> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Subscribes, joins, finds the coordinator: returns the join heartbeat's id.
fn joined(m: &mut ConsumerMember, now: Instant) -> RequestId {
    m.set_subscription(vec!["orders".into()], now);
    assert_eq!(
        m.subscribed_topics(),
        &BTreeSet::from(["orders".to_owned()])
    );
    m.join(now);
    let find = match &drain(m)[..] {
        [Action::Send(r)] => {
            assert!(matches!(r.request, GroupRequest::FindCoordinator(_)));
            r.id
        }
        other => panic!("{other:?}"),
    };
    m.handle_response(find, &find_ok(), now);
    let (id, epoch, _) = sent_heartbeat(&drain(m));
    assert_eq!(epoch, 0, "joins with epoch 0");
    id
}

#[test]
fn assignment_by_topic_id_becomes_named_partitions_with_the_epoch_as_generation() {
    let now = Instant::now();
    let mut m = member(None);
    assert_eq!(m.group_metadata().generation_id, -1);
    let join = joined(&mut m, now);

    // The broker assigns partitions of a topic id the metadata has not named yet.
    m.handle_response(join, &heartbeat(3, 0, Some(&[0, 1])), now);
    let actions = drain(&mut m);
    assert!(
        events(&actions)
            .iter()
            .any(|e| matches!(e, Event::MetadataNeeded { .. })),
        "{actions:?}"
    );
    // Nothing of the unresolved topic is handed out yet.
    assert!(!events(&actions).iter().any(
        |e| matches!(e, Event::PartitionsAssigned { assignment, .. } if !assignment.is_empty())
    ));

    // The resolvable part (nothing) is handed out and, once its hook ran, acknowledged;
    // the broker answers that heartbeat.
    assert_eq!(sends(&actions), 0, "{actions:?}");
    m.ack_assigned(now);
    let (partial, _, owned) = sent_heartbeat(&drain(&mut m));
    assert_eq!(owned, Some(vec![]));
    m.handle_response(partial, &heartbeat(3, 0, None), now);
    drain(&mut m);

    m.topic_ids_changed(BTreeMap::from([(ORDERS, "orders".to_owned())]), now);
    let actions = drain(&mut m);
    let assigned = events(&actions)
        .into_iter()
        .find_map(|e| match e {
            Event::PartitionsAssigned {
                partitions,
                assignment,
                generation,
            } => Some((partitions, assignment, generation)),
            _ => None,
        })
        .expect("assigned");
    let expected = vec![
        TopicPartition::new("orders", 0),
        TopicPartition::new("orders", 1),
    ];
    assert_eq!(assigned.0, expected);
    assert_eq!(assigned.1, expected);
    assert_eq!(assigned.2.generation_id, 3);
    assert_eq!(assigned.2.member_id, MEMBER);
    // Nothing is acknowledged while the assign hook runs; once it ran, the acknowledgement
    // heartbeat (the owned partitions) goes at once.
    assert_eq!(sends(&actions), 0, "{actions:?}");
    m.ack_assigned(now);
    let (_, epoch, owned) = sent_heartbeat(&drain(&mut m));
    assert_eq!(epoch, 3);
    assert_eq!(owned, Some(vec![0, 1]));
    // Commits carry the member epoch.
    let meta = m.group_metadata();
    assert_eq!((meta.generation_id, meta.member_id.as_str()), (3, MEMBER));
    assert_eq!(m.generation().unwrap().generation_id, 3);
}

#[test]
fn fenced_member_loses_its_partitions_and_rejoins_with_epoch_zero() {
    let now = Instant::now();
    let mut m = member(None);
    let join = joined(&mut m, now);
    m.topic_ids_changed(BTreeMap::from([(ORDERS, "orders".to_owned())]), now);
    m.handle_response(join, &heartbeat(5, 0, Some(&[0])), now);
    drain(&mut m);
    m.ack_assigned(now);
    let (ack, _, _) = sent_heartbeat(&drain(&mut m));

    const FENCED_MEMBER_EPOCH: i16 = 110;
    m.handle_response(ack, &heartbeat(0, FENCED_MEMBER_EPOCH, None), now);
    let actions = drain(&mut m);
    assert_eq!(
        events(&actions),
        [Event::PartitionsLost {
            partitions: vec![TopicPartition::new("orders", 0)]
        }]
    );
    // Commits are refused until the member has an epoch again.
    assert_eq!(m.group_metadata().generation_id, -1);
    assert!(!m.generation().unwrap().is_valid());

    m.ack_revoked(now);
    let (_, epoch, _) = sent_heartbeat(&drain(&mut m));
    assert_eq!(epoch, 0, "rejoins with epoch 0");
}

#[test]
fn an_unsupported_version_is_fatal_and_a_lost_connection_is_retried() {
    let now = Instant::now();
    let mut m = member(None);
    let join = joined(&mut m, now);
    m.handle_request_failure(join, RequestFailure::Disconnected, now);
    let actions = drain(&mut m);
    assert!(!events(&actions)
        .iter()
        .any(|e| matches!(e, Event::Fatal(_))));
    // Rediscovers the coordinator, then sends the join again.
    let find = match actions.iter().find_map(|a| match a {
        Action::Send(r) if matches!(r.request, GroupRequest::FindCoordinator(_)) => Some(r.id),
        _ => None,
    }) {
        Some(id) => id,
        None => panic!("no FindCoordinator after a disconnect: {actions:?}"),
    };
    let later = now + Duration::from_secs(1);
    m.handle_response(find, &find_ok(), later);
    m.handle_timeout(later);
    let (join, epoch, _) = sent_heartbeat(&drain(&mut m));
    assert_eq!(epoch, 0);

    m.handle_request_failure(join, RequestFailure::UnsupportedVersion, later);
    let fatal = events(&drain(&mut m))
        .into_iter()
        .find_map(|e| match e {
            Event::Fatal(e) => Some(e),
            _ => None,
        })
        .expect("fatal");
    assert!(matches!(fatal, GroupError::ConsumerGroup(_)));
    assert!(
        fatal.to_string().contains("group.protocol=classic"),
        "{fatal}"
    );
}

#[test]
fn a_static_member_leaves_with_epoch_minus_two() {
    let now = Instant::now();
    let mut m = member(Some("instance-1"));
    let join = joined(&mut m, now);
    m.handle_response(join, &heartbeat(2, 0, Some(&[])), now);
    drain(&mut m);
    m.leave(now);
    let actions = drain(&mut m);
    let (leave, epoch, _) = sent_heartbeat(&actions);
    assert_eq!(epoch, -2);
    m.handle_response(leave, &heartbeat(-2, 0, None), now);
    assert_eq!(events(&drain(&mut m)), [Event::Left]);
}

#[test]
fn commit_errors_do_not_touch_membership() {
    let now = Instant::now();
    let mut m = member(None);
    let join = joined(&mut m, now);
    m.handle_response(join, &heartbeat(4, 0, Some(&[])), now);
    drain(&mut m);
    let sent = m.generation().unwrap().clone();
    const STALE_MEMBER_EPOCH: i16 = 113;
    const UNKNOWN_MEMBER_ID: i16 = 25;
    for code in [STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID] {
        let e = m.handle_commit_error(&sent, code, now);
        assert!(
            matches!(e, GroupError::CommitFailed { .. }),
            "{code}: {e:?}"
        );
        assert_eq!(m.group_metadata().generation_id, 4, "{code}");
        assert!(drain(&mut m).is_empty(), "{code}");
    }
}

/// With auto-commit, a reconciliation goes as Java's `AbstractMembershipManager` runs it: the
/// commit first (`CommitBeforeReconcile` until `commit_done`), then the revoke hook, then the
/// assign hook, and the acknowledgement heartbeat only after `ack_assigned`.
#[test]
fn a_reconciliation_commits_then_runs_the_hooks_then_acknowledges() {
    let now = Instant::now();
    let mut config = ConsumerGroupConfig::new("g");
    config.auto_commit = true;
    let mut m = ConsumerMember::new(config, MEMBER).unwrap();
    let join = joined(&mut m, now);
    m.topic_ids_changed(BTreeMap::from([(ORDERS, "orders".to_owned())]), now);
    m.handle_response(join, &heartbeat(1, 0, Some(&[0, 1])), now);
    assert_eq!(
        events(&drain(&mut m)),
        [Event::CommitBeforeReconcile { revoking: vec![] }]
    );
    m.commit_done(now);
    let actions = drain(&mut m);
    assert!(matches!(
        &events(&actions)[..],
        [Event::PartitionsAssigned { partitions, .. }] if partitions.len() == 2
    ));
    assert_eq!(sends(&actions), 0, "{actions:?}");
    m.ack_assigned(now);
    let (ack, _, owned) = sent_heartbeat(&drain(&mut m));
    assert_eq!(owned, Some(vec![0, 1]));
    m.handle_response(ack, &heartbeat(1, 0, None), now);
    drain(&mut m);

    // Epoch 2 takes orders-0 away: commit, then revoke, then assign, then acknowledge.
    let later = now + Duration::from_secs(5);
    m.handle_timeout(later);
    let (hb, _, _) = sent_heartbeat(&drain(&mut m));
    m.handle_response(hb, &heartbeat(2, 0, Some(&[1])), later);
    let orders = |p| TopicPartition::new("orders", p);
    assert_eq!(
        events(&drain(&mut m)),
        [Event::CommitBeforeReconcile {
            revoking: vec![orders(0)]
        }]
    );
    m.commit_done(later);
    assert!(matches!(
        &events(&drain(&mut m))[..],
        [Event::PartitionsRevoked { partitions, generation }]
            if partitions == &[orders(0)] && generation.generation_id == 2
    ));
    m.ack_revoked(later);
    let actions = drain(&mut m);
    assert!(matches!(
        &events(&actions)[..],
        [Event::PartitionsAssigned { partitions, assignment, .. }]
            if partitions.is_empty() && assignment == &[orders(1)]
    ));
    assert_eq!(sends(&actions), 0, "{actions:?}");
    m.ack_assigned(later);
    let (_, epoch, owned) = sent_heartbeat(&drain(&mut m));
    assert_eq!((epoch, owned), (2, Some(vec![1])));
}
