//! Fetched records waiting for `poll`, with the byte count that bounds prefetching. Sans-IO.

use std::collections::VecDeque;

use rafka_wire::TopicPartition;

use crate::record::ConsumerRecord;
use crate::subscription::SubscriptionState;

/// The decoded records of one partition from one Fetch response.
#[derive(Debug)]
pub struct BufferedFetch {
    /// The partition.
    pub tp: TopicPartition,
    /// Seek epoch the fetch was made under; stale when the partition's epoch moved on.
    pub seek_epoch: u64,
    /// Records not yet returned.
    pub records: VecDeque<ConsumerRecord>,
    /// Where the position goes once every record is returned (past filtered control and
    /// aborted batches).
    pub next_offset: i64,
    /// Bytes this holds, released when drained: see [`BufferedFetch::new`].
    pub bytes: usize,
}

impl BufferedFetch {
    /// The records of one partition from one response, holding `response_bytes` of the
    /// response (its `records` blob). Counted as the larger of that blob and the decoded
    /// records (payloads, headers and the record structs): uncompressed records share the
    /// blob (zero-copy), while decompressed ones own buffers that can be many times the
    /// compressed size. So `max.buffered.bytes` bounds the memory held either way.
    pub fn new(
        tp: TopicPartition,
        seek_epoch: u64,
        records: VecDeque<ConsumerRecord>,
        next_offset: i64,
        response_bytes: usize,
    ) -> Self {
        let decoded: usize = records.iter().map(decoded_size).sum();
        BufferedFetch {
            tp,
            seek_epoch,
            records,
            next_offset,
            bytes: response_bytes.max(decoded),
        }
    }
}

/// Memory a decoded record holds: its struct, key, value and headers.
fn decoded_size(r: &ConsumerRecord) -> usize {
    let payload = |b: &Option<bytes::Bytes>| b.as_ref().map_or(0, |b| b.len());
    std::mem::size_of::<ConsumerRecord>()
        + payload(&r.key)
        + payload(&r.value)
        + r.headers
            .iter()
            .map(|h| h.key.len() + payload(&h.value))
            .sum::<usize>()
}

/// Records fetched ahead of `poll`.
#[derive(Debug, Default)]
pub struct FetchBuffer {
    queue: VecDeque<BufferedFetch>,
    bytes: usize,
}

