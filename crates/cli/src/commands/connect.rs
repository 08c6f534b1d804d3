//! Building rafka-client configs and connections from the command line.

use anyhow::Context;
use rafka_client::{Client, ClientConfig};

use crate::settings::Settings;

/// A client config: CLI defaults, then `-F`/`-X` settings, then `-b` (which wins).
///
/// The CLI inspects and reads topics, so unlike the Java default it does not ask the broker to
/// auto-create missing topics (`-X allow.auto.create.topics=true` turns it back on).
///
/// # Errors
/// An unknown key or a bad value, naming where it came from.
pub fn client_config(bootstrap: &str, settings: &Settings) -> anyhow::Result<ClientConfig> {
    let mut config = ClientConfig::new(bootstrap);
    config.client_id = "rafka-cli".to_string();
    config.allow_auto_create_topics = false;
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
    let config = client_config(bootstrap, settings)?;
    Client::connect(config)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to {bootstrap}: {e}"))
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
}
