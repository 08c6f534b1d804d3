//! `rafka verifiable-consumer` in a group, driven the way Kafka's `consumer_test.py` drives the
//! Java tool: a verifiable producer writes while three members consume; one member is bounced
//! (SIGTERM, then restarted), another is hard-killed (SIGKILL). The event stream is checked
//! with the invariants of `verifiable_consumer.py`, and at the end every acknowledged record was
//! consumed at least once and the committed offsets reach the end of every partition.

mod cli_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use cli_support::{json_lines, rafka_bin, unique, Json};
use rafka_integration::TestBroker;

const PARTITIONS: i32 = 6;
const SESSION_TIMEOUT_MS: &str = "6000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Started,
    Joined,
    Rebalancing,
    Dead,
}

#[derive(Debug)]
struct Member {
    child: Option<Child>,
    /// The thread forwarding this process's stdout events; it ends at the process's EOF.
    reader: Option<std::thread::JoinHandle<()>>,
    state: State,
    assignment: BTreeSet<i32>,
    position: BTreeMap<i32, i64>,
    /// Kafka 4's verifiable consumer prints shutdown_requested when a signal arrives.
    shutdown_requested: bool,
    shutdown_complete: bool,
}

struct Group {
    addr: String,
    topic: String,
    group: String,
    config: std::path::PathBuf,
    members: Vec<Member>,
    tx: Sender<(usize, Json)>,
    rx: Receiver<(usize, Json)>,
    /// Consumed offset ranges per partition (inclusive).
    consumed: BTreeMap<i32, Vec<(i64, i64)>>,
    committed: BTreeMap<i32, i64>,
    total_consumed: i64,
    violations: Vec<String>,
}

impl Group {
    fn new(addr: String, topic: String, dir: &std::path::Path) -> Self {
        let (tx, rx) = channel();
        let config = dir.join("verifiable_consumer.properties");
        std::fs::write(
            &config,
            "# written by verifiable_consumer.rs\nclient.id=rafka-vc\n",
        )
        .unwrap();
        Group {
            addr,
            topic,
            group: unique("vc-group"),
            config,
            members: Vec::new(),
            tx,
            rx,
            consumed: BTreeMap::new(),
            committed: BTreeMap::new(),
            total_consumed: 0,
            violations: Vec::new(),
        }
    }