impl FetchBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes held; prefetching stops above `max.buffered.bytes`.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Records held (stale ones included until the next drain drops them).
    pub fn len(&self) -> usize {
        self.queue.iter().map(|f| f.records.len()).sum()
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Adds the records of one partition.
    pub fn push(&mut self, fetch: BufferedFetch) {
        self.bytes += fetch.bytes;
        self.queue.push_back(fetch);
    }

    /// Drops everything buffered for a partition (seek, pause, revoke).
    pub fn discard(&mut self, tp: &TopicPartition) {
        let mut freed = 0;
        self.queue.retain(|f| {
            let keep = &f.tp != tp;
            if !keep {
                freed += f.bytes;
            }
            keep
        });
        self.bytes -= freed;
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.queue.clear();
        self.bytes = 0;
    }

    /// Moves up to `max` records into `out`, advancing positions in `subs`. Fetches that are
    /// stale (the partition was seeked, reset or revoked since) are dropped; fetches of paused
    /// partitions stay. With `auto_store`, each returned position also becomes the partition's
    /// stored offset (the next auto-commit's value).
    pub fn drain(
        &mut self,
        subs: &mut SubscriptionState,
        max: usize,
        auto_store: bool,
        out: &mut Vec<ConsumerRecord>,
    ) {
        let mut i = 0;
        while i < self.queue.len() && out.len() < max {
            let fetch = &mut self.queue[i];
            let Some(state) = subs.get_mut(&fetch.tp) else {
                let f = self.queue.remove(i).expect("index checked");
                self.bytes -= f.bytes;
                continue;
            };
            if state.seek_epoch != fetch.seek_epoch {
                let f = self.queue.remove(i).expect("index checked");
                self.bytes -= f.bytes;
                continue;
            }
            if state.paused {
                i += 1;
                continue;
            }
            let take = fetch.records.len().min(max - out.len());
            if take > 0 {
                let last = &fetch.records[take - 1];
                state.position = last.offset + 1;
                if let Some(epoch) = last.leader_epoch {
                    state.leader_epoch = Some(epoch);
                }
                out.extend(fetch.records.drain(..take));
            }
            if fetch.records.is_empty() {
                state.position = state.position.max(fetch.next_offset);
                let f = self.queue.remove(i).expect("index checked");
                self.bytes -= f.bytes;
            }
            if auto_store {
                state.stored_offset = Some(state.position);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;
    use crate::record::TimestampType;

    fn rec(p: i32, offset: i64) -> ConsumerRecord {
        ConsumerRecord {
            topic: Arc::from("t"),
            partition: p,
            offset,
            timestamp: 0,
            timestamp_type: TimestampType::CreateTime,
            key: None,
            value: Some(Bytes::from_static(b"v")),
            headers: Vec::new(),
            leader_epoch: Some(3),
        }
    }

    fn fetch(p: i32, epoch: u64, offsets: std::ops::Range<i64>, next: i64) -> BufferedFetch {
        BufferedFetch {
            tp: TopicPartition::new("t", p),
            seek_epoch: epoch,
            records: offsets.map(|o| rec(p, o)).collect(),
            next_offset: next,
            bytes: 100,
        }
    }

    fn subs(parts: &[i32]) -> SubscriptionState {
        let mut s = SubscriptionState::new();
        s.assign(parts.iter().map(|p| TopicPartition::new("t", *p)));
        for p in parts {
            s.seek(&TopicPartition::new("t", *p), 0);
        }
        s
    }

    #[test]
    fn drains_at_most_max_and_advances_positions() {
        let mut s = subs(&[0, 1]);
        let e = s.get(&TopicPartition::new("t", 0)).unwrap().seek_epoch;
        let mut b = FetchBuffer::new();
        b.push(fetch(0, e, 0..3, 5)); // offsets 3 and 4 were control records
        b.push(fetch(1, e, 0..2, 2));
        assert_eq!(b.bytes(), 200);
        let mut out = Vec::new();
        b.drain(&mut s, 2, true, &mut out);
        assert_eq!(out.iter().map(|r| r.offset).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(s.position(&TopicPartition::new("t", 0)), Some(2));
        out.clear();
        b.drain(&mut s, 10, true, &mut out);
        assert_eq!(out.len(), 3);
        // Past the filtered control records once the fetch is exhausted.
        assert_eq!(s.position(&TopicPartition::new("t", 0)), Some(5));
        assert_eq!(
            s.get(&TopicPartition::new("t", 0)).unwrap().stored_offset,
            Some(5)
        );
        assert_eq!(
            s.get(&TopicPartition::new("t", 0)).unwrap().leader_epoch,
            Some(3)
        );
        assert_eq!(b.bytes(), 0);
        assert!(b.is_empty());
    }

    #[test]
    fn stale_fetches_are_dropped_and_paused_ones_kept() {
        let mut s = subs(&[0, 1]);
        let e = s.get(&TopicPartition::new("t", 0)).unwrap().seek_epoch;
        let mut b = FetchBuffer::new();
        b.push(fetch(0, e, 0..3, 3));
        b.push(fetch(1, e, 0..3, 3));
        s.seek(&TopicPartition::new("t", 0), 100);
        s.set_paused(&TopicPartition::new("t", 1), true);
        let mut out = Vec::new();
        b.drain(&mut s, 10, false, &mut out);
        assert!(out.is_empty());
        assert_eq!(s.position(&TopicPartition::new("t", 0)), Some(100));
        assert_eq!(b.bytes(), 100, "the paused partition's fetch stays");
        s.set_paused(&TopicPartition::new("t", 1), false);
        b.drain(&mut s, 10, false, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(
            s.get(&TopicPartition::new("t", 1)).unwrap().stored_offset,
            None
        );
    }

    #[test]
    fn decoded_records_count_when_larger_than_the_response() {
        // 10 records of 1 KiB each out of a 200-byte (compressed) response.
        let big = |o: i64| ConsumerRecord {
            value: Some(Bytes::from(vec![0u8; 1024])),
            ..rec(0, o)
        };
        let f = BufferedFetch::new(
            TopicPartition::new("t", 0),
            0,
            (0..10).map(big).collect(),
            10,
            200,
        );
        assert!(f.bytes >= 10 * 1024, "{}", f.bytes);
        // Small records of a large (uncompressed, shared) response: the response counts.
        let f = BufferedFetch::new(
            TopicPartition::new("t", 0),
            0,
            (0..2).map(|o| rec(0, o)).collect(),
            2,
            1 << 20,
        );
        assert_eq!(f.bytes, 1 << 20);
    }
}
