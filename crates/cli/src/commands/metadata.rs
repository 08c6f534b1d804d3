//! `rafka metadata`: brokers, topics and partitions, in kcat's `-L` layout.

use std::fmt::Write as _;
use std::process::ExitCode;

use rafka_client::Cluster;

use crate::args::MetadataArgs;
use crate::settings::Settings;

/// Runs `rafka metadata`.
///
/// # Errors
/// Connection errors, or a requested topic the broker does not know.
pub async fn run(
    brokers: Option<String>,
    settings: Settings,
    args: MetadataArgs,
) -> anyhow::Result<ExitCode> {
    let bootstrap = super::bootstrap(brokers, &settings)?;
    let client = super::connect::connect(&bootstrap, &settings).await?;
    let cluster = if args.topics.is_empty() {
        client.refresh_all_topics().await?
    } else {
        let names: Vec<&str> = args.topics.iter().map(String::as_str).collect();
        let cluster = client.metadata_for(&names).await?;
        for t in &names {
            if let Some(code) = cluster.topic_errors.get(*t) {
                anyhow::bail!("topic {t}: {}", code.name());
            }
            if !cluster.topics.contains_key(*t) {
                anyhow::bail!("topic {t} does not exist");
            }
        }
        cluster
    };
    print!("{}", render(&cluster, &bootstrap, &args.topics));
    client.close();
    Ok(ExitCode::SUCCESS)
}

/// The kcat-style listing of `cluster` (only `topics` when non-empty).
pub fn render(cluster: &Cluster, bootstrap: &str, topics: &[String]) -> String {
    let mut out = String::new();
    let scope = if topics.is_empty() {
        "all topics".to_string()
    } else {
        topics.join(", ")
    };
    let _ = writeln!(out, "Metadata for {scope} (from {bootstrap}):");
    if let Some(id) = &cluster.cluster_id {
        let _ = writeln!(out, " cluster id: {id}");
    }
    let _ = writeln!(out, " {} brokers:", cluster.brokers.len());
    for b in cluster.brokers.values() {
        let controller = if cluster.controller == Some(b.node_id) {
            " (controller)"
        } else {
            ""
        };
        let rack = b
            .rack
            .as_deref()
            .map(|r| format!(" rack {r}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  broker {} at {}{rack}{controller}",
            b.node_id,
            b.addr()
        );
    }
    let shown: Vec<_> = cluster
        .topics
        .values()
        .filter(|t| topics.is_empty() || topics.contains(&t.name))
        .collect();
    let _ = writeln!(out, " {} topics:", shown.len());
    for t in shown {
        let internal = if t.is_internal { " (internal)" } else { "" };
        let _ = writeln!(
            out,
            "  topic \"{}\" with {} partitions{internal}:",
            t.name,
            t.partitions.len()
        );
        for p in t.partitions.values() {
            let list = |v: &[i32]| v.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
            let leader = p.leader.map_or("none".to_string(), |l| l.to_string());
            let error = if p.error.is_ok() {
                String::new()
            } else {
                format!(", error {}", p.error.name())
            };
            let _ = writeln!(
                out,
                "    partition {}, leader {leader}, replicas: {}, isrs: {}{error}",
                p.partition,
                list(&p.replicas),
                list(&p.isr)
            );
        }
    }
    out
}
