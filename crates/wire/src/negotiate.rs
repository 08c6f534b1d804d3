//! ApiVersions negotiation (KIP-35) as a pure function: the versions rafka speaks intersected
//! with what the broker advertised gives the version used for each API.

use std::collections::HashMap;

use kafka_protocol::messages::ApiVersionsResponse;
use kafka_protocol::protocol::VersionRange;

use crate::request::{api_name, KafkaRequest};
use crate::WireError;

/// The lowest version Apache Kafka 4.0 and later accept, per API key, for the APIs whose old
/// versions KIP-896 removed: Produce 3, Fetch 4, ListOffsets 1, OffsetCommit 2, OffsetFetch 1,
/// OffsetForLeaderEpoch 2, CreateTopics 2, DeleteTopics 1, DescribeConfigs 1. Kafka 4.x still
/// advertises Produce v0–2 (for an old librdkafka bug) but refuses them, so a client must not
/// trust the advertised minimum alone. rafka's own minimums are at or above each floor.
pub const KAFKA_4_MIN_VERSIONS: &[(i16, i16)] = &[
    (0, 3),  // Produce
    (1, 4),  // Fetch
    (2, 1),  // ListOffsets
    (8, 2),  // OffsetCommit
    (9, 1),  // OffsetFetch
    (23, 2), // OffsetForLeaderEpoch
    (19, 2), // CreateTopics
    (20, 1), // DeleteTopics
    (32, 1), // DescribeConfigs
];

/// The API version ranges one broker advertised in its ApiVersions response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerVersions {
    ranges: HashMap<i16, VersionRange>,
}

impl BrokerVersions {
    /// Takes the ranges out of an ApiVersions response (any version). An entry with
    /// `min > max` is kept and simply never matches.
    pub fn from_response(resp: &ApiVersionsResponse) -> Self {
        let ranges = resp
            .api_keys
            .iter()
            .map(|k| {
                (
                    k.api_key,
                    VersionRange {
                        min: k.min_version,
                        max: k.max_version,
                    },
                )
            })
            .collect();
        BrokerVersions { ranges }
    }

    /// Builds from `(api key, min, max)` triples (tests and fixtures).
    pub fn from_ranges(ranges: impl IntoIterator<Item = (i16, i16, i16)>) -> Self {
        BrokerVersions {
            ranges: ranges
                .into_iter()
                .map(|(k, min, max)| (k, VersionRange { min, max }))
                .collect(),
        }
    }

    /// The range the broker advertised for an API key, if any.
    pub fn range(&self, key: i16) -> Option<VersionRange> {
        self.ranges.get(&key).copied()
    }

    /// The highest version of `R` that both sides speak.
    ///
    /// # Errors
    /// [`WireError::UnsupportedApi`] when the broker did not advertise the API,
    /// [`WireError::NoCommonVersion`] naming the API when the ranges do not overlap.
    pub fn choose<R: KafkaRequest>(&self) -> Result<i16, WireError> {
        choose_version(R::NAME, R::SUPPORTED, self.range(R::API_KEY as i16))
    }

    /// [`BrokerVersions::choose`] with rafka's range capped at `max`, for a caller that builds
    /// only older layouts of `R`.
    ///
    /// # Errors
    /// As [`BrokerVersions::choose`]; [`WireError::NoCommonVersion`] also when the broker
    /// speaks only versions above `max`.
    pub fn choose_at_most<R: KafkaRequest>(&self, max: Option<i16>) -> Result<i16, WireError> {
        let mut ours = R::SUPPORTED;
        if let Some(max) = max {
            ours.max = ours.max.min(max);
        }
        choose_version(R::NAME, ours, self.range(R::API_KEY as i16))
    }
}

/// Intersects `ours` with what the broker advertised for one API and picks the highest
/// common version.
///
/// # Errors
/// As [`BrokerVersions::choose`].
pub fn choose_version(
    api: &'static str,
    ours: VersionRange,
    broker: Option<VersionRange>,
) -> Result<i16, WireError> {
    let broker = broker.ok_or(WireError::UnsupportedApi { api })?;
    let common = ours.intersect(&broker);
    if common.is_empty() {
        return Err(WireError::NoCommonVersion {
            api,
            ours: ours.into(),
            broker: broker.into(),
        });
    }
    Ok(common.max)
}

