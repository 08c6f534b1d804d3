//! The consumer core against a scripted group coordinator, on simulated time: one thread, no
//! sockets, every response built by hand. Each test steps the clock explicitly and asserts
//! the exact requests and events that follow.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{
    BrokerId, FindCoordinatorResponse, HeartbeatResponse, JoinGroupResponse, SyncGroupResponse,
};
use kafka_protocol::protocol::StrBytes;
use rafka_group::{Assignment, GroupConfig, GroupRequest, Membership, RangeAssignor};
use rafka_wire::error_code::{BrokerError, ErrorCode};

use super::*;

pub(super) const SEC: Duration = Duration::from_secs(1);
pub(super) const NONE: i16 = 0;
const REBALANCE_IN_PROGRESS: i16 = 27;

pub(super) fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_owned())
}

pub(super) fn tp(t: &str, p: i32) -> TopicPartition {
    TopicPartition::new(t, p)
}

pub(super) fn core_config() -> CoreConfig {
    CoreConfig {
        group_id: Some("g".into()),
        group_instance_id: None,
        kafka_commits: true,
        auto_commit_interval: None,
        commit_timeout: 60 * SEC,
        retry_backoff: Duration::from_millis(100),
        retry_backoff_max: SEC,
        metadata_max_age: 300 * SEC,
        max_poll_interval: 300 * SEC,
    }
}

/// The classic member: range assignor, 10 s session, 3 s heartbeats, 300 s poll interval.
fn member() -> Box<dyn GroupMember> {
    member_with(300 * SEC)
}

fn member_with(max_poll_interval: Duration) -> Box<dyn GroupMember> {
    let mut c = GroupConfig::new("g");
    c.rebalance_timeout = max_poll_interval;
    c.assignors = vec![Arc::new(RangeAssignor)];
    c.session_timeout = 10 * SEC;
    Box::new(Membership::new(c).unwrap())
}

pub(super) fn offsets(list: &[(TopicPartition, i64)]) -> Vec<OffsetToCommit> {
    list.iter()
        .map(|(tp, o)| OffsetToCommit {
            tp: tp.clone(),
            offset: *o,
            leader_epoch: -1,
        })
        .collect()
}

pub(super) fn broker_error(code: i16) -> ConsumerError {
    ConsumerError::Broker {
        api: "OffsetCommit",
        partition: Some(tp("t", 0)),
        error: BrokerError::new(ErrorCode(code)),
    }
}

/// A core, the simulated clock, and what came out of the core not yet looked at.
pub(super) struct Sim {
    pub(super) core: ConsumerCore,
    pub(super) now: Instant,
    transmits: VecDeque<Transmit>,
    events: VecDeque<CoreEvent>,
}

