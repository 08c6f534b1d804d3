//! The "consumer" embedded protocol: the bytes a consumer puts in JoinGroup metadata
//! (Subscription) and the leader puts in SyncGroup assignments (Assignment).
//!
//! Layout: a big-endian `int16` version, then the struct of that version, per the schemas
//! `ConsumerProtocolSubscription.json` and `ConsumerProtocolAssignment.json` of Apache Kafka
//! (non-flexible: `int16`-length strings, `int32`-count arrays, `int32`-length nullable bytes).
//!
//! | Subscription version | adds |
//! | --- | --- |
//! | 0 | `topics`, `user_data` |
//! | 1 | `owned_partitions` (KIP-429) |
//! | 2 | `generation_id` (KIP-792) |
//! | 3 | `rack_id` (KIP-881) |
//!
//! Assignment versions 0–3 share one layout (`assigned_partitions`, `user_data`).
//!
//! Decoding follows Java's `ConsumerProtocol`: a version above the highest we know is read with
//! the highest we know (newer versions only append fields), a negative version is an error, and
//! bytes after the last known field are ignored.

use bytes::{BufMut, Bytes, BytesMut};
use rafka_wire::TopicPartition;

/// The JoinGroup `protocol_type` of consumer groups.
pub const PROTOCOL_TYPE: &str = "consumer";

/// Highest Subscription version this crate reads and writes.
pub const SUBSCRIPTION_MAX_VERSION: i16 = 3;

/// Highest Assignment version this crate reads and writes.
pub const ASSIGNMENT_MAX_VERSION: i16 = 3;

/// Why consumer-protocol bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The bytes ended inside a field.
    #[error("consumer protocol {what}: needed {needed} bytes, {remaining} remain")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the buffer.
        remaining: usize,
    },
    /// The version header is negative (Java: "Unsupported subscription version").
    #[error("unsupported consumer protocol {what} version {version}")]
    UnsupportedVersion {
        /// `subscription` or `assignment`.
        what: &'static str,
        /// The version read.
        version: i16,
    },
    /// A non-nullable string or array was written with a negative length.
    #[error("consumer protocol {what}: invalid length {len}")]
    InvalidLength {
        /// The field being read.
        what: &'static str,
        /// The length read.
        len: i32,
    },
    /// A string was not UTF-8.
    #[error("consumer protocol {what}: invalid UTF-8")]
    InvalidUtf8 {
        /// The field being read.
        what: &'static str,
    },
    /// A value cannot be written (a string longer than 32767 bytes, more than `i32::MAX` items).
    #[error("consumer protocol {what}: value too large to encode")]
    TooLarge {
        /// The field being written.
        what: &'static str,
    },
}

/// A member's subscription, sent as JoinGroup protocol metadata (one per assignor).
///
/// Mirrors Java's `ConsumerPartitionAssignor.Subscription`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscription {
    /// Subscribed topic names, in the order written.
    pub topics: Vec<String>,
    /// Assignor-specific bytes (`None` is written as length -1).
    pub user_data: Option<Bytes>,
    /// Partitions the member owns now (v1+, KIP-429); grouped by topic on the wire in
    /// first-seen order, as Java does.
    pub owned_partitions: Vec<TopicPartition>,
    /// Generation the owned partitions belong to (v2+; `None` is written as -1).
    pub generation_id: Option<i32>,
    /// The member's `client.rack` (v3+, KIP-881).
    pub rack_id: Option<String>,
    /// The member's `group.instance.id` (KIP-345). Not part of the bytes: the leader fills it
    /// from the JoinGroup member list, and range/roundrobin sort static members by it.
    pub group_instance_id: Option<String>,
}

/// A member's assignment, sent by the leader in SyncGroup and returned to each member.
///
/// Mirrors Java's `ConsumerPartitionAssignor.Assignment`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// Assigned partitions; grouped by topic on the wire in first-seen order.
    pub partitions: Vec<TopicPartition>,
    /// Assignor-specific bytes (`None` is written as length -1).
    pub user_data: Option<Bytes>,
}

