//! Real-broker support: a private Tansu (see docs/brokers.md) and a blocking driver of a few
//! lines for the membership machine — one thread and one connection per member, one request
//! in flight at a time.
//!
//! The broker binary: `$TANSU_BIN`, else `<repo>/.tansu/bin/tansu` (`scripts/tansu.sh install`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    FindCoordinatorRequest, HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest,
};
use rafka_group::membership::{Action, Event, GroupConfig, GroupRequest, Membership};
use rafka_group::{Assignor, RangeAssignor};
use rafka_wire::request::{decode_response, encode_request, KafkaRequest};
use rafka_wire::TopicPartition;

pub struct Broker {
    child: Child,
    pub addr: String,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn tansu() -> PathBuf {
    if let Some(b) = std::env::var_os("TANSU_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(b);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let local = root.join(".tansu/bin/tansu");
    if !local.is_file() {
        let ok = Command::new("bash")
            .arg(root.join("scripts/tansu.sh"))
            .arg("install")
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "scripts/tansu.sh install failed");
    }
    local
}

pub fn start_broker() -> Broker {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("tcp://127.0.0.1:{port}");
    let child = Command::new(tansu())
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args(["--storage-engine", "memory://tansu/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tansu");
    let broker = Broker {
        child,
        addr: format!("127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(&broker.addr).is_err() {
        assert!(Instant::now() < deadline, "tansu did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new(tansu())
        .args([
            "topic",
            "create",
            "orders",
            "--broker",
            &url,
            "--partitions",
            "4",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "topic create");
    broker
}

/// One blocking request/response on `conn`.
pub fn call<R: KafkaRequest>(
    conn: &mut TcpStream,
    req: &R,
    version: i16,
    timeout: Duration,
) -> std::io::Result<R::Response> {
    let mut out = BytesMut::new();
    encode_request(req, version, 1, Some("rafka-group-test"), &mut out).unwrap();
    conn.write_all(&out)?;
    conn.set_read_timeout(Some(timeout))?;
    let mut size = [0u8; 4];
    conn.read_exact(&mut size)?;
    let size = i32::from_be_bytes(size);
    assert!((0..64 << 20).contains(&size), "frame size {size}");
    let mut frame = vec![0u8; size as usize];
    conn.read_exact(&mut frame)?;
    let (_, body) = decode_response::<R>(Bytes::from(frame), version).unwrap();
    Ok(body)
}

#[derive(Default)]
pub struct Shared {
    /// Each member's assignment while it holds one.
    pub assignments: BTreeMap<String, Vec<TopicPartition>>,
    /// Each member's metadata from the last JoinGroup answer it led: (member id, bytes).
    pub led: BTreeMap<String, Vec<(String, Bytes)>>,
    /// Each member's member id.
    pub member_ids: BTreeMap<String, String>,
    /// Partitions a member was given while another member still held them.
    pub double_owned: Vec<(String, TopicPartition)>,
    /// How many times each member received PartitionsRevoked.
    pub revocations: BTreeMap<String, usize>,
}

/// Runs one member until `stop` is set, then leaves. Records each assignment under `name`.
pub fn run_member(
    addr: String,
    name: &'static str,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
) {
    run_member_with(
        addr,
        name,
        shared,
        stop,
        Arc::new(RangeAssignor),
        Duration::from_secs(6),
    )
}

/// [`run_member`] with a chosen assignor and session timeout.
pub fn run_member_with(
    addr: String,
    name: &'static str,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    assignor: Arc<dyn Assignor>,
    session_timeout: Duration,
) {
    let mut config = GroupConfig::new("rafka-group-it");
    config.assignors = vec![assignor];
    config.session_timeout = session_timeout;
    config.heartbeat_interval = Duration::from_millis(500);
    config.rebalance_timeout = Duration::from_secs(10);
    let mut m = Membership::new(config).unwrap();
    let mut conn = TcpStream::connect(&addr).unwrap();
    let now = Instant::now();
    m.set_subscription(["orders"], now);
    m.metadata_changed(BTreeMap::from([("orders".to_owned(), 4)]), now);
    m.join(now);
    let mut leaving = false;
    loop {
        while let Some(action) = m.poll_action() {
            match action {
                Action::Send(out) => {
                    // Tansu is the only broker and coordinator: one connection serves all.
                    let t = out.timeout;
                    let id = out.id;
                    let done = match &out.request {
                        GroupRequest::FindCoordinator(p) => {
                            call::<FindCoordinatorRequest>(&mut conn, &p.to_request(4), 4, t)
                                .map(|r| m.handle_find_coordinator_response(id, &r, Instant::now()))
                        }
                        GroupRequest::JoinGroup(p) => {
                            call::<JoinGroupRequest>(&mut conn, &p.to_request(5), 5, t).map(|r| {
                                if r.error_code == 0 {
                                    let mut sh = shared.lock().unwrap();
                                    sh.member_ids
                                        .insert(name.to_owned(), r.member_id.to_string());
                                    if r.leader == r.member_id {
                                        let metas = r
                                            .members
                                            .iter()
                                            .map(|x| (x.member_id.to_string(), x.metadata.clone()))
                                            .collect();
                                        sh.led.insert(name.to_owned(), metas);
                                    } else {
                                        sh.led.remove(name);
                                    }
                                }
                                m.handle_join_response(id, &r, Instant::now())
                            })
                        }
                        GroupRequest::SyncGroup(p) => {
                            call::<SyncGroupRequest>(&mut conn, &p.to_request(3), 3, t)
                                .map(|r| m.handle_sync_response(id, &r, Instant::now()))
                        }
                        GroupRequest::Heartbeat(p) => {
                            call::<HeartbeatRequest>(&mut conn, &p.to_request(3), 3, t)
                                .map(|r| m.handle_heartbeat_response(id, &r, Instant::now()))
                        }
                        GroupRequest::LeaveGroup(p) => {
                            call::<LeaveGroupRequest>(&mut conn, &p.to_request(3), 3, t)
                                .map(|r| m.handle_leave_response(id, &r, Instant::now()))
                        }
                        other => panic!("unexpected {other:?}"),
                    };
                    if done.is_err() {
                        conn = TcpStream::connect(&addr).unwrap();
                        m.handle_request_failed(id, Instant::now());
                    }
                }
                Action::Event(Event::PartitionsRevoked { partitions, .. }) => {
                    let mut sh = shared.lock().unwrap();
                    *sh.revocations.entry(name.to_owned()).or_default() += 1;
                    if let Some(held) = sh.assignments.get_mut(name) {
                        held.retain(|tp| !partitions.contains(tp));
                    }
                    drop(sh);
                    m.ack_revoked(Instant::now());
                }
                Action::Event(Event::PartitionsLost { .. }) => {
                    shared.lock().unwrap().assignments.remove(name);
                    m.ack_revoked(Instant::now());
                }
                Action::Event(Event::PartitionsAssigned { assignment, .. }) => {
                    let mut sh = shared.lock().unwrap();
                    let clashes: Vec<(String, TopicPartition)> = sh
                        .assignments
                        .iter()
                        .filter(|(other, _)| other.as_str() != name)
                        .flat_map(|(_, held)| held.iter().filter(|tp| assignment.contains(tp)))
                        .map(|tp| (name.to_owned(), tp.clone()))
                        .collect();
                    sh.double_owned.extend(clashes);
                    sh.assignments.insert(name.to_owned(), assignment);
                }
                Action::Event(Event::Fatal(e)) => panic!("{name}: fatal {e}"),
                Action::Event(Event::Left) => {
                    shared.lock().unwrap().assignments.remove(name);
                    return;
                }
                Action::Event(_) => {}
            }
        }
        if stop.load(Ordering::SeqCst) && !leaving {
            leaving = true;
            m.leave(Instant::now());
            continue;
        }
        let now = Instant::now();
        let wake = m.poll_timeout().unwrap_or(now + Duration::from_millis(50));
        std::thread::sleep(
            wake.saturating_duration_since(now)
                .min(Duration::from_millis(50)),
        );
        m.poll_called(Instant::now());
        m.handle_timeout(Instant::now());
    }
}

pub fn wait_for(shared: &Mutex<Shared>, what: &str, f: impl Fn(&Shared) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f(&shared.lock().unwrap()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {:?}",
            shared.lock().unwrap().assignments
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
