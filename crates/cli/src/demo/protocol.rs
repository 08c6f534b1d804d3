//! What a `rafka demo-member` process tells the orchestrating `rafka demo`: one JSON object per
//! stdout line. The orchestrator reads these to time rebalances and show progress; the database
//! stays the only source of truth for the exactly-once check.

use serde::{Deserialize, Serialize};

/// One line of a member's stdout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum MemberEvent {
    /// The member is running and about to subscribe.
    Started,
    /// The member now owns exactly these partitions (after seeking to stored positions).
    Assigned {
        /// Partition indexes of the demo topic.
        partitions: Vec<i32>,
    },
    /// The member gave these partitions up.
    Revoked {
        /// Partition indexes of the demo topic.
        partitions: Vec<i32>,
    },
    /// Records this member has processed and committed so far.
    Processed {
        /// Cumulative count.
        total: u64,
    },
    /// The member left the group and is exiting.
    Stopped {
        /// Cumulative count.
        total: u64,
    },
}

impl MemberEvent {
    /// The event as one JSON line (without the newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses one stdout line; `None` for anything else (a stray log line).
    pub fn parse(line: &str) -> Option<Self> {
        serde_json::from_str(line.trim()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_ignores_noise() {
        let e = MemberEvent::Assigned {
            partitions: vec![1, 4],
        };
        assert_eq!(e.to_line(), r#"{"event":"assigned","partitions":[1,4]}"#);
        assert_eq!(MemberEvent::parse(&e.to_line()), Some(e));
        assert_eq!(MemberEvent::parse("WARN something"), None);
        assert_eq!(
            MemberEvent::parse(r#" {"event":"processed","total":9} "#),
            Some(MemberEvent::Processed { total: 9 })
        );
    }
}
