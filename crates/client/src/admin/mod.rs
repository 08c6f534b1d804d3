//! Cluster administration on top of [`crate::Client`], as Java's `Admin` client.
//!
//! # Layout
//! - [`topics`]: create, delete and list topics; describe the cluster and configs.
//! - [`partitions`]: raise partition counts (CreatePartitions), delete records (DeleteRecords).
//! - [`configs`]: change configs (IncrementalAlterConfigs).
//! - [`offsets`]: ListOffsets for many partitions at once, grouped by leader.
//! - `leaders`: the group-by-leader-and-retry loop behind ListOffsets and DeleteRecords.
//! - [`groups`]: list, describe and delete groups; read and alter their committed offsets.
//! - [`scram`]: describe and alter users' SCRAM credentials (KIP-554).
//!
//! Every operation retries retriable errors (with metadata or coordinator refresh) until
//! `default.api.timeout.ms`; per-topic, per-partition and per-group errors come back in the
//! result map instead of failing the whole call.

pub mod configs;
pub mod groups;
mod leaders;
pub mod offsets;
pub mod partitions;
pub mod scram;
pub mod topics;

use crate::Client;

pub use configs::AlterConfigOp;
pub use groups::{GroupDescription, GroupListing, MemberDescription, OffsetAndMetadata};
pub use offsets::{IsolationLevel, ListedOffset, OffsetSpec};
pub use partitions::DELETE_TO_HIGH_WATERMARK;
pub use scram::{ScramCredentialAlteration, ScramCredentialInfo};
pub use topics::{ClusterDescription, ConfigEntry, ConfigResource, NewTopic};

/// Administrative operations (topics, partitions, records, offsets, groups, configs, SCRAM
/// credentials).
#[derive(Debug, Clone)]
pub struct Admin {
    client: Client,
}

impl Admin {
    /// Wraps a client.
    pub fn new(client: Client) -> Self {
        Admin { client }
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

pub(crate) fn str_bytes(s: &str) -> kafka_protocol::protocol::StrBytes {
    kafka_protocol::protocol::StrBytes::from_string(s.to_string())
}

pub(crate) fn topic_name(s: &str) -> kafka_protocol::messages::TopicName {
    kafka_protocol::messages::TopicName(str_bytes(s))
}
