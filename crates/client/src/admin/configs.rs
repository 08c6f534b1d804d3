//! Changing configs: IncrementalAlterConfigs (KIP-339), Java's `incrementalAlterConfigs`.
//! (Reading them is [`Admin::describe_configs`].)

use std::collections::BTreeMap;

use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::IncrementalAlterConfigsRequest;
use rafka_wire::error_code::ErrorCode;

use super::topics::ConfigResource;
use super::{str_bytes, Admin};
use crate::client::Target;
use crate::error::Error;

/// One change to one config key (KIP-339's `AlterConfigOp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterConfigOp {
    /// Sets the key to the value (operation 0).
    Set(String, String),
    /// Removes the key, so the default applies again (operation 1).
    Delete(String),
    /// Adds values to a list-valued key such as `cleanup.policy` (operation 2).
    Append(String, String),
    /// Removes values from a list-valued key (operation 3).
    Subtract(String, String),
}

impl AlterConfigOp {
    fn to_wire(&self) -> AlterableConfig {
        let (name, op, value) = match self {
            AlterConfigOp::Set(k, v) => (k, 0, Some(v)),
            AlterConfigOp::Delete(k) => (k, 1, None),
            AlterConfigOp::Append(k, v) => (k, 2, Some(v)),
            AlterConfigOp::Subtract(k, v) => (k, 3, Some(v)),
        };
        AlterableConfig::default()
            .with_name(str_bytes(name))
            .with_config_operation(op)
            .with_value(value.map(|v| str_bytes(v)))
    }
}

impl Admin {
    /// Applies config changes to resources (topics on any broker, a broker's own configs on
    /// that broker), keys not named keep their values. With `validate_only` the broker only
    /// checks the changes. Retries retriable failures until `default.api.timeout.ms`;
    /// per-resource errors come back in the map (INVALID_CONFIG for an unknown key or a bad
    /// value, UNKNOWN_TOPIC_OR_PARTITION, ...).
    ///
    /// # Errors
    /// The error of a whole request after retries.
    pub async fn incremental_alter_configs(
        &self,
        changes: &[(ConfigResource, Vec<AlterConfigOp>)],
        validate_only: bool,
    ) -> Result<BTreeMap<ConfigResource, Result<(), Error>>, Error> {
        let client = self.client();
        let mut out = BTreeMap::new();
        // One request per destination: topics together, each broker alone.
        let mut batches: BTreeMap<Option<i32>, Vec<&(ConfigResource, Vec<AlterConfigOp>)>> =
            BTreeMap::new();
        for change in changes {
            let dest = match &change.0 {
                ConfigResource::Broker(id) => Some(*id),
                ConfigResource::Topic(_) => None,
            };
            batches.entry(dest).or_default().push(change);
        }
        for (dest, batch) in batches {
            let target = dest.map(Target::Broker).unwrap_or(Target::Any);
            let request = IncrementalAlterConfigsRequest::default()
                .with_validate_only(validate_only)
                .with_resources(
                    batch
                        .iter()
                        .map(|(resource, ops)| {
                            let (kind, name) = resource.type_and_name();
                            AlterConfigsResource::default()
                                .with_resource_type(kind)
                                .with_resource_name(str_bytes(&name))
                                .with_configs(ops.iter().map(AlterConfigOp::to_wire).collect())
                        })
                        .collect(),
                );
            let resp = client
                .with_retries("IncrementalAlterConfigs", || {
                    client.send(target.clone(), request.clone())
                })
                .await?;
            for (resource, _) in batch {
                let (kind, name) = resource.type_and_name();
                let result = match resp
                    .responses
                    .iter()
                    .find(|r| r.resource_type == kind && r.resource_name.as_str() == name)
                {
                    Some(r) => {
                        let topic = matches!(resource, ConfigResource::Topic(_)).then_some(name);
                        Error::check(
                            r.error_code,
                            r.error_message.as_deref(),
                            "IncrementalAlterConfigs",
                            topic.as_deref(),
                            None,
                        )
                    }
                    // Java's wording: the server did not return a response for the resource.
                    None => Err(Error::broker(
                        ErrorCode::UNKNOWN_SERVER_ERROR,
                        Some(format!("no answer for {resource:?}")),
                        "IncrementalAlterConfigs",
                    )),
                };
                out.insert(resource.clone(), result);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_carry_kip_339_codes_and_values() {
        let wire: Vec<(String, i8, Option<String>)> = [
            AlterConfigOp::Set("retention.ms".into(), "1000".into()),
            AlterConfigOp::Delete("retention.ms".into()),
            AlterConfigOp::Append("cleanup.policy".into(), "compact".into()),
            AlterConfigOp::Subtract("cleanup.policy".into(), "delete".into()),
        ]
        .iter()
        .map(|op| {
            let c = op.to_wire();
            (
                c.name.to_string(),
                c.config_operation,
                c.value.map(|v| v.to_string()),
            )
        })
        .collect();
        assert_eq!(
            wire,
            vec![
                ("retention.ms".into(), 0, Some("1000".into())),
                ("retention.ms".into(), 1, None),
                ("cleanup.policy".into(), 2, Some("compact".into())),
                ("cleanup.policy".into(), 3, Some("delete".into())),
            ]
        );
    }
}
