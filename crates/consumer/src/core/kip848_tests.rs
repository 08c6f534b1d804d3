//! The consumer core with a KIP-848 member (`group.protocol=consumer`) against a scripted
//! coordinator, on simulated time: the order of a reconciliation as Java's
//! `AbstractMembershipManager` runs it — the commit of what was consumed, then
//! `onPartitionsRevoked`, then `onPartitionsAssigned`, and only then the heartbeat that
//! acknowledges the new assignment.

use kafka_protocol::messages::consumer_group_heartbeat_response::{
    Assignment as HeartbeatAssignment, ConsumerGroupHeartbeatResponse, TopicPartitions,
};
use kafka_protocol::messages::{BrokerId, FindCoordinatorResponse};
use rafka_group::consumer_membership::{ConsumerGroupConfig, ConsumerHeartbeatParams};
use rafka_group::{ConsumerMember, GroupRequest};
use rafka_wire::error_code::{BrokerError, ErrorCode};

use super::tests::{core_config, offsets, sb, tp, Sim, NONE, SEC};
use super::*;

const MEMBER: &str = "AAAAAAAAAAAAAAAAAAAAAA";
const T: TopicId = TopicId(0x7);
const GROUP_AUTHORIZATION_FAILED: i16 = 30;

fn kip848_member(auto_commit: bool) -> Box<dyn GroupMember> {
    let mut c = ConsumerGroupConfig::new("g");
    c.auto_commit = auto_commit;
    Box::new(ConsumerMember::new(c, MEMBER).unwrap())
}

/// A ConsumerGroupHeartbeat answer: `epoch`, 5 s interval, and `partitions` of topic `t` as
/// the target assignment when given.
fn answer(epoch: i32, partitions: Option<&[i32]>) -> GroupResponse {
    let mut r = ConsumerGroupHeartbeatResponse::default();
    r.error_code = NONE;
    r.member_id = Some(sb(MEMBER));
    r.member_epoch = epoch;
    r.heartbeat_interval_ms = 5_000;
    r.assignment = partitions.map(|p| {
        let mut t = TopicPartitions::default();
        t.topic_id = T.to_uuid();
        t.partitions = p.to_vec();
        let mut a = HeartbeatAssignment::default();
        a.topic_partitions = vec![t];
        a
    });
    GroupResponse::ConsumerGroupHeartbeat(r)
}

impl Sim {
    fn kip848_heartbeat(&mut self) -> (OutgoingRequest, ConsumerHeartbeatParams) {
        let req = self.group_request();
        match &req.request {
            GroupRequest::ConsumerGroupHeartbeat(p) => {
                let p = p.clone();
                (req, p)
            }
            other => panic!("expected a ConsumerGroupHeartbeat, got {other:?}"),
        }
    }

    /// Subscribes to `t` (two partitions, topic id `T`), finds the coordinator and sends
    /// the join heartbeat; returns it.
    fn kip848_join(&mut self, member: Box<dyn GroupMember>) -> OutgoingRequest {
        self.core.subscribe(
            Some(member),
            TopicSelector::Topics(vec!["t".into()]),
            self.now,
        );
        let id = match self.transmit() {
            Transmit::Metadata { id, .. } => id,
            other => panic!("expected metadata, got {other:?}"),
        };
        self.core.handle_metadata(
            id,
            Some(TopicsMetadata {
                partition_counts: BTreeMap::from([("t".into(), 2)]),
                topic_ids: BTreeMap::from([(T, "t".into())]),
            }),
            self.now,
        );
        assert!(matches!(self.event(), CoreEvent::Subscribed(_)));
        let find = self.group_request();
        assert!(matches!(find.request, GroupRequest::FindCoordinator(_)));
        let mut r = FindCoordinatorResponse::default();
        r.node_id = BrokerId(1);
        r.host = sb("broker");
        r.port = 9092;
        self.answer(&find, GroupResponse::FindCoordinator(r));
        let (join, p) = self.kip848_heartbeat();
        assert_eq!(p.member_epoch, 0);
        join
    }

    fn assigned(&mut self) -> (Vec<TopicPartition>, Vec<TopicPartition>) {
        match self.event() {
            CoreEvent::Assigned {
                assignment, added, ..
            } => (assignment, added),
            other => panic!("expected Assigned, got {other:?}"),
        }
    }

    fn commit_before_reconcile_asked(&mut self) -> Vec<TopicPartition> {
        match self.event() {
            CoreEvent::CommitBeforeReconcile { revoking } => revoking,
            other => panic!("expected CommitBeforeReconcile, got {other:?}"),
        }
    }

    /// Joins with auto-commit on and owns `t-0`, `t-1` in epoch 1 (acknowledged).
    fn kip848_stable(&mut self) {
        let join = self.kip848_join(kip848_member(true));
        self.answer(&join, answer(1, Some(&[0, 1])));
        assert_eq!(self.commit_before_reconcile_asked(), []);
        self.idle();
        self.core.commit_before_reconcile(Vec::new(), self.now);
        let (assignment, added) = self.assigned();
        assert_eq!(assignment, [tp("t", 0), tp("t", 1)]);
        assert_eq!(added, assignment);
        self.core.ack_assigned(self.now);
        let (ack, p) = self.kip848_heartbeat();
        assert_eq!(p.topic_partitions, Some(vec![(T, vec![0, 1])]));
        self.answer(&ack, answer(1, None));
        self.idle();
    }