impl Subscription {
    /// Encodes at `version` (clamped to 0..=3; Java writes 3). Fields newer than `version` are
    /// dropped, as Java's generated writer does for defaults.
    ///
    /// # Errors
    /// [`ProtocolError::TooLarge`] for a topic name over 32767 bytes or more than `i32::MAX`
    /// items.
    pub fn encode(&self, version: i16) -> Result<Bytes, ProtocolError> {
        let version = version.clamp(0, SUBSCRIPTION_MAX_VERSION);
        let mut out = BytesMut::new();
        out.put_i16(version);
        put_len(&mut out, self.topics.len(), "topics")?;
        for topic in &self.topics {
            put_string(&mut out, topic, "topic")?;
        }
        put_nullable_bytes(&mut out, self.user_data.as_deref(), "user_data")?;
        if version >= 1 {
            put_topic_partitions(&mut out, &self.owned_partitions, "owned_partitions")?;
        }
        if version >= 2 {
            out.put_i32(self.generation_id.unwrap_or(-1));
        }
        if version >= 3 {
            match &self.rack_id {
                None => out.put_i16(-1),
                Some(rack) => put_string(&mut out, rack, "rack_id")?,
            }
        }
        Ok(out.freeze())
    }

    /// Decodes bytes written by any consumer (Java, librdkafka, rafka).
    ///
    /// A version above 3 is read as 3 and trailing bytes are ignored (Java's behaviour).
    /// `group_instance_id` is left `None`.
    ///
    /// # Errors
    /// [`ProtocolError`] for truncated input, a negative version, bad lengths or UTF-8.
    pub fn decode(buf: &[u8]) -> Result<Subscription, ProtocolError> {
        let mut r = Reader { buf };
        let version = r.i16("subscription version")?;
        if version < 0 {
            return Err(ProtocolError::UnsupportedVersion {
                what: "subscription",
                version,
            });
        }
        let version = version.min(SUBSCRIPTION_MAX_VERSION);
        let count = r.array_len("topics", 2)?;
        let mut topics = Vec::with_capacity(count);
        for _ in 0..count {
            topics.push(r.string("topic")?);
        }
        let user_data = r.nullable_bytes("user_data")?;
        let owned_partitions = if version >= 1 {
            r.topic_partitions("owned_partitions")?
        } else {
            Vec::new()
        };
        let generation_id = if version >= 2 {
            // Java's `Subscription` treats any negative generation as absent.
            Some(r.i32("generation_id")?).filter(|g| *g >= 0)
        } else {
            None
        };
        let rack_id = if version >= 3 {
            r.nullable_string("rack_id")?
        } else {
            None
        };
        Ok(Subscription {
            topics,
            user_data,
            owned_partitions,
            generation_id,
            rack_id,
            group_instance_id: None,
        })
    }
}

impl Assignment {
    /// Encodes at `version` (clamped to 0..=3; all share one layout, Java writes 3).
    ///
    /// # Errors
    /// [`ProtocolError::TooLarge`] for a topic name over 32767 bytes.
    pub fn encode(&self, version: i16) -> Result<Bytes, ProtocolError> {
        let version = version.clamp(0, ASSIGNMENT_MAX_VERSION);
        let mut out = BytesMut::new();
        out.put_i16(version);
        put_topic_partitions(&mut out, &self.partitions, "assigned_partitions")?;
        put_nullable_bytes(&mut out, self.user_data.as_deref(), "user_data")?;
        Ok(out.freeze())
    }

