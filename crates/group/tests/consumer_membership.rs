//! The KIP-848 member (`ConsumerMembership`) against a simulated coordinator and simulated
//! time: every response is built by hand, every step asserts the exact requests and events
//! that follow. Behaviour follows Java's `ConsumerMembershipManager` /
//! `ConsumerHeartbeatRequestManager` (and their tests).

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use kafka_protocol::messages::consumer_group_heartbeat_response::{
    Assignment, ConsumerGroupHeartbeatResponse, TopicPartitions,
};
use kafka_protocol::messages::find_coordinator_response::FindCoordinatorResponse;
use kafka_protocol::messages::BrokerId;
use kafka_protocol::protocol::StrBytes;
use rafka_group::consumer_membership::{
    ConsumerAction, ConsumerEvent, ConsumerGroupConfig, ConsumerGroupError, ConsumerGroupRequest,
    ConsumerHeartbeatParams, ConsumerMembership, ConsumerOutgoingRequest, MemberState,
    RequestFailure, TopicId, CONSUMER_PROTOCOL_NOT_SUPPORTED_MSG,
};
use rafka_group::membership::Destination;
use rafka_wire::TopicPartition;

const NONE: i16 = 0;
const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
const COORDINATOR_NOT_AVAILABLE: i16 = 15;
const NOT_COORDINATOR: i16 = 16;
const UNKNOWN_MEMBER_ID: i16 = 25;
const TOPIC_AUTHORIZATION_FAILED: i16 = 29;
const GROUP_AUTHORIZATION_FAILED: i16 = 30;
const UNSUPPORTED_VERSION: i16 = 35;
const INVALID_REQUEST: i16 = 42;
const GROUP_MAX_SIZE_REACHED: i16 = 81;
const FENCED_INSTANCE_ID: i16 = 82;
const FENCED_MEMBER_EPOCH: i16 = 110;
const UNRELEASED_INSTANCE_ID: i16 = 111;
const UNSUPPORTED_ASSIGNOR: i16 = 112;
const INVALID_REGULAR_EXPRESSION: i16 = 128;
const UNKNOWN_SERVER_ERROR: i16 = -1;

const MEMBER: &str = "0fa3c9d2-member";
const ORDERS: TopicId = TopicId(0x1111);
const PAYMENTS: TopicId = TopicId(0x2222);
const INTERVAL: Duration = Duration::from_millis(5_000);

fn tp(t: &str, p: i32) -> TopicPartition {
    TopicPartition::new(t, p)
}

fn names() -> BTreeMap<TopicId, String> {
    BTreeMap::from([
        (ORDERS, "orders".to_owned()),
        (PAYMENTS, "payments".to_owned()),
    ])
}

fn ok(epoch: i32, assignment: Option<&[(TopicId, &[i32])]>) -> ConsumerGroupHeartbeatResponse {
    let mut r = ConsumerGroupHeartbeatResponse::default();
    r.member_id = Some(StrBytes::from_string(MEMBER.to_owned()));
    r.member_epoch = epoch;
    r.heartbeat_interval_ms = INTERVAL.as_millis() as i32;
    r.assignment = assignment.map(|a| {
        let mut x = Assignment::default();
        x.topic_partitions = a
            .iter()
            .map(|(id, parts)| {
                let mut t = TopicPartitions::default();
                t.topic_id = id.to_uuid();
                t.partitions = parts.to_vec();
                t
            })
            .collect();
        x
    });
    r
}

fn err(code: i16) -> ConsumerGroupHeartbeatResponse {
    let mut r = ConsumerGroupHeartbeatResponse::default();
    r.error_code = code;
    r.error_message = Some(StrBytes::from_static_str("from the broker"));
    r
}

struct Sim {
    m: ConsumerMembership,
    now: Instant,
    sends: VecDeque<ConsumerOutgoingRequest>,
    events: VecDeque<ConsumerEvent>,
}

