//! `rafka demo --broker kafka`: a private 3-node Apache Kafka cluster (KRaft, every node a
//! combined broker and controller on loopback), run through `scripts/kafka.sh`, which installs
//! the jars from Maven Central when they are missing.
//!
//! The demo starts it fresh in its own folder (`target/demo/kafka` by default), can SIGKILL and
//! restart single nodes for `--kill-broker`, and stops it at the end.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rafka_client::Client;

/// Nodes of the demo's cluster.
pub const NODES: i32 = 3;

/// A Kafka cluster started by the demo; stopped on drop.
#[derive(Debug)]
pub struct DemoKafka {
    script: PathBuf,
    dir: PathBuf,
    port: u16,
    running: bool,
}

impl DemoKafka {
    /// Starts a fresh 3-node cluster in `dir` (deleted first) with client ports `port..port+2`
    /// (a free block when `None`) and the broker settings `confs` on every node; returns once
    /// every node lists every broker.
    ///
    /// # Errors
    /// When `scripts/kafka.sh` is not found, or the cluster does not start (the error carries
    /// the script's stderr, which ends with the failing node's log).
    pub fn start(
        dir: &Path,
        port: Option<u16>,
        confs: &[(String, String)],
    ) -> anyhow::Result<DemoKafka> {
        let root = super::repo_root()
            .context("--broker kafka needs the rafka repository (scripts/kafka.sh)")?;
        let script = root.join("scripts/kafka.sh");
        if !script.is_file() {
            bail!("--broker kafka needs {}", script.display());
        }
        let port = match port {
            Some(p) => p,
            None => free_port_block()?,
        };
        if dir.exists() {
            std::fs::remove_dir_all(dir)
                .with_context(|| format!("cannot remove the old cluster {}", dir.display()))?;
        }
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let mut cluster = DemoKafka {
            script,
            dir,
            port,
            running: true,
        };
        let mut args = vec![
            "start".to_string(),
            "--nodes".to_string(),
            NODES.to_string(),
            "--dir".to_string(),
            cluster.dir.display().to_string(),
            "--port".to_string(),
            port.to_string(),
        ];
        for (k, v) in confs {
            args.push("--conf".to_string());
            args.push(format!("{k}={v}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cluster.run(&args)?;
        if !out.status.success() {
            cluster.stop();
            bail!(
                "scripts/kafka.sh start failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(cluster)
    }

    /// `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`.
    pub fn bootstrap(&self) -> String {
        (1..=NODES)
            .map(|n| format!("127.0.0.1:{}", i32::from(self.port) + n - 1))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The cluster's folder (settings, data and `nI.log` of every node).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A handle that kills and restarts single nodes (for a task of its own).
    pub fn nodes(&self) -> NodeControl {
        NodeControl {
            script: self.script.clone(),
            dir: self.dir.clone(),
        }
    }

    /// Stops every node (SIGTERM, SIGKILL after 30 s); idempotent. The folder stays for its logs.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        let dir = self.dir.display().to_string();
        let _ = self.run(&["stop", "--dir", &dir]);
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        run_script(&self.script, args)
    }
}

fn run_script(script: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Command::new("bash")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {}", script.display()))
}

/// Kills and restarts single nodes of a [`DemoKafka`] (blocking: run it off the runtime).
#[derive(Debug, Clone)]
pub struct NodeControl {
    script: PathBuf,
    dir: PathBuf,
}

impl NodeControl {
    /// SIGKILLs node `node` (1-based, its `node.id`) and waits for its process to exit.
    ///
    /// # Errors
    /// When the script fails.
    pub fn kill(&self, node: i32) -> anyhow::Result<()> {
        self.node("kill", node)
    }

    /// Starts node `node` again on its data; returns at once (the node then catches up and
    /// rejoins the ISRs, see [`in_every_isr`]).
    ///
    /// # Errors
    /// When the script fails.
    pub fn restart(&self, node: i32) -> anyhow::Result<()> {
        self.node("start", node)
    }

    /// The log file of node `node`.
    pub fn log(&self, node: i32) -> PathBuf {
        self.dir.join(format!("n{node}.log"))
    }

    fn node(&self, action: &str, node: i32) -> anyhow::Result<()> {
        let out = run_script(
            &self.script,
            &[
                "node",
                action,
                &node.to_string(),
                "--dir",
                &self.dir.display().to_string(),
            ],
        )?;
        if !out.status.success() {
            bail!(
                "scripts/kafka.sh node {action} {node}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }
}

impl Drop for DemoKafka {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Leader and in-sync replicas of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionState {
    /// Leader node id, `None` while there is none.
    pub leader: Option<i32>,
    /// In-sync replica node ids.
    pub isr: Vec<i32>,
}

/// Leader and ISR of every partition of `topic`, from a fresh Metadata request.
///
/// # Errors
/// When no broker answers or the topic is unknown.
pub async fn partition_states(
    client: &Client,
    topic: &str,
) -> anyhow::Result<BTreeMap<i32, PartitionState>> {
    // Tracks the topic, then asks again: a cached answer would hide a leader change.
    client.metadata_for(&[topic]).await?;
    let md = client.refresh_metadata().await?;
    let info = md
        .topics
        .get(topic)
        .with_context(|| format!("topic {topic} not in metadata"))?;
    Ok(info
        .partitions
        .iter()
        .map(|(p, i)| {
            (
                *p,
                PartitionState {
                    leader: i.leader,
                    isr: i.isr.clone(),
                },
            )
        })
        .collect())
}

/// The partitions each node leads.
pub fn leaders(states: &BTreeMap<i32, PartitionState>) -> BTreeMap<i32, Vec<i32>> {
    let mut by_node: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for (p, s) in states {
        if let Some(l) = s.leader {
            by_node.entry(l).or_default().push(*p);
        }
    }
    by_node
}

/// The node to SIGKILL: the one leading the most partitions (the lowest id on a tie).
pub fn busiest_leader(states: &BTreeMap<i32, PartitionState>) -> Option<(i32, Vec<i32>)> {
    leaders(states)
        .into_iter()
        .max_by(|(na, pa), (nb, pb)| pa.len().cmp(&pb.len()).then(nb.cmp(na)))
}

/// True when no partition is led by `node` and every partition has a leader.
pub fn led_elsewhere(states: &BTreeMap<i32, PartitionState>, node: i32) -> bool {
    !states.is_empty() && states.values().all(|s| s.leader.is_some_and(|l| l != node))
}

/// True when `node` is in the ISR of every partition.
pub fn in_every_isr(states: &BTreeMap<i32, PartitionState>, node: i32) -> bool {
    !states.is_empty() && states.values().all(|s| s.isr.contains(&node))
}

/// Polls Metadata until `accept` holds for the topic's partitions, or `timeout` passes.
/// Returns how long it took.
///
/// # Errors
/// When it does not hold in time (naming the last state seen).
pub async fn wait_until(
    client: &Client,
    topic: &str,
    timeout: Duration,
    accept: impl Fn(&BTreeMap<i32, PartitionState>) -> bool,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut last = None;
    loop {
        if let Ok(states) = partition_states(client, topic).await {
            if accept(&states) {
                return Ok(started.elapsed());
            }
            last = Some(states);
        }
        if started.elapsed() > timeout {
            bail!("{topic}: condition not met within {timeout:?}; last state {last:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A base port with `NODES` client ports and `NODES` controller ports (base + 100) free.
fn free_port_block() -> anyhow::Result<u16> {
    let nodes = NODES as u16;
    for _ in 0..50 {
        let probe = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let base = probe.local_addr()?.port();
        drop(probe);
        if base > 65_000 - 200 {
            continue;
        }
        let all_free = (0..nodes).all(|i| {
            [base + i, base + 100 + i]
                .iter()
                .all(|p| TcpListener::bind((Ipv4Addr::LOCALHOST, *p)).is_ok())
        });
        if all_free {
            return Ok(base);
        }
    }
    bail!("no free block of ports for {NODES} Kafka nodes (pass --kafka-port)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(leader: Option<i32>, isr: &[i32]) -> PartitionState {
        PartitionState {
            leader,
            isr: isr.to_vec(),
        }
    }

    #[test]
    fn the_busiest_leader_is_chosen_and_its_loss_detected() {
        let mut s = BTreeMap::new();
        s.insert(0, state(Some(1), &[1, 2, 3]));
        s.insert(1, state(Some(2), &[1, 2, 3]));
        s.insert(2, state(Some(2), &[1, 2, 3]));
        s.insert(3, state(Some(3), &[1, 2, 3]));
        assert_eq!(busiest_leader(&s), Some((2, vec![1, 2])));
        assert!(!led_elsewhere(&s, 2));
        assert!(in_every_isr(&s, 2));
        s.insert(1, state(None, &[1, 3]));
        s.insert(2, state(Some(3), &[1, 3]));
        assert!(!led_elsewhere(&s, 2), "partition 1 has no leader yet");
        s.insert(1, state(Some(1), &[1, 3]));
        assert!(led_elsewhere(&s, 2));
        assert!(!in_every_isr(&s, 2));
        // A tie goes to the lowest node id.
        let mut t = BTreeMap::new();
        t.insert(0, state(Some(3), &[3]));
        t.insert(1, state(Some(1), &[1]));
        assert_eq!(busiest_leader(&t), Some((1, vec![1])));
        assert_eq!(busiest_leader(&BTreeMap::new()), None);
    }
}
