//! The membership state machine against a simulated coordinator and simulated time: every
//! response is built by hand, every step asserts the exact requests and events that follow.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::find_coordinator_response::FindCoordinatorResponse;
use kafka_protocol::messages::heartbeat_response::HeartbeatResponse;
use kafka_protocol::messages::join_group_response::{JoinGroupResponse, JoinGroupResponseMember};
use kafka_protocol::messages::leave_group_response::LeaveGroupResponse;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponse, OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::sync_group_response::SyncGroupResponse;
use kafka_protocol::messages::{BrokerId, TopicName};
use kafka_protocol::protocol::StrBytes;
use rafka_group::assignor::{Assignor, CooperativeStickyAssignor, RangeAssignor};
use rafka_group::membership::{
    Action, Destination, Event, Generation, GroupConfig, GroupError, GroupRequest, Membership,
    OutgoingRequest,
};
use rafka_group::{Assignment, Subscription};
use rafka_wire::TopicPartition;

const NONE: i16 = 0;
const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
const COORDINATOR_NOT_AVAILABLE: i16 = 15;
const NOT_COORDINATOR: i16 = 16;
const ILLEGAL_GENERATION: i16 = 22;
const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
const UNKNOWN_MEMBER_ID: i16 = 25;
const INVALID_SESSION_TIMEOUT: i16 = 26;
const REBALANCE_IN_PROGRESS: i16 = 27;
const GROUP_AUTHORIZATION_FAILED: i16 = 30;
const UNKNOWN_SERVER_ERROR: i16 = -1;
const MEMBER_ID_REQUIRED: i16 = 79;
const GROUP_MAX_SIZE_REACHED: i16 = 81;
const FENCED_INSTANCE_ID: i16 = 82;

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_owned())
}

fn tp(t: &str, p: i32) -> TopicPartition {
    TopicPartition::new(t, p)
}

struct Sim {
    m: Membership,
    now: Instant,
    sends: VecDeque<OutgoingRequest>,
    events: VecDeque<Event>,
}