    /// Decodes a SyncGroup assignment. An empty buffer is an empty assignment: the
    /// coordinator sends zero bytes to members the leader left out (Java treats it the same).
    ///
    /// # Errors
    /// [`ProtocolError`] for truncated input, a negative version, bad lengths or UTF-8.
    pub fn decode(buf: &[u8]) -> Result<Assignment, ProtocolError> {
        if buf.is_empty() {
            return Ok(Assignment::default());
        }
        let mut r = Reader { buf };
        let version = r.i16("assignment version")?;
        if version < 0 {
            return Err(ProtocolError::UnsupportedVersion {
                what: "assignment",
                version,
            });
        }
        let partitions = r.topic_partitions("assigned_partitions")?;
        let user_data = r.nullable_bytes("user_data")?;
        Ok(Assignment {
            partitions,
            user_data,
        })
    }
}

pub(crate) fn put_len(
    out: &mut BytesMut,
    len: usize,
    what: &'static str,
) -> Result<(), ProtocolError> {
    let len = i32::try_from(len).map_err(|_| ProtocolError::TooLarge { what })?;
    out.put_i32(len);
    Ok(())
}

pub(crate) fn put_string(
    out: &mut BytesMut,
    s: &str,
    what: &'static str,
) -> Result<(), ProtocolError> {
    let len = i16::try_from(s.len()).map_err(|_| ProtocolError::TooLarge { what })?;
    out.put_i16(len);
    out.put_slice(s.as_bytes());
    Ok(())
}

fn put_nullable_bytes(
    out: &mut BytesMut,
    b: Option<&[u8]>,
    what: &'static str,
) -> Result<(), ProtocolError> {
    match b {
        None => out.put_i32(-1),
        Some(b) => {
            put_len(out, b.len(), what)?;
            out.put_slice(b);
        }
    }
    Ok(())
}

/// Writes `[topic, [partition]]`, grouping by topic in first-seen order (Java's
/// `ImplicitLinkedHashMultiCollection` keyed by topic keeps insertion order).
pub(crate) fn put_topic_partitions(
    out: &mut BytesMut,
    tps: &[TopicPartition],
    what: &'static str,
) -> Result<(), ProtocolError> {
    let mut groups: Vec<(&str, Vec<i32>)> = Vec::new();
    for tp in tps {
        match groups.iter_mut().find(|(t, _)| *t == tp.topic) {
            Some((_, parts)) => parts.push(tp.partition),
            None => groups.push((&tp.topic, vec![tp.partition])),
        }
    }
    put_len(out, groups.len(), what)?;
    for (topic, parts) in groups {
        put_string(out, topic, what)?;
        put_len(out, parts.len(), what)?;
        for p in parts {
            out.put_i32(p);
        }
    }
    Ok(())
}

