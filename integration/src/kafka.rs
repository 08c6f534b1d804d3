//! Apache Kafka, the reference broker: [`KafkaCluster`], a private KRaft cluster a test may break
//! (stop, SIGKILL and restart single nodes), and [`shared_kafka`], the 3-node cluster that
//! `scripts/test.sh` starts for the whole run.
//!
//! Both run through `scripts/kafka.sh`, which installs the broker jars from Maven Central and
//! writes every node's settings (see `docs/brokers.md`). Every node is a combined
//! broker+controller on loopback: node `i` (1-based) listens on `port + i - 1` for clients.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rafka::client::admin::{IsolationLevel, NewTopic, OffsetSpec};
use rafka::client::{Admin, Client, ClientConfig};
use rafka::wire::TopicPartition;

use crate::env::{repo_root, BOOTSTRAP};

/// The shared Apache Kafka cluster `scripts/test.sh` starts (`RAFKA_TEST_BOOTSTRAP`, three nodes
/// on `127.0.0.1:39092-39094`), or `None` when the variable is unset.
pub fn shared_kafka() -> Option<String> {
    std::env::var(BOOTSTRAP).ok().filter(|v| !v.is_empty())
}

/// A name no other test of this run uses: `prefix`, the process id and a counter. Topics and
/// groups on the shared cluster outlive a test, so every test names its own.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// A private Apache Kafka cluster of 1 or 3 combined nodes, stopped and deleted on drop.
#[derive(Debug)]
pub struct KafkaCluster {
    dir: PathBuf,
    nodes: i32,
    port: u16,
    /// Extra client listeners: name and the port of node 1 (node i: port + i - 1).
    listeners: Vec<(String, u16)>,
}

impl KafkaCluster {
    /// Starts a cluster of `nodes` (1 or 3) with the script's settings; returns once Metadata
    /// from every node lists every broker.
    ///
    /// # Errors
    /// When the jars cannot be installed, a node fails to start, or the cluster is not ready in
    /// `KAFKA_READY_TIMEOUT_S` (default 120 s) (the error carries the end of the failing node's log).
    pub fn start(nodes: i32) -> anyhow::Result<KafkaCluster> {
        Self::start_with(nodes, &[])
    }

    /// Like [`KafkaCluster::start`] with extra broker settings on every node, e.g.
    /// `("unclean.leader.election.enable", "true")`.
    ///
    /// # Errors
    /// As [`KafkaCluster::start`].
    pub fn start_with(nodes: i32, settings: &[(&str, &str)]) -> anyhow::Result<KafkaCluster> {
        Self::start_with_listeners(nodes, &[], settings)
    }

