//! Helpers of the consumer-group tests (group_assignors.rs, group_interop.rs,
//! consumer_group_protocol.rs): rafka members on their own threads, a shared view of who owns
//! what, and what the membership task reports about each generation.
//!
//! Each rafka member runs on its own thread with a current-thread tokio runtime, so that:
//! - killing a member is dropping its runtime after `mem::forget(consumer)`: no LeaveGroup,
//!   no more heartbeats, sockets closed, exactly like a crashed process;
//! - a thread-local tracing subscriber sees only that member's events. The consumer does not
//!   expose its generation or member id, so they are read from the membership task's
//!   `joined group` / `JoinGroup answered` events (target `rafka_consumer::driver`).
#![allow(dead_code)] // each test file uses a different subset

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rafka::consumer::{
    AutoOffsetReset, Consumer, ConsumerConfig, ConsumerContext, ConsumerRebalanceListener,
    ListenerError,
};
use rafka::wire::TopicPartition;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// Session timeout of every member: Tansu holds JoinGroup about half of it (Kafka answers once
/// the members rejoined).
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(6);
/// Heartbeat interval of every member.
pub const HEARTBEAT: Duration = Duration::from_millis(500);

/// Everything the members of one group report, shared by their threads and the test.
#[derive(Default)]
pub struct GroupView {
    /// Partition → member name, maintained by the rebalance hooks.
    owners: Mutex<BTreeMap<TopicPartition, String>>,
    /// Member name → partitions it owns now (hooks' view).
    owned: Mutex<BTreeMap<String, BTreeSet<TopicPartition>>>,
    /// Broken invariants seen by the hooks.
    violations: Mutex<Vec<String>>,
    /// Generation → member name → the whole assignment the member had after that
    /// generation's assigned hook.
    generations: Mutex<BTreeMap<i32, BTreeMap<String, BTreeSet<TopicPartition>>>>,
    /// (partition, offset) of every record any member's poll returned.
    consumed: Mutex<BTreeMap<(String, i32), BTreeSet<i64>>>,
    /// Member name → (partition, value) of records it consumed.
    values: Mutex<BTreeMap<String, Vec<(i32, String)>>>,
    /// Member name → what the membership task reported last.
    joins: Mutex<BTreeMap<String, JoinInfo>>,
}

/// What a member's membership task reported about its last JoinGroup/SyncGroup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinInfo {
    /// The member id the coordinator gave.
    pub member_id: String,
    /// The group leader per the last JoinGroup response.
    pub leader: String,
    /// The generation of the last assignment.
    pub generation: i32,
}

impl GroupView {
    /// A new, empty view.
    pub fn new() -> Arc<GroupView> {
        Arc::new(GroupView::default())
    }

    /// Partitions `member` owns now.
    pub fn owned(&self, member: &str) -> BTreeSet<TopicPartition> {
        self.owned
            .lock()
            .unwrap()
            .get(member)
            .cloned()
            .unwrap_or_default()
    }

    /// Partition → owner, now.
    pub fn owners(&self) -> BTreeMap<TopicPartition, String> {
        self.owners.lock().unwrap().clone()
    }

    /// Invariants broken so far.
    pub fn violations(&self) -> Vec<String> {
        self.violations.lock().unwrap().clone()
    }

    /// Every generation seen, with each member's assignment in it.
    pub fn generations(&self) -> BTreeMap<i32, BTreeMap<String, BTreeSet<TopicPartition>>> {
        self.generations.lock().unwrap().clone()
    }

    /// Offsets consumed per (topic, partition).
    pub fn consumed(&self) -> BTreeMap<(String, i32), BTreeSet<i64>> {
        self.consumed.lock().unwrap().clone()
    }

    /// (partition, value) of records `member` consumed.
    pub fn values(&self, member: &str) -> Vec<(i32, String)> {
        self.values
            .lock()
            .unwrap()
            .get(member)
            .cloned()
            .unwrap_or_default()
    }

    /// What `member`'s membership task reported last.
    pub fn join(&self, member: &str) -> Option<JoinInfo> {
        self.joins.lock().unwrap().get(member).cloned()
    }

    fn violation(&self, msg: String) {
        eprintln!("VIOLATION: {msg}");
        self.violations.lock().unwrap().push(msg);
    }

    /// Forgets `member`'s partitions (it was killed: it cannot consume any more).
    fn forget_member(&self, member: &str) {
        self.owners.lock().unwrap().retain(|_, m| m != member);
        self.owned.lock().unwrap().remove(member);
    }
}

/// Checks every generation in `view`: no partition in two members' assignments of the same
/// generation, and no partition outside `all`. Returns the problems found.
pub fn generation_problems(view: &GroupView, all: &BTreeSet<TopicPartition>) -> Vec<String> {
    let mut problems = Vec::new();
    for (generation, members) in view.generations() {
        let mut seen: BTreeMap<&TopicPartition, &String> = BTreeMap::new();
        for (member, parts) in &members {
            for tp in parts {
                if !all.contains(tp) {
                    problems.push(format!(
                        "generation {generation}: {member} got unknown {tp:?}"
                    ));
                }
                if let Some(other) = seen.insert(tp, member) {
                    problems.push(format!(
                        "generation {generation}: {tp:?} assigned to both {other} and {member}"
                    ));
                }
            }
        }
    }
    problems
}

