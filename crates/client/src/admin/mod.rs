//! Cluster administration on top of [`crate::Client`], as Java's `Admin` client.
//!
//! # Layout
//! - [`topics`]: create, delete and list topics; describe the cluster and configs.
//! - [`partitions`]: raise partition counts (CreatePartitions), delete records (DeleteRecords).
//! - [`configs`]: change configs (IncrementalAlterConfigs).
//! - [`offsets`]: ListOffsets for many partitions at once, grouped by leader.
//! - `leaders`: the group-by-leader-and-retry loop behind ListOffsets and DeleteRecords.
//! - [`groups`]: list, describe and delete groups; read and alter their committed offsets.
//! - [`consumer_groups`]: describe KIP-848 consumer groups (ConsumerGroupDescribe).
//! - [`scram`]: describe and alter users' SCRAM credentials (KIP-554).
//!
//! Every operation retries retriable errors (with metadata or coordinator refresh) until
//! `default.api.timeout.ms`; per-topic, per-partition and per-group errors come back in the
//! result map instead of failing the whole call.

pub mod configs;
pub mod consumer_groups;
pub mod groups;
mod leaders;
pub mod offsets;
pub mod partitions;
pub mod scram;
pub mod topics;

use std::collections::BTreeMap;

use rafka_wire::error_code::ErrorCode;
use rafka_wire::request::KafkaRequest;

use crate::client::Target;
use crate::connection::throttle::ThrottleTime;
use crate::error::Error;
use crate::Client;

pub use configs::AlterConfigOp;
pub use consumer_groups::{ConsumerGroupDescription, ConsumerGroupMember};
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

    /// `request.timeout.ms` as the i32 of a request's `timeout_ms` field.
    pub(crate) fn request_timeout_ms(&self) -> i32 {
        self.client
            .config()
            .request_timeout
            .as_millis()
            .min(i32::MAX as u128) as i32
    }

    /// Sends a per-topic request to the controller (CreateTopics, CreatePartitions), retrying
    /// retriable failures until `default.api.timeout.ms`; NOT_CONTROLLER on any topic means the
    /// request went to the wrong broker, so metadata is refreshed and the request sent again.
    /// `results` lists each topic's `(name, error_code, error_message)`; the answer maps every
    /// topic to its result.
    ///
    /// # Errors
    /// The error of the whole request after retries.
    pub(crate) async fn send_topics_to_controller<R>(
        &self,
        api: &'static str,
        request: R,
        results: impl Fn(&R::Response) -> Vec<(String, i16, Option<String>)>,
    ) -> Result<BTreeMap<String, Result<(), Error>>, Error>
    where
        R: KafkaRequest + Clone,
        R::Response: ThrottleTime,
    {
        let client = &self.client;
        let answers = client
            .with_retries(api, || async {
                let resp = client.send(Target::Controller, request.clone()).await?;
                let answers = results(&resp);
                if let Some((name, code, message)) = answers
                    .iter()
                    .find(|(_, code, _)| *code == ErrorCode::NOT_CONTROLLER.0)
                {
                    client.invalidate_metadata();
                    Error::check(*code, message.as_deref(), api, Some(name), None)?;
                }
                Ok(answers)
            })
            .await?;
        Ok(answers
            .into_iter()
            .map(|(name, code, message)| {
                let result = Error::check(code, message.as_deref(), api, Some(&name), None);
                (name, result)
            })
            .collect())
    }
}

pub(crate) fn str_bytes(s: &str) -> kafka_protocol::protocol::StrBytes {
    kafka_protocol::protocol::StrBytes::from_string(s.to_string())
}

pub(crate) fn topic_name(s: &str) -> kafka_protocol::messages::TopicName {
    kafka_protocol::messages::TopicName(str_bytes(s))
}
