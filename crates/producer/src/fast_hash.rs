//! A small FNV-1a hasher for the maps keyed by topic name on the `send` path: topic names are
//! short and trusted (they come from the application, not the wire), so SipHash's DoS
//! resistance buys nothing there and costs a visible share of `send`.

use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a, 64-bit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// `HashMap` keyed by topic with [`Fnv`].
pub(crate) type FnvMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fnv>>;
