//! Redis offset store (being written).