impl Sim {
    fn new(config: ConsumerGroupConfig) -> Sim {
        let m = ConsumerMembership::new(config, MEMBER).unwrap();
        Sim {
            m,
            now: Instant::now(),
            sends: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Auto-commit off unless a test turns it on.
    fn default_config() -> ConsumerGroupConfig {
        let mut c = ConsumerGroupConfig::new("g");
        c.auto_commit = false;
        c
    }

    fn pump(&mut self) {
        while let Some(a) = self.m.poll_action() {
            match a {
                ConsumerAction::Send(s) => self.sends.push_back(s),
                ConsumerAction::Event(e) => self.events.push_back(e),
            }
        }
    }

    fn send(&mut self) -> ConsumerOutgoingRequest {
        self.pump();
        self.sends.pop_front().expect("a request to send")
    }

    fn event(&mut self) -> ConsumerEvent {
        self.pump();
        self.events.pop_front().expect("an event")
    }

    fn idle(&mut self) {
        self.pump();
        assert!(
            self.sends.is_empty() && self.events.is_empty(),
            "expected nothing, got {:?} {:?}",
            self.sends,
            self.events
        );
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.m.handle_timeout(self.now);
    }

    /// Answers the next request, a FindCoordinator, with broker `node`.
    fn find(&mut self, node: i32) {
        let req = self.send();
        assert_eq!(req.destination, Destination::AnyBroker);
        assert!(
            matches!(req.request, ConsumerGroupRequest::FindCoordinator(ref p) if p.group_id == "g")
        );
        let mut r = FindCoordinatorResponse::default();
        r.node_id = BrokerId(node);
        r.host = StrBytes::from_static_str("broker");
        r.port = 9092;
        self.m
            .handle_find_coordinator_response(req.id, &r, self.now);
        match self.event() {
            ConsumerEvent::CoordinatorChanged {
                coordinator: Some(c),
            } => assert_eq!(c.node_id, node),
            e => panic!("{e:?}"),
        }
    }

    fn heartbeat(&mut self) -> (ConsumerOutgoingRequest, ConsumerHeartbeatParams) {
        let req = self.send();
        match &req.request {
            ConsumerGroupRequest::Heartbeat(p) => {
                assert!(matches!(req.destination, Destination::Coordinator(_)));
                let p = p.clone();
                (req, p)
            }
            other => panic!("expected a heartbeat, got {other:?}"),
        }
    }

    fn answer(&mut self, req: &ConsumerOutgoingRequest, r: &ConsumerGroupHeartbeatResponse) {
        self.m.handle_heartbeat_response(req.id, r, self.now);
    }

    /// Subscribe to `orders`, poll, find the coordinator: the join heartbeat.
    fn join(&mut self) -> (ConsumerOutgoingRequest, ConsumerHeartbeatParams) {
        self.m.metadata_changed(names(), self.now);
        self.m.subscribe_topics(["orders", "payments"], self.now);
        assert_eq!(self.m.state(), MemberState::Unsubscribed);
        self.m.poll_called(self.now);
        assert_eq!(self.m.state(), MemberState::Joining);
        self.find(1);
        self.heartbeat()
    }

    /// Joins and reconciles `assigned` (auto-commit off), ending Stable at `epoch`.
    fn stable(&mut self, epoch: i32, assigned: &[(TopicId, &[i32])]) {
        let (join, _) = self.join();
        self.answer(&join, &ok(epoch, Some(assigned)));
        assert_eq!(self.m.state(), MemberState::Reconciling);
        match self.event() {
            ConsumerEvent::PartitionsAssigned { .. } => {}
            e => panic!("{e:?}"),
        }
        self.m.ack_assigned(self.now);
        let (ack, p) = self.heartbeat();
        assert!(p.topic_partitions.is_some());
        self.answer(&ack, &ok(epoch, None));
        assert_eq!(self.m.state(), MemberState::Stable);
        self.idle();
    }

    /// The next heartbeat, after waiting out the interval.
    fn next_heartbeat(&mut self) -> (ConsumerOutgoingRequest, ConsumerHeartbeatParams) {
        self.idle();
        self.advance(INTERVAL);
        self.heartbeat()
    }
}

fn fatal(e: ConsumerEvent) -> ConsumerGroupError {
    match e {
        ConsumerEvent::Fatal(e) => e,
        other => panic!("expected Fatal, got {other:?}"),
    }
}

#[test]
fn join_sends_epoch_zero_with_every_field_and_the_injected_member_id() {
    let mut c = Sim::default_config();
    c.remote_assignor = Some("uniform".into());
    c.client_rack = Some("rack-a".into());
    let mut s = Sim::new(c);
    s.idle();
    let (_, p) = s.join();
    assert_eq!(p.group_id, "g");
    assert_eq!(p.member_id, MEMBER);
    assert_eq!(p.member_epoch, 0);
    assert_eq!(p.instance_id, None);
    assert_eq!(p.rack_id.as_deref(), Some("rack-a"));
    assert_eq!(p.rebalance_timeout_ms, 300_000);
    assert_eq!(
        p.subscribed_topic_names,
        Some(vec!["orders".to_owned(), "payments".to_owned()])
    );
    assert_eq!(p.subscribed_topic_regex, None);
    assert_eq!(p.server_assignor.as_deref(), Some("uniform"));
    assert_eq!(p.topic_partitions, Some(vec![]));
    assert_eq!(s.m.member_id(), MEMBER);
    assert_eq!(s.m.commit_member_epoch(), None);
}

#[test]
fn join_to_stable_with_empty_assignment_is_acknowledged() {
    let mut s = Sim::new(Sim::default_config());
    let (join, _) = s.join();
    s.answer(&join, &ok(1, Some(&[])));
    assert_eq!(s.m.member_epoch(), 1);
    // Java reconciles the empty assignment too: onPartitionsAssigned([]) then the ack.
    match s.event() {
        ConsumerEvent::PartitionsAssigned { added, assignment } => {
            assert!(added.is_empty() && assignment.is_empty())
        }
        e => panic!("{e:?}"),
    }
    s.idle();
    s.m.ack_assigned(s.now);
    assert_eq!(s.m.state(), MemberState::Stable);
    let (_, p) = s.heartbeat();
    assert_eq!(p.member_epoch, 1);
    assert_eq!(p.topic_partitions, Some(vec![]));
    assert_eq!(p.subscribed_topic_names, None);
    assert_eq!(p.rebalance_timeout_ms, -1);
}

#[test]
fn reconciliation_commits_then_revokes_then_assigns_waiting_for_the_listener() {
    let mut c = Sim::default_config();
    c.auto_commit = true;
    let mut s = Sim::new(c);
    let (join, _) = s.join();
    s.answer(&join, &ok(1, Some(&[(ORDERS, &[0, 1])])));
    // Auto-commit: the commit comes first, even with nothing to revoke (Java
    // maybeAutoCommitSyncBeforeRebalance on every reconciliation).
    assert_eq!(
        s.event(),
        ConsumerEvent::CommitBeforeReconcile { revoking: vec![] }
    );
    s.idle();
    s.m.commit_done(s.now);
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsAssigned {
            added: vec![tp("orders", 0), tp("orders", 1)],
            assignment: vec![tp("orders", 0), tp("orders", 1)],
        }
    );
    s.m.ack_assigned(s.now);
    let (ack, p) = s.heartbeat();
    assert_eq!(p.topic_partitions, Some(vec![(ORDERS, vec![0, 1])]));
    s.answer(&ack, &ok(1, None));
    assert_eq!(s.m.state(), MemberState::Stable);

    // New target: orders-1 moves away, payments-0 arrives.
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &ok(2, Some(&[(ORDERS, &[0]), (PAYMENTS, &[0])])));
    assert_eq!(s.m.state(), MemberState::Reconciling);
    assert_eq!(
        s.event(),
        ConsumerEvent::CommitBeforeReconcile {
            revoking: vec![tp("orders", 1)]
        }
    );
    s.idle();
    s.m.commit_done(s.now);
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsRevoked {
            partitions: vec![tp("orders", 1)],
            member_epoch: 2
        }
    );
    // Nothing is assigned until the revoke hook finished.
    s.idle();
    assert_eq!(s.m.assignment(), vec![tp("orders", 0), tp("orders", 1)]);
    s.m.ack_revoked(s.now);
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsAssigned {
            added: vec![tp("payments", 0)],
            assignment: vec![tp("orders", 0), tp("payments", 0)],
        }
    );
    s.idle();
    assert_eq!(s.m.state(), MemberState::Reconciling);
    // ACKNOWLEDGING lasts until the heartbeat is generated, which is at once.
    s.m.ack_assigned(s.now);
    let (ack, p) = s.heartbeat();
    assert_eq!(s.m.state(), MemberState::Stable);
    assert_eq!(
        p.topic_partitions,
        Some(vec![(ORDERS, vec![0]), (PAYMENTS, vec![0])])
    );
    s.answer(&ack, &ok(3, None));
    assert_eq!(s.m.state(), MemberState::Stable);
    assert_eq!(s.m.member_epoch(), 3);
    assert_eq!(s.m.commit_member_epoch(), Some(3));
}

