//! Taking partitions from whatever collection the caller has: a `Vec`, a slice, an array, or
//! references to partitions, so that `assign([&tp])` needs no `slice::from_ref`.

use std::borrow::Borrow;

use rafka_wire::TopicPartition;

/// The partitions of any collection of partitions or references to them.
pub(crate) fn to_vec(
    partitions: impl IntoIterator<Item = impl Borrow<TopicPartition>>,
) -> Vec<TopicPartition> {
    partitions
        .into_iter()
        .map(|tp| tp.borrow().clone())
        .collect()
}
