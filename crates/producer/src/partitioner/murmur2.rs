//! Java's `Utils.murmur2` and `Utils.toPositive`, bit for bit: the key → partition mapping
//! every Kafka client shares with the Java producer.

/// MurmurHash2 (32-bit) with Kafka's seed `0x9747b28c`, identical to Java's
/// `org.apache.kafka.common.utils.Utils.murmur2(byte[])`.
///
/// Java reads each byte as `b & 0xff`, so treating bytes as unsigned here is the same
/// arithmetic; Java's `>>>` is a logical shift, as on `u32`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    let length = data.len();
    // Java computes `seed ^ length` on an int; lengths beyond i32 cannot exist in Java.
    let mut h: u32 = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    // Java's switch falls through from case 3 to case 1.
    if tail.len() >= 3 {
        h ^= (tail[2] as u32) << 16;
    }
    if tail.len() >= 2 {
        h ^= (tail[1] as u32) << 8;
    }
    if !tail.is_empty() {
        h ^= tail[0] as u32;
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows on `i32::MIN`).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition Java's default partitioner picks for a non-null key:
/// `toPositive(murmur2(key)) % num_partitions`. `num_partitions` must be > 0.
pub fn partition_for_key(key: &[u8], num_partitions: i32) -> i32 {
    to_positive(murmur2(key)) % num_partitions
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors of Apache Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn java_utils_test_vectors() {
        assert_eq!(murmur2(b"21"), -973_932_308);
        assert_eq!(murmur2(b"foobar"), -790_332_482);
        assert_eq!(murmur2(b"a-little-bit-long-string"), -985_981_536);
        assert_eq!(murmur2(b"a-little-bit-longer-string"), -1_486_304_829);
        assert_eq!(
            murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
            -58_897_971
        );
        assert_eq!(murmur2(b"abc"), 479_470_107);
    }

    /// Vectors of librdkafka's `unittest_murmur2`, which its authors checked against Java.
    #[test]
    fn librdkafka_vectors() {
        let cases: &[(&[u8], u32)] = &[
            (b"kafka", 0xd067_cf64),
            (b"giberish123456789", 0x8f55_2b0c),
            (b"1234", 0x9fc9_7b14),
            (b"234", 0xe7c0_09ca),
            (b"34", 0x8739_30da),
            (b"4", 0x5a4b_5ca1),
            (b"PreAmbleWillBeRemoved,ThePrePartThatIs", 0x7842_4f1c),
            (b"reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62_b377),
            (b"eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4_e09e),
            (b"AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8_b43f),
            (b"", 0x106e_08d9),
        ];
        for (key, want) in cases {
            assert_eq!(
                murmur2(key) as u32,
                *want,
                "key {:?}",
                String::from_utf8_lossy(key)
            );
        }
    }

    #[test]
    fn bytes_above_0x7f_are_unsigned_as_in_java() {
        // A key of high bytes exercises Java's `& 0xff`; a signed reading would differ.
        let h = murmur2(&[0xff, 0x80, 0xfe]);
        let mut tail: u32 = 0x9747_b28c ^ 3;
        tail ^= 0xfe << 16;
        tail ^= 0x80 << 8;
        tail ^= 0xff;
        tail = tail.wrapping_mul(0x5bd1_e995);
        tail ^= tail >> 13;
        tail = tail.wrapping_mul(0x5bd1_e995);
        tail ^= tail >> 15;
        assert_eq!(h, tail as i32);
    }

    #[test]
    fn to_positive_is_a_mask() {
        assert_eq!(to_positive(-1), 0x7fff_ffff);
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(5), 5);
        // "foobar" → -790332482 → 1357151166; 1357151166 % 4 = 2
        assert_eq!(partition_for_key(b"foobar", 4), 2);
    }
}