/// The rebalance listener of test members: keeps [`GroupView`] up to date and flags a
/// partition assigned while another member still owns it.
struct ViewListener {
    name: String,
    view: Arc<GroupView>,
    capture: Arc<Mutex<JoinInfo>>,
}

impl ViewListener {
    fn drop_partitions(&self, partitions: &[TopicPartition], why: &str) {
        let mut owners = self.view.owners.lock().unwrap();
        for tp in partitions {
            match owners.get(tp) {
                Some(m) if *m == self.name => {
                    owners.remove(tp);
                }
                other => self
                    .view
                    .violation(format!("{} {why} {tp:?} owned by {other:?}", self.name)),
            }
        }
        let mut owned = self.view.owned.lock().unwrap();
        let mine = owned.entry(self.name.clone()).or_default();
        for tp in partitions {
            mine.remove(tp);
        }
    }
}

impl ConsumerRebalanceListener for ViewListener {
    async fn on_partitions_revoked(
        &mut self,
        _consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        self.drop_partitions(partitions, "revoked");
        Ok(())
    }

    async fn on_partitions_lost(
        &mut self,
        _consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        self.drop_partitions(partitions, "lost");
        Ok(())
    }

    async fn on_partitions_assigned(
        &mut self,
        _consumer: &mut ConsumerContext<'_>,
        partitions: &[TopicPartition],
    ) -> Result<(), ListenerError> {
        {
            let mut owners = self.view.owners.lock().unwrap();
            for tp in partitions {
                if let Some(other) = owners.get(tp).filter(|o| **o != self.name) {
                    self.view.violation(format!(
                        "{tp:?} assigned to {} while {other} still owns it",
                        self.name
                    ));
                }
                owners.insert(tp.clone(), self.name.clone());
            }
        }
        let whole = {
            let mut owned = self.view.owned.lock().unwrap();
            let mine = owned.entry(self.name.clone()).or_default();
            mine.extend(partitions.iter().cloned());
            mine.clone()
        };
        let info = self.capture.lock().unwrap().clone();
        if trace() {
            eprintln!(
                "{} gen {} assigned +{:?} -> {:?}",
                self.name,
                info.generation,
                partitions.iter().map(|t| t.partition).collect::<Vec<_>>(),
                whole.iter().map(|t| t.partition).collect::<Vec<_>>()
            );
        }
        self.view
            .joins
            .lock()
            .unwrap()
            .insert(self.name.clone(), info.clone());
        self.view
            .generations
            .lock()
            .unwrap()
            .entry(info.generation)
            .or_default()
            .insert(self.name.clone(), whole);
        Ok(())
    }
}

/// Reads generation, member id and leader from the membership task's events.
struct JoinCapture(Arc<Mutex<JoinInfo>>);

#[derive(Default)]
struct Fields {
    /// Every field as `name=value`, for `GROUP_TEST_TRACE`.
    all: String,
    message: String,
    generation: Option<i64>,
    member_id: Option<String>,
    leader: Option<String>,
}