/// A bounds-checked big-endian reader; every length is checked against the bytes left before
/// anything is allocated.
pub(crate) struct Reader<'a> {
    pub(crate) buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        if self.buf.len() < n {
            return Err(ProtocolError::Truncated {
                what,
                needed: n,
                remaining: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn i16(&mut self, what: &'static str) -> Result<i16, ProtocolError> {
        let b = self.take(2, what)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn i32(&mut self, what: &'static str) -> Result<i32, ProtocolError> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// An `int32` array count; each element takes at least `min_item` bytes, so a count the
    /// remaining bytes cannot hold is rejected before allocation.
    pub(crate) fn array_len(
        &mut self,
        what: &'static str,
        min_item: usize,
    ) -> Result<usize, ProtocolError> {
        let len = self.i32(what)?;
        let n = usize::try_from(len).map_err(|_| ProtocolError::InvalidLength { what, len })?;
        let needed = n.saturating_mul(min_item);
        if needed > self.buf.len() {
            return Err(ProtocolError::Truncated {
                what,
                needed,
                remaining: self.buf.len(),
            });
        }
        Ok(n)
    }

    pub(crate) fn string(&mut self, what: &'static str) -> Result<String, ProtocolError> {
        self.nullable_string(what)?
            .ok_or(ProtocolError::InvalidLength { what, len: -1 })
    }

    fn nullable_string(&mut self, what: &'static str) -> Result<Option<String>, ProtocolError> {
        let len = self.i16(what)?;
        if len < 0 {
            return Ok(None);
        }
        let b = self.take(len as usize, what)?;
        std::str::from_utf8(b)
            .map(|s| Some(s.to_owned()))
            .map_err(|_| ProtocolError::InvalidUtf8 { what })
    }

    fn nullable_bytes(&mut self, what: &'static str) -> Result<Option<Bytes>, ProtocolError> {
        let len = self.i32(what)?;
        if len < 0 {
            return Ok(None);
        }
        Ok(Some(Bytes::copy_from_slice(self.take(len as usize, what)?)))
    }

    pub(crate) fn topic_partitions(
        &mut self,
        what: &'static str,
    ) -> Result<Vec<TopicPartition>, ProtocolError> {
        // topic string (2) + partition array count (4)
        let topics = self.array_len(what, 6)?;
        let mut out = Vec::new();
        for _ in 0..topics {
            let topic = self.string(what)?;
            let parts = self.array_len(what, 4)?;
            out.reserve(parts);
            for _ in 0..parts {
                out.push(TopicPartition::new(topic.clone(), self.i32(what)?));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(t: &str, p: i32) -> TopicPartition {
        TopicPartition::new(t, p)
    }

    /// Subscription v0 for topics ["t"], no user data, computed by hand from the schema.
    const SUB_V0: &[u8] = &[
        0, 0, // version
        0, 0, 0, 1, // topics count
        0, 1, b't', // "t"
        0xff, 0xff, 0xff, 0xff, // user_data null
    ];

    #[test]
    fn subscription_v0_bytes() {
        let s = Subscription {
            topics: vec!["t".into()],
            ..Default::default()
        };
        assert_eq!(&s.encode(0).unwrap()[..], SUB_V0);
        assert_eq!(Subscription::decode(SUB_V0).unwrap(), s);
    }

    #[test]
    fn subscription_v3_bytes() {
        let s = Subscription {
            topics: vec!["foo".into(), "bar".into()],
            user_data: Some(Bytes::from_static(&[1, 2])),
            owned_partitions: vec![tp("foo", 0), tp("bar", 2), tp("foo", 1)],
            generation_id: Some(7),
            rack_id: Some("r1".into()),
            group_instance_id: None,
        };
        let expected: Vec<u8> = [
            &[0, 3][..],
            &[0, 0, 0, 2],
            &[0, 3, b'f', b'o', b'o'],
            &[0, 3, b'b', b'a', b'r'],
            &[0, 0, 0, 2, 1, 2],
            // owned: foo [0,1], bar [2] — grouped in first-seen order
            &[0, 0, 0, 2],
            &[0, 3, b'f', b'o', b'o', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1],
            &[0, 3, b'b', b'a', b'r', 0, 0, 0, 1, 0, 0, 0, 2],
            &[0, 0, 0, 7],
            &[0, 2, b'r', b'1'],
        ]
        .concat();
        assert_eq!(&s.encode(3).unwrap()[..], &expected[..]);
        let back = Subscription::decode(&expected).unwrap();
        assert_eq!(
            back.owned_partitions,
            vec![tp("foo", 0), tp("foo", 1), tp("bar", 2)]
        );
        assert_eq!(back.generation_id, Some(7));
        assert_eq!(back.rack_id.as_deref(), Some("r1"));
        assert_eq!(back.user_data.as_deref(), Some(&[1u8, 2][..]));
    }

    #[test]
    fn subscription_v1_and_v2_drop_newer_fields() {
        let s = Subscription {
            topics: vec![],
            user_data: None,
            owned_partitions: vec![tp("a", 3)],
            generation_id: Some(1),
            rack_id: Some("x".into()),
            group_instance_id: None,
        };
        let v1 = s.encode(1).unwrap();
        assert_eq!(
            &v1[..],
            &[
                0, 1, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 1, 0, 1, b'a', 0, 0, 0, 1, 0, 0, 0,
                3
            ]
        );
        let back = Subscription::decode(&v1).unwrap();
        assert_eq!(back.generation_id, None);
        assert_eq!(back.rack_id, None);
        let v2 = s.encode(2).unwrap();
        assert_eq!(&v2[v2.len() - 4..], &[0, 0, 0, 1]);
        assert_eq!(Subscription::decode(&v2).unwrap().generation_id, Some(1));
        // generation -1 on the wire means "none"
        let none = Subscription {
            generation_id: None,
            ..s
        };
        let b = none.encode(2).unwrap();
        assert_eq!(&b[b.len() - 4..], &[255, 255, 255, 255]);
    }

    #[test]
    fn newer_version_with_trailing_fields_is_read_as_v3() {
        let s = Subscription {
            topics: vec!["t".into()],
            generation_id: Some(2),
            ..Default::default()
        };
        let mut b = s.encode(3).unwrap().to_vec();
        b[1] = 9; // version 9, which we do not know
        b.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]); // a field from the future
        assert_eq!(Subscription::decode(&b).unwrap(), s);
    }

    #[test]
    fn negative_version_is_an_error() {
        assert!(matches!(
            Subscription::decode(&[0xff, 0xff]),
            Err(ProtocolError::UnsupportedVersion { version: -1, .. })
        ));
        assert!(matches!(
            Assignment::decode(&[0x80, 0x00]),
            Err(ProtocolError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn huge_counts_are_rejected_before_allocation() {
        let b = [0, 0, 0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            Subscription::decode(&b),
            Err(ProtocolError::Truncated { .. })
        ));
        let b = [0, 0, 0xff, 0xff, 0xff, 0xfe];
        assert!(matches!(
            Subscription::decode(&b),
            Err(ProtocolError::InvalidLength { len: -2, .. })
        ));
    }

    #[test]
    fn assignment_bytes() {
        let a = Assignment {
            partitions: vec![tp("t", 0), tp("t", 1)],
            user_data: None,
        };
        let expected = [
            0, 3, 0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 255, 255, 255, 255,
        ];
        assert_eq!(&a.encode(3).unwrap()[..], &expected);
        assert_eq!(Assignment::decode(&expected).unwrap(), a);
        // v0 differs only in the header
        assert_eq!(&a.encode(0).unwrap()[2..], &expected[2..]);
        assert_eq!(Assignment::decode(&[]).unwrap(), Assignment::default());
    }

    /// Captured from a librdkafka 2.16 member (confluent-kafka 2.16.1, `range`,
    /// `client.rack=rack-x`) joining a group on Tansu: tests/librdkafka_interop.rs prints them
    /// when rafka leads.
    const LIBRDKAFKA_2_16_SUBSCRIPTION: &[u8] = &[
        0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, b'o', b'r', b'd', b'e', b'r', b's', 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x06, b'r', b'a',
        b'c', b'k', b'-', b'x',
    ];

    #[test]
    fn librdkafka_subscription_golden_bytes() {
        let s = Subscription::decode(LIBRDKAFKA_2_16_SUBSCRIPTION).unwrap();
        assert_eq!(s.topics, vec!["orders".to_owned()]);
        // librdkafka writes empty (not null) user data and generation -1.
        assert_eq!(s.user_data.as_deref(), Some(&[][..]));
        assert!(s.owned_partitions.is_empty());
        assert_eq!(s.generation_id, None);
        assert_eq!(s.rack_id.as_deref(), Some("rack-x"));
        assert_eq!(&s.encode(3).unwrap()[..], LIBRDKAFKA_2_16_SUBSCRIPTION);
    }

    #[test]
    fn truncated_everywhere_is_an_error_not_a_panic() {
        let s = Subscription {
            topics: vec!["topic".into()],
            user_data: Some(Bytes::from_static(b"ud")),
            owned_partitions: vec![tp("topic", 1)],
            generation_id: Some(3),
            rack_id: Some("rack".into()),
            group_instance_id: None,
        };
        let b = s.encode(3).unwrap();
        for cut in 0..b.len() {
            assert!(Subscription::decode(&b[..cut]).is_err(), "cut at {cut}");
        }
    }
}
