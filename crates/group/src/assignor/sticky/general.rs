//! The sticky assignment when members subscribe to different topics (Java
//! `AbstractStickyAssignor.generalAssign`).
//!
//! Steps, as in Java: keep every valid owned partition; drop partitions whose topic vanished
//! or that their owner no longer subscribes to; give each unassigned partition to the
//! least-loaded member that can take it (ties by member id); then, while the assignment is not
//! balanced, move partitions (least-shared partitions first) to the least-loaded eligible
//! member, preferring a partition's previous owner; finally keep the result only if it is
//! strictly more balanced than the assignment before the moves (unless starting from empty).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rafka_wire::TopicPartition;

use super::movements::PartitionMovements;
use super::{all_partitions, MemberData, DEFAULT_GENERATION};
use crate::assignor::{MemberId, MemberSubscription};

struct State<'a> {
    current: BTreeMap<MemberId, Vec<TopicPartition>>,
    /// Members ordered by (assigned count, member id): Java's `SubscriptionComparator`.
    sorted: BTreeSet<(usize, MemberId)>,
    owner: BTreeMap<TopicPartition, MemberId>,
    /// Subscribed topics that exist, per member: a member may take exactly their partitions.
    potential_topics: &'a BTreeMap<MemberId, BTreeSet<String>>,
    /// How many partitions each member could hold at most.
    potential_count: &'a BTreeMap<MemberId, usize>,
    potential_consumers: &'a BTreeMap<TopicPartition, Vec<MemberId>>,
    previous_owner: &'a BTreeMap<TopicPartition, MemberId>,
    movements: PartitionMovements,
}

pub(super) fn assign(
    partitions_per_topic: &BTreeMap<String, i32>,
    members: &BTreeMap<MemberId, MemberSubscription>,
    member_data: &BTreeMap<MemberId, MemberData>,
    owned: BTreeMap<MemberId, Vec<TopicPartition>>,
) -> BTreeMap<MemberId, Vec<TopicPartition>> {
    let previous_owner = previous_owners(member_data);

    let mut potential_consumers: BTreeMap<TopicPartition, Vec<MemberId>> =
        all_partitions(partitions_per_topic)
            .into_iter()
            .map(|tp| (tp, Vec::new()))
            .collect();
    let mut potential_topics: BTreeMap<MemberId, BTreeSet<String>> = BTreeMap::new();
    let mut potential_count: BTreeMap<MemberId, usize> = BTreeMap::new();
    for (member, sub) in members {
        let mut topics = BTreeSet::new();
        let mut count = 0usize;
        for topic in &sub.topics {
            let Some(&n) = partitions_per_topic.get(topic) else {
                continue;
            };
            if !topics.insert(topic.clone()) {
                continue;
            }
            count += n as usize;
            for p in 0..n {
                potential_consumers
                    .get_mut(&TopicPartition::new(topic.clone(), p))
                    .expect("all partitions listed")
                    .push(member.clone());
            }
        }
        potential_topics.insert(member.clone(), topics);
        potential_count.insert(member.clone(), count);
    }

    // Start from the validated owned partitions; members absent from `owned` start empty.
    let mut current: BTreeMap<MemberId, Vec<TopicPartition>> = members
        .keys()
        .map(|m| (m.clone(), owned.get(m).cloned().unwrap_or_default()))
        .collect();
    let mut owner = BTreeMap::new();
    let mut revocation_required = false;
    let mut kept: BTreeSet<TopicPartition> = BTreeSet::new();
    for (member, list) in current.iter_mut() {
        list.retain(|tp| {
            if !potential_consumers.contains_key(tp) {
                false
            } else if !members[member].topics.contains(&tp.topic) {
                revocation_required = true;
                false
            } else {
                kept.insert(tp.clone());
                owner.insert(tp.clone(), member.clone());
                true
            }
        });
    }

    // Partitions with fewest potential consumers first, then by topic and partition.
    let mut sorted_partitions: Vec<TopicPartition> = potential_consumers.keys().cloned().collect();
    sorted_partitions.sort_by(|a, b| {
        potential_consumers[a]
            .len()
            .cmp(&potential_consumers[b].len())
            .then_with(|| a.cmp(b))
    });
    let unassigned: Vec<TopicPartition> = sorted_partitions
        .iter()
        .filter(|tp| !kept.contains(*tp))
        .cloned()
        .collect();

    let sorted = current.iter().map(|(m, l)| (l.len(), m.clone())).collect();
    let mut st = State {
        current,
        sorted,
        owner,
        potential_topics: &potential_topics,
        potential_count: &potential_count,
        potential_consumers: &potential_consumers,
        previous_owner: &previous_owner,
        movements: PartitionMovements::default(),
    };
    st.balance(sorted_partitions, unassigned, revocation_required);
    st.current
}

