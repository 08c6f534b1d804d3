//! Building rafka-client configs and connections from the command line.

use anyhow::Context;
use rafka_client::{Client, ClientConfig};
use rafka_consumer::ConsumerConfig;
use rafka_producer::ProducerConfig;

use crate::settings::Settings;

/// A client config: CLI defaults, then `-F`/`-X` settings, then `-b` (which wins).
///
/// The CLI inspects and reads topics, so unlike the Java default it does not ask the broker to
/// auto-create missing topics (`-X allow.auto.create.topics=true` turns it back on).
///
/// # Errors
/// An unknown key or a bad value, naming where it came from.
pub fn client_config(bootstrap: &str, settings: &Settings) -> anyhow::Result<ClientConfig> {
    let mut config = cli_client_defaults(bootstrap);
    settings.apply_all(|k, v| config.apply(k, v))?;
    config.apply("bootstrap.servers", bootstrap)?;
    config.validate().context("invalid client configuration")?;
    Ok(config)
}

/// Connects and fetches the first metadata.
///
/// # Errors
/// Configuration errors, or no bootstrap broker answering (one line naming the brokers).
pub async fn connect(bootstrap: &str, settings: &Settings) -> anyhow::Result<Client> {
    connect_with(client_config(bootstrap, settings)?).await
}

/// A producer config and the client config beside it: every `-F`/`-X` key goes to whichever of
/// the two knows it (both, for shared keys such as `client.id`); a key neither knows is an error.
///
/// # Errors
/// An unknown key or a bad value, naming where it came from.
pub fn producer_config(
    bootstrap: &str,
    settings: &Settings,
) -> anyhow::Result<(ProducerConfig, ClientConfig)> {
    let mut client = cli_client_defaults(bootstrap);
    let mut producer = ProducerConfig::default();
    producer.client.client_id = client.client_id.clone();
    settings.apply_all(|k, v| -> Result<bool, String> {
        let p = producer.apply(k, v).map_err(|e| e.to_string())?;
        let c = client.apply(k, v).map_err(|e| e.to_string())?;
        Ok(p || c)
    })?;
    client.apply("bootstrap.servers", bootstrap)?;
    producer
        .apply("bootstrap.servers", bootstrap)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    client.validate().context("invalid client configuration")?;
    producer
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid producer configuration: {e}"))?;
    Ok((producer, client))
}

/// A consumer config (its `client` part included) from the CLI defaults and `-F`/`-X`.
///
/// # Errors
/// An unknown key or a bad value, naming where it came from.
pub fn consumer_config(bootstrap: &str, settings: &Settings) -> anyhow::Result<ConsumerConfig> {
    let mut config = ConsumerConfig::default();
    config.client = cli_client_defaults(bootstrap);
    settings.apply_all(|k, v| config.apply(k, v).map_err(|e| e.to_string()))?;
    config.client.apply("bootstrap.servers", bootstrap)?;
    config
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid consumer configuration: {e}"))?;
    Ok(config)
}

fn cli_client_defaults(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new(bootstrap);
    config.client_id = "rafka-cli".to_string();
    config.allow_auto_create_topics = false;
    config
}

/// Connects a client for an already built config.
///
/// # Errors
/// No bootstrap broker answering (one line naming the brokers).
pub async fn connect_with(config: ClientConfig) -> anyhow::Result<Client> {
    let bootstrap = config.bootstrap_servers.join(",");
    Client::connect(config)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to {bootstrap}: {e}"))
}

/// Fails unless every topic exists (the CLI never auto-creates by reading metadata).
///
/// # Errors
/// A missing topic, named; metadata errors.
pub async fn require_topics(client: &Client, topics: &[String]) -> anyhow::Result<()> {
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let cluster = client.metadata_for(&names).await?;
    for t in &names {
        let exists = cluster
            .topics
            .get(*t)
            .is_some_and(|i| !i.partitions.is_empty());
        if !exists {
            match cluster.topic_errors.get(*t) {
                Some(code) => anyhow::bail!("topic {t} does not exist ({})", code.name()),
                None => anyhow::bail!("topic {t} does not exist"),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Origin;

    #[test]
    fn flags_apply_and_brokers_flag_wins() {
        let mut s = Settings::new();
        s.set("bootstrap.servers", "other:1", Origin::Flag);
        s.set("client.id", "mine", Origin::Flag);
        let c = client_config("h:9092", &s).unwrap();
        assert_eq!(c.bootstrap_servers, vec!["h:9092".to_string()]);
        assert_eq!(c.client_id, "mine");
        assert!(!c.allow_auto_create_topics);
    }

    #[test]
    fn unknown_and_bad_settings_are_named() {
        let mut s = Settings::new();
        s.set("no.such", "1", Origin::Flag);
        let err = client_config("h:1", &s).unwrap_err().to_string();
        assert_eq!(err, "unknown configuration property 'no.such' (from -X)");
        let mut s = Settings::new();
        s.set("request.timeout.ms", "soon", Origin::Flag);
        let err = client_config("h:1", &s).unwrap_err().to_string();
        assert!(err.contains("request.timeout.ms"), "{err}");
    }

    #[test]
    fn producer_and_consumer_keys_are_accepted_and_routed() {
        let mut s = Settings::new();
        s.set("linger.ms", "7", Origin::Flag);
        s.set("request.timeout.ms", "9000", Origin::Flag);
        let (p, c) = producer_config("h:1", &s).unwrap();
        assert_eq!(p.linger, std::time::Duration::from_millis(7));
        assert_eq!(c.request_timeout, std::time::Duration::from_millis(9000));
        s.set("fetch.min.bytes", "5", Origin::Flag);
        let err = producer_config("h:1", &s).unwrap_err().to_string();
        assert!(err.contains("fetch.min.bytes"), "{err}");

        let mut s = Settings::new();
        s.set("fetch.min.bytes", "5", Origin::Flag);
        s.set("client.id", "x", Origin::Flag);
        let cc = consumer_config("h:1", &s).unwrap();
        assert_eq!(cc.fetch_min_bytes, 5);
        assert_eq!(cc.client.client_id, "x");
        assert!(!cc.client.allow_auto_create_topics);
    }

    #[test]
    fn group_protocol_and_remote_assignor_reach_the_consumer_config() {
        let mut s = Settings::new();
        s.set("group.protocol", "CONSUMER", Origin::Flag);
        s.set("group.remote.assignor", "range", Origin::Flag);
        let cc = consumer_config("h:1", &s).unwrap();
        assert_eq!(cc.group_protocol, rafka_consumer::GroupProtocol::Consumer);
        assert_eq!(cc.group_remote_assignor.as_deref(), Some("range"));
        // Java's checks: a classic-only setting with the consumer protocol is refused.
        s.set("session.timeout.ms", "6000", Origin::Flag);
        let err = consumer_config("h:1", &s).unwrap_err().to_string();
        assert!(err.contains("session.timeout.ms"), "{err}");
        let mut s = Settings::new();
        s.set("group.protocol", "modern", Origin::Flag);
        assert!(consumer_config("h:1", &s).is_err());
    }
}