impl Sim {
    pub(super) fn new(config: CoreConfig) -> Sim {
        let now = Instant::now();
        Sim {
            core: ConsumerCore::new(config, now),
            now,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub(super) fn pump(&mut self) {
        while let Some(t) = self.core.poll_transmit() {
            self.transmits.push_back(t);
        }
        while let Some(e) = self.core.poll_event() {
            self.events.push_back(e);
        }
    }

    pub(super) fn transmit(&mut self) -> Transmit {
        self.pump();
        self.transmits.pop_front().expect("a request to send")
    }

    pub(super) fn event(&mut self) -> CoreEvent {
        self.pump();
        self.events.pop_front().expect("an event")
    }

    pub(super) fn idle(&mut self) {
        self.pump();
        assert!(
            self.transmits.is_empty() && self.events.is_empty(),
            "expected nothing, got {:?} / {:?}",
            self.transmits,
            self.events
        );
    }

    /// Moves the clock by `d`, firing the core's timers.
    pub(super) fn advance(&mut self, d: Duration) {
        self.now += d;
        self.core.handle_timeout(self.now);
    }

    /// Moves the clock to the core's next deadline.
    pub(super) fn advance_to_deadline(&mut self) {
        let at = self.core.poll_timeout().expect("a deadline");
        self.now = self.now.max(at);
        self.core.handle_timeout(self.now);
    }

    pub(super) fn group_request(&mut self) -> OutgoingRequest {
        match self.transmit() {
            Transmit::Group(r) => r,
            other => panic!("expected a group request, got {other:?}"),
        }
    }

    pub(super) fn answer(&mut self, req: &OutgoingRequest, response: GroupResponse) {
        self.core.handle_group_response(req.id, &response, self.now);
    }

    /// The next commit request; heartbeats sent before it are answered.
    pub(super) fn commit_request(&mut self) -> (CommitId, CommitIdentity) {
        loop {
            match self.transmit() {
                Transmit::Commit { id, identity, .. } => return (id, identity),
                Transmit::Group(req) if matches!(req.request, GroupRequest::Heartbeat(_)) => {
                    self.answer_heartbeat(&req, NONE)
                }
                other => panic!("expected a commit, got {other:?}"),
            }
        }
    }

    pub(super) fn commit_done(&mut self) -> (CommitId, Result<(), ConsumerError>) {
        match self.event() {
            CoreEvent::CommitDone { id, result, .. } => (id, result),
            other => panic!("expected CommitDone, got {other:?}"),
        }
    }

    fn heartbeat(&mut self) -> OutgoingRequest {
        let req = self.group_request();
        assert!(matches!(req.request, GroupRequest::Heartbeat(_)), "{req:?}");
        req
    }

    fn answer_heartbeat(&mut self, req: &OutgoingRequest, code: i16) {
        let mut r = HeartbeatResponse::default();
        r.error_code = code;
        self.answer(req, GroupResponse::Heartbeat(r));
    }

    /// Subscribes to `t` (two partitions) and runs metadata, FindCoordinator, JoinGroup (as
    /// the only member and leader) and SyncGroup, up to the assignment of `t-0`, `t-1` in
    /// `generation`.
    fn stable(&mut self, generation: i32) {
        self.stable_with(generation, member());
    }

    fn stable_with(&mut self, generation: i32, member: Box<dyn GroupMember>) {
        self.core.subscribe(
            Some(member),
            TopicSelector::Topics(vec!["t".into()]),
            self.now,
        );
        // Partition counts first (a request in flight), then the member joins.
        let id = match self.transmit() {
            Transmit::Metadata { id, topics } => {
                assert_eq!(topics, Some(["t".to_string()].into()));
                id
            }
            other => panic!("expected metadata, got {other:?}"),
        };
        self.idle();
        self.core.handle_metadata(
            id,
            Some(TopicsMetadata {
                partition_counts: BTreeMap::from([("t".into(), 2)]),
                topic_ids: BTreeMap::new(),
            }),
            self.now,
        );
        assert!(matches!(self.event(), CoreEvent::Subscribed(t) if t == ["t"]));

        let find = self.group_request();
        assert!(matches!(find.request, GroupRequest::FindCoordinator(_)));
        let mut r = FindCoordinatorResponse::default();
        r.node_id = BrokerId(1);
        r.host = sb("broker");
        r.port = 9092;
        self.answer(&find, GroupResponse::FindCoordinator(r));

        let join = self.group_request();
        let GroupRequest::JoinGroup(p) = &join.request else {
            panic!("expected JoinGroup, got {join:?}");
        };
        let (protocol, metadata) = p.protocols[0].clone();
        let mut r = JoinGroupResponse::default();
        r.generation_id = generation;
        r.member_id = sb("m1");
        r.leader = sb("m1");
        r.protocol_type = Some(sb("consumer"));
        r.protocol_name = Some(sb(&protocol));
        let mut m = JoinGroupResponseMember::default();
        m.member_id = sb("m1");
        m.metadata = metadata;
        r.members = vec![m];
        self.answer(&join, GroupResponse::JoinGroup(r));

        let sync = self.group_request();
        assert!(matches!(sync.request, GroupRequest::SyncGroup(_)));
        let mut r = SyncGroupResponse::default();
        r.assignment = Assignment {
            partitions: vec![tp("t", 0), tp("t", 1)],
            user_data: None,
        }
        .encode(3)
        .unwrap();
        self.answer(&sync, GroupResponse::SyncGroup(r));
        match self.event() {
            CoreEvent::Assigned {
                assignment,
                added,
                generation: g,
                member_id,
            } => {
                assert_eq!(member_id, "m1");
                assert_eq!(assignment, [tp("t", 0), tp("t", 1)]);
                assert_eq!(added, assignment);
                assert_eq!(g, generation);
            }
            other => panic!("expected Assigned, got {other:?}"),
        }
        self.idle();
    }
}

#[test]
fn join_sync_assign() {
    let mut s = Sim::new(core_config());
    s.stable(1);
    let identity = s.core.identity();
    assert_eq!(identity.generation, 1);
    assert_eq!(identity.member_id, "m1");
    // Then heartbeats, every heartbeat.interval.ms.
    s.advance_to_deadline();
    let hb = s.heartbeat();
    s.answer_heartbeat(&hb, NONE);
    s.idle();
}

#[test]
fn revoke_during_rebalance_waits_for_the_hook_and_its_commit() {
    let mut s = Sim::new(core_config());
    s.stable(1);
    s.advance_to_deadline();
    let hb = s.heartbeat();
    s.answer_heartbeat(&hb, REBALANCE_IN_PROGRESS);
    match s.event() {
        CoreEvent::Revoke { partitions } => assert_eq!(partitions, [tp("t", 0), tp("t", 1)]),
        other => panic!("expected Revoke, got {other:?}"),
    }
    // No JoinGroup until the hook ran: the hook's commit still carries generation 1.
    s.idle();
    s.core
        .commit(offsets(&[(tp("t", 0), 5), (tp("t", 1), 7)]), s.now);
    let (id, identity) = s.commit_request();
    assert_eq!(
        (identity.generation, identity.member_id.as_str()),
        (1, "m1")
    );
    s.idle();
    s.core.handle_commit_response(id, Ok(()), s.now);
    assert!(matches!(s.commit_done(), (done, Ok(())) if done == id));
    s.idle();
    s.core.ack_revoked(s.now);
    let join = s.group_request();
    assert!(
        matches!(join.request, GroupRequest::JoinGroup(_)),
        "{join:?}"
    );
}

#[test]
fn fenced_commit_fails_and_the_member_rejoins() {
    for code in [ErrorCode::ILLEGAL_GENERATION, ErrorCode::UNKNOWN_MEMBER_ID] {
        let mut s = Sim::new(core_config());
        s.stable(1);
        s.core.commit(offsets(&[(tp("t", 0), 5)]), s.now);
        let (id, _) = s.commit_request();
        s.core
            .handle_commit_response(id, Err(ConsumerError::CommitFailed { code }), s.now);
        // Not retried: CommitFailed, and the partitions are lost (the generation is reset).
        let (done, result) = s.commit_done();
        assert_eq!(done, id);
        assert!(
            matches!(result, Err(ConsumerError::CommitFailed { code: c }) if c == code),
            "{result:?}"
        );
        match s.event() {
            CoreEvent::Lost { partitions } => assert_eq!(partitions, [tp("t", 0), tp("t", 1)]),
            other => panic!("expected Lost, got {other:?}"),
        }
        assert_eq!(s.core.identity().generation, -1);
        // A commit outside a generation fails at once, without a request.
        s.core.commit(offsets(&[(tp("t", 0), 6)]), s.now);
        assert!(matches!(
            s.commit_done(),
            (_, Err(ConsumerError::CommitFailed { .. }))
        ));
        s.core.ack_revoked(s.now);
        let join = s.group_request();
        assert!(
            matches!(join.request, GroupRequest::JoinGroup(_)),
            "{join:?}"
        );
    }
}

#[test]
fn rebalance_in_progress_on_commit_is_not_retried_and_keeps_the_generation() {
    let mut s = Sim::new(core_config());
    s.stable(1);
    s.core.commit(offsets(&[(tp("t", 0), 5)]), s.now);
    let (id, _) = s.commit_request();
    s.core.handle_commit_response(
        id,
        Err(ConsumerError::CommitFailed {
            code: ErrorCode::REBALANCE_IN_PROGRESS,
        }),
        s.now,
    );
    assert!(matches!(
        s.commit_done(),
        (_, Err(ConsumerError::CommitFailed { .. }))
    ));
    // Java: rejoin (eager: revoke first), generation kept.
    assert!(matches!(s.event(), CoreEvent::Revoke { .. }));
    assert_eq!(s.core.identity().generation, 1);
}

#[test]
fn retriable_commit_is_retried_after_the_backoff() {
    let mut s = Sim::new(core_config());
    s.stable(1);
    s.core.commit(offsets(&[(tp("t", 0), 5)]), s.now);
    let (id, _) = s.commit_request();
    s.core.handle_commit_response(
        id,
        Err(broker_error(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS.0)),
        s.now,
    );
    s.idle();
    assert_eq!(
        s.core.poll_timeout(),
        Some(s.now + Duration::from_millis(100))
    );
    s.advance(Duration::from_millis(100));
    let (again, _) = s.commit_request();
    assert_eq!(again, id);
    s.core.handle_commit_response(id, Ok(()), s.now);
    assert!(matches!(s.commit_done(), (done, Ok(())) if done == id));
    s.idle();
}

#[test]
fn commits_complete_in_the_order_they_were_made() {
    let mut s = Sim::new(core_config());
    s.stable(1);
    let first = s.core.commit(offsets(&[(tp("t", 0), 5)]), s.now);
    let second = s.core.commit(offsets(&[(tp("t", 0), 9)]), s.now);
    // One in flight at a time.
    let (id, _) = s.commit_request();
    assert_eq!(id, first);
    s.idle();
    s.core.handle_commit_response(first, Ok(()), s.now);
    assert_eq!(s.commit_done().0, first);
    let (id, _) = s.commit_request();
    assert_eq!(id, second);
    s.core.handle_commit_response(second, Ok(()), s.now);
    assert_eq!(s.commit_done().0, second);
}

#[test]
fn heartbeats_go_on_while_a_metadata_lookup_is_outstanding() {
    let mut config = core_config();
    config.metadata_max_age = 5 * SEC;
    let mut s = Sim::new(config);
    s.stable(1);
    // Heartbeats at 3 s; the metadata refresh at 5 s stays unanswered.
    let start = s.now;
    let mut metadata_sent = false;
    let mut heartbeats = 0;
    while s.now < start + 30 * SEC {
        s.advance_to_deadline();
        s.pump();
        while let Some(t) = s.transmits.pop_front() {
            match t {
                Transmit::Metadata { .. } => {
                    assert!(!metadata_sent, "one lookup at a time");
                    metadata_sent = true;
                }
                Transmit::Group(req) => {
                    assert!(matches!(req.request, GroupRequest::Heartbeat(_)), "{req:?}");
                    heartbeats += 1;
                    s.answer_heartbeat(&req, NONE);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(s.events.is_empty(), "{:?}", s.events);
    }
    assert!(metadata_sent);
    // 30 s of 3 s heartbeats, well past the 10 s session: still a member.
    assert!(heartbeats >= 9, "{heartbeats} heartbeats");
    assert_eq!(s.core.identity().generation, 1);
}

#[test]
fn session_timeout_loses_the_partitions() {
    let mut s = Sim::new(core_config());
    s.stable(1);
    s.advance_to_deadline();
    let _unanswered = s.heartbeat();
    s.advance(10 * SEC);
    s.pump();
    let lost = s
        .events
        .iter()
        .position(|e| matches!(e, CoreEvent::Lost { .. }))
        .expect("partitions lost");
    match &s.events[lost] {
        CoreEvent::Lost { partitions } => assert_eq!(partitions, &[tp("t", 0), tp("t", 1)]),
        _ => unreachable!(),
    }
    assert_eq!(s.core.identity().generation, -1);
}

#[test]
fn auto_commit_runs_from_poll_on_its_interval() {
    let mut config = core_config();
    config.auto_commit_interval = Some(5 * SEC);
    let mut s = Sim::new(config);
    s.stable(1);
    let stored = || offsets(&[(tp("t", 0), 3)]);
    s.now += SEC;
    assert_eq!(s.core.handle_poll(s.now, stored()), None);
    s.idle();
    s.now += 4 * SEC;
    let id = s.core.handle_poll(s.now, stored()).expect("an auto-commit");
    let (sent, identity) = s.commit_request();
    assert_eq!((sent, identity.generation), (id, 1));
    s.core.handle_commit_response(id, Ok(()), s.now);
    assert!(matches!(s.commit_done(), (_, Ok(()))));
    // Not again before the next interval.
    s.now += SEC;
    assert_eq!(s.core.handle_poll(s.now, stored()), None);
}

#[test]
fn no_auto_commit_without_a_group_id() {
    // Standalone (assign without group.id): the timer may be set, but nothing is committed and
    // no failed commit is reported, interval after interval.
    let mut config = core_config();
    config.group_id = None;
    config.auto_commit_interval = Some(5 * SEC);
    let mut s = Sim::new(config);
    for _ in 0..4 {
        s.now += 5 * SEC;
        assert_eq!(s.core.handle_poll(s.now, offsets(&[(tp("t", 0), 3)])), None);
        s.idle();
    }
}

#[test]
fn poll_interval_expiry_is_reported_once() {
    let mut config = core_config();
    config.max_poll_interval = 20 * SEC;
    let mut s = Sim::new(config);
    s.stable_with(1, member_with(20 * SEC));
    let start = s.now;
    let mut expired = 0;
    while s.now < start + 25 * SEC {
        s.advance_to_deadline();
        s.pump();
        while let Some(t) = s.transmits.pop_front() {
            if let Transmit::Group(req) = t {
                if matches!(req.request, GroupRequest::Heartbeat(_)) {
                    s.answer_heartbeat(&req, NONE);
                }
            }
        }
        while let Some(e) = s.events.pop_front() {
            match e {
                CoreEvent::PollExpired => expired += 1,
                CoreEvent::Revoke { .. } | CoreEvent::Lost { .. } => s.core.ack_revoked(s.now),
                _ => {}
            }
        }
    }
    assert_eq!(expired, 1);
}

#[test]
fn leave_waits_for_pending_commits() {
    let mut s = Sim::new(core_config());
    s.stable(1);
    s.core.commit(offsets(&[(tp("t", 0), 5)]), s.now);
    let (id, _) = s.commit_request();
    s.core.leave(s.now);
    s.idle();
    s.core.handle_commit_response(id, Ok(()), s.now);
    assert!(matches!(s.commit_done(), (_, Ok(()))));
    // Then the member leaves: its revocation is acknowledged by the core (close ran the
    // hooks), LeaveGroup goes out.
    let leave = s.group_request();
    assert!(
        matches!(leave.request, GroupRequest::LeaveGroup(_)),
        "{leave:?}"
    );
    s.answer(
        &leave,
        GroupResponse::LeaveGroup(kafka_protocol::messages::LeaveGroupResponse::default()),
    );
    assert!(matches!(s.event(), CoreEvent::Left));
}

/// KIP-848 STALE_MEMBER_EPOCH: Java's `CommitRequestManager` fails a user's commit with
/// `CommitFailedException` and sends an automatic one again with the latest epoch.
#[test]
fn stale_member_epoch_fails_a_user_commit_and_retries_an_automatic_one() {
    let stale = || {
        Err(ConsumerError::CommitFailed {
            code: ErrorCode::STALE_MEMBER_EPOCH,
        })
    };
    let mut s = Sim::new(core_config());
    s.stable(1);

    s.core.commit(offsets(&[(tp("t", 0), 5)]), s.now);
    let (user, _) = s.commit_request();
    s.core.handle_commit_response(user, stale(), s.now);
    assert!(matches!(
        s.commit_done(),
        (done, Err(ConsumerError::CommitFailed { code })) if done == user && code == ErrorCode::STALE_MEMBER_EPOCH
    ));
    s.idle();
    // Membership is not touched.
    assert_eq!(s.core.identity().generation, 1);

    let auto = s
        .core
        .commit_automatic(offsets(&[(tp("t", 0), 6)]), true, s.now);
    let (sent, _) = s.commit_request();
    assert_eq!(sent, auto);
    s.core.handle_commit_response(auto, stale(), s.now);
    s.idle();
    s.advance(Duration::from_millis(100));
    let (again, identity) = s.commit_request();
    assert_eq!((again, identity.generation), (auto, 1));
    s.core.handle_commit_response(auto, Ok(()), s.now);
    assert!(matches!(s.commit_done(), (done, Ok(())) if done == auto));
}