#[test]
fn acknowledgement_goes_out_at_once_and_only_once() {
    let mut s = Sim::new(Sim::default_config());
    let (join, _) = s.join();
    s.answer(&join, &ok(1, Some(&[(ORDERS, &[0])])));
    s.event();
    s.m.ack_assigned(s.now);
    // Right away, without waiting for the 5 s interval (Java shouldHeartbeatNow).
    let (ack, p) = s.heartbeat();
    assert_eq!(p.topic_partitions, Some(vec![(ORDERS, vec![0])]));
    s.answer(&ack, &ok(1, None));
    let (_, p) = s.next_heartbeat();
    assert_eq!(p.topic_partitions, None, "owned partitions are sent once");
    assert_eq!(p.subscribed_topic_names, None);
}

#[test]
fn same_target_received_again_is_not_reconciled_again() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &ok(1, Some(&[(ORDERS, &[0])])));
    assert_eq!(s.m.state(), MemberState::Stable);
    s.idle();
}

#[test]
fn unresolved_topic_id_waits_for_metadata_while_the_rest_reconciles() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    let newcomer = TopicId(0x3333);
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &ok(2, Some(&[(ORDERS, &[0, 1]), (newcomer, &[0])])));
    assert_eq!(
        s.event(),
        ConsumerEvent::MetadataNeeded {
            topic_ids: [newcomer].into()
        }
    );
    // orders-1 is resolvable and reconciles now.
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsAssigned {
            added: vec![tp("orders", 1)],
            assignment: vec![tp("orders", 0), tp("orders", 1)],
        }
    );
    s.m.ack_assigned(s.now);
    let (ack, p) = s.heartbeat();
    assert_eq!(p.topic_partitions, Some(vec![(ORDERS, vec![0, 1])]));
    s.answer(&ack, &ok(2, None));
    // Still reconciling: the target is not reached; metadata is not asked for twice.
    assert_eq!(s.m.state(), MemberState::Reconciling);
    s.idle();
    let mut meta = names();
    meta.insert(newcomer, "audit".into());
    s.m.metadata_changed(meta, s.now);
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsAssigned {
            added: vec![tp("audit", 0)],
            assignment: vec![tp("audit", 0), tp("orders", 0), tp("orders", 1)],
        }
    );
    s.m.ack_assigned(s.now);
    let (_, p) = s.heartbeat();
    assert_eq!(
        p.topic_partitions,
        Some(vec![(ORDERS, vec![0, 1]), (newcomer, vec![0])])
    );
    assert_eq!(s.m.state(), MemberState::Stable);
}

#[test]
fn only_changed_fields_are_sent_and_everything_after_an_error() {
    let mut c = Sim::default_config();
    c.remote_assignor = Some("range".into());
    let mut s = Sim::new(c);
    s.stable(1, &[(ORDERS, &[0])]);
    let (hb, p) = s.next_heartbeat();
    assert_eq!(
        (
            p.rebalance_timeout_ms,
            &p.subscribed_topic_names,
            &p.server_assignor,
            &p.topic_partitions
        ),
        (-1, &None, &None, &None)
    );
    s.answer(&hb, &ok(1, None));
    s.m.subscribe_topics(["orders"], s.now);
    let (hb, p) = s.next_heartbeat();
    assert_eq!(p.subscribed_topic_names, Some(vec!["orders".to_owned()]));
    assert_eq!((p.rebalance_timeout_ms, &p.server_assignor), (-1, &None));
    // A retriable error resets the sent fields: the next heartbeat is full again.
    s.answer(&hb, &err(COORDINATOR_LOAD_IN_PROGRESS));
    s.advance(Duration::from_millis(100));
    let (_, p) = s.heartbeat();
    assert_eq!(p.rebalance_timeout_ms, 300_000);
    assert_eq!(p.subscribed_topic_names, Some(vec!["orders".to_owned()]));
    assert_eq!(p.server_assignor.as_deref(), Some("range"));
    assert_eq!(p.topic_partitions, Some(vec![(ORDERS, vec![0])]));
    assert_eq!(p.member_epoch, 1);
}

