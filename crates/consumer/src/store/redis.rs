//! Redis offset store: one string key per (group, topic, partition) holding the position.
//!
//! # Keys
//! `{prefix}:{<group_id>}:{topic}:{partition}`, e.g. `rafka:offsets:{billing}:payments:3`, value
//! the decimal position (the next offset to consume). The prefix defaults to [`DEFAULT_PREFIX`].
//! The braces around the group id are a Redis Cluster hash tag: every key of a group lands in
//! one slot, so one MULTI/EXEC can cover all of a group's partitions (your own keys in the same
//! transaction need the same `{<group_id>}` tag on a cluster). Kafka topic names cannot contain
//! `:`, and the partition is the last segment, so keys never collide whatever the group id holds.
//!
//! # Exactly-once processing
//! Put the commands that record your processing and the positions after it in one atomic
//! pipeline ([`RedisOffsetStore::save_in_pipeline`]); on assignment seek to the loaded positions.

use std::collections::HashMap;
use std::fmt;

use rafka_wire::TopicPartition;
use redis::aio::MultiplexedConnection;
use redis::Pipeline;

use super::{OffsetStore, StoreError};

/// Key prefix used when none is configured.
pub const DEFAULT_PREFIX: &str = "rafka:offsets";

/// How an atomic pipeline's packed bytes start: the RESP encoding of `MULTI`. The redis crate
/// does not expose whether a pipeline is atomic, so this is how a non-atomic one is caught.
const PACKED_MULTI: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";

/// Consumer positions in Redis, one key per partition (see the module docs for the layout).
///
/// # Atomicity
/// - [`OffsetStore::save`] sets every key in one MULTI/EXEC: other clients see all of the new
///   positions or none of them.
/// - [`RedisOffsetStore::save_in_pipeline`] adds the positions to your atomic pipeline
///   (`redis::pipe().atomic()`), so your commands and the positions execute as one MULTI/EXEC.
/// - Redis transactions do not roll back: a command that fails at run time (e.g. `WRONGTYPE`
///   from one of your commands) does not undo the others in the same EXEC. Errors found while
///   queueing (syntax, unknown command) abort the whole transaction.
/// - Durability is the server's (AOF/RDB settings); a position acknowledged by EXEC can still be
///   lost in a crash if the server does not fsync.
/// - Positions are not fenced by generation; the last writer wins.
///
/// Cloning is cheap (the multiplexed connection is shared).
#[derive(Clone)]
pub struct RedisOffsetStore {
    conn: MultiplexedConnection,
    prefix: String,
}

impl fmt::Debug for RedisOffsetStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisOffsetStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn redis_error(what: &str, err: redis::RedisError) -> StoreError {
    StoreError::Redis(format!("{what}: {err}"))
}

impl RedisOffsetStore {
    /// A store over an existing connection, with keys under [`DEFAULT_PREFIX`].
    pub fn new(conn: MultiplexedConnection) -> Self {
        RedisOffsetStore {
            conn,
            prefix: DEFAULT_PREFIX.to_owned(),
        }
    }

    /// Connects to `url` (`redis://[user:pass@]host[:port][/db]`, or `rediss://` if the redis
    /// crate was built with TLS) with one multiplexed connection.
    ///
    /// # Errors
    /// [`StoreError::Redis`] if the URL is malformed or the server unreachable.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| redis_error("open url", e))?;
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| redis_error("connect", e))?;
        Ok(Self::new(conn))
    }

    /// Uses `prefix` instead of [`DEFAULT_PREFIX`] (no trailing `:`; one is inserted). A prefix
    /// containing `{` takes over the Redis Cluster hash tag from the group id.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key holding `group_id`'s position for `tp`.
    pub fn key(&self, group_id: &str, tp: &TopicPartition) -> String {
        format!(
            "{}:{{{group_id}}}:{}:{}",
            self.prefix, tp.topic, tp.partition
        )
    }

    /// A handle on the store's connection, for running your own commands and pipelines.
    pub fn connection(&self) -> MultiplexedConnection {
        self.conn.clone()
    }

    /// Appends `SET key position` for each offset to `pipe`, results ignored, so that your
    /// commands and the positions run in the same MULTI/EXEC when you execute `pipe`. Nothing is
    /// added if an offset is negative or `pipe` is not atomic.
    ///
    /// # Errors
    /// [`StoreError::InvalidOffset`] for a negative offset; [`StoreError::Redis`] if `pipe` was
    /// not made with `.atomic()` (the positions would not be atomic with your commands).
    pub fn save_in_pipeline(
        &self,
        pipe: &mut Pipeline,
        group_id: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), StoreError> {
        if !pipe.get_packed_pipeline().starts_with(PACKED_MULTI) {
            return Err(StoreError::Redis(
                "save_in_pipeline needs an atomic pipeline (redis::pipe().atomic()) so the \
                 positions commit with your commands"
                    .to_owned(),
            ));
        }
        self.add_sets(pipe, group_id, offsets)
    }

    fn add_sets(
        &self,
        pipe: &mut Pipeline,
        group_id: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), StoreError> {
        if let Some((tp, offset)) = offsets.iter().find(|(_, offset)| *offset < 0) {
            return Err(StoreError::InvalidOffset {
                partition: tp.clone(),
                value: offset.to_string(),
            });
        }
        for (tp, offset) in offsets {
            pipe.set(self.key(group_id, tp), *offset).ignore();
        }
        Ok(())
    }
}

