//! rafka-integration: fixtures for rafka's integration and interop tests (not shipped).
//!
//! # Layout
//! - [`broker`]: [`broker::TestBroker`], a private Tansu process per test, and
//!   [`broker::shared_broker_addr`], the broker `scripts/test.sh` starts for the whole run.
//! - [`kafka`]: [`kafka::KafkaCluster`], a private Apache Kafka cluster (1 or 3 KRaft nodes) a
//!   test may break, and [`kafka::shared_kafka`], the 3-node cluster `scripts/test.sh` starts.
//! - [`target`]: [`target::TestTarget`], the broker a test runs on: the shared Kafka cluster, or
//!   a private Tansu for the smoke subset (`RAFKA_TEST_TARGET=tansu`).
//! - [`java`]: [`java::Peer`], a Kafka Java tool (4.4) run by main class through
//!   `scripts/kafka.sh tool`, or any process printing JSON-line events, as an interop peer.
//! - [`proxy`]: [`proxy::MultiBrokerProxy`], N virtual brokers in front of one Tansu, with leader
//!   moves and fault injection (Tansu alone is always a single broker, node 111).
//! - [`python`]: run Python snippets with confluent-kafka 2.16 (librdkafka 2.16), the interop peer.
//! - [`raw`]: [`raw::RawConnection`], a bare kafka-protocol connection for exact-protocol tests.
//! - [`env`](mod@env): the environment the tests read, and the skip-or-fail rule for missing services.
//!
//! The tests themselves live in `integration/tests/*.rs`; `scripts/test.sh` sets the environment
//! (see `docs/brokers.md`).
#![warn(missing_docs)]

pub mod broker;
pub mod env;
pub mod forward;
pub mod java;
pub mod kafka;
pub mod proxy;
pub mod python;
pub mod raw;
pub mod target;

pub use broker::{shared_broker_addr, TestBroker};
pub use kafka::{shared_kafka, unique_name, KafkaCluster};
pub use proxy::{LoggedRequest, MultiBrokerProxy};
pub use target::{BrokerKind, TestTarget};