#[test]
fn heartbeat_is_not_sent_more_often_than_the_broker_interval() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    assert_eq!(s.m.heartbeat_interval(), INTERVAL);
    // The ack went out at `now`; the next heartbeat is due one interval later.
    assert_eq!(s.m.poll_timeout(), Some(s.now + INTERVAL));
    s.advance(INTERVAL - Duration::from_millis(1));
    s.idle();
    s.m.poll_called(s.now);
    s.m.subscribe_topics(["orders"], s.now);
    s.idle();
    s.advance(Duration::from_millis(1));
    let (hb, _) = s.heartbeat();
    // Only one in flight: nothing more while it is unanswered...
    s.advance(INTERVAL * 2);
    s.idle();
    // ...and the interval counts from the send (Java resets the timer on send), so after a
    // slow response the next one goes at once.
    s.answer(&hb, &ok(1, None));
    let (hb, _) = s.heartbeat();
    s.answer(&hb, &ok(1, None));
    s.advance(INTERVAL - Duration::from_millis(1));
    s.idle();
    s.advance(Duration::from_millis(1));
    s.heartbeat();
}

#[test]
fn broker_interval_change_applies_from_the_response() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    let (hb, _) = s.next_heartbeat();
    let mut r = ok(1, None);
    r.heartbeat_interval_ms = 2_000;
    s.answer(&hb, &r);
    assert_eq!(s.m.heartbeat_interval(), Duration::from_millis(2_000));
    s.advance(Duration::from_millis(1_999));
    s.idle();
    s.advance(Duration::from_millis(1));
    s.heartbeat();
}

#[test]
fn fenced_member_epoch_loses_partitions_and_rejoins_with_epoch_zero_and_the_same_id() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(4, &[(ORDERS, &[0, 1])]);
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &err(FENCED_MEMBER_EPOCH));
    assert_eq!(s.m.state(), MemberState::Fenced);
    assert_eq!(s.m.member_epoch(), 0);
    assert_eq!(s.m.commit_member_epoch(), None);
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsLost {
            partitions: vec![tp("orders", 0), tp("orders", 1)]
        }
    );
    // No heartbeat until the lost hook finished.
    s.idle();
    s.advance(INTERVAL);
    s.idle();
    s.m.ack_revoked(s.now);
    assert_eq!(s.m.state(), MemberState::Joining);
    assert!(s.m.assignment().is_empty());
    let (join, p) = s.heartbeat();
    assert_eq!((p.member_epoch, p.member_id.as_str()), (0, MEMBER));
    assert_eq!(p.rebalance_timeout_ms, 300_000);
    assert_eq!(p.topic_partitions, Some(vec![]));
    s.answer(&join, &ok(6, Some(&[(ORDERS, &[1])])));
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsAssigned {
            added: vec![tp("orders", 1)],
            assignment: vec![tp("orders", 1)],
        }
    );
}

#[test]
fn unknown_member_id_is_handled_like_fencing() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(2, &[]);
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &err(UNKNOWN_MEMBER_ID));
    // Nothing owned: no lost hook; the rejoin goes out at once, same member id.
    assert_eq!(s.m.state(), MemberState::Joining);
    let (_, p) = s.heartbeat();
    assert_eq!((p.member_epoch, p.member_id.as_str()), (0, MEMBER));
}

#[test]
fn fenced_during_reconciliation_abandons_it() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0, 1])]);
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &ok(2, Some(&[(ORDERS, &[0])])));
    assert!(matches!(s.event(), ConsumerEvent::PartitionsRevoked { .. }));
    // The next heartbeat comes back fenced while the revoke hook runs.
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &err(FENCED_MEMBER_EPOCH));
    assert!(matches!(s.event(), ConsumerEvent::PartitionsLost { .. }));
    s.m.ack_revoked(s.now); // the revoke hook: the reconciliation is void
    s.idle();
    assert_eq!(s.m.state(), MemberState::Fenced);
    s.m.ack_revoked(s.now); // the lost hook
    assert_eq!(s.m.state(), MemberState::Joining);
    let (_, p) = s.heartbeat();
    assert_eq!(p.member_epoch, 0);
}

#[test]
fn coordinator_not_available_and_not_coordinator_rediscover_the_coordinator() {
    for code in [COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR] {
        let mut s = Sim::new(Sim::default_config());
        s.stable(1, &[(ORDERS, &[0])]);
        let (hb, _) = s.next_heartbeat();
        s.answer(&hb, &err(code));
        assert_eq!(
            s.event(),
            ConsumerEvent::CoordinatorChanged { coordinator: None }
        );
        // FindCoordinator at once; the heartbeat follows the new coordinator without
        // waiting for the interval (Java resets the heartbeat timer).
        s.find(2);
        let (hb, p) = s.heartbeat();
        match &hb.destination {
            Destination::Coordinator(c) => assert_eq!(c.node_id, 2),
            d => panic!("{d:?}"),
        }
        assert_eq!(p.member_epoch, 1);
        assert_eq!(p.topic_partitions, Some(vec![(ORDERS, vec![0])]));
        assert_eq!(s.m.state(), MemberState::Stable, "{code}");
    }
}

