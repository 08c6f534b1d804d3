//! `rafka demo --broker kafka --kill-broker`: SIGKILL the broker leading the most demo
//! partitions while the members consume, and restart it after a while.
//!
//! Runs on a task of its own so the orchestrator keeps reading member events: kill the node,
//! time until Metadata shows every partition led by another node, keep it down for the rest of
//! `down`, restart it, and time until it is back in the ISR of every partition. Each step is
//! reported on a channel.

use std::time::{Duration, Instant};

use rafka_client::Client;
use tokio::sync::mpsc;

use super::kafka::{self, NodeControl};

/// How long the leaders of a killed node's partitions may take to move (Kafka fences a node
/// whose heartbeats stop after `broker.session.timeout.ms`, 9 s by default).
const LEADERS_MOVE_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a restarted node may take to catch up and rejoin every ISR.
const REJOIN_TIMEOUT: Duration = Duration::from_secs(180);

/// One step of the broker kill.
#[derive(Debug, Clone, PartialEq)]
pub enum BrokerEvent {
    /// The node was SIGKILLed; it led these partitions.
    Killed {
        /// Node id.
        node: i32,
        /// Partitions it led.
        led: Vec<i32>,
    },
    /// Every partition has a leader other than the killed node.
    LeadersMoved {
        /// Node id.
        node: i32,
        /// From the kill.
        took: Duration,
    },
    /// The node was started again.
    Restarted {
        /// Node id.
        node: i32,
        /// How long it was down.
        down: Duration,
    },
    /// The node is in the ISR of every partition again.
    InSync {
        /// Node id.
        node: i32,
        /// From the restart.
        took: Duration,
    },
    /// A step failed; the task ends.
    Failed(String),
}

/// Starts the kill task; its events arrive on the returned receiver, which closes when it ends.
pub fn spawn(
    nodes: NodeControl,
    client: Client,
    topic: String,
    down: Duration,
) -> mpsc::UnboundedReceiver<BrokerEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        if let Err(e) = run(&nodes, &client, &topic, down, &tx).await {
            let _ = tx.send(BrokerEvent::Failed(format!("{e:#}")));
        }
        client.close();
    });
    rx
}

async fn run(
    nodes: &NodeControl,
    client: &Client,
    topic: &str,
    down: Duration,
    tx: &mpsc::UnboundedSender<BrokerEvent>,
) -> anyhow::Result<()> {
    let states = kafka::partition_states(client, topic).await?;
    let Some((node, led)) = kafka::busiest_leader(&states) else {
        anyhow::bail!("no partition of {topic} has a leader to kill");
    };
    let killer = nodes.clone();
    tokio::task::spawn_blocking(move || killer.kill(node)).await??;
    let killed_at = Instant::now();
    let _ = tx.send(BrokerEvent::Killed { node, led });

    kafka::wait_until(client, topic, LEADERS_MOVE_TIMEOUT, |s| {
        kafka::led_elsewhere(s, node)
    })
    .await?;
    let _ = tx.send(BrokerEvent::LeadersMoved {
        node,
        took: killed_at.elapsed(),
    });

    if let Some(rest) = down.checked_sub(killed_at.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let starter = nodes.clone();
    tokio::task::spawn_blocking(move || starter.restart(node)).await??;
    let restarted_at = Instant::now();
    let _ = tx.send(BrokerEvent::Restarted {
        node,
        down: killed_at.elapsed(),
    });
    kafka::wait_until(client, topic, REJOIN_TIMEOUT, |s| {
        kafka::in_every_isr(s, node)
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e:#} (node log: {})", nodes.log(node).display()))?;
    let _ = tx.send(BrokerEvent::InSync {
        node,
        took: restarted_at.elapsed(),
    });
    Ok(())
}
