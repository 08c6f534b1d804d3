//! Control records: the transaction markers a transaction coordinator writes into a partition
//! when a transaction commits or aborts (KIP-98, "Control Messages").
//!
//! Key: `version i16 (0) | type i16` with type 0 = abort, 1 = commit (other types are KRaft
//! internals). Value of a marker: `version i16 (0) | coordinatorEpoch i32`, possibly followed
//! by fields of newer versions, which are ignored.

use super::varint::Reader;
use super::Record;
use crate::WireError;

/// A decoded control record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlRecord {
    /// The producer's transaction was aborted: skip its records under `read_committed`.
    Abort {
        /// Epoch of the coordinator that wrote the marker.
        coordinator_epoch: i32,
    },
    /// The producer's transaction was committed.
    Commit {
        /// Epoch of the coordinator that wrote the marker.
        coordinator_epoch: i32,
    },
    /// Another control type (KRaft leader change, snapshot markers...): consumers skip it.
    Other {
        /// The type id from the key.
        kind: i16,
    },
}

/// Control type id of an abort marker.
pub const CONTROL_TYPE_ABORT: i16 = 0;
/// Control type id of a commit marker.
pub const CONTROL_TYPE_COMMIT: i16 = 1;

impl ControlRecord {
    /// The record key this control record is written with (version 0).
    pub fn key_bytes(&self) -> [u8; 4] {
        let kind = match self {
            ControlRecord::Abort { .. } => CONTROL_TYPE_ABORT,
            ControlRecord::Commit { .. } => CONTROL_TYPE_COMMIT,
            ControlRecord::Other { kind } => *kind,
        };
        let mut k = [0u8; 4];
        k[2..].copy_from_slice(&kind.to_be_bytes());
        k
    }

    /// The record value of a transaction marker (version 0); `None` for other types.
    pub fn value_bytes(&self) -> Option<[u8; 6]> {
        match self {
            ControlRecord::Abort { coordinator_epoch }
            | ControlRecord::Commit { coordinator_epoch } => {
                let mut v = [0u8; 6];
                v[2..].copy_from_slice(&coordinator_epoch.to_be_bytes());
                Some(v)
            }
            ControlRecord::Other { .. } => None,
        }
    }
}

/// Reads `record` (a record of a control batch) as a [`ControlRecord`].
///
/// # Errors
/// [`WireError::Invalid`] for a missing key or a negative key version;
/// [`WireError::Truncated`] for a short key or marker value.
pub fn decode_control(record: &Record) -> Result<ControlRecord, WireError> {
    let Some(key) = &record.key else {
        return Err(WireError::Invalid {
            what: "control record",
            detail: "null key".into(),
        });
    };
    let mut r = Reader::new(key);
    let version = r.i16("control record key version")?;
    if version < 0 {
        return Err(WireError::Invalid {
            what: "control record",
            detail: format!("negative key version {version}"),
        });
    }
    let kind = r.i16("control record type")?;
    if kind != CONTROL_TYPE_ABORT && kind != CONTROL_TYPE_COMMIT {
        return Ok(ControlRecord::Other { kind });
    }
    let value = record.value.as_deref().unwrap_or_default();
    let mut r = Reader::new(value);
    let _version = r.i16("transaction marker version")?;
    let coordinator_epoch = r.i32("transaction marker coordinator epoch")?;
    Ok(if kind == CONTROL_TYPE_ABORT {
        ControlRecord::Abort { coordinator_epoch }
    } else {
        ControlRecord::Commit { coordinator_epoch }
    })
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn record(key: &[u8], value: Option<&[u8]>) -> Record {
        Record {
            offset: 0,
            timestamp: 0,
            key: Some(Bytes::copy_from_slice(key)),
            value: value.map(Bytes::copy_from_slice),
            headers: Vec::new(),
        }
    }

    #[test]
    fn markers() {
        let commit = record(&[0, 0, 0, 1], Some(&[0, 0, 0, 0, 0, 7]));
        assert_eq!(
            decode_control(&commit).unwrap(),
            ControlRecord::Commit {
                coordinator_epoch: 7
            }
        );
        let abort = record(&[0, 0, 0, 0], Some(&[0, 0, 0xff, 0xff, 0xff, 0xff, 9, 9]));
        assert_eq!(
            abort.control().unwrap(),
            ControlRecord::Abort {
                coordinator_epoch: -1
            }
        );
        let leader_change = record(&[0, 0, 0, 2], None);
        assert_eq!(
            decode_control(&leader_change).unwrap(),
            ControlRecord::Other { kind: 2 }
        );
        let c = ControlRecord::Commit {
            coordinator_epoch: 7,
        };
        assert_eq!(c.key_bytes(), [0, 0, 0, 1]);
        assert_eq!(c.value_bytes(), Some([0, 0, 0, 0, 0, 7]));
    }

    #[test]
    fn malformed() {
        assert!(decode_control(&record(&[0, 0, 0], None)).is_err());
        assert!(decode_control(&record(&[0xff, 0xff, 0, 0], None)).is_err());
        assert!(decode_control(&record(&[0, 0, 0, 1], Some(&[0, 0, 0]))).is_err());
        assert!(decode_control(&record(&[0, 0, 0, 1], None)).is_err());
        let mut no_key = record(&[], None);
        no_key.key = None;
        assert!(decode_control(&no_key).is_err());
    }
}
