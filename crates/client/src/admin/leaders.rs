//! The loop behind every admin call that goes to partition leaders (ListOffsets, DeleteRecords):
//! group the partitions by leader, send one request per leader concurrently, and retry the
//! partitions whose errors mean stale metadata after a refresh, until `default.api.timeout.ms`.

use std::collections::BTreeMap;
use std::future::Future;

use futures::future::join_all;
use rafka_wire::TopicPartition;

use crate::backoff::{Backoff, RetryDecision, RetryPolicy};
use crate::error::Error;
use crate::Client;

/// Per-partition answers of one leader.
pub(crate) type LeaderAnswers<R> = BTreeMap<TopicPartition, Result<R, Error>>;

/// Metadata refreshes a partition missing from metadata gets before it is reported unknown.
const MISSING_ROUNDS: u32 = 3;

/// Runs `send(leader, items)` for the leader of each partition in `items`, concurrently, and
/// retries retriable per-partition errors after a metadata refresh until
/// `default.api.timeout.ms`. A partition the leader's answer leaves out is
/// UNKNOWN_TOPIC_OR_PARTITION; a failed request fails each of its partitions.
///
/// # Errors
/// Only metadata errors that leave no partition routable; everything else is per partition.
pub(crate) async fn per_leader<V, R, F, Fut>(
    client: &Client,
    items: &[(TopicPartition, V)],
    send: F,
) -> Result<LeaderAnswers<R>, Error>
where
    V: Clone,
    R: Clone,
    F: Fn(i32, Vec<(TopicPartition, V)>) -> Fut,
    Fut: Future<Output = Result<LeaderAnswers<R>, Error>>,
{
    let deadline = crate::now() + client.config().default_api_timeout;
    let backoff = Backoff::new(
        client.config().retry_backoff,
        client.config().retry_backoff_max,
    );
    let mut policy = RetryPolicy::new(backoff, deadline);
    let mut pending: BTreeMap<TopicPartition, V> = items.iter().cloned().collect();
    let mut out = BTreeMap::new();
    let mut rounds = 0;
    loop {
        let topics: Vec<&str> = {
            let mut t: Vec<&str> = pending.keys().map(|tp| tp.topic.as_str()).collect();
            t.dedup();
            t
        };
        let cluster = client.metadata_for(&topics).await?;
        // Group by leader; partitions without one fail this round.
        let mut by_leader: BTreeMap<i32, Vec<(TopicPartition, V)>> = BTreeMap::new();
        for (tp, value) in &pending {
            match cluster.leader_for(&tp.topic, tp.partition) {
                Ok(leader) => by_leader
                    .entry(leader)
                    .or_default()
                    .push((tp.clone(), value.clone())),
                Err(e) => {
                    out.insert(tp.clone(), Err(e));
                }
            }
        }
        let requests = by_leader.into_iter().map(|(leader, parts)| {
            let keys: Vec<TopicPartition> = parts.iter().map(|(tp, _)| tp.clone()).collect();
            let answer = send(leader, parts);
            async move { (keys, answer.await) }
        });
        for (keys, result) in join_all(requests).await {
            match result {
                Ok(mut answers) => {
                    for tp in keys {
                        let answer = answers.remove(&tp).unwrap_or_else(|| {
                            Err(Error::UnknownTopicOrPartition {
                                topic: tp.topic.clone(),
                                partition: Some(tp.partition),
                            })
                        });
                        out.insert(tp, answer);
                    }
                }
                Err(e) => {
                    for tp in keys {
                        out.insert(tp, Err(e.clone()));
                    }
                }
            }
        }
        // Keep only the partitions worth another round. A partition missing from metadata gets
        // only a few refreshed looks: it most likely does not exist, and waiting the whole
        // default.api.timeout.ms for it would only delay the answer.
        rounds += 1;
        pending.retain(|tp, _| match out.get(tp) {
            Some(Err(Error::UnknownTopicOrPartition { .. })) => rounds < MISSING_ROUNDS,
            Some(Err(e)) => e.is_retriable(),
            _ => false,
        });
        if pending.is_empty() {
            return Ok(out);
        }
        client.invalidate_metadata();
        match policy.on_failure(true, crate::now(), &mut rand::thread_rng()) {
            RetryDecision::RetryAfter(delay) => tokio::time::sleep(delay).await,
            RetryDecision::GiveUp => return Ok(out),
        }
    }
}
