//! `rafka group list|describe|reset-offsets`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::process::ExitCode;

use rafka_client::admin::{
    ConsumerGroupDescription, IsolationLevel, OffsetAndMetadata, OffsetSpec,
};
use rafka_client::{Admin, TopicPartition};

use crate::args::{GroupCommand, ResetTarget};
use crate::settings::Settings;

/// Runs `rafka group ...`.
///
/// # Errors
/// Connection and broker errors; resetting a group that still has members.
pub async fn run(
    brokers: Option<String>,
    settings: Settings,
    args: GroupCommand,
) -> anyhow::Result<ExitCode> {
    let bootstrap = super::bootstrap(brokers, &settings)?;
    let client = super::connect::connect(&bootstrap, &settings).await?;
    let admin = Admin::new(client.clone());
    match args {
        GroupCommand::List => {
            for g in admin.list_groups().await? {
                let state = g.state.as_deref().unwrap_or("-");
                let kind = if g.protocol_type.is_empty() {
                    "-"
                } else {
                    g.protocol_type.as_str()
                };
                println!("{}\t{state}\t{kind}", g.group_id);
            }
        }
        GroupCommand::Describe { group } => print!("{}", describe(&admin, &group).await?),
        GroupCommand::ResetOffsets { group, to, topic } => {
            reset(&admin, &group, to, topic.as_deref()).await?
        }
    }
    client.close();
    Ok(ExitCode::SUCCESS)
}

/// Members and committed offsets of a group: a KIP-848 consumer group through
/// ConsumerGroupDescribe (epochs, current vs target assignment), else (a classic group, which
/// that API answers with GROUP_ID_NOT_FOUND, or a broker without it) DescribeGroups, as Java's
/// `kafka-consumer-groups --describe` does.
async fn describe(admin: &Admin, group: &str) -> anyhow::Result<String> {
    let mut out = match admin
        .describe_consumer_groups(&[group])
        .await?
        .remove(group)
    {
        Some(Ok(d)) => describe_consumer_group(&d),
        _ => describe_classic(admin, group).await?,
    };
    out.push_str(&describe_offsets(admin, group).await?);
    Ok(out)
}

/// The KIP-848 view: one line per member with its epoch, what it owns and what the broker
/// wants it to own (they differ while it reconciles).
fn describe_consumer_group(d: &ConsumerGroupDescription) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "group {}: state {}, protocol consumer (KIP-848), assignor {}, group epoch {}, \
         assignment epoch {}, coordinator {}",
        d.group_id, d.state, d.assignor, d.group_epoch, d.assignment_epoch, d.coordinator
    );
    let _ = writeln!(out, "members ({}):", d.members.len());
    for m in &d.members {
        let instance = m
            .instance_id
            .as_deref()
            .map(|i| format!(" instance {i}"))
            .unwrap_or_default();
        let target = if m.target_assignment == m.assignment {
            String::new()
        } else {
            format!(", target {}", format_partitions(&m.target_assignment))
        };
        let _ = writeln!(
            out,
            "  {}{instance} client {} host {}: epoch {}, owns {}{target}",
            m.member_id,
            m.client_id,
            m.client_host,
            m.member_epoch,
            format_partitions(&m.assignment)
        );
    }
    out
}

async fn describe_classic(admin: &Admin, group: &str) -> anyhow::Result<String> {
    let mut described = admin.describe_groups(&[group]).await?;
    let description = described
        .remove(group)
        .ok_or_else(|| anyhow::anyhow!("no answer for group {group}"))??;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "group {group}: state {}, protocol {}/{}, coordinator {}",
        description.state, description.protocol_type, description.protocol, description.coordinator
    );
    let _ = writeln!(out, "members ({}):", description.members.len());
    for m in &description.members {
        let assigned = match rafka_group::Assignment::decode(&m.assignment) {
            Ok(a) => format_partitions(&a.partitions),
            Err(_) if m.assignment.is_empty() => "-".to_string(),
            Err(e) => format!("(undecodable assignment: {e})"),
        };
        let instance = m
            .group_instance_id
            .as_deref()
            .map(|i| format!(" instance {i}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}{instance} client {} host {}: {assigned}",
            m.member_id, m.client_id, m.client_host
        );
    }
    Ok(out)
}