impl Sim {
    fn new(config: GroupConfig) -> Sim {
        let now = Instant::now();
        let mut m = Membership::new(config).unwrap();
        m.set_subscription(["t"], now);
        m.metadata_changed(BTreeMap::from([("t".to_owned(), 3)]), now);
        Sim {
            m,
            now,
            sends: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    fn with(assignor: Arc<dyn Assignor>) -> Sim {
        let mut c = GroupConfig::new("g");
        c.assignors = vec![assignor];
        Sim::new(c)
    }

    fn pump(&mut self) {
        while let Some(a) = self.m.poll_action() {
            match a {
                Action::Send(s) => self.sends.push_back(s),
                Action::Event(e) => self.events.push_back(e),
            }
        }
    }

    fn send(&mut self) -> OutgoingRequest {
        self.pump();
        self.sends.pop_front().expect("a request to send")
    }

    fn event(&mut self) -> Event {
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
        assert!(matches!(req.request, GroupRequest::FindCoordinator(ref p) if p.group_id == "g"));
        let mut r = FindCoordinatorResponse::default();
        r.node_id = BrokerId(node);
        r.host = sb("broker");
        r.port = 9092;
        self.m
            .handle_find_coordinator_response(req.id, &r, self.now);
        match self.event() {
            Event::CoordinatorChanged {
                coordinator: Some(c),
            } => assert_eq!(c.node_id, node),
            e => panic!("{e:?}"),
        }
    }

    fn join_request(&mut self) -> (OutgoingRequest, rafka_group::membership::JoinGroupParams) {
        let req = self.send();
        match &req.request {
            GroupRequest::JoinGroup(p) => {
                let p = p.clone();
                (req, p)
            }
            other => panic!("expected JoinGroup, got {other:?}"),
        }
    }

    fn answer_join(&mut self, req: &OutgoingRequest, r: &JoinGroupResponse) {
        self.m.handle_join_response(req.id, r, self.now);
    }

    fn sync_request(&mut self) -> (OutgoingRequest, rafka_group::membership::SyncGroupParams) {
        let req = self.send();
        match &req.request {
            GroupRequest::SyncGroup(p) => {
                let p = p.clone();
                (req, p)
            }
            other => panic!("expected SyncGroup, got {other:?}"),
        }
    }

    fn answer_sync(&mut self, req: &OutgoingRequest, code: i16, assigned: &[TopicPartition]) {
        let mut r = SyncGroupResponse::default();
        r.error_code = code;
        r.assignment = Assignment {
            partitions: assigned.to_vec(),
            user_data: None,
        }
        .encode(3)
        .unwrap();
        self.m.handle_sync_response(req.id, &r, self.now);
    }

    fn heartbeat(&mut self) -> OutgoingRequest {
        let req = self.send();
        assert!(matches!(req.request, GroupRequest::Heartbeat(_)), "{req:?}");
        req
    }

    fn answer_heartbeat(&mut self, req: &OutgoingRequest, code: i16) {
        let mut r = HeartbeatResponse::default();
        r.error_code = code;
        self.m.handle_heartbeat_response(req.id, &r, self.now);
    }

    /// Drives a fresh member to Stable as the group's only member and leader, holding
    /// `assigned`, in generation `generation`.
    fn stable(&mut self, generation: i32, assigned: &[TopicPartition]) {
        self.m.join(self.now);
        self.find(1);
        let (req, p) = self.join_request();
        let r = join_ok(
            generation,
            "m1",
            "m1",
            &p.protocols[0].0,
            &[("m1", p.protocols[0].1.clone())],
        );
        self.answer_join(&req, &r);
        let (sync, _) = self.sync_request();
        self.answer_sync(&sync, NONE, assigned);
        match self.event() {
            Event::PartitionsAssigned { assignment, .. } => assert_eq!(assignment, assigned),
            e => panic!("{e:?}"),
        }
        assert!(self.m.is_stable());
    }
}

fn join_ok(
    generation: i32,
    member: &str,
    leader: &str,
    protocol: &str,
    members: &[(&str, Bytes)],
) -> JoinGroupResponse {
    let mut r = JoinGroupResponse::default();
    r.generation_id = generation;
    r.member_id = sb(member);
    r.leader = sb(leader);
    r.protocol_type = Some(sb("consumer"));
    r.protocol_name = Some(sb(protocol));
    r.members = members
        .iter()
        .map(|(id, meta)| {
            let mut m = JoinGroupResponseMember::default();
            m.member_id = sb(id);
            m.metadata = meta.clone();
            m
        })
        .collect();
    r
}

fn join_err(code: i16, member: &str) -> JoinGroupResponse {
    let mut r = JoinGroupResponse::default();
    r.error_code = code;
    r.generation_id = -1;
    r.member_id = sb(member);
    r
}

fn assignments(
    p: &rafka_group::membership::SyncGroupParams,
) -> BTreeMap<String, Vec<TopicPartition>> {
    p.assignments
        .iter()
        .map(|(m, b)| (m.clone(), Assignment::decode(b).unwrap().partitions))
        .collect()
}

fn fatal_code(e: Event) -> i16 {
    match e {
        Event::Fatal(err) => err.code().expect("broker error"),
        other => panic!("expected Fatal, got {other:?}"),
    }
}

const SEC: Duration = Duration::from_secs(1);

#[test]
fn two_step_join_leader_assigns_then_heartbeats() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    s.find(7);
    let (req, p) = s.join_request();
    assert_eq!(
        req.destination,
        Destination::Coordinator(s.m.coordinator().unwrap().clone())
    );
    assert_eq!(p.member_id, "");
    assert_eq!(p.protocol_type, "consumer");
    assert_eq!(p.session_timeout_ms, 45_000);
    assert_eq!(p.rebalance_timeout_ms, 300_000);
    // JoinGroup may be held for the rebalance timeout: Java waits rebalance + 5 s.
    assert_eq!(req.timeout, Duration::from_secs(305));
    let sub = Subscription::decode(&p.protocols[0].1).unwrap();
    assert_eq!(p.protocols[0].0, "range");
    assert_eq!(sub.topics, vec!["t".to_owned()]);
    assert_eq!(sub.generation_id, None);

    // KIP-394: first answer only hands out the member id; the retry goes out at once.
    s.answer_join(&req, &join_err(MEMBER_ID_REQUIRED, "m1"));
    let (req2, p2) = s.join_request();
    assert_eq!(p2.member_id, "m1");
    assert_eq!(s.m.generation(), None);

    let r = join_ok(1, "m1", "m1", "range", &[("m1", p2.protocols[0].1.clone())]);
    s.answer_join(&req2, &r);
    assert!(s.m.is_leader());
    let (sync, sp) = s.sync_request();
    assert_eq!(sp.generation_id, 1);
    assert_eq!(sp.protocol_name, "range");
    assert_eq!(
        assignments(&sp)["m1"],
        vec![tp("t", 0), tp("t", 1), tp("t", 2)]
    );
    s.answer_sync(&sync, NONE, &[tp("t", 0), tp("t", 1), tp("t", 2)]);
    match s.event() {
        Event::PartitionsAssigned {
            partitions,
            assignment,
            generation,
        } => {
            assert_eq!(partitions, assignment);
            assert_eq!(generation.generation_id, 1);
            assert_eq!(generation.member_id, "m1");
            assert_eq!(generation.protocol_name.as_deref(), Some("range"));
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(s.m.generation().unwrap().generation_id, 1);
    assert_eq!(s.m.generation_if_stable().unwrap().generation_id, 1);
    assert_eq!(s.m.group_metadata().member_id, "m1");

    // Heartbeats every 3 s, one at a time.
    s.idle();
    s.advance(2 * SEC);
    s.idle();
    s.advance(SEC);
    let hb = s.heartbeat();
    match &hb.request {
        GroupRequest::Heartbeat(h) => {
            assert_eq!((h.generation_id, h.member_id.as_str()), (1, "m1"));
        }
        _ => unreachable!(),
    }
    s.advance(3 * SEC);
    s.idle(); // previous one still in flight
    s.answer_heartbeat(&hb, NONE);
    let hb2 = s.heartbeat(); // overdue, goes at once
    s.answer_heartbeat(&hb2, NONE);
    s.idle();
}

#[test]
fn leader_waits_for_metadata_of_topics_only_others_subscribe_to() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    s.find(1);
    let (req, p) = s.join_request();
    let other = Subscription {
        topics: vec!["u".into()],
        ..Default::default()
    }
    .encode(3)
    .unwrap();
    let r = join_ok(
        1,
        "m1",
        "m1",
        "range",
        &[("m1", p.protocols[0].1.clone()), ("m2", other)],
    );
    s.answer_join(&req, &r);
    match s.event() {
        Event::MetadataNeeded { topics } => {
            assert_eq!(topics.into_iter().collect::<Vec<_>>(), vec!["u"])
        }
        e => panic!("{e:?}"),
    }
    s.idle();
    s.m.metadata_changed(BTreeMap::from([("t".into(), 3), ("u".into(), 2)]), s.now);
    let (_, sp) = s.sync_request();
    let a = assignments(&sp);
    assert_eq!(a["m1"], vec![tp("t", 0), tp("t", 1), tp("t", 2)]);
    assert_eq!(a["m2"], vec![tp("u", 0), tp("u", 1)]);
}

#[test]
fn follower_sends_empty_sync_and_takes_its_assignment() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    s.find(1);
    let (req, _) = s.join_request();
    s.answer_join(&req, &join_ok(4, "m2", "m1", "range", &[]));
    assert!(!s.m.is_leader());
    let (sync, sp) = s.sync_request();
    assert!(sp.assignments.is_empty());
    s.answer_sync(&sync, NONE, &[tp("t", 2)]);
    assert!(
        matches!(s.event(), Event::PartitionsAssigned { assignment, .. } if assignment == vec![tp("t", 2)])
    );
}

#[test]
fn eager_revokes_everything_and_waits_for_ack_before_joining() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.stable(1, &[tp("t", 0), tp("t", 1)]);
    s.advance(3 * SEC);
    let hb = s.heartbeat();
    s.answer_heartbeat(&hb, REBALANCE_IN_PROGRESS);
    match s.event() {
        Event::PartitionsRevoked {
            partitions,
            generation,
        } => {
            assert_eq!(partitions, vec![tp("t", 0), tp("t", 1)]);
            assert_eq!(generation.generation_id, 1);
        }
        e => panic!("{e:?}"),
    }
    // No JoinGroup while the revoke hooks run; heartbeats continue meanwhile.
    s.idle();
    s.advance(3 * SEC);
    let hb = s.heartbeat();
    s.answer_heartbeat(&hb, REBALANCE_IN_PROGRESS);
    s.idle();
    s.m.ack_revoked(s.now);
    let (_, p) = s.join_request();
    assert_eq!(p.member_id, "m1");
    assert!(s.m.generation_if_stable().is_none(), "rebalancing");
    assert_eq!(s.m.generation().unwrap().generation_id, 1);
    let sub = Subscription::decode(&p.protocols[0].1).unwrap();
    assert!(sub.owned_partitions.is_empty());
    assert_eq!(sub.generation_id, Some(1));
    assert!(s.m.assignment().is_empty());
}

