//! Cluster metadata: the sans-IO snapshot and merge rules ([`cluster`]) and the shared state
//! the client keeps around it (tracked topics, staleness, refresh coalescing).
//!
//! Refreshes coalesce: a caller that queued behind a refresh which started after it began
//! waiting takes that refresh's result instead of sending another request. The tokio side
//! lives in [`crate::Client`] (`refresh_metadata`, `metadata_for`).

pub mod cluster;
pub mod leader_hint;
pub(crate) mod schedule;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

pub use cluster::{BrokerInfo, Cluster, PartitionInfo, TopicInfo, TopicSelection};
pub use leader_hint::LeaderHint;

/// Metadata state shared by every clone of a client.
#[derive(Debug, Default)]
pub(crate) struct MetadataState {
    snapshot: RwLock<Arc<Cluster>>,
    tracked: Mutex<BTreeSet<String>>,
    stale: AtomicBool,
    generation: AtomicU64,
    pub(crate) refresh_lock: tokio::sync::Mutex<()>,
    /// Wakes the background refresher when metadata is marked stale.
    pub(crate) notify: tokio::sync::Notify,
    /// Stops the background refresher when the last client clone is dropped.
    pub(crate) shutdown: tokio_util::sync::CancellationToken,
}

impl MetadataState {
    pub fn snapshot(&self) -> Arc<Cluster> {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn store(&self, cluster: Cluster) -> Arc<Cluster> {
        let cluster = Arc::new(cluster);
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = cluster.clone();
        self.stale.store(false, Ordering::Release);
        self.generation.fetch_add(1, Ordering::AcqRel);
        // The refresher re-plans its next refresh from the new snapshot's age.
        self.notify.notify_one();
        cluster
    }

    /// Applies KIP-951 leader hints to the snapshot; true when one was newer than the cache.
    /// Unlike [`MetadataState::store`], the snapshot keeps its age and staleness: a hint
    /// updates one partition, not the whole view.
    pub fn apply_leader_hints(&self, hints: &[LeaderHint], endpoints: &[BrokerInfo]) -> bool {
        let mut guard = self.snapshot.write().unwrap_or_else(|e| e.into_inner());
        let Some(next) = guard.with_leader_hints(hints, endpoints) else {
            return false;
        };
        *guard = Arc::new(next);
        drop(guard);
        self.generation.fetch_add(1, Ordering::AcqRel);
        true
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn mark_stale(&self) {
        self.stale.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    pub fn is_stale(&self) -> bool {
        self.stale.load(Ordering::Acquire)
    }

    /// Adds topics to the tracked set; true when one was new.
    pub fn track<'a>(&self, topics: impl IntoIterator<Item = &'a str>) -> bool {
        let mut tracked = self.tracked.lock().unwrap_or_else(|e| e.into_inner());
        let mut added = false;
        for t in topics {
            added |= tracked.insert(t.to_string());
        }
        added
    }

    pub fn untrack(&self, topic: &str) {
        self.tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(topic);
    }

    pub fn tracked(&self) -> BTreeSet<String> {
        self.tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