    fn spawn(&mut self) -> usize {
        let idx = self.members.len();
        let log = std::env::temp_dir().join(format!("{}-member-{idx}.log", self.group));
        let mut child = Command::new(rafka_bin())
            .arg("verifiable-consumer")
            .args(["--group-id", &self.group, "--topic", &self.topic])
            .args([
                "--bootstrap-server",
                &self.addr,
                "--session-timeout",
                SESSION_TIMEOUT_MS,
            ])
            .args([
                "--assignment-strategy",
                "org.apache.kafka.clients.consumer.RangeAssignor",
            ])
            .args(["--close-timeout", "20000"])
            .arg("--command-config")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn verifiable-consumer");
        let stdout = child.stdout.take().unwrap();
        let tx = self.tx.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(event) = Json::parse(line.trim()) {
                    if tx.send((idx, event)).is_err() {
                        return;
                    }
                }
            }
        });
        self.members.push(Member {
            child: Some(child),
            reader: Some(reader),
            state: State::Dead,
            assignment: BTreeSet::new(),
            position: BTreeMap::new(),
            shutdown_requested: false,
            shutdown_complete: false,
        });
        idx
    }

    /// The checks of verifiable_consumer.py's ConsumerEventHandler and global position tracking.
    fn handle(&mut self, idx: usize, e: &Json) {
        let m = &mut self.members[idx];
        match e.get("name").str().unwrap_or_default() {
            "startup_complete" => m.state = State::Started,
            "shutdown_requested" => m.shutdown_requested = true,
            "shutdown_complete" => {
                m.state = State::Dead;
                m.assignment.clear();
                m.position.clear();
                m.shutdown_complete = true;
            }
            "partitions_revoked" => {
                m.state = State::Rebalancing;
                m.position.clear();
            }
            "partitions_assigned" => {
                m.state = State::Joined;
                m.assignment = e
                    .get("partitions")
                    .arr()
                    .iter()
                    .map(|p| p.get("partition").i64().unwrap() as i32)
                    .collect();
            }
            "records_consumed" => {
                if m.state != State::Joined {
                    self.violations
                        .push(format!("member {idx} consumed while {:?}", m.state));
                }
                for batch in e.get("partitions").arr() {
                    let p = batch.get("partition").i64().unwrap() as i32;
                    let (min, max) = (
                        batch.get("minOffset").i64().unwrap(),
                        batch.get("maxOffset").i64().unwrap(),
                    );
                    if !m.assignment.contains(&p) {
                        self.violations.push(format!(
                            "member {idx} consumed partition {p} outside its assignment {:?}",
                            m.assignment
                        ));
                    }
                    if let Some(pos) = m.position.get(&p) {
                        if *pos != min {
                            self.violations.push(format!(
                                "member {idx} consumed partition {p} from {min}, expected {pos}"
                            ));
                        }
                    }
                    if let Some(c) = self.committed.get(&p) {
                        if *c > min {
                            self.violations.push(format!(
                                "partition {p}: consumed from {min}, behind the committed {c}"
                            ));
                        }
                    }
                    m.position.insert(p, max + 1);
                    self.consumed.entry(p).or_default().push((min, max));
                }
                self.total_consumed += e.get("count").i64().unwrap_or(0);
            }
            "offsets_committed" if e.get("success") == &Json::Bool(true) => {
                for o in e.get("offsets").arr() {
                    let p = o.get("partition").i64().unwrap() as i32;
                    let offset = o.get("offset").i64().unwrap();
                    if !m.assignment.contains(&p) {
                        self.violations.push(format!(
                            "member {idx} committed partition {p} outside its assignment"
                        ));
                    }
                    if m.position.get(&p).is_some_and(|pos| *pos < offset) {
                        self.violations.push(format!(
                            "member {idx} committed {offset} on {p} beyond its position"
                        ));
                    }
                    self.committed.insert(p, offset);
                }
            }
            _ => {}
        }
    }

    fn pump(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok((idx, e)) => self.handle(idx, &e),
                Err(_) => return,
            }
        }
    }

    fn wait_until(&mut self, what: &str, timeout: Duration, cond: impl Fn(&Group) -> bool) {
        let deadline = Instant::now() + timeout;
        while !cond(self) {
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for {what}; members: {:?}; committed: {:?}",
                self.members
                    .iter()
                    .map(|m| (m.state, m.assignment.clone()))
                    .collect::<Vec<_>>(),
                self.committed
            );
            self.pump(Duration::from_millis(100));
        }
    }

    fn alive(&self) -> impl Iterator<Item = &Member> {
        self.members
            .iter()
            .filter(|m| m.child.is_some() && m.state != State::Dead)
    }

    /// Every live member joined and together they own every partition exactly once.
    fn stable(&self, expected_members: usize) -> bool {
        let alive: Vec<&Member> = self.alive().collect();
        if alive.len() != expected_members || alive.iter().any(|m| m.state != State::Joined) {
            return false;
        }
        let mut owned = BTreeSet::new();
        alive
            .iter()
            .flat_map(|m| m.assignment.iter())
            .all(|p| owned.insert(*p))
            && owned == (0..PARTITIONS).collect()
    }

    fn signal(&mut self, idx: usize, signo: &str) {
        let pid = self.members[idx].child.as_ref().unwrap().id();
        let status = Command::new("kill")
            .args([signo, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGTERM: the member must finish cleanly (shutdown_complete, exit 0).
    fn stop_clean(&mut self, idx: usize) {
        self.signal(idx, "-TERM");
        self.wait_until("shutdown_complete", Duration::from_secs(30), |g| {
            g.members[idx].shutdown_complete
        });
        assert!(
            self.members[idx].shutdown_requested,
            "member {idx} printed shutdown_complete without shutdown_requested"
        );
        let mut child = self.members[idx].child.take().unwrap();
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "member {idx} exited with {status} after SIGTERM"
        );
    }

    /// SIGKILL: no goodbye; the coordinator must expel it after the session timeout.
    fn kill_hard(&mut self, idx: usize) {
        self.signal(idx, "-KILL");
        let mut child = self.members[idx].child.take().unwrap();
        let _ = child.wait();
        // What it printed before dying is still in its pipe or in the channel: handle all of
        // it while the member still has its assignment (as Kafka's harness reads a killed
        // member's output before marking it dead), or its last commits would look like
        // commits outside its assignment.
        if let Some(reader) = self.members[idx].reader.take() {
            let _ = reader.join();
        }
        while let Ok((i, e)) = self.rx.try_recv() {
            self.handle(i, &e);
        }
        let m = &mut self.members[idx];
        m.state = State::Dead;
        m.assignment.clear();
        m.position.clear();
    }

    fn covered(&self, p: i32, offset: i64) -> bool {
        self.consumed
            .get(&p)
            .is_some_and(|ranges| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&offset)))
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        for m in &mut self.members {
            if let Some(mut c) = m.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

#[test]
fn bounce_and_hard_failure_lose_no_records() {
    let broker = TestBroker::start().expect("start tansu");
    let addr = broker.addr();
    let topic = unique("vc");
    broker
        .create_topic(&topic, PARTITIONS)
        .expect("create topic");
    let dir = tempfile_dir();

    // The producer keeps writing while the group changes (about 15 s at 1000 msgs/s).
    let mut producer = Command::new(rafka_bin())
        .args([
            "verifiable-producer",
            "--topic",
            &topic,
            "--bootstrap-server",
            &addr,
        ])
        .args([
            "--max-messages",
            "15000",
            "--throughput",
            "1000",
            "--repeating-keys",
            "100",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn verifiable-producer");
    // Read its events as they come, as Kafka's harness does: an unread pipe fills up and
    // blocks the tool's printing.
    let producer_stdout = producer.stdout.take().expect("producer stdout");
    let producer_output = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(producer_stdout), &mut text);
        text
    });

    let mut g = Group::new(addr, topic, &dir);
    for _ in 0..3 {
        g.spawn();
    }
    g.wait_until(
        "3 members to own all partitions",
        Duration::from_secs(60),
        |g| g.stable(3),
    );
    g.wait_until("first records", Duration::from_secs(30), |g| {
        g.total_consumed > 1000
    });

    // Bounce member 0: clean shutdown (leave group, final commit), then a new process.
    g.stop_clean(0);
    g.spawn();
    g.wait_until(
        "the group to settle after the bounce",
        Duration::from_secs(60),
        |g| g.stable(3),
    );
    let before = g.total_consumed;
    g.wait_until("progress after the bounce", Duration::from_secs(30), |g| {
        g.total_consumed > before + 500
    });

    // Hard-kill the member that owns partition 0 (whichever it is now).
    let victim = g
        .members
        .iter()
        .position(|m| m.child.is_some() && m.assignment.contains(&0))
        .expect("someone owns partition 0");
    g.kill_hard(victim);
    g.wait_until(
        "the survivors to take over the killed member's partitions",
        Duration::from_secs(60),
        |g| g.stable(2),
    );

    let status = producer.wait().expect("producer exit");
    assert!(status.success(), "verifiable-producer failed: {status}");
    let stdout = producer_output.join().expect("producer stdout reader");
    let acked: Vec<(i32, i64)> = json_lines(&stdout)
        .iter()
        .filter(|e| e.get("name").str() == Some("producer_send_success"))
        .map(|e| {
            (
                e.get("partition").i64().unwrap() as i32,
                e.get("offset").i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(acked.len(), 15000, "every record is acknowledged");
    let mut end: BTreeMap<i32, i64> = BTreeMap::new();
    for (p, o) in &acked {
        let e = end.entry(*p).or_insert(0);
        *e = (*e).max(o + 1);
    }

    g.wait_until(
        "committed offsets to reach the end",
        Duration::from_secs(90),
        |g| end.iter().all(|(p, e)| g.committed.get(p) == Some(e)),
    );
    for idx in 0..g.members.len() {
        if g.members[idx].child.is_some() {
            g.stop_clean(idx);
        }
    }

    assert!(
        g.violations.is_empty(),
        "event-stream violations: {:#?}",
        g.violations
    );
    let lost: Vec<&(i32, i64)> = acked.iter().filter(|(p, o)| !g.covered(*p, *o)).collect();
    assert!(
        lost.is_empty(),
        "{} acked records never consumed, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    assert!(g.total_consumed >= acked.len() as i64);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique("rafka-vc"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