#[test]
fn coordinator_load_in_progress_retries_after_exponential_backoff() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    let (mut hb, _) = s.next_heartbeat();
    for backoff_ms in [100, 200, 400, 800, 1000, 1000] {
        s.answer(&hb, &err(COORDINATOR_LOAD_IN_PROGRESS));
        assert_eq!(s.m.state(), MemberState::Stable);
        assert_eq!(
            s.m.poll_timeout(),
            Some(s.now + Duration::from_millis(backoff_ms))
        );
        s.advance(Duration::from_millis(backoff_ms - 1));
        s.idle();
        s.advance(Duration::from_millis(1));
        hb = s.heartbeat().0;
    }
    // Success resets the backoff; the interval (from the last send) applies again.
    s.answer(&hb, &ok(1, None));
    assert_eq!(s.m.poll_timeout(), Some(s.now + INTERVAL));
    s.advance(INTERVAL);
    s.heartbeat();
}

#[test]
fn fatal_errors_stop_the_member_and_lose_its_partitions() {
    for code in [
        GROUP_AUTHORIZATION_FAILED,
        INVALID_REQUEST,
        GROUP_MAX_SIZE_REACHED,
        UNSUPPORTED_ASSIGNOR,
        UNRELEASED_INSTANCE_ID,
        FENCED_INSTANCE_ID,
        INVALID_REGULAR_EXPRESSION,
        UNKNOWN_SERVER_ERROR,
    ] {
        let mut s = Sim::new(Sim::default_config());
        s.stable(1, &[(ORDERS, &[0])]);
        let (hb, _) = s.next_heartbeat();
        s.answer(&hb, &err(code));
        let e = fatal(s.event());
        assert_eq!(e.code(), Some(code));
        assert!(e.to_string().contains("from the broker"), "{e}");
        assert_eq!(
            s.event(),
            ConsumerEvent::PartitionsLost {
                partitions: vec![tp("orders", 0)]
            }
        );
        assert_eq!(s.m.state(), MemberState::Fatal);
        assert!(s.m.is_closed());
        s.m.ack_revoked(s.now);
        s.advance(INTERVAL * 10);
        s.m.poll_called(s.now);
        s.idle();
        assert_eq!(s.m.poll_timeout(), None);
    }
}

#[test]
fn unsupported_version_is_fatal_with_a_message_pointing_to_the_classic_protocol() {
    // As an error code in the response...
    let mut s = Sim::new(Sim::default_config());
    let (join, _) = s.join();
    s.answer(&join, &err(UNSUPPORTED_VERSION));
    let e = fatal(s.event());
    assert_eq!(e, ConsumerGroupError::ProtocolNotSupported);
    assert_eq!(e.to_string(), CONSUMER_PROTOCOL_NOT_SUPPORTED_MSG);
    assert!(e.to_string().contains("group.protocol=classic"));
    s.idle();
    // ...and as a request the driver could not send (no API 68 in ApiVersions).
    let mut s = Sim::new(Sim::default_config());
    let (join, _) = s.join();
    s.m.handle_request_failed(join.id, RequestFailure::UnsupportedVersion, s.now);
    assert_eq!(fatal(s.event()), ConsumerGroupError::ProtocolNotSupported);
}

#[test]
fn topic_authorization_failed_is_reported_and_the_member_keeps_heartbeating() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &err(TOPIC_AUTHORIZATION_FAILED));
    match s.event() {
        ConsumerEvent::Error(e) => assert_eq!(e.code(), Some(TOPIC_AUTHORIZATION_FAILED)),
        e => panic!("{e:?}"),
    }
    assert_eq!(s.m.state(), MemberState::Stable);
    s.advance(Duration::from_millis(100));
    s.heartbeat();
}

#[test]
fn dynamic_member_leaves_with_epoch_minus_one_after_the_revoke_hook() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(3, &[(ORDERS, &[0])]);
    s.m.leave(s.now);
    assert_eq!(s.m.state(), MemberState::PrepareLeaving);
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsRevoked {
            partitions: vec![tp("orders", 0)],
            member_epoch: 3
        }
    );
    // Commits in the revoke hook still carry the epoch.
    assert_eq!(s.m.commit_member_epoch(), Some(3));
    s.idle();
    s.m.ack_revoked(s.now);
    let (leave, p) = s.heartbeat();
    assert_eq!((p.member_epoch, p.member_id.as_str()), (-1, MEMBER));
    assert_eq!(s.m.state(), MemberState::Unsubscribed);
    assert!(s.m.assignment().is_empty());
    s.idle();
    let mut r = ok(-1, None);
    r.assignment = None;
    s.answer(&leave, &r);
    assert_eq!(s.event(), ConsumerEvent::Left);
    assert!(s.m.is_closed());
    s.advance(INTERVAL * 10);
    s.idle();
}

