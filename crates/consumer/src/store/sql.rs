//! SQL offset store (being written).