#[test]
fn rebalance_in_progress_heartbeat_is_ignored_while_awaiting_sync() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    s.find(1);
    let (req, _) = s.join_request();
    s.answer_join(&req, &join_ok(1, "m2", "m1", "range", &[]));
    let (sync, _) = s.sync_request();
    s.advance(3 * SEC);
    let hb = s.heartbeat();
    s.answer_heartbeat(&hb, REBALANCE_IN_PROGRESS);
    s.idle();
    s.answer_sync(&sync, NONE, &[tp("t", 0)]);
    assert!(matches!(s.event(), Event::PartitionsAssigned { .. }));
    assert!(s.m.is_stable());
}

#[test]
fn unknown_member_id_on_heartbeat_loses_partitions_and_rejoins_fresh() {
    for code in [UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION] {
        let mut s = Sim::with(Arc::new(RangeAssignor));
        s.stable(3, &[tp("t", 0)]);
        s.advance(3 * SEC);
        let hb = s.heartbeat();
        s.answer_heartbeat(&hb, code);
        assert_eq!(
            s.event(),
            Event::PartitionsLost {
                partitions: vec![tp("t", 0)]
            }
        );
        assert_eq!(s.m.generation(), None);
        s.idle();
        s.m.ack_revoked(s.now);
        let (_, p) = s.join_request();
        assert_eq!(p.member_id, "", "member id reset after {code}");
        assert_eq!(
            Subscription::decode(&p.protocols[0].1)
                .unwrap()
                .generation_id,
            None
        );
    }
}