#[test]
fn static_member_leaves_with_epoch_minus_two_and_sends_its_instance_id() {
    let mut c = Sim::default_config();
    c.group_instance_id = Some("instance-7".into());
    let mut s = Sim::new(c);
    let (join, p) = s.join();
    assert_eq!(p.instance_id.as_deref(), Some("instance-7"));
    s.answer(&join, &ok(1, Some(&[])));
    s.event();
    s.m.ack_assigned(s.now);
    let (ack, p) = s.heartbeat();
    assert_eq!(
        p.instance_id.as_deref(),
        Some("instance-7"),
        "sent every time"
    );
    s.answer(&ack, &ok(1, None));
    s.m.unsubscribe(s.now);
    let (leave, p) = s.heartbeat();
    assert_eq!(p.member_epoch, -2);
    s.m.handle_request_failed(leave.id, RequestFailure::TimedOut, s.now);
    assert_eq!(s.event(), ConsumerEvent::Left);
    // unsubscribe (not close): the member may subscribe again and rejoins with epoch 0.
    assert!(!s.m.is_closed());
    s.m.subscribe_topics(["orders"], s.now);
    s.m.poll_called(s.now);
    let (_, p) = s.heartbeat();
    assert_eq!(p.member_epoch, 0);
}

#[test]
fn leave_without_a_coordinator_completes_at_once() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[]);
    let (hb, _) = s.next_heartbeat();
    s.m.handle_request_failed(hb.id, RequestFailure::Disconnected, s.now);
    assert_eq!(
        s.event(),
        ConsumerEvent::CoordinatorChanged { coordinator: None }
    );
    let _find = s.send();
    s.m.leave(s.now);
    assert_eq!(s.event(), ConsumerEvent::Left);
    assert!(s.m.is_closed());
    s.idle();
}

#[test]
fn poll_timeout_leaves_goes_stale_and_rejoins_on_the_next_poll() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(5, &[(ORDERS, &[0])]);
    // Heartbeats keep going while the application does not poll...
    for _ in 0..59 {
        let (hb, _) = s.next_heartbeat();
        s.answer(&hb, &ok(5, None));
    }
    // ...until max.poll.interval.ms (300 s) after the last poll.
    s.idle();
    s.advance(INTERVAL);
    let (leave, p) = s.heartbeat();
    assert_eq!(p.member_epoch, -1);
    assert_eq!(s.m.state(), MemberState::Stale);
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsLost {
            partitions: vec![tp("orders", 0)]
        }
    );
    s.answer(&leave, &ok(-1, None));
    s.m.ack_revoked(s.now);
    s.advance(INTERVAL * 4);
    s.idle();
    assert_eq!(s.m.state(), MemberState::Stale);
    s.m.poll_called(s.now);
    assert_eq!(s.m.state(), MemberState::Joining);
    let (_, p) = s.heartbeat();
    assert_eq!(p.member_epoch, 0);
    assert_eq!(p.subscribed_topic_names.as_ref().map(Vec::len), Some(2));
}

#[test]
fn poll_before_the_lost_hook_finished_rejoins_when_it_does() {
    let mut c = Sim::default_config();
    c.rebalance_timeout = Duration::from_secs(10);
    c.group_instance_id = Some("i".into());
    let mut s = Sim::new(c);
    s.stable(5, &[(ORDERS, &[0])]);
    s.advance(Duration::from_secs(10));
    let (_, p) = s.heartbeat();
    assert_eq!(p.member_epoch, -2, "a static member leaves with -2");
    assert!(matches!(s.event(), ConsumerEvent::PartitionsLost { .. }));
    s.m.poll_called(s.now);
    assert_eq!(s.m.state(), MemberState::Stale);
    s.idle();
    s.m.ack_revoked(s.now);
    assert_eq!(s.m.state(), MemberState::Joining);
    let (_, p) = s.heartbeat();
    assert_eq!(p.member_epoch, 0);
}

#[test]
fn request_timeouts_retry_with_backoff_then_the_session_expires_and_partitions_are_lost() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    let start = s.now;
    let (mut hb, _) = s.next_heartbeat();
    loop {
        s.m.handle_request_failed(hb.id, RequestFailure::TimedOut, s.now);
        if s.m.state() != MemberState::Stable {
            break;
        }
        assert_eq!(
            s.event(),
            ConsumerEvent::CoordinatorChanged { coordinator: None }
        );
        s.find(1);
        s.m.handle_timeout(s.now);
        if s.m.state() != MemberState::Stable {
            break;
        }
        // The retry waits for the backoff, not the interval.
        let due = s.m.poll_timeout().unwrap();
        assert!(due > s.now && due <= s.now + Duration::from_millis(1000));
        s.now = due;
        s.m.handle_timeout(s.now);
        if s.m.state() != MemberState::Stable {
            break;
        }
        hb = s.heartbeat().0;
        s.now += Duration::from_secs(10);
    }
    assert!(s.now - start >= Duration::from_secs(45));
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsLost {
            partitions: vec![tp("orders", 0)]
        }
    );
}

#[test]
fn regex_subscription_is_sent_to_the_broker_and_needs_v1() {
    let mut s = Sim::new(Sim::default_config());
    s.m.subscribe_regex("orders-.*", s.now);
    s.m.poll_called(s.now);
    s.find(1);
    let (join, p) = s.heartbeat();
    assert_eq!(p.subscribed_topic_regex.as_deref(), Some("orders-.*"));
    assert_eq!(p.subscribed_topic_names, Some(vec![]));
    assert_eq!(
        p.to_request(0).unwrap_err(),
        ConsumerGroupError::RegexNotSupported
    );
    // A driver that negotiated v0 reports it; the member stops with the regex error.
    let mut v0 = Sim::new(Sim::default_config());
    v0.m.subscribe_regex("orders-.*", v0.now);
    v0.m.poll_called(v0.now);
    v0.find(1);
    let (req, _) = v0.heartbeat();
    v0.m.handle_request_failed(req.id, RequestFailure::RegexNotSupported, v0.now);
    assert_eq!(fatal(v0.event()), ConsumerGroupError::RegexNotSupported);
    let wire = p.to_request(1).unwrap();
    assert_eq!(
        wire.subscribed_topic_regex.as_ref().map(|r| r.as_str()),
        Some("orders-.*")
    );
    s.answer(&join, &ok(1, Some(&[])));
    s.event();
    s.m.ack_assigned(s.now);
    let (ack, p) = s.heartbeat();
    assert_eq!(p.subscribed_topic_regex, None);
    s.answer(&ack, &ok(1, None));
    // Switching to a topic list clears the regex with an empty string.
    s.m.subscribe_topics(["orders"], s.now);
    let (_, p) = s.next_heartbeat();
    assert_eq!(p.subscribed_topic_regex.as_deref(), Some(""));
    assert_eq!(p.subscribed_topic_names, Some(vec!["orders".to_owned()]));
}

