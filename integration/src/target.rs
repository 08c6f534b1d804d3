//! [`TestTarget`]: the broker an integration test runs against.
//!
//! Under `scripts/test.sh` that is the shared 3-node Apache Kafka cluster
//! (`RAFKA_TEST_BOOTSTRAP`); the smoke subset runs the same tests a second time on a private
//! Tansu (`RAFKA_TEST_TARGET=tansu`). Run by hand with neither variable set, a test gets a private
//! Tansu, as before Kafka became the reference.
//!
//! The shared cluster outlives every test, so names go through [`TestTarget::topic`] and
//! [`TestTarget::group`]: on Kafka they get a suffix no other test uses; on a private Tansu they
//! stay as written.

use std::time::Duration;

use anyhow::Context;

use crate::broker::TestBroker;
use crate::env::TARGET;
use crate::kafka::{create_topic, shared_kafka, unique_name};

/// Which broker a [`TestTarget`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerKind {
    /// Apache Kafka, the reference broker.
    Kafka,
    /// Tansu, the light second target (see `docs/brokers.md` for where it differs).
    Tansu,
}

/// The broker of one test: the shared Kafka cluster or a private Tansu.
#[derive(Debug)]
pub struct TestTarget {
    kind: BrokerKind,
    bootstrap: String,
    suffix: String,
    tansu: Option<TestBroker>,
}

impl TestTarget {
    /// The target for this run: a private Tansu when `RAFKA_TEST_TARGET=tansu` or when no Kafka
    /// is configured, else the shared Kafka cluster.
    ///
    /// # Errors
    /// When a private Tansu cannot be started.
    pub fn start() -> anyhow::Result<TestTarget> {
        let want_tansu = std::env::var(TARGET).is_ok_and(|v| v == "tansu");
        match shared_kafka() {
            Some(bootstrap) if !want_tansu => Ok(TestTarget {
                kind: BrokerKind::Kafka,
                bootstrap,
                suffix: unique_name("t"),
                tansu: None,
            }),
            _ => {
                let broker = TestBroker::start()?;
                Ok(TestTarget {
                    kind: BrokerKind::Tansu,
                    bootstrap: broker.addr(),
                    suffix: String::new(),
                    tansu: Some(broker),
                })
            }
        }
    }

    /// Which broker this is.
    pub fn kind(&self) -> BrokerKind {
        self.kind
    }

    /// True on Apache Kafka.
    pub fn is_kafka(&self) -> bool {
        self.kind == BrokerKind::Kafka
    }

    /// The bootstrap list.
    pub fn addr(&self) -> String {
        self.bootstrap.clone()
    }

    /// The private Tansu, on Tansu.
    pub fn tansu(&mut self) -> Option<&mut TestBroker> {
        self.tansu.as_mut()
    }

    /// This test's name for topic `base`: `base` on a private Tansu, `base-<suffix>` on Kafka.
    pub fn topic(&self, base: &str) -> String {
        self.name(base)
    }

    /// This test's name for group (or transactional id) `base`, as [`TestTarget::topic`].
    pub fn group(&self, base: &str) -> String {
        self.name(base)
    }

    fn name(&self, base: &str) -> String {
        if self.suffix.is_empty() {
            base.to_string()
        } else {
            format!("{base}-{}", self.suffix)
        }
    }

    /// Creates topic `name` (already named through [`TestTarget::topic`]) with `partitions`
    /// partitions and waits until every partition has a leader. On Kafka the replication factor
    /// is 3 (every node of the shared cluster) with `min.insync.replicas` 2.
    ///
    /// Blocking, so it can be called from sync and async tests alike: it runs on a thread of
    /// its own.
    ///
    /// # Errors
    /// When creation fails (the topic exists, the broker is down).
    pub fn create_topic(&self, name: &str, partitions: i32) -> anyhow::Result<()> {
        match &self.tansu {
            Some(broker) => broker.create_topic(name, partitions),
            None => {
                let bootstrap = self.bootstrap.clone();
                let name = name.to_string();
                std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .context("runtime")?
                        .block_on(async {
                            tokio::time::timeout(
                                Duration::from_secs(90),
                                create_topic(
                                    &bootstrap,
                                    &name,
                                    partitions,
                                    3,
                                    &[("min.insync.replicas", "2")],
                                ),
                            )
                            .await
                            .context("creating a topic took over 90 s")?
                        })
                })
                .join()
                .map_err(|_| anyhow::anyhow!("topic creation thread panicked"))?
            }
        }
    }
}
