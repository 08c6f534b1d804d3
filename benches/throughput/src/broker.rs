//! The brokers the clients run against: a private Tansu per scenario (started on a free
//! loopback port, killed on drop), or one private 1-node Apache Kafka for the whole run
//! (`scripts/kafka.sh start --nodes 1`), whose topics are deleted after each scenario.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Which broker a row ran against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BrokerKind {
    /// A private Tansu per scenario (memory storage).
    Tansu,
    /// One private 1-node Apache Kafka (KRaft) for the whole run.
    Kafka,
    /// Every scenario on Tansu, then on Kafka.
    Both,
}

impl BrokerKind {
    pub fn name(self) -> &'static str {
        match self {
            BrokerKind::Tansu => "Tansu",
            BrokerKind::Kafka => "Kafka",
            BrokerKind::Both => "both",
        }
    }

    /// `Both` as its two members.
    pub fn expand(kinds: &[BrokerKind]) -> Vec<BrokerKind> {
        let mut out = Vec::new();
        for k in kinds {
            let each: &[BrokerKind] = match k {
                BrokerKind::Both => &[BrokerKind::Tansu, BrokerKind::Kafka],
                one => std::slice::from_ref(one),
            };
            for e in each {
                if !out.contains(e) {
                    out.push(*e);
                }
            }
        }
        out
    }
}

/// `TANSU_BIN`, else the copy `scripts/tansu.sh install` puts under `.tansu/`.
pub fn tansu_binary() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("TANSU_BIN") {
        return Ok(PathBuf::from(p));
    }
    let root = repo_root();
    let status = Command::new("bash")
        .arg(root.join("scripts/tansu.sh"))
        .arg("install")
        .status()
        .context("running scripts/tansu.sh install")?;
    if !status.success() {
        bail!("scripts/tansu.sh install failed");
    }
    let out = Command::new("bash")
        .arg(root.join("scripts/tansu.sh"))
        .arg("path")
        .output()?;
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

/// Where scenarios get their broker from.
pub enum Source {
    Tansu(PathBuf),
    Kafka(Rc<KafkaCluster>),
}

impl Source {
    pub fn start(kind: BrokerKind) -> Result<Source> {
        Ok(match kind {
            BrokerKind::Tansu => Source::Tansu(tansu_binary()?),
            BrokerKind::Kafka => Source::Kafka(Rc::new(KafkaCluster::start()?)),
            BrokerKind::Both => bail!("expand `both` first"),
        })
    }

    pub fn kind(&self) -> BrokerKind {
        match self {
            Source::Tansu(_) => BrokerKind::Tansu,
            Source::Kafka(_) => BrokerKind::Kafka,
        }
    }

    /// A broker for one scenario: a fresh Tansu, or the run's Kafka.
    pub fn broker(&self) -> Result<Broker> {
        match self {
            Source::Tansu(bin) => Broker::tansu(bin),
            Source::Kafka(k) => Ok(Broker {
                addr: k.addr.clone(),
                inner: Inner::Kafka {
                    cluster: k.clone(),
                    topics: Default::default(),
                },
            }),
        }
    }
}

pub struct Broker {
    pub addr: String,
    inner: Inner,
}

enum Inner {
    Tansu {
        bin: PathBuf,
        child: Child,
    },
    Kafka {
        cluster: Rc<KafkaCluster>,
        topics: std::cell::RefCell<Vec<String>>,
    },
}