/// Committed offsets, end offsets and lag per partition.
async fn describe_offsets(admin: &Admin, group: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    let committed = admin.list_group_offsets(group, None).await?;
    let partitions: Vec<TopicPartition> = committed.keys().cloned().collect();
    let ends = super::offsets::end_offsets(admin.client(), &partitions).await?;
    let _ = writeln!(
        out,
        "{:<30} {:>9} {:>12} {:>12} {:>8}",
        "TOPIC", "PARTITION", "COMMITTED", "END", "LAG"
    );
    for (tp, c) in &committed {
        let end = ends.get(tp).copied();
        let lag = end.map_or("-".to_string(), |e| (e - c.offset).max(0).to_string());
        let end = end.map_or("-".to_string(), |e| e.to_string());
        let _ = writeln!(
            out,
            "{:<30} {:>9} {:>12} {:>12} {:>8}",
            tp.topic, tp.partition, c.offset, end, lag
        );
    }
    Ok(out)
}

/// `t[0,1] u[3]`: partitions grouped by topic.
pub fn format_partitions(partitions: &[TopicPartition]) -> String {
    let mut by_topic: BTreeMap<&str, BTreeSet<i32>> = BTreeMap::new();
    for tp in partitions {
        by_topic
            .entry(tp.topic.as_str())
            .or_default()
            .insert(tp.partition);
    }
    if by_topic.is_empty() {
        return "-".to_string();
    }
    by_topic
        .iter()
        .map(|(t, ps)| {
            let list: Vec<String> = ps.iter().map(i32::to_string).collect();
            format!("{t}[{}]", list.join(","))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn reset(
    admin: &Admin,
    group: &str,
    to: ResetTarget,
    topic: Option<&str>,
) -> anyhow::Result<()> {
    let mut described = admin.describe_groups(&[group]).await?;
    if let Some(Ok(d)) = described.remove(group) {
        if !d.members.is_empty() {
            anyhow::bail!(
                "group {group} has {} active members (state {}); stop them before resetting offsets",
                d.members.len(),
                d.state
            );
        }
    }
    let partitions: Vec<TopicPartition> = match topic {
        Some(t) => {
            let cluster = admin.client().metadata_for(&[t]).await?;
            let info = cluster
                .topics
                .get(t)
                .ok_or_else(|| anyhow::anyhow!("topic {t} does not exist"))?;
            info.partitions
                .keys()
                .map(|p| TopicPartition::new(t, *p))
                .collect()
        }
        None => admin
            .list_group_offsets(group, None)
            .await?
            .into_keys()
            .collect(),
    };
    if partitions.is_empty() {
        anyhow::bail!("group {group} has no committed offsets; name a topic with -t");
    }
    let targets: BTreeMap<TopicPartition, i64> = match to {
        ResetTarget::Offset(n) => partitions.iter().map(|tp| (tp.clone(), n)).collect(),
        ResetTarget::Latest => super::offsets::end_offsets(admin.client(), &partitions).await?,
        ResetTarget::Earliest => {
            let wanted: Vec<(TopicPartition, OffsetSpec)> = partitions
                .iter()
                .map(|tp| (tp.clone(), OffsetSpec::Earliest))
                .collect();
            let mut out = BTreeMap::new();
            for (tp, r) in admin
                .list_offsets(&wanted, IsolationLevel::ReadUncommitted)
                .await?
            {
                out.insert(tp, r?.offset);
            }
            out
        }
    };
    let offsets: Vec<(TopicPartition, OffsetAndMetadata)> = targets
        .iter()
        .map(|(tp, o)| {
            (
                tp.clone(),
                OffsetAndMetadata {
                    offset: *o,
                    leader_epoch: None,
                    metadata: None,
                },
            )
        })
        .collect();
    for (tp, r) in admin.alter_group_offsets(group, &offsets).await? {
        r.map_err(|e| anyhow::anyhow!("cannot reset {}[{}]: {e}", tp.topic, tp.partition))?;
        println!("{}\t{}\t{}", tp.topic, tp.partition, targets[&tp]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_grouped_by_topic() {
        let ps = [
            TopicPartition::new("b", 2),
            TopicPartition::new("a", 1),
            TopicPartition::new("b", 0),
        ];
        assert_eq!(format_partitions(&ps), "a[1] b[0,2]");
        assert_eq!(format_partitions(&[]), "-");
    }
}
