//! Topics, cluster and configs: CreateTopics, DeleteTopics, Metadata (listing),
//! DescribeCluster (KIP-700) and DescribeConfigs.

use std::collections::BTreeMap;

use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{
    CreateTopicsRequest, DeleteTopicsRequest, DescribeClusterRequest, DescribeConfigsRequest,
};

use super::{str_bytes, topic_name, Admin};
use crate::client::{SendOptions, Target};
use crate::error::Error;
use crate::metadata::{BrokerInfo, TopicInfo};

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    /// Topic name.
    pub name: String,
    /// Partitions; -1 = the broker's `num.partitions` (KIP-464, CreateTopics v4+).
    pub num_partitions: i32,
    /// Replication factor; -1 = the broker's `default.replication.factor`.
    pub replication_factor: i16,
    /// Topic configs (`cleanup.policy`, `retention.ms`, ...).
    pub configs: BTreeMap<String, String>,
}

impl NewTopic {
    /// A topic with `partitions` and `replication_factor`, no configs.
    pub fn new(name: impl Into<String>, partitions: i32, replication_factor: i16) -> Self {
        NewTopic {
            name: name.into(),
            num_partitions: partitions,
            replication_factor,
            configs: BTreeMap::new(),
        }
    }

    /// Adds a topic config.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.configs.insert(key.into(), value.into());
        self
    }
}

/// A config resource for DescribeConfigs (resource types from Kafka's `ConfigResource.Type`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConfigResource {
    /// A topic's configs (type 2).
    Topic(String),
    /// A broker's configs (type 4), sent to that broker.
    Broker(i32),
}

impl ConfigResource {
    pub(crate) fn type_and_name(&self) -> (i8, String) {
        match self {
            ConfigResource::Topic(t) => (2, t.clone()),
            ConfigResource::Broker(id) => (4, id.to_string()),
        }
    }
}

/// One config value of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// Config name.
    pub name: String,
    /// Value; `None` when sensitive or unset.
    pub value: Option<String>,
    /// True when it cannot be changed.
    pub read_only: bool,
    /// Where the value comes from (`ConfigSource` ids: 1 topic, 4 static broker, 5 default, ...);
    /// -1 when the broker does not say.
    pub source: i8,
    /// True for passwords and the like.
    pub is_sensitive: bool,
}

/// The cluster as DescribeCluster reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDescription {
    /// Cluster id.
    pub cluster_id: String,
    /// Controller node id, `None` when unknown.
    pub controller: Option<i32>,
    /// Brokers by node id.
    pub brokers: BTreeMap<i32, BrokerInfo>,
}