#[test]
fn sync_errors() {
    // ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID: reset and rejoin without a member id.
    for code in [ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID] {
        let mut s = Sim::with(Arc::new(RangeAssignor));
        s.m.join(s.now);
        s.find(1);
        let (req, _) = s.join_request();
        s.answer_join(&req, &join_ok(1, "m2", "m1", "range", &[]));
        let (sync, _) = s.sync_request();
        s.answer_sync(&sync, code, &[]);
        let (_, p) = s.join_request();
        assert_eq!(p.member_id, "");
    }
    // REBALANCE_IN_PROGRESS: rejoin at once, keeping the member id.
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    s.find(1);
    let (req, _) = s.join_request();
    s.answer_join(&req, &join_ok(1, "m2", "m1", "range", &[]));
    let (sync, _) = s.sync_request();
    s.answer_sync(&sync, REBALANCE_IN_PROGRESS, &[]);
    let (_, p) = s.join_request();
    assert_eq!(p.member_id, "m2");
    // FENCED_INSTANCE_ID and authorization: fatal.
    for code in [FENCED_INSTANCE_ID, GROUP_AUTHORIZATION_FAILED] {
        let mut s = Sim::with(Arc::new(RangeAssignor));
        s.m.join(s.now);
        s.find(1);
        let (req, _) = s.join_request();
        s.answer_join(&req, &join_ok(1, "m2", "m1", "range", &[]));
        let (sync, _) = s.sync_request();
        s.answer_sync(&sync, code, &[]);
        assert_eq!(fatal_code(s.event()), code);
        assert!(s.m.is_closed());
        s.advance(10 * SEC);
        s.idle();
    }
}

#[test]
fn join_errors_that_are_fatal() {
    for code in [
        FENCED_INSTANCE_ID,
        INCONSISTENT_GROUP_PROTOCOL,
        INVALID_SESSION_TIMEOUT,
        GROUP_MAX_SIZE_REACHED,
        GROUP_AUTHORIZATION_FAILED,
    ] {
        let mut s = Sim::with(Arc::new(RangeAssignor));
        s.m.join(s.now);
        s.find(1);
        let (req, _) = s.join_request();
        s.answer_join(&req, &join_err(code, ""));
        assert_eq!(fatal_code(s.event()), code);
        assert!(s.m.is_closed());
        assert_eq!(s.m.poll_timeout(), None);
    }
}

#[test]
fn join_retries_rebalance_in_progress_at_once_and_load_in_progress_after_backoff() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    s.find(1);
    let (req, _) = s.join_request();
    s.answer_join(&req, &join_err(REBALANCE_IN_PROGRESS, ""));
    let (req, _) = s.join_request();
    s.answer_join(&req, &join_err(COORDINATOR_LOAD_IN_PROGRESS, ""));
    s.idle();
    assert_eq!(s.m.poll_timeout(), Some(s.now + Duration::from_millis(100)));
    s.advance(Duration::from_millis(99));
    s.idle();
    s.advance(Duration::from_millis(1));
    s.join_request();
    // UNKNOWN_SERVER_ERROR is surfaced (Java throws it from poll) and retried after backoff.
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    s.find(1);
    let (req, _) = s.join_request();
    s.answer_join(&req, &join_err(UNKNOWN_SERVER_ERROR, ""));
    assert!(matches!(
        s.event(),
        Event::Error(GroupError::Broker {
            api: "JoinGroup",
            ..
        })
    ));
    s.idle();
    s.advance(Duration::from_millis(100));
    s.join_request();
}