/// Parses a stored position. `raw` is whatever the key held; anything but a non-negative decimal
/// integer is an error naming the key, never a panic or a silent 0.
fn parse_position(tp: &TopicPartition, key: &str, raw: &[u8]) -> Result<i64, StoreError> {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|text| text.parse::<i64>().ok())
        .filter(|offset| *offset >= 0)
        .ok_or_else(|| StoreError::InvalidOffset {
            partition: tp.clone(),
            value: format!("{:?} at key {key}", String::from_utf8_lossy(raw)),
        })
}

#[async_trait::async_trait]
impl OffsetStore for RedisOffsetStore {
    async fn load(
        &self,
        group_id: &str,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, StoreError> {
        let mut found = HashMap::new();
        // MGET with no keys is a Redis error, not an empty answer.
        if partitions.is_empty() {
            return Ok(found);
        }
        let keys: Vec<String> = partitions.iter().map(|tp| self.key(group_id, tp)).collect();
        let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(|e| redis_error("MGET", e))?;
        if values.len() != keys.len() {
            return Err(StoreError::Redis(format!(
                "MGET of {} keys answered {} values",
                keys.len(),
                values.len()
            )));
        }
        for ((tp, key), value) in partitions.iter().zip(&keys).zip(values) {
            if let Some(raw) = value {
                found.insert(tp.clone(), parse_position(tp, key, &raw)?);
            }
        }
        Ok(found)
    }

    async fn save(
        &self,
        group_id: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), StoreError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        self.add_sets(&mut pipe, group_id, offsets)?;
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(|e| redis_error("MULTI/EXEC of SETs", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_parse_strictly() {
        let tp = TopicPartition::new("t", 1);
        assert_eq!(parse_position(&tp, "k", b"0").unwrap(), 0);
        assert_eq!(
            parse_position(&tp, "k", b"9223372036854775807").unwrap(),
            i64::MAX
        );
        for bad in [
            &b"abc"[..],
            b"",
            b"-1",
            b" 5",
            b"5.0",
            b"9223372036854775808",
            b"\xff",
        ] {
            match parse_position(&tp, "rafka:offsets:{g}:t:1", bad) {
                Err(StoreError::InvalidOffset { partition, value }) => {
                    assert_eq!(partition, tp);
                    assert!(value.ends_with("at key rafka:offsets:{g}:t:1"), "{value}");
                }
                other => panic!("{bad:?}: expected InvalidOffset, got {other:?}"),
            }
        }
    }

    #[test]
    fn packed_multi_matches_an_atomic_pipeline() {
        let mut atomic = redis::pipe();
        atomic.atomic().set("a", 1);
        assert!(atomic.get_packed_pipeline().starts_with(PACKED_MULTI));
        let mut empty_atomic = redis::pipe();
        empty_atomic.atomic();
        assert!(empty_atomic.get_packed_pipeline().starts_with(PACKED_MULTI));
        let mut plain = redis::pipe();
        plain.set("a", 1);
        assert!(!plain.get_packed_pipeline().starts_with(PACKED_MULTI));
    }
}