#[test]
fn wire_request_carries_topic_ids_and_fields() {
    let p = ConsumerHeartbeatParams {
        group_id: "g".into(),
        member_id: MEMBER.into(),
        member_epoch: 7,
        instance_id: Some("i".into()),
        rack_id: None,
        rebalance_timeout_ms: -1,
        subscribed_topic_names: None,
        subscribed_topic_regex: None,
        server_assignor: Some("uniform".into()),
        topic_partitions: Some(vec![(
            TopicId(0x0123_4567_89ab_cdef_0011_2233_4455_6677),
            vec![3],
        )]),
    };
    let r = p.to_request(1).unwrap();
    assert_eq!(r.member_epoch, 7);
    assert_eq!(r.member_id.as_str(), MEMBER);
    assert_eq!(r.rebalance_timeout_ms, -1);
    assert!(r.subscribed_topic_names.is_none());
    let tps = r.topic_partitions.unwrap();
    assert_eq!(
        tps[0].topic_id.as_u128(),
        0x0123_4567_89ab_cdef_0011_2233_4455_6677
    );
    assert_eq!(tps[0].partitions, vec![3]);
}

#[test]
fn config_is_validated() {
    use rafka_group::consumer_membership::ConfigError;
    assert_eq!(
        ConsumerMembership::new(ConsumerGroupConfig::new(""), MEMBER).unwrap_err(),
        ConfigError::EmptyGroupId
    );
    assert_eq!(
        ConsumerMembership::new(ConsumerGroupConfig::new("g"), "").unwrap_err(),
        ConfigError::EmptyMemberId
    );
    let mut c = ConsumerGroupConfig::new("g");
    c.remote_assignor = Some(String::new());
    assert_eq!(
        ConsumerMembership::new(c, MEMBER).unwrap_err(),
        ConfigError::EmptyRemoteAssignor
    );
    let c = ConsumerGroupConfig::new("g");
    assert!(c.auto_commit);
    assert_eq!(c.rebalance_timeout, Duration::from_millis(300_000));
    assert_eq!(c.retry_backoff_max, Duration::from_millis(1_000));
}

#[test]
fn stale_response_after_fencing_is_ignored() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &err(FENCED_MEMBER_EPOCH));
    s.event();
    // A duplicate answer for the same request id changes nothing.
    s.answer(&hb, &ok(9, Some(&[(PAYMENTS, &[0])])));
    assert_eq!(s.m.member_epoch(), 0);
    assert_eq!(s.m.state(), MemberState::Fenced);
    let _ = NONE;
}

#[test]
fn new_target_while_reconciling_is_reconciled_after_the_current_one() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &ok(2, Some(&[(ORDERS, &[0, 1])])));
    assert!(matches!(
        s.event(),
        ConsumerEvent::PartitionsAssigned { .. }
    ));
    // While the assign hook runs, the broker moves the target on.
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &ok(2, Some(&[(ORDERS, &[0, 1, 2])])));
    s.idle();
    s.m.ack_assigned(s.now);
    // The first reconciliation is acknowledged, then the new target reconciles.
    let (ack, p) = s.heartbeat();
    assert_eq!(p.topic_partitions, Some(vec![(ORDERS, vec![0, 1])]));
    assert_eq!(s.m.state(), MemberState::Reconciling);
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsAssigned {
            added: vec![tp("orders", 2)],
            assignment: vec![tp("orders", 0), tp("orders", 1), tp("orders", 2)],
        }
    );
    s.answer(&ack, &ok(3, None));
    s.m.ack_assigned(s.now);
    let (_, p) = s.heartbeat();
    assert_eq!(p.topic_partitions, Some(vec![(ORDERS, vec![0, 1, 2])]));
    assert_eq!(s.m.state(), MemberState::Stable);
}

#[test]
fn revocation_resolves_names_of_assigned_topics_without_metadata() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0]), (PAYMENTS, &[0])]);
    // The metadata no longer knows the topics (Java's assignedTopicNamesCache covers it).
    s.m.metadata_changed(BTreeMap::new(), s.now);
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &ok(2, Some(&[(ORDERS, &[0])])));
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsRevoked {
            partitions: vec![tp("payments", 0)],
            member_epoch: 2
        }
    );
    s.m.ack_revoked(s.now);
    assert!(matches!(
        s.event(),
        ConsumerEvent::PartitionsAssigned { .. }
    ));
}