#[test]
fn coordinator_moves_and_requests_follow_it() {
    for code in [NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE] {
        let mut s = Sim::with(Arc::new(RangeAssignor));
        s.stable(1, &[tp("t", 0)]);
        s.advance(3 * SEC);
        let hb = s.heartbeat();
        s.answer_heartbeat(&hb, code);
        assert_eq!(s.event(), Event::CoordinatorChanged { coordinator: None });
        s.find(2); // rediscovery goes out at once
        s.idle(); // the failed heartbeat is retried after retry.backoff.ms
        s.advance(Duration::from_millis(100));
        let hb = s.heartbeat();
        assert!(matches!(hb.destination, Destination::Coordinator(ref c) if c.node_id == 2));
        s.answer_heartbeat(&hb, NONE);
        assert!(s.m.is_stable(), "membership survives a coordinator move");
        assert_eq!(s.m.assignment(), &[tp("t", 0)]);
    }
    // JoinGroup answered NOT_COORDINATOR: rediscover, then rejoin after the backoff.
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    s.find(1);
    let (req, _) = s.join_request();
    s.answer_join(&req, &join_err(NOT_COORDINATOR, ""));
    assert_eq!(s.event(), Event::CoordinatorChanged { coordinator: None });
    s.find(3);
    s.idle();
    s.advance(Duration::from_millis(100));
    let (req, _) = s.join_request();
    assert!(matches!(req.destination, Destination::Coordinator(ref c) if c.node_id == 3));
}

#[test]
fn stale_responses_never_change_the_current_generation() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.stable(1, &[tp("t", 0)]);
    s.advance(3 * SEC);
    let old_hb = s.heartbeat(); // sent under generation 1
    s.m.request_rejoin(s.now);
    assert!(matches!(s.event(), Event::PartitionsRevoked { .. }));
    s.m.ack_revoked(s.now);
    let (req, p) = s.join_request();
    s.answer_join(
        &req,
        &join_ok(2, "m1", "m1", "range", &[("m1", p.protocols[0].1.clone())]),
    );
    let (sync, _) = s.sync_request();
    s.answer_sync(&sync, NONE, &[tp("t", 1)]);
    assert!(matches!(s.event(), Event::PartitionsAssigned { .. }));
    // The generation-1 heartbeat now comes back ILLEGAL_GENERATION: ignored.
    s.answer_heartbeat(&old_hb, ILLEGAL_GENERATION);
    s.idle();
    assert_eq!(s.m.generation().unwrap().generation_id, 2);
    assert!(s.m.is_stable());
    // A response for a request the machine no longer tracks is ignored too.
    s.answer_join(&req, &join_ok(9, "zombie", "zombie", "range", &[]));
    s.answer_sync(&sync, ILLEGAL_GENERATION, &[]);
    s.idle();
    assert_eq!(s.m.generation().unwrap().generation_id, 2);
}

#[test]
fn session_expires_after_failed_heartbeats_and_partitions_are_lost() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.stable(1, &[tp("t", 0), tp("t", 2)]);
    let start = s.now;
    let mut lost = None;
    // The coordinator stops answering: every heartbeat times out, the coordinator is
    // re-found each time, and no heartbeat succeeds.
    while s.now < start + Duration::from_secs(46) {
        s.advance(SEC);
        s.pump();
        while let Some(req) = s.sends.pop_front() {
            match req.request {
                GroupRequest::Heartbeat(_) => s.m.handle_request_failed(req.id, s.now),
                GroupRequest::FindCoordinator(_) => {
                    let mut r = FindCoordinatorResponse::default();
                    r.node_id = BrokerId(1);
                    s.m.handle_find_coordinator_response(req.id, &r, s.now);
                }
                other => panic!("{other:?}"),
            }
            s.pump();
        }
        if let Some(i) = s
            .events
            .iter()
            .position(|e| matches!(e, Event::PartitionsLost { .. }))
        {
            lost = Some((s.now, s.events.remove(i).unwrap()));
            break;
        }
    }
    let (at, event) = lost.expect("partitions lost on session expiry");
    assert_eq!(
        event,
        Event::PartitionsLost {
            partitions: vec![tp("t", 0), tp("t", 2)]
        }
    );
    assert!(at >= start + Duration::from_secs(45));
    assert_eq!(s.m.generation(), None);
}

