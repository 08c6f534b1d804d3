//! Kafka's verifiable clients (`VerifiableConsumer.java`, `VerifiableProducer.java`): the tools
//! Kafka's system tests drive, reading one JSON event per stdout line.

pub mod consumer;
pub mod events;
pub mod producer;

use crate::settings::Settings;

/// `--bootstrap-server`, else the deprecated `--broker-list`, else `bootstrap.servers` from the
/// global `-b`/`-X`/`-F` settings.
///
/// # Errors
/// When none is given.
pub fn bootstrap(
    bootstrap_server: Option<&str>,
    broker_list: Option<&str>,
    settings: &Settings,
) -> anyhow::Result<String> {
    bootstrap_server
        .or(broker_list)
        .or_else(|| settings.get("bootstrap.servers"))
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("--bootstrap-server (or --broker-list) is required"))
}

/// Maps `--assignment-strategy` (a Java class name or a short name) to the Java short name
/// used in `partition.assignment.strategy` values rafka understands.
///
/// # Errors
/// An unknown strategy.
pub fn assignment_strategy(s: &str) -> anyhow::Result<&'static str> {
    let short = s.rsplit('.').next().unwrap_or(s);
    Ok(match short {
        "RangeAssignor" | "range" => "range",
        "RoundRobinAssignor" | "roundrobin" => "roundrobin",
        "StickyAssignor" | "sticky" => "sticky",
        "CooperativeStickyAssignor" | "cooperative-sticky" => "cooperative-sticky",
        _ => anyhow::bail!(
            "unknown assignment strategy '{s}' (range, roundrobin, sticky, cooperative-sticky or their Java class names)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_class_names_map_to_short_names() {
        assert_eq!(
            assignment_strategy("org.apache.kafka.clients.consumer.RangeAssignor").unwrap(),
            "range"
        );
        assert_eq!(
            assignment_strategy("org.apache.kafka.clients.consumer.CooperativeStickyAssignor")
                .unwrap(),
            "cooperative-sticky"
        );
        assert_eq!(assignment_strategy("roundrobin").unwrap(), "roundrobin");
        assert!(assignment_strategy("com.example.Mine").is_err());
    }

    #[test]
    fn bootstrap_server_wins_over_broker_list() {
        let s = Settings::new();
        assert_eq!(bootstrap(Some("a:1"), Some("b:2"), &s).unwrap(), "a:1");
        assert_eq!(bootstrap(None, Some("b:2"), &s).unwrap(), "b:2");
        assert!(bootstrap(None, None, &s).is_err());
    }
}
