//! The transaction's states; each owns its data and moves into the next by value.

use super::call::{is_fenced, Call};
use super::TxnOffsets;
use crate::engine::partitions::PartitionSet;
use crate::error::ProduceError;
use crate::group_metadata::ConsumerGroupMetadata;
use crate::idempotence::ProducerIdAndEpoch;

/// Initialized, no transaction open.
#[derive(Debug)]
pub(super) struct Ready {
    pub(super) id: ProducerIdAndEpoch,
}

impl Ready {
    /// `begin_transaction`.
    pub(super) fn begin(self) -> Open {
        Open {
            id: self.id,
            added: PartitionSet::default(),
            pending: PartitionSet::default(),
            adding: None,
            started: false,
            offsets: None,
            failed: None,
        }
    }
}

/// `send_offsets_to_transaction` in progress: AddOffsetsToTxn, then TxnOffsetCommit.
#[derive(Debug)]
pub(super) struct Offsets {
    pub(super) group: ConsumerGroupMetadata,
    pub(super) offsets: TxnOffsets,
    /// AddOffsetsToTxn answered; TxnOffsetCommit is next.
    pub(super) added: bool,
    pub(super) call: Call,
}

/// An open transaction.
#[derive(Debug)]
pub(super) struct Open {
    pub(super) id: ProducerIdAndEpoch,
    /// Partitions the coordinator has added to the transaction.
    pub(super) added: PartitionSet,
    /// Partitions written to but not yet added.
    pub(super) pending: PartitionSet,
    /// AddPartitionsToTxn for `pending`, while one is due or in flight.
    pub(super) adding: Option<Call>,
    /// The coordinator knows of this transaction (a partition or offsets were added), so
    /// it must be ended with EndTxn.
    pub(super) started: bool,
    pub(super) offsets: Option<Offsets>,
    /// A record failed while the transaction was committing.
    pub(super) failed: Option<ProduceError>,
}

impl Open {
    pub(super) fn end(self) -> Ready {
        Ready { id: self.id }
    }

    /// A record or request failed: only abort is allowed now (fencing is fatal).
    pub(super) fn fail(self, cause: ProduceError) -> TxnState {
        if is_fenced(&cause) {
            TxnState::Fatal(cause)
        } else {
            TxnState::Abortable { open: self, cause }
        }
    }
}

/// How far a commit or abort has come.
#[derive(Debug)]
pub(super) enum Ending {
    /// Waiting until every batch created before `mark` is complete.
    Flushing { mark: u64 },
    /// Abort after a sequence gap: InitProducerId with the current id and epoch (KIP-360);
    /// the coordinator aborts the open transaction as part of the bump.
    Bumping(Call),
    /// EndTxn in progress.
    EndTxn(Call),
}

/// The transaction's state; each variant owns its data.
#[derive(Debug)]
pub(super) enum TxnState {
    Uninitialized,
    Initializing(Call),
    Ready(Ready),
    InTransaction(Open),
    Abortable { open: Open, cause: ProduceError },
    Committing { open: Open, step: Ending },
    Aborting { open: Open, step: Ending },
    Fatal(ProduceError),
}

impl TxnState {
    pub(super) fn name(&self) -> &'static str {
        match self {
            TxnState::Uninitialized => "Uninitialized",
            TxnState::Initializing(_) => "Initializing",
            TxnState::Ready(_) => "Ready",
            TxnState::InTransaction(_) => "InTransaction",
            TxnState::Abortable { .. } => "Abortable",
            TxnState::Committing { .. } => "Committing",
            TxnState::Aborting { .. } => "Aborting",
            TxnState::Fatal(_) => "Fatal",
        }
    }

    pub(super) fn open(&self) -> Option<&Open> {
        match self {
            TxnState::InTransaction(o)
            | TxnState::Abortable { open: o, .. }
            | TxnState::Committing { open: o, .. }
            | TxnState::Aborting { open: o, .. } => Some(o),
            _ => None,
        }
    }

    pub(super) fn open_mut(&mut self) -> Option<&mut Open> {
        match self {
            TxnState::InTransaction(o)
            | TxnState::Abortable { open: o, .. }
            | TxnState::Committing { open: o, .. }
            | TxnState::Aborting { open: o, .. } => Some(o),
            _ => None,
        }
    }
}
