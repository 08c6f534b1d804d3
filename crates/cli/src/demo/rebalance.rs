//! Measures rebalance times: from a membership change (members started, one killed, one added)
//! until the group is stable again — together the live members' assignments cover every
//! partition exactly once, and every live member has received an assignment after the change
//! (classic, eager: everyone rejoins) or, for an incremental protocol (KIP-848, where a member
//! whose assignment stays the same hears nothing), every member started since the change
//! holds a partition (when there are enough to go round).
//!
//! Pure: the caller passes `now`, so the tests drive it with made-up instants.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct MemberView {
    assigned: BTreeSet<i32>,
    last_assignment: Option<Instant>,
    /// Started during the change being timed.
    fresh: bool,
}

/// A finished measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    /// What changed, e.g. "3 members joined".
    pub change: String,
    /// From the change until the group was stable.
    pub took: Duration,
}

/// Tracks member assignments and times rebalances.
#[derive(Debug)]
pub struct RebalanceTracker {
    partitions: BTreeSet<i32>,
    members: BTreeMap<String, MemberView>,
    pending: Option<(String, Instant)>,
    done: Vec<Measurement>,
    incremental: bool,
}

impl RebalanceTracker {
    /// A tracker for a topic with `partitions` partitions (0..partitions), for the classic
    /// eager protocol.
    pub fn new(partitions: i32) -> Self {
        RebalanceTracker {
            partitions: (0..partitions).collect(),
            members: BTreeMap::new(),
            pending: None,
            done: Vec::new(),
            incremental: false,
        }
    }

    /// A tracker for an incremental protocol (KIP-848), see the module docs.
    pub fn incremental(partitions: i32) -> Self {
        RebalanceTracker {
            incremental: true,
            ..RebalanceTracker::new(partitions)
        }
    }

    /// Starts timing a membership change; an unfinished earlier one is folded into it.
    pub fn change(&mut self, what: impl Into<String>, now: Instant) {
        let what = what.into();
        self.pending = Some(match self.pending.take() {
            Some((earlier, since)) => (format!("{earlier}, then {what}"), since),
            None => (what, now),
        });
    }

    /// A member process started (it has no assignment yet).
    pub fn member_started(&mut self, name: &str) {
        let view = MemberView {
            fresh: true,
            ..MemberView::default()
        };
        self.members.insert(name.to_string(), view);
    }

    /// A member process is gone (killed or exited).
    pub fn member_gone(&mut self, name: &str, now: Instant) {
        self.members.remove(name);
        self.check(now);
    }

    /// A member received `partitions` (its whole new assignment).
    pub fn assigned(&mut self, name: &str, partitions: &[i32], now: Instant) {
        let view = self.members.entry(name.to_string()).or_default();
        view.assigned = partitions.iter().copied().collect();
        view.last_assignment = Some(now);
        self.check(now);
    }

    /// A member gave up `partitions`.
    pub fn revoked(&mut self, name: &str, partitions: &[i32], now: Instant) {
        if let Some(view) = self.members.get_mut(name) {
            for p in partitions {
                view.assigned.remove(p);
            }
        }
        self.check(now);
    }

    /// True while a change is being timed.
    pub fn is_rebalancing(&self) -> bool {
        self.pending.is_some()
    }

    /// The finished measurements, oldest first.
    pub fn measurements(&self) -> &[Measurement] {
        &self.done
    }

    /// Which partitions each live member holds now.
    pub fn assignment(&self) -> BTreeMap<&str, Vec<i32>> {
        self.members
            .iter()
            .map(|(n, v)| (n.as_str(), v.assigned.iter().copied().collect()))
            .collect()
    }