    /// The next heartbeat (after the interval) gets `epoch` and target `partitions`.
    fn kip848_new_target(&mut self, epoch: i32, partitions: &[i32]) {
        self.advance(5 * SEC);
        let (hb, _) = self.kip848_heartbeat();
        self.answer(&hb, answer(epoch, Some(partitions)));
    }
}

/// Java's `ConsumerMembershipManager.signalReconciliationStarted` commits all consumed
/// offsets and waits for the commit before `onPartitionsRevoked` runs; the hook comes only
/// after the commit's answer, and the commit carries the new member epoch.
#[test]
fn kip848_commits_consumed_offsets_before_the_revoke_hook() {
    let mut s = Sim::new(core_config());
    s.kip848_stable();

    // The broker moves t-0 away in epoch 2.
    s.kip848_new_target(2, &[1]);
    assert_eq!(s.commit_before_reconcile_asked(), [tp("t", 0)]);
    s.idle();

    s.core
        .commit_before_reconcile(offsets(&[(tp("t", 0), 5), (tp("t", 1), 7)]), s.now);
    let (id, identity) = match s.transmit() {
        Transmit::Commit {
            id,
            identity,
            offsets,
        } => {
            assert_eq!(offsets.len(), 2);
            (id, identity)
        }
        other => panic!("expected the commit, got {other:?}"),
    };
    assert_eq!(
        (identity.generation, identity.member_id.as_str()),
        (2, MEMBER)
    );
    // No revoke hook while the commit is out.
    s.idle();

    s.core.handle_commit_response(id, Ok(()), s.now);
    assert!(matches!(s.commit_done(), (done, Ok(())) if done == id));
    match s.event() {
        CoreEvent::Revoke { partitions } => assert_eq!(partitions, [tp("t", 0)]),
        other => panic!("expected Revoke, got {other:?}"),
    }
    s.idle();
    s.core.ack_revoked(s.now);
    assert_eq!(s.assigned(), (vec![tp("t", 1)], vec![]));
    s.core.ack_assigned(s.now);
    let (_, p) = s.kip848_heartbeat();
    assert_eq!(
        (p.member_epoch, p.topic_partitions),
        (2, Some(vec![(T, vec![1])]))
    );
}

/// A commit before reconciling that fails for good does not hold the reconciliation up
/// (Java logs it and proceeds with the revocation).
#[test]
fn kip848_a_failed_commit_before_reconciling_still_revokes() {
    let mut s = Sim::new(core_config());
    s.kip848_stable();
    s.kip848_new_target(2, &[1]);
    assert_eq!(s.commit_before_reconcile_asked(), [tp("t", 0)]);
    s.core
        .commit_before_reconcile(offsets(&[(tp("t", 0), 5)]), s.now);
    let id = match s.transmit() {
        Transmit::Commit { id, .. } => id,
        other => panic!("expected the commit, got {other:?}"),
    };
    let refused = ConsumerError::Broker {
        api: "OffsetCommit",
        partition: None,
        error: BrokerError::new(ErrorCode(GROUP_AUTHORIZATION_FAILED)),
    };
    s.core.handle_commit_response(id, Err(refused), s.now);
    assert!(matches!(s.commit_done(), (done, Err(_)) if done == id));
    assert!(matches!(s.event(), CoreEvent::Revoke { partitions } if partitions == [tp("t", 0)]));
}

/// The member acknowledges a new assignment (the heartbeat with its owned partitions) only
/// once the assign hook has finished, as Java moves to ACKNOWLEDGING when the
/// `onPartitionsAssigned` future completes. Heartbeats go on meanwhile, without the
/// partitions.
#[test]
fn kip848_acknowledges_an_assignment_after_the_assign_hook() {
    let mut s = Sim::new(core_config());
    let join = s.kip848_join(kip848_member(false));
    s.answer(&join, answer(1, Some(&[0, 1])));
    let (assignment, _) = s.assigned();
    assert_eq!(assignment, [tp("t", 0), tp("t", 1)]);
    // The hook runs (the application's next poll): nothing is acknowledged yet.
    s.idle();
    s.advance(SEC);
    s.idle();
    // The interval's heartbeat goes, still without the new partitions.
    s.advance(4 * SEC);
    let (hb, p) = s.kip848_heartbeat();
    assert_eq!(p.topic_partitions, None, "{p:?}");
    s.answer(&hb, answer(1, None));
    s.idle();

    s.core.ack_assigned(s.now);
    let (_, p) = s.kip848_heartbeat();
    assert_eq!(
        (p.member_epoch, p.topic_partitions),
        (1, Some(vec![(T, vec![0, 1])]))
    );
}