impl Broker {
    fn tansu(bin: &PathBuf) -> Result<Broker> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(bin)
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
            .with_context(|| format!("starting {}", bin.display()))?;
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&addr).is_err() {
            if Instant::now() > deadline {
                bail!("Tansu did not listen on {addr}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Broker {
            addr,
            inner: Inner::Tansu {
                bin: bin.clone(),
                child,
            },
        })
    }

    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        let status = match &self.inner {
            Inner::Tansu { bin, .. } => Command::new(bin)
                .args(["topic", "create", name, "--broker"])
                .arg(format!("tcp://{}", self.addr))
                .args(["--partitions", &partitions.to_string()])
                .stdout(Stdio::null())
                .status()?,
            Inner::Kafka { cluster, topics } => {
                topics.borrow_mut().push(name.to_string());
                cluster
                    .topic_tool()
                    .args(["--create", "--topic", name, "--partitions"])
                    .arg(partitions.to_string())
                    .args(["--replication-factor", "1"])
                    .stdout(Stdio::null())
                    .status()?
            }
        };
        if !status.success() {
            bail!("creating topic {name} failed");
        }
        Ok(())
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        match &mut self.inner {
            Inner::Tansu { child, .. } => {
                let _ = child.kill();
                let _ = child.wait();
            }
            // The cluster outlives the scenario: drop its topics so that the disk stays small.
            Inner::Kafka { cluster, topics } => {
                let topics = topics.borrow();
                if !topics.is_empty() {
                    let _ = cluster
                        .topic_tool()
                        .args(["--delete", "--topic"])
                        .arg(topics.join("|"))
                        .stdout(Stdio::null())
                        .status();
                }
            }
        }
    }
}

/// A private 1-node Kafka under a temporary directory, stopped (and the directory removed) on
/// drop.
pub struct KafkaCluster {
    pub addr: String,
    dir: PathBuf,
}

/// Ports other users of this machine's Kafka clusters hold (client ports and controller
/// ports, +100): the shared 3-node test cluster and another benchmark.
const RESERVED_PORTS: [u16; 8] = [39092, 39093, 39094, 39192, 39193, 39194, 49192, 49292];

fn free_port_pair() -> Result<u16> {
    for _ in 0..100 {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let Some(controller) = port.checked_add(100) else {
            continue;
        };
        if RESERVED_PORTS.contains(&port) || RESERVED_PORTS.contains(&controller) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", controller)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port P with P+100 also free")
}

impl KafkaCluster {
    fn script() -> PathBuf {
        repo_root().join("scripts/kafka.sh")
    }

    pub fn start() -> Result<KafkaCluster> {
        let port = free_port_pair()?;
        let dir = std::env::temp_dir().join(format!(
            "rafka-throughput-kafka-{}-{port}",
            std::process::id()
        ));
        eprintln!(
            "starting a 1-node Apache Kafka on 127.0.0.1:{port} in {}",
            dir.display()
        );
        let cluster = KafkaCluster {
            addr: format!("127.0.0.1:{port}"),
            dir,
        };
        // The clients may send requests of up to 8 MiB (max.request.size in every scenario).
        let status = Command::new("bash")
            .arg(Self::script())
            .args(["start", "--nodes", "1", "--dir"])
            .arg(&cluster.dir)
            .args(["--port", &port.to_string()])
            .args(["--conf", "message.max.bytes=8388608"])
            .args(["--conf", "socket.request.max.bytes=104857600"])
            .stdout(Stdio::null())
            .status()
            .context("running scripts/kafka.sh start")?;
        if !status.success() {
            bail!(
                "scripts/kafka.sh start failed (logs in {})",
                cluster.dir.display()
            );
        }
        Ok(cluster)
    }

    /// `kafka-topics` against this cluster; the caller adds the action.
    fn topic_tool(&self) -> Command {
        let mut c = Command::new("bash");
        c.arg(Self::script())
            .args(["tool", "org.apache.kafka.tools.TopicCommand"])
            .args(["--bootstrap-server", &self.addr]);
        c
    }
}

impl Drop for KafkaCluster {
    fn drop(&mut self) {
        let status = Command::new("bash")
            .arg(Self::script())
            .args(["stop", "--dir"])
            .arg(&self.dir)
            .status();
        if matches!(status, Ok(s) if s.success()) {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!(
                "stopping the Kafka in {} failed; its pid file is there",
                self.dir.display()
            );
        }
    }
}