    fn check(&mut self, now: Instant) {
        let Some((_, since)) = &self.pending else {
            return;
        };
        if self.members.is_empty() {
            return;
        }
        let enough = self.partitions.len() >= self.members.len();
        let all_reassigned = self.members.values().all(|m| {
            let reassigned = m.last_assignment.is_some_and(|t| t >= *since);
            if !self.incremental {
                reassigned
            } else if m.fresh {
                reassigned && (!enough || !m.assigned.is_empty())
            } else {
                true
            }
        });
        let mut covered = BTreeSet::new();
        let disjoint = self
            .members
            .values()
            .flat_map(|m| m.assigned.iter())
            .all(|p| covered.insert(*p));
        if all_reassigned && disjoint && covered == self.partitions {
            if let Some((change, since)) = self.pending.take() {
                self.done.push(Measurement {
                    change,
                    took: now.duration_since(since),
                });
            }
            for m in self.members.values_mut() {
                m.fresh = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    #[test]
    fn initial_join_is_stable_once_all_members_hold_all_partitions() {
        let t = Instant::now();
        let mut r = RebalanceTracker::new(6);
        r.change("3 members joined", t);
        for m in ["a", "b", "c"] {
            r.member_started(m);
        }
        r.assigned("a", &[0, 1], at(t, 3000));
        r.assigned("b", &[2, 3], at(t, 3100));
        assert!(r.is_rebalancing());
        r.assigned("c", &[4, 5], at(t, 3200));
        assert!(!r.is_rebalancing());
        assert_eq!(
            r.measurements(),
            &[Measurement {
                change: "3 members joined".into(),
                took: Duration::from_millis(3200)
            }]
        );
    }

    #[test]
    fn kill_is_stable_only_after_survivors_take_over_every_partition() {
        let t = Instant::now();
        let mut r = RebalanceTracker::new(6);
        r.change("join", t);
        for (m, ps) in [("a", [0, 1]), ("b", [2, 3]), ("c", [4, 5])] {
            r.member_started(m);
            r.assigned(m, &ps, at(t, 10));
        }
        r.change("c killed", at(t, 1000));
        r.member_gone("c", at(t, 1000));
        // Old assignments do not count: partitions 4 and 5 are orphaned.
        assert!(r.is_rebalancing());
        r.revoked("a", &[0, 1], at(t, 7000));
        r.revoked("b", &[2, 3], at(t, 7000));
        r.assigned("a", &[0, 1, 2], at(t, 7500));
        assert!(r.is_rebalancing());
        r.assigned("b", &[3, 4, 5], at(t, 7600));
        assert!(!r.is_rebalancing());
        assert_eq!(r.measurements()[1].took, Duration::from_millis(6600));
    }

    #[test]
    fn overlapping_assignments_are_not_stable() {
        let t = Instant::now();
        let mut r = RebalanceTracker::new(2);
        r.change("join", t);
        r.member_started("a");
        r.member_started("b");
        r.assigned("a", &[0, 1], at(t, 5));
        r.assigned("b", &[1], at(t, 6));
        assert!(r.is_rebalancing());
        r.assigned("a", &[0], at(t, 9));
        assert!(!r.is_rebalancing());
    }

    /// KIP-848: a member whose assignment does not change hears nothing; a new member's
    /// first (empty) assignment does not end the rebalance.
    #[test]
    fn incremental_rebalances_need_coverage_and_the_new_members_served() {
        let t = Instant::now();
        let mut r = RebalanceTracker::incremental(4);
        r.change("join", t);
        for (m, ps) in [("a", [0, 1]), ("b", [2, 3])] {
            r.member_started(m);
            r.assigned(m, &ps, at(t, 10));
        }
        assert!(!r.is_rebalancing());
        r.change("c joined", at(t, 100));
        r.member_started("c");
        r.assigned("c", &[], at(t, 200));
        assert!(r.is_rebalancing());
        r.revoked("a", &[1], at(t, 300));
        assert!(r.is_rebalancing());
        r.assigned("c", &[1], at(t, 400));
        assert!(!r.is_rebalancing());
        assert_eq!(r.measurements()[1].took, Duration::from_millis(300));
        // A kill: b alone takes c's partition; a hears nothing.
        r.change("c killed", at(t, 1000));
        r.member_gone("c", at(t, 1000));
        assert!(r.is_rebalancing());
        r.assigned("b", &[1, 2, 3], at(t, 1500));
        assert!(!r.is_rebalancing());
    }

    #[test]
    fn a_change_during_a_rebalance_extends_it() {
        let t = Instant::now();
        let mut r = RebalanceTracker::new(1);
        r.change("x", t);
        r.change("y", at(t, 50));
        r.member_started("a");
        r.assigned("a", &[0], at(t, 100));
        assert_eq!(r.measurements()[0].change, "x, then y");
        assert_eq!(r.measurements()[0].took, Duration::from_millis(100));
    }
}