#[test]
fn member_that_stops_polling_leaves_and_rejoins_on_next_poll() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.stable(1, &[tp("t", 1)]);
    let start = s.now;
    // Heartbeats keep the session alive while the application does not poll.
    while s.now < start + Duration::from_secs(296) {
        s.advance(3 * SEC);
        let hb = s.heartbeat();
        s.answer_heartbeat(&hb, NONE);
    }
    s.idle();
    s.advance(Duration::from_secs(3)); // 300 s + since the last poll
    s.pump();
    let leave = s
        .sends
        .iter()
        .find(|r| matches!(r.request, GroupRequest::LeaveGroup(_)))
        .cloned()
        .expect("LeaveGroup on poll timeout");
    assert!(matches!(leave.request, GroupRequest::LeaveGroup(ref l) if l.member_id == "m1"));
    assert_eq!(
        s.event(),
        Event::PartitionsLost {
            partitions: vec![tp("t", 1)]
        }
    );
    s.m.handle_leave_response(leave.id, &LeaveGroupResponse::default(), s.now);
    s.sends.clear();
    s.m.ack_revoked(s.now);
    s.idle(); // no rejoin until the application polls
    s.m.poll_called(s.now);
    let (_, p) = s.join_request();
    assert_eq!(p.member_id, "");
}

#[test]
fn dynamic_member_leaves_with_leave_group_static_member_does_not() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.stable(1, &[tp("t", 0)]);
    s.m.leave(s.now);
    assert!(matches!(s.event(), Event::PartitionsRevoked { .. }));
    s.idle();
    s.m.ack_revoked(s.now);
    let req = s.send();
    assert!(matches!(req.request, GroupRequest::LeaveGroup(ref l) if l.member_id == "m1"));
    s.m.handle_leave_response(req.id, &LeaveGroupResponse::default(), s.now);
    assert_eq!(s.event(), Event::Left);
    assert!(s.m.is_closed());

    let mut c = GroupConfig::new("g");
    c.assignors = vec![Arc::new(RangeAssignor)];
    c.group_instance_id = Some("instance-1".into());
    let mut s = Sim::new(c);
    s.stable(1, &[tp("t", 0)]);
    s.m.leave(s.now);
    assert!(matches!(s.event(), Event::PartitionsRevoked { .. }));
    s.m.ack_revoked(s.now);
    assert_eq!(s.event(), Event::Left);
    s.idle(); // KIP-345: no LeaveGroup, the coordinator keeps the assignment for a restart
}

#[test]
fn static_member_is_fenced_by_heartbeat() {
    let mut c = GroupConfig::new("g");
    c.assignors = vec![Arc::new(RangeAssignor)];
    c.group_instance_id = Some("instance-1".into());
    let mut s = Sim::new(c);
    s.stable(1, &[tp("t", 0)]);
    s.advance(3 * SEC);
    let hb = s.heartbeat();
    assert!(
        matches!(hb.request, GroupRequest::Heartbeat(ref h) if h.group_instance_id.as_deref() == Some("instance-1"))
    );
    s.answer_heartbeat(&hb, FENCED_INSTANCE_ID);
    assert_eq!(fatal_code(s.event()), FENCED_INSTANCE_ID);
}

