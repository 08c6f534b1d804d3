//! The iteration order of a Java `HashMap<String, _>`, which Java's sticky assignor leaks into
//! its results (which member keeps `maxQuota` partitions, whose claim wins a conflict).
//!
//! A `HashMap` iterates its buckets in index order; a key's bucket is
//! `(h ^ (h >>> 16)) & (capacity - 1)` where `h` is `String.hashCode()` (over UTF-16 code
//! units, `h = 31 * h + c`, wrapping). Capacity starts at 16 and doubles whenever the size
//! exceeds 3/4 of it. Keys sharing a bucket keep insertion order; rafka inserts in ascending
//! member-id order, the one input Java does not define.

/// Java `String.hashCode()`.
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The order a `new HashMap<>()` filled with `keys` (in the given order) iterates them.
pub(crate) fn hash_map_order<'a, I>(keys: I) -> Vec<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let keys: Vec<&str> = keys.into_iter().collect();
    let mut capacity: usize = 16;
    while keys.len() * 4 > capacity * 3 {
        capacity *= 2;
    }
    let mut indexed: Vec<(usize, usize, &str)> = keys
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            let h = java_string_hash(k) as u32;
            ((((h ^ (h >> 16)) as usize) & (capacity - 1)), i, k)
        })
        .collect();
    indexed.sort_unstable();
    indexed.into_iter().map(|(_, _, k)| k).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        // "hello".hashCode() == 99162322 and "".hashCode() == 0 in Java.
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("consumer1") as u32, 0xe6e7_fafb);
    }

    #[test]
    fn consumers_iterate_in_reverse_as_in_java() {
        // buckets 12, 11, 10 in a 16-slot table
        assert_eq!(
            hash_map_order(["consumer1", "consumer2", "consumer3"]),
            vec!["consumer3", "consumer2", "consumer1"]
        );
    }
}