    /// Like [`KafkaCluster::start_with`] with extra client listeners beside `PLAINTEXT`:
    /// `(name, security protocol)` pairs such as `("SASL_PLAINTEXT", "SASL_PLAINTEXT")` or
    /// `("MTLS", "SSL")`, each on its own free ports, advertised, and added to
    /// `listener.security.protocol.map`. Their settings go in `settings`
    /// (`listener.name.<lowercase name>.…`); [`KafkaCluster::listener_bootstrap`] gives their
    /// addresses. The cluster is ready once its `PLAINTEXT` listener answers.
    ///
    /// # Errors
    /// As [`KafkaCluster::start`]; also more than 9 extra listeners.
    pub fn start_with_listeners(
        nodes: i32,
        listeners: &[(&str, &str)],
        settings: &[(&str, &str)],
    ) -> anyhow::Result<KafkaCluster> {
        if listeners.len() > 9 {
            bail!("at most 9 extra listeners");
        }
        let port = free_port_block_with(nodes, listeners.len())?;
        let dir = std::env::temp_dir().join(format!("rafka-kafka-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        let cluster = KafkaCluster {
            dir,
            nodes,
            port,
            listeners: listeners
                .iter()
                .enumerate()
                .map(|(k, (name, _))| (name.to_string(), extra_listener_port(port, k)))
                .collect(),
        };
        let mut args = vec![
            "start".to_string(),
            "--nodes".into(),
            nodes.to_string(),
            "--dir".into(),
            cluster.dir.display().to_string(),
            "--port".into(),
            port.to_string(),
        ];
        for ((name, protocol), (_, lport)) in listeners.iter().zip(&cluster.listeners) {
            args.push("--listener".into());
            args.push(format!("{name}:{protocol}={lport}"));
        }
        for (k, v) in settings {
            args.push("--conf".into());
            args.push(format!("{k}={v}"));
        }
        let out = script(&args)?;
        if !out.status.success() {
            bail!(
                "kafka.sh start failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(cluster)
    }

    /// The bootstrap list of every node, `127.0.0.1:P1,127.0.0.1:P2,...`.
    pub fn bootstrap(&self) -> String {
        (1..=self.nodes)
            .map(|n| self.addr(n))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `127.0.0.1:PORT` of node `node` (1-based, as its `node.id`).
    pub fn addr(&self, node: i32) -> String {
        format!("127.0.0.1:{}", self.port as i32 + node - 1)
    }

    /// The bootstrap list of every node on the extra listener `name` (see
    /// [`KafkaCluster::start_with_listeners`]), `None` for a listener the cluster does not have.
    pub fn listener_bootstrap(&self, name: &str) -> Option<String> {
        let (_, port) = self.listeners.iter().find(|(n, _)| n == name)?;
        Some(
            (0..self.nodes)
                .map(|i| format!("127.0.0.1:{}", *port as i32 + i))
                .collect::<Vec<_>>()
                .join(","),
        )
    }

    /// The node ids, `1..=nodes`.
    pub fn node_ids(&self) -> Vec<i32> {
        (1..=self.nodes).collect()
    }

    /// The node's log file (stdout and stderr of its JVM).
    pub fn log_path(&self, node: i32) -> PathBuf {
        self.dir.join(format!("n{node}.log"))
    }

    /// The folder holding every node's settings, data and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// SIGKILLs node `node` and waits for its process to exit.
    ///
    /// # Errors
    /// When the script fails.
    pub fn kill(&self, node: i32) -> anyhow::Result<()> {
        self.node_action("kill", node)
    }

    /// Stops node `node` with SIGTERM (a controlled shutdown: leadership moves first) and waits
    /// up to 30 s for it to exit, then SIGKILLs it.
    ///
    /// # Errors
    /// When the script fails.
    pub fn stop(&self, node: i32) -> anyhow::Result<()> {
        self.node_action("stop", node)
    }

    /// Starts node `node` again with its data and returns at once; see
    /// [`KafkaCluster::wait_for_brokers`].
    ///
    /// # Errors
    /// When the script fails.
    pub fn restart(&self, node: i32) -> anyhow::Result<()> {
        self.node_action("start", node)
    }

    fn node_action(&self, action: &str, node: i32) -> anyhow::Result<()> {
        let out = script(&[
            "node".into(),
            action.into(),
            node.to_string(),
            "--dir".into(),
            self.dir.display().to_string(),
        ])?;
        if !out.status.success() {
            bail!(
                "kafka.sh node {action} {node}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// A client of this cluster (bootstrap: every node).
    ///
    /// # Errors
    /// When no node answers.
    pub async fn client(&self) -> anyhow::Result<Client> {
        Ok(Client::connect(ClientConfig::new(&self.bootstrap())).await?)
    }

    /// Waits until Metadata lists exactly the brokers `nodes`, connecting again as needed (after
    /// a full restart no node may be listening yet).
    ///
    /// # Errors
    /// When that does not happen within `timeout`.
    pub async fn wait_for_brokers(&self, nodes: &[i32], timeout: Duration) -> anyhow::Result<()> {
        let want: BTreeSet<i32> = nodes.iter().copied().collect();
        let deadline = Instant::now() + timeout;
        // Connects inside the loop: right after a full restart no node listens yet.
        let mut client = None;
        loop {
            if client.is_none() {
                client = self.client().await.ok();
            }
            if let Some(Ok(md)) = match &client {
                Some(c) => Some(c.refresh_metadata().await),
                None => None,
            } {
                let got: BTreeSet<i32> = md.brokers.keys().copied().collect();
                if got == want {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                bail!("brokers {want:?} not listed within {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Creates `name` with `partitions` partitions, replication factor `replication_factor` and
    /// `min.insync.replicas` = `min_isr`, then waits until every partition has a leader and a full
    /// ISR.
    ///
    /// # Errors
    /// When CreateTopics fails or the partitions are not ready in 60 s.
    pub async fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        min_isr: i16,
    ) -> anyhow::Result<()> {
        create_topic(
            &self.bootstrap(),
            name,
            partitions,
            replication_factor,
            &[("min.insync.replicas", &min_isr.to_string())],
        )
        .await
    }

    /// The current leader and ISR of a partition, from a fresh Metadata request.
    ///
    /// # Errors
    /// When Metadata fails or does not know the partition.
    pub async fn partition_state(
        &self,
        topic: &str,
        partition: i32,
    ) -> anyhow::Result<(Option<i32>, Vec<i32>)> {
        let client = self.client().await?;
        partition_state(&client, topic, partition).await
    }

    /// Polls Metadata until `accept(leader, isr)` holds for the partition; returns that state.
    ///
    /// # Errors
    /// When it does not hold within `timeout`.
    pub async fn wait_for_partition(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
        accept: impl Fn(Option<i32>, &[i32]) -> bool,
    ) -> anyhow::Result<(Option<i32>, Vec<i32>)> {
        let client = self.client().await?;
        let deadline = Instant::now() + timeout;
        let mut last = None;
        loop {
            if let Ok((leader, isr)) = partition_state(&client, topic, partition).await {
                if accept(leader, &isr) {
                    return Ok((leader, isr));
                }
                last = Some((leader, isr));
            }
            if Instant::now() >= deadline {
                bail!("{topic}-{partition}: condition not met within {timeout:?}; last {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for KafkaCluster {
    fn drop(&mut self) {
        let _ = script(&[
            "stop".into(),
            "--dir".into(),
            self.dir.display().to_string(),
        ]);
        if std::env::var_os("RAFKA_KEEP_KAFKA_LOGS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Creates a topic on any Kafka at `bootstrap` with topic `configs`, then waits until every
/// partition has a leader and `replication_factor` in-sync replicas, and every leader serves its
/// partition (answers ListOffsets).
///
/// # Errors
/// When CreateTopics fails (the topic exists, too few brokers) or the partitions are not ready in
/// 60 s.
pub async fn create_topic(
    bootstrap: &str,
    name: &str,
    partitions: i32,
    replication_factor: i16,
    configs: &[(&str, &str)],
) -> anyhow::Result<()> {
    let client = Client::connect(ClientConfig::new(bootstrap)).await?;
    let mut topic = NewTopic::new(name, partitions, replication_factor);
    for (k, v) in configs {
        topic = topic.config(*k, *v);
    }
    let results = Admin::new(client.clone())
        .create_topics(&[topic], false)
        .await
        .with_context(|| format!("creating {name}"))?;
    for (topic, result) in results {
        result.with_context(|| format!("creating {topic}"))?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut ready = true;
        for p in 0..partitions {
            match partition_state(&client, name, p).await {
                Ok((Some(_), isr)) if isr.len() == replication_factor as usize => {}
                _ => ready = false,
            }
        }
        if ready {
            break;
        }
        if Instant::now() >= deadline {
            bail!("{name}: partitions without a leader or a full ISR after 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Metadata can name a leader before that broker has taken the topic in from the metadata
    // log; a Produce sent then is refused (and an acks=0 one lost). Wait until every leader
    // answers ListOffsets for its partitions, as Kafka's own test utilities do.
    let wanted: Vec<(TopicPartition, OffsetSpec)> = (0..partitions)
        .map(|p| (TopicPartition::new(name, p), OffsetSpec::Latest))
        .collect();
    loop {
        let answers = Admin::new(client.clone())
            .list_offsets(&wanted, IsolationLevel::ReadUncommitted)
            .await?;
        if answers.values().all(|r| r.is_ok()) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{name}: leaders do not serve their partitions after 60 s: {answers:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn partition_state(
    client: &Client,
    topic: &str,
    partition: i32,
) -> anyhow::Result<(Option<i32>, Vec<i32>)> {
    // Tracks the topic, then asks again: a cached answer would hide a leader change.
    client.metadata_for(&[topic]).await?;
    let md = client.refresh_metadata().await?;
    let info = md
        .topics
        .get(topic)
        .and_then(|t| t.partitions.get(&partition))
        .with_context(|| format!("{topic}-{partition} not in metadata"))?;
    Ok((info.leader, info.isr.clone()))
}

fn script(args: &[String]) -> anyhow::Result<std::process::Output> {
    let path = repo_root().join("scripts/kafka.sh");
    Command::new("bash")
        .arg(&path)
        .args(args)
        .output()
        .with_context(|| format!("running {}", path.display()))
}

/// The port of node 1 on extra listener `k` (0-based) of a cluster based at `base`.
fn extra_listener_port(base: u16, k: usize) -> u16 {
    base + 10 * (k as u16 + 1)
}

/// A base port with `nodes` client ports, `nodes` controller ports (base + 100) and `nodes`
/// ports for each of `extra` listeners (base + 10, base + 20, ...) free.
fn free_port_block_with(nodes: i32, extra: usize) -> anyhow::Result<u16> {
    for _ in 0..50 {
        let probe = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let base = probe.local_addr()?.port();
        drop(probe);
        if base > 65_000 - 200 {
            continue;
        }
        let all_free = (0..nodes as u16).all(|i| {
            [base + i, base + 100 + i]
                .into_iter()
                .chain((0..extra).map(|k| extra_listener_port(base, k) + i))
                .all(|p| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok())
        });
        if all_free {
            return Ok(base);
        }
    }
    bail!("no free block of ports for {nodes} Kafka nodes")
}