impl Visit for Fields {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.all.push_str(&format!(" {}={value}", field.name()));
        if field.name() == "generation" {
            self.generation = Some(value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_debug(field, &value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}").trim_matches('"').to_string();
        self.all.push_str(&format!(" {}={text}", field.name()));
        match field.name() {
            "message" => self.message = text,
            "member_id" => self.member_id = Some(text),
            "leader" => self.leader = Some(text),
            _ => {}
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for JoinCapture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        if trace() {
            let t = std::thread::current();
            eprintln!(
                "{:?} {}{}",
                trace_start().elapsed(),
                t.name().unwrap_or("?"),
                f.all
            );
        }
        let mut info = self.0.lock().unwrap();
        match f.message.as_str() {
            "JoinGroup answered" => {
                if let Some(l) = f.leader.filter(|l| !l.is_empty()) {
                    info.leader = l;
                }
                if let Some(m) = f.member_id.filter(|m| !m.is_empty()) {
                    info.member_id = m;
                }
            }
            "joined group" => {
                if let Some(g) = f.generation {
                    info.generation = g as i32;
                }
                if let Some(m) = f.member_id.filter(|m| !m.is_empty()) {
                    info.member_id = m;
                }
            }
            _ => {}
        }
    }
}

/// `GROUP_TEST_TRACE=1` prints every hook call and membership event with a timestamp.
fn trace() -> bool {
    std::env::var_os("GROUP_TEST_TRACE").is_some()
}

fn trace_start() -> Instant {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *START.get_or_init(Instant::now)
}

const RUN: u8 = 0;
const CLOSE: u8 = 1;
const KILL: u8 = 2;

/// A rafka group member polling on its own thread.
pub struct Member {
    /// Its name in [`GroupView`] (also its `client.id`).
    pub name: String,
    control: Arc<AtomicU8>,
    thread: Option<JoinHandle<()>>,
}

impl Member {
    /// Closes the consumer (revoke hook, commit, LeaveGroup) and waits for the thread.
    pub fn close(mut self) {
        self.control.store(CLOSE, Ordering::SeqCst);
        self.join();
    }

    /// Kills the member: its runtime is dropped with the consumer leaked, so no LeaveGroup and
    /// no commit are sent; the coordinator expels it after the session timeout.
    pub fn kill(mut self) {
        self.control.store(KILL, Ordering::SeqCst);
        self.join();
    }

    fn join(&mut self) {
        if let Some(t) = self.thread.take() {
            t.join().expect("member thread panicked");
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.control.store(KILL, Ordering::SeqCst);
            let _ = self.thread.take().map(|t| t.join());
        }
    }
}

/// Starts rafka member `name` (also its `client.id`) of `group` on `topic` with assignor
/// `strategy`; auto-commit every 200 ms; records and hooks go to `view`.
pub fn spawn_member(
    addr: &str,
    group: &str,
    topic: &str,
    strategy: &str,
    name: &str,
    view: Arc<GroupView>,
) -> Member {
    let config = ConsumerConfig::builder(addr)
        .group_id(group)
        .client_id(name)
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .session_timeout(SESSION_TIMEOUT)
        .heartbeat_interval(HEARTBEAT)
        .fetch_max_wait(Duration::from_millis(100))
        .auto_commit_interval(Duration::from_millis(200))
        .partition_assignment_strategy([strategy])
        .build()
        .expect("consumer config");
    spawn_member_with(config, topic, name, view)
}

/// Starts member `name` with `config` (whose `client.id` should be `name`) on `topic`;
/// records and hooks go to `view`.
pub fn spawn_member_with(
    config: ConsumerConfig,
    topic: &str,
    name: &str,
    view: Arc<GroupView>,
) -> Member {
    let control = Arc::new(AtomicU8::new(RUN));
    let (name, topic) = (name.to_string(), topic.to_string());
    let thread = {
        let (control, name) = (control.clone(), name.clone());
        std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || run_member(config, topic, name, view, control))
            .expect("spawn member thread")
    };
    Member {
        name,
        control,
        thread: Some(thread),
    }
}

fn run_member(
    config: ConsumerConfig,
    topic: String,
    name: String,
    view: Arc<GroupView>,
    control: Arc<AtomicU8>,
) {
    let capture = Arc::new(Mutex::new(JoinInfo::default()));
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("rafka_consumer::driver", tracing::Level::DEBUG);
    let subscriber =
        tracing_subscriber::registry().with(JoinCapture(capture.clone()).with_filter(filter));
    let _guard = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let listener = ViewListener {
        name: name.clone(),
        view: view.clone(),
        capture,
    };
    rt.block_on(async {
        let mut consumer = Consumer::new(config).expect("consumer");
        consumer
            .subscribe_with_listener([topic.as_str()], listener)
            .expect("subscribe");
        loop {
            match control.load(Ordering::SeqCst) {
                CLOSE => {
                    consumer.close().await.expect("close");
                    return;
                }
                KILL => {
                    // A crash: nothing more is sent. Dropping would leave the group.
                    std::mem::forget(consumer);
                    view.forget_member(&name);
                    return;
                }
                _ => {}
            }
            let records = match consumer.poll(Duration::from_millis(100)).await {
                Ok(r) => r,
                Err(e) => {
                    // A hook or commit error is reported once; membership carries on.
                    eprintln!("{name}: poll error: {e}");
                    continue;
                }
            };
            if records.is_empty() {
                continue;
            }
            let mut consumed = view.consumed.lock().unwrap();
            let mut values = view.values.lock().unwrap();
            for r in records {
                consumed
                    .entry((r.topic.to_string(), r.partition))
                    .or_default()
                    .insert(r.offset);
                let v = String::from_utf8_lossy(r.value.as_deref().unwrap_or_default());
                values
                    .entry(name.clone())
                    .or_default()
                    .push((r.partition, v.into_owned()));
            }
        }
    });
    // Dropping the runtime drops every task of the member (group task, fetchers, connections).
    drop(rt);
}

/// Polls `f` every 50 ms until it returns true; panics with `what` and `detail()` after
/// `within`.
pub async fn wait_for(
    what: &str,
    within: Duration,
    mut f: impl FnMut() -> bool,
    detail: impl Fn() -> String,
) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}: {}",
            detail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The partitions 0..n of `topic`.
pub fn partitions(topic: &str, n: i32) -> BTreeSet<TopicPartition> {
    (0..n).map(|p| TopicPartition::new(topic, p)).collect()
}