/// For each partition, the owner before its current one: the member claiming it with the
/// second-highest generation (Java `prepopulateCurrentAssignments`' `prevAssignment`).
fn previous_owners(
    member_data: &BTreeMap<MemberId, MemberData>,
) -> BTreeMap<TopicPartition, MemberId> {
    let mut by_generation: BTreeMap<TopicPartition, BTreeMap<i32, MemberId>> = BTreeMap::new();
    for (member, data) in member_data {
        for tp in &data.partitions {
            let owners = by_generation.entry(tp.clone()).or_default();
            match data.generation {
                Some(g) if owners.contains_key(&g) => {
                    tracing::warn!(%tp, generation = g, "partition assigned to two members in one generation");
                }
                g => {
                    owners.insert(g.unwrap_or(DEFAULT_GENERATION), member.clone());
                }
            }
        }
    }
    by_generation
        .into_iter()
        .filter_map(|(tp, owners)| owners.into_values().rev().nth(1).map(|m| (tp, m)))
        .collect()
}

impl State<'_> {
    fn size(&self, member: &str) -> usize {
        self.current.get(member).map_or(0, Vec::len)
    }

    fn can_take(&self, member: &str, tp: &TopicPartition) -> bool {
        self.potential_topics
            .get(member)
            .is_some_and(|s| s.contains(&tp.topic))
    }

    fn add(&mut self, member: &str, tp: TopicPartition) {
        let n = self.size(member);
        self.sorted.remove(&(n, member.to_owned()));
        self.owner.insert(tp.clone(), member.to_owned());
        self.current.get_mut(member).expect("member").push(tp);
        self.sorted.insert((n + 1, member.to_owned()));
    }

    fn remove(&mut self, member: &str, tp: &TopicPartition) {
        let n = self.size(member);
        self.sorted.remove(&(n, member.to_owned()));
        let list = self.current.get_mut(member).expect("member");
        if let Some(i) = list.iter().position(|p| p == tp) {
            list.remove(i);
        }
        self.sorted.insert((list.len(), member.to_owned()));
    }

    /// The least-loaded member that may take `tp` (Java `assignPartition` / `reassignPartition`).
    fn least_loaded_for(&self, tp: &TopicPartition) -> Option<MemberId> {
        self.sorted
            .iter()
            .find(|(_, m)| self.can_take(m, tp))
            .map(|(_, m)| m.clone())
    }

    fn can_participate(&self, member: &str) -> bool {
        let list = &self.current[member];
        if list.len() < self.potential_count[member] {
            return true;
        }
        list.iter()
            .any(|tp| self.potential_consumers[tp].len() >= 2)
    }

    fn balance(
        &mut self,
        mut sorted_partitions: Vec<TopicPartition>,
        mut unassigned: Vec<TopicPartition>,
        revocation_required: bool,
    ) {
        let initializing = self
            .sorted
            .last()
            .is_none_or(|(_, m)| self.current[m].is_empty());

        for tp in &unassigned {
            if self.potential_consumers[tp].is_empty() {
                continue;
            }
            if let Some(m) = self.least_loaded_for(tp) {
                self.add(&m, tp.clone());
            }
        }

        // Partitions only one member can take, and members that cannot change, stay put.
        let movable = |tp: &TopicPartition| self.potential_consumers[tp].len() >= 2;
        sorted_partitions.retain(movable);
        unassigned.retain(movable);
        let fixed_members: Vec<MemberId> = self
            .current
            .keys()
            .filter(|m| !self.can_participate(m))
            .cloned()
            .collect();
        let mut fixed = BTreeMap::new();
        for m in fixed_members {
            let list = self.current.remove(&m).expect("member");
            self.sorted.remove(&(list.len(), m.clone()));
            fixed.insert(m, list);
        }

        let before = self.current.clone();
        let before_owner = self.owner.clone();
        if !revocation_required {
            self.perform_reassignments(&unassigned);
        }
        let reassigned = self.perform_reassignments(&sorted_partitions);
        if !initializing && reassigned && balance_score(&self.current) >= balance_score(&before) {
            self.current = before;
            self.owner = before_owner;
        }
        for (m, list) in fixed {
            self.current.insert(m, list);
        }
    }

    fn perform_reassignments(&mut self, partitions: &[TopicPartition]) -> bool {
        let mut performed = false;
        loop {
            let mut modified = false;
            for tp in partitions {
                if self.is_balanced() {
                    break;
                }
                let Some(consumer) = self.owner.get(tp).cloned() else {
                    tracing::error!(%tp, "expected partition to be assigned");
                    continue;
                };
                if let Some(prev) = self.previous_owner.get(tp) {
                    if self.current.contains_key(prev)
                        && self.can_take(prev, tp)
                        && self.size(&consumer) > self.size(prev) + 1
                    {
                        let prev = prev.clone();
                        self.reassign(tp, &consumer, &prev);
                        performed = true;
                        modified = true;
                        continue;
                    }
                }
                let better = self.potential_consumers[tp].iter().any(|other| {
                    self.current.contains_key(other) && self.size(&consumer) > self.size(other) + 1
                });
                if better {
                    if let Some(new) = self.least_loaded_for(tp) {
                        self.reassign(tp, &consumer, &new);
                        performed = true;
                        modified = true;
                    }
                }
            }
            if !modified {
                return performed;
            }
        }
    }

    fn reassign(&mut self, tp: &TopicPartition, consumer: &str, new: &str) {
        let actual = self.movements.partition_to_move(tp, consumer, new);
        let Some(old) = self.owner.get(&actual).cloned() else {
            return;
        };
        if !self.current.contains_key(&old) {
            return;
        }
        self.movements.move_partition(&actual, &old, new);
        self.remove(&old, &actual);
        self.add(new, actual);
    }

    /// Java `isBalanced`: sizes within one, or no member could take a partition from a member
    /// holding more.
    fn is_balanced(&self) -> bool {
        let (Some((min, _)), Some((max, _))) = (self.sorted.first(), self.sorted.last()) else {
            return true;
        };
        if *min + 1 >= *max {
            return true;
        }
        // Java walks every member's missing partitions; equivalently, look for a partition
        // whose owner holds more than some other participating member subscribed to its
        // topic (such a member cannot already hold all it may take). The two least-loaded
        // subscribers of each topic suffice to exclude the owner itself.
        let mut least: HashMap<&str, [Option<(usize, &str)>; 2]> = HashMap::new();
        for (count, member) in &self.sorted {
            for topic in &self.potential_topics[member] {
                let slots = least.entry(topic.as_str()).or_insert([None, None]);
                if slots[0].is_none() {
                    slots[0] = Some((*count, member.as_str()));
                } else if slots[1].is_none() {
                    slots[1] = Some((*count, member.as_str()));
                }
            }
        }
        for (owner, held) in &self.current {
            let size = held.len();
            for tp in held {
                let Some(slots) = least.get(tp.topic.as_str()) else {
                    continue;
                };
                let other = match slots[0] {
                    Some((_, m)) if m == owner.as_str() => slots[1],
                    first => first,
                };
                if other.is_some_and(|(count, _)| count < size) {
                    return false;
                }
            }
        }
        true
    }
}

/// Sum over member pairs of the difference in assigned counts (Java `getBalanceScore`).
fn balance_score(assignment: &BTreeMap<MemberId, Vec<TopicPartition>>) -> usize {
    let sizes: Vec<usize> = assignment.values().map(Vec::len).collect();
    let mut score = 0;
    for i in 0..sizes.len() {
        for j in i + 1..sizes.len() {
            score += sizes[i].abs_diff(sizes[j]);
        }
    }
    score
}
