//! [`ConsumerGroupMetadata`]: a consumer's group position for transactional offset commits.

/// A consumer's group position handed to
/// [`Producer::send_offsets_to_transaction`](crate::Producer::send_offsets_to_transaction)
/// (Java `ConsumerGroupMetadata`, KIP-447): the coordinator fences a zombie member by
/// generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupMetadata {
    /// `group.id`.
    pub group_id: String,
    /// Generation from the last JoinGroup, or -1.
    pub generation_id: i32,
    /// Member id, or "".
    pub member_id: String,
    /// `group.instance.id` (KIP-345), if static membership is used.
    pub group_instance_id: Option<String>,
}

impl ConsumerGroupMetadata {
    /// Metadata with only the group id (generation -1, no member id): no zombie fencing.
    pub fn new(group_id: impl Into<String>) -> Self {
        ConsumerGroupMetadata {
            group_id: group_id.into(),
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
        }
    }
}