#[test]
fn cooperative_handover_takes_two_rebalances() {
    let mut s = Sim::with(Arc::new(CooperativeStickyAssignor));
    s.stable(1, &[tp("t", 0), tp("t", 1), tp("t", 2)]);
    // m2 joins: the coordinator asks for a rebalance.
    s.advance(3 * SEC);
    let hb = s.heartbeat();
    s.answer_heartbeat(&hb, REBALANCE_IN_PROGRESS);
    // Cooperative: nothing revoked before joining, owned partitions travel in the join.
    let (req, p) = s.join_request();
    let mine = Subscription::decode(&p.protocols[0].1).unwrap();
    assert_eq!(
        mine.owned_partitions,
        vec![tp("t", 0), tp("t", 1), tp("t", 2)]
    );
    assert_eq!(mine.generation_id, Some(1));
    let m2 = Subscription {
        topics: vec!["t".into()],
        generation_id: None,
        ..Default::default()
    }
    .encode(3)
    .unwrap();
    s.answer_join(
        &req,
        &join_ok(
            2,
            "m1",
            "m1",
            "cooperative-sticky",
            &[("m1", p.protocols[0].1.clone()), ("m2", m2.clone())],
        ),
    );
    let (sync, sp) = s.sync_request();
    let a = assignments(&sp);
    // First rebalance: m1 keeps two, t-2 is withheld from m2 until m1 revokes it.
    assert_eq!(a["m1"], vec![tp("t", 0), tp("t", 1)]);
    assert_eq!(a["m2"], Vec::<TopicPartition>::new());
    s.answer_sync(&sync, NONE, &a["m1"]);
    match s.event() {
        Event::PartitionsRevoked {
            partitions,
            generation,
        } => {
            assert_eq!(partitions, vec![tp("t", 2)]);
            assert_eq!(generation.generation_id, 2);
        }
        e => panic!("{e:?}"),
    }
    assert!(
        matches!(s.event(), Event::PartitionsAssigned { partitions, .. } if partitions.is_empty())
    );
    s.idle(); // the follow-up join waits for the revoke hooks
    s.m.ack_revoked(s.now);
    let (req, p) = s.join_request();
    let mine = Subscription::decode(&p.protocols[0].1).unwrap();
    assert_eq!(mine.owned_partitions, vec![tp("t", 0), tp("t", 1)]);
    assert_eq!(mine.generation_id, Some(2));
    s.answer_join(
        &req,
        &join_ok(
            3,
            "m1",
            "m1",
            "cooperative-sticky",
            &[("m1", p.protocols[0].1.clone()), ("m2", m2)],
        ),
    );
    let (sync, sp) = s.sync_request();
    let a = assignments(&sp);
    // Second rebalance: t-2 is free and goes to m2.
    assert_eq!(a["m1"], vec![tp("t", 0), tp("t", 1)]);
    assert_eq!(a["m2"], vec![tp("t", 2)]);
    s.answer_sync(&sync, NONE, &a["m1"]);
    assert!(
        matches!(s.event(), Event::PartitionsAssigned { partitions, .. } if partitions.is_empty())
    );
    s.idle();
    assert!(s.m.is_stable());
}

#[test]
fn subscription_and_partition_count_changes_trigger_rejoin() {
    // The leader rejoins when a partition count it assigned from changes.
    let mut s = Sim::with(Arc::new(CooperativeStickyAssignor));
    s.stable(1, &[tp("t", 0), tp("t", 1), tp("t", 2)]);
    s.m.metadata_changed(BTreeMap::from([("t".into(), 3), ("x".into(), 1)]), s.now);
    s.idle(); // unrelated topic
    s.m.metadata_changed(BTreeMap::from([("t".into(), 4)]), s.now);
    s.join_request();

    // A follower does not (the leader notices).
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    s.find(1);
    let (req, _) = s.join_request();
    s.answer_join(&req, &join_ok(1, "m2", "m1", "range", &[]));
    let (sync, _) = s.sync_request();
    s.answer_sync(&sync, NONE, &[tp("t", 0)]);
    s.event();
    s.m.metadata_changed(BTreeMap::from([("t".into(), 6)]), s.now);
    s.idle();
    // Everyone rejoins when its own subscription changes; cooperative revokes only the
    // partitions of topics dropped.
    let mut s = Sim::with(Arc::new(CooperativeStickyAssignor));
    s.stable(1, &[tp("t", 0)]);
    s.m.set_subscription(["u"], s.now);
    match s.event() {
        Event::PartitionsRevoked { partitions, .. } => assert_eq!(partitions, vec![tp("t", 0)]),
        e => panic!("{e:?}"),
    }
    s.m.ack_revoked(s.now);
    let (_, p) = s.join_request();
    assert_eq!(
        Subscription::decode(&p.protocols[0].1).unwrap().topics,
        vec!["u".to_owned()]
    );
}

#[test]
fn pattern_subscription_follows_metadata() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.set_subscription_pattern(regex::Regex::new("t.*").unwrap(), s.now);
    s.m.metadata_changed(
        BTreeMap::from([
            ("t1".into(), 1),
            ("other".into(), 1),
            ("__consumer_offsets".into(), 50),
            ("xt".into(), 1),
        ]),
        s.now,
    );
    assert_eq!(
        s.m.subscribed_topics().iter().collect::<Vec<_>>(),
        vec!["t1"]
    );
    s.m.join(s.now);
    s.find(1);
    let (req, p) = s.join_request();
    s.answer_join(
        &req,
        &join_ok(1, "m1", "m1", "range", &[("m1", p.protocols[0].1.clone())]),
    );
    let (sync, _) = s.sync_request();
    s.answer_sync(&sync, NONE, &[tp("t1", 0)]);
    s.event();
    s.m.metadata_changed(BTreeMap::from([("t1".into(), 1), ("t2".into(), 1)]), s.now);
    assert!(matches!(s.event(), Event::PartitionsRevoked { .. })); // eager rejoin
}