/// Negotiates every API in `ours` (`(key, range)` pairs, for instance
/// [`crate::request::SUPPORTED_APIS`]): one result per entry, in the same order, each either
/// `(key, chosen version)` or the error naming that API.
pub fn negotiate(
    ours: &[(i16, VersionRange)],
    broker: &BrokerVersions,
) -> Vec<Result<(i16, i16), WireError>> {
    ours.iter()
        .map(|&(key, range)| {
            choose_version(api_name(key), range, broker.range(key)).map(|v| (key, v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::VersionSpan;
    use kafka_protocol::messages::{FetchRequest, ProduceRequest};

    #[test]
    fn picks_highest_common_version() {
        let b = BrokerVersions::from_ranges([(0, 0, 11), (1, 0, 17)]);
        assert_eq!(b.choose::<ProduceRequest>().unwrap(), 11);
        // Fetch: rafka stops at 12 even though the broker goes to 17.
        assert_eq!(b.choose::<FetchRequest>().unwrap(), 12);
    }

    #[test]
    fn a_cap_lowers_the_choice() {
        use kafka_protocol::messages::OffsetFetchRequest;
        let b = BrokerVersions::from_ranges([(9, 1, 9)]);
        assert_eq!(b.choose::<OffsetFetchRequest>().unwrap(), 9);
        assert_eq!(b.choose_at_most::<OffsetFetchRequest>(Some(7)).unwrap(), 7);
        assert_eq!(b.choose_at_most::<OffsetFetchRequest>(None).unwrap(), 9);
        let newer = BrokerVersions::from_ranges([(9, 8, 9)]);
        assert!(newer.choose_at_most::<OffsetFetchRequest>(Some(7)).is_err());
    }

    #[test]
    fn no_overlap_names_the_api() {
        let b = BrokerVersions::from_ranges([(0, 0, 2)]);
        let err = b.choose::<ProduceRequest>().unwrap_err();
        assert_eq!(
            err,
            WireError::NoCommonVersion {
                api: "Produce",
                ours: VersionSpan { min: 3, max: 11 },
                broker: VersionSpan { min: 0, max: 2 }
            }
        );
        assert!(err.to_string().contains("Produce"));
    }

    #[test]
    fn never_below_the_kip_896_floor() {
        use crate::request::SUPPORTED_APIS;
        for &(key, floor) in KAFKA_4_MIN_VERSIONS {
            let (_, ours) = SUPPORTED_APIS
                .iter()
                .find(|(k, _)| *k == key)
                .unwrap_or_else(|| panic!("API {key} is one rafka speaks"));
            assert!(
                ours.min >= floor,
                "{}: rafka's minimum {} is below Kafka 4's {floor}",
                api_name(key),
                ours.min
            );
        }
        // A 4.x broker advertises Produce from v0; rafka still never picks below v3.
        let b = BrokerVersions::from_ranges([(0, 0, 13)]);
        assert_eq!(b.choose::<ProduceRequest>().unwrap(), 11);
    }

    #[test]
    fn missing_api() {
        let b = BrokerVersions::from_ranges([]);
        assert_eq!(
            b.choose::<FetchRequest>(),
            Err(WireError::UnsupportedApi { api: "Fetch" })
        );
    }

    #[test]
    fn negotiate_all_in_order() {
        let b = BrokerVersions::from_ranges([(0, 5, 9), (1, 0, 3)]);
        let ours = [
            (0, VersionRange { min: 3, max: 11 }),
            (1, VersionRange { min: 4, max: 12 }),
        ];
        let out = negotiate(&ours, &b);
        assert_eq!(out[0], Ok((0, 9)));
        assert!(matches!(
            out[1],
            Err(WireError::NoCommonVersion { api: "Fetch", .. })
        ));
    }

    #[test]
    fn from_response() {
        use kafka_protocol::messages::api_versions_response::ApiVersion;
        let resp = ApiVersionsResponse::default().with_api_keys(vec![ApiVersion::default()
            .with_api_key(3)
            .with_min_version(0)
            .with_max_version(12)]);
        let b = BrokerVersions::from_response(&resp);
        assert_eq!(b.range(3), Some(VersionRange { min: 0, max: 12 }));
        assert_eq!(b.range(4), None);
    }
}