impl Admin {
    /// Creates topics on the controller. Retries retriable failures (NOT_CONTROLLER,
    /// connection loss) until `default.api.timeout.ms`; per-topic errors such as
    /// TOPIC_ALREADY_EXISTS come back in the map. With `validate_only` the broker only checks
    /// the request (CreateTopics v1+). Successful topics are added to the tracked metadata and
    /// waited for until their partitions have leaders (unless `validate_only`).
    ///
    /// # Errors
    /// The error of the whole request after retries.
    pub async fn create_topics(
        &self,
        topics: &[NewTopic],
        validate_only: bool,
    ) -> Result<BTreeMap<String, Result<(), Error>>, Error> {
        let request = CreateTopicsRequest::default()
            .with_topics(
                topics
                    .iter()
                    .map(|t| {
                        CreatableTopic::default()
                            .with_name(topic_name(&t.name))
                            .with_num_partitions(t.num_partitions)
                            .with_replication_factor(t.replication_factor)
                            .with_configs(
                                t.configs
                                    .iter()
                                    .map(|(k, v)| {
                                        CreatableTopicConfig::default()
                                            .with_name(str_bytes(k))
                                            .with_value(Some(str_bytes(v)))
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            )
            .with_timeout_ms(self.request_timeout_ms())
            .with_validate_only(validate_only);
        let out = self
            .send_topics_to_controller("CreateTopics", request, |resp| {
                resp.topics
                    .iter()
                    .map(|t| {
                        let message = t.error_message.as_ref().map(|m| m.to_string());
                        (t.name.to_string(), t.error_code, message)
                    })
                    .collect()
            })
            .await?;
        if !validate_only {
            let created: Vec<&str> = out
                .iter()
                .filter(|(_, r)| r.is_ok())
                .map(|(n, _)| n.as_str())
                .collect();
            self.wait_for_topics(&created).await?;
        }
        Ok(out)
    }

    /// Creates one topic; TOPIC_ALREADY_EXISTS is an error.
    ///
    /// # Errors
    /// The topic's error or the request's.
    pub async fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i16,
    ) -> Result<(), Error> {
        let mut results = self
            .create_topics(
                &[NewTopic::new(name, partitions, replication_factor)],
                false,
            )
            .await?;
        results.remove(name).unwrap_or_else(|| {
            Err(Error::UnknownTopicOrPartition {
                topic: name.to_string(),
                partition: None,
            })
        })
    }

    /// Waits (within `default.api.timeout.ms`) until metadata lists every topic with a leader
    /// for each partition, as the brokers may lag the controller.
    async fn wait_for_topics(&self, topics: &[&str]) -> Result<(), Error> {
        if topics.is_empty() {
            return Ok(());
        }
        let client = self.client();
        client
            .with_retries("wait for created topics", || async {
                client.invalidate_metadata();
                let cluster = client.metadata_for(topics).await?;
                for t in topics {
                    let info =
                        cluster
                            .topics
                            .get(*t)
                            .ok_or_else(|| Error::UnknownTopicOrPartition {
                                topic: t.to_string(),
                                partition: None,
                            })?;
                    for p in info.partitions.values() {
                        cluster.leader_for(t, p.partition)?;
                    }
                }
                Ok(())
            })
            .await
    }

    /// Deletes topics on the controller; per-topic errors (UNKNOWN_TOPIC_OR_PARTITION) in the
    /// map.
    ///
    /// # Errors
    /// The error of the whole request after retries.
    pub async fn delete_topics(
        &self,
        topics: &[&str],
    ) -> Result<BTreeMap<String, Result<(), Error>>, Error> {
        let client = self.client();
        let timeout_ms = self.request_timeout_ms();
        let response = client
            .with_retries("DeleteTopics", || {
                client.send_with(Target::Controller, SendOptions::default(), |version| {
                    let req = DeleteTopicsRequest::default().with_timeout_ms(timeout_ms);
                    if version >= 6 {
                        // KIP-516: topics by name or id.
                        req.with_topics(
                            topics
                                .iter()
                                .map(|t| DeleteTopicState::default().with_name(Some(topic_name(t))))
                                .collect(),
                        )
                    } else {
                        req.with_topic_names(topics.iter().map(|t| topic_name(t)).collect())
                    }
                })
            })
            .await?;
        let mut out = BTreeMap::new();
        for r in &response.responses {
            let name = r.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
            let result = Error::check(
                r.error_code,
                r.error_message.as_deref(),
                "DeleteTopics",
                Some(&name),
                None,
            );
            if result.is_ok() {
                client.untrack_topic(&name);
            }
            out.insert(name, result);
        }
        client.invalidate_metadata();
        Ok(out)
    }

    /// Every topic in the cluster (Metadata for all topics), internal ones only when asked.
    ///
    /// # Errors
    /// Metadata errors after retries.
    pub async fn list_topics(
        &self,
        include_internal: bool,
    ) -> Result<BTreeMap<String, TopicInfo>, Error> {
        let client = self.client();
        let cluster = client
            .with_retries("list topics", || client.refresh_all_topics())
            .await?;
        Ok(cluster
            .topics
            .iter()
            .filter(|(_, t)| include_internal || !t.is_internal)
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect())
    }

    /// Brokers, controller and cluster id from DescribeCluster (KIP-700).
    ///
    /// # Errors
    /// The request's error after retries; [`Error::NoCommonVersion`] for brokers before 2.8.
    pub async fn describe_cluster(&self) -> Result<ClusterDescription, Error> {
        let client = self.client();
        let resp = client
            .with_retries("DescribeCluster", || async {
                let resp = client
                    .send_with(Target::Any, SendOptions::default(), |version| {
                        let req = DescribeClusterRequest::default();
                        // v1 added endpoint types; 1 = brokers (KIP-919).
                        if version >= 1 {
                            req.with_endpoint_type(1)
                        } else {
                            req
                        }
                    })
                    .await?;
                Error::check(
                    resp.error_code,
                    resp.error_message.as_deref(),
                    "DescribeCluster",
                    None,
                    None,
                )?;
                Ok(resp)
            })
            .await?;
        Ok(ClusterDescription {
            cluster_id: resp.cluster_id.to_string(),
            controller: (resp.controller_id.0 >= 0).then_some(resp.controller_id.0),
            brokers: resp
                .brokers
                .iter()
                .filter_map(|b| {
                    Some((
                        b.broker_id.0,
                        BrokerInfo {
                            node_id: b.broker_id.0,
                            host: b.host.to_string(),
                            port: u16::try_from(b.port).ok()?,
                            rack: b.rack.as_ref().map(|r| r.to_string()),
                        },
                    ))
                })
                .collect(),
        })
    }

    /// The configs of resources (all keys). Broker resources go to that broker, topics to any.
    ///
    /// # Errors
    /// The error of a whole request after retries; per-resource errors in the map.
    pub async fn describe_configs(
        &self,
        resources: &[ConfigResource],
    ) -> Result<BTreeMap<ConfigResource, Result<Vec<ConfigEntry>, Error>>, Error> {
        let client = self.client();
        let mut out = BTreeMap::new();
        // One request per destination: topics together, each broker alone.
        let mut batches: BTreeMap<Option<i32>, Vec<ConfigResource>> = BTreeMap::new();
        for r in resources {
            let dest = match r {
                ConfigResource::Broker(id) => Some(*id),
                ConfigResource::Topic(_) => None,
            };
            batches.entry(dest).or_default().push(r.clone());
        }
        for (dest, batch) in batches {
            let target = dest.map(Target::Broker).unwrap_or(Target::Any);
            let request = DescribeConfigsRequest::default().with_resources(
                batch
                    .iter()
                    .map(|r| {
                        let (kind, name) = r.type_and_name();
                        DescribeConfigsResource::default()
                            .with_resource_type(kind)
                            .with_resource_name(str_bytes(&name))
                            .with_configuration_keys(None)
                    })
                    .collect(),
            );
            let resp = client
                .with_retries("DescribeConfigs", || {
                    client.send(target.clone(), request.clone())
                })
                .await?;
            for result in &resp.results {
                let resource = match result.resource_type {
                    4 => match result.resource_name.parse() {
                        Ok(id) => ConfigResource::Broker(id),
                        Err(_) => continue,
                    },
                    _ => ConfigResource::Topic(result.resource_name.to_string()),
                };
                let topic = matches!(resource, ConfigResource::Topic(_))
                    .then(|| result.resource_name.to_string());
                let entry = Error::check(
                    result.error_code,
                    result.error_message.as_deref(),
                    "DescribeConfigs",
                    topic.as_deref(),
                    None,
                )
                .map(|()| {
                    result
                        .configs
                        .iter()
                        .map(|c| ConfigEntry {
                            name: c.name.to_string(),
                            value: c.value.as_ref().map(|v| v.to_string()),
                            read_only: c.read_only,
                            source: c.config_source,
                            is_sensitive: c.is_sensitive,
                        })
                        .collect()
                });
                out.insert(resource, entry);
            }
        }
        Ok(out)
    }
}
