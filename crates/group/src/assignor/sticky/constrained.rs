//! The sticky assignment when every member subscribes to the same topics (Kafka 3.x
//! `AbstractStickyAssignor.constrainedAssign`).
//!
//! With `P` partitions and `C` members, `min = P / C`, `max = ceil(P / C)`, and exactly
//! `P % C` members end with `max`. Members keep what they owned up to their quota (`max` for
//! the first `P % C` members that owned at least `max`, otherwise `min`); everything else is
//! dealt round-robin, in partition order, first to members below `min` (sorted by id), then one
//! each to members at `min` (sorted by id) until `P % C` members are at `max`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rafka_wire::TopicPartition;

use super::{all_partitions, java_order};
use crate::assignor::{AssignError, MemberId};

pub(super) fn assign(
    assignor: &'static str,
    partitions_per_topic: &BTreeMap<String, i32>,
    owned: BTreeMap<MemberId, Vec<TopicPartition>>,
    doubly_claimed: &BTreeSet<TopicPartition>,
    transferring: &mut BTreeMap<TopicPartition, MemberId>,
) -> Result<BTreeMap<MemberId, Vec<TopicPartition>>, AssignError> {
    let internal = |message: &str| AssignError::Internal {
        assignor,
        message: message.to_owned(),
    };
    let all = all_partitions(partitions_per_topic);
    let total = all.len();
    let consumers = owned.len();
    let min_quota = total / consumers;
    let max_quota = total.div_ceil(consumers);
    let expected_over_min = total % consumers;
    let mut current_over_min = 0usize;

    let mut revoked: BTreeSet<TopicPartition> = BTreeSet::new();
    let mut assigned: BTreeSet<TopicPartition> = BTreeSet::new();
    let mut under_min: Vec<MemberId> = Vec::new();
    let mut exactly_min: VecDeque<MemberId> = VecDeque::new();
    let mut assignment: BTreeMap<MemberId, Vec<TopicPartition>> = BTreeMap::new();

    // Java walks `consumerToOwnedPartitions`, a `HashMap`: its order decides who keeps
    // `max_quota`. Owned partitions are kept in (partition, topic) order so a member keeps a
    // mix of topics.
    let order: Vec<MemberId> = java_order::hash_map_order(owned.keys().map(String::as_str))
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut owned = owned;
    for member in order {
        let mut owned = owned.remove(&member).unwrap_or_default();
        owned.sort_by(|a, b| {
            a.partition
                .cmp(&b.partition)
                .then_with(|| a.topic.cmp(&b.topic))
        });
        let keep = if owned.len() < min_quota {
            under_min.push(member.clone());
            owned.len()
        } else if owned.len() >= max_quota && current_over_min < expected_over_min {
            current_over_min += 1;
            if current_over_min == expected_over_min {
                // No one else may go above min now.
                exactly_min.clear();
            }
            max_quota
        } else {
            if current_over_min < expected_over_min {
                exactly_min.push_back(member.clone());
            }
            min_quota
        };
        let mut list = Vec::with_capacity(max_quota);
        for (i, tp) in owned.into_iter().enumerate() {
            if i < keep {
                assigned.insert(tp.clone());
                list.push(tp);
            } else {
                revoked.insert(tp);
            }
        }
        assignment.insert(member, list);
    }

    let unassigned: Vec<TopicPartition> = all
        .into_iter()
        .filter(|tp| !assigned.contains(tp))
        .collect();
    under_min.sort();
    exactly_min.make_contiguous().sort();

    // Round-robin over the members below min; `cursor` walks `under_min`, which shrinks as
    // members reach min (Java removes through the iterator).
    let mut cursor = 0usize;
    for tp in unassigned {
        let member = if cursor < under_min.len() {
            cursor += 1;
            under_min[cursor - 1].clone()
        } else if under_min.is_empty() {
            match exactly_min.pop_front() {
                Some(m) => m,
                None => return Err(internal("no more unfilled consumers to be assigned")),
            }
        } else {
            cursor = 1;
            under_min[0].clone()
        };
        let list = assignment.get_mut(&member).expect("member listed");
        list.push(tp.clone());
        if revoked.contains(&tp) || doubly_claimed.contains(&tp) {
            transferring.insert(tp, member.clone());
        }
        let count = list.len();
        if count == min_quota {
            // Only members taken from `under_min` can land exactly on min.
            cursor -= 1;
            under_min.remove(cursor);
            exactly_min.push_back(member);
        } else if count == max_quota {
            current_over_min += 1;
        }
    }

    if !under_min.is_empty() {
        if current_over_min != expected_over_min {
            return Err(internal(
                "expected number of members above minQuota not reached, but no partitions left",
            ));
        }
        if under_min.iter().any(|m| assignment[m].len() != min_quota) {
            return Err(internal("there are still unfilled members under minQuota"));
        }
    }
    Ok(assignment)
}