#[test]
fn leave_while_reconciling_revokes_everything_owned_and_drops_the_reconciliation() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0, 1])]);
    let (hb, _) = s.next_heartbeat();
    s.answer(&hb, &ok(2, Some(&[(ORDERS, &[0])])));
    assert!(matches!(s.event(), ConsumerEvent::PartitionsRevoked { .. }));
    s.m.leave(s.now);
    assert_eq!(
        s.event(),
        ConsumerEvent::PartitionsRevoked {
            partitions: vec![tp("orders", 0), tp("orders", 1)],
            member_epoch: 2
        }
    );
    s.m.ack_revoked(s.now); // the reconciliation's hook: ignored
    s.idle();
    assert_eq!(s.m.state(), MemberState::PrepareLeaving);
    s.m.ack_revoked(s.now); // the leave's hook
    let (leave, p) = s.heartbeat();
    assert_eq!(p.member_epoch, -1);
    s.m.handle_heartbeat_response(leave.id, &err(UNKNOWN_MEMBER_ID), s.now);
    assert_eq!(s.event(), ConsumerEvent::Left);
    assert!(s.m.is_closed());
}

#[test]
fn fenced_while_preparing_to_leave_completes_the_leave_without_rejoining() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    let (hb, _) = s.next_heartbeat();
    s.m.unsubscribe(s.now);
    assert!(matches!(s.event(), ConsumerEvent::PartitionsRevoked { .. }));
    s.answer(&hb, &err(FENCED_MEMBER_EPOCH));
    assert_eq!(s.event(), ConsumerEvent::Left);
    assert_eq!(s.m.state(), MemberState::Unsubscribed);
    s.m.ack_revoked(s.now);
    s.advance(INTERVAL);
    s.idle();
}

#[test]
fn unsubscribe_while_stale_completes_at_once() {
    let mut c = Sim::default_config();
    c.rebalance_timeout = Duration::from_secs(4);
    let mut s = Sim::new(c);
    s.stable(1, &[]);
    s.advance(Duration::from_secs(4));
    let (_, p) = s.heartbeat();
    assert_eq!(p.member_epoch, -1);
    assert_eq!(s.m.state(), MemberState::Stale);
    s.m.unsubscribe(s.now);
    assert_eq!(s.event(), ConsumerEvent::Left);
    s.idle();
    assert_eq!(s.m.state(), MemberState::Unsubscribed);
    s.m.poll_called(s.now);
    s.idle();
    assert_eq!(s.m.state(), MemberState::Unsubscribed);
}

#[test]
fn acknowledgements_with_nothing_pending_are_ignored() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[(ORDERS, &[0])]);
    s.m.ack_revoked(s.now);
    s.m.ack_assigned(s.now);
    s.m.commit_done(s.now);
    s.idle();
    assert_eq!(s.m.state(), MemberState::Stable);
    assert_eq!(s.m.assignment(), vec![tp("orders", 0)]);
}

#[test]
fn subscribing_joins_only_on_the_next_poll() {
    let mut s = Sim::new(Sim::default_config());
    s.m.subscribe_topics(["orders"], s.now);
    s.advance(INTERVAL);
    s.idle();
    assert_eq!(s.m.poll_timeout(), None);
    s.m.poll_called(s.now);
    s.find(1);
    let (_, p) = s.heartbeat();
    assert_eq!(p.member_epoch, 0);
}

#[test]
fn leave_heartbeat_goes_out_even_with_a_heartbeat_in_flight() {
    let mut s = Sim::new(Sim::default_config());
    s.stable(1, &[]);
    let (hb, _) = s.next_heartbeat();
    s.m.leave(s.now);
    let (leave, p) = s.heartbeat();
    assert_eq!(p.member_epoch, -1);
    // The answer to the older heartbeat changes nothing; the leave's answer ends it.
    s.answer(&hb, &ok(1, Some(&[(ORDERS, &[0])])));
    s.idle();
    assert_eq!(s.m.state(), MemberState::Unsubscribed);
    s.answer(&leave, &ok(-1, None));
    assert_eq!(s.event(), ConsumerEvent::Left);
}

#[test]
fn poll_timeout_leave_is_sent_with_a_heartbeat_in_flight_and_its_answer_is_ignored() {
    let mut c = Sim::default_config();
    c.rebalance_timeout = Duration::from_secs(7);
    let mut s = Sim::new(c);
    s.stable(1, &[(ORDERS, &[0])]);
    let (hb, _) = s.next_heartbeat();
    s.advance(Duration::from_secs(2));
    let (leave, p) = s.heartbeat();
    assert_eq!(p.member_epoch, -1);
    assert!(matches!(s.event(), ConsumerEvent::PartitionsLost { .. }));
    s.answer(&leave, &err(UNKNOWN_MEMBER_ID));
    s.answer(&hb, &ok(1, None));
    s.idle();
    assert_eq!(s.m.state(), MemberState::Stale);
    assert_eq!(s.m.commit_member_epoch(), None);
}

#[test]
fn group_protocol_parses_like_java_and_classic_only_settings_are_refused() {
    use rafka_group::consumer_membership::{
        check_consumer_protocol_settings, ConfigError, GroupProtocol,
    };
    assert_eq!(GroupProtocol::default(), GroupProtocol::Classic);
    assert_eq!("CONSUMER".parse(), Ok(GroupProtocol::Consumer));
    assert_eq!("classic".parse(), Ok(GroupProtocol::Classic));
    assert!("eager".parse::<GroupProtocol>().is_err());
    assert_eq!(GroupProtocol::Consumer.to_string(), "consumer");
    assert_eq!(
        check_consumer_protocol_settings(["group.id", "heartbeat.interval.ms"]),
        Err(ConfigError::UnsupportedWithConsumerProtocol(
            "heartbeat.interval.ms".into()
        ))
    );
    assert_eq!(
        check_consumer_protocol_settings(["group.id", "group.remote.assignor"]),
        Ok(())
    );
}
