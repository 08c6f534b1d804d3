//! Consumer-protocol codecs: round trips per version and no panic on arbitrary bytes.

use bytes::Bytes;
use proptest::prelude::*;
use rafka_group::assignor::StickyUserData;
use rafka_group::{Assignment, Subscription};
use rafka_wire::TopicPartition;

fn tps() -> impl Strategy<Value = Vec<TopicPartition>> {
    prop::collection::vec(("[a-c]{1,3}", 0i32..50), 0..10).prop_map(|v| {
        v.into_iter()
            .map(|(t, p)| TopicPartition::new(t, p))
            .collect()
    })
}

/// What a reader sees: partitions regrouped by topic in first-seen order.
fn grouped(v: &[TopicPartition]) -> Vec<TopicPartition> {
    let mut topics: Vec<&str> = Vec::new();
    for tp in v {
        if !topics.contains(&tp.topic.as_str()) {
            topics.push(&tp.topic);
        }
    }
    topics
        .into_iter()
        .flat_map(|t| v.iter().filter(move |tp| tp.topic == t).cloned())
        .collect()
}

proptest! {
    #[test]
    fn subscription_round_trips_at_every_version(
        topics in prop::collection::vec("[a-z.]{0,8}", 0..5),
        user_data in prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
        owned in tps(),
        generation in prop::option::of(0i32..1000),
        rack in prop::option::of("[a-z0-9]{0,5}"),
        version in 0i16..=3,
    ) {
        let s = Subscription {
            topics,
            user_data: user_data.map(Bytes::from),
            owned_partitions: owned,
            generation_id: generation,
            rack_id: rack,
            group_instance_id: None,
        };
        let back = Subscription::decode(&s.encode(version).unwrap()).unwrap();
        prop_assert_eq!(&back.topics, &s.topics);
        prop_assert_eq!(&back.user_data, &s.user_data);
        prop_assert_eq!(back.owned_partitions, if version >= 1 { grouped(&s.owned_partitions) } else { vec![] });
        prop_assert_eq!(back.generation_id, if version >= 2 { s.generation_id } else { None });
        prop_assert_eq!(back.rack_id, if version >= 3 { s.rack_id.clone() } else { None });
    }

    #[test]
    fn assignment_and_sticky_user_data_round_trip(parts in tps(), ud in prop::option::of(prop::collection::vec(any::<u8>(), 0..20)), generation in prop::option::of(-1i32..100)) {
        let a = Assignment { partitions: parts.clone(), user_data: ud.map(Bytes::from) };
        let back = Assignment::decode(&a.encode(3).unwrap()).unwrap();
        prop_assert_eq!(back.partitions, grouped(&parts));
        prop_assert_eq!(back.user_data, a.user_data);
        let u = StickyUserData { previous_assignment: parts.clone(), generation };
        let back = StickyUserData::decode(&u.encode().unwrap()).unwrap();
        prop_assert_eq!(back.previous_assignment, grouped(&parts));
        prop_assert_eq!(back.generation, Some(generation.unwrap_or(-1)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = Subscription::decode(&b);
        let _ = Assignment::decode(&b);
        let _ = StickyUserData::decode(&b);
    }
}

#[test]
fn sticky_user_data_v0_has_no_generation() {
    // v0: the assignment array only, no trailing generation.
    let v0 = [0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 4];
    let u = StickyUserData::decode(&v0).unwrap();
    assert_eq!(u.previous_assignment, vec![TopicPartition::new("t", 4)]);
    assert_eq!(u.generation, None);
    let v1 = [&v0[..], &[0, 0, 0, 9]].concat();
    assert_eq!(StickyUserData::decode(&v1).unwrap().generation, Some(9));
}