#[test]
fn offset_commit_errors_affect_membership_only_for_the_current_generation() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.stable(5, &[tp("t", 0)]);
    let commit = |code: i16| {
        let mut p = OffsetCommitResponsePartition::default();
        p.error_code = code;
        let mut t = OffsetCommitResponseTopic::default();
        t.name = TopicName(sb("t"));
        t.partitions = vec![p];
        let mut r = OffsetCommitResponse::default();
        r.topics = vec![t];
        r
    };
    let current = s.m.generation().unwrap().clone();
    assert_eq!(
        s.m.handle_commit_response(&current, &commit(NONE), s.now),
        Ok(())
    );
    // A zombie's commit under an old generation: refused, membership untouched.
    let old = Generation {
        generation_id: 4,
        ..current.clone()
    };
    let err =
        s.m.handle_commit_response(&old, &commit(ILLEGAL_GENERATION), s.now)
            .unwrap_err();
    assert!(matches!(err, GroupError::CommitFailed { .. }));
    s.idle();
    assert!(s.m.is_stable());
    // REBALANCE_IN_PROGRESS: rejoin (eager revocation first), generation kept.
    let err =
        s.m.handle_commit_response(&current, &commit(REBALANCE_IN_PROGRESS), s.now)
            .unwrap_err();
    assert_eq!(err.code(), Some(REBALANCE_IN_PROGRESS));
    assert!(matches!(s.event(), Event::PartitionsRevoked { .. }));
    assert_eq!(s.m.generation().unwrap().generation_id, 5);

    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.stable(5, &[tp("t", 0)]);
    let current = s.m.generation().unwrap().clone();
    let err =
        s.m.handle_commit_response(&current, &commit(UNKNOWN_MEMBER_ID), s.now)
            .unwrap_err();
    assert!(matches!(err, GroupError::CommitFailed { .. }));
    assert_eq!(
        s.event(),
        Event::PartitionsLost {
            partitions: vec![tp("t", 0)]
        }
    );
    assert_eq!(s.m.generation(), None);

    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.stable(5, &[tp("t", 0)]);
    let current = s.m.generation().unwrap().clone();
    assert!(s
        .m
        .handle_commit_response(&current, &commit(NOT_COORDINATOR), s.now)
        .is_err());
    assert_eq!(s.event(), Event::CoordinatorChanged { coordinator: None });
}

#[test]
fn request_timeouts_on_join_rediscover_the_coordinator() {
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    s.find(1);
    let (req, _) = s.join_request();
    s.m.handle_request_failed(req.id, s.now);
    assert_eq!(s.event(), Event::CoordinatorChanged { coordinator: None });
    s.find(1);
    s.advance(Duration::from_millis(100));
    let (_, p) = s.join_request();
    assert_eq!(p.member_id, "");
}

#[test]
fn find_coordinator_v4_batched_answer() {
    use kafka_protocol::messages::find_coordinator_response::Coordinator as C;
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    let req = s.send();
    let mut c = C::default();
    c.key = sb("g");
    c.node_id = BrokerId(111);
    c.host = sb("127.0.0.1");
    c.port = 9092;
    let mut r = FindCoordinatorResponse::default();
    r.coordinators = vec![c];
    s.m.handle_find_coordinator_response(req.id, &r, s.now);
    assert!(
        matches!(s.event(), Event::CoordinatorChanged { coordinator: Some(ref c) } if c.node_id == 111 && c.host == "127.0.0.1")
    );
    s.join_request();
    // Errors retry after the backoff.
    let mut s = Sim::with(Arc::new(RangeAssignor));
    s.m.join(s.now);
    let req = s.send();
    let mut r = FindCoordinatorResponse::default();
    r.error_code = COORDINATOR_NOT_AVAILABLE;
    s.m.handle_find_coordinator_response(req.id, &r, s.now);
    s.idle();
    s.advance(Duration::from_millis(100));
    assert!(matches!(s.send().request, GroupRequest::FindCoordinator(_)));
}
