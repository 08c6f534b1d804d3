//! `rafka demo --group-protocol`: the members' group protocol, what it needs of the broker,
//! and what the demo's own Kafka cluster is started with for it.
//!
//! With `classic` (the default) each member sets its session timeout and heartbeat interval
//! and uses the eager `range` assignor. With `consumer` (KIP-848) the broker assigns
//! (`group.remote.assignor`) and owns the session timeout and heartbeat interval: the demo's
//! own cluster gets them from `--session-timeout` (`group.consumer.*`), a running broker keeps
//! its own (45 s by default).

use anyhow::bail;

use crate::args::{DemoArgs, DemoBrokerChoice, GroupProtocol};

/// The heartbeat interval for a session timeout: a third of it, at least 100 ms.
pub fn heartbeat_interval_ms(session_timeout_ms: u64) -> u64 {
    (session_timeout_ms / 3).max(100)
}

/// Refuses what the demo cannot run: KIP-848 on Tansu (no ConsumerGroupHeartbeat), a remote
/// assignor with the classic protocol.
///
/// # Errors
/// Those two combinations.
pub fn check(args: &DemoArgs) -> anyhow::Result<()> {
    match args.group_protocol {
        GroupProtocol::Consumer if args.broker == DemoBrokerChoice::Tansu => bail!(
            "--group-protocol consumer needs Apache Kafka 4.0 or later (--broker kafka, or \
             --broker HOST:PORT of a running Kafka): Tansu has no ConsumerGroupHeartbeat"
        ),
        GroupProtocol::Classic if args.group_remote_assignor.is_some() => {
            bail!("--group-remote-assignor needs --group-protocol consumer")
        }
        _ => Ok(()),
    }
}

/// Broker settings of the demo's Kafka cluster for the members' protocol: with `consumer`
/// the session timeout and heartbeat interval the classic members would set themselves
/// (the bounds widened so that any `--session-timeout` is accepted); nothing with `classic`.
pub fn kafka_confs(args: &DemoArgs) -> Vec<(String, String)> {
    if args.group_protocol != GroupProtocol::Consumer {
        return Vec::new();
    }
    let session = args.session_timeout_ms;
    let heartbeat = heartbeat_interval_ms(session);
    [
        ("group.consumer.min.session.timeout.ms", session),
        ("group.consumer.session.timeout.ms", session),
        ("group.consumer.max.session.timeout.ms", session.max(60_000)),
        ("group.consumer.min.heartbeat.interval.ms", heartbeat),
        ("group.consumer.heartbeat.interval.ms", heartbeat),
        (
            "group.consumer.max.heartbeat.interval.ms",
            heartbeat.max(15_000),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// What the demo prints about the group protocol.
pub fn describe(args: &DemoArgs) -> String {
    match args.group_protocol {
        GroupProtocol::Classic => format!(
            "group protocol classic (eager range assignor, session timeout {} ms)",
            args.session_timeout_ms
        ),
        GroupProtocol::Consumer => {
            let assignor = args
                .group_remote_assignor
                .as_deref()
                .unwrap_or("the broker's default");
            let session = if args.broker == DemoBrokerChoice::Kafka {
                format!("session timeout {} ms", args.session_timeout_ms)
            } else {
                "the broker's group.consumer.session.timeout.ms".to_string()
            };
            format!("group protocol consumer (KIP-848, assignor {assignor}, {session})")
        }
    }
}

/// The consumer settings of one member for its protocol, as `(key, value)` for
/// `ConsumerConfig::apply`.
pub fn member_settings(
    protocol: GroupProtocol,
    remote_assignor: Option<&str>,
    session_timeout_ms: u64,
) -> Vec<(&'static str, String)> {
    match protocol {
        GroupProtocol::Classic => vec![
            ("group.protocol", "classic".to_string()),
            // Eager range: Tansu settles cooperative groups slowly (BROKER.md).
            ("partition.assignment.strategy", "range".to_string()),
            ("session.timeout.ms", session_timeout_ms.to_string()),
            (
                "heartbeat.interval.ms",
                heartbeat_interval_ms(session_timeout_ms).to_string(),
            ),
        ],
        GroupProtocol::Consumer => {
            let mut settings = vec![("group.protocol", "consumer".to_string())];
            if let Some(assignor) = remote_assignor {
                settings.push(("group.remote.assignor", assignor.to_string()));
            }
            settings
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::args::{Cli, Command};

    fn demo(args: &[&str]) -> DemoArgs {
        let cli = Cli::try_parse_from(["rafka", "demo"].iter().chain(args)).unwrap();
        match cli.command {
            Command::Demo(d) => d,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn classic_is_the_default_and_sets_the_member_timeouts() {
        let d = demo(&[]);
        assert!(check(&d).is_ok());
        assert!(kafka_confs(&d).is_empty());
        let settings = member_settings(d.group_protocol, None, 6000);
        assert!(settings.contains(&("partition.assignment.strategy", "range".into())));
        assert!(settings.contains(&("session.timeout.ms", "6000".into())));
        assert!(settings.contains(&("heartbeat.interval.ms", "2000".into())));
        assert!(check(&demo(&["--group-remote-assignor", "range"])).is_err());
    }

    #[test]
    fn consumer_protocol_leaves_timeouts_to_the_broker() {
        let d = demo(&[
            "--broker",
            "kafka",
            "--group-protocol",
            "consumer",
            "--group-remote-assignor",
            "range",
        ]);
        assert!(check(&d).is_ok());
        let settings = member_settings(d.group_protocol, Some("range"), 6000);
        assert_eq!(
            settings,
            [
                ("group.protocol", "consumer".to_string()),
                ("group.remote.assignor", "range".to_string())
            ]
        );
        let confs = kafka_confs(&d);
        assert!(confs.contains(&("group.consumer.session.timeout.ms".into(), "6000".into())));
        assert!(confs.contains(&("group.consumer.heartbeat.interval.ms".into(), "2000".into())));
        // Tansu has no KIP-848.
        assert!(check(&demo(&["--group-protocol", "consumer"])).is_err());
    }
}
